//! FCM HTTP v1: service-account OAuth (RS256 JWT bearer grant), cached access token, send,
//! and error classification.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use crate::util::{b64url, now_unix, pem_decode, redact, retry_after};
use crate::{ConfigError, PushMessage, SendOutcome};

/// The OAuth scope FCM v1 requires.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's token endpoint (the default `token_uri` of service-account keys).
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// FCM's base URL.
pub const FCM_BASE_URL: &str = "https://fcm.googleapis.com/";

/// An access token is refreshed this long before the expiry the token endpoint announced.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A Google service-account key (the JSON file downloaded from the Cloud console).
///
/// The private key is parsed once and kept opaque; `Debug` shows only public fields.
#[derive(Clone)]
pub struct ServiceAccountKey {
    /// Firebase/Google Cloud project id (`projects/{project_id}/messages:send`).
    pub project_id: String,
    /// The service account's e-mail: the JWT issuer.
    pub client_email: String,
    /// Id of the key: the JWT header's `kid`.
    pub private_key_id: String,
    /// Where to exchange the signed JWT for an access token (also the JWT audience).
    pub token_uri: String,
    signer: Arc<RsaKeyPair>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

#[derive(Deserialize)]
struct ServiceAccountJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    project_id: String,
    client_email: String,
    private_key: String,
    private_key_id: String,
    token_uri: Option<String>,
}

impl ServiceAccountKey {
    /// Parses the service-account JSON (`type` `service_account`; `project_id`,
    /// `client_email`, `private_key` as PEM PKCS#8, `private_key_id`, `token_uri` — Google's
    /// endpoint when absent).
    ///
    /// # Errors
    /// [`ConfigError::ServiceAccount`] for bad JSON or missing fields,
    /// [`ConfigError::PrivateKey`] when the key is not an RSA PKCS#8 PEM ring accepts.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        // serde_json's messages quote no input values, so no key material leaks into errors.
        let raw: ServiceAccountJson =
            serde_json::from_str(json).map_err(|e| ConfigError::ServiceAccount(e.to_string()))?;
        if let Some(kind) = raw.kind.as_deref()
            && kind != "service_account"
        {
            return Err(ConfigError::ServiceAccount(format!(
                "type is {kind:?}, expected \"service_account\""
            )));
        }
        let der = pem_decode(&raw.private_key, "PRIVATE KEY").ok_or_else(|| {
            ConfigError::PrivateKey("expected a PEM block \"-----BEGIN PRIVATE KEY-----\"".into())
        })?;
        let signer = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| ConfigError::PrivateKey(format!("not an RSA PKCS#8 key: {e}")))?;
        let token_uri = raw.token_uri.unwrap_or_else(|| GOOGLE_TOKEN_URI.to_owned());
        url::Url::parse(&token_uri)
            .map_err(|e| ConfigError::Url(format!("token_uri {token_uri:?}: {e}")))?;
        Ok(Self {
            project_id: raw.project_id,
            client_email: raw.client_email,
            private_key_id: raw.private_key_id,
            token_uri,
            signer: Arc::new(signer),
        })
    }

    /// Reads and parses a service-account JSON file.
    ///
    /// # Errors
    /// As [`ServiceAccountKey::from_json`], plus an unreadable file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::ServiceAccount(format!("{}: {e}", path.display())))?;
        Self::from_json(&json)
    }

    /// The same key with another token endpoint (e.g. a stand-in).
    #[must_use]
    pub fn with_token_uri(mut self, token_uri: impl Into<String>) -> Self {
        self.token_uri = token_uri.into();
        self
    }

    /// The signed JWT (RS256) for the OAuth 2 JWT-bearer grant, issued at `iat` (Unix
    /// seconds) and valid one hour: `iss` = `client_email`, `scope` = FCM, `aud` =
    /// `token_uri`, header `kid` = `private_key_id`.
    ///
    /// # Errors
    /// Only if ring fails to sign (RNG failure).
    pub fn jwt_assertion(&self, iat: u64) -> Result<String, String> {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.private_key_id});
        let claims = json!({
            "iss": self.client_email,
            "scope": FCM_SCOPE,
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat + 3600,
        });
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut signature = vec![0u8; self.signer.public().modulus_len()];
        self.signer
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "RS256 signing failed".to_owned())?;
        Ok(format!("{signing_input}.{}", b64url(&signature)))
    }
}

/// FCM HTTP v1 configuration.
#[derive(Debug, Clone)]
pub struct FcmConfig {
    /// The service account that may send for the project.
    pub service_account: ServiceAccountKey,
    /// FCM's base URL, ending in `/`; default `https://fcm.googleapis.com/`.
    pub base_url: url::Url,
}

impl FcmConfig {
    /// Configuration for Google's FCM with this service account.
    pub fn new(service_account: ServiceAccountKey) -> Self {
        Self {
            service_account,
            base_url: url::Url::parse(FCM_BASE_URL).expect("constant URL"),
        }
    }
}

/// A bearer token and when to stop using it. `Debug` hides the value.
#[derive(Clone)]
struct AccessToken {
    value: Arc<str>,
    refresh_at: Instant,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[redacted]")
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

/// Why no access token could be obtained.
enum TokenError {
    /// Network error, timeout, 429 or 5xx from the token endpoint.
    Transient(Option<Duration>, String),
    /// The token endpoint refused the assertion, or answered nonsense.
    Permanent(String),
}

impl TokenError {
    fn into_outcome(self) -> SendOutcome {
        match self {
            Self::Transient(after, error) => SendOutcome::Retry { after, error },
            Self::Permanent(error) => SendOutcome::Failed { error },
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

/// The FCM sender inside a [`crate::PushClient`].
pub(crate) struct FcmSender {
    key: ServiceAccountKey,
    send_url: url::Url,
    /// The current token: read on every send.
    token: RwLock<Option<AccessToken>>,
    /// Held by the one task that refreshes; the others wait for it, then re-read.
    refresh: Mutex<()>,
}

impl fmt::Debug for FcmSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmSender")
            .field("project_id", &self.key.project_id)
            .field("client_email", &self.key.client_email)
            .field("send_url", &self.send_url.as_str())
            .finish_non_exhaustive()
    }
}

enum Class {
    Gone(String),
    Retry(String),
    Auth(String),
    Failed(String),
}

impl FcmSender {
    pub(crate) fn new(config: FcmConfig) -> Result<Self, ConfigError> {
        let mut base = config.base_url;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let send_url = base
            .join(&format!(
                "v1/projects/{}/messages:send",
                config.service_account.project_id
            ))
            .map_err(|e| ConfigError::Url(format!("FCM base_url: {e}")))?;
        Ok(Self {
            key: config.service_account,
            send_url,
            token: RwLock::new(None),
            refresh: Mutex::new(()),
        })
    }

    pub(crate) async fn send(
        &self,
        http: &reqwest::Client,
        token: &str,
        message: &PushMessage,
    ) -> SendOutcome {
        let body = message_body(token, message, now_unix());
        let mut refreshed = false;
        loop {
            let access = match self.access_token(http).await {
                Ok(access) => access,
                Err(e) => return e.into_outcome(),
            };
            let response = match http
                .post(self.send_url.clone())
                .bearer_auth(&*access)
                .json(&body)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    return SendOutcome::Retry {
                        after: None,
                        error: format!("FCM send: {}", describe(&e)),
                    };
                }
            };
            let status = response.status();
            if status.is_success() {
                tracing::debug!(token = %redact(token), "FCM message accepted");
                return SendOutcome::Delivered;
            }
            let after = retry_after(response.headers());
            let bytes = response.bytes().await.unwrap_or_default();
            match classify(status.as_u16(), &bytes) {
                Class::Auth(error) if !refreshed => {
                    tracing::info!(%error, "FCM refused the access token; refreshing once");
                    refreshed = true;
                    self.invalidate(&access).await;
                }
                Class::Auth(error) | Class::Failed(error) => {
                    return SendOutcome::Failed { error };
                }
                Class::Gone(reason) => return SendOutcome::Gone { reason },
                Class::Retry(error) => return SendOutcome::Retry { after, error },
            }
        }
    }

    /// The cached token if still fresh; otherwise one task refreshes while the others wait.
    async fn access_token(&self, http: &reqwest::Client) -> Result<Arc<str>, TokenError> {
        if let Some(t) = self.token.read().await.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let _guard = self.refresh.lock().await;
        // Someone may have refreshed while we waited for the lock.
        if let Some(t) = self.token.read().await.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch_token(http).await?;
        let value = fresh.value.clone();
        *self.token.write().await = Some(fresh);
        Ok(value)
    }

    /// Forgets `stale` (if it is still the current token) so the next call refreshes.
    async fn invalidate(&self, stale: &Arc<str>) {
        let mut current = self.token.write().await;
        if current.as_ref().is_some_and(|t| t.value == *stale) {
            *current = None;
        }
    }

    async fn fetch_token(&self, http: &reqwest::Client) -> Result<AccessToken, TokenError> {
        let assertion = self
            .key
            .jwt_assertion(now_unix())
            .map_err(|e| TokenError::Transient(None, e))?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", &assertion)
            .finish();
        let started = Instant::now();
        let response = http
            .post(&self.key.token_uri)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| {
                TokenError::Transient(None, format!("token exchange: {}", describe(&e)))
            })?;
        let status = response.status();
        let after = retry_after(response.headers());
        let bytes = response.bytes().await.map_err(|e| {
            TokenError::Transient(None, format!("token exchange: {}", describe(&e)))
        })?;
        if !status.is_success() {
            // Google's OAuth errors: {"error": "invalid_grant", "error_description": "..."}.
            let detail = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .map(|v| {
                    format!(
                        "{} {}",
                        v["error"].as_str().unwrap_or(""),
                        v["error_description"].as_str().unwrap_or("")
                    )
                })
                .unwrap_or_default();
            let error = format!("token exchange: HTTP {status} {}", detail.trim());
            return Err(
                if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
                    TokenError::Transient(after, error)
                } else {
                    tracing::warn!(%error, "FCM service account refused");
                    TokenError::Permanent(error)
                },
            );
        }
        let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
            TokenError::Permanent(format!("token exchange: unexpected response: {e}"))
        })?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        tracing::debug!(expires_in = lifetime.as_secs(), "obtained FCM access token");
        Ok(AccessToken {
            value: parsed.access_token.into(),
            refresh_at: started + lifetime.saturating_sub(EXPIRY_MARGIN),
        })
    }
}

/// A reqwest error without its URL (no secrets there, but noise), keeping timeout/connect
/// hints.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = match e.url() {
        Some(url) => e.to_string().replace(url.as_str(), "<url>"),
        None => e.to_string(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    format!("{kind} ({detail})")
}

/// The FCM v1 request body.
pub(crate) fn message_body(token: &str, message: &PushMessage, now: u64) -> Value {
    let ttl = message.ttl.as_secs();
    let mut android = Map::new();
    android.insert("ttl".into(), Value::String(format!("{ttl}s")));
    let mut apns_headers = Map::new();
    // APNs: 0 means "deliver now or never"; otherwise an absolute Unix time.
    let expiration = if ttl == 0 { 0 } else { now + ttl };
    apns_headers.insert(
        "apns-expiration".into(),
        Value::String(expiration.to_string()),
    );
    if let Some(key) = &message.collapse_key {
        android.insert("collapse_key".into(), Value::String(key.clone()));
        apns_headers.insert(
            "apns-collapse-id".into(),
            Value::String(truncate_utf8(key, 64).to_owned()),
        );
    }
    json!({
        "message": {
            "token": token,
            "notification": {"title": message.title, "body": message.body},
            "data": message.data,
            "android": android,
            "apns": {"headers": apns_headers},
        }
    })
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Sorts an FCM error response into what the caller should do (FCM v1 `ErrorCode` docs).
fn classify(status: u16, body: &[u8]) -> Class {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    let status_name = error["status"].as_str().unwrap_or("");
    let message = error["message"].as_str().unwrap_or("");
    let mut error_code = "";
    let mut violations = Vec::new();
    if let Some(details) = error["details"].as_array() {
        for d in details {
            if let Some(code) = d["errorCode"].as_str() {
                error_code = code;
            }
            if let Some(fv) = d["fieldViolations"].as_array() {
                for v in fv {
                    violations.push(format!(
                        "{}: {}",
                        v["field"].as_str().unwrap_or(""),
                        v["description"].as_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    let code = if error_code.is_empty() {
        status_name
    } else {
        error_code
    };
    let text = if message.is_empty() {
        format!("FCM HTTP {status} {code}")
    } else {
        format!("FCM HTTP {status} {code}: {message}")
    };
    match (status, code) {
        (_, "UNREGISTERED") | (404, _) => Class::Gone(text),
        // The token belongs to another Firebase project: it can never work for us.
        (_, "SENDER_ID_MISMATCH") => Class::Gone(text),
        (400, _) => {
            let about_token = message.to_ascii_lowercase().contains("token")
                || violations
                    .iter()
                    .any(|v| v.to_ascii_lowercase().contains("token"));
            if about_token && matches!(code, "INVALID_ARGUMENT" | "") {
                Class::Gone(text)
            } else if violations.is_empty() {
                Class::Failed(text)
            } else {
                Class::Failed(format!("{text} ({})", violations.join("; ")))
            }
        }
        // APNs certificate/key problem on the Firebase side: a fresh token will not help.
        (_, "THIRD_PARTY_AUTH_ERROR") => Class::Failed(text),
        (401 | 403, _) => Class::Auth(text),
        (408 | 429, _) | (500..=599, _) => Class::Retry(text),
        _ => Class::Failed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(status: u16, body: &str) -> &'static str {
        match classify(status, body.as_bytes()) {
            Class::Gone(_) => "gone",
            Class::Retry(_) => "retry",
            Class::Auth(_) => "auth",
            Class::Failed(_) => "failed",
        }
    }

    #[test]
    fn classification_follows_fcm_docs() {
        let unregistered = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        assert_eq!(class(404, unregistered), "gone");
        let bad_token = r#"{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}"#;
        assert_eq!(class(400, bad_token), "gone");
        let bad_field = r#"{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}]}}"#;
        assert_eq!(class(400, bad_field), "gone");
        let bad_payload = r#"{"error":{"code":400,"message":"Invalid value at 'message.android.ttl'","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.android.ttl","description":"Invalid value"}]}]}}"#;
        assert_eq!(class(400, bad_payload), "failed");
        assert_eq!(
            class(
                429,
                r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}"#
            ),
            "retry"
        );
        assert_eq!(class(503, "<html>unavailable</html>"), "retry");
        assert_eq!(class(500, ""), "retry");
        assert_eq!(
            class(401, r#"{"error":{"status":"UNAUTHENTICATED"}}"#),
            "auth"
        );
        assert_eq!(
            class(403, r#"{"error":{"status":"PERMISSION_DENIED"}}"#),
            "auth"
        );
        assert_eq!(
            class(
                403,
                r#"{"error":{"details":[{"errorCode":"SENDER_ID_MISMATCH"}]}}"#
            ),
            "gone"
        );
        assert_eq!(
            class(
                401,
                r#"{"error":{"details":[{"errorCode":"THIRD_PARTY_AUTH_ERROR"}]}}"#
            ),
            "failed"
        );
        assert_eq!(class(413, ""), "failed");
    }

    #[test]
    fn body_has_ttl_collapse_and_apns_headers() {
        let mut m = PushMessage::new("Titre", "Corps");
        m.ttl = Duration::from_secs(3600);
        m.collapse_key = Some("report-42".into());
        m.data.insert("report_id".into(), "42".into());
        let b = message_body("tok", &m, 1_000);
        assert_eq!(b["message"]["token"], "tok");
        assert_eq!(b["message"]["android"]["ttl"], "3600s");
        assert_eq!(b["message"]["android"]["collapse_key"], "report-42");
        assert_eq!(b["message"]["apns"]["headers"]["apns-expiration"], "4600");
        assert_eq!(
            b["message"]["apns"]["headers"]["apns-collapse-id"],
            "report-42"
        );
        assert_eq!(b["message"]["data"]["report_id"], "42");
        m.ttl = Duration::ZERO;
        m.collapse_key = Some("é".repeat(40));
        let b = message_body("tok", &m, 1_000);
        assert_eq!(b["message"]["apns"]["headers"]["apns-expiration"], "0");
        assert_eq!(
            b["message"]["apns"]["headers"]["apns-collapse-id"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }
}
