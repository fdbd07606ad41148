//! Web Push: RFC 8030 delivery, RFC 8291 encryption (see [`crate::ece`]), RFC 8292 VAPID.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::json;

use crate::util::{b64url, b64url_decode, now_unix, redact_endpoint, retry_after};
use crate::{ConfigError, PushMessage, SendOutcome, ece};

/// Lifetime of the VAPID JWTs we sign (RFC 8292 allows up to 24 h).
const VAPID_JWT_LIFETIME: u64 = 12 * 3600;
/// A cached VAPID JWT is re-signed when it has less than this left.
const VAPID_JWT_MIN_REMAINING: u64 = 3600;
/// Bound on the per-origin VAPID JWT cache (there are only a handful of push services).
const VAPID_CACHE_MAX: usize = 256;

/// The application server's VAPID key pair (P-256). `Debug` shows the public key only.
#[derive(Clone)]
pub struct VapidKey {
    pair: Arc<EcdsaKeyPair>,
    public: [u8; 65],
}

impl fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKey")
            .field("public_key", &b64url(&self.public))
            .field("private_key", &"[redacted]")
            .finish()
    }
}

impl VapidKey {
    /// Parses the private key as web-push libraries print it: the raw 32-byte P-256 scalar
    /// in base64url (padding and the standard alphabet tolerated). The public key is derived
    /// with the `p256` crate; signing is done by `ring`.
    ///
    /// # Errors
    /// [`ConfigError::VapidKey`] when it is not 32 bytes or not a valid P-256 scalar.
    pub fn from_base64url(private_key: &str) -> Result<Self, ConfigError> {
        let bytes = b64url_decode(private_key)
            .map_err(|_| ConfigError::VapidKey("not base64url".into()))?;
        let scalar: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            ConfigError::VapidKey(format!(
                "expected a 32-byte P-256 private key, got {} bytes",
                bytes.len()
            ))
        })?;
        Self::from_bytes(&scalar)
    }

    /// From the raw 32-byte scalar.
    ///
    /// # Errors
    /// [`ConfigError::VapidKey`] when it is zero or not below the curve order.
    pub fn from_bytes(scalar: &[u8; 32]) -> Result<Self, ConfigError> {
        let public = ece::p256_public_key(scalar)
            .ok_or_else(|| ConfigError::VapidKey("not a valid P-256 private key".into()))?;
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            scalar,
            &public,
            &SystemRandom::new(),
        )
        .map_err(|e| ConfigError::VapidKey(format!("rejected by ring: {e}")))?;
        debug_assert_eq!(pair.public_key().as_ref(), &public[..]);
        Ok(Self {
            pair: Arc::new(pair),
            public,
        })
    }

    /// The 65-byte uncompressed public point.
    pub fn public_key(&self) -> &[u8; 65] {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .ok()
            .map(|s| s.as_ref().to_vec())
    }
}

/// Web Push configuration: the VAPID identity of this application server.
#[derive(Debug, Clone)]
pub struct WebPushConfig {
    /// The VAPID key pair.
    pub vapid_private_key: VapidKey,
    /// Contact for the push service operators: a `mailto:` or `https:` URI.
    pub subject: String,
}

impl WebPushConfig {
    /// Builds the configuration from a base64url raw 32-byte private key and a subject.
    ///
    /// # Errors
    /// [`ConfigError::VapidKey`] for a bad key, [`ConfigError::VapidSubject`] unless the
    /// subject starts with `mailto:` or `https:`.
    pub fn from_base64url(
        private_key: &str,
        subject: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let subject = subject.into();
        if !(subject.starts_with("mailto:") || subject.starts_with("https:")) {
            return Err(ConfigError::VapidSubject(subject));
        }
        Ok(Self {
            vapid_private_key: VapidKey::from_base64url(private_key)?,
            subject,
        })
    }

    /// The public key as browsers need it for `applicationServerKey`: the 65-byte
    /// uncompressed point in base64url without padding.
    pub fn public_key_base64url(&self) -> String {
        b64url(self.vapid_private_key.public_key())
    }

    /// The `Authorization` header value for a push to `endpoint`:
    /// `vapid t=<ES256 JWT>, k=<public key>`, with `aud` the endpoint's origin, `exp` = now +
    /// 12 h and `sub` the subject.
    ///
    /// # Errors
    /// When the endpoint is not an absolute http(s) URL, or signing fails.
    pub fn vapid_authorization(&self, endpoint: &str) -> Result<String, String> {
        let origin = endpoint_origin(endpoint)?;
        self.authorization_for_origin(&origin, now_unix())
            .map(|(header, _)| header)
    }

    fn authorization_for_origin(&self, origin: &str, now: u64) -> Result<(String, u64), String> {
        let exp = now + VAPID_JWT_LIFETIME;
        let header = json!({"typ": "JWT", "alg": "ES256"});
        let claims = json!({"aud": origin, "exp": exp, "sub": self.subject});
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = self
            .vapid_private_key
            .sign(signing_input.as_bytes())
            .ok_or("ES256 signing failed")?;
        Ok((
            format!(
                "vapid t={signing_input}.{}, k={}",
                b64url(&signature),
                self.public_key_base64url()
            ),
            exp,
        ))
    }
}

fn endpoint_origin(endpoint: &str) -> Result<String, String> {
    let url = url::Url::parse(endpoint).map_err(|e| format!("endpoint is not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err("endpoint must be an http(s) URL".into());
    }
    Ok(url.origin().ascii_serialization())
}

/// The `Topic` header for a collapse key: the key itself when it is already at most 32
/// base64url characters, otherwise the first 32 characters of base64url(SHA-256(key)) — so
/// distinct keys stay distinct instead of colliding after stripping characters.
pub fn topic_for(collapse_key: &str) -> String {
    let valid = !collapse_key.is_empty()
        && collapse_key.len() <= 32
        && collapse_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        collapse_key.to_owned()
    } else {
        let hash = digest::digest(&digest::SHA256, collapse_key.as_bytes());
        b64url(hash.as_ref())[..32].to_owned()
    }
}

/// The Web Push sender inside a [`crate::PushClient`].
pub(crate) struct WebPushSender {
    config: WebPushConfig,
    /// `Authorization` header per push-service origin, with its JWT's `exp`.
    jwt_cache: Mutex<HashMap<String, (Arc<str>, u64)>>,
}

impl fmt::Debug for WebPushSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebPushSender")
            .field("public_key", &self.config.public_key_base64url())
            .field("subject", &self.config.subject)
            .finish_non_exhaustive()
    }
}

impl WebPushSender {
    pub(crate) fn new(config: WebPushConfig) -> Self {
        Self {
            config,
            jwt_cache: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn config(&self) -> &WebPushConfig {
        &self.config
    }

    fn authorization(&self, origin: &str) -> Result<Arc<str>, String> {
        let now = now_unix();
        let mut cache = self.jwt_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((header, exp)) = cache.get(origin)
            && now + VAPID_JWT_MIN_REMAINING < *exp
        {
            return Ok(header.clone());
        }
        let (header, exp) = self.config.authorization_for_origin(origin, now)?;
        let header: Arc<str> = header.into();
        if cache.len() >= VAPID_CACHE_MAX {
            cache.clear();
        }
        cache.insert(origin.to_owned(), (header.clone(), exp));
        Ok(header)
    }

    pub(crate) async fn send(
        &self,
        http: &balagh_outbound::OutboundClient,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        message: &PushMessage,
    ) -> SendOutcome {
        // Checked again at every delivery: a subscription stored under an older, looser
        // policy (or before a name rebound) is dropped, never called.
        let endpoint = match http.check_url(endpoint) {
            Ok(url) => url,
            Err(refusal) => {
                return SendOutcome::Gone {
                    reason: format!("refused by the outbound policy: the endpoint {refusal}"),
                };
            }
        };
        let origin = endpoint.origin().ascii_serialization();
        let (Ok(ua_public), Ok(auth)) = (b64url_decode(p256dh), b64url_decode(auth)) else {
            return SendOutcome::Gone {
                reason: "subscription keys are not base64url".into(),
            };
        };
        let payload =
            json!({"title": message.title, "body": message.body, "data": message.data}).to_string();
        let body = match ece::encrypt(&ua_public, &auth, payload.as_bytes()) {
            Ok(b) => b,
            // A subscription with unusable keys can never receive anything.
            Err(e @ (ece::EncryptError::BadPublicKey | ece::EncryptError::BadAuthSecret(_))) => {
                return SendOutcome::Gone {
                    reason: format!("invalid subscription: {e}"),
                };
            }
            Err(e) => {
                return SendOutcome::Failed {
                    error: e.to_string(),
                };
            }
        };
        let authorization = match self.authorization(&origin) {
            Ok(a) => a,
            Err(error) => return SendOutcome::Failed { error },
        };
        let mut request = http
            .http()
            .post(endpoint.clone())
            .header(reqwest::header::AUTHORIZATION, &*authorization)
            .header("TTL", message.ttl.as_secs().to_string())
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header("Urgency", "normal");
        if let Some(key) = &message.collapse_key {
            request = request.header("Topic", topic_for(key));
        }
        let response = match request.body(body).send().await {
            Ok(r) => r,
            Err(e) if balagh_outbound::is_policy_refusal(&e) => {
                return SendOutcome::Gone {
                    reason: "refused by the outbound policy".into(),
                };
            }
            Err(e) => {
                return SendOutcome::Retry {
                    after: None,
                    error: format!("Web Push: {}", balagh_outbound::classify_error(&e)),
                };
            }
        };
        let status = response.status();
        let after = retry_after(response.headers());
        let code = status.as_u16();
        if status.is_success() {
            tracing::debug!(endpoint = %redact_endpoint(endpoint.as_str()), "Web Push message accepted");
            return SendOutcome::Delivered;
        }
        // The body is not read: a push service's error page is not the resident's business,
        // and an internal host's would be an oracle.
        let error = format!(
            "push service HTTP {code}: {}",
            balagh_outbound::classify_status(code)
        );
        match code {
            404 | 410 => SendOutcome::Gone { reason: error },
            408 | 429 | 500..=599 => SendOutcome::Retry { after, error },
            _ => SendOutcome::Failed { error },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_base64url_and_short() {
        assert_eq!(topic_for("report-42"), "report-42");
        let t = topic_for("report:42 status");
        assert_eq!(t.len(), 32);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(topic_for("report:42"), topic_for("report:43"));
        assert_eq!(topic_for(&"a".repeat(33)).len(), 32);
        assert_ne!(topic_for(&"a".repeat(33)), "a".repeat(32));
    }

    #[test]
    fn subject_and_key_are_validated() {
        let key = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
        assert!(WebPushConfig::from_base64url(key, "mailto:ops@example.org").is_ok());
        assert!(matches!(
            WebPushConfig::from_base64url(key, "ops@example.org"),
            Err(ConfigError::VapidSubject(_))
        ));
        assert!(matches!(
            WebPushConfig::from_base64url("AAAA", "mailto:a@b"),
            Err(ConfigError::VapidKey(_))
        ));
        // The zero scalar is not a key.
        assert!(matches!(
            WebPushConfig::from_base64url(&b64url(&[0u8; 32]), "mailto:a@b"),
            Err(ConfigError::VapidKey(_))
        ));
    }

    #[test]
    fn debug_hides_the_private_key() {
        let key = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
        let c = WebPushConfig::from_base64url(key, "mailto:ops@example.org").unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains(key), "{s}");
        assert!(s.contains(&c.public_key_base64url()), "{s}");
    }
}
