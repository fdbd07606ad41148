//! The public transparency page and the staff dashboard: over HTTP on both databases, and
//! end to end in headless Chromium (`tests/browser/stats-pages.mjs`, screenshots kept in
//! `artifacts/screenshots/stats-pages/`).

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Months of synthetic history: enough complete months to publish, and enough reports for
/// some map cells to be above k.
const HISTORY_DAYS: u32 = 100;
const HISTORY_REPORTS: usize = 1_500;

/// Synthetic history, rolled up; a current notice; a fresh open report.
async fn seed(app: &TestApp) {
    balagh::generate::generate(&app.store, HISTORY_REPORTS, HISTORY_DAYS)
        .await
        .unwrap();
    // The server's roll-up loop may hold the lease: then wait for it to finish.
    let started = std::time::Instant::now();
    loop {
        let (run, _) = balagh_app::publish::job::run(&app.state, "pages-test", 2_000)
            .await
            .unwrap();
        if !run.skipped {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "roll-ups never ran"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let staff = app.user(Role::StaffAgent, None).await;
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let notice = json!({
        "kind": "planned_interruption",
        "service_codes": ["light_out"],
        "area": {"type": "Point", "coordinates": [WEST.1, WEST.0]},
        "radius_m": 800.0,
        "valid_until": until.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "texts": {
            "fr": {"title": "Coupure d'éclairage <Avenue>", "body": "Travaux sur le réseau cette nuit."},
            "ar": {"title": "انقطاع الإنارة", "body": "أشغال على الشبكة هذه الليلة."},
            "en": {"title": "Street lights off", "body": "Works on the network tonight."}
        }
    });
    let published = app
        .post_as(&staff.token, "/api/v1/notices", None, Some(notice))
        .await;
    assert_eq!(published.status(), 201, "{:?}", published.text().await);
    app.reported("waste_bin_overflow", WEST).await;
}

/// An urlencoded login form.
fn login_form(email: &str, password: &str) -> String {
    let encode = |v: &str| -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!("email={}&password={}", encode(email), encode(password))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(
    app: &TestApp,
    path: &str,
    language: Option<&str>,
) -> (reqwest::header::HeaderMap, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(l) = language {
        request = request.header("Accept-Language", l);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    (headers, body)
}

/// Logs in through the staff form; returns the session cookie (`name=value`).
async fn staff_login(app: &TestApp, email: &str) -> String {
    let response = no_redirects()
        .post(app.url("/staff/login?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(login_form(email, PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        "/staff/dashboard?lang=en"
    );
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

both_databases! {
    async fn the_transparency_page_publishes_notices_counts_months_and_cells(db: Db) {
        let app = TestApp::spawn(db).await;
        seed(&app).await;

        let (headers, fr) = page(&app, "/transparency", None).await;
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers["vary"].to_str().unwrap().contains("Accept-Language"));
        assert!(fr.contains(r#"<html lang="fr" dir="ltr">"#), "{fr}");
        assert!(fr.contains(r##"<a class="skip" href="#main">"##));
        // The notice, escaped; open counts; months; no inline script.
        assert!(fr.contains("Coupure d&#39;éclairage &lt;Avenue&gt;"), "{fr}");
        assert!(fr.contains(r#"id="open-table""#) && fr.contains(r#"data-service="waste_bin_overflow""#));
        assert!(fr.contains(r#"id="monthly-table""#), "no published month: {fr}");
        for script in fr.match_indices("<script").map(|(i, _)| &fr[i..i + 60.min(fr.len() - i)]) {
            assert!(script.starts_with("<script defer src=\"/assets/") || script.starts_with(r#"<script type="application/json""#), "{script}");
        }
        // The embedded data: charts and at least one published cell with its polygon.
        let start = fr.find(r#"id="page-data">"#).unwrap() + r#"id="page-data">"#.len();
        let end = start + fr[start..].find("</script>").unwrap();
        let data: Value = serde_json::from_str(&fr[start..end]).unwrap();
        assert!(!data["charts"]["monthly-counts"]["labels"].as_array().unwrap().is_empty());
        let cells = data["maps"]["public-map"]["cells"].as_array().unwrap();
        assert!(!cells.is_empty(), "no published cell");
        for c in cells {
            assert!(c["count"].as_u64().unwrap() >= 1, "{c}");
            assert_eq!(c["geometry"]["type"], "Polygon");
            assert_ne!(c["service"], "bus_driver_conduct", "a sensitive service is never mapped");
        }
        // Open right now: listed services exact, the sensitive one published monthly only.
        assert!(fr.contains(r#"data-service="bus_driver_conduct">publié par mois"#), "{fr}");
        // A withheld figure is said in words, never a bare dash.
        assert!(!fr.contains(">–</td>"), "{fr}");
        assert_eq!(data["maps"]["public-map"]["boundary"]["type"], "MultiPolygon");

        // Arabic: by query or by Accept-Language; English likewise.
        let (_, ar) = page(&app, "/transparency?lang=ar", Some("en")).await;
        assert!(ar.contains(r#"<html lang="ar" dir="rtl">"#));
        assert!(ar.contains("انقطاع الإنارة"));
        let (_, ar) = page(&app, "/transparency", Some("ar-MA,ar;q=0.9")).await;
        assert!(ar.contains(r#"<html lang="ar" dir="rtl">"#));
        let (_, en) = page(&app, "/transparency", Some("en-GB, fr;q=0.5")).await;
        assert!(en.contains(r#"<html lang="en" dir="ltr">"#) && en.contains("Street lights off"));

        // The monthly CSV has the table's months.
        let csv = app.client.get(app.url("/transparency/monthly.csv")).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = csv.text().await.unwrap();
        assert!(csv.starts_with("month,new,resolved,within_sla\r\n"), "{csv}");
        assert!(csv.lines().count() >= 2, "{csv}");

        // Assets: vendored, typed, cached for long, unknown ones absent.
        for (name, kind) in [("leaflet.js", "text/javascript"), ("uPlot.iife.min.js", "text/javascript"), ("pages.js", "text/javascript"), ("leaflet.css", "text/css"), ("uPlot.min.css", "text/css"), ("pages.css", "text/css")] {
            let response = app.client.get(app.url(&format!("/assets/{name}"))).send().await.unwrap();
            assert_eq!(response.status(), 200, "{name}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with(kind), "{name}");
            assert!(response.headers()["cache-control"].to_str().unwrap().contains("immutable"), "{name}");
            assert!(fr.contains(&format!("/assets/{name}?v=")), "{name} not linked");
        }
        let missing = app.client.get(app.url("/assets/nothing.js")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        app.stop().await;
    }

    async fn the_staff_dashboard_needs_a_staff_login_and_filters_its_figures(db: Db) {
        let app = TestApp::spawn(db).await;
        seed(&app).await;
        let client = no_redirects();

        // Not logged in: to the login form, in the asked language.
        let response = client.get(app.url("/staff/dashboard?lang=ar")).send().await.unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/staff/login?lang=ar");
        let (_, login) = page(&app, "/staff/login?lang=ar", None).await;
        assert!(login.contains(r#"dir="rtl""#) && login.contains(r#"<label for="email">"#));
        let wrong = client
            .post(app.url("/staff/login"))
            .header("content-type", "application/x-www-form-urlencoded").body(login_form("nobody@example.ma", "wrong password here"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);

        // Operators are refused.
        let operator = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let operator_cookie = {
            let response = client
                .post(app.url("/staff/login"))
                .header("content-type", "application/x-www-form-urlencoded").body(login_form(&operator.email, PASSWORD))
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["location"], "/operator/queue");
            response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
        };
        let refused = client.get(app.url("/staff/dashboard")).header("cookie", &operator_cookie).send().await.unwrap();
        assert_eq!(refused.status(), 403);

        let analyst = app.user(Role::StaffAnalyst, None).await;
        let cookie = staff_login(&app, &analyst.email).await;
        let get = |path: String| {
            let request = client.get(app.url(&path)).header("cookie", &cookie);
            async move { request.send().await.unwrap() }
        };
        let all = get("/staff/dashboard?lang=en".into()).await;
        assert_eq!(all.status(), 200);
        let all = all.text().await.unwrap();
        assert!(all.contains(r#"<html lang="en" dir="ltr">"#));
        for id in ["chart-sla", "chart-resolution", "chart-backlog", "staff-map", "sla-table", "backlog-table", "csv-compliance"] {
            assert!(all.contains(&format!(r#"id="{id}""#)), "{id}");
        }
        let kpi = |html: &str| -> u64 {
            let marker = r#"id="kpi-new"><span dir="ltr">"#;
            let start = html.find(marker).unwrap() + marker.len();
            html[start..start + html[start..].find('<').unwrap()].parse().unwrap()
        };
        let total = kpi(&all);
        assert!(total > 0, "no new reports in the default period");
        let one = get("/staff/dashboard?service=light_out&lang=en".into()).await.text().await.unwrap();
        let light = kpi(&one);
        assert!(light < total, "{light} of {total}");
        assert!(one.contains(r#"<option value="light_out" selected>"#));

        // CSV downloads with the same filters.
        for (table, head) in [
            ("compliance", "week,operator,service,new,resolved,breached,within_sla"),
            ("resolution", "service,resolved,p50_minutes,p90_minutes,acknowledged,ack_p50_minutes,ack_p90_minutes"),
            ("backlog", "service,operator,days_0_1,days_1_3,days_3_7,days_7_30,days_over_30"),
        ] {
            let response = get(format!("/staff/dashboard.csv?table={table}&service=light_out")).await;
            assert_eq!(response.status(), 200, "{table}");
            assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
            assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
            let body = response.text().await.unwrap();
            assert!(body.starts_with(&format!("{head}\r\n")), "{body}");
            for line in body.lines().skip(1) {
                if table != "resolution" {
                    assert!(line.contains(",light_out,") || line.starts_with("light_out,"), "{line}");
                } else {
                    assert!(line.starts_with("light_out,"), "{line}");
                }
            }
        }
        // Bad filters say what is wrong.
        assert_eq!(get("/staff/dashboard?from=2026-13-01".into()).await.status(), 400);
        assert_eq!(get("/staff/dashboard?service=nope".into()).await.status(), 400);
        assert_eq!(get("/staff/dashboard.csv?table=nope".into()).await.status(), 400);
        assert_eq!(get("/staff/dashboard?from=2020-01-01&to=2026-01-01".into()).await.status(), 400);
        app.stop().await;
    }
}

/// A number in the dashboard's HTML right after `marker`.
fn figure_after(html: &str, marker: &str) -> u64 {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('<').unwrap()]
        .parse()
        .unwrap()
}

both_databases! {
    async fn the_staff_dashboard_counts_a_report_filed_a_moment_ago_without_a_roll_up(db: Db) {
        let app = TestApp::spawn(db).await;
        let analyst = app.user(Role::StaffAnalyst, None).await;
        let cookie = staff_login(&app, &analyst.email).await;
        let dashboard = async || {
            let response = no_redirects().get(app.url("/staff/dashboard?lang=fr")).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        };
        let rolled = app.store.stats_state().await.unwrap();
        let before = dashboard().await;
        let (new, young) = (figure_after(&before, r#"id="kpi-new"><span dir="ltr">"#), figure_after(&before, r#"data-age="days_0_1">"#));
        app.reported("waste_bin_overflow", WEST).await;
        app.reported("light_out", WEST).await;
        let after = dashboard().await;
        assert_eq!(figure_after(&after, r#"id="kpi-new"><span dir="ltr">"#), new + 2, "{after}");
        assert_eq!(figure_after(&after, r#"data-age="days_0_1">"#), young + 2);
        // No roll-up ran in between (the figures did not come from one), and the page says
        // which figures wait for it.
        assert_eq!(app.store.stats_state().await.unwrap(), rolled, "a roll-up ran during the test");
        assert!(after.contains(r#"id="figures-as-of""#) && after.contains("exacts à l&#39;instant") && after.contains("pas encore calculés"), "{after}");
        app.stop().await;
    }
}

/// The pages end to end in headless Chromium (Debian's package, driven by Playwright;
/// `tests/browser/setup.sh` installs both). One database is enough here: the figures are
/// the same (checked above on both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_a_real_browser() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser = repo.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "run tests/browser/setup.sh first (tests/run does)"
    );
    let app = TestApp::spawn(Db::Sqlite).await;
    seed(&app).await;
    let staff = app.user(Role::StaffAnalyst, None).await;
    let shots = repo.join("artifacts/screenshots/stats-pages");
    std::fs::create_dir_all(&shots).unwrap();
    let (script, address, email, dir) = (
        browser.join("stats-pages.mjs"),
        app.address.clone(),
        staff.email.clone(),
        shots.clone(),
    );
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([address.as_str(), email.as_str(), PASSWORD])
            .arg(dir)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser run failed:\n{out}\n{err}");
    for shot in [
        "transparency-fr.png",
        "transparency-ar.png",
        "transparency-ar-phone.png",
        "transparency-en.png",
        "dashboard.png",
        "dashboard-filtered.png",
        "dashboard-ar.png",
    ] {
        let size = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 5_000, "{shot}: {size} bytes");
    }
    app.stop().await;
}

both_databases! {
    async fn unreadable_forms_answer_as_the_client_accepts(db: Db) {
        let app = TestApp::spawn(db).await;
        // A form without its password field, as a browser sends it: an HTML page.
        let browser = app.client.post(app.url("/operator/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html,application/xhtml+xml")
            .body("email=a%40b.ma").send().await.unwrap();
        assert_eq!(browser.status(), 400);
        assert!(browser.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = browser.text().await.unwrap();
        assert!(html.contains("Formulaire refusé") && html.contains("urn:balagh:problem:malformed-body"), "{html}");
        // The same from a script: problem+json.
        let script = app.client.post(app.url("/staff/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=a%40b.ma").send().await.unwrap();
        let refused = problem(script, 400).await;
        assert_eq!(refused["type"], "urn:balagh:problem:malformed-body");
        // JSON where a form is expected: 415, problem+json.
        let json = app.client.post(app.url("/operator/login")).json(&serde_json::json!({"email": "a"})).send().await.unwrap();
        problem(json, 415).await;
        app.stop().await;
    }
}
