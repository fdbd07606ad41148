//! Signing and verifying deliveries, per the Standard Webhooks specification.
//!
//! A delivery carries three headers:
//!
//! - `webhook-id`: the message id, unchanged across retries, so receivers can de-duplicate;
//! - `webhook-timestamp`: the Unix time (seconds) of *this attempt*, so receivers can refuse
//!   replays of an old capture;
//! - `webhook-signature`: `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{payload}"))>`,
//!   possibly several space-separated entries (during a key rotation both keys sign).
//!
//! Signing the id and timestamp together with the body means none of the three can be
//! swapped independently. The verifier here is what our own integration tests use as the
//! "operator"; operators themselves can use any Standard Webhooks library.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac as _};
use http::{HeaderMap, HeaderName};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::secret::WebhookSecret;

const ID_HEADER: &str = "webhook-id";
const TIMESTAMP_HEADER: &str = "webhook-timestamp";
const SIGNATURE_HEADER: &str = "webhook-signature";

/// The message id header; the same value on every retry of a message.
pub const WEBHOOK_ID: HeaderName = HeaderName::from_static(ID_HEADER);
/// The attempt's Unix timestamp header (integer seconds).
pub const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static(TIMESTAMP_HEADER);
/// The space-separated list of `version,signature` entries.
pub const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// How far a timestamp may be from the verifier's clock, in either direction: the
/// specification's (and its libraries') five minutes. Wide enough for modest clock skew,
/// narrow enough that a captured request cannot be replayed later.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// Version tag of symmetric (HMAC-SHA256) signatures.
const SYMMETRIC_VERSION: &str = "v1";

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery was refused by [`verify`] or [`verify_headers`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// One of the three `webhook-*` headers is absent.
    #[error("missing header `{0}`")]
    MissingHeader(&'static str),
    /// A header is present but is not visible ASCII text.
    #[error("header `{0}` is not valid text")]
    InvalidHeader(&'static str),
    /// `webhook-timestamp` is not an integer number of seconds.
    #[error("`webhook-timestamp` is not an integer Unix timestamp")]
    BadTimestamp,
    /// The timestamp is further from now than the tolerance allows (a replay, or a badly
    /// skewed clock). Positive skew means the timestamp is in the past.
    #[error("timestamp is {skew_seconds} s away from now, outside the tolerance")]
    Stale {
        /// `now - timestamp`, in seconds.
        skew_seconds: i64,
    },
    /// No `v1` entry of `webhook-signature` matches the payload, id and timestamp.
    #[error("no matching signature")]
    NoMatchingSignature,
}

/// The `webhook-signature` header value for one message attempt: `v1,<base64 HMAC>`.
///
/// `timestamp` is the attempt's Unix time in seconds, as sent in `webhook-timestamp`.
/// `id` must not contain `.`; the specification asks for this so that the
/// `{id}.{timestamp}.{payload}` framing stays unambiguous.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, payload: &[u8]) -> String {
    let tag = signed_content_mac(secret, id, timestamp, payload)
        .finalize()
        .into_bytes();
    format!("{SYMMETRIC_VERSION},{}", BASE64.encode(tag))
}

/// Checks one delivery given its header values as text.
///
/// Refuses, in this order: an unparsable timestamp, one outside `tolerance` of `now`, then a
/// signature header in which no `v1` entry matches. Other versions (e.g. `v1a`, asymmetric)
/// and malformed entries are skipped rather than refused, so a sender may add them freely.
/// Each candidate is compared in constant time (`Mac::verify_slice`), which also refuses
/// truncated signatures.
pub fn verify(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    signature_header: &str,
    payload: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let timestamp: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;

    let skew_seconds = now.unix_timestamp().saturating_sub(timestamp);
    if skew_seconds.unsigned_abs() > tolerance.as_secs() {
        return Err(VerifyError::Stale { skew_seconds });
    }

    let expected = signed_content_mac(secret, id, timestamp, payload);
    let matches = signature_header
        .split_ascii_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == SYMMETRIC_VERSION)
        .filter_map(|(_, encoded)| BASE64.decode(encoded).ok())
        .any(|candidate| expected.clone().verify_slice(&candidate).is_ok());

    if matches {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

/// Checks one delivery from its request headers (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`), as a receiver would; see [`verify`].
pub fn verify_headers(
    secret: &WebhookSecret,
    headers: &HeaderMap,
    payload: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let id = header_text(headers, ID_HEADER)?;
    let timestamp = header_text(headers, TIMESTAMP_HEADER)?;
    let signature = header_text(headers, SIGNATURE_HEADER)?;
    verify(secret, id, timestamp, signature, payload, now, tolerance)
}

fn header_text<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, VerifyError> {
    headers
        .get(name)
        .ok_or(VerifyError::MissingHeader(name))?
        .to_str()
        .map_err(|_| VerifyError::InvalidHeader(name))
}

/// The HMAC over `{id}.{timestamp}.{payload}`, fed piecewise so the payload is not copied.
fn signed_content_mac(
    secret: &WebhookSecret,
    id: &str,
    timestamp: i64,
    payload: &[u8],
) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.key_bytes()).expect("HMAC accepts keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks test vector, from the specification repository's JavaScript
    // library test "sign function works" (libraries/javascript/src/webhook.test.ts).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn spec_secret() -> WebhookSecret {
        WebhookSecret::parse(SPEC_SECRET).unwrap()
    }

    fn at(unix_seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap()
    }

    fn verify_spec(signature_header: &str, now: i64) -> Result<(), VerifyError> {
        verify(
            &spec_secret(),
            SPEC_ID,
            &SPEC_TIMESTAMP.to_string(),
            signature_header,
            SPEC_PAYLOAD,
            at(now),
            DEFAULT_TOLERANCE,
        )
    }

    #[test]
    fn sign_matches_the_specification_test_vector() {
        assert_eq!(
            sign(&spec_secret(), SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn sign_matches_the_reference_rust_library_vector() {
        // From libraries/rust/src/lib.rs `test_sign` in the same repository.
        let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(
            sign(
                &secret,
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1_649_367_553,
                br#"{"email":"test@example.com","username":"test_user"}"#,
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn verifies_the_specification_test_vector() {
        assert_eq!(verify_spec(SPEC_SIGNATURE, SPEC_TIMESTAMP), Ok(()));
    }

    #[test]
    fn accepts_any_matching_entry_among_several() {
        let header = format!(
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc= v1a,xyz== garbage \
             {SPEC_SIGNATURE} v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        );
        assert_eq!(verify_spec(&header, SPEC_TIMESTAMP), Ok(()));
    }

    #[test]
    fn refuses_when_no_entry_matches() {
        for header in [
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            "",
            "v1,",
            "v1,dawfeoifkpqwoekfpqoekf",
            // The right signature under another version tag does not count.
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            // Truncated: a prefix of the right tag must not pass.
            "v1,g0hM9SsE+OTPJTGt/tmIKtSy",
            "v1,g0hM9SsE",
        ] {
            assert_eq!(
                verify_spec(header, SPEC_TIMESTAMP),
                Err(VerifyError::NoMatchingSignature),
                "{header:?}"
            );
        }
    }

    #[test]
    fn refuses_a_tampered_payload_id_or_timestamp() {
        let secret = spec_secret();
        let now = at(SPEC_TIMESTAMP);
        let timestamp = SPEC_TIMESTAMP.to_string();
        let tampered_payload = br#"{"test": 2432232315}"#;
        assert_eq!(
            verify(
                &secret,
                SPEC_ID,
                &timestamp,
                SPEC_SIGNATURE,
                tampered_payload,
                now,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify(
                &secret,
                "msg_other",
                &timestamp,
                SPEC_SIGNATURE,
                SPEC_PAYLOAD,
                now,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::NoMatchingSignature)
        );
        let shifted = (SPEC_TIMESTAMP + 1).to_string();
        assert_eq!(
            verify(
                &secret,
                SPEC_ID,
                &shifted,
                SPEC_SIGNATURE,
                SPEC_PAYLOAD,
                now,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn refuses_another_secret() {
        let other = WebhookSecret::generate();
        assert_eq!(
            verify(
                &other,
                SPEC_ID,
                &SPEC_TIMESTAMP.to_string(),
                SPEC_SIGNATURE,
                SPEC_PAYLOAD,
                at(SPEC_TIMESTAMP),
                DEFAULT_TOLERANCE,
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn tolerance_is_inclusive_and_applies_both_ways() {
        let limit = DEFAULT_TOLERANCE.as_secs() as i64;
        assert_eq!(verify_spec(SPEC_SIGNATURE, SPEC_TIMESTAMP + limit), Ok(()));
        assert_eq!(verify_spec(SPEC_SIGNATURE, SPEC_TIMESTAMP - limit), Ok(()));
        assert_eq!(
            verify_spec(SPEC_SIGNATURE, SPEC_TIMESTAMP + limit + 1),
            Err(VerifyError::Stale {
                skew_seconds: limit + 1
            })
        );
        assert_eq!(
            verify_spec(SPEC_SIGNATURE, SPEC_TIMESTAMP - limit - 1),
            Err(VerifyError::Stale {
                skew_seconds: -limit - 1
            })
        );
    }

    #[test]
    fn refuses_timestamps_that_are_not_integers() {
        for timestamp in ["hello", "", "1614265330.5", "2021-02-25T15:02:10Z"] {
            assert_eq!(
                verify(
                    &spec_secret(),
                    SPEC_ID,
                    timestamp,
                    SPEC_SIGNATURE,
                    SPEC_PAYLOAD,
                    at(SPEC_TIMESTAMP),
                    DEFAULT_TOLERANCE,
                ),
                Err(VerifyError::BadTimestamp),
                "{timestamp:?}"
            );
        }
    }

    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        let header_verify = |timestamp: i64| {
            verify(
                &spec_secret(),
                SPEC_ID,
                &timestamp.to_string(),
                SPEC_SIGNATURE,
                SPEC_PAYLOAD,
                at(SPEC_TIMESTAMP),
                DEFAULT_TOLERANCE,
            )
        };
        assert!(matches!(
            header_verify(i64::MIN),
            Err(VerifyError::Stale { .. })
        ));
        assert!(matches!(
            header_verify(i64::MAX),
            Err(VerifyError::Stale { .. })
        ));
    }

    fn spec_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(WEBHOOK_ID, SPEC_ID.parse().unwrap());
        headers.insert(WEBHOOK_TIMESTAMP, SPEC_TIMESTAMP.into());
        headers.insert(WEBHOOK_SIGNATURE, SPEC_SIGNATURE.parse().unwrap());
        headers
    }

    fn verify_spec_headers(headers: &HeaderMap) -> Result<(), VerifyError> {
        verify_headers(
            &spec_secret(),
            headers,
            SPEC_PAYLOAD,
            at(SPEC_TIMESTAMP + 10),
            DEFAULT_TOLERANCE,
        )
    }

    #[test]
    fn verifies_from_a_header_map() {
        assert_eq!(verify_spec_headers(&spec_headers()), Ok(()));
    }

    #[test]
    fn reports_which_header_is_missing() {
        for (name, text) in [
            (WEBHOOK_ID, "webhook-id"),
            (WEBHOOK_TIMESTAMP, "webhook-timestamp"),
            (WEBHOOK_SIGNATURE, "webhook-signature"),
        ] {
            let mut headers = spec_headers();
            headers.remove(&name);
            assert_eq!(
                verify_spec_headers(&headers),
                Err(VerifyError::MissingHeader(text))
            );
        }
    }

    #[test]
    fn reports_a_header_that_is_not_text() {
        let mut headers = spec_headers();
        headers.insert(
            WEBHOOK_ID,
            http::HeaderValue::from_bytes(b"msg_\xff").unwrap(),
        );
        assert_eq!(
            verify_spec_headers(&headers),
            Err(VerifyError::InvalidHeader("webhook-id"))
        );
    }
}
