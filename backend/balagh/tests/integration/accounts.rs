//! Logging in, sessions with CSRF protection, API tokens, throttling, user administration.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Sends every (email, password) login at the same time; the statuses in any order.
async fn at_once(app: &TestApp, attempts: impl Iterator<Item = (String, String)>) -> Vec<u16> {
    let requests = attempts.map(|(email, password)| async move {
        login(app, &email, &password).await.status().as_u16()
    });
    futures_util::future::join_all(requests).await
}

/// (401s, 429s); any other status fails the test.
fn tally(statuses: &[u16]) -> (usize, usize) {
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 429)),
        "{statuses:?}"
    );
    let unauthorized = statuses.iter().filter(|s| **s == 401).count();
    (unauthorized, statuses.len() - unauthorized)
}

both_databases! {
    async fn a_session_cookie_needs_its_csrf_token_for_changes(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let response = login(&app, &admin.email, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let session = cookie.split(';').next().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["role"], "staff_admin");
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();

        let me: Value = app.client.get(app.url("/api/v1/me")).header("cookie", &session)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(me["email"], admin.email);

        let create = |csrf: Option<&str>| {
            let mut request = app.client.post(app.url("/api/v1/me/tokens"))
                .header("cookie", &session)
                .json(&json!({"name": "integration", "expires_in_days": 30}));
            if let Some(csrf) = csrf {
                request = request.header("x-csrf-token", csrf);
            }
            request.send()
        };
        let p = problem(create(None).await.unwrap(), 403).await;
        assert_eq!(p["type"], "urn:balagh:problem:csrf");
        problem(create(Some("forged")).await.unwrap(), 403).await;
        let created = create(Some(&csrf)).await.unwrap();
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        let token = created["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("bat_"));

        // The token works on its own, is listed without its secret, and can be revoked.
        let me = app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(me.status(), 200);
        let listed = app.client.get(app.url("/api/v1/me/tokens")).bearer_auth(&token)
            .send().await.unwrap().text().await.unwrap();
        assert!(listed.contains("integration") && !listed.contains(&token));
        let revoke = app.client.delete(app.url(&format!("/api/v1/me/tokens/{}", created["id"].as_str().unwrap())))
            .bearer_auth(&admin.token).send().await.unwrap();
        assert_eq!(revoke.status(), 204);
        problem(app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap(), 401).await;

        // Logging out ends the session.
        let out = app.client.post(app.url("/api/v1/auth/logout")).header("cookie", &session)
            .header("x-csrf-token", &csrf).send().await.unwrap();
        assert_eq!(out.status(), 204);
        problem(app.client.get(app.url("/api/v1/me")).header("cookie", &session).send().await.unwrap(), 401).await;
        app.stop().await;
    }

    async fn repeated_wrong_passwords_lock_the_account(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::StaffAgent, None).await;
        for _ in 0..4 {
            problem(login(&app, &agent.email, "not the password at all").await, 401).await;
        }
        let locked = login(&app, &agent.email, "not the password at all").await;
        let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((800..=900).contains(&retry_after), "{retry_after}");
        problem(locked, 429).await;
        // Even the right password is refused while locked; another account is not affected.
        problem(login(&app, &agent.email, PASSWORD).await, 429).await;
        let other = app.user(Role::StaffAnalyst, None).await;
        assert_eq!(login(&app, &other.email, PASSWORD).await.status(), 200);
        // Unknown accounts answer like wrong passwords.
        problem(login(&app, "nobody@example.ma", PASSWORD).await, 401).await;
        app.stop().await;
    }

    async fn simultaneous_attempts_cannot_outrun_the_login_throttle(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::StaffAgent, None).await;
        // 40 wrong passwords on one account at once: five are checked (four 401, and the
        // fifth answers with the lock-out), every other one is refused unchecked.
        let statuses = at_once(&app, (0..40).map(|_| (agent.email.clone(), "wrong password at once".to_owned()))).await;
        let (unauthorized, locked) = tally(&statuses);
        println!("40 simultaneous attempts on one account ({db:?}): {unauthorized} x 401, {locked} x 429");
        assert_eq!((unauthorized, locked), (4, 36), "{statuses:?}");
        // The right password is refused too until the window ends.
        problem(login(&app, &agent.email, PASSWORD).await, 429).await;

        // 30 at once from the same address, each on another account: the address allows
        // twenty checks per window, five of which the batch above used (attempts refused by
        // the account's count never reach the address's): fifteen are checked, the last
        // one answering with the lock-out.
        let statuses = at_once(&app, (0..30).map(|i| (format!("nobody{i}@example.ma"), "guess".to_owned()))).await;
        let (unauthorized, locked) = tally(&statuses);
        println!("30 simultaneous attempts from one address ({db:?}): {unauthorized} x 401, {locked} x 429");
        assert_eq!((unauthorized, locked), (14, 16), "{statuses:?}");
        let other = app.user(Role::StaffAnalyst, None).await;
        problem(login(&app, &other.email, PASSWORD).await, 429).await;
        app.stop().await;
    }

    async fn admins_manage_users_of_their_commune(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let nadafa = app.operator_id("nadafa-demo").await;
        let create = |body: Value| app.post_as(&admin.token, "/api/v1/admin/users", None, Some(body));
        let created = create(json!({
            "email": "Agent@Nadafa.ma", "display_name": "Agent", "password": PASSWORD,
            "role": "operator_agent", "operator_id": nadafa.0
        })).await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        assert_eq!(created["email"], "agent@nadafa.ma");
        assert_eq!(created["operator_id"], json!(nadafa.0));
        assert_eq!(login(&app, "agent@nadafa.ma", PASSWORD).await.status(), 200);

        let again = create(json!({
            "email": "agent@nadafa.ma", "display_name": "Agent", "password": PASSWORD,
            "role": "operator_agent", "operator_id": nadafa.0
        })).await;
        problem(again, 409).await;
        let bad = create(json!({
            "email": "x", "display_name": "", "password": "short", "role": "operator_agent",
            "operator_id": uuid::Uuid::now_v7()
        })).await;
        let p = problem(bad, 422).await;
        let f = fields(&p);
        for field in ["email", "password", "display_name", "operator_id"] {
            assert!(f.contains(&field.to_owned()), "{field}: {p}");
        }

        // Deactivation stops logins and tokens at once.
        let path = format!("/api/v1/admin/users/{}", created["id"].as_str().unwrap());
        let patched = app.client.patch(app.url(&path)).bearer_auth(&admin.token)
            .json(&json!({"active": false})).send().await.unwrap();
        assert_eq!(patched.status(), 200);
        problem(login(&app, "agent@nadafa.ma", PASSWORD).await, 401).await;

        let listed: Value = app.client.get(app.url("/api/v1/admin/users")).bearer_auth(&admin.token)
            .send().await.unwrap().json().await.unwrap();
        assert!(listed.as_array().unwrap().iter().any(|u| u["email"] == "agent@nadafa.ma"));

        // Only administrators.
        let agent = app.user(Role::StaffAgent, None).await;
        problem(app.client.get(app.url("/api/v1/admin/users")).bearer_auth(&agent.token).send().await.unwrap(), 403).await;
        app.stop().await;
    }
}
