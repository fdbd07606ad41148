//! Inbound adapters, one URL per gateway (`/sms/{kind}/{token}`, the token a random secret
//! shown once to staff), each speaking its gateway's published format.
//!
//! Dedupe keys are our own, because gateways retry and their ids are not reliable:
//! capcom6's app retries a webhook for about two days and its `messageId` is computed from
//! the content (two residents answering "2" share it), so its key is the SHA-256 of
//! (sender, `receivedAt`, text): a retry repeats all three, two real messages differ at
//! least in sender or reception time. RapidPro and SMSSync send an id per message; their
//! key is (sender, id), or the same content hash when the id is missing.

use super::{ANDROID_SMS_GATEWAY, RAPIDPRO_EXTERNAL, SMSSYNC};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use balagh_app::sms::conversation::{self, Handled, Incoming};
use balagh_store::{SmsGateway, Ts};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The inbound routes (outside the OpenAPI document: they speak the gateways' formats).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/sms/android_sms_gateway/{token}",
            post(android_sms_gateway),
        )
        .route(
            "/sms/rapidpro_external/{token}/receive",
            post(rapidpro_receive),
        )
        .route(
            "/sms/smssync/{token}",
            post(smssync_receive).get(smssync_task),
        )
}

/// A gateway's inbound URL path.
pub fn inbound_path(kind: &str, token: &str) -> String {
    match kind {
        RAPIDPRO_EXTERNAL => format!("/sms/{kind}/{token}/receive"),
        _ => format!("/sms/{kind}/{token}"),
    }
}

fn content_key(phone: &str, when: &str, text: &str) -> Vec<u8> {
    let mut hash = Sha256::new();
    for part in [phone, when, text] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().to_vec()
}

fn id_key(phone: &str, id: &str) -> Vec<u8> {
    content_key(phone, "id", id)
}

async fn gateway(state: &AppState, kind: &str, token: &str) -> Result<SmsGateway, Response> {
    match state.store().sms_gateway_by_token(kind, token).await {
        Ok(Some(gateway)) => Ok(gateway),
        Ok(None) => Err(StatusCode::NOT_FOUND.into_response()),
        Err(error) => Err(crate::problem::ApiError::from(error).into_response()),
    }
}

async fn answer(state: &AppState, gateway: &SmsGateway, incoming: Incoming) -> Response {
    match conversation::handle(state, gateway, incoming).await {
        Ok(Handled::Answered(_) | Handled::Duplicate | Handled::Limited) => {
            Json(json!({ "ok": true })).into_response()
        }
        Err(error) => crate::problem::ApiError::from(error).into_response(),
    }
}

fn valid_phone(phone: &str) -> bool {
    let digits = phone.trim_start_matches('+');
    !digits.is_empty() && digits.len() <= 20 && digits.chars().all(|c| c.is_ascii_digit())
}

fn bad_request(what: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": what }))).into_response()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether capcom6's `X-Signature` (hex HMAC-SHA256 of the body followed by `X-Timestamp`)
/// is right and the timestamp fresh.
fn capcom6_signed(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    tolerance: std::time::Duration,
) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = header("x-timestamp").ok_or("no X-Timestamp")?;
    let signature = header("x-signature")
        .and_then(decode_hex)
        .ok_or("no or malformed X-Signature")?;
    let at: i64 = timestamp.parse().map_err(|_| "malformed X-Timestamp")?;
    let now = Ts::now().get().unix_timestamp();
    if now.abs_diff(at) > tolerance.as_secs() {
        return Err("stale X-Timestamp");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad key")?;
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac.verify_slice(&signature).map_err(|_| "bad signature")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Capcom6Event {
    event: String,
    #[serde(default)]
    payload: Option<Capcom6Received>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Capcom6Received {
    message: String,
    phone_number: String,
    received_at: String,
}

/// `POST /sms/android_sms_gateway/{token}`: capcom6's SMS Gateway for Android webhook.
async fn android_sms_gateway(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let gateway = match gateway(&state, ANDROID_SMS_GATEWAY, &token).await {
        Ok(g) => g,
        Err(response) => return response,
    };
    let tolerance = state.settings().sms.signature_tolerance;
    if let Err(why) = capcom6_signed(&gateway.secret, &headers, &body, tolerance) {
        tracing::warn!(gateway = %gateway.id, reason = why, "inbound SMS refused");
        metrics::counter!("balagh_sms_inbound_total", "result" => "refused").increment(1);
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": why }))).into_response();
    }
    let Ok(event) = serde_json::from_slice::<Capcom6Event>(&body) else {
        return bad_request("not an SMS Gateway for Android webhook");
    };
    if event.event != "sms:received" {
        // Pings, delivery reports: nothing to do.
        return Json(json!({ "ok": true })).into_response();
    }
    let Some(sms) = event.payload.filter(|p| valid_phone(&p.phone_number)) else {
        return bad_request("sms:received without a sender's number");
    };
    let incoming = Incoming {
        dedupe_key: content_key(&sms.phone_number, &sms.received_at, &sms.message),
        phone: sms.phone_number,
        text: sms.message,
    };
    answer(&state, &gateway, incoming).await
}

/// `POST /sms/rapidpro_external/{token}/receive`: the form an External channel posts
/// (`from`, `text`, `date`, optional `id`); the URL's token is the secret.
async fn rapidpro_receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let gateway = match gateway(&state, RAPIDPRO_EXTERNAL, &token).await {
        Ok(g) => g,
        Err(response) => return response,
    };
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let (Some(from), Some(text)) = (form.get("from"), form.get("text")) else {
        return bad_request("from and text are required");
    };
    if !valid_phone(from) {
        return bad_request("from must be a phone number");
    }
    let dedupe_key = match form.get("id").filter(|id| !id.is_empty()) {
        Some(id) => id_key(from, id),
        None => content_key(from, form.get("date").map_or("", String::as_str), text),
    };
    let incoming = Incoming {
        phone: from.clone(),
        text: text.clone(),
        dedupe_key,
    };
    answer(&state, &gateway, incoming).await
}

fn smssync(success: bool, error: Option<&str>) -> Json<serde_json::Value> {
    Json(json!({ "payload": { "success": success, "error": error } }))
}

/// `POST /sms/smssync/{token}`: SMSSync's form (`from`, `message`, `message_id`,
/// `sent_to`, `secret`, `sent_timestamp`), checked against the gateway's secret.
async fn smssync_receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let gateway = match gateway(&state, SMSSYNC, &token).await {
        Ok(g) => g,
        Err(response) => return response,
    };
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let secret_ok = form.get("secret").is_some_and(|s| {
        let (a, b) = (
            Sha256::digest(s.as_bytes()),
            Sha256::digest(gateway.secret.as_bytes()),
        );
        a == b
    });
    if !secret_ok {
        tracing::warn!(gateway = %gateway.id, reason = "bad secret", "inbound SMS refused");
        metrics::counter!("balagh_sms_inbound_total", "result" => "refused").increment(1);
        return (StatusCode::UNAUTHORIZED, smssync(false, Some("bad secret"))).into_response();
    }
    let (Some(from), Some(text)) = (form.get("from"), form.get("message")) else {
        return (
            StatusCode::BAD_REQUEST,
            smssync(false, Some("from and message are required")),
        )
            .into_response();
    };
    if !valid_phone(from) {
        return (
            StatusCode::BAD_REQUEST,
            smssync(false, Some("from must be a phone number")),
        )
            .into_response();
    }
    let dedupe_key = match form.get("message_id").filter(|id| !id.is_empty()) {
        Some(id) => id_key(from, id),
        None => content_key(
            from,
            form.get("sent_timestamp").map_or("", String::as_str),
            text,
        ),
    };
    let incoming = Incoming {
        phone: from.clone(),
        text: text.clone(),
        dedupe_key,
    };
    match conversation::handle(&state, &gateway, incoming).await {
        Ok(_) => smssync(true, None).into_response(),
        Err(error) => {
            tracing::warn!(%error, gateway = %gateway.id, "SMSSync message not handled");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                smssync(false, Some("try again")),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct TaskQuery {
    task: Option<String>,
}

/// Messages SMSSync sends out per poll.
const SMSSYNC_BATCH: u32 = 20;

/// `GET /sms/smssync/{token}?task=send`: the messages waiting for this phone to send.
async fn smssync_task(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<TaskQuery>,
) -> Response {
    let gateway = match gateway(&state, SMSSYNC, &token).await {
        Ok(g) => g,
        Err(response) => return response,
    };
    if query.task.as_deref() != Some("send") {
        return smssync(true, None).into_response();
    }
    match state
        .store()
        .take_pending_sms(gateway.id, Ts::now(), SMSSYNC_BATCH)
        .await
    {
        Ok(messages) => Json(json!({ "payload": {
            "task": "send",
            "secret": gateway.secret,
            "messages": messages.iter().map(|m| json!({
                "to": m.phone, "message": m.body, "uuid": m.id,
            })).collect::<Vec<_>>(),
        }}))
        .into_response(),
        Err(error) => crate::problem::ApiError::from(error).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capcom6_signatures_are_checked_with_the_timestamp() {
        let body = br#"{"event":"sms:received"}"#;
        let now = Ts::now().get().unix_timestamp().to_string();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(body);
        mac.update(now.as_bytes());
        let signature: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut headers = HeaderMap::new();
        headers.insert("x-timestamp", now.parse().unwrap());
        headers.insert("x-signature", signature.parse().unwrap());
        let tolerance = std::time::Duration::from_secs(300);
        assert_eq!(capcom6_signed("key", &headers, body, tolerance), Ok(()));
        assert_eq!(
            capcom6_signed("other", &headers, body, tolerance),
            Err("bad signature")
        );
        headers.insert("x-timestamp", "1000".parse().unwrap());
        assert_eq!(
            capcom6_signed("key", &headers, body, tolerance),
            Err("stale X-Timestamp")
        );
    }

    #[test]
    fn content_keys_tell_messages_apart_and_retries_together() {
        let a = content_key("+212600000001", "2026-12-07T10:00:00.000+01:00", "2");
        assert_eq!(
            a,
            content_key("+212600000001", "2026-12-07T10:00:00.000+01:00", "2")
        );
        assert_ne!(
            a,
            content_key("+212600000002", "2026-12-07T10:00:00.000+01:00", "2")
        );
        assert_ne!(
            a,
            content_key("+212600000001", "2026-12-07T10:05:00.000+01:00", "2")
        );
    }
}
