//! Small shared helpers: base64url, PEM, redaction, `Retry-After`, clocks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// base64url without padding (JWT segments, keys as browsers print them).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url, tolerating padding and the standard alphabet (`+/`), as found in
/// subscriptions produced by various libraries.
pub(crate) fn b64url_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let cleaned: String = s
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(cleaned)
}

/// Decodes the first PEM block with the given label (e.g. `PRIVATE KEY`) into DER.
pub(crate) fn pem_decode(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A token shown as its first six characters and its length: enough to correlate log lines,
/// useless to an attacker.
pub(crate) fn redact(token: &str) -> String {
    let prefix: String = token.chars().take(6).collect();
    format!("{prefix}…({} chars)", token.chars().count())
}

/// A push endpoint shown as its origin only (the path is the capability).
pub(crate) fn redact_endpoint(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(u) => format!("{}/…", u.origin().ascii_serialization()),
        Err(_) => redact(endpoint),
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// Parses a `Retry-After` value relative to `now`. A date in the past gives zero.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let when = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let now = time::OffsetDateTime::from(now);
    let delta = when - now;
    Some(Duration::from_secs(
        u64::try_from(delta.whole_seconds()).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_717); // Sun, 06 Nov 1994 08:48:37 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn base64url_is_lenient() {
        assert_eq!(b64url_decode("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(b64url_decode("+/8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn pem_blocks() {
        let pem = "junk\n-----BEGIN TEST-----\nAAEC\nAw==\n-----END TEST-----\n";
        assert_eq!(pem_decode(pem, "TEST").unwrap(), vec![0, 1, 2, 3]);
        assert!(pem_decode(pem, "OTHER").is_none());
    }

    #[test]
    fn redaction_keeps_a_prefix_only() {
        assert_eq!(redact("abcdefghij"), "abcdef…(10 chars)");
        assert_eq!(
            redact_endpoint("https://push.example:8443/a/b"),
            "https://push.example:8443/…"
        );
    }
}
