//! Public statistics: roll-ups kept incrementally (equal to a rebuild, also with two
//! replicas), releases (listed services exact, protected ones monthly at a safe level),
//! the publication lag, open-data files without personal data, differential privacy whose
//! ε only the release job spends, and generated roll-ups equal to a rebuild. The attacker
//! that downloads everything is in `disclosure.rs`.

use crate::both_databases;
use crate::harness::*;
use balagh_app::stats::{StatsSettings, run_rollups};
use balagh_domain::stats::{
    DifferentialPrivacy, Epsilon, PublicationPolicy, contains_personal_data,
};
use balagh_domain::{Description, GeoPoint, ReportStatus};
use balagh_store::stats::StatsRow;
use balagh_store::{NewReport, Ts};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, OffsetDateTime};

const PHONE: &str = "0612345678";
const EMAIL: &str = "ali.benali@example.ma";

/// The Monday of the week `weeks` weeks before this one (UTC dates; the demo commune is at
/// most an hour away).
fn monday(weeks: i64) -> Date {
    let today = OffsetDateTime::now_utc().date();
    today - Duration::days(i64::from(today.weekday().number_days_from_monday()) + 7 * weeks)
}

fn at(day: Date, hour: u8) -> Ts {
    Ts::new(day.with_hms(hour, 0, 0).unwrap().assume_utc())
}

/// Reports of `service` around `point` (spread over a few hundred metres so they fall in
/// several H3 cells), created on `day`, with `status`, a description and a counter contact
/// full of personal data that must never come out.
async fn seed(
    app: &TestApp,
    service: &str,
    point: (f64, f64),
    count: usize,
    day: Date,
    status: ReportStatus,
) -> Vec<NewReport> {
    let catalog = app.state.catalog();
    let jurisdiction = catalog.jurisdictions()[0].clone();
    let service = catalog
        .service(
            &jurisdiction.id,
            &balagh_domain::ServiceCode::parse(service).unwrap(),
        )
        .unwrap()
        .clone();
    let mut rng = rand::rng();
    let reports: Vec<NewReport> = (0..count)
        .map(|i| {
            let offset = (i % 3) as f64 * 0.002;
            let point = GeoPoint::parse(point.0 + offset, point.1 + offset).unwrap();
            let mut r = balagh::generate::report_at(
                &catalog,
                &jurisdiction,
                &service,
                point,
                Ts::new(at(day, 9).get() + Duration::minutes(i as i64)),
                Some(status),
                &mut rng,
            );
            r.description = Description::parse(&format!(
                "Appelez-moi au {PHONE} ou écrivez à {EMAIL}, j'habite au 12 rue X"
            ))
            .unwrap();
            r
        })
        .collect();
    app.store.bulk_insert_reports(&reports).await.unwrap();
    reports
}

async fn roll_up(app: &TestApp) {
    let run = run_rollups(&app.state, "test", 500).await.unwrap();
    assert!(!run.skipped);
}

/// The statistics job as the workers run it: roll-ups, then the releases now due.
async fn publish(app: &TestApp) -> Vec<String> {
    let (run, released) = balagh_app::publish::job::run(&app.state, "test", 500)
        .await
        .unwrap();
    assert!(!run.skipped);
    released
}

/// The 5th of the month `back` months before this one (complete and past the lag).
fn day_in_month(back: i64) -> Date {
    let mut first = OffsetDateTime::now_utc().date().replace_day(1).unwrap();
    for _ in 0..back {
        first = (first - Duration::days(1)).replace_day(1).unwrap();
    }
    first + Duration::days(4)
}

fn month_query(day: Date) -> String {
    let first = day.replace_day(1).unwrap();
    let last = (first + Duration::days(40)).replace_day(1).unwrap() - Duration::days(1);
    format!("period=month&from={first}&to={last}")
}

async fn get_json(app: &TestApp, path: &str) -> (String, Value) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

async fn get_text(app: &TestApp, path: &str) -> String {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

fn cell<'a>(table: &'a Value, district: &str, service: &str) -> &'a Value {
    let row = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["district"] == district)
        .unwrap();
    &row["services"][service]
}

/// Every roll-up row, both levels.
async fn all_rows(app: &TestApp) -> BTreeMap<String, StatsRow> {
    let mut out = BTreeMap::new();
    for per_cell in [false, true] {
        for row in app
            .store
            .stats_rows("tetouan", 0, 10_000_000, per_cell)
            .await
            .unwrap()
        {
            out.insert(row.key.text(), row);
        }
    }
    out
}

/// The rows after forgetting everything and rolling up again from the reports.
async fn rebuilt(app: &TestApp) -> BTreeMap<String, StatsRow> {
    app.store.reset_stats().await.unwrap();
    roll_up(app).await;
    all_rows(app).await
}

fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

both_databases! {
    async fn listed_services_are_exact_and_protected_ones_monthly_at_a_safe_level(db: Db) {
        let app = TestApp::spawn(db).await;
        let (older, newer) = (day_in_month(3), day_in_month(2));
        let resolved = ReportStatus::Resolved;
        for day in [older, newer] {
            seed(&app, "waste_bin_overflow", WEST, 12, day, resolved).await;
            seed(&app, "waste_bin_overflow", EAST, 2, day, resolved).await;
            seed(&app, "bus_late", NORTH_CENTRE, 15, day, resolved).await;
        }
        // A sensitive service (k = 10): 12 reports one month, 7 the month before.
        seed(&app, "bus_driver_conduct", NORTH_CENTRE, 12, newer, resolved).await;
        seed(&app, "bus_driver_conduct", NORTH_CENTRE, 7, older, resolved).await;
        let released = publish(&app).await;
        assert!(released.iter().any(|r| r.contains("/month/")), "{released:?}");
        // Nothing more is due: the releases are immutable and made once.
        assert!(publish(&app).await.is_empty());

        let (text, summary) = get_json(&app, &format!("/api/v1/stats/summary?{}", month_query(newer))).await;
        assert!(!contains_personal_data(&text), "{text}");
        let periods = summary["periods"].as_array().unwrap();
        assert_eq!(periods.len(), 1);
        let new = &periods[0]["new"];
        // Listed services: exact, small counts included (their records are public).
        assert_eq!(cell(new, "est", "waste_bin_overflow"), 2);
        assert_eq!(cell(new, "reseau-urbain", "bus_late"), 15);
        assert_eq!(cell(new, "nord", "light_out"), 0);
        // The protected service at 12 ≥ k: published by district.
        assert_eq!(cell(new, "reseau-urbain", "bus_driver_conduct"), 12);
        assert_eq!(new["protected_levels"]["bus_driver_conduct"], "district");
        assert_eq!(new["grand_total"], 12 + 2 + 15 + 12);

        // The month before: 7 < k, withheld at every level, and no total adds it.
        let (_, before) = get_json(&app, &format!("/api/v1/stats/summary?{}", month_query(older))).await;
        let old = &before["periods"][0]["new"];
        assert_eq!(cell(old, "reseau-urbain", "bus_driver_conduct"), &Value::Null);
        assert_eq!(old["service_totals"]["bus_driver_conduct"], Value::Null);
        assert_eq!(old["grand_total"], Value::Null);
        let row = old["rows"].as_array().unwrap().iter().find(|r| r["district"] == "reseau-urbain").unwrap();
        assert_eq!(row["total"], Value::Null, "{row}");
        assert!(old["suppressed_entries"].as_u64().unwrap() >= 1);

        // A range of both months is a sum of the releases: withheld where either withheld.
        let range = format!("period=month&from={}&to={}", older.replace_day(1).unwrap(), newer);
        let (text, services) = get_json(&app, &format!("/api/v1/stats/services?{range}")).await;
        assert!(!contains_personal_data(&text), "{text}");
        assert_eq!(cell(&services["new"], "reseau-urbain", "bus_driver_conduct"), &Value::Null);
        assert_eq!(services["new"]["service_totals"]["bus_driver_conduct"], Value::Null);
        assert_eq!(cell(&services["new"], "est", "waste_bin_overflow"), 4);
        let figures = services["services"].as_array().unwrap();
        let late = figures.iter().find(|s| s["service"] == "bus_late").unwrap();
        assert!(late["median_minutes_to_resolve"].is_u64(), "{late}");
        // Weeks never publish the protected service.
        let (_, weekly) = get_json(&app, &format!("/api/v1/stats/summary?period=week&from={}&to={newer}", older.replace_day(1).unwrap())).await;
        for p in weekly["periods"].as_array().unwrap() {
            assert_eq!(p["new"]["protected_levels"]["bus_driver_conduct"], "monthly_only");
            assert_eq!(cell(&p["new"], "reseau-urbain", "bus_driver_conduct"), &Value::Null);
        }
        let (text, operators) = get_json(&app, &format!("/api/v1/stats/operators?{range}")).await;
        assert!(!contains_personal_data(&text), "{text}");
        assert!(operators["operators"].as_array().unwrap().len() >= 2, "{operators}");
        let (text, indicators) = get_json(&app, &format!("/api/v1/stats/indicators?{}", month_query(newer))).await;
        assert!(!contains_personal_data(&text), "{text}");
        // Channels count listed services: 12 + 2 + 15 that month.
        let by_channel = &indicators["indicators"]["reports_by_channel"];
        if let Some(row) = by_channel.as_object().filter(|o| o.values().all(Value::is_u64)) {
            assert_eq!(row.values().filter_map(Value::as_u64).sum::<u64>(), 29);
        }

        // Open data: the counts file is the summary's table.
        let query = month_query(newer);
        let counts = get_text(&app, &format!("/api/v1/open-data/counts.csv?{query}")).await;
        assert!(!contains_personal_data(&counts), "{counts}");
        let rows = csv_rows(&counts);
        for r in &rows {
            let published = cell(new, &r["district"], &r["service"]);
            assert_eq!(r["new"], published.as_u64().map(|n| n.to_string()).unwrap_or_default());
        }

        // The record file: listed services only, no identifier, one row per counted report.
        let records = get_text(&app, &format!("/api/v1/open-data/reports.csv?{query}")).await;
        assert!(!contains_personal_data(&records), "{records}");
        assert_eq!(
            records.lines().next().unwrap(),
            "period,service,district,h3_cell,date,status,minutes_to_acknowledge,minutes_to_resolve,operator"
        );
        assert!(!records.contains("bus_driver_conduct"));
        assert!(!records.contains("TET-"));
        let record_rows = csv_rows(&records);
        let mut per_entry: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in &record_rows {
            *per_entry.entry((r["district"].clone(), r["service"].clone())).or_default() += 1;
        }
        assert_eq!(per_entry.values().sum::<u64>(), 29);
        for ((d, s), n) in &per_entry {
            assert_eq!(cell(new, d, s).as_u64(), Some(*n), "{d} {s}: records = published count");
        }
        let (text, json_records) = get_json(&app, &format!("/api/v1/open-data/reports.json?{query}")).await;
        assert!(!contains_personal_data(&text));
        assert_eq!(json_records["records"].as_array().unwrap().len(), record_rows.len());

        // Maps: listed services' cells, never the protected one.
        let (_, geojson) = get_json(&app, &format!("/api/v1/open-data/cells.geojson?{query}")).await;
        let features = geojson["features"].as_array().unwrap();
        assert!(!features.is_empty());
        let mut mapped = 0;
        for f in features {
            let props = f["properties"].to_string();
            assert!(!contains_personal_data(&props), "{props}");
            assert_ne!(f["properties"]["service"], "bus_driver_conduct");
            assert_eq!(f["geometry"]["type"], "Polygon");
            mapped += f["properties"]["new"].as_u64().unwrap();
        }
        assert_eq!(mapped, 29);
        let (text, _) = get_json(&app, &format!("/api/v1/stats/cells?{query}&service=waste_bin_overflow")).await;
        assert!(text.contains("FeatureCollection"));
        for file in ["cells.csv", "cells.json", "counts.json", "operators.csv", "operators.json"] {
            let text = get_text(&app, &format!("/api/v1/open-data/{file}?{query}")).await;
            assert!(!contains_personal_data(&text), "{file}: {text}");
            assert!(!text.contains(PHONE) && !text.contains(EMAIL) && !text.contains("rue X"));
        }

        // The catalogue and the dictionary.
        let (text, catalog) = get_json(&app, "/api/v1/open-data/catalog.jsonld").await;
        assert!(!contains_personal_data(&text), "{text}");
        assert_eq!(catalog["@type"], "dcat:Catalog");
        let datasets = catalog["dcat:dataset"].as_array().unwrap();
        assert_eq!(datasets.len(), 4);
        for d in datasets {
            assert_eq!(d["dct:license"]["dct:identifier"], "CC-BY-4.0");
            assert!(d["dct:spatial"].is_object() && d["dct:temporal"].is_object());
            assert!(d["dct:accrualPeriodicity"].is_object());
            assert!(d["dcat:temporalResolution"].is_object());
            assert!(d["dcat:distribution"].as_array().unwrap().len() >= 6);
        }
        let (_, dictionary) = get_json(&app, "/api/v1/open-data/dictionary.json").await;
        assert_eq!(dictionary["datasets"].as_array().unwrap().len(), 4);
        let csv = get_text(&app, "/api/v1/open-data/dictionary.csv").await;
        assert!(csv.starts_with("dataset,column,type,description"));
        let missing = app.client.get(app.url("/api/v1/open-data/secrets.csv")).send().await.unwrap();
        assert_eq!(missing.status(), 404);

        // Every export, checked for the exact seeded private strings as well.
        for path in ["/api/v1/stats/summary", "/api/v1/stats/services", "/api/v1/stats/indicators"] {
            let text = get_text(&app, &format!("{path}?{range}")).await;
            assert!(!text.contains(PHONE) && !text.contains(EMAIL) && !text.contains("rue X"));
        }
    }

    async fn the_publication_lag_holds_back_recent_days(db: Db) {
        let app = TestApp::spawn(db).await;
        let yesterday = OffsetDateTime::now_utc().date() - Duration::days(1);
        seed(&app, "bus_late", NORTH_CENTRE, 20, yesterday, ReportStatus::Acknowledged).await;
        publish(&app).await;
        let (_, summary) = get_json(
            &app,
            &format!("/api/v1/stats/summary?period=week&to={}", yesterday + Duration::days(7)),
        )
        .await;
        let last: Date = balagh_app::stats::parse_date("d", summary["last_publishable_day"].as_str().unwrap()).unwrap();
        assert!(last < yesterday, "{last}");
        for p in summary["periods"].as_array().unwrap() {
            let to = balagh_app::stats::parse_date("to", p["to"].as_str().unwrap()).unwrap();
            assert!(to <= last);
            assert_eq!(cell(&p["new"], "reseau-urbain", "bus_late"), 0);
        }
        let (_, records) = get_json(&app, "/api/v1/open-data/reports.json?period=week").await;
        assert!(records["records"].as_array().unwrap().is_empty());
        // Staff see them at once (no lag on the dashboard).
        let staff = app.user(balagh_domain::account::Role::StaffAnalyst, None).await;
        let dashboard: Value = app.get(&staff.token, "/api/v1/staff/stats/dashboard").await.json().await.unwrap();
        assert_eq!(dashboard["overall"]["new"], 20, "{dashboard}");
        assert_eq!(dashboard["backlog_aging"]["days_1_3"].as_i64().unwrap() + dashboard["backlog_aging"]["days_0_1"].as_i64().unwrap(), 20);
        // Anonymous callers cannot read it.
        let anonymous = app.client.get(app.url("/api/v1/staff/stats/dashboard")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
    }

    async fn incremental_roll_ups_equal_a_rebuild(db: Db) {
        let app = TestApp::spawn(db).await;
        let day = monday(2);
        let reports = seed(&app, "waste_bin_overflow", WEST, 6, day, ReportStatus::New).await;
        seed(&app, "light_out", NORTH_CENTRE, 5, day, ReportStatus::Resolved).await;
        roll_up(&app).await;
        let before = all_rows(&app).await;
        assert!(!before.is_empty());

        // The operator acknowledges and resolves one report: the job applies the change.
        let agent = app.user(balagh_domain::account::Role::OperatorAgent, Some("nadafa-demo")).await;
        let id = reports[0].id;
        for action in ["acknowledge", "resolve"] {
            let ticket: Value = app.get(&agent.token, &format!("/api/v1/operator/tickets/{id}")).await.json().await.unwrap();
            let etag = format!("\"{}\"", ticket["version"]);
            let body = (action == "resolve").then(|| serde_json::json!({"note": "Vidé"}));
            let response = app
                .post_as(&agent.token, &format!("/api/v1/operator/tickets/{id}/actions/{action}"), Some(&etag), body)
                .await;
            assert_eq!(response.status(), 200, "{:?}", response.text().await);
        }
        roll_up(&app).await;
        let incremental = all_rows(&app).await;
        assert_ne!(incremental, before);
        let total = |rows: &BTreeMap<String, StatsRow>| {
            rows.values().filter(|r| r.key.cell.is_none()).map(|r| r.value.resolved).sum::<u64>()
        };
        assert_eq!(total(&incremental), total(&before) + 1);
        // Running again changes nothing; a rebuild from scratch gives the same rows.
        roll_up(&app).await;
        assert_eq!(all_rows(&app).await, incremental);
        assert_eq!(rebuilt(&app).await, incremental);
    }

    async fn two_replicas_roll_up_exact_totals(db: Db) {
        let app = TestApp::spawn(db).await;
        let day = monday(2);
        let mut count = 0;
        for (service, point) in [("waste_bin_overflow", WEST), ("bus_late", NORTH_CENTRE), ("light_out", NORTH_CENTRE)] {
            count += seed(&app, service, point, 400, day, ReportStatus::Closed).await.len();
        }
        let (a, b) = (app.state.clone(), app.state.clone());
        let replica = |state: balagh_api::AppState, name: &'static str| async move {
            let mut reports = 0;
            for _ in 0..20 {
                reports += run_rollups(&state, name, 50).await.unwrap().reports;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            reports
        };
        let (ra, rb) = tokio::join!(
            tokio::spawn(replica(a, "replica-a")),
            tokio::spawn(replica(b, "replica-b"))
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(ra + rb >= count, "{ra} + {rb}");
        roll_up(&app).await;
        let rows = all_rows(&app).await;
        let new: u64 = rows.values().filter(|r| r.key.cell.is_none()).map(|r| r.value.new).sum();
        assert_eq!(new, count as u64);
        let resolved: u64 = rows.values().filter(|r| r.key.cell.is_none()).map(|r| r.value.resolved).sum();
        assert_eq!(resolved, count as u64);
        assert_eq!(rebuilt(&app).await, rows);
    }

    async fn differential_privacy_noises_protected_months_and_only_the_job_spends(db: Db) {
        let epsilon = Epsilon::parse("1").unwrap();
        let dp = DifferentialPrivacy::new(epsilon, Epsilon::parse("2").unwrap(), 2).unwrap();
        let api = balagh_api::ApiSettings {
            app: balagh_app::AppSettings {
                stats: StatsSettings {
                    policy: PublicationPolicy::new(5, 10, Duration::hours(48), Some(dp)).unwrap(),
                    ..StatsSettings::default()
                },
                ..Default::default()
            },
            ..Default::default()
        };
        let app = TestApp::spawn_with(db, api).await;
        let day = day_in_month(2);
        seed(&app, "bus_late", NORTH_CENTRE, 30, day, ReportStatus::Closed).await;
        seed(&app, "bus_driver_conduct", NORTH_CENTRE, 30, day, ReportStatus::Closed).await;
        publish(&app).await;
        let summary = format!("/api/v1/stats/summary?period=month&from=2000-01-01&to={}", OffsetDateTime::now_utc().date());
        let (_, first) = get_json(&app, &summary).await;
        let periods = first["periods"].as_array().unwrap();
        // From the month of the first report on, nothing before it.
        assert_eq!(periods[0]["from"], day.replace_day(1).unwrap().to_string());
        let new = &periods[0]["new"];
        // Listed services exact, the protected one noisy but published by district.
        assert_eq!(cell(new, "reseau-urbain", "bus_late"), 30);
        assert!(cell(new, "reseau-urbain", "bus_driver_conduct").is_u64(), "{new}");
        assert_eq!(periods[0]["resolved"]["service_totals"]["bus_driver_conduct"], Value::Null);
        // The job spent ε once per released month; requests re-read the same releases.
        let ledger = app.store.epsilon_ledger(&[]).await.unwrap();
        assert_eq!(ledger.len(), periods.len(), "{ledger:?}");
        for _ in 0..10 {
            let (_, again) = get_json(&app, &summary).await;
            assert_eq!(again["periods"], first["periods"]);
            get_json(&app, "/api/v1/open-data/counts.json?period=week&from=2000-01-01&to=2100-01-01").await;
        }
        assert_eq!(app.store.epsilon_ledger(&[]).await.unwrap().len(), ledger.len());
        let staff = app.user(balagh_domain::account::Role::StaffAnalyst, None).await;
        let ledger: Value = app.get(&staff.token, "/api/v1/staff/stats/privacy-ledger").await.json().await.unwrap();
        let lines = ledger["lines"].as_array().unwrap();
        assert_eq!(lines.len(), periods.len(), "{ledger}");
        let scopes: BTreeSet<&str> = lines.iter().map(|l| l["scope"].as_str().unwrap()).collect();
        assert_eq!(scopes.len(), lines.len(), "one scope per month");
        // Every other figure and file is published in this mode too.
        get_json(&app, "/api/v1/stats/services").await;
        get_text(&app, "/api/v1/open-data/reports.csv").await;
    }

    async fn generated_roll_ups_equal_a_rebuild(db: Db) {
        let app = TestApp::spawn(db).await;
        balagh::generate::generate(&app.store, 400, 90).await.unwrap();
        let generated = all_rows(&app).await;
        assert!(!generated.is_empty());
        let new: u64 = generated.values().filter(|r| r.key.cell.is_none()).map(|r| r.value.new).sum();
        assert_eq!(new, 400);
        // The job finds nothing to change after the generator…
        roll_up(&app).await;
        assert_eq!(all_rows(&app).await, generated);
        // …and a rebuild from the reports gives the same rows.
        assert_eq!(rebuilt(&app).await, generated);
    }
}
