//! Each commune's own settings in one deployment (issue 22): Tabarka (demo data) publishes
//! with its own k (8, 15 for sensitive services) and record grid (200 m) beside Tétouan on
//! the deployment's (5, 10, 100 m), and counts penalties in Tunisian dinars (3 decimals)
//! where Tétouan counts them in dirhams.

use crate::both_databases;
use crate::harness::*;
use crate::staff_pages::Browser;
use balagh::demo::DemoData;
use balagh_domain::account::Role;
use balagh_domain::publish::RecordPolicy;
use balagh_domain::{Channel, GeoPoint, ReportStatus, ServiceGroup};
use balagh_store::{NewReport, Ts};
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};

/// Inside the synthetic Tabarka, in its western waste zone.
const TABARKA_WEST: (f64, f64) = (36.950, 8.740);

async fn with_tabarka(db: Db) -> TestApp {
    let app = TestApp::spawn(db).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/tabarka");
    DemoData::from_dir(&dir)
        .unwrap()
        .seed(app.store.as_ref())
        .await
        .unwrap();
    app.state.refresh_catalog().await.unwrap();
    app
}

/// The 5th of the month before last (complete and past the lag).
fn a_published_day() -> Date {
    let first = OffsetDateTime::now_utc().date().replace_day(1).unwrap();
    let previous = (first - Duration::days(1)).replace_day(1).unwrap();
    (previous - Duration::days(1)).replace_day(5).unwrap()
}

/// `count` resolved reports made in the app, in one commune, on `day`.
async fn seed(app: &TestApp, commune: &str, point: (f64, f64), count: usize, day: Date) {
    let catalog = app.state.catalog();
    let jurisdiction = catalog
        .jurisdictions()
        .iter()
        .find(|j| j.id.as_str() == commune)
        .unwrap()
        .clone();
    let code = balagh_domain::ServiceCode::parse("waste_bin_overflow").unwrap();
    let service = catalog.service(&jurisdiction.id, &code).unwrap().clone();
    let mut rng = rand::rng();
    let reports: Vec<NewReport> = (0..count)
        .map(|i| {
            let at = day.with_hms(9, i as u8, 0).unwrap().assume_utc();
            let point = GeoPoint::parse(point.0, point.1).unwrap();
            let mut r = balagh::generate::report_at(
                &catalog,
                &jurisdiction,
                &service,
                point,
                Ts::new(at),
                Some(ReportStatus::Resolved),
                &mut rng,
            );
            r.channel = Channel::App;
            r
        })
        .collect();
    app.store.bulk_insert_reports(&reports).await.unwrap();
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// A page without Fluent's bidi isolation marks, to search it.
fn plain(page: &str) -> String {
    page.replace(['\u{2068}', '\u{2069}'], "")
}

both_databases! {
    async fn each_commune_publishes_with_its_own_k_and_grid(db: Db) {
        let app = with_tabarka(db).await;
        let day = a_published_day();
        // The same cell in both communes: 6 reports, all from the app.
        seed(&app, "tetouan", WEST, 6, day).await;
        seed(&app, "tabarka", TABARKA_WEST, 6, day).await;
        let (run, released) = balagh_app::publish::job::run(&app.state, "test", 500).await.unwrap();
        assert!(!run.skipped);
        assert!(released.iter().any(|r| r.starts_with("tabarka/")), "{released:?}");
        let first = day.replace_day(1).unwrap();
        let last = (first + Duration::days(40)).replace_day(1).unwrap() - Duration::days(1);
        let query = format!("period=month&from={first}&to={last}");
        let of = |commune: &str| format!("/api/v1/stats/indicators?{query}&jurisdiction={commune}");

        let tet = get_json(&app, &of("tetouan")).await;
        assert_eq!((tet["k"].as_u64(), tet["k_sensitive"].as_u64()), (Some(5), Some(10)), "{tet}");
        assert_eq!(tet["record_grid_metres"], 100.0);
        // 6 ≥ k = 5: Tétouan publishes its channel row.
        assert_eq!(tet["indicators"]["reports_by_channel"]["app"], 6, "{tet}");

        let tbk = get_json(&app, &of("tabarka")).await;
        assert_eq!(tbk["jurisdiction"], "tabarka");
        assert_eq!((tbk["k"].as_u64(), tbk["k_sensitive"].as_u64()), (Some(8), Some(15)), "{tbk}");
        assert_eq!(tbk["record_grid_metres"], 200.0);
        // 6 < k = 8: the same row is withheld in Tabarka.
        let row = &tbk["indicators"]["reports_by_channel"];
        assert!(row.is_object() && row["app"].is_null(), "{tbk}");

        // Public records: Tabarka's points on its 200 m grid, Tétouan's on 100 m.
        let device = app.device().await;
        for (commune, point, grid) in [("tabarka", TABARKA_WEST, 200.0), ("tetouan", WEST, 100.0)] {
            let key = uuid::Uuid::new_v4().to_string();
            let made = app.post_report(&device, &key, &report_body("waste_bin_overflow", point)).await;
            assert!(made.status().is_success());
            let listed = get_json(&app, &format!("/open311/v2/requests.json?jurisdiction_id={commune}")).await;
            let listed = listed.as_array().unwrap();
            assert!(!listed.is_empty(), "{commune}");
            for r in listed {
                let p = GeoPoint::parse(r["lat"].as_f64().unwrap(), r["long"].as_f64().unwrap()).unwrap();
                assert!(RecordPolicy::new(grid).unwrap().is_snapped(&p), "{commune}: {r}");
                let other = if grid == 200.0 { 100.0 } else { 200.0 };
                assert!(!RecordPolicy::new(other).unwrap().is_snapped(&p), "{commune}: {r}");
            }
        }
        app.stop().await;
    }

    async fn a_tunisian_communes_statement_is_in_dinars_with_millimes(db: Db) {
        let app = with_tabarka(db).await;
        let admin = app.staff_of(Role::StaffAdmin, "tabarka").await;
        let operator = app.operator_id("tabarka-proprete-demo").await;
        let contract = app.store.contracts().await.unwrap().into_iter()
            .find(|c| c.operator == operator && c.group == ServiceGroup::WASTE).unwrap().id.0;
        // 100 TND a breach, 10 TND a started hour late, in millimes; acknowledge within a
        // second, so the report's clock breaches at once.
        let policy = json!({
            "effective_from": "2026-01-01T00:00:00Z", "clock": "always",
            "targets": [
                {"metric": "acknowledge", "service_code": null, "priority": null, "duration": "PT1S"},
                {"metric": "resolve", "service_code": null, "priority": null, "duration": "PT10H"}
            ],
            "pause_reasons_that_stop_the_clock": ["awaiting_resident"],
            "penalty": {"per_breach_minor": 100000, "per_started_hour_late_minor": 10000, "cap_per_period_minor": 500000}
        });
        let stored = app.post_as(&admin.token, &format!("/api/v1/staff/contracts/{contract}/sla-policies"), None, Some(policy)).await;
        assert!(stored.status().is_success());
        let (_, report) = app.reported("waste_bin_overflow", TABARKA_WEST).await;
        let reference = report["reference"].as_str().unwrap().to_owned();
        assert!(reference.starts_with("TBK-"), "{reference}");

        let browser = Browser::login(&app, &admin.email).await;
        let path = format!("/staff/statement?lang=fr&contract={contract}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let page = loop {
            let (status, page) = browser.get(&path).await;
            assert_eq!(status, 200, "{page}");
            if page.contains(&reference) {
                break page;
            }
            assert!(std::time::Instant::now() < deadline, "the breach never showed: {page}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        let shown = plain(&page);
        assert!(shown.contains("110.000 TND") && shown.contains("500.000 TND"), "{page}");
        assert!(!shown.contains("MAD"), "{page}");
        let (_, arabic) = browser.get(&format!("/staff/statement?lang=ar&contract={contract}")).await;
        assert!(plain(&arabic).contains("110.000 دينار"), "{arabic}");

        // The API and the CSV give the currency beside the amounts.
        let today = OffsetDateTime::now_utc().date();
        let q = format!(
            "contract={contract}&from={}T00:00:00Z&until={}T00:00:00Z",
            today - Duration::days(1),
            today + Duration::days(1)
        );
        let answer = app.get(&admin.token, &format!("/api/v1/staff/sla/statement?{q}")).await;
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["currency"], json!({"code": "TND", "exponent": 3}), "{body}");
        assert_eq!(body["total_minor"], 110000, "{body}");
        let csv = app.get(&admin.token, &format!("/api/v1/staff/sla/statement?{q}&format=csv")).await.text().await.unwrap();
        assert!(csv.contains("amount,currency,amount_minor") && csv.contains("110.000,TND,110000"), "{csv}");

        // The policy form asks for dinars and keeps three decimals.
        let (_, sla) = browser.get("/staff/sla?lang=fr").await;
        let sla = plain(&sla);
        assert!(sla.contains("Pénalité par dépassement (TND)") && sla.contains("100.000"), "{sla}");
        app.stop().await;
    }
}
