//! The operator queue, the report lifecycle, staff triage and signed webhooks.

use crate::both_databases;
use crate::harness::*;
use axum::http::{HeaderMap, StatusCode};
use balagh_domain::account::Role;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

fn tag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

/// Runs a ticket action and returns the new ETag.
async fn act(app: &TestApp, token: &str, path: &str, etag: &str, body: Option<Value>) -> String {
    let response = app.post_as(token, path, Some(etag), body).await;
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(status, 200, "{path}: {}", response.text().await.unwrap());
    etag.unwrap()
}

both_databases! {
    async fn an_operator_works_a_ticket_from_new_to_closed(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let ticket_path = format!("/api/v1/operator/tickets/{id}");
        let action = |name: &str| format!("{ticket_path}/actions/{name}");

        let queue: Value = app.get(&agent.token, "/api/v1/operator/tickets").await.json().await.unwrap();
        assert_eq!(queue["tickets"][0]["id"], id);
        // Only what an operator can do: routing and duplicates are staff's (404 to operators).
        assert_eq!(queue["tickets"][0]["allowed_actions"], json!(["acknowledge", "start", "pause", "resolve", "reject_not_ours"]));

        let read = app.get(&agent.token, &ticket_path).await;
        let etag = tag(&read);
        assert_eq!(etag, "\"1\"");

        // Changes need the version last read.
        problem(app.post_as(&agent.token, &action("acknowledge"), None, None).await, 428).await;
        problem(app.post_as(&agent.token, &action("acknowledge"), Some("\"7\""), None).await, 412).await;
        let etag = act(&app, &agent.token, &action("acknowledge"), &etag, None).await;
        // A second agent still holding version 1 cannot silently overwrite.
        let stale = app.post_as(&agent.token, &action("start"), Some("\"1\""), None).await;
        assert_eq!(stale.headers()["etag"], etag.as_str());
        problem(stale, 412).await;

        // Illegal transitions are refused and say what is allowed.
        let p = problem(app.post_as(&agent.token, &action("resume"), Some(&etag), None).await, 409).await;
        assert!(p["detail"].as_str().unwrap().contains("allowed now: start, pause, resolve"), "{p}");

        let etag = act(&app, &agent.token, &action("start"), &etag, None).await;
        let p = problem(app.post_as(&agent.token, &action("pause"), Some(&etag), Some(json!({"reason": "lunch"}))).await, 422).await;
        assert_eq!(fields(&p), vec!["reason".to_owned()]);
        let etag = act(&app, &agent.token, &action("pause"), &etag, Some(json!({"reason": "third_party", "note": "road closed"}))).await;
        let etag = act(&app, &agent.token, &action("resume"), &etag, None).await;
        problem(app.post_as(&agent.token, &action("resolve"), Some(&etag), None).await, 422).await;
        act(&app, &agent.token, &action("resolve"), &etag, Some(json!({"note": "Bin emptied"}))).await;
        // Resolved: confirming and reopening are the resident's, nothing is left to the operator.
        let resolved: Value = app.get(&agent.token, &ticket_path).await.json().await.unwrap();
        assert_eq!(resolved["allowed_actions"], json!([]), "{resolved}");

        // The resident reopens, the operator resolves again, the resident confirms and rates.
        let report_path = format!("/api/v1/reports/{id}");
        problem(app.post_as(&resident, &format!("{report_path}/reopen"), None, Some(json!({"comment": " "}))).await, 422).await;
        let reopened: Value = app.post_as(&resident, &format!("{report_path}/reopen"), None, Some(json!({"comment": "Full again"}))).await.json().await.unwrap();
        assert_eq!(reopened["status"], "reopened");
        let etag = tag(&app.get(&agent.token, &ticket_path).await);
        act(&app, &agent.token, &action("resolve"), &etag, Some(json!({"note": "Emptied twice"}))).await;
        let closed: Value = app.post_as(&resident, &format!("{report_path}/confirm"), None, None).await.json().await.unwrap();
        assert_eq!(closed["status"], "closed");
        problem(app.post_as(&resident, &format!("{report_path}/confirm"), None, None).await, 409).await;
        problem(app.post_as(&resident, &format!("{report_path}/rating"), None, Some(json!({"stars": 6}))).await, 422).await;
        let rated = app.post_as(&resident, &format!("{report_path}/rating"), None, Some(json!({"stars": 4, "comment": "Merci"}))).await;
        assert_eq!(rated.status(), 200);

        // The operator sees everything with its actors (residents by their label for this
        // report, never their device); the resident only public events.
        let full: Value = app.get(&agent.token, &ticket_path).await.json().await.unwrap();
        let steps: Vec<(String, String)> = full["history"].as_array().unwrap().iter()
            .filter(|e| e["kind"] == "status_changed")
            .map(|e| (e["data"]["action"].as_str().unwrap().to_owned(), e["actor"].as_str().unwrap().split(':').next().unwrap().to_owned()))
            .collect();
        let expected = [("acknowledge", "user"), ("start", "user"), ("pause", "user"), ("resume", "user"), ("resolve", "user"), ("reopen", "resident"), ("resolve", "user"), ("confirm", "resident")];
        assert_eq!(steps, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
        assert!(full["history"].as_array().unwrap().iter().any(|e| e["kind"] == "rated" && e["data"]["stars"] == 4));
        let mine: Value = app.get(&resident, &report_path).await.json().await.unwrap();
        let kinds: Vec<&str> = mine["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert!(!kinds.contains(&"rated") && !kinds.contains(&"unrouted"), "{kinds:?}");
        assert_eq!(mine["status"], "closed");
        app.stop().await;
    }

    async fn an_operator_never_sees_another_operators_tickets(db: Db) {
        let app = TestApp::spawn(db).await;
        let west = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let east = app.user(Role::OperatorAgent, Some("bia-nord-demo")).await;
        let (_, report) = app.reported("waste_bin_overflow", WEST).await;
        let path = format!("/api/v1/operator/tickets/{}", report["id"].as_str().unwrap());
        problem(app.get(&east.token, &path).await, 404).await;
        problem(app.post_as(&east.token, &format!("{path}/actions/acknowledge"), Some("\"1\""), None).await, 404).await;
        let queue: Value = app.get(&east.token, "/api/v1/operator/tickets").await.json().await.unwrap();
        assert!(queue["tickets"].as_array().unwrap().is_empty());
        assert_eq!(app.get(&west.token, &path).await.status(), 200);
        // Assigning to someone of another company is refused.
        let p = problem(app.post_as(&west.token, &format!("{path}/assign"), Some("\"1\""), Some(json!({"agent_id": east.id}))).await, 422).await;
        assert_eq!(fields(&p), vec!["agent_id".to_owned()]);
        let colleague = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let assigned = app.post_as(&west.token, &format!("{path}/assign"), Some("\"1\""), Some(json!({"agent_id": colleague.id}))).await;
        assert_eq!(assigned.status(), 200);
        let mine: Value = app.get(&colleague.token, "/api/v1/operator/tickets?assignee=me").await.json().await.unwrap();
        assert_eq!(mine["tickets"].as_array().unwrap().len(), 1);
        app.stop().await;
    }

    async fn the_queue_pages_by_due_time_and_filters(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            let service = if i % 2 == 0 { "waste_bin_overflow" } else { "waste_street_not_swept" };
            let (_, report) = app.reported(service, (WEST.0 + i as f64 * 0.001, WEST.1)).await;
            ids.push(report["id"].as_str().unwrap().to_owned());
        }
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page: Value = app.get(&agent.token, &format!("/api/v1/operator/tickets?limit=2&cursor={cursor}")).await.json().await.unwrap();
            seen.extend(page["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen, ids, "due time order = creation order here, every ticket once");
        let swept: Value = app.get(&agent.token, "/api/v1/operator/tickets?service=waste_street_not_swept").await.json().await.unwrap();
        assert_eq!(swept["tickets"].as_array().unwrap().len(), 2);
        let soon: Value = app.get(&agent.token, "/api/v1/operator/tickets?due_before=2000-01-01T00:00:00Z").await.json().await.unwrap();
        assert!(soon["tickets"].as_array().unwrap().is_empty());
        problem(app.get(&agent.token, "/api/v1/operator/tickets?status=bogus").await, 400).await;
        problem(app.get(&agent.token, "/api/v1/operator/tickets?cursor=nonsense").await, 400).await;
        app.stop().await;
    }

    async fn staff_triage_rejected_and_duplicate_reports(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let west = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let east = app.user(Role::OperatorAgent, Some("bia-nord-demo")).await;
        let (_, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        // The operator gives it back.
        problem(app.post_as(&west.token, &format!("/api/v1/operator/tickets/{id}/actions/reject_not_ours"), Some("\"1\""), None).await, 422).await;
        act(&app, &west.token, &format!("/api/v1/operator/tickets/{id}/actions/reject_not_ours"), "\"1\"", Some(json!({"reason": "private land"}))).await;
        let triage: Value = app.get(&staff.token, "/api/v1/staff/reports").await.json().await.unwrap();
        assert_eq!(triage["tickets"][0]["id"], id);
        assert_eq!(triage["tickets"][0]["status"], "rejected");

        // Staff route it to the eastern contract explicitly.
        let contracts = app.store.contracts().await.unwrap();
        let east_contract = contracts.iter().find(|c| c.reference == "TET-DEMO-WASTE-E").unwrap();
        let staff_path = format!("/api/v1/staff/reports/{id}");
        let etag = tag(&app.get(&staff.token, &staff_path).await);
        act(&app, &staff.token, &format!("{staff_path}/actions/route"), &etag, Some(json!({"contract_id": east_contract.id.0}))).await;
        let theirs = app.get(&east.token, &format!("/api/v1/operator/tickets/{id}")).await;
        assert_eq!(theirs.status(), 200);
        let theirs: Value = theirs.json().await.unwrap();
        assert_eq!(theirs["status"], "new");

        // A duplicate: its reporter and supporters move to the original.
        let (_, original) = app.reported("light_out", NORTH_CENTRE).await;
        let (_, duplicate) = app.reported("light_out", NORTH_CENTRE).await;
        let supporter = app.device().await;
        app.post_as(&supporter, &format!("/api/v1/reports/{}/support", duplicate["id"].as_str().unwrap()), None, None).await;
        let dup_path = format!("/api/v1/staff/reports/{}", duplicate["id"].as_str().unwrap());
        let etag = tag(&app.get(&staff.token, &dup_path).await);
        problem(app.post_as(&staff.token, &format!("{dup_path}/actions/mark_duplicate"), Some(&etag), Some(json!({"duplicate_of": duplicate["id"]}))).await, 422).await;
        act(&app, &staff.token, &format!("{dup_path}/actions/mark_duplicate"), &etag, Some(json!({"duplicate_of": original["id"]}))).await;
        let original_now: Value = app.get(&staff.token, &format!("/api/v1/staff/reports/{}", original["id"].as_str().unwrap())).await.json().await.unwrap();
        assert_eq!(original_now["supporters"], 2, "the duplicate's reporter and its supporter");
        let followers = app.store.followers(uuid::Uuid::parse_str(original["id"].as_str().unwrap()).unwrap()).await.unwrap();
        assert_eq!(followers.len(), 3);

        // Moderation hides the text from the operator, not from staff, and keeps it on record.
        let op_path = format!("/api/v1/operator/tickets/{}", original["id"].as_str().unwrap());
        let orig_staff = format!("/api/v1/staff/reports/{}", original["id"].as_str().unwrap());
        let etag = tag(&app.get(&staff.token, &orig_staff).await);
        let moderated = app.post_as(&staff.token, &format!("{orig_staff}/moderation"), Some(&etag), Some(json!({"hide_description": true, "reason": "phone number in text"}))).await;
        assert_eq!(moderated.status(), 200);
        let nour = app.user(Role::OperatorAgent, Some("nour-eclairage-demo")).await;
        let seen: Value = app.get(&nour.token, &op_path).await.json().await.unwrap();
        assert_eq!(seen["description"], Value::Null);
        let staff_view: Value = app.get(&staff.token, &orig_staff).await.json().await.unwrap();
        assert!(staff_view["description"].as_str().is_some());

        // Analysts read, but cannot change.
        let analyst = app.user(Role::StaffAnalyst, None).await;
        assert_eq!(app.get(&analyst.token, "/api/v1/staff/reports").await.status(), 200);
        problem(app.post_as(&analyst.token, &format!("{orig_staff}/actions/dismiss"), Some("\"1\""), Some(json!({"reason": "x"}))).await, 403).await;
        app.stop().await;
    }

    async fn webhooks_are_signed_retried_deduplicated_and_dead_lettered(db: Db) {
        let app = TestApp::spawn(db).await;
        let receiver = Receiver::start().await;
        let manager = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let endpoint: Value = app.client.put(app.url("/api/v1/operator/webhook")).bearer_auth(&manager.token)
            .json(&json!({"url": receiver.url})).send().await.unwrap().json().await.unwrap();
        let secret = endpoint["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        receiver.set_secret(&secret);

        // The first attempt fails with 500: it is retried and arrives once.
        receiver.fail_next(1, 500);
        let (_, report) = app.reported("waste_bin_overflow", WEST).await;
        let got = receiver.wait_for(1).await;
        assert_eq!(got[0]["type"], "ticket.created");
        assert_eq!(got[0]["data"]["id"], report["id"]);
        assert!(receiver.attempts() >= 2, "retried after the 500");

        // An acknowledgement is an update.
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let path = format!("/api/v1/operator/tickets/{}/actions/acknowledge", report["id"].as_str().unwrap());
        act(&app, &agent.token, &path, "\"1\"", None).await;
        let got = receiver.wait_for(2).await;
        assert_eq!(got[1]["type"], "ticket.updated");
        assert_eq!(got[1]["data"]["status"], "acknowledged");
        assert_eq!(receiver.bad_signatures(), 0);

        // Failing for longer than the retry period dead-letters it; staff and the manager see
        // it and replay it.
        receiver.fail_next(1000, 503);
        app.reported("waste_bin_overflow", WEST).await;
        let mut dead = Value::Null;
        for _ in 0..100 {
            dead = app.get(&manager.token, "/api/v1/operator/webhook/deliveries?state=dead").await.json().await.unwrap();
            if !dead.as_array().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let dead_id = dead[0]["id"].as_str().expect("a dead letter").to_owned();
        assert!(dead[0]["last_error"].as_str().unwrap().contains("503"));
        let staff = app.user(Role::StaffAgent, None).await;
        let nadafa = app.operator_id("nadafa-demo").await;
        let staff_dead: Value = app.get(&staff.token, &format!("/api/v1/staff/operators/{}/webhook/deliveries", nadafa.0)).await.json().await.unwrap();
        assert_eq!(staff_dead[0]["id"], dead_id.as_str());
        receiver.fail_next(0, 500);
        let replay = app.post_as(&manager.token, &format!("/api/v1/operator/webhook/deliveries/{dead_id}/replay"), None, None).await;
        assert_eq!(replay.status(), 202);
        let got = receiver.wait_for(3).await;
        assert_eq!(got[2]["type"], "ticket.created");
        assert_eq!(receiver.unique_ids(), 3, "each message delivered once per id");
        app.stop().await;
    }

    async fn unanswered_resolved_reports_close_by_themselves(db: Db) {
        let app = TestApp::spawn_with(db, balagh_api::ApiSettings {
            app: balagh_app::AppSettings { auto_close_days: 0, ..Default::default() },
            ..Default::default()
        }).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        act(&app, &agent.token, &format!("/api/v1/operator/tickets/{id}/actions/resolve"), "\"1\"", Some(json!({"note": "done"}))).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let closed = balagh::workers::auto_close_once(&app.state).await.unwrap();
        assert_eq!(closed, 1);
        assert_eq!(balagh::workers::auto_close_once(&app.state).await.unwrap(), 0, "once only");
        let mine: Value = app.get(&resident, &format!("/api/v1/reports/{id}")).await.json().await.unwrap();
        assert_eq!(mine["status"], "closed");
        app.stop().await;
    }
}

/// A local webhook receiver that verifies signatures like an operator's system would (the
/// operator stand-in of the webhook and photo tests).
pub(crate) struct Receiver {
    pub(crate) url: String,
    state: Arc<Mutex<ReceiverState>>,
}

#[derive(Default)]
struct ReceiverState {
    secret: Option<String>,
    fail_remaining: u32,
    fail_status: u16,
    attempts: u32,
    bad_signatures: u32,
    seen_ids: std::collections::BTreeSet<String>,
    accepted: Vec<Value>,
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let shared = state.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = shared.clone();
                async move {
                    let mut s = state.lock().unwrap();
                    s.attempts += 1;
                    let secret =
                        balagh_webhooks::WebhookSecret::parse(s.secret.as_deref().unwrap_or(""))
                            .ok();
                    let verified = secret.is_some_and(|secret| {
                        balagh_webhooks::verify_headers(
                            &secret,
                            &headers,
                            &body,
                            time::OffsetDateTime::now_utc(),
                            balagh_webhooks::DEFAULT_TOLERANCE,
                        )
                        .is_ok()
                    });
                    if !verified {
                        s.bad_signatures += 1;
                        return StatusCode::UNAUTHORIZED;
                    }
                    if s.fail_remaining > 0 {
                        s.fail_remaining -= 1;
                        return StatusCode::from_u16(s.fail_status).unwrap();
                    }
                    let id = headers["webhook-id"].to_str().unwrap().to_owned();
                    if s.seen_ids.insert(id) {
                        let event: Value = serde_json::from_slice(&body).unwrap();
                        s.accepted.push(event);
                    }
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    pub(crate) fn set_secret(&self, secret: &str) {
        self.state.lock().unwrap().secret = Some(secret.to_owned());
    }

    fn fail_next(&self, count: u32, status: u16) {
        let mut s = self.state.lock().unwrap();
        s.fail_remaining = count;
        s.fail_status = status;
    }

    fn attempts(&self) -> u32 {
        self.state.lock().unwrap().attempts
    }

    fn bad_signatures(&self) -> u32 {
        self.state.lock().unwrap().bad_signatures
    }

    fn unique_ids(&self) -> usize {
        self.state.lock().unwrap().seen_ids.len()
    }

    /// Waits (at most 10 s) until `n` distinct events arrived; returns them.
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let accepted = self.state.lock().unwrap().accepted.clone();
            if accepted.len() >= n {
                return accepted;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "only {} of {n} webhook events arrived",
            self.state.lock().unwrap().accepted.len()
        );
    }
}

both_databases! {
    async fn staff_enter_reports_for_residents_and_manage_the_catalog(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let admin = app.user(Role::StaffAdmin, None).await;

        // A resident phoned: staff enter it; the contact stays private; a retry is the same.
        let body = json!({
            "service_code": "light_out", "lat": NORTH_CENTRE.0, "lon": NORTH_CENTRE.1,
            "description": "Rue sombre depuis trois nuits", "channel": "phone",
            "contact_name": "Fatima", "contact_phone": "+212600000000"
        });
        let first = app.client.post(app.url("/api/v1/staff/reports")).bearer_auth(&agent.token)
            .header("Idempotency-Key", "call-1").json(&body).send().await.unwrap();
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["channel"], "phone");
        assert_eq!(first["operator"]["slug"], "nour-eclairage-demo");
        let again = app.client.post(app.url("/api/v1/staff/reports")).bearer_auth(&agent.token)
            .header("Idempotency-Key", "call-1").json(&body).send().await.unwrap();
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        let id = uuid::Uuid::parse_str(first["id"].as_str().unwrap()).unwrap();
        let stored = app.store.report(id).await.unwrap().unwrap();
        assert_eq!(stored.contact.as_ref().unwrap()["phone"], "+212600000000");
        assert_eq!(stored.created_by, Some(agent.id));
        let nour = app.user(Role::OperatorAgent, Some("nour-eclairage-demo")).await;
        let seen = app.get(&nour.token, &format!("/api/v1/operator/tickets/{id}")).await.text().await.unwrap();
        assert!(!seen.contains("Fatima") && !seen.contains("+212600000000"), "{seen}");
        let mut bad = body.clone();
        bad["channel"] = json!("app");
        let p = problem(app.client.post(app.url("/api/v1/staff/reports")).bearer_auth(&agent.token)
            .header("Idempotency-Key", "call-2").json(&bad).send().await.unwrap(), 422).await;
        assert_eq!(fields(&p), vec!["channel".to_owned()]);

        // A new service, reportable at once.
        let service = json!({
            "code": "waste_graffiti", "group": "waste",
            "name": {"fr": "Graffiti sur conteneur", "ar": "كتابة على الحاوية", "en": "Graffiti on a bin"},
            "description": {"fr": "Conteneur tagué"}, "keywords": [], "sensitive": false,
            "attributes": [{"code": "size", "datatype": "singlevaluelist", "required": true,
                "description": {"fr": "Taille"}, "order": 1,
                "values": [{"key": "small", "name": {"fr": "Petit"}}, {"key": "large", "name": {"fr": "Grand"}}]}]
        });
        let put = app.client.put(app.url("/api/v1/staff/services/waste_graffiti")).bearer_auth(&admin.token)
            .json(&service).send().await.unwrap();
        assert_eq!(put.status(), 200);
        let listed: Value = app.client.get(app.url("/api/v1/services")).header("Accept-Language", "en")
            .send().await.unwrap().json().await.unwrap();
        assert!(listed["services"].as_array().unwrap().iter().any(|s| s["name"] == "Graffiti on a bin"));
        let resident = app.device().await;
        let mut report = report_body("waste_graffiti", EAST);
        report["attributes"] = json!({"size": "large"});
        assert_eq!(app.post_report(&resident, "g1", &report).await.status(), 201);
        let mut broken = service.clone();
        broken["attributes"][0]["values"] = json!([]);
        problem(app.client.put(app.url("/api/v1/staff/services/waste_graffiti")).bearer_auth(&admin.token)
            .json(&broken).send().await.unwrap(), 422).await;
        problem(app.client.put(app.url("/api/v1/staff/services/other_code")).bearer_auth(&admin.token)
            .json(&service).send().await.unwrap(), 422).await;

        // New zones: a newer lighting contract takes over the north.
        let zone = |contract: &str, group: &str| json!({
            "type": "Feature",
            "properties": {"contract": contract, "operator": "lumiere-nord", "operator_name": "Lumière Nord",
                "service_group": group, "zone": "Nord", "valid_from": "2026-06-01T00:00:00Z"},
            "geometry": {"type": "Polygon", "coordinates": [[[-5.44, 35.58], [-5.30, 35.58], [-5.30, 35.63], [-5.44, 35.63], [-5.44, 35.58]]]}
        });
        let bad = json!({"type": "FeatureCollection", "features": [zone("TET-NEW-1", "lighting"), zone("TET-NEW-2", "water")]});
        let p = problem(app.client.post(app.url("/api/v1/staff/zones")).bearer_auth(&admin.token)
            .json(&bad).send().await.unwrap(), 422).await;
        assert_eq!(fields(&p), vec!["features[1].properties.service_group".to_owned()]);
        assert_eq!(app.store.contracts().await.unwrap().len(), 5, "nothing imported");
        let good = json!({"type": "FeatureCollection", "features": [zone("TET-NEW-1", "lighting")]});
        let imported: Value = app.client.post(app.url("/api/v1/staff/zones")).bearer_auth(&admin.token)
            .json(&good).send().await.unwrap().json().await.unwrap();
        assert_eq!(imported, json!({"operators": 1, "contracts": 1}));
        let routed = app.post_report(&resident, "n1", &report_body("light_out", NORTH_CENTRE)).await;
        let routed: Value = routed.json().await.unwrap();
        assert_eq!(routed["operator"]["slug"], "lumiere-nord");
        let contracts: Value = app.get(&agent.token, "/api/v1/staff/contracts").await.json().await.unwrap();
        assert_eq!(contracts.as_array().unwrap().len(), 6);
        let operators: Value = app.get(&agent.token, "/api/v1/staff/operators").await.json().await.unwrap();
        assert!(operators.as_array().unwrap().iter().any(|o| o["slug"] == "lumiere-nord"));
        // Only administrators change the catalog.
        problem(app.client.post(app.url("/api/v1/staff/zones")).bearer_auth(&agent.token)
            .json(&good).send().await.unwrap(), 403).await;
        app.stop().await;
    }
}

both_databases! {
    async fn contact_details_are_erased_after_the_retention_period(db: Db) {
        let workers = balagh::workers::WorkerSettings {
            contact_retention: Some(time::Duration::seconds(1)),
            retention_interval: std::time::Duration::from_millis(100),
            ..fast_workers()
        };
        let app = TestApp::spawn_with_workers(db, Default::default(), workers).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let mut body = report_body("waste_bin_overflow", WEST);
        body["contact_name"] = json!("Fatima");
        body["contact_phone"] = json!("+212600000000");
        body["channel"] = json!("counter");
        let created = app
            .client
            .post(app.url("/api/v1/staff/reports"))
            .bearer_auth(&staff.token)
            .header("Idempotency-Key", "retention-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{:?}", created.text().await);
        let id: Value = created.json().await.unwrap();
        let id = uuid::Uuid::parse_str(id["id"].as_str().unwrap()).unwrap();
        let kept = app.store.report(id).await.unwrap().unwrap();
        assert!(kept.contact.is_some(), "kept while the report is young");
        let mut erased = None;
        for _ in 0..100 {
            let report = app.store.report(id).await.unwrap().unwrap();
            if report.contact.is_none() {
                erased = Some(report);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let erased = erased.expect("contact erased after the retention period");
        assert_eq!(erased.status, kept.status, "the report itself stays");
        assert_eq!(erased.version, kept.version, "erasing is not a change of the report");
        assert_eq!(app.report_count().await, 1);
    }
}
