//! Local stand-ins for FCM and for a browser push service (feature `stand-in`).
//!
//! Both are axum servers on `127.0.0.1`, port 0, speaking the real protocols closely enough
//! that the real senders run against them unchanged:
//!
//! - [`FcmStandIn`]: the OAuth token endpoint (verifies the RS256 JWT assertion against the
//!   service account's public key) and `messages:send` (checks the bearer token, validates
//!   the message, answers in FCM's JSON error shape).
//! - [`WebPushStandIn`]: holds each subscription's private key and auth secret, verifies the
//!   VAPID `Authorization`, decrypts the RFC 8291 body and records the plaintext.
//!
//! The servers stop when their handle is dropped.
//!
//! [`test_service_account`] returns a **test-only** RSA key committed to the repository
//! (`test-service-account.json`, public key in `test-service-account.pub.pem`); it grants
//! nothing anywhere.

mod fcm;
mod web_push;

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use fcm::{FcmStandIn, ReceivedFcmMessage};
pub use web_push::{ReceivedPush, Subscription, WebPushStandIn};

use crate::ServiceAccountKey;

/// The test-only service-account JSON (RSA 2048, generated with openssl for these tests;
/// its `_comment` field says so). Never use it for anything real.
pub const TEST_SERVICE_ACCOUNT_JSON: &str = include_str!("test-service-account.json");

/// The public half of [`TEST_SERVICE_ACCOUNT_JSON`]'s key, PKCS#1 PEM
/// (`openssl rsa -pubout -RSAPublicKey_out`).
pub const TEST_PUBLIC_KEY_PEM: &str = include_str!("test-service-account.pub.pem");

/// The test-only service account, pointed at `token_uri` (normally
/// [`FcmStandIn::token_uri`]).
///
/// # Panics
/// Never in practice: the embedded key is valid (a unit test checks it).
pub fn test_service_account(token_uri: &str) -> ServiceAccountKey {
    ServiceAccountKey::from_json(TEST_SERVICE_ACCOUNT_JSON)
        .expect("the embedded test service account parses")
        .with_token_uri(token_uri)
}

/// Injected failures: the next `remaining` requests answer `status` (with `Retry-After`).
#[derive(Debug, Default)]
struct Faults {
    remaining: usize,
    status: u16,
    retry_after: Option<Duration>,
}

impl Faults {
    /// Takes one fault if any are left.
    fn take(&mut self) -> Option<(StatusCode, Option<Duration>)> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        Some((status, self.retry_after))
    }
}

/// Adds `Retry-After` (whole seconds) to a response.
fn with_retry_after(mut response: Response, retry_after: Option<Duration>) -> Response {
    if let Some(after) = retry_after
        && let Ok(v) = HeaderValue::from_str(&after.as_secs().to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// A plain-text error response.
fn text(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

/// Random bytes from the system RNG.
fn random<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom as _;
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .expect("system RNG");
    out
}

/// Binds `127.0.0.1:0`.
async fn bind() -> (tokio::net::TcpListener, std::net::SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// Serves `router` on `listener` until the returned task is aborted.
fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "stand-in server stopped");
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_test_key_parses_and_says_test_only() {
        let key = super::test_service_account("http://127.0.0.1:1/token");
        assert_eq!(key.token_uri, "http://127.0.0.1:1/token");
        assert_eq!(key.project_id, "balagh-test");
        assert!(super::TEST_SERVICE_ACCOUNT_JSON.contains("TEST-ONLY"));
    }
}
