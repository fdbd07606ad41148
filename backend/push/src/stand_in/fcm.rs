//! The FCM HTTP v1 stand-in: OAuth token endpoint and `messages:send`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};

use super::{Faults, bind, random, serve, with_retry_after};
use crate::fcm::FCM_SCOPE;
use crate::util::{b64url, b64url_decode, now_unix, pem_decode};

const FCM_ERROR_TYPE: &str = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const BAD_REQUEST_TYPE: &str = "type.googleapis.com/google.rpc.BadRequest";

/// One message the stand-in accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedFcmMessage {
    /// The registration token it was addressed to.
    pub token: String,
    /// The `message` object as received (`notification`, `data`, `android`, `apns`, …).
    pub message: Value,
}

struct State_ {
    /// RSA public key, PKCS#1 DER.
    public_key: Vec<u8>,
    token_uri: String,
    /// Issued access tokens and when each expires.
    tokens: Mutex<HashMap<String, Instant>>,
    token_lifetime: Mutex<Duration>,
    token_requests: AtomicUsize,
    message_count: AtomicUsize,
    recording: AtomicBool,
    /// (token, message JSON text): compact enough for 100k messages.
    messages: Mutex<Vec<(Box<str>, Box<str>)>>,
    faults: Mutex<Faults>,
    next_id: AtomicU64,
}

type Shared = Arc<State_>;

/// A local FCM: `POST /token` (OAuth JWT-bearer grant) and
/// `POST /v1/projects/{project}/messages:send`.
///
/// Registration tokens starting `unregistered-` answer 404 `UNREGISTERED`; tokens starting
/// `invalid-` answer 400 `INVALID_ARGUMENT` about the token. Stops when dropped.
pub struct FcmStandIn {
    state: Shared,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for FcmStandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmStandIn")
            .field("addr", &self.addr)
            .field("message_count", &self.message_count())
            .field("token_requests", &self.token_requests())
            .finish_non_exhaustive()
    }
}

impl Drop for FcmStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FcmStandIn {
    /// Starts the stand-in, trusting assertions signed by the RSA key whose public half is
    /// given as PEM (`RSA PUBLIC KEY` PKCS#1 or `PUBLIC KEY` SPKI) or PKCS#1 DER.
    ///
    /// # Panics
    /// If the key cannot be read or the port cannot be bound (test setup errors).
    pub async fn start(public_key_pem_or_der: impl AsRef<[u8]>) -> Self {
        let public_key = rsa_public_key_pkcs1(public_key_pem_or_der.as_ref())
            .expect("an RSA public key as PKCS#1/SPKI PEM or PKCS#1 DER");
        let (listener, addr) = bind().await;
        let state: Shared = Arc::new(State_ {
            public_key,
            token_uri: format!("http://{addr}/token"),
            tokens: Mutex::new(HashMap::new()),
            token_lifetime: Mutex::new(Duration::from_secs(3600)),
            token_requests: AtomicUsize::new(0),
            message_count: AtomicUsize::new(0),
            recording: AtomicBool::new(true),
            messages: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            next_id: AtomicU64::new(1),
        });
        let router = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(state.clone());
        let task = serve(listener, router);
        Self { state, addr, task }
    }

    /// Starts the stand-in trusting the test-only service account
    /// ([`super::TEST_PUBLIC_KEY_PEM`]).
    pub async fn start_with_test_key() -> Self {
        Self::start(super::TEST_PUBLIC_KEY_PEM).await
    }

    /// `http://127.0.0.1:{port}/`: the `base_url` for [`crate::FcmConfig`].
    pub fn base_url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).expect("valid URL")
    }

    /// `http://127.0.0.1:{port}/token`: the service account's `token_uri`.
    pub fn token_uri(&self) -> String {
        self.state.token_uri.clone()
    }

    /// An [`crate::FcmConfig`] for the test-only service account pointed at this stand-in.
    pub fn test_config(&self) -> crate::FcmConfig {
        crate::FcmConfig {
            service_account: super::test_service_account(&self.token_uri()),
            base_url: self.base_url(),
        }
    }

    /// The messages accepted so far, in order (empty when recording is off).
    pub fn messages(&self) -> Vec<ReceivedFcmMessage> {
        self.state
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(token, message)| ReceivedFcmMessage {
                token: token.to_string(),
                message: serde_json::from_str(message).unwrap_or(Value::Null),
            })
            .collect()
    }

    /// How many messages were accepted (cheap: an atomic counter, kept even when recording
    /// is off).
    pub fn message_count(&self) -> usize {
        self.state.message_count.load(Ordering::Relaxed)
    }

    /// How many requests reached `POST /token` (valid or not).
    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::Relaxed)
    }

    /// The `expires_in` of tokens issued from now on (default one hour). Tokens really
    /// expire after it.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        *self
            .state
            .token_lifetime
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = lifetime;
    }

    /// Whether to keep each accepted message for [`FcmStandIn::messages`] (default on).
    /// Turn it off for long benchmarks; [`FcmStandIn::message_count`] still counts.
    pub fn set_recording(&self, on: bool) {
        self.state.recording.store(on, Ordering::Relaxed);
    }

    /// Makes the next `n` sends (after the bearer check) answer `status` — 429
    /// `QUOTA_EXCEEDED`, 503 `UNAVAILABLE`, 500 `INTERNAL`, 401 `UNAUTHENTICATED`, 403
    /// `PERMISSION_DENIED` or any other code — with `Retry-After` when given.
    pub fn fail_next(&self, n: usize, status: u16, retry_after: Option<Duration>) {
        *self.state.faults.lock().unwrap_or_else(|e| e.into_inner()) = Faults {
            remaining: n,
            status,
            retry_after,
        };
    }

    /// Forgets every issued access token, as if Google had revoked them: the next send with
    /// an old token gets 401.
    pub fn revoke_tokens(&self) {
        self.state
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The access tokens issued and not yet revoked (to check they never leak).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

/// Accepts PKCS#1 PEM, SPKI PEM or PKCS#1 DER; returns PKCS#1 DER (what ring verifies).
fn rsa_public_key_pkcs1(input: &[u8]) -> Option<Vec<u8>> {
    if let Ok(text) = std::str::from_utf8(input)
        && text.contains("-----BEGIN")
    {
        if let Some(der) = pem_decode(text, "RSA PUBLIC KEY") {
            return Some(der);
        }
        let spki = pem_decode(text, "PUBLIC KEY")?;
        return spki_to_pkcs1(&spki);
    }
    Some(input.to_vec())
}

/// SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }:
/// the BIT STRING's content (after its unused-bits byte) is the PKCS#1 key.
fn spki_to_pkcs1(der: &[u8]) -> Option<Vec<u8>> {
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *input.first()?;
        let first = *input.get(1)? as usize;
        let (len, header) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7f;
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | *input.get(2 + i)? as usize;
            }
            (len, 2 + n)
        };
        let value = input.get(header..header + len)?;
        Some((tag, value, &input[header + len..]))
    }
    let (0x30, outer, _) = tlv(der)? else {
        return None;
    };
    let (0x30, _, rest) = tlv(outer)? else {
        return None;
    };
    let (0x03, bits, _) = tlv(rest)? else {
        return None;
    };
    Some(bits.get(1..)?.to_vec())
}

/// `{"error": "invalid_grant", "error_description": ...}` as Google's token endpoint says it.
fn oauth_error(description: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_grant", "error_description": description.into()})),
    )
        .into_response()
}

/// `POST /token`: the JWT-bearer grant.
async fn token(State(state): State<Shared>, body: Bytes) -> Response {
    state.token_requests.fetch_add(1, Ordering::Relaxed);
    let mut grant_type = None;
    let mut assertion = None;
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "grant_type" => grant_type = Some(v.into_owned()),
            "assertion" => assertion = Some(v.into_owned()),
            _ => {}
        }
    }
    if grant_type.as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})),
        )
            .into_response();
    }
    let Some(assertion) = assertion else {
        return oauth_error("Missing assertion");
    };
    if let Err(e) = verify_assertion(&state, &assertion, now_unix()) {
        return oauth_error(e);
    }
    let access_token = format!("ya29.stand-in.{}", b64url(&random::<32>()));
    let lifetime = *state
        .token_lifetime
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    {
        let mut tokens = state.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        tokens.retain(|_, expiry| *expiry > now);
        tokens.insert(access_token.clone(), now + lifetime);
    }
    axum::Json(json!({
        "access_token": access_token,
        "expires_in": lifetime.as_secs(),
        "token_type": "Bearer",
    }))
    .into_response()
}

/// Checks the RS256 signature, `aud`, `iss`, `scope`, `iat` and `exp` of an assertion.
fn verify_assertion(state: &State_, assertion: &str, now: u64) -> Result<(), String> {
    let mut parts = assertion.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("Invalid JWT: expected three segments".into());
    };
    let decode_json = |seg: &str| -> Result<Value, String> {
        let bytes = b64url_decode(seg).map_err(|_| "Invalid JWT: bad base64url".to_owned())?;
        serde_json::from_slice(&bytes).map_err(|_| "Invalid JWT: bad JSON".to_owned())
    };
    let header = decode_json(h)?;
    if header["alg"] != "RS256" {
        return Err("Invalid JWT: alg must be RS256".into());
    }
    let signature = b64url_decode(s).map_err(|_| "Invalid JWT Signature.".to_owned())?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &state.public_key)
        .verify(format!("{h}.{c}").as_bytes(), &signature)
        .map_err(|_| "Invalid JWT Signature.".to_owned())?;
    let claims = decode_json(c)?;
    if claims["aud"].as_str() != Some(state.token_uri.as_str()) {
        return Err(format!(
            "Invalid JWT: aud must be {:?}, got {}",
            state.token_uri, claims["aud"]
        ));
    }
    if !claims["iss"].as_str().is_some_and(|iss| iss.contains('@')) {
        return Err("Invalid JWT: iss must be the service account e-mail".into());
    }
    if !claims["scope"]
        .as_str()
        .is_some_and(|s| s.split(' ').any(|s| s == FCM_SCOPE))
    {
        return Err(format!("Invalid JWT: scope must include {FCM_SCOPE}"));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_u64(), claims["exp"].as_u64()) else {
        return Err("Invalid JWT: iat and exp are required".into());
    };
    if exp <= now {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    if iat > now + 300 || exp < iat || exp - iat > 3600 {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    Ok(())
}

/// FCM's error body: `{"error": {"code", "message", "status", "details": [...]}}`.
fn fcm_error(
    status: StatusCode,
    status_name: &str,
    message: &str,
    details: Vec<Value>,
) -> Response {
    let mut error = json!({"code": status.as_u16(), "message": message, "status": status_name});
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn fcm_error_code(code: &str) -> Value {
    json!({"@type": FCM_ERROR_TYPE, "errorCode": code})
}

fn invalid_argument(field: &str, description: &str) -> Response {
    fcm_error(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        &format!("Invalid value at '{field}': {description}"),
        vec![
            fcm_error_code("INVALID_ARGUMENT"),
            json!({"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": field, "description": description}]}),
        ],
    )
}

/// `POST /v1/projects/{project}/messages:send`.
async fn send(
    State(state): State<Shared>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let authorised = bearer.is_some_and(|token| {
        state
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .is_some_and(|expiry| *expiry > Instant::now())
    });
    if !authorised {
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            Vec::new(),
        );
    }
    let fault = state
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some((status, retry_after)) = fault {
        let (name, code, message) = match status.as_u16() {
            429 => (
                "RESOURCE_EXHAUSTED",
                Some("QUOTA_EXCEEDED"),
                "Quota exceeded.",
            ),
            503 => (
                "UNAVAILABLE",
                Some("UNAVAILABLE"),
                "The service is currently unavailable.",
            ),
            500 => ("INTERNAL", Some("INTERNAL"), "Internal error encountered."),
            401 => (
                "UNAUTHENTICATED",
                None,
                "Request had invalid authentication credentials.",
            ),
            403 => (
                "PERMISSION_DENIED",
                None,
                "The caller does not have permission",
            ),
            _ => ("UNKNOWN", None, "Injected failure."),
        };
        let details = code.map(fcm_error_code).into_iter().collect();
        return with_retry_after(fcm_error(status, name, message, details), retry_after);
    }
    if project.is_empty() {
        return fcm_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Project not found.",
            Vec::new(),
        );
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return fcm_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                &format!("Invalid JSON payload received. {e}"),
                Vec::new(),
            );
        }
    };
    let message = match validate(&parsed) {
        Ok(m) => m,
        Err(response) => return response,
    };
    let token = message["token"].as_str().unwrap_or_default();
    if token.starts_with("unregistered-") {
        return fcm_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Requested entity was not found.",
            vec![fcm_error_code("UNREGISTERED")],
        );
    }
    if token.starts_with("invalid-") {
        return fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            vec![fcm_error_code("INVALID_ARGUMENT")],
        );
    }
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    if state.recording.load(Ordering::Relaxed) {
        state
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((token.into(), message.to_string().into()));
    }
    state.message_count.fetch_add(1, Ordering::Relaxed);
    axum::Json(json!({"name": format!("projects/{project}/messages/{id}")})).into_response()
}

/// Validates the parts of FCM's `Message` the senders use; returns the `message` object.
#[allow(clippy::result_large_err)]
fn validate(body: &Value) -> Result<&Value, Response> {
    let unknown = |name: &str| {
        fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            &format!("Invalid JSON payload received. Unknown name \"{name}\""),
            Vec::new(),
        )
    };
    let Some(top) = body.as_object() else {
        return Err(invalid_argument("message", "Request must be a JSON object"));
    };
    if let Some(name) = top
        .keys()
        .find(|k| *k != "message" && *k != "validate_only")
    {
        return Err(unknown(name));
    }
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return Err(invalid_argument("message", "Message is required"));
    };
    const FIELDS: [&str; 10] = [
        "token",
        "topic",
        "condition",
        "notification",
        "data",
        "android",
        "apns",
        "webpush",
        "fcm_options",
        "name",
    ];
    if let Some(name) = message
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
        .find(|k| !FIELDS.contains(&k.as_str()))
    {
        return Err(unknown(&format!("message.{name}")));
    }
    match message.get("token").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => {}
        _ => {
            return Err(invalid_argument(
                "message.token",
                "A registration token is required",
            ));
        }
    }
    if let Some(n) = message.get("notification") {
        let ok = n.as_object().is_some_and(|n| {
            n.iter()
                .all(|(k, v)| matches!(k.as_str(), "title" | "body" | "image") && v.is_string())
        });
        if !ok {
            return Err(invalid_argument(
                "message.notification",
                "title, body and image must be strings",
            ));
        }
    }
    if let Some(data) = message.get("data") {
        let Some(data) = data.as_object() else {
            return Err(invalid_argument("message.data", "must be a map of strings"));
        };
        for (k, v) in data {
            if !v.is_string() {
                return Err(invalid_argument(
                    &format!("message.data[{k}]"),
                    "values must be strings",
                ));
            }
            let reserved = matches!(k.as_str(), "from" | "notification" | "message_type")
                || k.starts_with("google")
                || k.starts_with("gcm");
            if reserved {
                return Err(invalid_argument(
                    &format!("message.data[{k}]"),
                    "Invalid data key: reserved word",
                ));
            }
        }
    }
    if let Some(android) = message.get("android") {
        if !android.is_object() {
            return Err(invalid_argument("message.android", "must be an object"));
        }
        if let Some(ttl) = android.get("ttl")
            && !ttl.as_str().is_some_and(is_duration)
        {
            return Err(invalid_argument(
                "message.android.ttl",
                "Illegal duration format; must be seconds with an 's' suffix",
            ));
        }
        if let Some(ck) = android.get("collapse_key")
            && !ck.is_string()
        {
            return Err(invalid_argument(
                "message.android.collapse_key",
                "must be a string",
            ));
        }
    }
    if let Some(apns) = message.get("apns") {
        let ok = apns.get("headers").is_none_or(|h| {
            h.as_object()
                .is_some_and(|h| h.values().all(Value::is_string))
        });
        if !ok {
            return Err(invalid_argument(
                "message.apns.headers",
                "must be a map of strings",
            ));
        }
    }
    Ok(message)
}

/// Protobuf JSON `Duration`: decimal seconds with up to nine fractional digits and `s`.
fn is_duration(s: &str) -> bool {
    let Some(num) = s.strip_suffix('s') else {
        return false;
    };
    let (whole, frac) = num.split_once('.').unwrap_or((num, "0"));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.len() <= 9
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert!(is_duration("3600s"));
        assert!(is_duration("1.5s"));
        assert!(!is_duration("3600"));
        assert!(!is_duration("s"));
        assert!(!is_duration("-1s"));
    }

    #[test]
    fn spki_and_pkcs1_keys_are_accepted() {
        let pkcs1 = rsa_public_key_pkcs1(super::super::TEST_PUBLIC_KEY_PEM.as_bytes()).unwrap();
        // Wrap it in an SPKI structure by hand and unwrap it again.
        let mut bit_string = vec![0u8];
        bit_string.extend_from_slice(&pkcs1);
        let alg: &[u8] = &[
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let mut inner = alg.to_vec();
        inner.push(0x03);
        inner.extend_from_slice(&der_len(bit_string.len()));
        inner.extend_from_slice(&bit_string);
        let mut spki = vec![0x30];
        spki.extend_from_slice(&der_len(inner.len()));
        spki.extend_from_slice(&inner);
        assert_eq!(spki_to_pkcs1(&spki).unwrap(), pkcs1);
        assert_eq!(rsa_public_key_pkcs1(&pkcs1).unwrap(), pkcs1);
    }

    fn der_len(n: usize) -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else {
            vec![0x82, (n >> 8) as u8, n as u8]
        }
    }
}
