//! End-to-end deliveries against a local operator endpoint.
//!
//! The receiver is an axum server on 127.0.0.1:0 that behaves like a careful operator: it
//! verifies every request with this crate's verifier, de-duplicates by `webhook-id`, and
//! counts what it saw. Each test scripts how it answers (errors, rate limits, slowness).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use balagh_outbound::{OutboundClient, OutboundPolicy, PolicyResolver};
use balagh_webhooks::delivery::{BALAGH_USER_AGENT, attempt_signed_at};
use balagh_webhooks::signature::{WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP};
use balagh_webhooks::{
    AttemptOutcome, DEFAULT_TOLERANCE, RetryPolicy, VerifyError, WebhookMessage, WebhookSecret,
    attempt, http_client, sign, verify_headers,
};
use http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER, USER_AGENT};
use http::{HeaderMap, StatusCode};
use rand::SeedableRng as _;
use time::OffsetDateTime;

/// How the scripted operator answers a request whose signature is valid.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Accept,
    /// 500 for the first N verified requests, then accept.
    FailFirst(u32),
    /// 429 with `Retry-After: 7`.
    RateLimited,
    /// 410: the operator removed the endpoint.
    Gone,
    /// Sleep this long, then accept.
    Slow(Duration),
    /// 500 with a body of this many bytes.
    VerboseError(usize),
    /// 307 to another path of the same server.
    Redirect,
}

/// What the receiver saw.
#[derive(Debug, Default)]
struct Log {
    requests: u32,
    verified: u32,
    rejected: Vec<VerifyError>,
    processed_ids: HashSet<String>,
    deliveries: u32,
    repeats: u32,
    last_headers: HeaderMap,
    last_body: Vec<u8>,
    redirect_target_hits: u32,
}

#[derive(Debug)]
struct Operator {
    secret: WebhookSecret,
    behaviour: Behaviour,
    log: Mutex<Log>,
}

impl Operator {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap()
    }
}

#[derive(Debug)]
struct Receiver {
    url: String,
    operator: Arc<Operator>,
}

impl Receiver {
    async fn start(secret: &WebhookSecret, behaviour: Behaviour) -> Self {
        let operator = Arc::new(Operator {
            secret: secret.clone(),
            behaviour,
            log: Mutex::default(),
        });
        let router = Router::new()
            .route("/hook", post(receive))
            .route("/elsewhere", post(redirect_target))
            .with_state(Arc::clone(&operator));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url: format!("http://{address}/hook"),
            operator,
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.operator.log()
    }
}

async fn receive(
    State(operator): State<Arc<Operator>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verified_so_far = {
        let mut log = operator.log();
        log.requests += 1;
        log.last_headers = headers.clone();
        log.last_body = body.to_vec();
        let verdict = verify_headers(
            &operator.secret,
            &headers,
            &body,
            OffsetDateTime::now_utc(),
            DEFAULT_TOLERANCE,
        );
        if let Err(error) = verdict {
            log.rejected.push(error.clone());
            return (StatusCode::UNAUTHORIZED, error.to_string()).into_response();
        }
        log.verified += 1;
        log.verified
    };

    match operator.behaviour {
        Behaviour::FailFirst(failures) if verified_so_far <= failures => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "operator database unavailable",
        )
            .into_response(),
        Behaviour::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, "7")],
            "slow down",
        )
            .into_response(),
        Behaviour::Gone => (StatusCode::GONE, "endpoint removed").into_response(),
        Behaviour::VerboseError(size) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "e".repeat(size)).into_response()
        }
        Behaviour::Redirect => {
            (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, "/elsewhere")]).into_response()
        }
        Behaviour::Slow(pause) => {
            tokio::time::sleep(pause).await;
            process_once(&operator, &headers)
        }
        Behaviour::Accept | Behaviour::FailFirst(_) => process_once(&operator, &headers),
    }
}

/// Idempotent processing: a repeated `webhook-id` is acknowledged but not processed again.
fn process_once(operator: &Operator, headers: &HeaderMap) -> Response {
    let id = headers[WEBHOOK_ID].to_str().unwrap().to_owned();
    let mut log = operator.log();
    if log.processed_ids.insert(id) {
        log.deliveries += 1;
        (StatusCode::OK, "processed").into_response()
    } else {
        log.repeats += 1;
        (StatusCode::OK, "already processed").into_response()
    }
}

async fn redirect_target(State(operator): State<Arc<Operator>>) -> StatusCode {
    operator.log().redirect_target_hits += 1;
    StatusCode::OK
}

fn ticket_message() -> WebhookMessage {
    WebhookMessage::from_json(
        "ticket.created",
        &serde_json::json!({
            "type": "ticket.created",
            "data": {"ticket_id": "0193a1d2-7c1e-7000-8000-000000000001", "category": "waste"}
        }),
    )
    .unwrap()
}

fn client() -> OutboundClient {
    client_with_timeout(Duration::from_secs(5))
}

/// The receiver listens on 127.0.0.1: the development exemption of the outbound policy.
fn client_with_timeout(timeout: Duration) -> OutboundClient {
    let policy = OutboundPolicy {
        allow_loopback_http: true,
        allowed: Vec::new(),
    };
    http_client(PolicyResolver::system(std::sync::Arc::new(policy)), timeout)
}

fn assert_retryable(outcome: &AttemptOutcome, expected_status: Option<u16>) -> String {
    match outcome {
        AttemptOutcome::Failed {
            status,
            error,
            permanent: false,
            ..
        } if *status == expected_status => error.clone(),
        other => panic!("expected a retryable failure with {expected_status:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_delivery_is_verified_and_counted_once() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Accept).await;
    let message = ticket_message();

    let outcome = attempt(&client(), &receiver.url, &secret, &message).await;

    assert_eq!(outcome, AttemptOutcome::Delivered { status: 200 });
    let log = receiver.log();
    assert_eq!(log.requests, 1);
    assert_eq!(log.verified, 1);
    assert_eq!(log.deliveries, 1);
    assert!(log.rejected.is_empty(), "{:?}", log.rejected);
    assert_eq!(log.last_body, message.payload);

    let headers = &log.last_headers;
    assert_eq!(headers[WEBHOOK_ID], message.id.as_str());
    assert_eq!(headers[CONTENT_TYPE], "application/json");
    assert_eq!(headers[USER_AGENT], BALAGH_USER_AGENT);
    assert!(BALAGH_USER_AGENT.starts_with("Balagh"));
    // The timestamp is the attempt's, not the message's creation time.
    let sent_at: i64 = headers[WEBHOOK_TIMESTAMP]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - sent_at).abs() <= 5, "{sent_at} vs {now}");
}

#[tokio::test]
async fn a_retry_of_an_old_message_is_signed_with_the_attempt_time() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Accept).await;
    // Created (and first attempted) three hours ago, far outside the receiver's tolerance.
    let message = WebhookMessage {
        timestamp: OffsetDateTime::now_utc() - Duration::from_secs(3 * 60 * 60),
        ..ticket_message()
    };

    let outcome = attempt(&client(), &receiver.url, &secret, &message).await;

    assert_eq!(outcome, AttemptOutcome::Delivered { status: 200 });
    assert!(receiver.log().rejected.is_empty());
}

#[tokio::test]
async fn tampered_requests_and_wrong_secrets_fail_verification() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Accept).await;
    let http = client();
    let payload = br#"{"type":"ticket.updated","data":{"status":"resolved"}}"#;
    let id = WebhookMessage::new_id();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(&secret, &id, now, payload);

    let post = |id: String, timestamp: i64, signature: String, body: &'static [u8]| {
        let request = http
            .http()
            .post(&receiver.url)
            .header(CONTENT_TYPE, "application/json")
            .header(WEBHOOK_ID, id)
            .header(WEBHOOK_TIMESTAMP, timestamp)
            .header(WEBHOOK_SIGNATURE, signature)
            .body(body);
        async move { request.send().await.unwrap().status() }
    };

    // The untouched request passes: the refusals below are due to the tampering alone.
    assert_eq!(
        post(id.clone(), now, signature.clone(), payload).await,
        StatusCode::OK
    );
    let tampered_payload: &[u8] = br#"{"type":"ticket.updated","data":{"status":"rejected"}}"#;
    assert_eq!(
        post(id.clone(), now, signature.clone(), tampered_payload).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(WebhookMessage::new_id(), now, signature.clone(), payload).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(id.clone(), now - 1, signature.clone(), payload).await,
        StatusCode::UNAUTHORIZED
    );

    let message = ticket_message();
    let wrong_secret = WebhookSecret::generate();
    let outcome = attempt(&http, &receiver.url, &wrong_secret, &message).await;
    let error = assert_retryable(&outcome, Some(401));
    assert!(error.contains("authentication"), "{error}");
    assert!(
        !error.contains("no matching signature"),
        "the body leaked: {error}"
    );

    // A captured request replayed later is refused by its timestamp.
    let ten_minutes_ago = OffsetDateTime::now_utc() - Duration::from_secs(600);
    let outcome = attempt_signed_at(&http, &receiver.url, &secret, &message, ten_minutes_ago).await;
    assert_retryable(&outcome, Some(401));

    let log = receiver.log();
    assert_eq!(log.deliveries, 1, "only the untouched request is processed");
    assert_eq!(log.requests, 6);
    assert_eq!(log.rejected.len(), 5);
    assert!(
        log.rejected[..4]
            .iter()
            .all(|error| *error == VerifyError::NoMatchingSignature),
        "{:?}",
        log.rejected
    );
    assert!(
        matches!(log.rejected[4], VerifyError::Stale { skew_seconds } if skew_seconds >= 600),
        "{:?}",
        log.rejected
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_delivered() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::FailFirst(2)).await;
    let http = client();
    let message = ticket_message();
    let policy = RetryPolicy::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let first_attempt_at = OffsetDateTime::now_utc();

    let mut outcomes = Vec::new();
    for attempts_made in 1..=5 {
        let outcome = attempt(&http, &receiver.url, &secret, &message).await;
        outcomes.push(outcome.clone());
        let AttemptOutcome::Failed {
            retry_after,
            permanent: false,
            ..
        } = outcome
        else {
            break;
        };
        // The worker would wait this long; the receiver does not care, so skip the wait.
        let delay = policy.next_delay(
            attempts_made,
            first_attempt_at,
            OffsetDateTime::now_utc(),
            retry_after,
            &mut rng,
        );
        assert!(delay.is_some(), "gave up after {attempts_made} attempts");
    }

    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    for failed in &outcomes[..2] {
        let error = assert_retryable(failed, Some(500));
        assert!(error.contains("500"), "{error}");
        assert!(error.contains("receiver error"), "{error}");
        assert!(
            !error.contains("operator database"),
            "the body leaked: {error}"
        );
    }
    assert_eq!(outcomes[2], AttemptOutcome::Delivered { status: 200 });
    let log = receiver.log();
    assert_eq!((log.requests, log.verified, log.deliveries), (3, 3, 1));
}

#[tokio::test]
async fn rate_limits_are_retryable_after_the_requested_delay() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::RateLimited).await;

    let outcome = attempt(&client(), &receiver.url, &secret, &ticket_message()).await;

    assert_retryable(&outcome, Some(429));
    let AttemptOutcome::Failed { retry_after, .. } = outcome else {
        unreachable!()
    };
    assert_eq!(retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn gone_is_permanent() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Gone).await;

    let outcome = attempt(&client(), &receiver.url, &secret, &ticket_message()).await;

    match outcome {
        AttemptOutcome::Failed {
            status: Some(410),
            permanent: true,
            retry_after: None,
            error,
        } => {
            assert!(error.contains("gone"), "{error}");
            assert!(
                !error.contains("endpoint removed"),
                "the body leaked: {error}"
            );
        }
        other => panic!("expected a permanent 410, got {other:?}"),
    }
    assert_eq!(receiver.log().verified, 1);
}

#[tokio::test]
async fn a_slow_receiver_is_a_retryable_timeout() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Slow(Duration::from_secs(3))).await;
    let impatient = client_with_timeout(Duration::from_millis(300));

    let started = Instant::now();
    let outcome = attempt(&impatient, &receiver.url, &secret, &ticket_message()).await;

    let error = assert_retryable(&outcome, None);
    assert!(error.contains("timed out"), "{error}");
    assert!(!error.contains("127.0.0.1"), "the URL leaked into {error}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(receiver.log().requests, 1);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_retryable_connection_error() {
    // Bind then release a port so that nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);

    let outcome = attempt(
        &client(),
        &url,
        &WebhookSecret::generate(),
        &ticket_message(),
    )
    .await;

    let error = assert_retryable(&outcome, None);
    assert!(error.contains("connection failed"), "{error}");
}

#[tokio::test]
async fn a_replayed_message_id_is_recognised_as_a_repeat() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Accept).await;
    let http = client();
    let message = ticket_message();

    // At-least-once: the worker may resend after a lost acknowledgement.
    let first = attempt(&http, &receiver.url, &secret, &message).await;
    let again = attempt(&http, &receiver.url, &secret, &message).await;
    let other = attempt(&http, &receiver.url, &secret, &ticket_message()).await;

    for outcome in [first, again, other] {
        assert_eq!(outcome, AttemptOutcome::Delivered { status: 200 });
    }
    let log = receiver.log();
    assert_eq!(log.verified, 3);
    assert_eq!(log.deliveries, 2);
    assert_eq!(log.repeats, 1);
}

#[tokio::test]
async fn error_bodies_are_never_recorded() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::VerboseError(64 * 1024)).await;

    let outcome = attempt(&client(), &receiver.url, &secret, &ticket_message()).await;

    let error = assert_retryable(&outcome, Some(500));
    assert_eq!(error, "HTTP 500: receiver error");
}

#[tokio::test]
async fn internal_endpoints_are_refused_before_sending() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Accept).await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    for url in [
        format!("http://127.0.0.2:{port}\\@127.0.0.1:{port}/hook"),
        format!("https://127.0.0.2:{port}/hook"),
        format!("http://2130706433:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://user@127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
    ] {
        let outcome = attempt(&client(), &url, &secret, &ticket_message()).await;
        let AttemptOutcome::Failed {
            permanent: true,
            error,
            ..
        } = outcome
        else {
            panic!("{url}: {outcome:?}");
        };
        assert!(error.contains("outbound policy"), "{url}: {error}");
    }
    assert_eq!(receiver.log().requests, 0);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let secret = WebhookSecret::generate();
    let receiver = Receiver::start(&secret, Behaviour::Redirect).await;

    let outcome = attempt(&client(), &receiver.url, &secret, &ticket_message()).await;

    assert_retryable(&outcome, Some(307));
    assert_eq!(receiver.log().redirect_target_hits, 0);
}
