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
//!   is permanent, because retrying cannot fix it.

use std::fmt;
use std::time::{Duration, Instant};

use http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{HeaderValue, StatusCode};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::secret::WebhookSecret;
use crate::signature::{self, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP};

/// The `user-agent` of every delivery, so operators can recognise (and allow-list) us.
pub const BALAGH_USER_AGENT: &str = concat!("Balagh-Webhooks/", env!("CARGO_PKG_VERSION"));

/// A request timeout inside the specification's recommended 15–30 s: long enough for an
/// operator to store the event, short enough that one slow endpoint does not hold a worker.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// How much of an error response body is kept in [`AttemptOutcome::Failed::error`]: enough
/// for the operator's error message, bounded so a huge error page cannot bloat the outbox.
pub const MAX_ERROR_BODY_BYTES: usize = 1024;

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
        /// What went wrong, including up to [`MAX_ERROR_BODY_BYTES`] of the response body.
        /// Never contains the endpoint URL, which may embed an operator's token.
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

/// The HTTP client for deliveries: rustls, no redirects, a total `timeout` per attempt.
///
/// Redirects are not followed (per the specification): following one would re-send a signed
/// event to a URL the operator never registered; they fail visibly instead, so the operator
/// fixes the registered URL. There is no proxy configuration from the environment.
///
/// # Panics
///
/// If the TLS backend cannot be initialised, like [`reqwest::Client::new`]; this is a
/// start-up configuration failure, not something to handle per delivery.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent(BALAGH_USER_AGENT)
        .build()
        .expect("the webhook HTTP client (rustls) must initialise")
}

/// Delivers `message` to `endpoint_url` once, signed with `secret` and timestamped now.
///
/// Never panics and never returns an error: every failure is an [`AttemptOutcome::Failed`]
/// for the outbox to record.
pub async fn attempt(
    client: &reqwest::Client,
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
    client: &reqwest::Client,
    endpoint_url: &str,
    secret: &WebhookSecret,
    message: &WebhookMessage,
    signed_at: OffsetDateTime,
) -> AttemptOutcome {
    let url = match reqwest::Url::parse(endpoint_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        Ok(url) => {
            return AttemptOutcome::permanent(format!(
                "endpoint URL scheme `{}` is not http or https",
                url.scheme()
            ));
        }
        Err(error) => return AttemptOutcome::permanent(format!("invalid endpoint URL: {error}")),
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
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(BALAGH_USER_AGENT))
        .header(WEBHOOK_ID, id)
        .header(WEBHOOK_TIMESTAMP, HeaderValue::from(timestamp))
        .header(WEBHOOK_SIGNATURE, signature)
        .body(message.payload.clone());

    let sent_at = Instant::now();
    let mut response = match request.send().await {
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
    let body = read_body_prefix(&mut response, MAX_ERROR_BODY_BYTES).await;
    let error = if body.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {body}")
    };
    AttemptOutcome::Failed {
        status: Some(status.as_u16()),
        error,
        retry_after,
        permanent: status == StatusCode::GONE,
    }
}

/// A failure before any response: retryable, except a request reqwest refused to build.
fn transport_failure(error: reqwest::Error) -> AttemptOutcome {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    let permanent = error.is_builder();
    // The URL may carry an operator's token; keep it out of the stored error.
    let error = error.without_url();
    let mut text = format!("{kind}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    AttemptOutcome::Failed {
        status: None,
        error: text,
        retry_after: None,
        permanent,
    }
}

/// Up to `limit` bytes of the body as text, marked when cut; reading stops at the limit so a
/// large or endless error body is not downloaded.
async fn read_body_prefix(response: &mut reqwest::Response, limit: usize) -> String {
    let mut prefix = Vec::new();
    let mut truncated = false;
    let mut read_error = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - prefix.len();
                if chunk.len() > room {
                    prefix.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                prefix.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => {
                read_error = Some(error.without_url());
                break;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&prefix).trim().to_owned();
    if truncated {
        text.push_str(" […]");
    }
    if let Some(error) = read_error {
        text.push_str(&format!(" (response body unreadable: {error})"));
    }
    text
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

    #[tokio::test]
    async fn unusable_endpoints_fail_permanently_without_sending() {
        let client = http_client(Duration::from_secs(1));
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
        let client = http_client(Duration::from_secs(1));
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
