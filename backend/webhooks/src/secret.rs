//! The per-endpoint signing secret.
//!
//! Each operator endpoint gets its own random key (the specification warns that sharing keys
//! across customers lets one operator forge events for another). Its text form is
//! `whsec_<standard base64>`, the Standard Webhooks serialisation, so operators can paste it
//! into any compatible verification library. The prefix makes a leaked value easy to
//! recognise and grep for.
//!
//! The secret is shown to the operator once ([`WebhookSecret::expose`]); everywhere else it
//! must stay out of logs, so `Debug` and `Display` print a redacted placeholder.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore as _;

/// The prefix of the text form, as in the Standard Webhooks specification.
pub const PREFIX: &str = "whsec_";

/// Length of a freshly generated key: 192 bits, the specification's recommended minimum.
pub const GENERATED_LEN: usize = 24;

/// Shortest key accepted by [`WebhookSecret::parse`]. 128 bits still resists brute force and
/// keeps secrets issued by other Standard Webhooks implementations usable.
pub const MIN_LEN: usize = 16;

/// Longest key accepted by [`WebhookSecret::parse`] (512 bits, one SHA-256 block: anything
/// longer is hashed down by HMAC anyway, so a longer key is more likely a paste error).
pub const MAX_LEN: usize = 64;

/// An HMAC-SHA256 signing key for one operator endpoint.
///
/// Deliberately not `PartialEq`: comparing secrets is a verification job and belongs to
/// [`crate::signature`], which compares in constant time.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// Why a text secret was refused by [`WebhookSecret::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The part after the optional `whsec_` prefix is not standard (padded) base64.
    #[error("webhook secret is not valid base64 (expected `whsec_<standard base64>`): {0}")]
    InvalidBase64(#[from] base64::DecodeError),
    /// The decoded key is shorter than [`MIN_LEN`] bytes.
    #[error("webhook secret is too short: {len} bytes, at least {MIN_LEN} are required")]
    TooShort {
        /// Decoded length in bytes.
        len: usize,
    },
    /// The decoded key is longer than [`MAX_LEN`] bytes.
    #[error("webhook secret is too long: {len} bytes, at most {MAX_LEN} are allowed")]
    TooLong {
        /// Decoded length in bytes.
        len: usize,
    },
}

impl WebhookSecret {
    /// A new random secret of [`GENERATED_LEN`] bytes, from the thread-local CSPRNG.
    pub fn generate() -> Self {
        let mut key = vec![0_u8; GENERATED_LEN];
        rand::rng().fill_bytes(&mut key);
        Self { key }
    }

    /// Reads the text form, with or without the `whsec_` prefix (both circulate: some
    /// libraries and dashboards strip it).
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
        let key = BASE64.decode(encoded)?;
        match key.len() {
            len if len < MIN_LEN => Err(SecretError::TooShort { len }),
            len if len > MAX_LEN => Err(SecretError::TooLong { len }),
            _ => Ok(Self { key }),
        }
    }

    /// The text form `whsec_<base64>`, to show the operator once or to store encrypted.
    ///
    /// Named so that every place revealing the secret is easy to find in review.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", BASE64.encode(&self.key))
    }

    /// The raw key bytes for the HMAC; crate-private so only the signer sees them.
    pub(crate) fn key_bytes(&self) -> &[u8] {
        &self.key
    }
}

impl FromStr for WebhookSecret {
    type Err = SecretError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn generated_secrets_have_the_documented_length_and_differ() {
        let first = WebhookSecret::generate();
        let second = WebhookSecret::generate();
        assert_eq!(first.key_bytes().len(), GENERATED_LEN);
        assert_ne!(first.key_bytes(), second.key_bytes());
    }

    #[test]
    fn text_form_round_trips() {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"), "{text}");
        let parsed = WebhookSecret::parse(&text).unwrap();
        assert_eq!(parsed.key_bytes(), secret.key_bytes());
    }

    #[test]
    fn parses_with_and_without_prefix() {
        let with_prefix = WebhookSecret::parse(SPEC_SECRET).unwrap();
        let without_prefix =
            WebhookSecret::parse(SPEC_SECRET.strip_prefix(PREFIX).unwrap()).unwrap();
        assert_eq!(with_prefix.key_bytes(), without_prefix.key_bytes());
        assert_eq!(with_prefix.key_bytes().len(), 24);
        assert_eq!(with_prefix.expose(), SPEC_SECRET);
        assert_eq!(
            SPEC_SECRET.parse::<WebhookSecret>().unwrap().expose(),
            SPEC_SECRET
        );
    }

    #[test]
    fn refuses_bad_base64() {
        for bad in [
            "whsec_not base64!",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
            "",
            "whsec_",
        ] {
            let error = WebhookSecret::parse(bad).unwrap_err();
            // The empty strings decode to zero bytes: too short rather than malformed.
            assert!(
                matches!(
                    error,
                    SecretError::InvalidBase64(_) | SecretError::TooShort { len: 0 }
                ),
                "{bad:?} gave {error:?}"
            );
        }
        assert!(matches!(
            WebhookSecret::parse("whsec_%%%%").unwrap_err(),
            SecretError::InvalidBase64(_)
        ));
    }

    #[test]
    fn refuses_keys_that_are_too_short_or_too_long() {
        let fifteen = BASE64.encode([7_u8; 15]);
        assert_eq!(
            WebhookSecret::parse(&fifteen).unwrap_err(),
            SecretError::TooShort { len: 15 }
        );
        let sixty_five = BASE64.encode([7_u8; 65]);
        assert_eq!(
            WebhookSecret::parse(&format!("whsec_{sixty_five}")).unwrap_err(),
            SecretError::TooLong { len: 65 }
        );
        assert!(WebhookSecret::parse(&BASE64.encode([7_u8; 16])).is_ok());
        assert!(WebhookSecret::parse(&BASE64.encode([7_u8; 64])).is_ok());
    }

    #[test]
    fn errors_explain_the_problem() {
        let message = WebhookSecret::parse("whsec_AAAA").unwrap_err().to_string();
        assert!(message.contains("too short"), "{message}");
        assert!(message.contains("16"), "{message}");
    }

    #[test]
    fn debug_and_display_never_print_the_secret() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        let encoded = SPEC_SECRET.strip_prefix(PREFIX).unwrap();
        for shown in [
            format!("{secret:?}"),
            format!("{secret}"),
            format!("{secret:#?}"),
        ] {
            assert!(!shown.contains(encoded), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
    }
}
