//! Pushes to residents: registration, followers told of status changes in their language,
//! service notices to the devices whose areas they reach, quiet hours, tokens declared gone,
//! retries and dead letters, and replicas that never send a push twice. The push services
//! are the local FCM and Web Push stand-ins of `balagh-push`, speaking the real protocols.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use balagh_push::stand_in::{FcmStandIn, WebPushStandIn};
use balagh_push::{PushSettings, WebPushConfig};
use balagh_store::OutboxState;
use serde_json::{Value, json};
use std::time::Duration;

/// A VAPID key for the tests (any scalar below the P-256 order will do).
const TEST_VAPID_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";

fn push_settings(fcm: &FcmStandIn) -> PushSettings {
    PushSettings {
        fcm: Some(fcm.test_config()),
        web_push: Some(
            WebPushConfig::from_base64url(TEST_VAPID_KEY, "mailto:tests@balagh.invalid").unwrap(),
        ),
        timeout: Duration::from_secs(5),
        ..PushSettings::default()
    }
}

async fn register(app: &TestApp, device: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/devices/me/push"))
        .bearer_auth(device)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A device registered for FCM with `token`, in `language`, with optional areas.
async fn fcm_device(app: &TestApp, token: &str, language: &str, areas: Value) -> String {
    let device = app.device().await;
    let response = register(
        app,
        &device,
        json!({"channel": "fcm", "token": token, "language": language, "areas": areas}),
    )
    .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    device
}

/// Polls until `check` holds (at most 20 s).
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Acknowledges a ticket as the operator's agent.
async fn acknowledge(app: &TestApp, agent: &TestUser, id: &str) {
    let ticket: Value = app
        .get(&agent.token, &format!("/api/v1/operator/tickets/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let etag = format!("\"{}\"", ticket["version"]);
    let response = app
        .post_as(
            &agent.token,
            &format!("/api/v1/operator/tickets/{id}/actions/acknowledge"),
            Some(&etag),
            None,
        )
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

/// A circle notice of waste collection around `centre`.
fn notice(centre: (f64, f64), radius_m: f64) -> Value {
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    json!({
        "kind": "collection_delay",
        "service_codes": ["waste_missed_collection"],
        "area": {"type": "Point", "coordinates": [centre.1, centre.0]},
        "radius_m": radius_m,
        "valid_until": until.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "texts": {
            "fr": {"title": "Collecte retardée", "body": "La collecte de demain passera l'après-midi."},
            "ar": {"title": "تأخير جمع النفايات", "body": "سيتم الجمع غدا بعد الظهر."}
        }
    })
}

both_databases! {
    async fn devices_register_for_pushes_and_bad_input_says_what_is_wrong(db: Db) {
        let app = TestApp::spawn(db).await;
        let device = app.device().await;
        let path = "/api/v1/devices/me/push";
        assert_eq!(app.get(&device, path).await.status(), 404);
        let body = json!({
            "channel": "fcm", "token": "fcm-token-1", "language": "ar",
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "areas": [{"lat": 35.5785, "lon": -5.3684, "radius_m": 800.0}]
        });
        let response = register(&app, &device, body).await;
        assert_eq!(response.status(), 200);
        let view: Value = response.json().await.unwrap();
        assert_eq!(view["channel"], "fcm");
        assert_eq!(view["language"], "ar");
        assert_eq!(view["time_zone"], "Africa/Casablanca");
        assert_eq!(view["quiet_hours"], json!({"start": "22:00", "end": "07:00"}));
        assert_eq!(view["active"], true);
        assert!(view.get("token").is_none(), "the token is never shown back");
        let fetched: Value = app.get(&device, path).await.json().await.unwrap();
        assert_eq!(fetched, view);

        // Every mistake at once, each under its own field; nothing stored.
        let bad = json!({
            "channel": "web_push", "language": "de", "time_zone": "Mars/Olympus",
            "subscription": {"endpoint": "http://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
            "quiet_hours": {"start": "22:00", "end": "22:00"},
            "areas": [{"lat": 35.5, "lon": -5.3, "radius_m": 10.0}]
        });
        let refused = problem(register(&app, &device, bad).await, 422).await;
        let mut got = fields(&refused);
        got.sort();
        assert_eq!(got, ["areas[0].radius_m", "language", "quiet_hours", "subscription.endpoint", "time_zone"]);
        let fetched: Value = app.get(&device, path).await.json().await.unwrap();
        assert_eq!(fetched["language"], "ar");
        let four = json!({"channel": "fcm", "token": "t", "language": "fr", "areas": [
            {"lat": 35.5, "lon": -5.3, "radius_m": 100.0}, {"lat": 35.5, "lon": -5.3, "radius_m": 100.0},
            {"lat": 35.5, "lon": -5.3, "radius_m": 100.0}, {"lat": 35.5, "lon": -5.3, "radius_m": 100.0}]});
        assert_eq!(fields(&problem(register(&app, &device, four).await, 422).await), ["areas"]);
        let keys = json!({"channel": "web_push", "language": "fr", "subscription": {
            "endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}});
        assert_eq!(fields(&problem(register(&app, &device, keys).await, 422).await), ["subscription.keys.p256dh"]);
        let missing = json!({"channel": "fcm", "language": "fr"});
        assert_eq!(fields(&problem(register(&app, &device, missing).await, 422).await), ["token"]);

        // Only devices: no token is 401, a staff token 403.
        let staff = app.user(Role::StaffAdmin, None).await;
        assert_eq!(app.get("", path).await.status(), 401);
        assert_eq!(app.get(&staff.token, path).await.status(), 403);
        let web_key: Value = app.client.get(app.url("/api/v1/push/web-push-key")).send().await.unwrap().json().await.unwrap();
        assert_eq!(web_key["public_key"], Value::Null, "Web Push is off by default");

        let delete = app.client.delete(app.url(path)).bearer_auth(&device).send().await.unwrap();
        assert_eq!(delete.status(), 204);
        assert_eq!(app.get(&device, path).await.status(), 404);
    }

    async fn followers_hear_of_status_changes_in_their_language_once(db: Db) {
        let fcm = FcmStandIn::start_with_test_key().await;
        let app = TestApp::spawn_with_push(db, push_settings(&fcm)).await;
        let (reporter, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap().to_owned();
        let reference = report["reference"].as_str().unwrap().to_owned();
        let none = json!([]);
        for (device, token, language) in [(&reporter, "tok-reporter", "fr")] {
            let r = register(&app, device, json!({"channel": "fcm", "token": token, "language": language})).await;
            assert_eq!(r.status(), 200);
        }
        // A "me too" supporter (Arabic), a follower (English), one who followed and then
        // unfollowed, a bystander, and a follower whose app was uninstalled.
        let supporter = fcm_device(&app, "tok-supporter", "ar", none.clone()).await;
        assert_eq!(app.post_as(&supporter, &format!("/api/v1/reports/{id}/support"), None, None).await.status(), 200);
        let follower = fcm_device(&app, "tok-follower", "en", none.clone()).await;
        let quitter = fcm_device(&app, "tok-quitter", "fr", none.clone()).await;
        let _bystander = fcm_device(&app, "tok-bystander", "fr", none.clone()).await;
        let gone = fcm_device(&app, "unregistered-tok-gone", "fr", none.clone()).await;
        for device in [&follower, &quitter, &gone] {
            let r = app.client.put(app.url(&format!("/api/v1/reports/{id}/follow"))).bearer_auth(device).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<Value>().await.unwrap()["following"], true);
        }
        let r = app.client.delete(app.url(&format!("/api/v1/reports/{id}/follow"))).bearer_auth(&quitter).send().await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["following"], false);
        let missing = app.client.put(app.url(&format!("/api/v1/reports/{}/follow", uuid::Uuid::now_v7()))).bearer_auth(&follower).send().await.unwrap();
        assert_eq!(missing.status(), 404);

        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        acknowledge(&app, &agent, &id).await;
        eventually("3 pushes", async || fcm.message_count() >= 3).await;
        // The gone token was tried too, and its registration is now inactive.
        eventually("the gone token deactivated", async || {
            let view: Value = app.get(&gone, "/api/v1/devices/me/push").await.json().await.unwrap();
            view["active"] == false
        }).await;
        let messages = fcm.messages();
        let mut tokens: Vec<&str> = messages.iter().map(|m| m.token.as_str()).collect();
        tokens.sort();
        assert_eq!(tokens, ["tok-follower", "tok-reporter", "tok-supporter"]);
        for m in &messages {
            let body = m.message["notification"]["body"].as_str().unwrap();
            assert!(body.contains(&reference), "{body}");
            assert_eq!(m.message["data"]["report_id"], id.as_str());
            assert_eq!(m.message["data"]["status"], "acknowledged");
            let expected_start = match m.token.as_str() {
                "tok-reporter" => "Le signalement",
                "tok-supporter" => "البلاغ",
                _ => "Report",
            };
            assert!(body.starts_with(expected_start), "{}: {body}", m.token);
        }
        let gone_view: Value = app.get(&gone, "/api/v1/devices/me/push").await.json().await.unwrap();
        assert!(gone_view["deactivated_reason"].as_str().unwrap().contains("UNREGISTERED"), "{gone_view}");

        // Fanning the same event out again queues nothing: at most one push per device and event.
        let fanouts = app.store.push_messages("tetouan", OutboxState::Delivered, 50).await.unwrap();
        let fanout = fanouts.iter().find(|m| m.topic == "push_fanout").expect("the fan-out message");
        let again = balagh_app::notify::fan_out(&app.state, fanout).await.unwrap();
        assert_eq!((again.recipients, again.queued), (3, 0));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(fcm.message_count(), 3);
        assert_eq!(fcm.token_requests(), 1, "one access token for every push");
    }

    async fn notices_reach_the_devices_whose_areas_they_touch(db: Db) {
        let fcm = FcmStandIn::start_with_test_key().await;
        let browser = WebPushStandIn::start().await;
        let app = TestApp::spawn_with_push(db, push_settings(&fcm)).await;
        let key: Value = app.client.get(app.url("/api/v1/push/web-push-key")).send().await.unwrap().json().await.unwrap();
        let key = key["public_key"].as_str().unwrap().to_owned();
        // The notice: 400 m around WEST. Near: an area 300 m away with a 500 m radius.
        let near = json!([{"lat": WEST.0, "lon": WEST.1 + 0.0077, "radius_m": 500.0}]);
        let far = json!([{"lat": EAST.0, "lon": EAST.1, "radius_m": 500.0}]);
        let near_fcm = fcm_device(&app, "tok-near", "ar", near.clone()).await;
        let _far_fcm = fcm_device(&app, "tok-far", "fr", far).await;
        let _no_areas = fcm_device(&app, "tok-none", "fr", json!([])).await;
        let subscription = browser.subscribe_restricted(&key);
        let web = app.device().await;
        let r = register(&app, &web, json!({"channel": "web_push", "language": "fr", "areas": near,
            "subscription": {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}})).await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        // A device in its quiet hours (now ± 1 h in its zone) waits.
        let local = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Africa/Casablanca").unwrap());
        let hhmm = |z: jiff::Zoned| z.time().strftime("%H:%M").to_string();
        let quiet = app.device().await;
        let r = register(&app, &quiet, json!({"channel": "fcm", "token": "tok-quiet", "language": "fr", "areas": near,
            "quiet_hours": {"start": hhmm(local.checked_sub(jiff::SignedDuration::from_hours(1)).unwrap()),
                            "end": hhmm(local.checked_add(jiff::SignedDuration::from_hours(1)).unwrap())}})).await;
        assert_eq!(r.status(), 200);

        let staff = app.user(Role::StaffAgent, None).await;
        let published = app.post_as(&staff.token, "/api/v1/notices", None, Some(notice(WEST, 400.0))).await;
        assert_eq!(published.status(), 201, "{:?}", published.text().await);
        let published: Value = published.json().await.unwrap();
        assert_eq!(published["publisher"], "commune");
        let notice_id = published["id"].as_str().unwrap().to_owned();

        eventually("the FCM push", async || fcm.message_count() >= 1).await;
        eventually("the Web Push", async || !browser.received(&subscription.endpoint).is_empty()).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let messages = fcm.messages();
        assert_eq!(messages.len(), 1, "only the near device, not the far one nor the quiet one");
        assert_eq!(messages[0].token, "tok-near");
        assert_eq!(messages[0].message["notification"]["title"], "تأخير جمع النفايات");
        assert_eq!(messages[0].message["data"]["notice_id"], notice_id.as_str());
        let web_pushes = browser.received(&subscription.endpoint);
        assert_eq!(web_pushes.len(), 1);
        assert_eq!(web_pushes[0]["title"], "Collecte retardée", "decrypted by the stand-in: {}", web_pushes[0]);
        let pending = app.store.push_messages("tetouan", OutboxState::Pending, 50).await.unwrap();
        let waiting: Vec<&Value> = pending.iter().map(|m| &m.payload.0).filter(|p| p["body"].is_string()).collect();
        assert_eq!(waiting.len(), 1, "the quiet device's push waits: {pending:?}");
        let resume = pending[0].next_attempt_at.get() - time::OffsetDateTime::now_utc();
        assert!(resume > time::Duration::minutes(50) && resume <= time::Duration::minutes(61), "{resume}");
        let _ = near_fcm;

        // Anyone can list notices near a point, in their language; far away there are none.
        let near_list: Value = app.client.get(app.url(&format!("/api/v1/notices?lat={}&lon={}", WEST.0, WEST.1 + 0.005)))
            .header("Accept-Language", "ar").send().await.unwrap().json().await.unwrap();
        let notices = near_list["notices"].as_array().unwrap();
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0]["title"], "تأخير جمع النفايات");
        assert_eq!(notices[0]["language"], "ar");
        assert!(notices[0]["distance_m"].as_f64().unwrap() < 100.0);
        let far_list: Value = app.client.get(app.url(&format!("/api/v1/notices?lat={}&lon={}", EAST.0, EAST.1)))
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(far_list["notices"], json!([]));
        let bad = app.client.get(app.url("/api/v1/notices?lat=95&lon=0")).send().await.unwrap();
        problem(bad, 400).await;

        // Operators publish only for their own services; mistakes are listed; withdrawing ends it.
        let lighting = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let mut other = notice(WEST, 400.0);
        other["service_codes"] = json!(["light_out"]);
        problem(app.post_as(&lighting.token, "/api/v1/notices", None, Some(other)).await, 403).await;
        let mut wrong = notice(WEST, 400.0);
        wrong["kind"] = json!("strike");
        wrong["radius_m"] = json!(1.0);
        wrong["valid_until"] = json!("2020-01-01T00:00:00Z");
        wrong["texts"] = json!({"ar": {"title": "x", "body": "y"}});
        let p = problem(app.post_as(&staff.token, "/api/v1/notices", None, Some(wrong)).await, 422).await;
        let mut got = fields(&p);
        got.sort();
        assert_eq!(got, ["kind", "radius_m", "texts.fr", "valid_until"]);
        let resident = app.device().await;
        problem(app.post_as(&resident, "/api/v1/notices", None, Some(notice(WEST, 400.0))).await, 403).await;
        let own = app.post_as(&lighting.token, "/api/v1/notices", None, Some(notice(WEST, 400.0))).await;
        assert_eq!(own.status(), 201);
        let own: Value = own.json().await.unwrap();
        assert_eq!(own["publisher"], "operator");
        let withdraw = app.client.delete(app.url(&format!("/api/v1/notices/{notice_id}"))).bearer_auth(&lighting.token).send().await.unwrap();
        assert_eq!(withdraw.status(), 404, "an operator cannot withdraw the commune's notice");
        let withdraw = app.client.delete(app.url(&format!("/api/v1/notices/{notice_id}"))).bearer_auth(&staff.token).send().await.unwrap();
        assert_eq!(withdraw.status(), 204);
        let after: Value = app.client.get(app.url(&format!("/api/v1/notices?lat={}&lon={}", WEST.0, WEST.1)))
            .send().await.unwrap().json().await.unwrap();
        let ids: Vec<&str> = after["notices"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [own["id"].as_str().unwrap()]);
    }

    async fn operators_post_notices_only_within_their_contract_zones(db: Db) {
        let app = TestApp::spawn(db).await;
        let west = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let east = app.user(Role::OperatorManager, Some("bia-nord-demo")).await;
        let staff = app.user(Role::StaffAgent, None).await;
        // The west waste company announcing an interruption in the east company's zone.
        let refused = app.post_as(&west.token, "/api/v1/notices", None, Some(notice(EAST, 400.0))).await;
        let refused = problem(refused, 422).await;
        assert_eq!(fields(&refused), ["area"], "{refused}");
        // Straddling the border between the two zones is refused too; its own zone is fine.
        let border = (WEST.0, -5.37);
        problem(app.post_as(&west.token, "/api/v1/notices", None, Some(notice(border, 600.0))).await, 422).await;
        assert_eq!(app.post_as(&west.token, "/api/v1/notices", None, Some(notice(WEST, 400.0))).await.status(), 201);
        assert_eq!(app.post_as(&east.token, "/api/v1/notices", None, Some(notice(EAST, 400.0))).await.status(), 201);
        // Staff post anywhere in the commune, not beside it.
        assert_eq!(app.post_as(&staff.token, "/api/v1/notices", None, Some(notice(border, 600.0))).await.status(), 201);
        let elsewhere = problem(app.post_as(&staff.token, "/api/v1/notices", None, Some(notice(OUTSIDE, 600.0))).await, 422).await;
        assert_eq!(fields(&elsewhere), ["area"], "{elsewhere}");
        let listed: Value = app.client.get(app.url(&format!("/api/v1/notices?lat={}&lon={}&radius_m=20000", EAST.0, EAST.1)))
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(listed["notices"].as_array().unwrap().len(), 3, "nothing refused was published: {listed}");
        app.stop().await;
    }

    async fn refused_pushes_are_retried_then_dead_lettered_for_staff(db: Db) {
        let fcm = FcmStandIn::start_with_test_key().await;
        let mut workers = fast_workers();
        workers.push_retry = balagh_webhooks::RetryPolicy {
            first_interval: Duration::from_millis(100),
            multiplier: 2,
            max_interval: Duration::from_millis(300),
            jitter: 0.0,
            give_up_after: Duration::from_millis(1500),
        };
        let app = TestApp::spawn_configured(db, Default::default(), workers, None, push_settings(&fcm)).await;
        let (reporter, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap().to_owned();
        assert_eq!(register(&app, &reporter, json!({"channel": "fcm", "token": "tok-1", "language": "fr"})).await.status(), 200);
        // Two 503s with Retry-After, then accepted: delivered once, after retries.
        fcm.fail_next(2, 503, Some(Duration::from_secs(0)));
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        acknowledge(&app, &agent, &id).await;
        eventually("the push after two refusals", async || fcm.message_count() == 1).await;
        // The stand-in counts the push before the worker records its delivery: wait for both.
        let mut delivered = Vec::new();
        eventually("the push recorded as delivered", async || {
            delivered = app.store.push_messages("tetouan", OutboxState::Delivered, 50).await.unwrap();
            delivered.iter().any(|m| m.topic == "push")
        }).await;
        let push = delivered.iter().find(|m| m.topic == "push").unwrap();
        assert_eq!(push.attempts, 3);

        // Refused for longer than the retry policy allows: a dead letter staff can see and replay.
        fcm.fail_next(1000, 503, None);
        let ticket: Value = app.get(&agent.token, &format!("/api/v1/operator/tickets/{id}")).await.json().await.unwrap();
        let etag = format!("\"{}\"", ticket["version"]);
        let started = app.post_as(&agent.token, &format!("/api/v1/operator/tickets/{id}/actions/start"), Some(&etag), None).await;
        assert_eq!(started.status(), 200);
        let staff = app.user(Role::StaffAnalyst, None).await;
        let mut dead = Vec::new();
        eventually("a dead letter", async || {
            dead = app.get(&staff.token, "/api/v1/staff/push/deliveries").await.json::<Vec<Value>>().await.unwrap();
            !dead.is_empty()
        }).await;
        assert_eq!(dead[0]["state"], "dead");
        assert!(dead[0]["last_error"].as_str().unwrap().contains("503"), "{}", dead[0]);
        assert_eq!(dead[0]["payload"]["data"]["status"], "in_progress");
        assert!(dead[0]["payload"].get("token").is_none());
        let dead_id = dead[0]["id"].as_str().unwrap().to_owned();
        let replay_path = format!("/api/v1/staff/push/deliveries/{dead_id}/replay");
        problem(app.post_as(&staff.token, &replay_path, None, None).await, 403).await;
        fcm.fail_next(0, 503, None);
        let admin = app.user(Role::StaffAdmin, None).await;
        assert_eq!(app.post_as(&admin.token, &replay_path, None, None).await.status(), 202);
        eventually("the replayed push", async || fcm.message_count() == 2).await;
        assert_eq!(app.post_as(&admin.token, &replay_path, None, None).await.status(), 404);
    }

    async fn without_push_credentials_pushes_are_logged_not_lost(db: Db) {
        let app = TestApp::spawn(db).await;
        let (reporter, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap().to_owned();
        assert_eq!(register(&app, &reporter, json!({"channel": "fcm", "token": "tok-1", "language": "fr"})).await.status(), 200);
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        acknowledge(&app, &agent, &id).await;
        eventually("the logged push", async || {
            let done = app.store.push_messages("tetouan", OutboxState::Delivered, 50).await.unwrap();
            done.iter().any(|m| m.topic == "push" && m.payload.0["data"]["status"] == "acknowledged")
        }).await;
        assert!(app.store.push_messages("tetouan", OutboxState::Dead, 50).await.unwrap().is_empty());
    }
}

/// Three replicas on one PostgreSQL fan a notice out and send it: every device exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_never_send_a_push_twice() {
    let fcm = FcmStandIn::start_with_test_key().await;
    let app = TestApp::spawn_with_push(Db::Postgres, push_settings(&fcm)).await;
    let devices = 300;
    let mut expected = Vec::new();
    for i in 0..devices {
        let token = format!("tok-{i:04}");
        let area =
            json!([{"lat": WEST.0 + (i % 10) as f64 * 0.0005, "lon": WEST.1, "radius_m": 300.0}]);
        fcm_device(&app, &token, "fr", area).await;
        expected.push(token);
    }
    let replicas = [
        app.replica(push_settings(&fcm)).await,
        app.replica(push_settings(&fcm)).await,
    ];
    let staff = app.user(Role::StaffAgent, None).await;
    let published = app
        .post_as(
            &staff.token,
            "/api/v1/notices",
            None,
            Some(notice(WEST, 500.0)),
        )
        .await;
    assert_eq!(published.status(), 201);
    eventually("every device's push", async || {
        fcm.message_count() >= devices
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut tokens: Vec<String> = fcm.messages().into_iter().map(|m| m.token).collect();
    tokens.sort();
    assert_eq!(tokens, expected, "each device exactly once");
    for replica in replicas {
        replica.stop().await;
    }
}
