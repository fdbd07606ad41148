//! Issue 16: an outsider downloads every public output of a server filled with generated
//! data, at two densities, and tries to recover what the publication gate withholds (see
//! `tests/disclosure/attack.rs`). The test fails when the attacker wins.

use crate::attack::{Knowledge, Outcome, attack};
use crate::both_databases;
use crate::harness::{Db, TestApp};
use balagh_app::stats::{Context, StatsSettings};
use balagh_domain::stats::{DifferentialPrivacy, Epsilon, PublicationPolicy};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Seeded through the API into reports made now (listed and protected services): none of
/// these may come out anywhere.
const SECRETS: [(&str, &str); 3] = [
    ("light_out", "Lampe éteinte, rappelez-moi au 0671122334"),
    ("waste_bin_overflow", "Ecrivez à zineb.secret@example.ma"),
    (
        "bus_driver_conduct",
        "Le chauffeur du bus 7 m'a insulté, je suis Zineb Alaoui",
    ),
];

/// Personal data inside the generator's descriptions and the seeds.
const NEEDLES: [&str; 8] = [
    "0671122334",
    "zineb.secret@example.ma",
    "Zineb Alaoui",
    "06 61 23 45 67",
    "voisin.tetouan@gmail.com",
    "K123456",
    "٠٦٦١٢٣٤٥٦٧",
    "12345-أ-6",
];

async fn filled(db: Db, count: usize, stats: Option<StatsSettings>) -> TestApp {
    let mut api = balagh_api::state::ApiSettings::default();
    if let Some(stats) = stats {
        api.stats = stats;
    }
    let app = TestApp::spawn_with(db, api).await;
    // A second sensitive service, spread over four districts and two operators, so that
    // the sparse database exercises every level of the ladder.
    let catalog = app.state.catalog();
    let jurisdiction = catalog.jurisdictions()[0].id.clone();
    let mut dumping = catalog
        .service(
            &jurisdiction,
            &balagh_domain::ServiceCode::parse("waste_illegal_dumping").unwrap(),
        )
        .unwrap()
        .clone();
    dumping.sensitive = true;
    app.store
        .upsert_services(&jurisdiction, &[dumping])
        .await
        .unwrap();
    app.state.refresh_catalog().await.unwrap();
    let token = app.device().await;
    for (i, (service, text)) in SECRETS.iter().enumerate() {
        let mut body = crate::harness::report_body(service, crate::harness::EAST);
        body["description"] = json!(text);
        if service.starts_with("bus_") {
            body["attributes"] = json!({"bus_line": "7"});
        }
        let response = app.post_report(&token, &format!("secret-{i}"), &body).await;
        assert_eq!(response.status(), 201, "{service}");
    }
    balagh::generate::generate(&app.store, count, 120)
        .await
        .expect("generated");
    // The server's own statistics worker may hold the lease (and release meanwhile): run
    // once it is free, so every generated report is rolled up before the attack.
    let started = std::time::Instant::now();
    while balagh_app::publish::job::run(&app.state, "disclosure-test", 5_000)
        .await
        .expect("released")
        .0
        .skipped
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the statistics lease never came free"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let released = app
        .store
        .stats_release_ids(&format!("{}/", jurisdiction.as_str()))
        .await
        .unwrap();
    assert!(!released.is_empty(), "nothing released");
    app
}

fn knowledge(app: &TestApp, device: String) -> Knowledge {
    let ctx = Context::new(&app.state, None).expect("jurisdiction");
    let protected: Vec<String> = ctx
        .services
        .iter()
        .filter(|s| s.sensitive)
        .map(|s| s.code.as_str().to_owned())
        .collect();
    // Public knowledge: which operator holds which service group's contract where.
    let contracts = balagh_app::publish::release::district_operators(&ctx);
    let mut operator_districts: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    for s in ctx.services.iter().filter(|s| s.sensitive) {
        let per = operator_districts
            .entry(s.code.as_str().to_owned())
            .or_default();
        for ((group, district), operator) in &contracts {
            if group == s.group.as_str() {
                per.entry(operator.clone())
                    .or_default()
                    .insert(district.clone());
            }
        }
        per.entry("unrouted".into())
            .or_default()
            .insert("outside-zones".into());
    }
    let bbox = geo::BoundingRect::bounding_rect(&ctx.jurisdiction.boundary).expect("box");
    Knowledge {
        base: app.address.clone(),
        device,
        protected,
        services: ctx
            .services
            .iter()
            .map(|s| s.code.as_str().to_owned())
            .collect(),
        operator_districts,
        secrets: NEEDLES.iter().map(|s| s.to_string()).collect(),
        bbox: (bbox.min().y, bbox.min().x, bbox.max().y, bbox.max().x),
        sweep: 5,
        grid_m: ctx.records.grid_m(),
    }
}

fn report(label: &str, o: &Outcome) {
    let share = o.published as f64 / (o.published + o.withheld).max(1) as f64;
    println!(
        "disclosure {label}: {} requests, {} bytes; protected entries published {} withheld {} \
         (published share {:.1} %); recovered {}; channel rows withheld {}, recovered {}; \
         Open311 records {}, nearby records {}; leaks {}; record-file mismatches {}",
        o.requests,
        o.bytes,
        o.published,
        o.withheld,
        share * 100.0,
        o.recovered.len(),
        o.channel_rows_withheld,
        o.channel_recovered.len(),
        o.open311_records,
        o.nearby_records,
        o.leaks.len(),
        o.inconsistencies.len()
    );
}

fn assert_attacker_lost(o: &Outcome) {
    assert!(o.recovered.is_empty(), "recovered: {:?}", o.recovered);
    assert!(
        o.channel_recovered.is_empty(),
        "channels recovered: {:?}",
        o.channel_recovered
    );
    assert!(
        o.leaks.is_empty(),
        "leaks: {:?}",
        &o.leaks[..o.leaks.len().min(20)]
    );
    assert!(
        o.inconsistencies.is_empty(),
        "record file against tables: {:?}",
        &o.inconsistencies[..o.inconsistencies.len().min(20)]
    );
    // The attack really ran on something.
    assert!(o.open311_records > 0 && o.nearby_records > 0, "{o:?}");
    assert!(o.published > 0, "{o:?}");
}

both_databases! {
    async fn an_outsider_with_every_public_output_recovers_nothing(db: Db) {
        for (label, count) in [("sparse", 1_500), ("dense", 30_000)] {
            let app = filled(db, count, None).await;
            let device = app.device().await;
            let outcome = attack(&knowledge(&app, device)).await;
            report(&format!("{db:?} {label} ({count} reports over 120 days)"), &outcome);
            assert_attacker_lost(&outcome);
            if label == "sparse" {
                assert!(outcome.withheld > 0, "the sparse database withholds something: {outcome:?}");
            }
        }
    }

    async fn with_noise_releases_are_spent_once_and_never_by_requests(db: Db) {
        let dp = DifferentialPrivacy::new(
            Epsilon::parse("1").unwrap(),
            Epsilon::parse("4").unwrap(),
            5,
        )
        .unwrap();
        let stats = StatsSettings {
            policy: PublicationPolicy::new(5, 10, time::Duration::hours(48), Some(dp)).unwrap(),
            ..StatsSettings::default()
        };
        let app = filled(db, 1_500, Some(stats)).await;
        let ledger = app.store.epsilon_ledger(&[]).await.unwrap();
        let months = ledger.len();
        assert!(months >= 3, "one ledger line per released month: {ledger:?}");
        let path = "/api/v1/stats/summary?period=month&from=2000-01-01&to=2100-12-31";
        let first: Value = app.client.get(app.url(path)).send().await.unwrap().json().await.unwrap();
        for _ in 0..20 {
            let again: Value = app.client.get(app.url(path)).send().await.unwrap().json().await.unwrap();
            assert_eq!(again["periods"], first["periods"], "a release never changes");
            let weekly = app.client.get(app.url("/api/v1/stats/summary?period=week&from=2000-01-01&to=2100-12-31")).send().await.unwrap();
            assert_eq!(weekly.status(), 200);
        }
        assert_eq!(app.store.epsilon_ledger(&[]).await.unwrap().len(), months, "requests spent no ε");
        // Nothing for months before the first report.
        let periods = first["periods"].as_array().unwrap();
        assert_eq!(periods.len(), months);
        let oldest = periods[0]["from"].as_str().unwrap();
        let cutoff = (time::OffsetDateTime::now_utc() - time::Duration::days(121)).date();
        assert!(oldest >= &cutoff.replace_day(1).unwrap().to_string()[..], "{oldest}");
        let device = app.device().await;
        let outcome = attack(&knowledge(&app, device)).await;
        report(&format!("{db:?} noise"), &outcome);
        assert!(outcome.leaks.is_empty(), "{:?}", outcome.leaks);
    }
}
