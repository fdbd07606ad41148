//! The SMS channel (issue 21) on both databases: each gateway's real payloads into the
//! server (capcom6's signed JSON webhook, RapidPro External's form, SMSSync's form and
//! poll), whole conversations in French and in Darija ending with a report, the answers and
//! status changes received by a local stand-in of each gateway's send API (which checks
//! its authentication), refusals, repeats, limits, STATUS and STOP.

use crate::both_databases;
use crate::harness::*;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use balagh_domain::account::Role;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const USER: &str = "sms-user";
const PASS: &str = "sms-pass";
const SECRET: &str = "a signing key of the commune's phone";

/// What a gateway stand-in was asked to send: (to, text).
type Sent = Arc<Mutex<Vec<(String, String)>>>;

/// A local stand-in of a gateway's send API: capcom6's JSON at `/3rdparty/v1/messages` and
/// RapidPro External's form at `/send`, both behind basic authentication.
async fn gateway_stand_in() -> (String, Sent) {
    let sent: Sent = Arc::default();
    let authorised = |headers: &HeaderMap| {
        let expected = format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{USER}:{PASS}")
            )
        );
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
    };
    let (json_sent, form_sent) = (sent.clone(), sent.clone());
    let app = Router::new()
        .route(
            "/3rdparty/v1/messages",
            post(move |headers: HeaderMap, body: Bytes| async move {
                if !authorised(&headers) {
                    return StatusCode::UNAUTHORIZED;
                }
                let body: Value = serde_json::from_slice(&body).unwrap();
                assert!(body["id"].is_string(), "{body}");
                let to = body["phoneNumbers"][0].as_str().unwrap().to_owned();
                let text = body["textMessage"]["text"].as_str().unwrap().to_owned();
                json_sent.lock().unwrap().push((to, text));
                StatusCode::ACCEPTED
            }),
        )
        .route(
            "/send",
            post(move |headers: HeaderMap, body: Bytes| async move {
                if !authorised(&headers) {
                    return StatusCode::UNAUTHORIZED;
                }
                let form: std::collections::HashMap<String, String> =
                    form_urlencoded::parse(&body).into_owned().collect();
                for field in ["id", "text", "to", "from", "channel"] {
                    assert!(form.contains_key(field), "{field} missing: {form:?}");
                }
                form_sent
                    .lock()
                    .unwrap()
                    .push((form["to"].clone(), form["text"].clone()));
                StatusCode::OK
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, sent)
}

/// Waits (bounded) until the stand-in has sent `count` SMS; returns them.
async fn sent_at_least(sent: &Sent, count: usize) -> Vec<(String, String)> {
    for _ in 0..400 {
        let now = sent.lock().unwrap().clone();
        if now.len() >= count {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the gateway stand-in never received {count} SMS: {:?}",
        sent.lock().unwrap()
    );
}

/// Connects a gateway as a staff administrator; returns the created view (secret included).
async fn connect(app: &TestApp, admin: &str, body: Value) -> Value {
    let response = app
        .post_as(admin, "/api/v1/staff/sms-gateways", None, Some(body))
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.unwrap()
}

fn sign(secret: &str, body: &str, timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    mac.update(timestamp.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// capcom6's `sms:received` webhook, as the app sends it.
fn capcom6_event(phone: &str, text: &str, received_at: &str) -> String {
    json!({
        "deviceId": "ffffffffceb0b1db00000193991c27e5",
        "event": "sms:received",
        "id": "Ey6ECgOkVVFjz3CL48B8C",
        "webhookId": "LreFUt-Z3sSq0JufY9uWB",
        "payload": {
            "messageId": "abc",
            "message": text,
            "phoneNumber": phone,
            "simNumber": 1,
            "receivedAt": received_at
        }
    })
    .to_string()
}

async fn post_capcom6(app: &TestApp, path: &str, body: &str, secret: &str, at: i64) -> u16 {
    let timestamp = at.to_string();
    app.client
        .post(app.url(path))
        .header("content-type", "application/json")
        .header("X-Timestamp", &timestamp)
        .header("X-Signature", sign(secret, body, &timestamp))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A conversation over capcom6: each message gets its answer before the next is sent.
struct Capcom6<'a> {
    app: &'a TestApp,
    path: String,
    sent: Sent,
    phone: &'static str,
    count: usize,
}

impl Capcom6<'_> {
    /// Sends `text` (received at minute `minute` on the phone) and returns the answer.
    async fn say(&mut self, text: &str, minute: u32) -> String {
        let body = capcom6_event(
            self.phone,
            text,
            &format!("2026-12-07T10:{minute:02}:00.000+01:00"),
        );
        assert_eq!(
            post_capcom6(self.app, &self.path, &body, SECRET, now()).await,
            200
        );
        self.count += 1;
        let all = sent_at_least(&self.sent, self.count).await;
        let (to, answer) = all[self.count - 1].clone();
        assert_eq!(to, self.phone);
        answer
    }
}

async fn report_by_reference(app: &TestApp, reference: &str) -> balagh_store::StoredReport {
    let id = app
        .store
        .report_id_by_reference(reference)
        .await
        .unwrap()
        .expect("the reference names a report");
    app.store.report(id).await.unwrap().unwrap()
}

fn reference_in(answer: &str) -> String {
    answer
        .split(|c: char| c.is_whitespace() || c == '.')
        .find(|w| w.starts_with("TET-"))
        .unwrap_or_else(|| panic!("no reference in {answer}"))
        .to_owned()
}

/// The operator serving the report acts on it through the API.
async fn operator_does(
    app: &TestApp,
    report: &balagh_store::StoredReport,
    action: &str,
    body: Value,
) {
    let operator = report.operator.expect("routed");
    let slug = app
        .store
        .operators()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.operator.id == operator)
        .unwrap()
        .operator
        .slug;
    let agent = app.user(Role::OperatorAgent, Some(slug.as_str())).await;
    let view = json!({ "id": report.id });
    operator_act(app, &agent.token, &view, action, body).await;
}

both_databases! {
    async fn a_french_conversation_over_capcom6_ends_with_a_report_and_its_status_sms(db: Db) {
        let app = TestApp::spawn(db).await;
        let (stand_in, sent) = gateway_stand_in().await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let gateway = connect(&app, &admin.token, json!({
            "kind": "android_sms_gateway",
            "name": "Téléphone de l'accueil",
            "secret": SECRET,
            "send_url": format!("{stand_in}/3rdparty/v1/messages"),
            "send_username": USER,
            "send_password": PASS,
            "public_number": "+212539000000"
        })).await;
        let path = gateway["inbound_path"].as_str().unwrap().to_owned();
        let mut c = Capcom6 { app: &app, path: path.clone(), sent: sent.clone(), phone: "+212600000001", count: 0 };

        let menu = c.say("Bonjour", 0).await;
        assert!(menu.contains("1 Déchets") && menu.contains("2 Éclairage"), "{menu}");
        assert!(!menu.contains('\u{2068}'), "no isolation marks in an SMS");
        assert!(c.say("2", 1).await.starts_with("Où ?"));
        // A retry of the same webhook (same sender, time and text) is dropped: the
        // conversation does not take "2" as a place.
        let retry = capcom6_event(c.phone, "2", "2026-12-07T10:01:00.000+01:00");
        assert_eq!(post_capcom6(&app, &path, &retry, SECRET, now()).await, 200);
        assert!(c.say("Plce Nowhere", 2).await.starts_with("Lieu introuvable"));
        let asked = c.say("Place Hassan II", 3).await;
        assert!(asked.contains("Place Hassan II"), "{asked}");
        let created = c.say("Le lampadaire est éteint depuis hier soir", 4).await;
        assert!(created.starts_with("Merci. Signalement TET-"), "{created}");
        let reference = reference_in(&created);
        // Every answer so far, and nothing for the retry.
        assert_eq!(sent.lock().unwrap().len(), 5);

        let report = report_by_reference(&app, &reference).await;
        assert_eq!(report.channel, balagh_domain::Channel::Sms);
        assert_eq!(report.service_code.as_str(), "light_out");
        assert_eq!(report.description, "Le lampadaire est éteint depuis hier soir");
        assert!((report.point.lat() - 35.57).abs() < 0.05, "near Place Hassan II");
        let contact = report.contact.clone().unwrap();
        assert_eq!(contact["phone"], "+212600000001");
        // The operator's API never shows the number.
        let operator = report.operator.expect("routed");
        let slug = app.store.operators().await.unwrap().into_iter()
            .find(|o| o.operator.id == operator).unwrap().operator.slug;
        let agent = app.user(Role::OperatorAgent, Some(slug.as_str())).await;
        let ticket = app.get(&agent.token, &format!("/api/v1/operator/tickets/{}", report.id)).await;
        assert_eq!(ticket.status(), 200);
        let ticket = ticket.text().await.unwrap();
        assert!(ticket.contains(&reference) && !ticket.contains("600000001"), "{ticket}");

        // The operator acknowledges: the resident gets an SMS through the same gateway.
        operator_does(&app, &report, "acknowledge", json!({})).await;
        let all = sent_at_least(&sent, 6).await;
        assert_eq!(all[5].0, "+212600000001");
        assert_eq!(all[5].1, format!("Votre signalement {reference} : pris en charge."));
        c.count = 6;
        let status = c.say(&format!("STATUT {}", reference.to_lowercase()), 5).await;
        assert_eq!(status, format!("Signalement {reference} : pris en charge."));
        assert!(c.say("AIDE", 6).await.starts_with("Balagh : écrivez le problème"));
        assert!(c.say("STOP", 7).await.starts_with("Vous ne recevrez plus"));

        // After STOP, starting and resolving send nothing. A second resident's message,
        // queued after those status changes, is answered after they were settled (the
        // worker takes the outbox in order): by then nothing more reached the first number.
        operator_does(&app, &report, "start", json!({})).await;
        operator_does(&app, &report, "resolve", json!({"note": "Lampe remplacée"})).await;
        let mut other = Capcom6 { app: &app, path: path.clone(), sent: sent.clone(), phone: "+212600000009", count: 9 };
        assert!(other.say("AIDE", 9).await.starts_with("Balagh"));
        assert_eq!(sent.lock().unwrap().len(), 10, "{:?}", sent.lock().unwrap());

        // Retention erases the number with the report's other contacts.
        let later = balagh_store::Ts::new(time::OffsetDateTime::now_utc() + time::Duration::days(1));
        app.store.erase_contacts(later, 1000).await.unwrap();
        assert!(app.store.erase_sms_contacts(later).await.unwrap() >= 1);
        assert!(report_by_reference(&app, &reference).await.contact.is_none());
        assert!(app.store.sms_conversation(uuid::Uuid::parse_str(gateway["id"].as_str().unwrap()).unwrap(), "+212600000001").await.unwrap().is_none());
        app.stop().await;
    }

    async fn a_darija_conversation_over_rapidpro_with_a_bus_stop(db: Db) {
        let app = TestApp::spawn(db).await;
        let (stand_in, sent) = gateway_stand_in().await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let gateway = connect(&app, &admin.token, json!({
            "kind": "rapidpro_external",
            "name": "TextIt",
            "send_url": format!("{stand_in}/send"),
            "send_username": USER,
            "send_password": PASS,
            "public_number": "+212539000000"
        })).await;
        let path = gateway["inbound_path"].as_str().unwrap().to_owned();
        assert!(path.ends_with("/receive"), "{path}");
        let phone = "+212600000002";
        let mut count = 0;
        let mut say = async |text: &str, id: &str| {
            let form = balagh_api::sms::form(&[("from", phone), ("text", text), ("date", "2026-12-07T10:00:00.000Z"), ("id", id)]);
            let response = app.client.post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form).send().await.unwrap();
            assert_eq!(response.status(), 200);
            count += 1;
            sent_at_least(&sent, count).await[count - 1].1.clone()
        };
        let place = say("salam, daw tfa", "m1").await;
        assert!(place.starts_with("Fin?"), "{place}");
        let describe = say("tobis 1 mahatta 2", "m2").await;
        assert!(describe.starts_with("Lblasa: 1 S02"), "{describe}");
        let created = say("had daw tafi men lbarh f lil", "m3").await;
        assert!(created.starts_with("Choukran. Lbalagh TET-"), "{created}");
        let reference = reference_in(&created);
        let report = report_by_reference(&app, &reference).await;
        assert_eq!(report.channel, balagh_domain::Channel::Sms);
        assert_eq!(report.service_code.as_str(), "light_out");
        assert_eq!(report.description, "had daw tafi men lbarh f lil");
        assert_eq!(report.contact.clone().unwrap()["sms_language"], "ary");

        // Arabic script: Darija keywords, answered from the Arabic catalogue.
        let form = balagh_api::sms::form(&[("from", "+212600000003"), ("text", "ضو طفا"), ("date", "x")]);
        let response = app.client.post(app.url(&path)).header("content-type", "application/x-www-form-urlencoded").body(form).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let all = sent_at_least(&sent, 4).await;
        assert_eq!(all[3].0, "+212600000003");
        assert!(all[3].1.starts_with("أين؟"), "{}", all[3].1);

        // The operator acknowledges: the status SMS goes out through RapidPro's send URL.
        operator_does(&app, &report, "acknowledge", json!({})).await;
        let all = sent_at_least(&sent, 5).await;
        assert_eq!(all[4].0, phone);
        assert!(all[4].1.contains(&reference), "{}", all[4].1);

        // A wrong token is a 404 (the path is the secret).
        let response = app.client.post(app.url("/sms/rapidpro_external/nope/receive")).body("from=%2B1&text=x").send().await.unwrap();
        assert_eq!(response.status(), 404);
        app.stop().await;
    }

    async fn smssync_refusals_repeats_limits_and_help(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let created = connect(&app, &admin.token, json!({
            "kind": "smssync", "name": "SMSSync", "secret": "sixteen chars secret", "per_number_per_hour": 3
        })).await;
        assert_eq!(created["secret"], "sixteen chars secret");
        let path = created["inbound_path"].as_str().unwrap().to_owned();
        let gateway_id = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
        let post_form = async |fields: &[(&str, &str)]| {
            app.client.post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(balagh_api::sms::form(fields)).send().await.unwrap()
        };
        let sms = |from: &'static str, text: &'static str, id: &'static str, secret: &'static str| {
            [("from", from), ("message", text), ("message_id", id), ("sent_to", "+212539000000"), ("secret", secret), ("sent_timestamp", "1765101600000")]
        };
        // A wrong secret: refused, nothing stored.
        let refused = post_form(&sms("+212600000004", "Bonjour", "u0", "wrong secret value")).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.json::<Value>().await.unwrap()["payload"]["success"], false);
        assert!(app.store.sms_conversation(gateway_id, "+212600000004").await.unwrap().is_none());

        let ok = post_form(&sms("+212600000004", "xqzw vbnm", "u1", "sixteen chars secret")).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.json::<Value>().await.unwrap(), json!({"payload": {"success": true, "error": null}}));
        // A repeat of u1 is dropped.
        assert_eq!(post_form(&sms("+212600000004", "xqzw vbnm", "u1", "sixteen chars secret")).await.status(), 200);
        let long: &'static str = Box::leak("Bonjour ".repeat(80).into_boxed_str());
        assert_eq!(post_form(&sms("+212600000004", long, "u2", "sixteen chars secret")).await.status(), 200);
        assert_eq!(post_form(&sms("+212600000004", "AIDE", "u3", "sixteen chars secret")).await.status(), 200);
        // Over the number's limit (3 an hour): logged, not answered.
        assert_eq!(post_form(&sms("+212600000004", "AIDE", "u4", "sixteen chars secret")).await.status(), 200);

        // The answers wait for the phone's poll, each handed out once.
        let mut messages: Vec<Value> = Vec::new();
        for _ in 0..400 {
            let poll: Value = app.client.get(app.url(&format!("{path}?task=send"))).send().await.unwrap().json().await.unwrap();
            assert_eq!(poll["payload"]["task"], "send");
            assert_eq!(poll["payload"]["secret"], "sixteen chars secret");
            messages.extend(poll["payload"]["messages"].as_array().unwrap().iter().cloned());
            if messages.len() >= 3 { break; }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let texts: Vec<&str> = messages.iter().map(|m| m["message"].as_str().unwrap()).collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(messages.iter().all(|m| m["to"] == "+212600000004" && m["uuid"].is_string()));
        assert!(texts.iter().any(|t| t.contains("écrivez en français") && t.contains("اكتبوا")), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("Message trop long (459")), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("Balagh : écrivez le problème")), "{texts:?}");
        app.stop().await;
    }

    async fn capcom6_refuses_bad_signatures_and_staff_manage_gateways(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let body = json!({
            "kind": "android_sms_gateway", "name": "Accueil", "secret": SECRET,
            "send_url": "http://127.0.0.1:9/3rdparty/v1/messages",
            "send_username": USER, "send_password": PASS
        });
        let response = app.post_as(&agent.token, "/api/v1/staff/sms-gateways", None, Some(body.clone())).await;
        assert_eq!(response.status(), 403);
        let invalid = app.post_as(&admin.token, "/api/v1/staff/sms-gateways", None, Some(json!({"kind": "fax", "name": ""}))).await;
        let invalid = problem(invalid, 422).await;
        assert!(fields(&invalid).contains(&"kind".to_owned()));
        let gateway = connect(&app, &admin.token, body).await;
        let path = gateway["inbound_path"].as_str().unwrap().to_owned();
        let id = gateway["id"].as_str().unwrap().to_owned();

        let listed = app.get(&admin.token, "/api/v1/staff/sms-gateways").await.text().await.unwrap();
        assert!(listed.contains(&id) && !listed.contains(SECRET) && !listed.contains(PASS), "{listed}");

        let event = capcom6_event("+212600000005", "Bonjour", "2026-12-07T10:00:00.000+01:00");
        assert_eq!(post_capcom6(&app, &path, &event, "not the key", now()).await, 401);
        assert_eq!(post_capcom6(&app, &path, &event, SECRET, now() - 3600).await, 401);
        let unsigned = app.client.post(app.url(&path)).body(event.clone()).send().await.unwrap();
        assert_eq!(unsigned.status(), 401);
        let gateway_id = uuid::Uuid::parse_str(&id).unwrap();
        assert!(app.store.sms_conversation(gateway_id, "+212600000005").await.unwrap().is_none());
        assert_eq!(post_capcom6(&app, &path, &event, SECRET, now()).await, 200);
        assert!(app.store.sms_conversation(gateway_id, "+212600000005").await.unwrap().is_some());

        let disabled = app.client.delete(app.url(&format!("/api/v1/staff/sms-gateways/{id}"))).bearer_auth(&admin.token).send().await.unwrap();
        assert_eq!(disabled.status(), 204);
        assert_eq!(post_capcom6(&app, &path, &event, SECRET, now()).await, 404);
        let again = app.client.delete(app.url(&format!("/api/v1/staff/sms-gateways/{id}"))).bearer_auth(&admin.token).send().await.unwrap();
        assert_eq!(again.status(), 404);
        app.stop().await;
    }
}
