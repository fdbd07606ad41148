//! Operators see residents by a label of one report ("Résident A3F9"), never by device id,
//! in the ticket history of the API and of the operator page; user text with bidirectional
//! overrides cannot flip the page around it.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};

/// A device: (token, id).
async fn device(app: &TestApp) -> (String, String) {
    let registered: Value = app
        .client
        .post(app.url("/api/v1/devices"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        registered["token"].as_str().unwrap().to_owned(),
        registered["device_id"].as_str().unwrap().to_owned(),
    )
}

async fn report(app: &TestApp, token: &str, key: &str, description: &str) -> String {
    let mut body = report_body("waste_bin_overflow", WEST);
    body["description"] = json!(description);
    let created = app.post_report(token, key, &body).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// The actors of an operator's view of the ticket.
async fn actors(app: &TestApp, token: &str, id: &str) -> (Vec<String>, String) {
    let response = app
        .get(token, &format!("/api/v1/operator/tickets/{id}"))
        .await;
    let text = response.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    let actors = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap().to_owned())
        .collect();
    (actors, text)
}

async fn operator_page(app: &TestApp, email: &str, id: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(app.url("/operator/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email={}&password={}",
            email.replace('@', "%40"),
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = client
        .get(app.url(&format!("/operator/tickets/{id}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

both_databases! {
    async fn operators_see_a_label_per_report_never_the_device(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let (resident, device_id) = device(&app).await;
        let first = report(&app, &resident, "label-1", "Bac renversé \u{202E}!ecnegru\u{2066} suite du texte").await;
        let second = report(&app, &resident, "label-2", "Un autre bac plein").await;

        // The resident acts twice on the first report: created, then confirmed the resolution.
        let path = format!("/api/v1/operator/tickets/{first}/actions/resolve");
        let resolved = app.post_as(&agent.token, &path, Some("\"1\""), Some(json!({"note": "vidé"}))).await;
        assert_eq!(resolved.status(), 200);
        let confirmed = app.post_as(&resident, &format!("/api/v1/reports/{first}/confirm"), None, None).await;
        assert_eq!(confirmed.status(), 200);

        let (first_actors, first_text) = actors(&app, &agent.token, &first).await;
        let (second_actors, second_text) = actors(&app, &agent.token, &second).await;
        for text in [&first_text, &second_text] {
            assert!(!text.contains(&device_id), "the device id leaked: {text}");
            assert!(!text.contains("device:"), "{text}");
        }
        let residents: Vec<&String> = first_actors.iter().filter(|a| a.starts_with("resident:")).collect();
        assert_eq!(residents.len(), 2, "{first_actors:?}");
        assert_eq!(residents[0], residents[1], "stable within the report");
        assert_eq!(actors(&app, &agent.token, &first).await.0, first_actors, "stable across reads");
        let other = second_actors.iter().find(|a| a.starts_with("resident:")).unwrap();
        assert_ne!(other, residents[0], "the same device has another label on another report");

        // The operator page shows the same label, no device id, and isolates the text.
        let page = operator_page(&app, &agent.email, &first).await;
        let label = residents[0].trim_start_matches("resident:");
        assert!(page.contains(&format!("Résident {label}")), "{page}");
        assert!(!page.contains(&device_id), "the device id leaked into the page");
        assert!(!page.contains('\u{202E}') && !page.contains('\u{2066}'), "a bidi override reached the page");
        assert!(page.contains("<bdi>Bac renversé"), "the description is not isolated");
        app.stop().await;
    }
}
