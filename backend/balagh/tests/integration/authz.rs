//! The authorization matrix: every endpoint × every kind of caller. Another company's ticket
//! and another resident's report are 404 (their existence does not leak); a role that may
//! not do something is 403; nobody is 401. "ok" means the caller got past authorization
//! (the request may still be refused for its content, which these requests are built to be,
//! so that nothing changes between rows).

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};

const CALLERS: [&str; 9] = [
    "anonymous",
    "reporter",
    "other resident",
    "staff_admin",
    "staff_agent",
    "staff_analyst",
    "operator A manager",
    "operator A agent",
    "operator B agent",
];

/// Method, path, body, If-Match, and the expected answer class per caller (see CALLERS).
type Row<'a> = (&'a str, String, Option<Value>, Option<&'a str>, &'a str);

fn class(status: u16) -> char {
    match status {
        401 => 'u',
        403 => 'f',
        404 => 'n',
        _ => 'o',
    }
}

both_databases! {
    async fn every_endpoint_answers_every_caller_as_it_should(db: Db) {
        let app = TestApp::spawn(db).await;
        let (reporter, report) = app.reported("waste_bin_overflow", WEST).await;
        let other = app.device().await;
        let users = [
            app.user(Role::StaffAdmin, None).await,
            app.user(Role::StaffAgent, None).await,
            app.user(Role::StaffAnalyst, None).await,
            app.user(Role::OperatorManager, Some("nadafa-demo")).await,
            app.user(Role::OperatorAgent, Some("nadafa-demo")).await,
            app.user(Role::OperatorAgent, Some("bia-nord-demo")).await,
        ];
        let mut tokens: Vec<Option<String>> = vec![None, Some(reporter), Some(other)];
        tokens.extend(users.iter().map(|u| Some(u.token.clone())));
        let id = report["id"].as_str().unwrap();
        let nadafa = app.operator_id("nadafa-demo").await.0;
        let agent_a = users[4].id;
        let random = uuid::Uuid::now_v7();
        let stale = Some("\"999\"");
        let rows: Vec<Row> = vec![
            ("GET", "/api/v1/services".into(), None, None, "ooooooooo"),
            ("GET", "/healthz".into(), None, None, "ooooooooo"),
            ("GET", "/api/openapi.json".into(), None, None, "ooooooooo"),
            ("POST", "/api/v1/reports".into(), Some(json!({})), None, "uooffffff"),
            ("GET", format!("/api/v1/reports/{id}"), None, None, "uonffffff"),
            ("GET", "/api/v1/reports/nearby?lat=35.575&lon=-5.4&service_code=light_out".into(), None, None, "uooffffff"),
            ("POST", format!("/api/v1/reports/{id}/support"), None, None, "uooffffff"),
            ("POST", format!("/api/v1/reports/{id}/confirm"), None, None, "uonffffff"),
            ("POST", format!("/api/v1/reports/{id}/reopen"), Some(json!({"comment": "x"})), None, "uonffffff"),
            ("POST", format!("/api/v1/reports/{id}/rating"), Some(json!({"stars": 5})), None, "uonffffff"),
            ("GET", "/api/v1/me".into(), None, None, "uffoooooo"),
            ("GET", "/api/v1/me/tokens".into(), None, None, "uffoooooo"),
            // Users call with API tokens here: minting needs a session (tests/sessions.rs).
            ("POST", "/api/v1/me/tokens".into(), Some(json!({"name": ""})), None, "uffffffff"),
            ("DELETE", format!("/api/v1/me/tokens/{random}"), None, None, "uffnnnnnn"),
            ("PUT", "/api/v1/me/password".into(), Some(json!({"current_password": "x", "new_password": "short"})), None, "uffoooooo"),
            ("GET", "/api/v1/admin/users".into(), None, None, "uffofffff"),
            ("POST", "/api/v1/admin/users".into(), Some(json!({"email": "x", "display_name": "", "password": "", "role": "staff_agent"})), None, "uffofffff"),
            ("PATCH", format!("/api/v1/admin/users/{agent_a}"), Some(json!({"display_name": ""})), None, "uffofffff"),
            ("GET", "/api/v1/operator/tickets".into(), None, None, "ufffffooo"),
            ("GET", format!("/api/v1/operator/tickets/{id}"), None, None, "ufffffoon"),
            ("POST", format!("/api/v1/operator/tickets/{id}/actions/acknowledge"), None, stale, "ufffffoon"),
            ("POST", format!("/api/v1/operator/tickets/{id}/assign"), Some(json!({"agent_id": null})), stale, "ufffffoon"),
            ("POST", format!("/api/v1/operator/tickets/{id}/comments"), Some(json!({"text": "x"})), stale, "ufffffoon"),
            ("PUT", "/api/v1/operator/webhook".into(), Some(json!({"url": "ftp://x"})), None, "ufffffoff"),
            ("GET", "/api/v1/operator/webhook/deliveries".into(), None, None, "ufffffoff"),
            ("POST", format!("/api/v1/operator/webhook/deliveries/{random}/replay"), None, None, "ufffffnff"),
            ("GET", "/api/v1/staff/reports".into(), None, None, "uffooofff"),
            ("GET", format!("/api/v1/staff/reports/{id}"), None, None, "uffooofff"),
            ("POST", format!("/api/v1/staff/reports/{id}/actions/dismiss"), Some(json!({"reason": "x"})), stale, "uffooffff"),
            ("POST", format!("/api/v1/staff/reports/{id}/moderation"), Some(json!({"hide_description": true, "reason": "x"})), stale, "uffooffff"),
            ("POST", format!("/api/v1/staff/reports/{id}/comments"), Some(json!({"text": "x"})), stale, "uffooffff"),
            ("GET", format!("/api/v1/staff/operators/{nadafa}/webhook/deliveries"), None, None, "uffooffff"),
            ("POST", "/api/v1/staff/reports".into(), Some(json!({"service_code": "x", "lat": 0, "lon": 0, "description": "", "channel": "app"})), None, "uffooffff"),
            ("PUT", "/api/v1/staff/services/light_out".into(), Some(json!({})), None, "uffofffff"),
            ("POST", "/api/v1/staff/zones".into(), Some(json!({"type": "FeatureCollection", "features": []})), None, "uffofffff"),
            ("GET", "/api/v1/staff/operators".into(), None, None, "uffooofff"),
            ("GET", "/api/v1/staff/contracts".into(), None, None, "uffooofff"),
            ("GET", "/api/v1/staff/service-groups".into(), None, None, "uffooofff"),
            ("POST", "/api/v1/staff/service-groups".into(), Some(json!({})), None, "uffofffff"),
            ("PUT", "/api/v1/staff/service-groups/waste".into(), Some(json!({})), None, "uffofffff"),
            ("POST", format!("/api/v1/staff/operators/{nadafa}/webhook/deliveries/{random}/replay"), None, None, "uffnnffff"),
        ];
        let mut wrong = Vec::new();
        for (method, path, body, if_match, expected) in &rows {
            let expected: Vec<char> = expected.chars().collect();
            assert_eq!(expected.len(), CALLERS.len(), "{method} {path}");
            for (caller, token) in tokens.iter().enumerate() {
                let mut request = app.client.request(method.parse().unwrap(), app.url(path));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if let Some(tag) = if_match {
                    request = request.header("If-Match", *tag);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                let status = request.send().await.unwrap().status().as_u16();
                assert!(status < 500, "{method} {path} as {}: {status}", CALLERS[caller]);
                let want = expected.get(caller).copied().unwrap_or('?');
                if class(status) != want {
                    wrong.push(format!("{method} {path} as {}: {status}, expected {want}", CALLERS[caller]));
                }
            }
        }
        assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
        // Nothing the matrix sent changed the report (only "me too" from the other resident).
        let after = app.store.report(uuid::Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
        assert_eq!(after.status, balagh_domain::ReportStatus::New);
        assert!(!after.description_hidden);
        app.stop().await;
    }
}
