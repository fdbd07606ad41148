//! The Web Push sender against the Web Push stand-in (which decrypts like a browser), plus
//! the RFC 8291 known-answer test.

use std::time::Duration;

use balagh_push::stand_in::WebPushStandIn;
use balagh_push::{
    PushClient, PushMessage, PushSettings, PushTarget, SendOutcome, WebPushConfig, ece, topic_for,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

// RFC 8291 §5 example values.
const RFC_PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
const RFC_AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const RFC_AS_PUBLIC: &str =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
const RFC_UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
const RFC_UA_PUBLIC: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const RFC_AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
const RFC_SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
const RFC_BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

/// Two VAPID identities (any valid scalars will do; these come from the RFC example).
const KEY_A: &str = RFC_AS_PRIVATE;
const KEY_B: &str = RFC_UA_PRIVATE;

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn config(key: &str) -> WebPushConfig {
    WebPushConfig::from_base64url(key, "mailto:push@balagh.example").unwrap()
}

fn client(key: &str) -> PushClient {
    // The stand-in push service listens on 127.0.0.1: the policy's development exemption.
    let policy = balagh_outbound::OutboundPolicy {
        allow_loopback_http: true,
        allowed: Vec::new(),
    };
    PushClient::new(PushSettings {
        web_push: Some(config(key)),
        outbound: balagh_outbound::PolicyResolver::system(std::sync::Arc::new(policy)),
        ..PushSettings::default()
    })
    .unwrap()
}

fn message() -> PushMessage {
    let mut m = PushMessage::new("Collecte effectuée", "Le conteneur a été vidé.");
    m.data.insert("report_id".into(), "0192-xyz".into());
    m.ttl = Duration::from_secs(600);
    m
}

#[tokio::test]
async fn message_is_decrypted_by_the_stand_in_as_sent() {
    let service = WebPushStandIn::start().await;
    let sub = service.subscribe();
    let client = client(KEY_A);
    assert_eq!(
        client.send(&sub.target(), &message()).await,
        SendOutcome::Delivered
    );
    assert_eq!(
        service.received(&sub.endpoint),
        vec![json!({
            "title": "Collecte effectuée",
            "body": "Le conteneur a été vidé.",
            "data": {"report_id": "0192-xyz"},
        })]
    );
    let pushes = service.received_pushes(&sub.endpoint);
    assert_eq!(pushes[0].ttl, 600);
    assert_eq!(pushes[0].urgency.as_deref(), Some("normal"));
    assert_eq!(pushes[0].topic, None);
    // Another subscription received nothing.
    assert!(service.received(&service.subscribe().endpoint).is_empty());
}

#[tokio::test]
async fn collapse_key_becomes_a_valid_topic() {
    let service = WebPushStandIn::start().await;
    let sub = service.subscribe();
    let client = client(KEY_A);
    let mut m = message();
    m.collapse_key = Some("report:0192-xyz/status".into());
    assert_eq!(client.send(&sub.target(), &m).await, SendOutcome::Delivered);
    m.collapse_key = Some("report-7".into());
    assert_eq!(client.send(&sub.target(), &m).await, SendOutcome::Delivered);
    let topics: Vec<_> = service
        .received_pushes(&sub.endpoint)
        .into_iter()
        .map(|p| p.topic)
        .collect();
    assert_eq!(
        topics,
        vec![
            Some(topic_for("report:0192-xyz/status")),
            Some("report-7".to_owned())
        ]
    );
    assert_eq!(topics[0].as_ref().unwrap().len(), 32);
}

#[tokio::test]
async fn vapid_key_must_match_a_restricted_subscription() {
    let service = WebPushStandIn::start().await;
    let a = client(KEY_A);
    let sub = service.subscribe_restricted(&a.vapid_public_key().unwrap());
    let b = client(KEY_B);
    let outcome = b.send(&sub.target(), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Failed { error } if error.contains("403")),
        "{outcome:?}"
    );
    assert!(service.received(&sub.endpoint).is_empty());
    assert_eq!(
        a.send(&sub.target(), &message()).await,
        SendOutcome::Delivered
    );
    assert_eq!(service.received(&sub.endpoint).len(), 1);
}

/// The stand-in itself: a JWT signed by one key but presented with another `k`, a JWT for
/// another audience, and a missing header are all refused.
#[tokio::test]
async fn stand_in_verifies_vapid() {
    let service = WebPushStandIn::start().await;
    let sub = service.subscribe();
    let body = ece::encrypt(&b64(&sub.p256dh), &b64(&sub.auth), b"{\"title\":\"x\"}").unwrap();
    let http = reqwest::Client::new();
    let post = |authorization: Option<String>| {
        let mut req = http
            .post(&sub.endpoint)
            .header("TTL", "60")
            .header("Content-Encoding", "aes128gcm")
            .body(body.clone());
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        req.send()
    };
    let a = config(KEY_A);
    let b = config(KEY_B);

    let genuine = a.vapid_authorization(&sub.endpoint).unwrap();
    assert!(genuine.starts_with("vapid t="), "{genuine}");
    assert!(genuine.ends_with(&format!(", k={}", a.public_key_base64url())));

    // Signed by A, claiming to be B.
    let swapped = genuine.replace(&a.public_key_base64url(), &b.public_key_base64url());
    assert_eq!(post(Some(swapped)).await.unwrap().status(), 401);
    // Signed by A for another push service.
    let elsewhere = a
        .vapid_authorization("https://push.example.net/push/abc")
        .unwrap();
    assert_eq!(post(Some(elsewhere)).await.unwrap().status(), 401);
    // No VAPID at all.
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert!(service.received(&sub.endpoint).is_empty());
    // The genuine header is accepted.
    assert_eq!(post(Some(genuine)).await.unwrap().status(), 201);
    assert_eq!(service.received(&sub.endpoint), vec![json!({"title": "x"})]);
}

#[tokio::test]
async fn expired_subscription_is_gone() {
    let service = WebPushStandIn::start().await;
    let sub = service.subscribe();
    service.expire(&sub);
    let outcome = client(KEY_A).send(&sub.target(), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Gone { reason } if reason.contains("410")),
        "{outcome:?}"
    );
    assert_eq!(service.request_count(), 1);
    // An endpoint the service never issued: 404, also gone.
    let unknown = PushTarget::WebPush {
        endpoint: format!("{}/push/nope", service.origin()),
        p256dh: sub.p256dh.clone(),
        auth: sub.auth.clone(),
    };
    let outcome = client(KEY_A).send(&unknown, &message()).await;
    assert!(matches!(outcome, SendOutcome::Gone { .. }), "{outcome:?}");
}

#[tokio::test]
async fn throttling_and_outages_are_retried() {
    let service = WebPushStandIn::start().await;
    let sub = service.subscribe();
    let client = client(KEY_A);
    service.fail_next(1, 429, Some(Duration::from_secs(7)));
    let outcome = client.send(&sub.target(), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Retry { after: Some(d), .. } if *d == Duration::from_secs(7)),
        "{outcome:?}"
    );
    service.fail_next(1, 503, None);
    let outcome = client.send(&sub.target(), &message()).await;
    assert!(
        matches!(&outcome, SendOutcome::Retry { after: None, .. }),
        "{outcome:?}"
    );
    service.fail_next(1, 413, None);
    let outcome = client.send(&sub.target(), &message()).await;
    assert!(matches!(outcome, SendOutcome::Failed { .. }), "{outcome:?}");
    assert_eq!(
        client.send(&sub.target(), &message()).await,
        SendOutcome::Delivered
    );
    assert_eq!(service.received(&sub.endpoint).len(), 1);
}

#[tokio::test]
async fn oversized_payload_fails_without_a_request() {
    let service = WebPushStandIn::start().await;
    let sub = service.subscribe();
    let mut m = message();
    m.body = "x".repeat(ece::MAX_PLAINTEXT);
    let outcome = client(KEY_A).send(&sub.target(), &m).await;
    assert!(
        matches!(&outcome, SendOutcome::Failed { error } if error.contains("3993")),
        "{outcome:?}"
    );
    assert_eq!(service.request_count(), 0);
}

#[tokio::test]
async fn malformed_subscription_keys_are_gone() {
    let service = WebPushStandIn::start().await;
    let sub = service.subscribe();
    let broken = PushTarget::WebPush {
        endpoint: sub.endpoint.clone(),
        p256dh: "BAAA".into(),
        auth: sub.auth.clone(),
    };
    let outcome = client(KEY_A).send(&broken, &message()).await;
    assert!(matches!(outcome, SendOutcome::Gone { .. }), "{outcome:?}");
    assert_eq!(service.request_count(), 0);
}

#[test]
fn public_key_is_derived_from_the_raw_private_key() {
    // RFC 8291 §5 gives both halves of the application server's key.
    assert_eq!(config(RFC_AS_PRIVATE).public_key_base64url(), RFC_AS_PUBLIC);
    assert_eq!(config(RFC_UA_PRIVATE).public_key_base64url(), RFC_UA_PUBLIC);
    let client = client(RFC_AS_PRIVATE);
    assert_eq!(client.vapid_public_key().as_deref(), Some(RFC_AS_PUBLIC));
    let text = format!("{client:?}");
    assert!(!text.contains(RFC_AS_PRIVATE), "{text}");
}

#[test]
fn rfc8291_known_answer() {
    let as_private: [u8; 32] = b64(RFC_AS_PRIVATE).try_into().unwrap();
    let salt: [u8; 16] = b64(RFC_SALT).try_into().unwrap();
    let body = ece::encrypt_with(
        &as_private,
        &salt,
        &b64(RFC_UA_PUBLIC),
        &b64(RFC_AUTH),
        RFC_PLAINTEXT.as_bytes(),
    )
    .unwrap();
    assert_eq!(URL_SAFE_NO_PAD.encode(&body), RFC_BODY);

    // The receiver side decrypts the RFC's body.
    let ua_private: [u8; 32] = b64(RFC_UA_PRIVATE).try_into().unwrap();
    let plain = ece::decrypt(&ua_private, &b64(RFC_AUTH), &b64(RFC_BODY)).unwrap();
    assert_eq!(plain, RFC_PLAINTEXT.as_bytes());

    // And the ring-based sender (random ephemeral key) round-trips through it.
    let fresh = ece::encrypt(&b64(RFC_UA_PUBLIC), &b64(RFC_AUTH), b"hello").unwrap();
    assert_eq!(
        ece::decrypt(&ua_private, &b64(RFC_AUTH), &fresh).unwrap(),
        b"hello"
    );

    // A flipped ciphertext bit does not authenticate.
    let mut tampered = b64(RFC_BODY);
    *tampered.last_mut().unwrap() ^= 1;
    assert_eq!(
        ece::decrypt(&ua_private, &b64(RFC_AUTH), &tampered),
        Err(ece::DecryptError::Aead)
    );
}
