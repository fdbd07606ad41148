//! A resident's reports from the device's side: its own list, paged, and the public view of
//! reports it follows without having written them.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};

both_databases! {
    async fn a_device_lists_its_own_reports_newest_first_by_pages(db: Db) {
        let app = TestApp::spawn(db).await;
        let me = app.device().await;
        let mut references = Vec::new();
        for i in 0..5 {
            let point = (WEST.0 + 0.0002 * f64::from(i), WEST.1);
            let created: Value = app
                .post_report(&me, &format!("key-{i}"), &report_body("waste_bin_overflow", point))
                .await
                .json()
                .await
                .unwrap();
            references.push(created["reference"].as_str().unwrap().to_owned());
        }
        // Somebody else's report never shows.
        app.reported("light_out", WEST).await;

        let mut seen = Vec::new();
        let mut path = "/api/v1/me/reports?limit=2".to_owned();
        let mut pages = 0;
        loop {
            let page: Value = app.get(&me, &path).await.json().await.unwrap();
            pages += 1;
            for report in page["reports"].as_array().unwrap() {
                seen.push(report["reference"].as_str().unwrap().to_owned());
                assert_eq!(report["description"], "Test report: problem seen this morning");
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/me/reports?limit=2&cursor={cursor}"),
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        references.reverse();
        assert_eq!(seen, references, "newest first, each once");
        assert_eq!(pages, 3);

        let stranger = app.device().await;
        let none: Value = app.get(&stranger, "/api/v1/me/reports").await.json().await.unwrap();
        assert_eq!(none, json!({"reports": [], "next_cursor": null}));
        problem(app.client.get(app.url("/api/v1/me/reports")).send().await.unwrap(), 401).await;
        problem(app.get(&me, "/api/v1/me/reports?cursor=garbage").await, 400).await;
        problem(app.get(&me, "/api/v1/me/reports?limit=0").await, 400).await;
        app.stop().await;
    }

    async fn a_follower_sees_the_public_view_and_a_stranger_nothing(db: Db) {
        let app = TestApp::spawn(db).await;
        let point = (WEST.0 + 0.000_37, WEST.1 + 0.000_41);
        let (reporter, created) = app.reported("waste_bin_overflow", point).await;
        let id = created["id"].as_str().unwrap();
        let path = format!("/api/v1/reports/{id}");
        let neighbour = app.device().await;
        let stranger = app.device().await;
        problem(app.get(&neighbour, &path).await, 404).await;
        let me_too = app
            .client
            .post(app.url(&format!("{path}/support")))
            .bearer_auth(&neighbour)
            .send()
            .await
            .unwrap();
        assert_eq!(me_too.status(), 200);

        let own: Value = app.get(&reporter, &path).await.json().await.unwrap();
        assert!(own.get("viewer").is_none());
        assert_eq!(own["lat"], created["lat"]);
        let seen: Value = app.get(&neighbour, &path).await.json().await.unwrap();
        assert_eq!(seen["viewer"], "follower");
        assert_eq!(seen["reference"], created["reference"]);
        assert_eq!(seen["status"], created["status"]);
        assert_eq!(seen["attributes"], json!({}));
        assert!(seen["accuracy_m"].is_null());
        assert!(seen.get("photos").is_none() && seen.get("clocks").is_none());
        // The point on the public record grid, not the resident's exact position.
        assert_ne!((seen["lat"].clone(), seen["lon"].clone()), (created["lat"].clone(), created["lon"].clone()));
        for event in seen["history"].as_array().unwrap() {
            assert_eq!(event["kind"], "status_changed", "{event}");
        }
        problem(app.get(&stranger, &path).await, 404).await;

        // Once it stops following, the report is gone for it too.
        let unfollow = app
            .client
            .delete(app.url(&format!("{path}/follow")))
            .bearer_auth(&neighbour)
            .send()
            .await
            .unwrap();
        assert!(unfollow.status().is_success(), "{}", unfollow.status());
        problem(app.get(&neighbour, &path).await, 404).await;
        app.stop().await;
    }
}

both_databases! {
    async fn the_resident_answers_the_operators_question_and_the_ticket_resumes(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let (reporter, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let reply = |token: String, text: &'static str| {
            let request = app
                .client
                .post(app.url(&format!("/api/v1/reports/{id}/reply")))
                .bearer_auth(token)
                .json(&json!({ "text": text }));
            async move { request.send().await.unwrap() }
        };
        // No question yet.
        problem(reply(reporter.clone(), "Behind the mosque").await, 409).await;
        operator_act(&app, &agent.token, &report, "acknowledge", json!({})).await;
        operator_act(&app, &agent.token, &report, "start", json!({})).await;
        operator_act(&app, &agent.token, &report, "pause", json!({"reason": "third_party"})).await;
        // Paused, but not for the resident.
        problem(reply(reporter.clone(), "Behind the mosque").await, 409).await;
        operator_act(&app, &agent.token, &report, "resume", json!({})).await;
        operator_act(&app, &agent.token, &report, "pause", json!({"reason": "awaiting_resident", "note": "Which bin exactly?"})).await;

        problem(reply(app.device().await, "Not mine").await, 404).await;
        problem(reply(reporter.clone(), "   ").await, 422).await;
        let answered = reply(reporter.clone(), "The green one behind the mosque").await;
        assert_eq!(answered.status(), 200);
        let answered: Value = answered.json().await.unwrap();
        assert_eq!(answered["status"], "in_progress");
        // The operator sees the answer in the ticket's history.
        let ticket: Value = app
            .get(&agent.token, &format!("/api/v1/operator/tickets/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ticket["status"], "in_progress");
        let history = ticket["history"].as_array().unwrap();
        let last = history.last().unwrap();
        assert_eq!(last["data"]["action"], "resume", "{last}");
        assert_eq!(last["data"]["note"], "The green one behind the mosque");
        // Answered once: no question waits any more.
        problem(reply(reporter, "Again").await, 409).await;
        app.stop().await;
    }
}
