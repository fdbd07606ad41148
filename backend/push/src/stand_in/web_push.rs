//! The Web Push stand-in: a push service that is also the browser (it holds the
//! subscriptions' private keys and decrypts what it receives).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::Value;

use super::{Faults, bind, random, serve, text, with_retry_after};
use crate::PushTarget;
use crate::ece;
use crate::util::{b64url, b64url_decode, now_unix};

/// Largest body accepted (RFC 8291's 3993-byte plaintext, encrypted, is exactly this).
const MAX_BODY: usize = 4096;

/// A browser's push subscription (`PushSubscription.toJSON()`), as the browser would hand it
/// to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Where the application server POSTs.
    pub endpoint: String,
    /// base64url 65-byte public key.
    pub p256dh: String,
    /// base64url 16-byte auth secret.
    pub auth: String,
}

impl Subscription {
    /// The [`PushTarget`] for this subscription.
    pub fn target(&self) -> PushTarget {
        PushTarget::WebPush {
            endpoint: self.endpoint.clone(),
            p256dh: self.p256dh.clone(),
            auth: self.auth.clone(),
        }
    }
}

/// One push the stand-in accepted and decrypted.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedPush {
    /// The decrypted payload (JSON; a JSON string if the plaintext was not JSON).
    pub payload: Value,
    /// The `TTL` header.
    pub ttl: u64,
    /// The `Urgency` header, if any.
    pub urgency: Option<String>,
    /// The `Topic` header, if any.
    pub topic: Option<String>,
}

struct Sub {
    private_key: [u8; 32],
    auth: [u8; 16],
    /// The `applicationServerKey` given at subscription time, if any: VAPID `k` must match.
    server_key: Option<Vec<u8>>,
    expired: bool,
    received: Vec<ReceivedPush>,
}

struct State_ {
    origin: String,
    subs: Mutex<HashMap<String, Sub>>,
    faults: Mutex<Faults>,
    requests: AtomicUsize,
}

type Shared = Arc<State_>;

/// A local push service: `POST /push/{id}` verifies VAPID, decrypts and records.
/// Stops when dropped.
pub struct WebPushStandIn {
    state: Shared,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for WebPushStandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebPushStandIn")
            .field("addr", &self.addr)
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

impl Drop for WebPushStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebPushStandIn {
    /// Starts the stand-in on `127.0.0.1`, port 0.
    pub async fn start() -> Self {
        let (listener, addr) = bind().await;
        let state: Shared = Arc::new(State_ {
            origin: format!("http://{addr}"),
            subs: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
            requests: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/push/{id}", post(push))
            .with_state(state.clone());
        let task = serve(listener, router);
        Self { state, addr, task }
    }

    /// `http://127.0.0.1:{port}`: the VAPID audience of every endpoint here.
    pub fn origin(&self) -> &str {
        &self.state.origin
    }

    /// A new subscription that accepts any (valid) VAPID key.
    pub fn subscribe(&self) -> Subscription {
        self.new_subscription(None)
    }

    /// A new subscription restricted to one application server key (base64url, as given to
    /// `pushManager.subscribe({applicationServerKey})`): pushes signed with another key get
    /// 403, as RFC 8292 §4.1 prescribes.
    ///
    /// # Panics
    /// If the key is not base64url.
    pub fn subscribe_restricted(&self, application_server_key: &str) -> Subscription {
        let key = b64url_decode(application_server_key).expect("base64url applicationServerKey");
        self.new_subscription(Some(key))
    }

    fn new_subscription(&self, server_key: Option<Vec<u8>>) -> Subscription {
        let (private_key, public_key) = loop {
            let candidate = random::<32>();
            if let Some(public) = ece::p256_public_key(&candidate) {
                break (candidate, public);
            }
        };
        let auth = random::<16>();
        let id = b64url(&random::<16>());
        self.state
            .subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id.clone(),
                Sub {
                    private_key,
                    auth,
                    server_key,
                    expired: false,
                    received: Vec::new(),
                },
            );
        Subscription {
            endpoint: format!("{}/push/{id}", self.state.origin),
            p256dh: b64url(&public_key),
            auth: b64url(&auth),
        }
    }

    /// Makes the subscription answer 410 Gone from now on (the user unsubscribed).
    pub fn expire(&self, subscription: &Subscription) {
        if let Some(sub) = self
            .state
            .subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(id_of(&subscription.endpoint))
        {
            sub.expired = true;
        }
    }

    /// The decrypted payloads received for `endpoint`, in order.
    pub fn received(&self, endpoint: &str) -> Vec<Value> {
        self.received_pushes(endpoint)
            .into_iter()
            .map(|p| p.payload)
            .collect()
    }

    /// The pushes received for `endpoint` with their headers, in order.
    pub fn received_pushes(&self, endpoint: &str) -> Vec<ReceivedPush> {
        self.state
            .subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id_of(endpoint))
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }

    /// How many requests reached `POST /push/{id}` (accepted or not).
    pub fn request_count(&self) -> usize {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Makes the next `n` pushes to live subscriptions answer `status` (e.g. 429, 503), with
    /// `Retry-After` when given.
    pub fn fail_next(&self, n: usize, status: u16, retry_after: Option<std::time::Duration>) {
        *self.state.faults.lock().unwrap_or_else(|e| e.into_inner()) = Faults {
            remaining: n,
            status,
            retry_after,
        };
    }
}

fn id_of(endpoint: &str) -> &str {
    endpoint.rsplit('/').next().unwrap_or_default()
}

/// `POST /push/{id}`.
async fn push(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let (private_key, auth, server_key) = {
        let subs = state.subs.lock().unwrap_or_else(|e| e.into_inner());
        match subs.get(&id) {
            None => return text(StatusCode::NOT_FOUND, "no such subscription"),
            Some(s) if s.expired => return text(StatusCode::GONE, "subscription expired"),
            Some(s) => (s.private_key, s.auth, s.server_key.clone()),
        }
    };
    let fault = state
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some((status, retry_after)) = fault {
        return with_retry_after(text(status, "injected failure"), retry_after);
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let k = match verify_vapid(authorization, &state.origin, now_unix()) {
        Ok(k) => k,
        Err(e) => return text(StatusCode::UNAUTHORIZED, e),
    };
    if server_key.is_some_and(|expected| expected != k) {
        return text(
            StatusCode::FORBIDDEN,
            "VAPID key does not match the subscription's applicationServerKey",
        );
    }
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(ttl) = header_str("ttl").and_then(|v| v.trim().parse::<u64>().ok()) else {
        return text(StatusCode::BAD_REQUEST, "TTL header required");
    };
    if header_str("content-encoding") != Some("aes128gcm") {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Encoding must be aes128gcm",
        );
    }
    let urgency = header_str("urgency").map(str::to_owned);
    if urgency
        .as_deref()
        .is_some_and(|u| !matches!(u, "very-low" | "low" | "normal" | "high"))
    {
        return text(StatusCode::BAD_REQUEST, "bad Urgency");
    }
    let topic = header_str("topic").map(str::to_owned);
    if topic.as_deref().is_some_and(|t| {
        t.is_empty()
            || t.len() > 32
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return text(
            StatusCode::BAD_REQUEST,
            "Topic must be at most 32 base64url characters",
        );
    }
    if body.len() > MAX_BODY {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "payload too large");
    }
    let plaintext = match ece::decrypt(&private_key, &auth, &body) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("cannot decrypt: {e}")),
    };
    let payload = serde_json::from_slice(&plaintext)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&plaintext).into_owned()));
    let n = {
        let mut subs = state.subs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sub) = subs.get_mut(&id) else {
            return text(StatusCode::GONE, "subscription expired");
        };
        sub.received.push(ReceivedPush {
            payload,
            ttl,
            urgency,
            topic,
        });
        sub.received.len()
    };
    (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("{}/message/{id}-{n}", state.origin),
        )],
    )
        .into_response()
}

/// RFC 8292: `vapid t=<JWT>, k=<key>`; ES256 over the JWT with `k`, `aud` = this origin,
/// `exp` in the future and at most 24 h away, `sub` a `mailto:`/`https:` URI. Returns `k`.
fn verify_vapid(authorization: &str, origin: &str, now: u64) -> Result<Vec<u8>, String> {
    let rest = authorization
        .strip_prefix("vapid ")
        .ok_or("Authorization must use the vapid scheme")?;
    let (mut t, mut k) = (None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("t=") {
            t = Some(v);
        } else if let Some(v) = part.strip_prefix("k=") {
            k = Some(v);
        }
    }
    let (Some(t), Some(k)) = (t, k) else {
        return Err("vapid needs t= and k=".into());
    };
    let key = b64url_decode(k).map_err(|_| "k is not base64url")?;
    if key.len() != 65 || key[0] != 4 {
        return Err("k is not an uncompressed P-256 point".into());
    }
    let mut parts = t.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("t is not a JWT".into());
    };
    let decode_json = |seg: &str| -> Result<Value, String> {
        let bytes = b64url_decode(seg).map_err(|_| "JWT segment is not base64url")?;
        serde_json::from_slice(&bytes).map_err(|_| "JWT segment is not JSON".to_owned())
    };
    if decode_json(h)?["alg"] != "ES256" {
        return Err("JWT alg must be ES256".into());
    }
    let signature = b64url_decode(s).map_err(|_| "JWT signature is not base64url")?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key)
        .verify(format!("{h}.{c}").as_bytes(), &signature)
        .map_err(|_| "JWT signature does not verify with k")?;
    let claims = decode_json(c)?;
    if claims["aud"].as_str() != Some(origin) {
        return Err(format!("aud must be {origin}"));
    }
    match claims["exp"].as_u64() {
        Some(exp) if exp > now && exp <= now + 24 * 3600 => {}
        _ => return Err("exp must be in the future and within 24 hours".into()),
    }
    if !claims["sub"]
        .as_str()
        .is_some_and(|s| s.starts_with("mailto:") || s.starts_with("https:"))
    {
        return Err("sub must be a mailto: or https: URI".into());
    }
    Ok(key)
}
