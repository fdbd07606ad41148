//! The FCM HTTP v1 sender against the FCM stand-in, over real HTTP.

use std::time::Duration;

use balagh_push::stand_in::{self, FcmStandIn};
use balagh_push::{FcmConfig, PushClient, PushMessage, PushSettings, PushTarget, SendOutcome};
use serde_json::{Value, json};

async fn setup() -> (FcmStandIn, PushClient) {
    let fcm = FcmStandIn::start_with_test_key().await;
    let client = client_for(fcm.test_config());
    (fcm, client)
}

fn client_for(config: FcmConfig) -> PushClient {
    PushClient::new(PushSettings {
        fcm: Some(config),
        web_push: None,
        timeout: Duration::from_secs(10),
        ..PushSettings::default()
    })
    .expect("client")
}

fn target(token: &str) -> PushTarget {
    PushTarget::Fcm {
        token: token.to_owned(),
    }
}

fn message() -> PushMessage {
    let mut m = PushMessage::new("Éclairage réparé", "Le lampadaire rue 12 fonctionne.");
    m.data.insert("report_id".into(), "0192-abc".into());
    m.data.insert("status".into(), "resolved".into());
    m.collapse_key = Some("report-0192-abc".into());
    m.ttl = Duration::from_secs(3600);
    m
}

#[tokio::test]
async fn token_is_exchanged_once_for_many_sends() {
    let (fcm, client) = setup().await;
    for i in 0..5 {
        let outcome = client
            .send(&target(&format!("device-{i}")), &message())
            .await;
        assert_eq!(outcome, SendOutcome::Delivered);
    }
    assert_eq!(fcm.token_requests(), 1);
    assert_eq!(fcm.message_count(), 5);
    let tokens: Vec<String> = fcm.messages().into_iter().map(|m| m.token).collect();
    assert_eq!(
        tokens,
        ["device-0", "device-1", "device-2", "device-3", "device-4"]
    );
}

#[tokio::test]
async fn token_is_exchanged_again_after_expiry() {
    let (fcm, client) = setup().await;
    // expires_in = 61 s: the client may use the token for one second (60 s margin).
    fcm.set_token_lifetime(Duration::from_secs(61));
    assert_eq!(
        client.send(&target("a"), &message()).await,
        SendOutcome::Delivered
    );
    assert_eq!(fcm.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        client.send(&target("b"), &message()).await,
        SendOutcome::Delivered
    );
    assert_eq!(fcm.token_requests(), 2);
}

#[tokio::test]
async fn token_shorter_than_the_margin_is_never_reused() {
    let (fcm, client) = setup().await;
    fcm.set_token_lifetime(Duration::from_secs(30));
    for _ in 0..3 {
        assert_eq!(
            client.send(&target("a"), &message()).await,
            SendOutcome::Delivered
        );
    }
    assert_eq!(fcm.token_requests(), 3);
}

#[tokio::test]
async fn revoked_token_is_refreshed_once_and_the_send_retried() {
    let (fcm, client) = setup().await;
    assert_eq!(
        client.send(&target("a"), &message()).await,
        SendOutcome::Delivered
    );
    fcm.revoke_tokens();
    assert_eq!(
        client.send(&target("b"), &message()).await,
        SendOutcome::Delivered
    );
    assert_eq!(fcm.token_requests(), 2);
    assert_eq!(fcm.message_count(), 2);
}

#[tokio::test]
async fn persistent_401_fails_after_one_refresh() {
    let (fcm, client) = setup().await;
    fcm.fail_next(2, 401, None);
    let outcome = client.send(&target("a"), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Failed { error } if error.contains("UNAUTHENTICATED")),
        "{outcome:?}"
    );
    assert_eq!(fcm.token_requests(), 2, "one initial token, one refresh");
    assert_eq!(fcm.message_count(), 0);
}

#[tokio::test]
async fn message_shape_is_received() {
    let (fcm, client) = setup().await;
    assert_eq!(
        client.send(&target("device-1"), &message()).await,
        SendOutcome::Delivered
    );
    let received = fcm.messages();
    assert_eq!(received.len(), 1);
    let m = &received[0].message;
    assert_eq!(received[0].token, "device-1");
    assert_eq!(m["token"], "device-1");
    assert_eq!(
        m["notification"],
        json!({"title": "Éclairage réparé", "body": "Le lampadaire rue 12 fonctionne."})
    );
    assert_eq!(
        m["data"],
        json!({"report_id": "0192-abc", "status": "resolved"})
    );
    assert_eq!(m["android"]["ttl"], "3600s");
    assert_eq!(m["android"]["collapse_key"], "report-0192-abc");
    assert_eq!(m["apns"]["headers"]["apns-collapse-id"], "report-0192-abc");
    let expiration: u64 = m["apns"]["headers"]["apns-expiration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(expiration > now && expiration <= now + 3600, "{expiration}");
}

#[tokio::test]
async fn unregistered_and_invalid_tokens_are_gone() {
    let (fcm, client) = setup().await;
    let outcome = client.send(&target("unregistered-1"), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Gone { reason } if reason.contains("UNREGISTERED")),
        "{outcome:?}"
    );
    let outcome = client.send(&target("invalid-1"), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Gone { reason } if reason.contains("registration token")),
        "{outcome:?}"
    );
    assert_eq!(fcm.message_count(), 0);
}

#[tokio::test]
async fn bad_payload_fails_without_blaming_the_token() {
    let (fcm, client) = setup().await;
    let mut m = message();
    m.data.insert("google.reserved".into(), "x".into());
    let outcome = client.send(&target("device-1"), &m).await;
    assert!(
        matches!(&outcome, SendOutcome::Failed { error } if error.contains("message.data")),
        "{outcome:?}"
    );
    assert_eq!(fcm.message_count(), 0);
}

#[tokio::test]
async fn quota_and_unavailable_are_retried_with_retry_after() {
    let (fcm, client) = setup().await;
    fcm.fail_next(1, 429, Some(Duration::from_secs(7)));
    let outcome = client.send(&target("a"), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Retry { after: Some(d), error } if *d == Duration::from_secs(7) && error.contains("QUOTA_EXCEEDED")),
        "{outcome:?}"
    );
    fcm.fail_next(1, 503, None);
    let outcome = client.send(&target("a"), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Retry { after: None, error } if error.contains("503")),
        "{outcome:?}"
    );
    fcm.fail_next(1, 500, Some(Duration::from_secs(2)));
    let outcome = client.send(&target("a"), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Retry { after: Some(d), .. } if *d == Duration::from_secs(2)),
        "{outcome:?}"
    );
    // The faults are used up: the next send goes through.
    assert_eq!(
        client.send(&target("a"), &message()).await,
        SendOutcome::Delivered
    );
    assert_eq!(fcm.message_count(), 1);
}

#[tokio::test]
async fn network_errors_are_retried() {
    let fcm = FcmStandIn::start_with_test_key().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    // FCM unreachable, token endpoint fine.
    let mut config = fcm.test_config();
    config.base_url = format!("http://{closed}/").parse().unwrap();
    let outcome = client_for(config).send(&target("a"), &message()).await;
    assert!(
        matches!(outcome, SendOutcome::Retry { after: None, .. }),
        "{outcome:?}"
    );
    // Token endpoint unreachable.
    let config = FcmConfig {
        service_account: stand_in::test_service_account(&format!("http://{closed}/token")),
        base_url: fcm.base_url(),
    };
    let outcome = client_for(config).send(&target("a"), &message()).await;
    assert!(
        matches!(outcome, SendOutcome::Retry { after: None, .. }),
        "{outcome:?}"
    );
    assert_eq!(fcm.message_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_share_one_token_request() {
    let (fcm, client) = setup().await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.send(&target(&format!("d-{i}")), &message()).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), SendOutcome::Delivered);
    }
    assert_eq!(fcm.token_requests(), 1);
    assert_eq!(fcm.message_count(), 200);
}

#[tokio::test]
async fn debug_output_has_no_secrets() {
    let (fcm, client) = setup().await;
    assert_eq!(
        client.send(&target("a"), &message()).await,
        SendOutcome::Delivered
    );
    let issued = fcm.issued_tokens();
    assert_eq!(issued.len(), 1);
    let key_json: Value = serde_json::from_str(stand_in::TEST_SERVICE_ACCOUNT_JSON).unwrap();
    let pem = key_json["private_key"].as_str().unwrap();
    // Any line of the base64 body of the private key.
    let key_line = pem.lines().nth(3).unwrap();
    assert!(key_line.len() > 40);

    let config = fcm.test_config();
    for text in [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{config:?}"),
        format!("{:?}", config.service_account),
        format!("{:?}", target("a-very-long-device-registration-token")),
    ] {
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        assert!(!text.contains(key_line), "{text}");
        assert!(!text.contains(&issued[0]), "{text}");
        assert!(
            !text.contains("a-very-long-device-registration-token"),
            "{text}"
        );
    }
    assert!(format!("{config:?}").contains("balagh-push-test@"));
}

/// The stand-in itself: a forged bearer token, a missing one, and a tampered assertion are
/// refused; a genuine assertion gets a token that works.
#[tokio::test]
async fn stand_in_checks_bearer_and_assertion() {
    let fcm = FcmStandIn::start_with_test_key().await;
    let http = reqwest::Client::new();
    let send_url = format!("{}v1/projects/balagh-test/messages:send", fcm.base_url());
    let body =
        json!({"message": {"token": "device-1", "notification": {"title": "t", "body": "b"}}});

    for auth in [Some("Bearer ya29.forged"), None] {
        let mut req = http.post(&send_url).json(&body);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["status"], "UNAUTHENTICATED");
        assert_eq!(err["error"]["code"], 401);
    }

    let key = stand_in::test_service_account(&fcm.token_uri());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let exchange = |assertion: String| {
        http.post(fcm.token_uri())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
            ))
            .send()
    };

    // Tampered claims: the signature no longer matches.
    let genuine = key.jwt_assertion(now).unwrap();
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let claims = json!({"iss": "attacker@example.com", "scope": "https://www.googleapis.com/auth/firebase.messaging", "aud": fcm.token_uri(), "iat": now, "exp": now + 3600});
    let forged_claims = b64url(claims.to_string().as_bytes());
    parts[1] = &forged_claims;
    let resp = exchange(parts.join(".")).await.unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "invalid_grant");

    // Signed, but for another audience.
    let other = stand_in::test_service_account("https://oauth2.googleapis.com/token")
        .jwt_assertion(now)
        .unwrap();
    assert_eq!(exchange(other).await.unwrap().status(), 400);

    // Signed, but expired.
    let stale = key.jwt_assertion(now - 7200).unwrap();
    assert_eq!(exchange(stale).await.unwrap().status(), 400);

    // Genuine: the token works, and expires when the stand-in says so.
    fcm.set_token_lifetime(Duration::from_secs(1));
    let resp = exchange(genuine).await.unwrap();
    assert_eq!(resp.status(), 200);
    let token: Value = resp.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 1);
    let access = token["access_token"].as_str().unwrap().to_owned();
    let resp = http
        .post(&send_url)
        .bearer_auth(&access)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ok: Value = resp.json().await.unwrap();
    assert!(
        ok["name"]
            .as_str()
            .unwrap()
            .starts_with("projects/balagh-test/messages/")
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let resp = http
        .post(&send_url)
        .bearer_auth(&access)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(fcm.token_requests(), 4);
    assert_eq!(fcm.message_count(), 1);
}

#[tokio::test]
async fn stand_in_validates_message_shape() {
    let fcm = FcmStandIn::start_with_test_key().await;
    let http = reqwest::Client::new();
    let key = stand_in::test_service_account(&fcm.token_uri());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token: Value = http
        .post(fcm.token_uri())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={}",
            key.jwt_assertion(now).unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let send_url = format!("{}v1/projects/balagh-test/messages:send", fcm.base_url());
    for bad in [
        json!({"message": {"notification": {"title": "t"}}}),
        json!({"message": {"token": "a", "data": {"n": 1}}}),
        json!({"message": {"token": "a", "android": {"ttl": "3600"}}}),
        json!({"message": {"token": "a", "notification": {"title": 1}}}),
        json!({"message": {"token": "a", "priority": "high"}}),
        json!({"msg": {}}),
    ] {
        let resp = http
            .post(&send_url)
            .bearer_auth(access)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["status"], "INVALID_ARGUMENT", "{bad}");
    }
    assert_eq!(fcm.message_count(), 0);
}

#[tokio::test]
async fn counting_only_mode_counts_without_keeping_messages() {
    let (fcm, client) = setup().await;
    fcm.set_recording(false);
    for _ in 0..3 {
        assert_eq!(
            client.send(&target("a"), &message()).await,
            SendOutcome::Delivered
        );
    }
    assert_eq!(fcm.message_count(), 3);
    assert!(fcm.messages().is_empty());
}

#[test]
fn service_account_json_is_validated() {
    assert!(balagh_push::ServiceAccountKey::from_json("{}").is_err());
    let mut v: Value = serde_json::from_str(stand_in::TEST_SERVICE_ACCOUNT_JSON).unwrap();
    v["private_key"] = json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    let err = balagh_push::ServiceAccountKey::from_json(&v.to_string()).unwrap_err();
    assert!(
        matches!(err, balagh_push::ConfigError::PrivateKey(_)),
        "{err}"
    );
    let dir = std::env::temp_dir().join(format!("balagh-push-sa-{}.json", std::process::id()));
    std::fs::write(&dir, stand_in::TEST_SERVICE_ACCOUNT_JSON).unwrap();
    let key = balagh_push::ServiceAccountKey::from_file(&dir).unwrap();
    std::fs::remove_file(&dir).unwrap();
    assert_eq!(
        key.client_email,
        "balagh-push-test@balagh-test.iam.gserviceaccount.com"
    );
    assert_eq!(key.token_uri, "https://oauth2.googleapis.com/token");
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
