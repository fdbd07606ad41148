//! The SMS channel's follow-up on both databases, through SMSSync (the gateway that polls
//! for what to send): a retry after a failed save is acted on once, status SMS of reports
//! made by SMS (and merged as duplicates) wait for the phone's poll, a gateway's hourly
//! limit, two messages of one number at once, and the counter's receipt by SMS.

use crate::both_databases;
use crate::harness::*;
use crate::staff_pages::{Browser, input_value};
use balagh_domain::account::Role;
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "sixteen chars secret";

/// An SMSSync phone: posts what residents write, polls for what to send.
struct Phone<'a> {
    app: &'a TestApp,
    path: String,
    /// Everything handed out by the polls so far: (to, text).
    got: Vec<(String, String)>,
}

impl<'a> Phone<'a> {
    async fn connect(app: &'a TestApp, extra: Value) -> (Phone<'a>, uuid::Uuid) {
        let admin = app.user(Role::StaffAdmin, None).await;
        let mut body = json!({ "kind": "smssync", "name": "SMSSync", "secret": SECRET });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let response = app
            .post_as(&admin.token, "/api/v1/staff/sms-gateways", None, Some(body))
            .await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        let id = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
        let path = created["inbound_path"].as_str().unwrap().to_owned();
        (
            Phone {
                app,
                path,
                got: Vec::new(),
            },
            id,
        )
    }

    /// Posts one SMS as SMSSync forwards it; returns the HTTP status.
    async fn forward(&self, from: &str, text: &str, id: &str) -> u16 {
        let form = balagh_api::sms::form(&[
            ("from", from),
            ("message", text),
            ("message_id", id),
            ("sent_to", "+212539000000"),
            ("secret", SECRET),
            ("sent_timestamp", "1765101600000"),
        ]);
        self.app
            .client
            .post(self.app.url(&self.path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Polls (bounded) until `count` SMS were handed out in all; returns them.
    async fn sent(&mut self, count: usize) -> Vec<(String, String)> {
        for _ in 0..400 {
            let poll: Value = self
                .app
                .client
                .get(self.app.url(&format!("{}?task=send", self.path)))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for m in poll["payload"]["messages"].as_array().unwrap() {
                let text = |k: &str| m[k].as_str().unwrap().to_owned();
                self.got.push((text("to"), text("message")));
            }
            if self.got.len() >= count {
                return self.got.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the phone never got {count} SMS: {:?}", self.got);
    }

    /// Writes `text` and waits for its answer (the next SMS handed out).
    async fn say(&mut self, from: &str, text: &str, id: &str) -> String {
        assert_eq!(self.forward(from, text, id).await, 200, "{text}");
        let next = self.got.len() + 1;
        let (to, answer) = self.sent(next).await[next - 1].clone();
        assert_eq!(to, from, "{answer}");
        answer
    }

    /// Leads a French conversation up to the description (a street light, Place Hassan II).
    async fn up_to_description(&mut self, from: &str, prefix: &str) {
        self.say(from, "Bonjour", &format!("{prefix}1")).await;
        assert!(
            self.say(from, "2", &format!("{prefix}2"))
                .await
                .starts_with("Où ?")
        );
        let asked = self
            .say(from, "Place Hassan II", &format!("{prefix}3"))
            .await;
        assert!(asked.contains("Place Hassan II"), "{asked}");
    }
}

fn reference_in(answer: &str) -> String {
    answer
        .split(|c: char| c.is_whitespace() || c == '.')
        .find(|w| w.starts_with("TET-"))
        .unwrap_or_else(|| panic!("no reference in {answer}"))
        .to_owned()
}

async fn report_by_reference(app: &TestApp, reference: &str) -> balagh_store::StoredReport {
    let id = app
        .store
        .report_id_by_reference(reference)
        .await
        .unwrap()
        .unwrap();
    app.store.report(id).await.unwrap().unwrap()
}

/// The operator serving the report applies `action` through the API.
async fn operator_does(app: &TestApp, report: &balagh_store::StoredReport, action: &str) {
    let operator = report.operator.expect("routed");
    let slug = app
        .state
        .catalog()
        .operator(operator)
        .unwrap()
        .operator
        .slug
        .as_str()
        .to_owned();
    let agent = app.user(Role::OperatorAgent, Some(&slug)).await;
    operator_act(
        app,
        &agent.token,
        &json!({ "id": report.id }),
        action,
        json!({}),
    )
    .await;
}

/// Runs SQL on the test's database (both backends), outside the application.
async fn sql(app: &TestApp, statements: &str) {
    let url = app.database_url();
    let statements = sqlx::AssertSqlSafe(statements.to_owned());
    if url.starts_with("sqlite:") {
        let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(statements).execute(&mut c).await.unwrap();
    } else {
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(statements).execute(&mut c).await.unwrap();
    }
}

async fn count(app: &TestApp, query: &str) -> i64 {
    let url = app.database_url();
    let query = sqlx::AssertSqlSafe(query.to_owned());
    if url.starts_with("sqlite:") {
        let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query_scalar(query).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query_scalar(query).fetch_one(&mut c).await.unwrap()
    }
}

both_databases! {
    async fn a_retry_after_a_failed_save_is_acted_on_once_and_status_sms_wait_for_the_poll(db: Db) {
        let app = TestApp::spawn(db).await;
        let (mut phone, _) = Phone::connect(&app, json!({})).await;
        let resident = "+212600000021";
        phone.up_to_description(resident, "r").await;

        // The conversation's save fails once the report is made (the conversation would move
        // on): the gateway is told to try again.
        let fail = if app.database_url().starts_with("sqlite:") {
            "CREATE TRIGGER fail_save BEFORE UPDATE ON sms_conversations \
             WHEN NEW.phone = '+212600000021' AND NEW.state <> OLD.state \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        } else {
            "CREATE FUNCTION fail_save() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
             CREATE TRIGGER fail_save BEFORE UPDATE ON sms_conversations FOR EACH ROW \
             WHEN (NEW.phone = '+212600000021' AND NEW.state IS DISTINCT FROM OLD.state) \
             EXECUTE FUNCTION fail_save();"
        };
        sql(&app, fail).await;
        let reports = app.report_count().await;
        let description = "Le lampadaire est éteint depuis hier soir";
        assert_eq!(phone.forward(resident, description, "r4").await, 500);
        assert_eq!(app.report_count().await, reports + 1, "the report was made before the save");
        sql(&app, if app.database_url().starts_with("sqlite:") {
            "DROP TRIGGER fail_save;"
        } else {
            "DROP TRIGGER fail_save ON sms_conversations;"
        }).await;

        // SMSSync's retry is acted on (not dropped as a repeat), and finds the same report.
        let created = phone.say(resident, description, "r4").await;
        assert!(created.starts_with("Merci. Signalement TET-"), "{created}");
        assert_eq!(app.report_count().await, reports + 1, "one report, not two");
        let reference = reference_in(&created);
        let report = report_by_reference(&app, &reference).await;
        assert_eq!(report.description, description);
        // Once handled, a repeat is dropped.
        assert_eq!(phone.forward(resident, description, "r4").await, 200);

        // A public status change reaches the resident on the phone's next task=send poll.
        operator_does(&app, &report, "acknowledge").await;
        let got = phone.sent(5).await;
        assert_eq!(got.len(), 5, "nothing for the repeat: {got:?}");
        assert_eq!(got[4], (resident.to_owned(), format!("Votre signalement {reference} : pris en charge.")));
        app.stop().await;
    }

    async fn a_gateway_over_its_hourly_limit_logs_messages_without_acting_on_them(db: Db) {
        let app = TestApp::spawn(db).await;
        let (mut phone, gateway) = Phone::connect(&app, json!({ "per_gateway_per_hour": 3 })).await;
        let numbers: Vec<String> = (0..5).map(|i| format!("+21260000004{i}")).collect();
        for (i, number) in numbers.iter().enumerate() {
            // Every message is taken (200): the phone must not retry what is over the limit.
            assert_eq!(phone.forward(number, "AIDE", &format!("l{i}")).await, 200);
        }
        // A retry of a message over the limit stays unanswered.
        assert_eq!(phone.forward(&numbers[4], "AIDE", "l4").await, 200);
        // Answers are queued with the request: three, for the first three numbers.
        let queued = count(&app, "SELECT COUNT(*) FROM outbox WHERE topic = 'sms'").await;
        assert_eq!(queued, 3);
        let got = phone.sent(3).await;
        // The SMS worker sends queued answers in any order.
        let mut answered: Vec<&str> = got.iter().map(|(to, _)| to.as_str()).collect();
        answered.sort_unstable();
        assert_eq!(answered, numbers[..3].iter().map(String::as_str).collect::<Vec<_>>());
        assert!(got.iter().all(|(_, text)| text.starts_with("Balagh : écrivez le problème")));
        // All five are logged (and counted), handled, none lost without a trace.
        let logged = count(&app, "SELECT COUNT(*) FROM sms_messages WHERE handled_at IS NOT NULL").await;
        assert_eq!(logged, 5);
        for (i, number) in numbers.iter().enumerate() {
            let conversation = app.store.sms_conversation(gateway, number).await.unwrap();
            assert_eq!(conversation.is_some(), i < 3, "{number}");
        }
        // The limit is the gateway's own: another gateway still answers.
        let (mut other, _) = Phone::connect(&app, json!({})).await;
        assert!(other.say(&numbers[4], "AIDE", "l5").await.starts_with("Balagh"));
        app.stop().await;
    }

    async fn messages_of_one_number_at_once_are_handled_one_after_the_other(db: Db) {
        let app = TestApp::spawn(db).await;
        let (mut phone, gateway) = Phone::connect(&app, json!({})).await;
        let resident = "+212600000051";
        phone.up_to_description(resident, "c").await;
        let reports = app.report_count().await;
        // All arrive while the conversation waits for a description: the first handled
        // makes the report, the others find the conversation moved on.
        let (a, b, c) = tokio::join!(
            phone.forward(resident, "Le lampadaire est éteint", "c4"),
            phone.forward(resident, "Le poteau penche dangereusement", "c5"),
            phone.forward(resident, "La lampe clignote toute la nuit", "c6"),
        );
        assert_eq!((a, b, c), (200, 200, 200));
        assert_eq!(app.report_count().await, reports + 1, "one report, not one per message");
        let got = phone.sent(6).await;
        let thanks = got[3..].iter().filter(|(_, t)| t.starts_with("Merci. Signalement")).count();
        assert_eq!(thanks, 1, "{got:?}");
        let stored = app.store.sms_conversation(gateway, resident).await.unwrap().unwrap();
        assert_eq!(stored.state["reports"].as_array().unwrap().len(), 1, "{:?}", stored.state);
        app.stop().await;
    }

    async fn a_report_made_by_sms_and_merged_into_another_tells_its_resident_by_sms(db: Db) {
        let app = TestApp::spawn(db).await;
        let (mut phone, _) = Phone::connect(&app, json!({})).await;
        let resident = "+212600000061";
        phone.up_to_description(resident, "m").await;
        let created = phone.say(resident, "Lampadaire éteint", "m4").await;
        let reference = reference_in(&created);
        let report = report_by_reference(&app, &reference).await;
        let (_, original) = app.reported("light_out", NORTH_CENTRE).await;

        let staff = app.user(Role::StaffAgent, None).await;
        let path = format!("/api/v1/staff/reports/{}", report.id);
        let current = app.get(&staff.token, &path).await;
        let etag = current.headers()["etag"].to_str().unwrap().to_owned();
        let merged = app.post_as(&staff.token, &format!("{path}/actions/mark_duplicate"), Some(&etag), Some(json!({"duplicate_of": original["id"]}))).await;
        assert_eq!(merged.status(), 200, "{:?}", merged.text().await);
        let got = phone.sent(5).await;
        assert_eq!(got[4], (resident.to_owned(), format!("Votre signalement {reference} : fusionné avec un signalement existant.")));
        app.stop().await;
    }

    async fn a_counter_report_with_a_phone_number_gets_its_receipt_and_status_by_sms(db: Db) {
        let app = TestApp::spawn(db).await;
        let (mut phone, _) = Phone::connect(&app, json!({})).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let browser = Browser::login(&app, &staff.email).await;
        let (_, form) = browser.get("/staff/intake?lang=fr&service=light_damaged_pole").await;
        let place = format!("{},{}", NORTH_CENTRE.0, NORTH_CENTRE.1);
        let (csrf, key) = (input_value(&form, "csrf_token"), input_value(&form, "key"));
        let fields = [
            ("csrf_token", csrf.as_str()), ("service", "light_damaged_pole"), ("key", key.as_str()),
            ("channel", "counter"), ("place", place.as_str()), ("lat", ""), ("lon", ""),
            ("description", "Poteau penché devant l'école"), ("attr_hazard", "exposed_wires"),
            ("contact_name", "Fatima Z."), ("contact_phone", "+212 600 000 031"),
        ];
        let (status, location, _) = browser.post("/staff/intake?lang=fr", &fields).await;
        assert_eq!(status, 303);
        let (_, receipt) = browser.get(&location).await;
        let said = receipt.split(r#"<p id="receipt-sms">"#).nth(1).expect("the receipt says an SMS was sent");
        assert!(said.starts_with("La référence et chaque étape du suivi sont envoyées par SMS") && said.contains(r#"<bdi dir="ltr">+212600000031</bdi>"#), "{said}");
        let id = location.trim_start_matches("/staff/reports/").split('/').next().unwrap();
        let report = app.store.report(uuid::Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
        let reference = report.reference.as_str().to_owned();
        // The number as typed stays for the callback.
        assert_eq!(report.contact.as_ref().unwrap()["phone"], "+212 600 000 031");

        let resident = "+212600000031";
        let got = phone.sent(1).await;
        assert_eq!(got[0].0, resident);
        assert!(got[0].1.starts_with(&format!("Merci. Signalement {reference} enregistré.")), "{}", got[0].1);
        operator_does(&app, &report, "acknowledge").await;
        let got = phone.sent(2).await;
        assert_eq!(got[1], (resident.to_owned(), format!("Votre signalement {reference} : pris en charge.")));

        // STOP from that number ends the status SMS, as for a report made by SMS.
        assert!(phone.say(resident, "STOP", "s1").await.starts_with("Vous ne recevrez plus"));
        operator_does(&app, &report, "start").await;
        // Queued after the change, answered after it was settled: nothing came in between.
        assert!(phone.say("+212600000032", "AIDE", "s2").await.starts_with("Balagh"));
        assert_eq!(phone.got.len(), 4, "{:?}", phone.got);

        app.stop().await;
    }
}
