//! Sessions and tokens end for good: deactivation and password changes (by an administrator
//! or by the user) end every session and revoke every token, reactivation revives none;
//! logout needs the CSRF token; tokens are minted from sessions only; login answers say
//! what went wrong.

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use serde_json::{Value, json};

/// Logs in: (session cookie, CSRF token).
async fn session(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

/// A token minted from the session.
async fn mint(app: &TestApp, (cookie, csrf): &(String, String)) -> String {
    let created = app
        .client
        .post(app.url("/api/v1/me/tokens"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"name": "integration", "expires_in_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    created["token"].as_str().unwrap().to_owned()
}

async fn me_with_cookie(app: &TestApp, cookie: &str) -> u16 {
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", cookie);
    response.send().await.unwrap().status().as_u16()
}

async fn me_with_token(app: &TestApp, token: &str) -> u16 {
    app.get(token, "/api/v1/me").await.status().as_u16()
}

async fn patch_user(app: &TestApp, admin: &TestUser, id: uuid::Uuid, body: Value) {
    let path = format!("/api/v1/admin/users/{id}");
    let response = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

both_databases! {
    async fn deactivation_ends_sessions_and_tokens_for_good(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let login = session(&app, &agent.email, PASSWORD).await;
        let minted = mint(&app, &login).await;
        assert_eq!(me_with_cookie(&app, &login.0).await, 200);
        assert_eq!(me_with_token(&app, &minted).await, 200);

        patch_user(&app, &admin, agent.id, json!({"active": false})).await;
        patch_user(&app, &admin, agent.id, json!({"active": true})).await;
        // Reactivated, the agent logs in again; nothing from before works.
        assert_eq!(me_with_cookie(&app, &login.0).await, 401);
        assert_eq!(me_with_token(&app, &minted).await, 401);
        assert_eq!(me_with_token(&app, &agent.token).await, 401);
        let fresh = session(&app, &agent.email, PASSWORD).await;
        assert_eq!(me_with_cookie(&app, &fresh.0).await, 200);
        app.stop().await;
    }

    async fn a_new_password_ends_sessions_and_tokens(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let agent = app.user(Role::StaffAgent, None).await;

        // Set by an administrator.
        let before = session(&app, &agent.email, PASSWORD).await;
        let minted = mint(&app, &before).await;
        let by_admin = "an administrator's new passphrase";
        patch_user(&app, &admin, agent.id, json!({"password": by_admin})).await;
        assert_eq!(me_with_cookie(&app, &before.0).await, 401);
        assert_eq!(me_with_token(&app, &minted).await, 401);
        assert_eq!(me_with_token(&app, &agent.token).await, 401);

        // Changed by the user: the current password is needed, and everything ends.
        let own = session(&app, &agent.email, by_admin).await;
        let other_session = session(&app, &agent.email, by_admin).await;
        let own_token = mint(&app, &own).await;
        let change = |current: &str| {
            app.client.put(app.url("/api/v1/me/password"))
                .header("cookie", &own.0).header("x-csrf-token", &own.1)
                .json(&json!({"current_password": current, "new_password": "the agent's own passphrase"}))
                .send()
        };
        let wrong = problem(change("not my password").await.unwrap(), 401).await;
        assert_eq!(wrong["type"], "urn:balagh:problem:bad-credentials");
        assert_eq!(me_with_cookie(&app, &own.0).await, 200, "a refused change ends nothing");
        assert_eq!(change(by_admin).await.unwrap().status(), 204);
        for cookie in [&own.0, &other_session.0] {
            assert_eq!(me_with_cookie(&app, cookie).await, 401);
        }
        assert_eq!(me_with_token(&app, &own_token).await, 401);
        session(&app, &agent.email, "the agent's own passphrase").await;
        app.stop().await;
    }

    async fn logout_needs_the_csrf_token(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let (cookie, csrf) = session(&app, &agent.email, PASSWORD).await;
        let logout = |csrf: Option<&str>| {
            let mut request = app.client.post(app.url("/api/v1/auth/logout")).header("cookie", &cookie);
            if let Some(csrf) = csrf {
                request = request.header("x-csrf-token", csrf);
            }
            request.send()
        };
        let forged = problem(logout(None).await.unwrap(), 403).await;
        assert_eq!(forged["type"], "urn:balagh:problem:csrf");
        problem(logout(Some("forged")).await.unwrap(), 403).await;
        assert_eq!(me_with_cookie(&app, &cookie).await, 200, "a cross-site logout did nothing");
        assert_eq!(logout(Some(&csrf)).await.unwrap().status(), 204);
        assert_eq!(me_with_cookie(&app, &cookie).await, 401);
        app.stop().await;
    }

    async fn tokens_are_minted_from_sessions_only(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let minted = app.client.post(app.url("/api/v1/me/tokens")).bearer_auth(&agent.token)
            .json(&json!({"name": "self-renewal", "expires_in_days": 365})).send().await.unwrap();
        let refused = problem(minted, 403).await;
        assert_eq!(refused["type"], "urn:balagh:problem:session-required");
        let listed: Value = app.get(&agent.token, "/api/v1/me/tokens").await.json().await.unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1, "nothing was minted: {listed}");
        app.stop().await;
    }

    async fn login_failures_say_what_went_wrong(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let failed = app.client.post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": agent.email, "password": "wrong password"})).send().await.unwrap();
        let failed = problem(failed, 401).await;
        assert_eq!(failed["type"], "urn:balagh:problem:bad-credentials");
        assert_eq!(failed["title"], "Wrong e-mail or password");

        // The web login's lock-out says when to come back, like the API's.
        let form = |password: &str| {
            app.client.post(app.url("/operator/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("email={}&password={password}", agent.email.replace('@', "%40")))
                .send()
        };
        let mut last = form("wrong").await.unwrap();
        for _ in 0..5 {
            last = form("wrong").await.unwrap();
        }
        assert_eq!(last.status(), 429);
        let retry_after: u64 = last.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
        app.stop().await;
    }
}
