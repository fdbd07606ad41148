//! The SLA engine over HTTP and the sweeper: calendars and policies by API, clocks in report
//! views, warnings and breaches raised once (with webhook and escalation), disputes,
//! statements in JSON and CSV, and replicas sweeping one PostgreSQL.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use balagh_store::Ts;
use serde_json::{Value, json};

/// The waste contract covering [`WEST`].
async fn west_contract(app: &TestApp, staff: &TestUser) -> String {
    let contracts: Value = app
        .get(&staff.token, "/api/v1/staff/contracts")
        .await
        .json()
        .await
        .unwrap();
    let operator = app.operator_id("nadafa-demo").await.0.to_string();
    contracts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operator_id"] == operator.as_str() && c["service_group"] == "waste")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .expect("a waste contract")
}

/// A 24/7 policy: acknowledge in 1 h, resolve in 10 h, 100 MAD per breach and 10 MAD per
/// started hour late.
fn fast_policy(effective_from: &str) -> Value {
    policy_with(effective_from, "PT1H", "PT10H")
}

/// The same with other targets (seconds, for the background sweeper to act in real time).
fn policy_with(effective_from: &str, acknowledge: &str, resolve: &str) -> Value {
    json!({
        "effective_from": effective_from,
        "clock": "always",
        "targets": [
            {"metric": "acknowledge", "service_code": null, "priority": null, "duration": acknowledge},
            {"metric": "resolve", "service_code": null, "priority": null, "duration": resolve}
        ],
        "pause_reasons_that_stop_the_clock": ["awaiting_resident"],
        "penalty": {"per_breach_minor": 10000, "per_started_hour_late_minor": 1000, "cap_per_period_minor": 15000}
    })
}

fn hours_from_now(hours: i64) -> Ts {
    Ts::new(time::OffsetDateTime::now_utc() + time::Duration::hours(hours))
}

async fn events_of(app: &TestApp, id: &str, kind: &str) -> Vec<Value> {
    let id = uuid::Uuid::parse_str(id).unwrap();
    app.store
        .report_events(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.as_str() == kind)
        .map(|e| e.data)
        .collect()
}

both_databases! {
    async fn an_open_report_late_on_both_clocks_is_not_within_sla(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let contract = west_contract(&app, &admin).await;
        let policies = format!("/api/v1/staff/contracts/{contract}/sla-policies");
        let stored = app.post_as(&admin.token, &policies, None, Some(policy_with("2026-01-01T00:00:00Z", "PT1S", "PT2S"))).await;
        assert!(stored.status().is_success(), "{}", stored.status());
        app.reported("waste_bin_overflow", WEST).await;
        // Both targets pass within seconds; the dashboard reads the open report as late at
        // once (no roll-up needed), and counts it against the share.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let overall = loop {
            let dashboard: Value = app.get(&admin.token, "/api/v1/staff/stats/dashboard").await.json().await.unwrap();
            if dashboard["overall"]["open_late"] == 1 {
                break dashboard["overall"].clone();
            }
            assert!(std::time::Instant::now() < deadline, "never late: {dashboard}");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        };
        assert_eq!(overall["resolved"], 0, "{overall}");
        assert_eq!(overall["within_sla"], 0.0, "late and open is not 100 % within SLA: {overall}");
        app.stop().await;
    }

    async fn staff_set_calendars_and_versioned_policies(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let analyst = app.user(Role::StaffAnalyst, None).await;

        let calendar: Value = app.get(&analyst.token, "/api/v1/staff/sla/calendar").await.json().await.unwrap();
        assert_eq!(calendar["time_zone"], "Africa/Casablanca");
        assert_eq!(calendar["calendar"]["weekly_hours"]["monday"], json!(["08:30-16:30"]));

        let mut spec = calendar["calendar"].clone();
        spec["movable_holidays"] = json!([{"kind": "eid_al_fitr", "first_day": "2026-03-20", "days": 2}]);
        let put = app.client.put(app.url("/api/v1/staff/sla/calendar")).bearer_auth(&admin.token).json(&spec).send().await.unwrap();
        assert_eq!(put.status(), 200);
        let stored: Value = put.json().await.unwrap();
        assert_eq!(stored["calendar"]["movable_holidays"][0]["days"], 2);
        // An analyst reads but does not change; a bad calendar names its field.
        let denied = app.client.put(app.url("/api/v1/staff/sla/calendar")).bearer_auth(&analyst.token).json(&spec).send().await.unwrap();
        assert_eq!(denied.status(), 403);
        spec["weekly_hours"]["lundi"] = json!(["08:00-12:00"]);
        let bad = app.client.put(app.url("/api/v1/staff/sla/calendar")).bearer_auth(&admin.token).json(&spec).send().await.unwrap();
        let p = problem(bad, 422).await;
        assert_eq!(fields(&p), vec!["weekly_hours.lundi".to_owned()]);

        let contract = west_contract(&app, &admin).await;
        let path = format!("/api/v1/staff/contracts/{contract}/sla-policies");
        let demo: Value = app.get(&analyst.token, &path).await.json().await.unwrap();
        assert_eq!(demo.as_array().unwrap().len(), 1, "the demo seeds version 1");
        let created = app.post_as(&admin.token, &path, None, Some(fast_policy("2026-01-01T00:00:00Z"))).await;
        assert_eq!(created.status(), 201);
        let v2: Value = created.json().await.unwrap();
        assert_eq!(v2["policy"]["version"], 2);
        assert_eq!(v2["policy"]["warning_thresholds"], json!([50, 75, 90]));
        let versions: Value = app.get(&analyst.token, &path).await.json().await.unwrap();
        assert_eq!(versions.as_array().unwrap().len(), 2);
        // A policy that leaves a priority without a resolve target is refused.
        let mut incomplete = fast_policy("2026-01-01T00:00:00Z");
        incomplete["targets"].as_array_mut().unwrap().pop();
        problem(app.post_as(&admin.token, &path, None, Some(incomplete)).await, 422).await;
        // Another commune's or an unknown contract is not found.
        problem(app.get(&analyst.token, &format!("/api/v1/staff/contracts/{}/sla-policies", uuid::Uuid::now_v7())).await, 404).await;
        app.stop().await;
    }

    async fn the_sweeper_raises_each_threshold_once_with_webhook_and_escalation(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let manager = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let contract = west_contract(&app, &admin).await;
        let policies = format!("/api/v1/staff/contracts/{contract}/sla-policies");
        app.post_as(&admin.token, &policies, None, Some(fast_policy("2026-01-01T00:00:00Z"))).await;

        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap().to_owned();
        let ticket: Value = app.get(&agent.token, &format!("/api/v1/operator/tickets/{id}")).await.json().await.unwrap();
        let clocks = ticket["clocks"].as_array().unwrap();
        assert_eq!(clocks.len(), 2, "{ticket}");
        assert_eq!(clocks[0]["metric"], "acknowledge");
        assert_eq!(clocks[0]["state"], "running");
        assert_eq!(clocks[0]["policy_version"], 2);
        assert!(clocks[1]["remaining_seconds"].as_i64().unwrap() > 9 * 3600);
        let local = clocks[1]["due_at_local"].as_str().unwrap();
        assert!(local.ends_with("+01:00") || local.ends_with("+00:00"), "{local}");
        let mine: Value = app.get(&resident, &format!("/api/v1/reports/{id}")).await.json().await.unwrap();
        assert_eq!(mine["clocks"].as_array().unwrap().len(), 2, "the resident sees the clocks too");
        // Nothing is due yet; eleven hours on, both clocks passed 50/75/90 % and their due
        // time, each raised once however often the sweeper looks.
        let lease = time::Duration::seconds(60);
        assert_eq!(balagh_app::clocks::sweep(&app.state, Ts::now(), lease, 100).await.unwrap().raised, 0);
        let first = balagh_app::clocks::sweep(&app.state, hours_from_now(11), lease, 100).await.unwrap();
        assert_eq!(first.raised, 8, "{first:?}");
        let again = balagh_app::clocks::sweep(&app.state, hours_from_now(12), lease, 100).await.unwrap();
        assert_eq!(again.raised, 0, "each threshold once: {again:?}");
        assert_eq!(events_of(&app, &id, "sla_breached").await.len(), 2);
        assert_eq!(events_of(&app, &id, "sla_warning").await.len(), 6);

        // In real time, with the background sweeper: a policy of seconds (version 3) for a
        // new report; its escalations reach the operator's managers and the commune's staff.
        app.post_as(&admin.token, &policies, None, Some(policy_with(&now_rfc3339(), "PT1S", "PT2S"))).await;
        let (_, quick) = app.reported("waste_bin_overflow", (WEST.0 + 0.003, WEST.1)).await;
        let quick = quick["id"].as_str().unwrap().to_owned();
        for _ in 0..200 {
            let inbox: Vec<Value> = app.get(&manager.token, "/api/v1/me/notifications").await.json().await.unwrap();
            if inbox.len() >= 8 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let inbox: Vec<Value> = app.get(&manager.token, "/api/v1/me/notifications").await.json().await.unwrap();
        assert_eq!(inbox.len(), 8, "{inbox:?}");
        assert!(inbox.iter().all(|n| n["report_id"] == quick.as_str()));
        assert_eq!(inbox.iter().filter(|n| n["event_type"] == "ticket.sla_breached").count(), 2);
        assert_eq!(events_of(&app, &quick, "sla_breached").await.len(), 2);
        let staff_inbox: Vec<Value> = app.get(&admin.token, "/api/v1/me/notifications").await.json().await.unwrap();
        assert_eq!(staff_inbox.len(), 8);
        let agent_inbox: Vec<Value> = app.get(&agent.token, "/api/v1/me/notifications").await.json().await.unwrap();
        assert!(agent_inbox.is_empty(), "agents are not escalated to");
        // The operator's system got the breach as a webhook message in the outbox.
        let sent: i64 = app.store.outbox_messages(app.operator_id("nadafa-demo").await, balagh_store::OutboxState::Delivered, 500).await.unwrap()
            .iter().filter(|m| m.event_type == "ticket.sla_breached" && m.topic == "webhook").count() as i64
            + app.store.outbox_messages(app.operator_id("nadafa-demo").await, balagh_store::OutboxState::Pending, 500).await.unwrap()
            .iter().filter(|m| m.event_type == "ticket.sla_breached" && m.topic == "webhook").count() as i64;
        assert_eq!(sent, 2 + 2);
        app.stop().await;
    }

    async fn disputes_waive_penalties_in_statements(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let manager = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let other = app.user(Role::OperatorManager, Some("bia-nord-demo")).await;
        let contract = west_contract(&app, &admin).await;
        // Acknowledge within a second: both reports breach it at once.
        app.post_as(&admin.token, &format!("/api/v1/staff/contracts/{contract}/sla-policies"), None, Some(policy_with("2026-01-01T00:00:00Z", "PT1S", "PT10H"))).await;
        let (_, a) = app.reported("waste_bin_overflow", WEST).await;
        app.reported("waste_bin_overflow", (WEST.0 + 0.004, WEST.1)).await;
        let a = a["id"].as_str().unwrap().to_owned();
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

        // Acknowledge breached on both (1 h target): the manager disputes one.
        let dispute_path = |id: &str| format!("/api/v1/operator/tickets/{id}/disputes");
        let body = json!({"metric": "acknowledge", "cycle": 1, "reason": "Road closed by the police"});
        problem(app.post_as(&other.token, &dispute_path(&a), None, Some(body.clone())).await, 404).await;
        problem(app.post_as(&manager.token, &dispute_path(&a), None, Some(json!({"metric": "resolve", "cycle": 1, "reason": "x"}))).await, 422).await;
        let opened = app.post_as(&manager.token, &dispute_path(&a), None, Some(body.clone())).await;
        assert_eq!(opened.status(), 201);
        let dispute: Value = opened.json().await.unwrap();
        problem(app.post_as(&manager.token, &dispute_path(&a), None, Some(body)).await, 409).await;

        let open: Vec<Value> = app.get(&admin.token, "/api/v1/staff/disputes?state=open").await.json().await.unwrap();
        assert_eq!(open.len(), 1);
        let decision = format!("/api/v1/staff/disputes/{}/decision", dispute["id"].as_str().unwrap());
        let decided: Value = app.post_as(&admin.token, &decision, None, Some(json!({"decision": "accept", "note": "Confirmed"}))).await.json().await.unwrap();
        assert_eq!(decided["state"], "accepted");
        problem(app.post_as(&admin.token, &decision, None, Some(json!({"decision": "reject"}))).await, 409).await;
        assert_eq!(events_of(&app, &a, "dispute_decided").await.len(), 1);

        // The statement: both acknowledge clocks breached (less than an hour late: one
        // started hour each), the disputed one waived.
        let from = (time::OffsetDateTime::now_utc() - time::Duration::days(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
        let until = (time::OffsetDateTime::now_utc() + time::Duration::days(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
        let query = |fmt: &str| format!("from={}&until={}&format={fmt}", urlencode(&from), urlencode(&until));
        let own: Value = app.get(&manager.token, &format!("/api/v1/operator/sla/statement?{}", query("json"))).await.json().await.unwrap();
        assert_eq!(own["tickets"], 2);
        let lines = own["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2, "{own}");
        assert!(lines.iter().all(|l| l["metric"] == "acknowledge" && l["hours_late"] == 1 && l["amount_minor"] == 11000));
        assert_eq!(lines.iter().filter(|l| l["waived"] == true).count(), 1);
        assert_eq!(own["total_minor"], 11000);
        let acknowledge = own["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "acknowledge").unwrap();
        assert_eq!((acknowledge["breached"].as_u64(), acknowledge["met"].as_u64()), (Some(2), Some(0)));
        let staff_json: Value = app.get(&admin.token, &format!("/api/v1/staff/sla/statement?contract={contract}&{}", query("json"))).await.json().await.unwrap();
        assert_eq!(staff_json["total_minor"], 11000);
        let csv = app.get(&admin.token, &format!("/api/v1/staff/sla/statement?contract={contract}&{}", query("csv"))).await;
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = csv.text().await.unwrap();
        assert!(csv.starts_with("kind,reference,service_code,operator,contract,contract_id,metric,cycle,due_at,done_at,hours_late,amount,currency,amount_minor,dispute,waived\n"), "{csv}");
        assert_eq!(csv.lines().filter(|l| l.starts_with("line,")).count(), 2);
        // Names beside ids and amounts in dirhams (with the code) beside centimes.
        let total = csv.lines().find(|l| l.starts_with("total,")).unwrap();
        assert!(total.contains(",110.00,MAD,11000,"), "{csv}");
        assert!(total.contains("Nadafa"), "{csv}");
        problem(app.get(&admin.token, &format!("/api/v1/staff/sla/statement?{}", query("json"))).await, 400).await;
        problem(app.get(&other.token, &format!("/api/v1/operator/sla/statement?contract={contract}&{}", query("json"))).await, 404).await;
        app.stop().await;
    }

    async fn a_reopen_starts_a_new_cycle_and_pauses_stop_the_clock(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let contract = west_contract(&app, &admin).await;
        app.post_as(&admin.token, &format!("/api/v1/staff/contracts/{contract}/sla-policies"), None, Some(fast_policy("2026-01-01T00:00:00Z"))).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let path = format!("/api/v1/operator/tickets/{id}");
        let act = |name: &str| format!("{path}/actions/{name}");
        let etag = |r: &reqwest::Response| r.headers()["etag"].to_str().unwrap().to_owned();
        let read = app.get(&agent.token, &path).await;
        let r = app.post_as(&agent.token, &act("pause"), Some(&etag(&read)), Some(json!({"reason": "awaiting_resident"}))).await;
        assert_eq!(r.status(), 200);
        let ticket: Value = app.get(&agent.token, &path).await.json().await.unwrap();
        assert!(ticket["clocks"].as_array().unwrap().iter().all(|c| c["state"] == "paused"), "{ticket}");
        let r = app.post_as(&agent.token, &act("resume"), Some(&etag(&app.get(&agent.token, &path).await)), None).await;
        assert_eq!(r.status(), 200);
        let r = app.post_as(&agent.token, &act("resolve"), Some(&etag(&app.get(&agent.token, &path).await)), Some(json!({"note": "done"}))).await;
        assert_eq!(r.status(), 200);
        let reopened = app.post_as(&resident, &format!("/api/v1/reports/{id}/reopen"), None, Some(json!({"comment": "Full again"}))).await;
        assert_eq!(reopened.status(), 200);
        let ticket: Value = app.get(&agent.token, &path).await.json().await.unwrap();
        let summary: Vec<(String, u64, String)> = ticket["clocks"].as_array().unwrap().iter()
            .map(|c| (c["metric"].as_str().unwrap().to_owned(), c["cycle"].as_u64().unwrap(), c["state"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(summary, vec![
            ("acknowledge".into(), 1, "met".into()),
            ("acknowledge".into(), 2, "running".into()),
            ("resolve".into(), 1, "met".into()),
            ("resolve".into(), 2, "running".into()),
        ]);
        // The queue's due time is the new resolve cycle's.
        let due = ticket["due_at"].as_str().unwrap();
        let cycle2 = ticket["clocks"][3]["due_at"].as_str().unwrap();
        assert_eq!(
            time::OffsetDateTime::parse(due, &time::format_description::well_known::Rfc3339).unwrap(),
            time::OffsetDateTime::parse(cycle2, &time::format_description::well_known::Rfc3339).unwrap()
        );
        app.stop().await;
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn urlencode(raw: &str) -> String {
    raw.replace('+', "%2B").replace(':', "%3A")
}

/// Several replicas sweeping one PostgreSQL at once: every breach is raised exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_raise_each_breach_once_on_postgres() {
    let app = TestApp::spawn(Db::Postgres).await;
    let admin = app.user(Role::StaffAdmin, None).await;
    let contract = west_contract(&app, &admin).await;
    app.post_as(
        &admin.token,
        &format!("/api/v1/staff/contracts/{contract}/sla-policies"),
        None,
        Some(fast_policy("2026-01-01T00:00:00Z")),
    )
    .await;
    const REPORTS: usize = 60;
    for i in 0..REPORTS {
        let point = (
            WEST.0 + 0.0001 * (i % 10) as f64,
            WEST.1 + 0.0001 * (i / 10) as f64,
        );
        app.reported("waste_bin_overflow", point).await;
    }
    // Four "replicas": application states of their own, each with its own pool, on the
    // same database, sweeping concurrently in small batches.
    let url = app.database_url();
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(replica_state(&url, app.state.photos().clone()).await);
    }
    let at = hours_from_now(11);
    let mut sweeps = Vec::new();
    for state in replicas {
        sweeps.push(tokio::spawn(async move {
            let mut raised = 0;
            loop {
                let s = balagh_app::clocks::sweep(&state, at, time::Duration::seconds(60), 7)
                    .await
                    .unwrap();
                raised += s.raised;
                if s.reports == 0 {
                    break raised;
                }
            }
        }));
    }
    let mut total = 0;
    for sweep in sweeps {
        total += sweep.await.unwrap();
    }
    // 2 clocks × (3 warnings + 1 breach) per report.
    assert_eq!(total, REPORTS * 8);
    let breaches: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM report_events WHERE kind = 'sla_breached'")
            .fetch_one(&pg_pool(&url).await)
            .await
            .unwrap();
    assert_eq!(breaches, (REPORTS * 2) as i64);
    let webhooks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE event_type = 'ticket.sla_breached' AND topic = 'webhook'")
        .fetch_one(&pg_pool(&url).await)
        .await
        .unwrap();
    assert_eq!(webhooks, (REPORTS * 2) as i64);
    app.stop().await;
}

async fn pg_pool(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}

async fn replica_state(
    url: &str,
    photos: balagh_app::photos::PhotoStorage,
) -> balagh_api::AppState {
    let store = balagh::database::open_migrated(&url.parse().unwrap(), 4)
        .await
        .unwrap();
    let catalog = balagh_app::Catalog::load(store.as_ref()).await.unwrap();
    balagh_api::AppState::new(
        store,
        catalog,
        balagh_api::ApiSettings::default(),
        None,
        photos,
    )
}
