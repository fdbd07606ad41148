//! The resident web app (issue 20): the gazetteer and bus network behind its map-free path,
//! and the app itself (its first screen, manifest and service worker). The browser test
//! (`tests/browser/resident-app.mjs`) is driven from here.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::Slug;
use serde_json::Value;

/// Percent-encodes a query parameter's value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn places(app: &TestApp, query: &str) -> Vec<Value> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/places?q={}", encode(query))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query}");
    let body: Value = response.json().await.unwrap();
    body["places"].as_array().unwrap().clone()
}

fn names(list: &[Value]) -> Vec<&str> {
    list.iter().map(|p| p["name"].as_str().unwrap()).collect()
}

both_databases! {
    async fn places_are_found_by_any_word_prefix_whatever_the_accents(db: Db) {
        let app = TestApp::spawn(db).await;
        // Accents and case do not matter; a prefix of any word matches.
        let found = places(&app, "ECOLE").await;
        assert!(names(&found).contains(&"École El Khansaa"), "{found:?}");
        assert!(names(&found).iter().all(|n| n.starts_with("École")), "{found:?}");
        let found = places(&app, "essaad").await;
        assert_eq!(names(&found), ["Université Abdelmalek Essaâdi (Mhannech)"]);
        // Places whose name starts with the query come first.
        let found = places(&app, "mosq").await;
        assert_eq!(found.len(), 6, "{found:?}");
        assert!(names(&found)[..5].iter().all(|n| n.starts_with("Mosquée")), "{found:?}");
        assert_eq!(names(&found)[5], "Grande Mosquée");
        let found = places(&app, "touabel").await;
        assert_eq!(names(&found)[0], "Boulevard Touabel");
        assert_eq!(found[0]["kind"], "street");
        assert!((found[0]["lat"].as_f64().unwrap() - 35.585).abs() < 0.001);
        // Arabic, without the hamza or the taa marbuta as written in the names.
        let found = places(&app, "اعداديه").await;
        assert_eq!(names(&found), ["Collège Ibn Battouta"]);
        // Arabic names with lang=ar.
        let body: Value = app.client.get(app.url("/api/v1/places?q=feddan&lang=ar")).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["places"][0]["name"], "ساحة الفدان");
        // At most ten; punctuation (LIKE's wildcards included) separates words.
        assert_eq!(places(&app, "a").await.len(), 10);
        assert_eq!(places(&app, "_ecole%").await, places(&app, "ecole").await);
        assert!(places(&app, "e_ole").await.is_empty());
        assert!(places(&app, "zzz").await.is_empty());
        // An empty query says what is wrong.
        let response = app.client.get(app.url("/api/v1/places?q=%20-")).send().await.unwrap();
        let problem = problem(response, 400).await;
        assert_eq!(fields(&problem), ["q"]);
        app.stop().await;
    }

    async fn importing_places_twice_updates_the_same_rows(db: Db) {
        let app = TestApp::spawn(db).await;
        let dir = std::env::temp_dir().join(format!("balagh-places-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("places.geojson");
        let write = |name: &str| {
            std::fs::write(&file, format!(r#"{{"type":"FeatureCollection","features":[
                {{"type":"Feature","id":"new-square","properties":{{"name":"{name}","kind":"square"}},
                  "geometry":{{"type":"Point","coordinates":[-5.37,35.57]}}}}]}}"#)).unwrap();
        };
        let tetouan = Slug::parse("j", "tetouan").unwrap();
        write("Place Zénith");
        let read = balagh::gazetteer::read_places(&file).unwrap();
        assert_eq!(balagh::gazetteer::write_places(app.store.as_ref(), &tetouan, &read).await.unwrap(), 1);
        write("Place Zéphyr");
        let read = balagh::gazetteer::read_places(&file).unwrap();
        balagh::gazetteer::write_places(app.store.as_ref(), &tetouan, &read).await.unwrap();
        assert_eq!(names(&places(&app, "zeph").await), ["Place Zéphyr"]);
        assert!(places(&app, "zenith").await.is_empty());
        // A bad file names the feature and writes nothing.
        std::fs::write(&file, r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"Nowhere"},"geometry":{"type":"Point","coordinates":[-5.37,135]}}]}"#).unwrap();
        let error = balagh::gazetteer::read_places(&file).unwrap_err();
        assert!(error.contains("features[0].geometry.coordinates.lat"), "{error}");
        // An unknown jurisdiction is refused.
        let error = balagh::gazetteer::write_places(app.store.as_ref(), &Slug::parse("j", "rabat").unwrap(), &read)
            .await.unwrap_err();
        assert!(error.contains("rabat"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
        app.stop().await;
    }

    async fn bus_lines_list_their_stops_in_order(db: Db) {
        let app = TestApp::spawn(db).await;
        let body: Value = app.client.get(app.url("/api/v1/bus-lines")).send().await.unwrap().json().await.unwrap();
        let lines: Vec<&str> = body["lines"].as_array().unwrap().iter().map(|l| l["short_name"].as_str().unwrap()).collect();
        assert_eq!(lines, ["1", "2", "7"]);
        let body: Value = app.client.get(app.url("/api/v1/bus-lines/L7/stops")).send().await.unwrap().json().await.unwrap();
        let stops: Vec<&str> = body["stops"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(stops, ["Gare routière", "Avenue Mohammed V", "Bab Saida", "Avenue Sidi Al Mandri", "Route de Martil"]);
        let response = app.client.get(app.url("/api/v1/bus-lines/L99/stops")).send().await.unwrap();
        problem(response, 404).await;
        // Re-importing a feed replaces the network.
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/tetouan/gtfs");
        let mut network = balagh::gazetteer::read_gtfs(&folder).unwrap();
        network.lines.retain(|l| l.id == "L1");
        network.line_stops.retain(|(l, _, _)| l == "L1");
        let tetouan = Slug::parse("j", "tetouan").unwrap();
        let summary = balagh::gazetteer::write_gtfs(app.store.as_ref(), &tetouan, &network).await.unwrap();
        assert_eq!((summary.lines, summary.stops), (1, 12));
        let body: Value = app.client.get(app.url("/api/v1/bus-lines")).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["lines"].as_array().unwrap().len(), 1);
        app.stop().await;
    }
}

both_databases! {
    async fn the_app_is_served_at_the_root_with_its_manifest_and_worker(db: Db) {
        let app = TestApp::spawn(db).await;
        let get = |path: &str, lang: &str| {
            app.client.get(app.url(path)).header("Accept-Language", lang).send()
        };
        let page = get("/", "ar-MA,ar;q=0.9").await.unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe"), "{csp}");
        let permissions = page.headers()["permissions-policy"].to_str().unwrap().to_owned();
        assert!(permissions.contains("geolocation=(self)"), "{permissions}");
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
        assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
        assert!(html.contains(r#"<link rel="manifest" href="/manifest.webmanifest?lang=ar">"#));
        // Every service is offered, in the page's language, grouped by service group.
        assert!(html.contains(r#"value="bus_late""#) && html.contains("الحافلات"));
        // The French page by the switch, whatever the device's language.
        let html = get("/?lang=fr", "ar").await.unwrap().text().await.unwrap();
        assert!(html.contains(r#"<html lang="fr" dir="ltr">"#) && html.contains("Signaler un problème"));
        let manifest: Value = get("/manifest.webmanifest?lang=en", "fr").await.unwrap().json().await.unwrap();
        assert_eq!(manifest["start_url"], "/?lang=en");
        assert_eq!(manifest["scope"], "/");
        let worker = get("/sw.js", "fr").await.unwrap();
        assert_eq!(worker.headers()["content-type"], "text/javascript; charset=utf-8");
        assert_eq!(worker.headers()["cache-control"], "no-cache");
        let script = worker.text().await.unwrap();
        assert!(script.contains("/assets/resident.js?v="), "{script}");
        app.stop().await;
    }
}

/// The app end to end in headless Chromium on a phone (see `tests/browser/resident-app.mjs`),
/// on each database: the Rust side seeds a report to support, then counts the rows the
/// browser's reports made, including the two written offline.
async fn browser_run(db: Db) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser = repo.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "run tests/browser/setup.sh first (tests/run does)"
    );
    let (app, tiles_served, push_service) = spawn_for_browser(db).await;
    // A report a few metres from where the browser stands: "me too" must be offered.
    app.reported("waste_bin_overflow", (35.5723, -5.3716)).await;
    // Another device's report nearby, for the resident to follow (not support).
    let (_, to_follow) = app.reported("waste_damaged_bin", (35.5724, -5.3715)).await;
    let to_follow = to_follow["id"].as_str().unwrap().to_owned();
    let subscription = seed_follow_up(&app, &push_service).await;
    let endpoint = subscription["endpoint"].as_str().unwrap().to_owned();
    let subscription = subscription.to_string();
    let before = app.report_count().await;
    // The operator of the commune's west for waste, who resolves the French report.
    let agent = app
        .user(
            balagh_domain::account::Role::OperatorAgent,
            Some("nadafa-demo"),
        )
        .await;
    let name = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let shots = repo.join(format!("artifacts/screenshots/resident-app/{name}"));
    std::fs::create_dir_all(&shots).unwrap();
    let (script, address, token) = (
        browser.join("resident-app.mjs"),
        app.address.clone(),
        agent.token.clone(),
    );
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .env("BALAGH_TEST_PUSH_SUBSCRIPTION", subscription)
            .env("BALAGH_TEST_FOLLOW_REPORT", to_follow)
            .arg(script)
            .args([address.as_str(), "-", token.as_str()])
            .arg(shots)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser run failed:\n{out}\n{err}");
    eprintln!("{err}");
    let result: Value = out
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|json| serde_json::from_str(json).unwrap())
        .expect("the run prints its references");
    let mut references: Vec<&str> = result["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    references.sort_unstable();
    references.dedup();
    // Two reports sent online, two queued offline: four distinct references, four rows.
    assert_eq!(references.len(), 4, "{result}");
    assert_eq!(
        app.report_count().await - before,
        4,
        "each report exactly once"
    );
    // The map drew its tiles from the configured server.
    assert!(tiles_served.load(std::sync::atomic::Ordering::SeqCst) > 0);
    // The subscription the app registered got the French report's resolution.
    resolution_pushed(&push_service, &endpoint, &result["french_id"]).await;
    app.stop().await;
}

type TileCounter = std::sync::Arc<std::sync::atomic::AtomicUsize>;

/// The app with map tiles from a local stand-in (counting what it serves) and Web Push
/// through the local push service.
async fn spawn_for_browser(
    db: Db,
) -> (TestApp, TileCounter, balagh_push::stand_in::WebPushStandIn) {
    let (tiles, tiles_served) = crate::operator_pages::tile_stand_in().await;
    let push_service = balagh_push::stand_in::WebPushStandIn::start().await;
    let app = TestApp::spawn_configured(
        db,
        balagh_api::ApiSettings {
            resident_map_tile_url: Some(tiles),
            ..balagh_api::ApiSettings::default()
        },
        fast_workers(),
        None,
        crate::resident_follow::web_push_settings(),
    )
    .await;
    (app, tiles_served, push_service)
}

/// Waits (at most 10 s) for the push of `report`'s resolution at the subscription `endpoint`.
async fn resolution_pushed(
    push_service: &balagh_push::stand_in::WebPushStandIn,
    endpoint: &str,
    report: &Value,
) {
    for _ in 0..200 {
        let pushes = push_service.received(endpoint);
        if pushes
            .iter()
            .any(|p| p["data"]["status"] == "resolved" && &p["data"]["report_id"] == report)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "no push of the resolution of {report}: {:?}",
        push_service.received(endpoint)
    );
}

/// What the browser run follows up on: a notice of the commune around where the resident
/// stands, a video (French, Moroccan Sign Language) and easy-to-read text for the overflowing
/// bin, and a subscription of the local push service (returned as `PushSubscription.toJSON()`)
/// for the app to register, since headless Chromium has no push service of its own.
async fn seed_follow_up(
    app: &TestApp,
    push_service: &balagh_push::stand_in::WebPushStandIn,
) -> Value {
    let staff = app
        .user(balagh_domain::account::Role::StaffAdmin, None)
        .await;
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let notice = serde_json::json!({
        "kind": "collection_delay",
        "service_codes": ["waste_bin_overflow"],
        "area": {"type": "Point", "coordinates": [-5.3717, 35.5722]},
        "radius_m": 400.0,
        "valid_until": until.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "texts": {
            "fr": {"title": "Collecte retardée", "body": "La collecte passera cet après-midi."},
            "ar": {"title": "تأخير جمع النفايات", "body": "سيمر الجمع بعد الظهر."}
        }
    });
    let published = app
        .post_as(&staff.token, "/api/v1/notices", None, Some(notice))
        .await;
    assert_eq!(published.status(), 201);
    let media = serde_json::json!({
        "videos": [
            {"language": "fr", "url": "https://videos.balagh.test/bac-fr.mp4"},
            {"language": "xms", "url": "https://videos.balagh.test/bac-xms.mp4", "title": "Bac plein"}
        ],
        "easy_read": {
            "fr": "Le bac est plein ? Dites où il est. Une équipe viendra le vider.",
            "ar": "الحاوية ممتلئة؟ قولوا لنا أين هي. سيأتي فريق لإفراغها."
        }
    });
    let stored = app
        .client
        .put(app.url("/api/v1/staff/services/waste_bin_overflow/media"))
        .bearer_auth(&staff.token)
        .json(&media)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    let key: Value = app
        .client
        .get(app.url("/api/v1/push/web-push-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s = push_service.subscribe_restricted(key["public_key"].as_str().unwrap());
    serde_json::json!({"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_reports_from_a_phone_browser_online_and_offline_sqlite() {
    browser_run(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_reports_from_a_phone_browser_online_and_offline_postgres() {
    browser_run(Db::Postgres).await;
}
