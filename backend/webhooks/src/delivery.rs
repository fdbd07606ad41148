//! One delivery attempt: a signed POST to the operator's endpoint, and what came of it.
//!
//! The outbox worker calls [`attempt`] for each due message, stores the
//! [`AttemptOutcome`], and on a retryable failure asks [`crate::RetryPolicy`] when to try
//! again (passing on the server's `Retry-After`). Delivery is at least once: the
//! `webhook-id` stays the same on every retry so operators can de-duplicate.
//!
//! Outcome rules, from the Standard Webhooks recommendations:
//!
//! - any `2xx` is delivered;
//! - `410 Gone` is permanent: the operator removed the endpoint, stop sending to it;
//! - every other status (redirects included, they are not followed), timeouts and connection
//!   errors are retryable;
//! - a request that cannot even be built (malformed URL, an id that is not a header value)
//!   is permanent, because retrying cannot fix it;
//! - a URL or an address the outbound policy refuses ([`balagh_outbound`]) is permanent.
//!
//! What is recorded is the status and a short classification, never the receiver's body:
//! shown back to the operator, an error page would make any internal host readable.

use std::fmt;
use std::time::{Duration, Instant};

use http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{HeaderValue, StatusCode};
use time::OffsetDateTime;
use time::macros::format_description;

use balagh_outbound::{OutboundClient, PolicyResolver, classify_error, classify_status};

use crate::secret::WebhookSecret;
use crate::signature::{self, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP};

/// The `user-agent` of every delivery, so operators can recognise (and allow-list) us.
pub const BALAGH_USER_AGENT: &str = concat!("Balagh-Webhooks/", env!("CARGO_PKG_VERSION"));

/// A request timeout inside the specification's recommended 15–30 s: long enough for an
/// operator to store the event, short enough that one slow endpoint does not hold a worker.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// One event to deliver to one endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookMessage {
    /// Unique per message and unchanged across retries (the receiver's idempotency key),
    /// e.g. `msg_<uuid v7>`. Must be a valid header value and must not contain `.`.
    pub id: String,
    /// The event type, e.g. `ticket.created`; for routing and logs, not sent as a header.
    pub event_type: String,
    /// When the message was created. Not the `webhook-timestamp` header: that is the time of
    /// each attempt (see [`attempt`]), or retries older than the receiver's tolerance would
    /// all be refused as replays.
    pub timestamp: OffsetDateTime,
    /// The JSON body, sent and signed byte for byte.
    pub payload: Vec<u8>,
}

impl WebhookMessage {
    /// A message with a fresh id, created now.
    pub fn new(event_type: impl Into<String>, payload: Vec<u8>) -> Self {
        Self {
            id: Self::new_id(),
            event_type: event_type.into(),
            timestamp: OffsetDateTime::now_utc(),
            payload,
        }
    }

    /// A message whose payload is `body` serialised as JSON.
    pub fn from_json(
        event_type: impl Into<String>,
        body: &impl serde::Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self::new(event_type, serde_json::to_vec(body)?))
    }

    /// A new message id, `msg_<uuid v7>`: time-ordered (handy in the outbox index and in
    /// logs) and free of `.`, which the signature framing forbids.
    pub fn new_id() -> String {
        format!("msg_{}", uuid::Uuid::now_v7())
    }
}

/// The payload is summarised, not printed: it carries residents' reports, which do not
/// belong in logs.
impl fmt::Debug for WebhookMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookMessage")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("timestamp", &self.timestamp)
            .field("payload", &format_args!("<{} bytes>", self.payload.len()))
            .finish()
    }
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered `2xx`.
    Delivered {
        /// The HTTP status code.
        status: u16,
    },
    /// Anything else.
    Failed {
        /// The HTTP status, or `None` when no response came (timeout, connection error).
        status: Option<u16>,
        /// What went wrong: the status and a short classification. Never the response body,
        /// never the endpoint URL (which may embed an operator's token).
        error: String,
        /// The server's `Retry-After`, to pass to [`crate::RetryPolicy::next_delay`].
        retry_after: Option<Duration>,
        /// Retrying cannot help (`410 Gone`, or a request that cannot be built):
        /// dead-letter now and flag the endpoint.
        permanent: bool,
    },
}

impl AttemptOutcome {
    /// Whether the message reached the operator.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    fn permanent(error: impl Into<String>) -> Self {
        Self::Failed {
            status: None,
            error: error.into(),
            retry_after: None,
            permanent: true,
        }
    }
}

/// The HTTP client for deliveries: rustls, the outbound policy of `resolver` (checked URL,
/// checked addresses at connect time), no redirects, a total `timeout` per attempt.
///
/// Redirects are not followed (per the specification): following one would re-send a signed
/// event to a URL the operator never registered; they fail visibly instead, so the operator
/// fixes the registered URL. There is no proxy configuration from the environment.
///
/// # Panics
///
/// If the TLS backend cannot be initialised, like [`reqwest::Client::new`]; this is a
/// start-up configuration failure, not something to handle per delivery.
pub fn http_client(resolver: PolicyResolver, timeout: Duration) -> OutboundClient {
    OutboundClient::new(resolver, timeout, BALAGH_USER_AGENT)
        .expect("the webhook HTTP client (rustls) must initialise")
}

/// Delivers `message` to `endpoint_url` once, signed with `secret` and timestamped now.
///
/// Never panics and never returns an error: every failure is an [`AttemptOutcome::Failed`]
/// for the outbox to record.
pub async fn attempt(
    client: &OutboundClient,
    endpoint_url: &str,
    secret: &WebhookSecret,
    message: &WebhookMessage,
) -> AttemptOutcome {
    attempt_signed_at(
        client,
        endpoint_url,
        secret,
        message,
        OffsetDateTime::now_utc(),
    )
    .await
}

/// [`attempt`] with an explicit `webhook-timestamp`, for tests (e.g. a stale timestamp that
/// the receiver must refuse).
pub async fn attempt_signed_at(
    client: &OutboundClient,
    endpoint_url: &str,
    secret: &WebhookSecret,
    message: &WebhookMessage,
    signed_at: OffsetDateTime,
) -> AttemptOutcome {
    let url = match client.check_url(endpoint_url) {
        Ok(url) => url,
        Err(refusal) => {
            return AttemptOutcome::permanent(format!(
                "refused by the outbound policy: the endpoint URL {refusal}"
            ));
        }
    };
    if message.id.contains('.') {
        return AttemptOutcome::permanent("message id must not contain `.`");
    }
    let Ok(id) = HeaderValue::from_str(&message.id) else {
        return AttemptOutcome::permanent("message id is not a valid header value");
    };

    let timestamp = signed_at.unix_timestamp();
    let signature = signature::sign(secret, &message.id, timestamp, &message.payload);
    let request = client
        .http()
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(BALAGH_USER_AGENT))
        .header(WEBHOOK_ID, id)
        .header(WEBHOOK_TIMESTAMP, HeaderValue::from(timestamp))
        .header(WEBHOOK_SIGNATURE, signature)
        .body(message.payload.clone());

    let sent_at = Instant::now();
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => return transport_failure(error),
    };
    let status = response.status();
    if status.is_success() {
        return AttemptOutcome::Delivered {
            status: status.as_u16(),
        };
    }

    // An HTTP-date Retry-After is relative to when the answer came, not to `signed_at`.
    let answered_at = signed_at + sent_at.elapsed();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, answered_at));
    // The body is not read: see the module documentation.
    let error = format!(
        "HTTP {}: {}",
        status.as_u16(),
        classify_status(status.as_u16())
    );
    AttemptOutcome::Failed {
        status: Some(status.as_u16()),
        error,
        retry_after,
        permanent: status == StatusCode::GONE,
    }
}

/// A failure before any response: retryable, except a request reqwest refused to build or
/// an address the outbound policy refused. Only the classification is kept: the causes
/// (connection refused or reset, TLS alerts) would tell an operator which internal ports
/// are open.
fn transport_failure(error: reqwest::Error) -> AttemptOutcome {
    let permanent = error.is_builder() || balagh_outbound::is_policy_refusal(&error);
    AttemptOutcome::Failed {
        status: None,
        error: classify_error(&error).to_owned(),
        retry_after: None,
        permanent,
    }
}

/// Reads a `Retry-After` value: delay-seconds, or an HTTP-date relative to `now` (a date in
/// the past means "now", i.e. zero).
///
/// Of the HTTP-date forms, the current IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the
/// obsolete asctime form are understood; the obsolete RFC 850 form, with its two-digit year,
/// is treated like an absent header (the backoff alone then decides).
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // Saturate absurdly long values; the retry policy caps the delay anyway.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }
    let date = parse_http_date(value)?;
    Some(Duration::try_from(date - now).unwrap_or(Duration::ZERO))
}

fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let imf_fixdate = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let asctime = format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    [imf_fixdate, asctime]
        .into_iter()
        .find_map(|format| time::PrimitiveDateTime::parse(value, format).ok())
        .map(time::PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(1994-11-06 08:49:00 UTC);

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("7", NOW), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 120 ", NOW),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", NOW), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", NOW),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn retry_after_as_an_imf_fixdate() {
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", NOW),
            Some(Duration::from_secs(37))
        );
    }

    #[test]
    fn retry_after_as_an_asctime_date() {
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:50:00 1994", NOW),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn retry_after_in_the_past_means_now() {
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", NOW),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn unreadable_retry_after_is_ignored() {
        for value in [
            "",
            "-5",
            "1.5",
            "soon",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "2024-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_retry_after(value, NOW), None, "{value:?}");
        }
    }

    #[test]
    fn message_ids_are_prefixed_time_ordered_uuids_without_dots() {
        let first = WebhookMessage::new_id();
        let second = WebhookMessage::new_id();
        assert_ne!(first, second);
        let uuid = first.strip_prefix("msg_").expect(&first);
        assert_eq!(
            uuid::Uuid::parse_str(uuid).unwrap().get_version(),
            Some(uuid::Version::SortRand)
        );
        assert!(!first.contains('.'));
    }

    #[test]
    fn json_messages_carry_the_serialised_body() {
        let message =
            WebhookMessage::from_json("ticket.created", &serde_json::json!({"ticket": 42}))
                .unwrap();
        assert_eq!(message.event_type, "ticket.created");
        assert_eq!(message.payload, br#"{"ticket":42}"#);
    }

    #[test]
    fn debug_does_not_print_the_payload() {
        let message = WebhookMessage::new("ticket.created", br#"{"reporter":"Amina"}"#.to_vec());
        let shown = format!("{message:?}");
        assert!(!shown.contains("Amina"), "{shown}");
        assert!(shown.contains("<20 bytes>"), "{shown}");
    }

    fn development_client() -> OutboundClient {
        let policy = balagh_outbound::OutboundPolicy {
            allow_loopback_http: true,
            allowed: Vec::new(),
        };
        http_client(
            PolicyResolver::system(std::sync::Arc::new(policy)),
            Duration::from_secs(1),
        )
    }

    #[tokio::test]
    async fn unusable_endpoints_fail_permanently_without_sending() {
        let client = development_client();
        let secret = WebhookSecret::generate();
        let message = WebhookMessage::new("ticket.created", b"{}".to_vec());
        for url in [
            "not a url",
            "ftp://operator.example/hook",
            "mailto:ops@example.com",
        ] {
            let outcome = attempt(&client, url, &secret, &message).await;
            assert!(
                matches!(
                    outcome,
                    AttemptOutcome::Failed {
                        status: None,
                        permanent: true,
                        ..
                    }
                ),
                "{url}: {outcome:?}"
            );
        }
    }

    #[tokio::test]
    async fn unusable_message_ids_fail_permanently_without_sending() {
        let client = development_client();
        let secret = WebhookSecret::generate();
        for id in ["msg_with.dot", "msg_with\nnewline"] {
            let message = WebhookMessage {
                id: id.to_owned(),
                ..WebhookMessage::new("ticket.created", b"{}".to_vec())
            };
            // Port 9 on loopback: nothing is sent anyway, the id is refused first.
            let outcome = attempt(&client, "http://127.0.0.1:9/hook", &secret, &message).await;
            let AttemptOutcome::Failed {
                permanent, error, ..
            } = outcome
            else {
                panic!("{id:?} was delivered");
            };
            assert!(permanent, "{id:?}: {error}");
            assert!(error.contains("message id"), "{id:?}: {error}");
        }
    }
}
