//! Push notifications to residents' devices.
//!
//! Two senders behind one [`PushClient`]:
//!
//! - **FCM HTTP v1** for the Android/iOS apps ([`FcmConfig`]): OAuth 2 with a Google service
//!   account (an RS256-signed JWT exchanged at the key's `token_uri`), an access token cached
//!   until a minute before it expires and refreshed by one task at a time.
//! - **Web Push** for browsers ([`WebPushConfig`]): RFC 8030 delivery, RFC 8291 `aes128gcm`
//!   message encryption ([`ece`]) and RFC 8292 VAPID identification.
//!
//! [`PushClient::send`] never returns an error type: it returns a [`SendOutcome`] that tells
//! the caller (the outbox worker) what to do next — mark delivered, deactivate the token,
//! retry later, or give up. A client without configuration for a kind of target logs the
//! message ([`SendOutcome::Logged`]), so the embedded default works without Google.
//!
//! Cryptography is `ring` throughout, plus the `p256` crate (arithmetic only) for the one
//! thing `ring` cannot do: derive a public key from a raw 32-byte P-256 scalar (the VAPID key
//! format that web-push tools print), and static-key ECDH in the Web Push stand-in.
//!
//! With the `stand-in` feature, [`stand_in`] provides local HTTP servers that speak both
//! protocols (token exchange, bearer checks, VAPID verification, RFC 8291 decryption) so
//! tests and benchmarks run without the internet.

pub mod ece;
mod fcm;
mod util;
mod web_push;

#[cfg(feature = "stand-in")]
pub mod stand_in;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use fcm::{FcmConfig, ServiceAccountKey};
pub use web_push::{VapidKey, WebPushConfig, topic_for};

/// What to show on the device. Title and body are already localised by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    /// Notification title.
    pub title: String,
    /// Notification body text.
    pub body: String,
    /// Extra key/value data for the app (e.g. `report_id`); FCM requires string values.
    pub data: BTreeMap<String, String>,
    /// Messages with the same key replace each other while undelivered (FCM `collapse_key`,
    /// APNs `apns-collapse-id`, Web Push `Topic`).
    pub collapse_key: Option<String>,
    /// How long the push service may keep the message for an offline device.
    pub ttl: Duration,
}

impl PushMessage {
    /// A message with no data, no collapse key and a TTL of one day.
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            data: BTreeMap::new(),
            collapse_key: None,
            ttl: Duration::from_secs(24 * 3600),
        }
    }
}

/// Where to send: a device registered with FCM, or a browser's push subscription.
#[derive(Clone, PartialEq, Eq)]
pub enum PushTarget {
    /// An FCM registration token (Android or iOS app).
    Fcm {
        /// The registration token the app obtained from Firebase.
        token: String,
    },
    /// A browser `PushSubscription` (`subscription.toJSON()`).
    WebPush {
        /// The push service URL to POST to.
        endpoint: String,
        /// base64url, uncompressed P-256 point (65 bytes): the browser's public key.
        p256dh: String,
        /// base64url, 16 bytes: the subscription's authentication secret.
        auth: String,
    },
}

impl fmt::Debug for PushTarget {
    /// Shows only a prefix of the token or endpoint: both are bearer-like identifiers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fcm { token } => f
                .debug_struct("Fcm")
                .field("token", &util::redact(token))
                .finish(),
            Self::WebPush { endpoint, .. } => f
                .debug_struct("WebPush")
                .field("endpoint", &util::redact_endpoint(endpoint))
                .finish_non_exhaustive(),
        }
    }
}

/// What happened to one send, and so what the caller should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted by the push service.
    Delivered,
    /// No sender configured for this kind of target (embedded default): the message was
    /// logged with tracing at info level (never the token in full), not lost.
    Logged,
    /// The token/subscription is gone (FCM `UNREGISTERED` or `INVALID_ARGUMENT` about the
    /// token, 404/410 from a push service): the caller deactivates it.
    Gone {
        /// Why the push service considers it gone.
        reason: String,
    },
    /// Try again later (429, 5xx, network error, timeout); `after` from `Retry-After` when
    /// given.
    Retry {
        /// The push service's `Retry-After`, if it sent one.
        after: Option<Duration>,
        /// What went wrong.
        error: String,
    },
    /// Will never succeed as sent (e.g. 400 about the payload, 401/403 after a fresh token).
    Failed {
        /// What went wrong.
        error: String,
    },
}

impl SendOutcome {
    /// `true` for [`SendOutcome::Delivered`] and [`SendOutcome::Logged`]: nothing more to do.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Delivered | Self::Logged)
    }
}

/// Which senders to use. `Default` has none (every send is [`SendOutcome::Logged`]) and a
/// 10 s timeout.
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// FCM HTTP v1; `None` logs FCM targets instead of sending.
    pub fcm: Option<FcmConfig>,
    /// Web Push with VAPID; `None` logs Web Push targets instead of sending.
    pub web_push: Option<WebPushConfig>,
    /// Whole-request timeout for each HTTP call (token exchange and send).
    pub timeout: Duration,
    /// The outbound policy for Web Push endpoints: residents' browsers choose them, so they
    /// are checked like any address someone else chose ([`balagh_outbound`]). FCM's URLs
    /// come from the operator's configuration and are not subject to it.
    pub outbound: balagh_outbound::PolicyResolver,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            fcm: None,
            web_push: None,
            timeout: Duration::from_secs(10),
            outbound: balagh_outbound::PolicyResolver::system(Arc::default()),
        }
    }
}

/// Configuration that cannot work: bad service-account JSON, bad keys, bad URLs.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The service-account JSON could not be read or parsed.
    #[error("service account: {0}")]
    ServiceAccount(String),
    /// The service account's private key is not a PEM PKCS#8 RSA key ring accepts.
    #[error("service account private key: {0}")]
    PrivateKey(String),
    /// The VAPID private key is not a base64url 32-byte P-256 scalar.
    #[error("VAPID key: {0}")]
    VapidKey(String),
    /// The VAPID subject is not a `mailto:` or `https:` URI.
    #[error("VAPID subject must be a mailto: or https: URI, got {0:?}")]
    VapidSubject(String),
    /// A URL in the configuration is unusable.
    #[error("URL: {0}")]
    Url(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    HttpClient(String),
}

/// Sends push messages. Cheap to clone (an `Arc` inside); share one per process so the
/// connection pool and the cached FCM access token are shared too.
#[derive(Clone)]
pub struct PushClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    web_push_http: balagh_outbound::OutboundClient,
    fcm: Option<fcm::FcmSender>,
    web_push: Option<web_push::WebPushSender>,
}

impl fmt::Debug for PushClient {
    /// Names the configured senders and their public identifiers; never a key or token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushClient")
            .field("fcm", &self.inner.fcm)
            .field("web_push", &self.inner.web_push)
            .finish()
    }
}

impl PushClient {
    /// Builds the client (one pooled HTTP client shared by both senders).
    ///
    /// # Errors
    /// [`ConfigError`] when a URL derived from the configuration is invalid or the HTTP
    /// client cannot be built. Keys were already validated when the configs were built.
    pub fn new(settings: PushSettings) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("balagh-push/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let web_push_http = balagh_outbound::OutboundClient::new(
            settings.outbound.clone(),
            settings.timeout,
            concat!("balagh-push/", env!("CARGO_PKG_VERSION")),
        )
        .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let fcm = settings.fcm.map(fcm::FcmSender::new).transpose()?;
        let web_push = settings.web_push.map(web_push::WebPushSender::new);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                web_push_http,
                fcm,
                web_push,
            }),
        })
    }

    /// Sends one message to one target and classifies the result. Never panics, never
    /// returns early without an outcome.
    pub async fn send(&self, target: &PushTarget, message: &PushMessage) -> SendOutcome {
        match target {
            PushTarget::Fcm { token } => match &self.inner.fcm {
                Some(fcm) => fcm.send(&self.inner.http, token, message).await,
                None => {
                    tracing::info!(
                        kind = "fcm",
                        token = %util::redact(token),
                        title = %message.title,
                        body = %message.body,
                        data = ?message.data,
                        "push not sent (no FCM sender configured); logged instead"
                    );
                    SendOutcome::Logged
                }
            },
            PushTarget::WebPush {
                endpoint,
                p256dh,
                auth,
            } => match &self.inner.web_push {
                Some(wp) => {
                    wp.send(&self.inner.web_push_http, endpoint, p256dh, auth, message)
                        .await
                }
                None => {
                    tracing::info!(
                        kind = "web_push",
                        endpoint = %util::redact_endpoint(endpoint),
                        title = %message.title,
                        body = %message.body,
                        data = ?message.data,
                        "push not sent (no Web Push sender configured); logged instead"
                    );
                    SendOutcome::Logged
                }
            },
        }
    }

    /// The VAPID public key (base64url, 65-byte uncompressed point) browsers need as
    /// `applicationServerKey`, when Web Push is configured.
    pub fn vapid_public_key(&self) -> Option<String> {
        self.inner
            .web_push
            .as_ref()
            .map(|wp| wp.config().public_key_base64url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_debug_hides_token_and_endpoint_path() {
        let t = PushTarget::Fcm {
            token: "abcdefghijklmnopqrstuvwxyz0123456789".into(),
        };
        let s = format!("{t:?}");
        assert!(!s.contains("abcdefghijklmnopqrstuvwxyz0123456789"), "{s}");
        let w = PushTarget::WebPush {
            endpoint: "https://push.example/wpush/v2/secret-subscription-id".into(),
            p256dh: "p".into(),
            auth: "a".into(),
        };
        let s = format!("{w:?}");
        assert!(!s.contains("secret-subscription-id"), "{s}");
        assert!(s.contains("push.example"), "{s}");
    }
}
