//! The commune staff's back office: the staff API defects of issue 19 (routing across
//! service groups, priority) and the server-rendered pages.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::ServiceGroup;
use balagh_domain::account::Role;
use serde_json::{Value, json};

// The photo fixtures `photos` uses too (its copy is private to it).
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../../../media/tests/pipeline/support.rs"]
mod fixtures;

fn tag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

/// Seconds between a clock's start and its due time.
fn target_seconds(clock: &Value) -> i64 {
    let at = |field: &str| {
        time::OffsetDateTime::parse(
            clock[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    (at("due_at") - at("started_at")).whole_seconds()
}

fn resolve_clock(view: &Value) -> Value {
    view["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|c| c["metric"] == "resolve")
        .cloned()
        .unwrap_or_else(|| panic!("no resolve clock: {view}"))
}

both_databases! {
    async fn staff_cannot_route_a_report_to_another_service_groups_contract(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let (_, report) = app.reported("light_out", NORTH_CENTRE).await;
        let path = format!("/api/v1/staff/reports/{}", report["id"].as_str().unwrap());
        let etag = tag(&app.get(&staff.token, &path).await);
        let contracts = app.store.contracts().await.unwrap();
        let waste = contracts.iter().find(|c| c.group == ServiceGroup::WASTE).unwrap();
        let p = problem(
            app.post_as(&staff.token, &format!("{path}/actions/route"), Some(&etag), Some(json!({"contract_id": waste.id.0}))).await,
            422,
        ).await;
        assert_eq!(fields(&p), vec!["contract_id".to_owned()]);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("waste") && detail.contains("lighting") && detail.contains("light_out"), "{detail}");
        // Nothing changed.
        let after = app.get(&staff.token, &path).await;
        assert_eq!(tag(&after), etag);
        let after: Value = after.json().await.unwrap();
        assert_eq!(after["operator_id"], report_operator(&app, &report).await);

        // Another lighting contract (another zone of the same group) stays possible.
        let other_lighting = contracts
            .iter()
            .find(|c| c.group == ServiceGroup::LIGHTING && Some(c.id.0.to_string()) != after["contract_id"].as_str().map(str::to_owned))
            .unwrap();
        let routed = app.post_as(&staff.token, &format!("{path}/actions/route"), Some(&etag), Some(json!({"contract_id": other_lighting.id.0}))).await;
        assert_eq!(routed.status(), 200);
        let routed: Value = routed.json().await.unwrap();
        assert_eq!(routed["contract_id"], other_lighting.id.0.to_string());
        app.stop().await;
    }

    async fn priority_comes_from_the_service_and_hazard_answers_and_staff_set_it(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let analyst = app.user(Role::StaffAnalyst, None).await;
        // "Câbles apparents" raises the report to urgent at intake.
        let device = app.device().await;
        let mut hazard = report_body("light_damaged_pole", NORTH_CENTRE);
        hazard["attributes"] = json!({"hazard": "exposed_wires"});
        let created = app.post_report(&device, &uuid::Uuid::new_v4().to_string(), &hazard).await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        let staff_view: Value = app.get(&staff.token, &format!("/api/v1/staff/reports/{}", created["id"].as_str().unwrap())).await.json().await.unwrap();
        assert_eq!(staff_view["priority"], "urgent");
        let (_, plain) = app.reported("light_out", NORTH_CENTRE).await;
        let plain: Value = app.get(&staff.token, &format!("/api/v1/staff/reports/{}", plain["id"].as_str().unwrap())).await.json().await.unwrap();
        assert_eq!(plain["priority"], "normal");

        // Staff raise a waste report to urgent: its resolve target drops from 24 h to 8 h
        // (the demo policy, a 24/7 clock).
        let (_, bin) = app.reported("waste_bin_overflow", WEST).await;
        let path = format!("/api/v1/staff/reports/{}", bin["id"].as_str().unwrap());
        let read = app.get(&staff.token, &path).await;
        let etag = tag(&read);
        let before: Value = read.json().await.unwrap();
        assert_eq!(before["priority"], "normal");
        assert_eq!(target_seconds(&resolve_clock(&before)), 24 * 3600);
        let priority = format!("{path}/priority");
        let p = problem(app.post_as(&staff.token, &priority, Some(&etag), Some(json!({"priority": "critical"}))).await, 422).await;
        assert_eq!(fields(&p), vec!["priority".to_owned()]);
        problem(app.post_as(&staff.token, &priority, None, Some(json!({"priority": "urgent"}))).await, 428).await;
        problem(app.post_as(&analyst.token, &priority, Some(&etag), Some(json!({"priority": "urgent"}))).await, 403).await;
        let set = app.post_as(&staff.token, &priority, Some(&etag), Some(json!({"priority": "urgent", "note": "school entrance"}))).await;
        assert_eq!(set.status(), 200);
        let after: Value = app.get(&staff.token, &path).await.json().await.unwrap();
        assert_eq!(after["priority"], "urgent");
        assert_eq!(target_seconds(&resolve_clock(&after)), 8 * 3600);
        let event = after["history"].as_array().unwrap().iter().find(|e| e["kind"] == "priority_changed").expect("a priority event");
        assert_eq!(event["data"]["from"], "normal");
        assert_eq!(event["data"]["to"], "urgent");
        // The stored due time follows (the operator's queue sorts by it).
        let stored = app.store.report(uuid::Uuid::parse_str(bin["id"].as_str().unwrap()).unwrap()).await.unwrap().unwrap();
        assert_eq!(stored.priority, balagh_domain::Priority::Urgent);
        assert_eq!((stored.due_at.unwrap().get() - stored.created_at.get()).whole_hours(), 8);
        app.stop().await;
    }
}

async fn report_operator(app: &TestApp, report: &Value) -> Value {
    let id = uuid::Uuid::parse_str(report["id"].as_str().unwrap()).unwrap();
    let stored = app.store.report(id).await.unwrap().unwrap();
    json!(stored.operator.map(|o| o.0.to_string()))
}

// --- the pages -------------------------------------------------------------------------

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A logged-in browser of the staff pages (session cookie, no redirects followed).
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    pub(crate) client: reqwest::Client,
    pub(crate) cookie: String,
}

impl<'a> Browser<'a> {
    pub(crate) async fn login(app: &'a TestApp, email: &str) -> Self {
        let client = no_redirects();
        let response = client
            .post(app.url("/staff/login?lang=fr"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("email", email), ("password", PASSWORD)]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Self {
            app,
            client,
            cookie,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Posts a form; returns the status, the `Location` and the body.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let response = self
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .body(form(fields))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, response.text().await.unwrap())
    }
}

/// A resident's photo of their report (multipart upload).
async fn upload_photo(app: &TestApp, resident: &str, id: &str) {
    let boundary = "balagh-staff-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"bin.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&fixtures::phone_jpeg(&fixtures::photo_like(320, 240), 1));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let uploaded = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/photos")))
        .bearer_auth(resident)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(
        uploaded.status().is_success(),
        "{}",
        uploaded.text().await.unwrap()
    );
}

/// The value of the first `name="…" value="…"` input of a page.
pub(crate) fn input_value(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no input {name}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

both_databases! {
    async fn staff_triage_route_merge_and_moderate_from_the_pages(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let nour = app.user(Role::OperatorAgent, Some("nour-eclairage-demo")).await;
        let (_, original) = app.reported("light_out", NORTH_CENTRE).await;
        let (_, report) = app.reported("light_out", (NORTH_CENTRE.0 + 0.0005, NORTH_CENTRE.1)).await;
        let id = report["id"].as_str().unwrap();
        // The operator sends it back: it is in the triage queue.
        let give_back = app.post_as(&nour.token, &format!("/api/v1/operator/tickets/{id}/actions/reject_not_ours"), Some("\"1\""), Some(json!({"reason": "private lamp"}))).await;
        assert_eq!(give_back.status(), 200);

        let browser = Browser::login(&app, &staff.email).await;
        let (status, triage) = browser.get("/staff/triage?lang=fr").await;
        assert_eq!(status, 200);
        assert!(triage.contains(report["reference"].as_str().unwrap()), "{triage}");
        assert!(triage.contains("Renvoyé par l&#39;opérateur") || triage.contains("Renvoyé par l'opérateur") || triage.contains("Renvoyé par l&#x27;opérateur"), "{triage}");
        assert!(!triage.contains(original["reference"].as_str().unwrap()), "a routed report is not to triage");
        let (_, arabic) = browser.get("/staff/triage?lang=ar").await;
        assert!(arabic.contains(r#"<html lang="ar" dir="rtl">"#));

        // The report page offers lighting contracts only, and never another group's.
        let page_path = format!("/staff/reports/{id}?lang=fr");
        let (status, page) = browser.get(&page_path).await;
        assert_eq!(status, 200);
        let contracts = app.store.contracts().await.unwrap();
        for c in &contracts {
            assert_eq!(page.contains(&c.id.0.to_string()), c.group == ServiceGroup::LIGHTING, "{}", c.reference);
        }
        assert!(page.contains(original["reference"].as_str().unwrap()), "the original is a duplicate candidate");
        let csrf = input_value(&page, "csrf_token");
        let version = input_value(&page, "version");

        // Without the CSRF token nothing happens; a waste contract posted anyway is refused.
        let waste = contracts.iter().find(|c| c.group == ServiceGroup::WASTE).unwrap().id.0.to_string();
        let (status, _, _) = browser.post(&format!("/staff/reports/{id}/route?lang=fr"), &[("csrf_token", "x"), ("version", &version), ("contract_id", &waste)]).await;
        assert_eq!(status, 403);
        let (status, _, refused) = browser.post(&format!("/staff/reports/{id}/route?lang=fr"), &[("csrf_token", &csrf), ("version", &version), ("contract_id", &waste)]).await;
        assert_eq!(status, 422);
        assert!(refused.contains(r#"id="error""#) && refused.contains("lighting"), "{refused}");

        // Merged into the original from the candidates list.
        let (status, location, _) = browser.post(&format!("/staff/reports/{id}/duplicate?lang=fr"), &[("csrf_token", &csrf), ("version", &version), ("duplicate_of", original["id"].as_str().unwrap())]).await;
        assert_eq!((status, location.as_str()), (303, format!("/staff/reports/{id}?lang=fr&done=duplicate").as_str()));
        let (_, merged) = browser.get(&format!("/staff/reports/{id}?lang=fr&done=duplicate")).await;
        assert!(merged.contains(r#"id="done""#) && merged.contains("Doublon"), "{merged}");
        // A stale form (the old version) is refused with the report as it is now.
        let (status, _, stale) = browser.post(&format!("/staff/reports/{id}/comment?lang=fr"), &[("csrf_token", &csrf), ("version", &version), ("text", "late")]).await;
        assert_eq!(status, 409);
        assert!(stale.contains("entre-temps"), "{stale}");

        // The original: routed again to the other lighting zone, priority raised, described
        // text hidden, a comment; the history names the staff member.
        let oid = original["id"].as_str().unwrap();
        let opath = format!("/staff/reports/{oid}?lang=fr");
        let (_, page) = browser.get(&opath).await;
        let current = app.store.report(uuid::Uuid::parse_str(oid).unwrap()).await.unwrap().unwrap().contract;
        let other = contracts.iter().find(|c| c.group == ServiceGroup::LIGHTING && Some(c.id) != current).unwrap();
        let post_ok = async |action: &str, fields: &[(&str, &str)]| {
            let (_, page) = browser.get(&opath).await;
            let version = input_value(&page, "version");
            let mut all = vec![("csrf_token", csrf.as_str()), ("version", version.as_str())];
            all.extend_from_slice(fields);
            let (status, location, body) = browser.post(&format!("/staff/reports/{oid}/{action}?lang=fr"), &all).await;
            assert_eq!(status, 303, "{action}: {body}");
            assert!(location.ends_with(&format!("done={action}")), "{location}");
        };
        drop(page);
        post_ok("route", &[("contract_id", &other.id.0.to_string())]).await;
        post_ok("priority", &[("priority", "urgent"), ("note", "near a school")]).await;
        post_ok("moderate", &[("hide", "true"), ("reason", "phone number in the text")]).await;
        post_ok("comment", &[("text", "Checked on site"), ("public", "true")]).await;
        let stored = app.store.report(uuid::Uuid::parse_str(oid).unwrap()).await.unwrap().unwrap();
        assert_eq!(stored.contract, Some(other.id));
        assert_eq!(stored.priority, balagh_domain::Priority::Urgent);
        assert!(stored.description_hidden);
        let (_, page) = browser.get(&opath).await;
        assert!(page.contains("Test staff_agent"), "the history names people");
        assert!(page.contains("Priorité changée") && page.contains("Checked on site"), "{page}");
        assert!(page.contains(r#"id="hidden-badge""#));

        // Analysts read the pages but the forms are not theirs.
        let analyst = app.user(Role::StaffAnalyst, None).await;
        let reader = Browser::login(&app, &analyst.email).await;
        let (status, page) = reader.get(&opath).await;
        assert_eq!(status, 200);
        assert!(!page.contains(r#"id="priority""#));
        let csrf = input_value(&page, "csrf_token");
        let (status, _, _) = reader.post(&format!("/staff/reports/{oid}/comment?lang=fr"), &[("csrf_token", &csrf), ("version", "1"), ("text", "x")]).await;
        assert_eq!(status, 403);
        app.stop().await;
    }

    async fn the_counter_enters_a_report_prints_a_receipt_and_keeps_the_contact_from_operators(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let browser = Browser::login(&app, &staff.email).await;
        let (status, step2) = browser.get("/staff/intake?lang=fr&service=light_damaged_pole").await;
        assert_eq!(status, 200);
        assert!(step2.contains(r#"name="attr_hazard""#), "the service's own questions");
        let csrf = input_value(&step2, "csrf_token");
        let key = input_value(&step2, "key");
        let place = format!("{},{}", NORTH_CENTRE.0, NORTH_CENTRE.1);
        let fields = [
            ("csrf_token", csrf.as_str()), ("service", "light_damaged_pole"), ("key", key.as_str()),
            ("channel", "phone"), ("place", ""), ("lat", ""), ("lon", ""),
            ("description", "Câbles apparents devant l'école"), ("attr_hazard", "exposed_wires"),
            ("contact_name", "Fatima Z."), ("contact_phone", "+212 600 000 000"),
        ];
        // No place: the form comes back with what was typed.
        let (status, _, again) = browser.post("/staff/intake?lang=fr", &fields).await;
        assert_eq!(status, 422);
        assert!(again.contains("Fatima Z.") && again.contains(r#"id="error""#));
        let mut fields = fields.to_vec();
        fields[4] = ("place", place.as_str());
        let (status, location, _) = browser.post("/staff/intake?lang=fr", &fields).await;
        assert_eq!(status, 303);
        // The same form sent twice (a double click) is one report.
        let (_, location_again, _) = browser.post("/staff/intake?lang=fr", &fields).await;
        assert_eq!(location, location_again);
        let (status, receipt) = browser.get(&location).await;
        assert_eq!(status, 200);
        let id = location.trim_start_matches("/staff/reports/").split('/').next().unwrap();
        let stored = app.store.report(uuid::Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
        assert!(receipt.contains(stored.reference.as_str()));
        assert_eq!(stored.channel, balagh_domain::Channel::Phone);
        assert_eq!(stored.priority, balagh_domain::Priority::Urgent, "a hazard answer");
        // Staff see the contact for the callback; the operator never does.
        let (_, page) = browser.get(&format!("/staff/reports/{id}?lang=fr")).await;
        assert!(page.contains("Fatima Z.") && page.contains("+212 600 000 000"), "{page}");
        let operator = stored.operator.unwrap();
        let slug = app.state.catalog().operator(operator).unwrap().operator.slug.as_str().to_owned();
        let agent = app.user(Role::OperatorAgent, Some(&slug)).await;
        let ticket = app.get(&agent.token, &format!("/api/v1/operator/tickets/{id}")).await.text().await.unwrap();
        assert!(!ticket.contains("Fatima") && !ticket.contains("600 000"), "{ticket}");
        app.stop().await;
    }

    async fn staff_see_every_photo_and_publish_or_withdraw_it_from_the_report_page(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let (resident, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        upload_photo(&app, &resident, id).await;
        let photo_id = app.store.report_photos(uuid::Uuid::parse_str(id).unwrap()).await.unwrap()[0].id;

        let browser = Browser::login(&app, &staff.email).await;
        let path = format!("/staff/reports/{id}?lang=fr");
        let (_, page) = browser.get(&path).await;
        assert!(page.contains(r#"data-approved="false""#) && page.contains("<img src="), "{page}");
        let csrf = input_value(&page, "csrf_token");
        let photo = photo_id.to_string();
        let (status, location, _) = browser.post(&format!("/staff/reports/{id}/photo?lang=fr"), &[("csrf_token", &csrf), ("version", "1"), ("photo_id", &photo), ("approved", "true")]).await;
        assert_eq!((status, location.as_str()), (303, format!("/staff/reports/{id}?lang=fr&done=photo").as_str()));
        assert!(app.store.photo(photo_id).await.unwrap().unwrap().approved);
        let (_, page) = browser.get(&path).await;
        assert!(page.contains(r#"data-approved="true""#));
        // A photo of another report cannot be moderated through this one.
        let (_, other) = app.reported("waste_bin_overflow", WEST).await;
        let (status, _, _) = browser.post(&format!("/staff/reports/{}/photo?lang=fr", other["id"].as_str().unwrap()), &[("csrf_token", &csrf), ("version", "1"), ("photo_id", &photo), ("approved", "false")]).await;
        assert_eq!(status, 404);
        assert!(app.store.photo(photo_id).await.unwrap().unwrap().approved, "left as it was");
        app.stop().await;
    }

    async fn staff_accept_or_reject_operators_disputes_from_the_page(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let manager = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let operator = app.operator_id("nadafa-demo").await;
        let contract = app.store.contracts().await.unwrap().into_iter()
            .find(|c| c.operator == operator && c.group == ServiceGroup::WASTE).unwrap().id.0;
        // Acknowledge within a second: both reports breach it at once.
        let policy = json!({
            "effective_from": "2026-01-01T00:00:00Z", "clock": "always",
            "targets": [
                {"metric": "acknowledge", "service_code": null, "priority": null, "duration": "PT1S"},
                {"metric": "resolve", "service_code": null, "priority": null, "duration": "PT10H"}
            ],
            "pause_reasons_that_stop_the_clock": ["awaiting_resident"],
            "penalty": {"per_breach_minor": 10000, "per_started_hour_late_minor": 1000, "cap_per_period_minor": 15000}
        });
        let stored = app.post_as(&admin.token, &format!("/api/v1/staff/contracts/{contract}/sla-policies"), None, Some(policy)).await;
        assert!(stored.status().is_success());
        let mut disputed = Vec::new();
        for i in 0..2 {
            let (_, report) = app.reported("waste_bin_overflow", (WEST.0 + 0.004 * f64::from(i), WEST.1)).await;
            disputed.push(report);
        }
        // Each is disputed once its clock has breached (bounded polling, no fixed sleep).
        let body = json!({"metric": "acknowledge", "cycle": 1, "reason": "Route barrée par la police"});
        for report in &disputed {
            let path = format!("/api/v1/operator/tickets/{}/disputes", report["id"].as_str().unwrap());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                let opened = app.post_as(&manager.token, &path, None, Some(body.clone())).await;
                if opened.status() == 201 {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "never breached: {}", opened.text().await.unwrap());
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
        let browser = Browser::login(&app, &admin.email).await;
        let (status, page) = browser.get("/staff/disputes?lang=fr").await;
        assert_eq!(status, 200);
        assert_eq!(page.matches(r#"data-state="open""#).count(), 2, "{page}");
        assert!(page.contains("Route barrée par la police") && page.contains("Nadafa"), "{page}");
        let csrf = input_value(&page, "csrf_token");
        let list = app.store.disputes(&balagh_store::DisputeScope::Operator(operator), None, 10).await.unwrap();
        let (first, second) = (list[0].id, list[1].id);
        let (status, location, _) = browser.post(&format!("/staff/disputes/{first}/accept?lang=fr"), &[("csrf_token", &csrf), ("note", "Confirmé")]).await;
        assert_eq!((status, location.as_str()), (303, "/staff/disputes?lang=fr"));
        let (status, _, _) = browser.post(&format!("/staff/disputes/{second}/reject?lang=fr"), &[("csrf_token", &csrf)]).await;
        assert_eq!(status, 303);
        // Decided once only; the page says how.
        let (status, _, _) = browser.post(&format!("/staff/disputes/{first}/reject?lang=fr"), &[("csrf_token", &csrf)]).await;
        assert_eq!(status, 409);
        let (_, page) = browser.get("/staff/disputes?lang=ar").await;
        assert!(page.contains("مقبول") && page.contains("مرفوض") && !page.contains(r#"data-state="open""#), "{page}");
        app.stop().await;
    }

    async fn staff_publish_and_end_a_notice_over_a_district_or_a_drawn_area(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let browser = Browser::login(&app, &staff.email).await;
        let (status, page) = browser.get("/staff/notices?lang=ar").await;
        assert_eq!(status, 200);
        assert!(page.contains(r#"id="notice-map""#) && page.contains(r#"id="page-data""#));
        let csrf = input_value(&page, "csrf_token");
        let zone = app.store.contracts().await.unwrap()[0].zone_name.clone();
        let base = [
            ("csrf_token", csrf.as_str()), ("kind", "planned_interruption"), ("hours", "8"),
            ("service_light_out", "on"), ("title_fr", "Coupure prévue"), ("body_fr", "Travaux sur le réseau"),
        ];
        // Neither a drawn area nor a district: refused, nothing published.
        let mut fields = base.to_vec();
        fields.push(("area", ""));
        let (status, _, refused) = browser.post("/staff/notices?lang=fr", &fields).await;
        assert_eq!(status, 422);
        assert!(refused.contains(r#"id="error""#));
        let mut fields = base.to_vec();
        fields.push(("district", zone.as_str()));
        let (status, location, body) = browser.post("/staff/notices?lang=fr", &fields).await;
        assert_eq!(status, 303, "{body}");
        assert_eq!(location, "/staff/notices?lang=fr&done=published");
        let drawn = r#"{"type":"Polygon","coordinates":[[[-5.37,35.57],[-5.36,35.57],[-5.36,35.58],[-5.37,35.57]]]}"#;
        let mut fields = base.to_vec();
        fields.push(("area", drawn));
        fields[4] = ("title_fr", "Zone dessinée");
        let (status, _, body) = browser.post("/staff/notices?lang=fr", &fields).await;
        assert_eq!(status, 303, "{body}");
        let current = app.store.current_notices("tetouan", balagh_store::Ts::now(), 10).await.unwrap();
        assert_eq!(current.len(), 2);
        let drawn_notice = current.iter().find(|n| n.texts["fr"]["title"] == "Zone dessinée").expect("the drawn notice");
        assert!(drawn_notice.area.to_string().contains("-5.37"), "the drawn corners: {}", drawn_notice.area);
        assert_eq!(drawn_notice.service_codes, vec!["light_out".to_owned()]);
        let (_, page) = browser.get("/staff/notices?lang=fr").await;
        assert!(page.contains("Zone dessinée") && page.contains("Coupure prévue"));
        let (status, _, _) = browser.post(&format!("/staff/notices/{}/end?lang=fr", drawn_notice.id), &[("csrf_token", &csrf)]).await;
        assert_eq!(status, 303);
        let current = app.store.current_notices("tetouan", balagh_store::Ts::now(), 10).await.unwrap();
        assert_eq!(current.len(), 1);
        app.stop().await;
    }
}

/// A staff member's day in headless Chromium (`tests/browser/staff-day.mjs`), French on a
/// desktop window and Arabic on a tablet: triage, route, merge, moderate, counter intake and
/// receipt, a notice drawn on the map; axe-core on every page. One database is enough here
/// (the same actions are checked on both above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_day_in_a_real_browser() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser = repo.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "run tests/browser/setup.sh first (tests/run does)"
    );
    // The report page's map loads its tiles from a local stand-in.
    let (tiles, served) = crate::operator_pages::tile_stand_in().await;
    let app = TestApp::spawn_with(
        Db::Sqlite,
        balagh_api::ApiSettings {
            map_tile_url: tiles,
            ..balagh_api::ApiSettings::default()
        },
    )
    .await;
    // An administrator: the day ends on the administration pages (keys, accounts).
    let staff = app.user(Role::StaffAdmin, None).await;
    let nour = app
        .user(Role::OperatorAgent, Some("nour-eclairage-demo"))
        .await;
    let contract = app.store.contracts().await.unwrap()[0].id.0.to_string();
    // An SMS gateway: the counter's receipt also goes to the resident's phone.
    let gateway = json!({"kind": "smssync", "name": "SMSSync", "secret": "sixteen chars secret"});
    let connected = app
        .post_as(
            &staff.token,
            "/api/v1/staff/sms-gateways",
            None,
            Some(gateway),
        )
        .await;
    assert_eq!(connected.status(), 201);
    let mut day = serde_json::Map::new();
    for (lang, offset) in [("fr", 0.0), ("ar", -0.01)] {
        let at = |d: f64| (NORTH_CENTRE.0 + offset + d, NORTH_CENTRE.1);
        let (resident, original) = app.reported("light_out", at(0.0)).await;
        upload_photo(&app, &resident, original["id"].as_str().unwrap()).await;
        let (_, duplicate) = app.reported("light_out", at(0.0004)).await;
        let (_, to_route) = app.reported("light_out", at(0.0008)).await;
        let id = to_route["id"].as_str().unwrap();
        let back = app
            .post_as(
                &nour.token,
                &format!("/api/v1/operator/tickets/{id}/actions/reject_not_ours"),
                Some("\"1\""),
                Some(json!({"reason": "not a public lamp"})),
            )
            .await;
        assert_eq!(back.status(), 200);
        day.insert(
            lang.to_owned(),
            json!({
                "route": id,
                "duplicate": duplicate["id"],
                "original": original["id"],
                "original_ref": original["reference"],
                "contract": contract,
            }),
        );
    }
    let shots = repo.join("artifacts/screenshots/staff");
    std::fs::create_dir_all(&shots).unwrap();
    let (script, address, email, dir) = (
        browser.join("staff-day.mjs"),
        app.address.clone(),
        staff.email.clone(),
        shots.clone(),
    );
    let day = Value::Object(day).to_string();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([address.as_str(), email.as_str(), PASSWORD])
            .arg(dir)
            .env("STAFF_DAY", day)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser run failed:\n{out}\n{err}");
    for lang in ["fr", "ar"] {
        for page in [
            "triage",
            "report",
            "report-moderated",
            "intake-form",
            "receipt",
            "notices-published",
            "statement",
            "sla",
            "keys-issued",
            "users",
            "webhooks",
        ] {
            let shot = format!("{page}-{lang}.png");
            let size = std::fs::metadata(shots.join(&shot))
                .map(|m| m.len())
                .unwrap_or(0);
            assert!(size > 5_000, "{shot}: {size} bytes");
        }
    }
    // What the browser did is in the database.
    let current = app
        .store
        .current_notices("tetouan", balagh_store::Ts::now(), 10)
        .await
        .unwrap();
    assert_eq!(current.len(), 2, "one notice per language");
    assert!(
        served.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the report map drew tiles from the stand-in"
    );
    let keys = app.store.open311_keys(None).await.unwrap();
    assert_eq!(keys.len(), 2, "one key issued per language");
    app.stop().await;
}
