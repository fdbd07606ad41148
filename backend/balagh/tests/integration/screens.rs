//! Screens in the commune's reception areas (issue 21): registration, the secret URL,
//! revocation, and the content JSON (notices near the screen, urgent first; figures equal
//! to the published ones), on both databases; end to end in headless Chromium
//! (`tests/browser/screen.mjs`, screenshots kept in `artifacts/screenshots/screens/`).

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Synthetic history, rolled up and published (waits for the server's own run if it holds
/// the lease). A thousand reports over 80 days give each service some thirty reports in the
/// newest published month, so the screen's districts are all but certain to have some.
async fn publish_history(app: &TestApp) {
    balagh::generate::generate(&app.store, 1_000, 80)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let (run, _) = balagh_app::publish::job::run(&app.state, "screens-test", 2_000)
            .await
            .unwrap();
        if !run.skipped {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "roll-ups never ran"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Publishes a notice around `point` (800 m), as `token`; returns its id.
async fn notice(
    app: &TestApp,
    token: &str,
    point: (f64, f64),
    title: &str,
    urgent: bool,
) -> String {
    let body = json!({
        "kind": "planned_interruption",
        "service_codes": ["light_out"],
        "area": {"type": "Point", "coordinates": [point.1, point.0]},
        "radius_m": 800.0,
        "valid_until": rfc3339(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
        "urgent": urgent,
        "texts": {
            "fr": {"title": format!("{title} (fr)"), "body": "Travaux cette nuit."},
            "ar": {"title": format!("{title} (ar)"), "body": "أشغال هذه الليلة."},
            "en": {"title": format!("{title} (en)"), "body": "Works tonight."}
        }
    });
    let response = app
        .post_as(token, "/api/v1/notices", None, Some(body))
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["urgent"], urgent);
    view["id"].as_str().unwrap().to_owned()
}

/// Registers a screen at `point` as a staff administrator; returns (id, token, url).
async fn register(
    app: &TestApp,
    admin: &str,
    point: (f64, f64),
    orientation: &str,
) -> (String, String, String) {
    let body = json!({
        "name": "Accueil, hôtel de ville",
        "lat": point.0,
        "lon": point.1,
        "service_codes": ["light_out", "waste_bin_overflow"],
        "languages": ["fr", "ar", "en"],
        "orientation": orientation,
    });
    let response = app
        .post_as(admin, "/api/v1/staff/screens", None, Some(body))
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let created: Value = response.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("scr_") && token.len() > 40, "{token}");
    assert_eq!(created["url"], format!("/screens/{token}"));
    assert_eq!(created["orientation"], orientation);
    (
        created["id"].as_str().unwrap().to_owned(),
        token,
        created["url"].as_str().unwrap().to_owned(),
    )
}

async fn content(app: &TestApp, token: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/screens/{token}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

fn notice_ids(content: &Value) -> Vec<String> {
    content["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

both_databases! {
    async fn staff_administrators_register_change_and_revoke_screens(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let refused = app.post_as(&agent.token, "/api/v1/staff/screens", None, Some(json!({"name": "x", "lat": WEST.0, "lon": WEST.1}))).await;
        problem(refused, 403).await;
        let bad = app.post_as(&admin.token, "/api/v1/staff/screens", None, Some(json!({
            "name": " ", "lat": OUTSIDE.0, "lon": OUTSIDE.1, "service_codes": ["nope"],
            "languages": ["de"], "orientation": "upside-down"
        }))).await;
        let bad = problem(bad, 422).await;
        assert_eq!(fields(&bad), ["name", "lat", "service_codes", "languages", "orientation"]);

        // Documented with the other staff routes.
        let openapi: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        for path in ["/api/v1/staff/screens", "/api/v1/staff/screens/{id}", "/api/v1/screens/{token}/content", "/api/v1/notices/{id}/urgent"] {
            assert!(openapi["paths"][path].is_object(), "{path} not in the OpenAPI document");
        }
        assert!(openapi["components"]["schemas"]["NewNoticeRequest"]["properties"]["urgent"].is_object());

        let (id, token, url) = register(&app, &admin.token, WEST, "landscape").await;
        // The list never shows the token; defaults fill what the request left out.
        let list: Value = app.get(&admin.token, "/api/v1/staff/screens").await.json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert!(!list.to_string().contains(&token));
        assert_eq!(list[0]["languages"], json!(["fr", "ar", "en"]));
        let minimal = app.post_as(&admin.token, "/api/v1/staff/screens", None, Some(json!({"name": "Guichet", "lat": EAST.0, "lon": EAST.1}))).await;
        let minimal: Value = minimal.json().await.unwrap();
        assert_eq!(minimal["orientation"], "landscape");
        assert!(minimal["service_codes"].as_array().unwrap().len() > 10, "every service: {minimal}");

        // The secret URL: a page with strict CSP and its JSON; a wrong token is a 404.
        let page = app.client.get(app.url(&url)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"<html lang="fr" dir="ltr">"#), "{html}");
        assert!(html.contains(r#"class="screen landscape""#));
        assert!(html.contains(r#"<svg xmlns="http://www.w3.org/2000/svg" class="qr""#));
        assert!(html.contains("/assets/screen.js?v=") && html.contains("/assets/screen.css?v="));
        assert!(html.contains(r#"<script type="application/json" id="screen-data">"#));
        let wrong = format!("/screens/scr_{}", "A".repeat(43));
        assert_eq!(app.client.get(app.url(&wrong)).send().await.unwrap().status(), 404);
        assert_eq!(app.client.get(app.url(&format!("/api/v1{wrong}/content"))).send().await.unwrap().status(), 404);

        // Staff change it (the URL stays), then revoke it: 404 at once, and only once.
        let put = app.client.put(app.url(&format!("/api/v1/staff/screens/{id}"))).bearer_auth(&admin.token)
            .json(&json!({"name": "Accueil", "lat": WEST.0, "lon": WEST.1, "orientation": "portrait", "languages": ["ar", "fr"]}))
            .send().await.unwrap();
        assert_eq!(put.status(), 200);
        let changed: Value = content(&app, &token).await;
        assert_eq!(changed["screen"]["orientation"], "portrait");
        assert_eq!(changed["screen"]["languages"], json!(["ar", "fr"]));
        assert_eq!(changed["texts"]["ar"]["dir"], "rtl");
        assert!(changed["texts"]["en"].is_null());
        let delete = |path: String| app.client.delete(app.url(&path)).bearer_auth(&admin.token).send();
        assert_eq!(delete(format!("/api/v1/staff/screens/{id}")).await.unwrap().status(), 204);
        assert_eq!(app.client.get(app.url(&url)).send().await.unwrap().status(), 404);
        assert_eq!(app.client.get(app.url(&format!("/api/v1/screens/{token}/content"))).send().await.unwrap().status(), 404);
        assert_eq!(delete(format!("/api/v1/staff/screens/{id}")).await.unwrap().status(), 404);
        let list: Value = app.get(&admin.token, "/api/v1/staff/screens").await.json().await.unwrap();
        assert!(list[0]["revoked_at"].is_string(), "{list}");
        let put_revoked = app.client.put(app.url(&format!("/api/v1/staff/screens/{id}"))).bearer_auth(&admin.token)
            .json(&json!({"name": "Accueil", "lat": WEST.0, "lon": WEST.1})).send().await.unwrap();
        assert_eq!(put_revoked.status(), 404);
        app.stop().await;
    }

    async fn screen_content_has_near_notices_urgent_first_and_the_published_figures(db: Db) {
        let app = TestApp::spawn(db).await;
        publish_history(&app).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let (_, token, _) = register(&app, &admin.token, WEST, "landscape").await;
        let ordinary = notice(&app, &admin.token, WEST, "Coupure", false).await;
        let urgent = notice(&app, &admin.token, (WEST.0 + 0.004, WEST.1), "Danger", true).await;
        let far = notice(&app, &admin.token, EAST, "Ailleurs", true).await;
        // Operators do not take over the commune's screens.
        let operator = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let refused = app.post_as(&operator.token, "/api/v1/notices", None, Some(json!({
            "kind": "other", "service_codes": ["light_out"], "urgent": true,
            "area": {"type": "Point", "coordinates": [WEST.1, WEST.0]}, "radius_m": 100.0,
            "valid_until": rfc3339(time::OffsetDateTime::now_utc() + time::Duration::hours(2)),
            "texts": {"fr": {"title": "t", "body": "b"}}
        }))).await;
        assert!(fields(&problem(refused, 422).await).contains(&"urgent".to_owned()));

        let c = content(&app, &token).await;
        assert_eq!(notice_ids(&c), [urgent.clone(), ordinary.clone()], "urgent first, the far one absent: {c}");
        assert!(!notice_ids(&c).contains(&far));
        assert_eq!(c["urgent"], true);
        assert!(c["offset_seconds"].as_u64().unwrap() < c["poll_seconds"].as_u64().unwrap());
        assert_eq!(c["texts"]["fr"]["notices"][0]["title"], "Danger (fr)");
        assert_eq!(c["texts"]["ar"]["notices"][0]["title"], "Danger (ar)");
        assert_eq!(c["texts"]["ar"]["dir"], "rtl");
        let speech = c["texts"]["en"]["speech"].as_str().unwrap();
        assert!(speech.starts_with("Urgent notice. Danger (en). Works tonight"), "{speech}");
        assert!(!speech.contains('\u{2068}'));

        // The figures are the published ones: the newest month of the summary, for the
        // district (contract zone) serving the screen's place.
        let mut c = c;
        let mut summary: Value = app.client.get(app.url("/api/v1/stats/summary")).send().await.unwrap().json().await.unwrap();
        if summary["periods"][0]["period"] != c["figures"]["period"] {
            // The newest publishable month changed between the two reads (a day ended).
            c = content(&app, &token).await;
            summary = app.client.get(app.url("/api/v1/stats/summary")).send().await.unwrap().json().await.unwrap();
        }
        let month = summary["periods"].as_array().unwrap().last().expect("a published month").clone();
        assert_eq!(c["figures"]["period"], month["period"]);
        let figures = c["figures"]["services"].as_array().unwrap();
        assert_eq!(figures.len(), 2);
        let mut seen_counts = 0;
        for f in figures {
            let (code, district) = (f["service"].as_str().unwrap(), f["district"].as_str().unwrap());
            assert_ne!(district, "outside-zones", "{f}");
            for measure in ["new", "resolved"] {
                let row = month[measure]["rows"].as_array().unwrap().iter().find(|r| r["district"] == district).unwrap();
                assert_eq!(f[measure], row["services"][code], "{measure} of {code} in {district}");
                seen_counts += f[measure].as_u64().unwrap_or(0);
            }
            let published = month["services"].as_array().unwrap().iter().find(|s| s["service"] == code).unwrap();
            assert_eq!(f["within_sla"], published["within_sla"]);
            assert_eq!(f["median_minutes_to_resolve"], published["median_minutes_to_resolve"]);
        }
        assert!(seen_counts > 0, "the history gives the screen's district some reports: {c}");

        // Staff clear the urgency: the notice stays, no longer taking over; a withdrawn one
        // leaves; clearing twice is a 404.
        let delete = |path: String| app.client.delete(app.url(&path)).bearer_auth(&admin.token).send();
        assert_eq!(delete(format!("/api/v1/notices/{urgent}/urgent")).await.unwrap().status(), 204);
        assert_eq!(delete(format!("/api/v1/notices/{urgent}/urgent")).await.unwrap().status(), 404);
        let c = content(&app, &token).await;
        assert_eq!(c["urgent"], false);
        assert!(notice_ids(&c).contains(&urgent) && notice_ids(&c).contains(&ordinary));
        assert!(c["texts"]["fr"]["speech"].as_str().unwrap().contains("Comment signaler"));
        assert_eq!(delete(format!("/api/v1/notices/{ordinary}")).await.unwrap().status(), 204);
        assert_eq!(notice_ids(&content(&app, &token).await), [urgent]);
        app.stop().await;
    }
}

/// The screen end to end in headless Chromium at 1920 × 1080 and in portrait 1080 × 1920:
/// languages rotate, an urgent notice takes over and leaves, a network cut is shown as
/// stale after the (shortened) interval, axe-core finds nothing serious. One database is
/// enough here (the content is checked on both above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_works_in_a_real_browser() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser = repo.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "run tests/browser/setup.sh first (tests/run does)"
    );
    let screens = balagh_api::ScreensConfig {
        sms_number: Some("0612 345 678".into()),
        counter_hours: [
            ("fr", "Du lundi au vendredi, 8 h 30 – 16 h 30"),
            ("ar", "من الاثنين إلى الجمعة، 8:30 – 16:30"),
            ("en", "Monday to Friday, 8:30 am – 4:30 pm"),
        ]
        .into_iter()
        .map(|(l, h)| (l.to_owned(), h.to_owned()))
        .collect(),
        ..Default::default()
    };
    let api = balagh_api::ApiSettings {
        screens,
        ..Default::default()
    };
    let app = TestApp::spawn_with(Db::Sqlite, api).await;
    publish_history(&app).await;
    let admin = app.user(Role::StaffAdmin, None).await;
    notice(&app, &admin.token, WEST, "Coupure d'éclairage", false).await;
    let (_, _, landscape) = register(&app, &admin.token, WEST, "landscape").await;
    let (_, _, portrait) = register(&app, &admin.token, WEST, "portrait").await;
    let shots = repo.join("artifacts/screenshots/screens");
    std::fs::create_dir_all(&shots).unwrap();
    let (script, address, token, dir) = (
        browser.join("screen.mjs"),
        app.address.clone(),
        admin.token.clone(),
        shots.clone(),
    );
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([address.as_str(), landscape.as_str(), portrait.as_str()])
            .arg(dir)
            .env("BALAGH_STAFF_TOKEN", token)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser run failed:\n{out}\n{err}");
    for shot in [
        "landscape-fr-notices.png",
        "landscape-ar.png",
        "landscape-en.png",
        "landscape-services.png",
        "landscape-how.png",
        "landscape-urgent.png",
        "landscape-stale.png",
        "portrait-fr.png",
        "portrait-ar.png",
    ] {
        let size = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 5_000, "{shot}: {size} bytes");
    }
    app.stop().await;
}
