//! The resident web app's follow-up (issue 20): a Web Push subscription as the app registers
//! it gets status changes through a local push service (the `balagh-push` stand-in, which
//! decrypts like a browser) and quiet hours hold them back; staff give services videos and
//! easy-to-read text that the public list and the app show; responses are gzipped.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use balagh_push::stand_in::WebPushStandIn;
use balagh_push::{PushSettings, WebPushConfig};
use balagh_store::OutboxState;
use serde_json::{Value, json};
use std::io::Read;
use std::time::Duration;

/// A VAPID key for the tests (any scalar below the P-256 order will do).
const TEST_VAPID_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";

pub fn web_push_settings() -> PushSettings {
    PushSettings {
        web_push: Some(
            WebPushConfig::from_base64url(TEST_VAPID_KEY, "mailto:tests@balagh.invalid").unwrap(),
        ),
        timeout: Duration::from_secs(5),
        ..PushSettings::default()
    }
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

/// Registers `device` for Web Push as the app does (`PushSubscription.toJSON()`).
async fn subscribe(
    app: &TestApp,
    device: &str,
    browser: &WebPushStandIn,
    quiet: Option<Value>,
) -> String {
    let key: Value = app
        .client
        .get(app.url("/api/v1/push/web-push-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let subscription = browser.subscribe_restricted(key["public_key"].as_str().unwrap());
    let mut body = json!({"channel": "web_push", "language": "ar", "time_zone": "Africa/Casablanca",
        "subscription": {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}});
    if let Some(quiet) = quiet {
        body["quiet_hours"] = quiet;
    }
    let r = app
        .client
        .put(app.url("/api/v1/devices/me/push"))
        .bearer_auth(device)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    subscription.endpoint
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}

both_databases! {
    async fn a_status_change_reaches_the_apps_web_push_subscription_unless_in_quiet_hours(db: Db) {
        let browser = WebPushStandIn::start().await;
        let app = TestApp::spawn_with_push(db, web_push_settings()).await;
        let (reporter, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let awake = subscribe(&app, &reporter, &browser, None).await;
        // A "me too" supporter asleep: quiet hours from an hour ago to an hour from now.
        let local = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Africa/Casablanca").unwrap());
        let hhmm = |z: jiff::Zoned| z.time().strftime("%H:%M").to_string();
        let quiet = json!({"start": hhmm(local.checked_sub(jiff::SignedDuration::from_hours(1)).unwrap()),
                           "end": hhmm(local.checked_add(jiff::SignedDuration::from_hours(1)).unwrap())});
        let supporter = app.device().await;
        assert_eq!(app.post_as(&supporter, &format!("/api/v1/reports/{id}/support"), None, None).await.status(), 200);
        let asleep = subscribe(&app, &supporter, &browser, Some(quiet)).await;

        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        operator_act(&app, &agent.token, &report, "acknowledge", json!({})).await;
        eventually("the Web Push", async || !browser.received(&awake).is_empty()).await;
        let pushes = browser.received(&awake);
        assert_eq!(pushes.len(), 1, "{pushes:?}");
        // What the service worker reads: title and body in the device's language, and the
        // report to open on a tap.
        let push = &pushes[0];
        assert_eq!(push["data"]["report_id"], id, "{push}");
        assert_eq!(push["data"]["status"], "acknowledged");
        assert!(push["body"].as_str().unwrap().contains(report["reference"].as_str().unwrap()), "{push}");
        assert!(push["title"].as_str().unwrap().chars().any(|c| ('\u{600}'..='\u{6ff}').contains(&c)), "Arabic: {push}");
        // The sleeping supporter's push waits in the outbox, due when the quiet hours end (the
        // awake one leaves the pending ones once its delivery is recorded).
        let pending_for_report = async || {
            let pending = app.store.push_messages("tetouan", OutboxState::Pending, 50).await.unwrap();
            pending.into_iter().filter(|m| m.payload.0["data"]["report_id"] == id).collect::<Vec<_>>()
        };
        eventually("one push left pending", async || pending_for_report().await.len() == 1).await;
        let waiting = pending_for_report().await;
        let resume = waiting[0].next_attempt_at.get() - time::OffsetDateTime::now_utc();
        assert!(resume > time::Duration::minutes(50) && resume <= time::Duration::minutes(61), "{resume}");
        assert!(browser.received(&asleep).is_empty());
        app.stop().await;
    }

    async fn staff_give_services_videos_and_easy_read_text_the_app_shows(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let path = "/api/v1/staff/services/waste_bin_overflow/media";
        let put = |token: &str, body: Value| app.client.put(app.url(path)).bearer_auth(token).json(&body).send();
        let body = json!({
            "videos": [
                {"language": "fr", "url": "https://videos.example.org/bac-fr.mp4", "title": "Signaler un bac plein"},
                {"language": "sgn-MA", "url": "https://signes.example.net/bac.webm"}
            ],
            "easy_read": {"fr": "Le bac déborde ? Dites-le ici.", "ar": "الحاوية ممتلئة؟ أخبرونا هنا."}
        });
        let stored = put(&admin.token, body.clone()).await.unwrap();
        assert_eq!(stored.status(), 200);
        let stored: Value = stored.json().await.unwrap();
        assert_eq!(stored["videos"][1]["language"], "xms", "sgn-MA is stored as xms");

        // Mistakes, all at once; nothing changes.
        let bad = json!({
            "videos": [{"language": "french!", "url": "http://videos.example.org/a.mp4"},
                       {"language": "ary", "url": "javascript:alert(1)"}],
            "easy_read": {"de": "Hallo", "en": "  "}
        });
        let mut got = fields(&problem(put(&admin.token, bad).await.unwrap(), 422).await);
        got.sort();
        assert_eq!(got, ["easy_read.de", "easy_read.en", "videos[0].language", "videos[0].url", "videos[1].url"]);
        let unknown = app.client.put(app.url("/api/v1/staff/services/no_such/media")).bearer_auth(&admin.token).json(&body).send().await.unwrap();
        assert_eq!(unknown.status(), 404);
        let agent = app.user(Role::StaffAgent, None).await;
        assert_eq!(put(&agent.token, body.clone()).await.unwrap().status(), 403);
        let resident = app.device().await;
        assert!(matches!(put(&resident, body.clone()).await.unwrap().status().as_u16(), 401 | 403));

        // The public list, in Arabic: the videos with their languages named, the Arabic text.
        let list: Value = app.client.get(app.url("/api/v1/services")).header("Accept-Language", "ar")
            .send().await.unwrap().json().await.unwrap();
        let service = list["services"].as_array().unwrap().iter().find(|s| s["code"] == "waste_bin_overflow").unwrap();
        assert_eq!(service["easy_read"], "الحاوية ممتلئة؟ أخبرونا هنا.");
        assert_eq!(service["videos"][1]["language_name"], "لغة الإشارة المغربية");
        assert_eq!(service["videos"][0]["title"], "Signaler un bac plein");
        let other = list["services"].as_array().unwrap().iter().find(|s| s["code"] == "light_out").unwrap();
        assert!(other.get("videos").is_none() && other.get("easy_read").is_none(), "{other}");
        // English has no text: no easy-read rather than another language's.
        let list: Value = app.client.get(app.url("/api/v1/services")).header("Accept-Language", "en")
            .send().await.unwrap().json().await.unwrap();
        let service = list["services"].as_array().unwrap().iter().find(|s| s["code"] == "waste_bin_overflow").unwrap();
        assert!(service.get("easy_read").is_none());
        assert_eq!(service["videos"][1]["language_name"], "Moroccan Sign Language");

        // The app's CSP lets <video> load from these two origins only.
        let page = app.client.get(app.url("/?lang=fr")).send().await.unwrap();
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("media-src https://signes.example.net https://videos.example.org;"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(html.contains("Le bac déborde ? Dites-le ici.") || html.contains("Le bac d&#233;borde"), "the script's config carries the text");

        // An empty body takes everything away; the CSP allows no media again.
        let cleared = put(&admin.token, json!({})).await.unwrap();
        assert_eq!(cleared.status(), 200);
        let page = app.client.get(app.url("/?lang=fr")).send().await.unwrap();
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("media-src 'none';"));
        app.stop().await;
    }

    async fn json_pages_and_assets_are_gzipped_for_clients_that_accept_it(db: Db) {
        let app = TestApp::spawn(db).await;
        let get = |path: &str, encoding: Option<&str>| {
            let mut request = app.client.get(app.url(path));
            if let Some(e) = encoding {
                request = request.header("Accept-Encoding", e);
            }
            request.send()
        };
        let plain = get("/api/v1/services", None).await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none());
        let plain_body = plain.text().await.unwrap();
        let packed = get("/api/v1/services", Some("br, gzip;q=0.8")).await.unwrap();
        assert_eq!(packed.headers()["content-encoding"], "gzip");
        assert!(packed.headers()["vary"].to_str().unwrap().contains("accept-encoding") ||
            packed.headers().get_all("vary").iter().any(|v| v == "accept-encoding"));
        let bytes = packed.bytes().await.unwrap();
        assert!(bytes.len() * 3 < plain_body.len(), "{} vs {}", bytes.len(), plain_body.len());
        assert_eq!(gunzip(&bytes), plain_body);
        // Refused explicitly: identity.
        let refused = get("/api/v1/services", Some("gzip;q=0")).await.unwrap();
        assert!(refused.headers().get("content-encoding").is_none());

        // The app's page and its (versioned, cached) script.
        let page = get("/?lang=ar", Some("gzip")).await.unwrap();
        assert_eq!(page.headers()["content-encoding"], "gzip");
        let html = gunzip(&page.bytes().await.unwrap());
        let script = html.split("src=\"").find_map(|s| s.strip_prefix("/assets/resident.js")).unwrap();
        let script = format!("/assets/resident.js{}", &script[..script.find('"').unwrap()]);
        let asset = get(&script, Some("gzip, deflate")).await.unwrap();
        assert_eq!(asset.headers()["content-encoding"], "gzip");
        assert!(asset.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        let js = gunzip(&asset.bytes().await.unwrap());
        assert!(js.contains("IndexedDB"));
        let identity = get(&script, None).await.unwrap();
        assert!(identity.headers().get("content-encoding").is_none());
        assert_eq!(identity.text().await.unwrap(), js);
        // Small answers and images stay as they are.
        let small = get("/api/v1/push/web-push-key", Some("gzip")).await.unwrap();
        assert!(small.headers().get("content-encoding").is_none());
        app.stop().await;
    }
}
