//! The outbound policy, end to end: every server-side request forgery form the hostile
//! review tried (and the classic list) is refused when a webhook or a Web Push endpoint is
//! configured, and again when a delivery is attempted with a URL that got into the database
//! anyway; only the loopback test receivers ever see a request, and a receiver's error body
//! never reaches the operator.

use crate::both_databases;
use crate::harness::*;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use balagh_domain::account::Role;
use balagh_store::{Ts, WebhookEndpoint};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A receiver on `ip:0` counting every request; `/fail` answers 500 with a body that must
/// never be shown to anyone.
async fn receiver(ip: &str) -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let (ok, failed) = (hits.clone(), hits.clone());
    let app = Router::new()
        .route(
            "/hook",
            post(move || async move {
                ok.fetch_add(1, Ordering::SeqCst);
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/fail",
            post(move || async move {
                failed.fetch_add(1, Ordering::SeqCst);
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL-ADMIN-PAGE db=10.0.0.5",
                )
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND });
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0"))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, hits)
}

/// The forms tried: the review's bypasses and the classic list. `local` is the loopback
/// receiver at 127.0.0.1, `other` a second one at 127.0.0.2.
fn forged_urls(local: u16, other: u16) -> Vec<String> {
    vec![
        format!("http://127.0.0.2:{other}\\@127.0.0.1:{local}/hook"),
        format!("https://127.0.0.2:{other}/hook"),
        format!("http://127.0.0.2:{other}/hook"),
        format!("http://2130706433:{local}/hook"),
        format!("http://2130706434:{other}/hook"),
        format!("http://0177.0.0.1:{local}/hook"),
        format!("http://0x7f.0.0.1:{local}/hook"),
        format!("http://0x7f000001:{local}/hook"),
        format!("http://127.1:{local}/hook"),
        format!("http://[::ffff:127.0.0.1]:{local}/hook"),
        format!("http://[::ffff:7f00:2]:{other}/hook"),
        format!("http://0.0.0.0:{local}/hook"),
        format!("https://0.0.0.0:{local}/hook"),
        format!("http://[::]:{local}/hook"),
        format!("http://user:secret@127.0.0.1:{local}/hook"),
        format!("http://127.0.0.1:{local}@127.0.0.2:{other}/hook"),
        format!("https://operator.example@127.0.0.2:{other}/hook"),
        format!("https://localhost:{local}/hook"),
        format!("http://localhost:{local}/hook"),
        format!("https://169.254.169.254/latest/meta-data/"),
        format!("https://10.0.0.1/hook"),
        format!("https://100.64.0.1/hook"),
        format!("https://[fe80::1]/hook"),
        format!("https://192.0.2.1/hook"),
        format!("ftp://127.0.0.1:{local}/hook"),
    ]
}

fn subscription(endpoint: &str) -> Value {
    json!({
        "channel": "web_push",
        "language": "fr",
        "subscription": {
            "endpoint": endpoint,
            "keys": {
                "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                "auth": "BTBZMqHH6r4Tts7J_aSIgg"
            }
        }
    })
}

async fn wait_for_dead_letter(app: &TestApp, token: &str) -> Value {
    for _ in 0..200 {
        let dead: Value = app
            .get(token, "/api/v1/operator/webhook/deliveries?state=dead")
            .await
            .json()
            .await
            .unwrap();
        if let Some(first) = dead.as_array().and_then(|rows| rows.first()) {
            return first.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no dead letter");
}

both_databases! {
    async fn forged_destinations_are_refused_at_configuration_and_at_delivery(db: Db) {
        let app = TestApp::spawn(db).await;
        let (local, local_hits) = receiver("127.0.0.1").await;
        let (other, other_hits) = receiver("127.0.0.2").await;
        let manager = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let device = app.device().await;
        let forms = forged_urls(local, other);

        let mut refused_at_configuration = 0;
        for url in &forms {
            let webhook = app.client.put(app.url("/api/v1/operator/webhook")).bearer_auth(&manager.token)
                .json(&json!({"url": url})).send().await.unwrap();
            let body = problem(webhook, 422).await;
            assert_eq!(fields(&body), ["url"], "{url}");
            let push = app.client.put(app.url("/api/v1/devices/me/push")).bearer_auth(&device)
                .json(&subscription(url)).send().await.unwrap();
            let body = problem(push, 422).await;
            assert_eq!(fields(&body), ["subscription.endpoint"], "{url}");
            refused_at_configuration += 1;
        }

        // A URL that reached the database some other way (an older, looser check; a direct
        // edit) is refused again when the worker delivers: dead-lettered, never sent.
        let operator = app.operator_id("nadafa-demo").await;
        let mut refused_at_delivery = 0;
        for url in &forms {
            app.store.set_webhook_endpoint(&WebhookEndpoint {
                operator_id: operator.0,
                url: url.clone(),
                secret: balagh_webhooks::WebhookSecret::generate().expose(),
                active: true,
            }, Ts::now()).await.unwrap();
            app.reported("waste_bin_overflow", WEST).await;
            let dead = wait_for_dead_letter(&app, &manager.token).await;
            let error = dead["last_error"].as_str().unwrap();
            assert!(error.contains("outbound policy"), "{url}: {error}");
            refused_at_delivery += 1;
            // Switch the endpoint off and drop the dead letter before the next form.
            app.store.set_webhook_endpoint(&WebhookEndpoint {
                operator_id: operator.0,
                url: url.clone(),
                secret: balagh_webhooks::WebhookSecret::generate().expose(),
                active: false,
            }, Ts::now()).await.unwrap();
            clear_dead_letters(&app).await;
        }

        // Web Push deliveries check again too, with the server's own policy.
        let push = balagh_push::PushClient::new(balagh_push::PushSettings {
            web_push: Some(balagh_push::WebPushConfig::from_base64url(
                "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA", "mailto:tests@balagh.invalid").unwrap()),
            outbound: app.state.settings().outbound.clone(),
            ..balagh_push::PushSettings::default()
        }).unwrap();
        let keys = subscription("")["subscription"]["keys"].clone();
        let mut push_refused_at_delivery = 0;
        for url in &forms {
            let outcome = push.send(&balagh_push::PushTarget::WebPush {
                endpoint: url.clone(),
                p256dh: keys["p256dh"].as_str().unwrap().to_owned(),
                auth: keys["auth"].as_str().unwrap().to_owned(),
            }, &balagh_push::PushMessage::new("t", "b")).await;
            assert!(matches!(&outcome, balagh_push::SendOutcome::Gone { reason } if reason.contains("outbound policy")),
                "{url}: {outcome:?}");
            push_refused_at_delivery += 1;
        }
        assert_eq!(local_hits.load(Ordering::SeqCst), 0, "a forged URL reached 127.0.0.1");
        assert_eq!(other_hits.load(Ordering::SeqCst), 0, "a forged URL reached 127.0.0.2");

        // The development exemption still reaches the local receiver; its error body is
        // recorded as a status and a classification only.
        let set = app.client.put(app.url("/api/v1/operator/webhook")).bearer_auth(&manager.token)
            .json(&json!({"url": format!("http://127.0.0.1:{local}/fail")})).send().await.unwrap();
        assert_eq!(set.status(), 200);
        app.reported("waste_bin_overflow", WEST).await;
        let mut pending = Value::Null;
        for _ in 0..200 {
            pending = app.get(&manager.token, "/api/v1/operator/webhook/deliveries?state=pending").await.json().await.unwrap();
            if pending.as_array().unwrap().iter().any(|d| d["last_error"].is_string()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let recorded = pending.to_string();
        assert!(recorded.contains("HTTP 500: receiver error"), "{recorded}");
        assert!(!recorded.contains("INTERNAL-ADMIN-PAGE"), "the receiver's body leaked: {recorded}");
        let delivered_locally = local_hits.load(Ordering::SeqCst);
        assert!(delivered_locally >= 1);
        assert_eq!(other_hits.load(Ordering::SeqCst), 0);

        println!(
            "outbound policy ({db:?}): {} forms tried; refused at configuration: {} webhook + {} Web Push; \
             refused at delivery: {} webhook + {} Web Push; requests received: {} by the 127.0.0.1 test \
             receiver (the allowed control URL only), 0 by 127.0.0.2",
            forms.len(), refused_at_configuration, refused_at_configuration, refused_at_delivery,
            push_refused_at_delivery, delivered_locally,
        );
        app.stop().await;
    }
}

/// Removes the dead letters so that the next form's dead letter is the first one listed.
async fn clear_dead_letters(app: &TestApp) {
    let sql = "DELETE FROM outbox WHERE state = 'dead'";
    let url = app.database_url();
    if url.starts_with("sqlite:") {
        let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut connection).await.unwrap();
    } else {
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut connection).await.unwrap();
    }
}
