//! Service groups as data (issue 19) on both databases: a commune adds `parks`, puts a
//! service in it, gives an operator a contract for it; a resident report is routed there and
//! every list of groups (staff API, services API, resident app, Open311, SMS menu) shows it.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};
use std::time::Duration;

fn parks() -> Value {
    json!({"code": "parks", "name": {"fr": "Parcs", "ar": "الحدائق", "en": "Parks"}, "order": 25})
}

fn bench_service(group: &str) -> Value {
    json!({
        "code": "broken_bench", "group": group,
        "name": {"fr": "Banc cassé", "ar": "مقعد مكسور", "en": "Broken bench"},
        "description": {"fr": "Un banc public est cassé"}, "keywords": ["banc"],
        "sensitive": false, "attributes": []
    })
}

/// A contract of `jardins-tetouan` for parks over the whole commune (north included).
fn parks_zone() -> Value {
    json!({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"contract": "TET-PARKS-1", "operator": "jardins-tetouan",
            "operator_name": "Jardins de Tétouan", "service_group": "parks", "zone": "Commune",
            "valid_from": "2026-01-01T00:00:00Z"},
        "geometry": {"type": "Polygon", "coordinates": [[[-5.50, 35.50], [-5.25, 35.50],
            [-5.25, 35.70], [-5.50, 35.70], [-5.50, 35.50]]]}
    }]})
}

/// The first SMS answer to `text` from a new number, over an SMSSync gateway (answers wait
/// for the phone's poll).
async fn sms_answer(app: &TestApp, admin: &str, text: &'static str) -> String {
    let created = app
        .post_as(
            admin,
            "/api/v1/staff/sms-gateways",
            None,
            Some(json!({
                "kind": "smssync", "name": "SMSSync", "secret": "sixteen chars secret"
            })),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let path = created["inbound_path"].as_str().unwrap().to_owned();
    let fields = [
        ("from", "+212600000009"),
        ("message", text),
        ("message_id", "g1"),
        ("sent_to", "+212539000000"),
        ("secret", "sixteen chars secret"),
        ("sent_timestamp", "1765101600000"),
    ];
    let posted = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(balagh_api::sms::form(&fields))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    for _ in 0..400 {
        let poll: Value = app
            .client
            .get(app.url(&format!("{path}?task=send")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(m) = poll["payload"]["messages"]
            .as_array()
            .and_then(|m| m.first())
        {
            return m["message"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no SMS answer to {text}");
}

both_databases! {
    async fn a_commune_adds_parks_and_everything_follows(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let agent = app.user(Role::StaffAgent, None).await;

        // The built-in groups, unchanged.
        let groups: Value = app.get(&agent.token, "/api/v1/staff/service-groups").await.json().await.unwrap();
        let codes: Vec<&str> = groups.as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["waste", "lighting", "transport"]);
        assert_eq!(groups[0]["name"], json!({"fr": "Déchets", "ar": "النفايات", "en": "Waste"}));

        // Checks: a bad slug (422), a non-administrator (403), a duplicate (409).
        let mut bad = parks();
        bad["code"] = json!("Parks!");
        let p = problem(app.post_as(&admin.token, "/api/v1/staff/service-groups", None, Some(bad)).await, 422).await;
        assert_eq!(fields(&p), vec!["code".to_owned()]);
        problem(app.post_as(&agent.token, "/api/v1/staff/service-groups", None, Some(parks())).await, 403).await;
        let created = app.post_as(&admin.token, "/api/v1/staff/service-groups", None, Some(parks())).await;
        assert_eq!(created.status(), 201);
        problem(app.post_as(&admin.token, "/api/v1/staff/service-groups", None, Some(parks())).await, 409).await;
        // A group given no order comes after the built-in ones.
        let markets = json!({"code": "markets", "name": {"fr": "Marchés"}});
        assert_eq!(app.post_as(&admin.token, "/api/v1/staff/service-groups", None, Some(markets)).await.status(), 201);
        let mut duplicate_waste = parks();
        duplicate_waste["code"] = json!("waste");
        problem(app.post_as(&admin.token, "/api/v1/staff/service-groups", None, Some(duplicate_waste)).await, 409).await;

        // A service in the new group (an unknown group is refused), and a contract for it.
        let put = |body: Value| app.client.put(app.url("/api/v1/staff/services/broken_bench"))
            .bearer_auth(&admin.token).json(&body).send();
        let p = problem(put(bench_service("water")).await.unwrap(), 422).await;
        assert_eq!(fields(&p), vec!["group".to_owned()]);
        assert_eq!(put(bench_service("parks")).await.unwrap().status(), 200);
        let imported = app.post_as(&admin.token, "/api/v1/staff/zones", None, Some(parks_zone())).await;
        assert_eq!(imported.status(), 200, "{:?}", imported.text().await);
        let contracts: Value = app.get(&agent.token, "/api/v1/staff/contracts").await.json().await.unwrap();
        assert!(contracts.as_array().unwrap().iter().any(|c| c["reference"] == "TET-PARKS-1" && c["service_group"] == "parks"));

        // A resident's report goes to the parks operator.
        let resident = app.device().await;
        let routed = app.post_report(&resident, "bench-1", &report_body("broken_bench", NORTH_CENTRE)).await;
        assert_eq!(routed.status(), 201);
        let routed: Value = routed.json().await.unwrap();
        assert_eq!(routed["operator"]["slug"], "jardins-tetouan", "{routed}");
        // Waste reports still go where they went.
        let waste: Value = app.post_report(&resident, "waste-1", &report_body("waste_bin_overflow", NORTH_CENTRE)).await.json().await.unwrap();
        assert_ne!(waste["operator"]["slug"], "jardins-tetouan");

        // The services API names the group in the page language and lists the groups in order.
        let listed: Value = app.client.get(app.url("/api/v1/services")).header("Accept-Language", "ar")
            .send().await.unwrap().json().await.unwrap();
        let service = |code: &str| listed["services"].as_array().unwrap().iter().find(|s| s["code"] == code).cloned().unwrap();
        assert_eq!(service("broken_bench")["group"], "parks");
        assert_eq!(service("broken_bench")["group_name"], "الحدائق");
        assert_eq!(service("waste_bin_overflow")["group_name"], "النفايات");
        let order: Vec<&str> = listed["groups"].as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
        assert_eq!(order, ["waste", "lighting", "parks", "transport", "markets"]);
        assert_eq!(listed["groups"][4]["name"], "Marchés", "French when the commune gave no Arabic name");

        // Open311 carries the group code, as for the built-in groups.
        let o311: Value = app.client.get(app.url("/open311/v2/services.json")).send().await.unwrap().json().await.unwrap();
        let bench = o311.as_array().unwrap().iter().find(|s| s["service_code"] == "broken_bench").unwrap();
        assert_eq!(bench["group"], "parks");

        // The resident app shows the group, named in the page's language, after lighting.
        let page = app.client.get(app.url("/?lang=en")).send().await.unwrap().text().await.unwrap();
        let parks_at = page.find(r#"data-group="parks""#).expect("parks group on the page");
        assert!(page[parks_at..].contains("Parks"));
        assert!(page.find(r#"data-group="lighting""#).unwrap() < parks_at);
        assert!(parks_at < page.find(r#"data-group="transport""#).unwrap());

        // The SMS menu is numbered from the data: parks third, named by the commune.
        let menu = sms_answer(&app, &admin.token, "Bonjour").await;
        assert!(menu.contains("1 Déchets, 2 Éclairage, 3 Parcs, 4 Bus"), "{menu}");

        // Renaming: administrators only; an unknown group is 404.
        let mut renamed = parks();
        renamed["name"]["en"] = json!("Parks and gardens");
        let put_group = |path: &str, body: Value, token: &str| app.client.put(app.url(path)).bearer_auth(token.to_owned()).json(&body).send();
        assert_eq!(put_group("/api/v1/staff/service-groups/parks", renamed.clone(), &admin.token).await.unwrap().status(), 200);
        problem(put_group("/api/v1/staff/service-groups/parks", renamed.clone(), &agent.token).await.unwrap(), 403).await;
        let mut water = renamed.clone();
        water["code"] = json!("water");
        problem(put_group("/api/v1/staff/service-groups/water", water, &admin.token).await.unwrap(), 404).await;
        let listed: Value = app.client.get(app.url("/api/v1/services")).header("Accept-Language", "en")
            .send().await.unwrap().json().await.unwrap();
        let bench = listed["services"].as_array().unwrap().iter().find(|s| s["code"] == "broken_bench").unwrap();
        assert_eq!(bench["group_name"], "Parks and gardens");
        app.stop().await;
    }
}
