//! Device registration cannot multiply budgets: new devices per address, "me too" per
//! report per address, and the optional proof of work.

use crate::both_databases;
use crate::harness::*;
use balagh_api::ApiSettings;
use balagh_api::abuse::DeviceLimits;
use serde_json::Value;

async fn register(app: &TestApp, proof: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/v1/devices"));
    if let Some(proof) = proof {
        request = request.header("x-balagh-proof", proof);
    }
    request.send().await.unwrap()
}

async fn support(app: &TestApp, device: &str, report: &str) -> reqwest::Response {
    app.post_as(
        device,
        &format!("/api/v1/reports/{report}/support"),
        None,
        None,
    )
    .await
}

both_databases! {
    async fn one_address_registers_a_bounded_number_of_devices_and_supports(db: Db) {
        let limits = DeviceLimits {
            new_devices_per_address_per_hour: 8,
            supports_per_address_per_report: 2,
            proof_of_work_bits: 0,
        };
        let app = TestApp::spawn_with(db, ApiSettings { devices: limits, ..ApiSettings::default() }).await;
        // Twelve registrations at once from one address: eight get a device.
        let answers = futures_util::future::join_all((0..12).map(|_| register(&app, None))).await;
        let mut tokens = Vec::new();
        let mut refused = 0;
        for answer in answers {
            match answer.status().as_u16() {
                201 => {
                    let body: Value = answer.json().await.unwrap();
                    tokens.push(body["token"].as_str().unwrap().to_owned());
                }
                429 => {
                    let seconds: u64 = answer.headers()["retry-after"].to_str().unwrap().parse().unwrap();
                    assert!((1..=3600).contains(&seconds), "{seconds}");
                    problem(answer, 429).await;
                    refused += 1;
                }
                other => panic!("unexpected {other}"),
            }
        }
        println!("12 simultaneous registrations from one address ({db:?}): {} registered, {refused} refused", tokens.len());
        assert_eq!((tokens.len(), refused), (8, 4));

        // "Me too" from fresh devices of the same address: two count, the third is refused.
        let (reporter, rest) = tokens.split_first().unwrap();
        let created = app.post_report(reporter, "support-limit", &report_body("waste_bin_overflow", WEST)).await;
        assert_eq!(created.status(), 201);
        let report: Value = created.json().await.unwrap();
        let id = report["id"].as_str().unwrap();
        assert_eq!(support(&app, &rest[0], id).await.status(), 200);
        // Asking again changes nothing and costs nothing.
        let again: Value = support(&app, &rest[0], id).await.json().await.unwrap();
        assert_eq!(again["already_supported"], true);
        let second: Value = support(&app, &rest[1], id).await.json().await.unwrap();
        assert_eq!(second["supporters"], 2);
        problem(support(&app, &rest[2], id).await, 429).await;
        let seen: Value = app.get(reporter, &format!("/api/v1/reports/{id}")).await.json().await.unwrap();
        assert_eq!(seen["supporters"], 2, "{seen}");
        app.stop().await;
    }

    async fn a_proof_of_work_can_be_required(db: Db) {
        let limits = DeviceLimits { proof_of_work_bits: 8, ..DeviceLimits::default() };
        let app = TestApp::spawn_with(db, ApiSettings { devices: limits, ..ApiSettings::default() }).await;
        let refused = problem(register(&app, None).await, 403).await;
        assert_eq!(refused["type"], "urn:balagh:problem:proof-of-work-required");
        assert!(refused["detail"].as_str().unwrap().contains("8 zero bits"), "{refused}");
        let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
        let proof = balagh_api::abuse::solve_proof(8, minute);
        assert_eq!(register(&app, Some(&proof)).await.status(), 201);
        // One proof, one device.
        problem(register(&app, Some(&proof)).await, 403).await;
        // A proof for a minute long gone is refused.
        let stale = balagh_api::abuse::solve_proof(8, minute - 60);
        problem(register(&app, Some(&stale)).await, 403).await;
        app.stop().await;
    }
}
