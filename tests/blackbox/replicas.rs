//! Three `balagh serve` processes on one PostgreSQL, all running their background workers:
//! every webhook and every push is delivered once, every SLA breach is raised once, and the
//! statistics roll-ups (kept by whichever replica holds the job's lease) count each report
//! once.

use super::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A webhook receiver on 127.0.0.1 counting deliveries by `webhook-id`.
pub(super) async fn webhook_receiver() -> (String, Arc<Mutex<HashMap<String, (usize, String)>>>) {
    use axum::http::HeaderMap;
    let seen: Arc<Mutex<HashMap<String, (usize, String)>>> = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let seen = seen.clone();
            move |headers: HeaderMap, body: String| {
                let seen = seen.clone();
                async move {
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none")
                        .to_owned();
                    let event = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["type"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let mut seen = seen.lock().unwrap();
                    let entry = seen.entry(id).or_insert((0, event));
                    entry.0 += 1;
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// Creates a user with the CLI, logs in over HTTP and returns a fresh API token.
pub(super) async fn api_token(
    client: &reqwest::Client,
    server: &Server,
    dir: &Path,
    database_url: &str,
    email: &str,
    role_args: &[&str],
) -> String {
    let password = "a passphrase for the replica test";
    let database = ["--database-url", database_url];
    create_user(
        dir,
        email,
        "Replica test",
        &[role_args, &database].concat(),
        password,
    );
    let login = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let created: Value = client
        .post(server.url("/api/v1/me/tokens"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"name": "replica test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["token"].as_str().unwrap().to_owned()
}

/// Polls `check` every 200 ms until it holds, for at most `seconds`.
pub(super) async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(super) async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Per (service, local day as a Julian day number): new, resolved, breached among the
/// resolved, acknowledged.
pub(super) type DayFigures = (String, i32, i64, i64, i64, i64);

/// The roll-up job's cursor has reached the last changed report.
pub(super) const ROLLUPS_CAUGHT_UP: &str = "SELECT COUNT(*) FROM stats_state \
     WHERE (cursor_at, cursor_id) >= \
     (SELECT updated_at, id FROM reports ORDER BY updated_at DESC, id DESC LIMIT 1)";

/// What the roll-ups should hold, straight from the reports, their status changes and SLA
/// clocks, by the rules of the roll-up (balagh_domain::stats::rollup): a report counts as
/// new on the local day (jurisdiction's time zone) it was created, as acknowledged on the
/// day of the operator's first reaction, as resolved (and breached, if a clock breached) on
/// the day of its last resolution while it is resolved or closed.
pub(super) const ROLLUP_TRUTH: &str = "
    WITH facts AS (
        SELECT r.service_code, j.time_zone AS tz, r.created_at,
            (SELECT MIN(e.at) FROM report_events e
             WHERE e.report_id = r.id AND e.kind = 'status_changed'
               AND e.data->>'action' IN ('acknowledge', 'start', 'pause', 'resolve'))
                AS acknowledged_at,
            CASE WHEN r.status IN ('resolved', 'closed') THEN
                (SELECT MAX(e.at) FROM report_events e
                 WHERE e.report_id = r.id AND e.kind = 'status_changed'
                   AND e.data->>'to' = 'resolved')
            END AS resolved_at,
            EXISTS (SELECT 1 FROM sla_clocks c WHERE c.report_id = r.id
                    AND (c.state = 'breached' OR c.breached_at IS NOT NULL)) AS breached
        FROM reports r JOIN jurisdictions j ON j.id = r.jurisdiction_id
    ), counted AS (
        SELECT service_code, tz, created_at AS at, 1 AS new, 0 AS resolved, 0 AS breached,
            0 AS acknowledged FROM facts
        UNION ALL SELECT service_code, tz, acknowledged_at, 0, 0, 0, 1
            FROM facts WHERE acknowledged_at IS NOT NULL
        UNION ALL SELECT service_code, tz, resolved_at, 0, 1, breached::int, 0
            FROM facts WHERE resolved_at IS NOT NULL
    )
    SELECT service_code, tz, at, new, resolved, breached, acknowledged FROM counted";

/// [`ROLLUP_TRUTH`] summed per (service, local day). The local day is taken with the time-zone
/// database Balagh bundles (jiff), as the roll-ups do, not PostgreSQL's own: the two disagree
/// on Morocco's offset since 2026 (the tests failed between 23:00 and midnight UTC).
pub(super) async fn rollup_truth(pool: &sqlx::PgPool) -> Vec<DayFigures> {
    type Row = (String, String, time::OffsetDateTime, i32, i32, i32, i32);
    let rows: Vec<Row> = sqlx::query_as(ROLLUP_TRUTH).fetch_all(pool).await.unwrap();
    let mut sums: std::collections::BTreeMap<(String, i32), [i64; 4]> = Default::default();
    for (service, tz, at, new, resolved, breached, acknowledged) in rows {
        let zone = jiff::tz::TimeZone::get(&tz).unwrap();
        let day = balagh_domain::stats::local_day(at, &zone).to_julian_day();
        let sum = sums.entry((service, day)).or_default();
        for (slot, n) in sum.iter_mut().zip([new, resolved, breached, acknowledged]) {
            *slot += i64::from(n);
        }
    }
    sums.into_iter()
        .map(|((service, day), [n, r, b, a])| (service, day, n, r, b, a))
        .collect()
}

/// The same figures from the roll-up rows that `filter` selects.
pub(super) fn rollup_sums(filter: &str) -> String {
    format!(
        "SELECT service_code, day, SUM(new)::bigint, SUM(resolved)::bigint, \
         SUM(breached)::bigint, SUM((SELECT COALESCE(SUM((b->>1)::bigint), 0) \
         FROM json_array_elements(acknowledge) b))::bigint \
         FROM stats_rollups WHERE {filter} GROUP BY 1, 2 ORDER BY 1, 2"
    )
}

/// A resident with a phone (FCM token `fcm-device-{i}`) reports an overflowing bin in the
/// west of the commune through `reporting` and follows the report through `following`;
/// returns the report's id.
pub(super) async fn follower(
    client: &reqwest::Client,
    reporting: &Server,
    following: &Server,
    i: usize,
) -> String {
    let token = register(client, reporting).await;
    let r = client
        .put(reporting.url("/api/v1/devices/me/push"))
        .bearer_auth(&token)
        .json(&json!({"channel": "fcm", "token": format!("fcm-device-{i}"), "language": "fr"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = client
        .post(reporting.url("/api/v1/reports"))
        .bearer_auth(&token)
        .header("Idempotency-Key", format!("replicas-{i}"))
        .json(&json!({
            "service_code": "waste_bin_overflow",
            "lat": 35.5750 + 0.0001 * (i % 6) as f64,
            "lon": -5.4000 + 0.0001 * (i / 6) as f64,
            "description": format!("Conteneur plein n° {i}"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["operator"]["slug"], "nadafa-demo");
    let id = report["id"].as_str().unwrap().to_owned();
    let r = client
        .put(following.url(&format!("/api/v1/reports/{id}/follow")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    id
}

/// Seconds-long SLA targets (acknowledge in 2 s, resolve in 3 s) on the operator's waste
/// contract, so that every report's two clocks breach during a test. Replicas pick catalog
/// changes (policies among them) up within 5 s: waits until all of them have the new policy,
/// or reports taken in meanwhile get the previous one.
pub(super) async fn seconds_long_sla(
    client: &reqwest::Client,
    replicas: &[Server],
    admin: &str,
    operator_id: &str,
) {
    let contracts: Value = client
        .get(replicas[0].url("/api/v1/staff/contracts"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contract = contracts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operator_id"] == operator_id && c["service_group"] == "waste")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .expect("a waste contract");
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = client
        .post(replicas[0].url(&format!(
            "/api/v1/staff/contracts/{contract}/sla-policies"
        )))
        .bearer_auth(admin)
        .json(&json!({
            "effective_from": now,
            "clock": "always",
            "targets": [
                {"metric": "acknowledge", "service_code": null, "priority": null, "duration": "PT2S"},
                {"metric": "resolve", "service_code": null, "priority": null, "duration": "PT3S"}
            ],
            "pause_reasons_that_stop_the_clock": [],
            "penalty": {"per_breach_minor": 100, "per_started_hour_late_minor": 0, "cap_per_period_minor": 100000}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let revision = |server: &Server| {
        let (client, url) = (client.clone(), server.url("/readyz"));
        async move {
            let ready: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            ready["catalog_revision"].as_i64().unwrap()
        }
    };
    let latest = revision(&replicas[0]).await;
    eventually(30, "every replica on the new policy", || async {
        for server in &replicas[1..] {
            if revision(server).await != latest {
                return false;
            }
        }
        true
    })
    .await;
}

/// Three replicas, one database, every background loop running in each: reports come in
/// through all three, SLA clocks of seconds breach, the operator acknowledges through all
/// three, and resolves a third of them. Each webhook reaches the operator once (by
/// `webhook-id`), each status push reaches each follower's phone once, each breach is raised
/// once, and the statistics roll-ups (a leased job, every second on each replica) equal what
/// the reports table says, per service and local day: nothing missed, nothing counted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_deliver_each_webhook_push_and_breach_once() {
    let db = PgDb::new().await;
    let scratch = Scratch::new();
    let fcm = balagh_push::stand_in::FcmStandIn::start_with_test_key().await;
    let mut account: Value =
        serde_json::from_str(balagh_push::stand_in::TEST_SERVICE_ACCOUNT_JSON).unwrap();
    account["token_uri"] = json!(fcm.token_uri());
    let account_file = scratch.0.join("fcm-service-account.json");
    std::fs::write(&account_file, account.to_string()).unwrap();
    let config = scratch.0.join("balagh.toml");
    std::fs::write(
        &config,
        "[tickets]\nsla_sweep_seconds = 1\n[stats]\nrollup_interval_seconds = 1\n\
         [http.rate_limits]\nper_ip_per_second = 0\ndevice_writes_per_second = 0\n\
         device_lookups_per_second = 0\n[outbound]\nallow_loopback_http = true\n\
         [devices]\nnew_per_address_per_hour = 0\nsupports_per_address_per_report = 0\n",
    )
    .unwrap();
    let base_url = fcm.base_url().to_string();
    let env = [
        ("BALAGH_DATABASE_URL", db.url.as_str()),
        (
            "BALAGH_PUSH_FCM_SERVICE_ACCOUNT_FILE",
            account_file.to_str().unwrap(),
        ),
        ("BALAGH_PUSH_FCM_BASE_URL", base_url.as_str()),
    ];
    let config_args = ["--config", config.to_str().unwrap()];
    let first = Server::start(&scratch.0, &config_args, &env);
    let mut replicas = vec![first];
    for _ in 0..2 {
        let mut args = config_args.to_vec();
        args.push("--no-demo");
        replicas.push(Server::start(&scratch.0, &args, &env));
    }
    let client = reqwest::Client::new();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();

    let admin = api_token(
        &client,
        &replicas[0],
        &scratch.0,
        &db.url,
        "admin@commune.ma",
        &["--role", "staff_admin"],
    )
    .await;
    let manager = api_token(
        &client,
        &replicas[1],
        &scratch.0,
        &db.url,
        "manager@nadafa.ma",
        &["--role", "operator_manager", "--operator", "nadafa-demo"],
    )
    .await;
    let (hook_url, hooks) = webhook_receiver().await;
    let r = client
        .put(replicas[2].url("/api/v1/operator/webhook"))
        .bearer_auth(&manager)
        .json(&json!({"url": hook_url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let operator_id: String =
        sqlx::query_scalar("SELECT id::text FROM operators WHERE slug = 'nadafa-demo'")
            .fetch_one(&pool)
            .await
            .unwrap();
    seconds_long_sla(&client, &replicas, &admin, &operator_id).await;

    // Residents with FCM tokens report through all three replicas and follow their reports.
    const REPORTS: usize = 30;
    let mut reports = Vec::new();
    for i in 0..REPORTS {
        let id = follower(&client, &replicas[i % 3], &replicas[(i + 1) % 3], i).await;
        reports.push(id);
    }

    // Both clocks of every report breach (2 s and 3 s): raised once each by the sweepers
    // of three replicas.
    eventually(60, "every breach", || async {
        count(
            &pool,
            "SELECT COUNT(*) FROM report_events WHERE kind = 'sla_breached'",
        )
        .await
            >= (REPORTS * 2) as i64
    })
    .await;

    // The operator acknowledges every ticket, through all three replicas.
    for (i, id) in reports.iter().enumerate() {
        let server = &replicas[i % 3];
        let ticket = client
            .get(server.url(&format!("/api/v1/operator/tickets/{id}")))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap();
        assert_eq!(ticket.status(), 200);
        let etag = ticket.headers()["etag"].to_str().unwrap().to_owned();
        let r = client
            .post(server.url(&format!(
                "/api/v1/operator/tickets/{id}/actions/acknowledge"
            )))
            .bearer_auth(&manager)
            .header("if-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    // ... and resolves every third one (the roll-ups count resolutions and breaches).
    for (i, id) in reports.iter().enumerate().step_by(3) {
        let server = &replicas[(i + 2) % 3];
        let ticket = client
            .get(server.url(&format!("/api/v1/operator/tickets/{id}")))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap();
        let etag = ticket.headers()["etag"].to_str().unwrap().to_owned();
        let r = client
            .post(server.url(&format!("/api/v1/operator/tickets/{id}/actions/resolve")))
            .bearer_auth(&manager)
            .header("if-match", etag)
            .json(&json!({"note": "Conteneur vidé"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    // Everything in the outbox for the operator is delivered...
    let webhook_rows = format!(
        "SELECT COUNT(*) FROM outbox WHERE topic = 'webhook' AND operator_id = '{operator_id}'"
    );
    eventually(90, "every webhook delivered", || async {
        let rows = count(&pool, &webhook_rows).await;
        let received = hooks.lock().unwrap().len() as i64;
        count(&pool, &format!("{webhook_rows} AND state <> 'delivered'")).await == 0
            && received == rows
    })
    .await;
    eventually(90, "every push sent", || async {
        fcm.messages()
            .iter()
            .filter(|m| m.message["data"]["status"] == "acknowledged")
            .count()
            >= REPORTS
    })
    .await;
    // ... and a few more sweeps and polls change nothing.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let breaches: Vec<(String, i64)> = sqlx::query_as(
        "SELECT report_id::text, COUNT(*) FROM report_events WHERE kind = 'sla_breached' \
         GROUP BY report_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(breaches.len(), REPORTS, "every report breached");
    assert!(
        breaches.iter().all(|(_, n)| *n == 2),
        "each clock breached once: {breaches:?}"
    );

    let hooks = hooks.lock().unwrap().clone();
    let twice: Vec<_> = hooks.iter().filter(|(_, (n, _))| *n > 1).collect();
    assert!(
        twice.is_empty(),
        "webhooks delivered more than once: {twice:?}"
    );
    let by_type = |t: &str| hooks.values().filter(|(_, e)| e == t).count();
    assert_eq!(by_type("ticket.created"), REPORTS, "{hooks:?}");
    assert_eq!(by_type("ticket.sla_breached"), REPORTS * 2);
    assert_eq!(hooks.len() as i64, count(&pool, &webhook_rows).await);

    let mut pushes: HashMap<(String, String, String), usize> = HashMap::new();
    for m in fcm.messages() {
        let data = &m.message["data"];
        let key = (
            m.token.clone(),
            data["report_id"].as_str().unwrap_or_default().to_owned(),
            data["status"].as_str().unwrap_or_default().to_owned(),
        );
        *pushes.entry(key).or_default() += 1;
    }
    let repeated: Vec<_> = pushes.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "pushes sent more than once: {repeated:?}"
    );
    let acknowledged = pushes
        .keys()
        .filter(|(_, _, s)| s == "acknowledged")
        .count();
    assert_eq!(
        acknowledged, REPORTS,
        "one acknowledgement push per follower"
    );

    // The roll-up job ran every second on each replica, one at a time by its lease. Once it
    // has caught up with the last change, the roll-ups say what the reports table says.
    eventually(60, "the roll-up job to catch up", || async {
        count(&pool, ROLLUPS_CAUGHT_UP).await == 1
    })
    .await;
    // A few more runs, each going back over the last 5 minutes (every report): nothing may
    // be counted twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let truth = rollup_truth(&pool).await;
    let all_cells: Vec<DayFigures> = sqlx::query_as(sqlx::AssertSqlSafe(rollup_sums("cell = 0")))
        .fetch_all(&pool)
        .await
        .unwrap();
    let by_cell: Vec<DayFigures> = sqlx::query_as(sqlx::AssertSqlSafe(rollup_sums("cell <> 0")))
        .fetch_all(&pool)
        .await
        .unwrap();
    let total =
        |rows: &[DayFigures], pick: fn(&DayFigures) -> i64| rows.iter().map(pick).sum::<i64>();
    assert_eq!(total(&truth, |r| r.2), REPORTS as i64, "{truth:?}");
    assert_eq!(total(&truth, |r| r.5), REPORTS as i64, "{truth:?}");
    assert_eq!(
        total(&truth, |r| r.3),
        REPORTS.div_ceil(3) as i64,
        "{truth:?}"
    );
    assert_eq!(
        total(&truth, |r| r.4),
        REPORTS.div_ceil(3) as i64,
        "{truth:?}"
    );
    assert_eq!(
        all_cells, truth,
        "roll-ups (all cells) per (service, local day): new, resolved, breached, acknowledged"
    );
    assert_eq!(
        by_cell, truth,
        "roll-ups (per cell) per (service, local day)"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM stats_rollups WHERE new <> \
             (SELECT COALESCE(SUM(n::bigint), 0) FROM json_array_elements_text(new_by_channel) n)"
        )
        .await,
        0,
        "new reports by channel add up to new reports"
    );
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM stats_report_facts").await,
        REPORTS as i64,
        "one stored contribution per report"
    );

    eprintln!(
        "3 replicas: {} webhooks ({} created, {} breaches) each delivered once; {} pushes, none \
         repeated; {} breaches raised once each; roll-ups match the reports table: {} new, {} \
         acknowledged, {} resolved ({} breached) over {} (service, day) rows",
        hooks.len(),
        by_type("ticket.created"),
        by_type("ticket.sla_breached"),
        fcm.message_count(),
        REPORTS * 2,
        total(&all_cells, |r| r.2),
        total(&all_cells, |r| r.5),
        total(&all_cells, |r| r.3),
        total(&all_cells, |r| r.4),
        all_cells.len()
    );

    pool.close().await;
    for server in replicas {
        server.terminate();
    }
    db.drop_database().await;
}
