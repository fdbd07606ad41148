//! Device registration: how a resident's app gets its bearer token.

use crate::problem::ApiResult;
use crate::state::AppState;
use crate::{extract::token_hash, problem::ApiError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use balagh_store::{NewDevice, Ts};
use balagh_wire::DeviceRegistration;
use base64::Engine;
use rand::RngCore;
use uuid::Uuid;

/// Registers a device and returns its bearer token (shown only this once).
#[utoipa::path(
    post, path = "/api/v1/devices", tag = "devices",
    responses(
        (status = 201, description = "Registered", body = DeviceRegistration),
        (status = 503, description = "Database unavailable", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register_device(
    State(state): State<AppState>,
) -> ApiResult<(StatusCode, Json<DeviceRegistration>)> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!(
        "bdt_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let device = NewDevice {
        id: Uuid::now_v7(),
        token_hash: token_hash(&token),
        created_at: Ts::now(),
    };
    state
        .store()
        .create_device(&device)
        .await
        .map_err(ApiError::from)?;
    metrics::counter!("balagh_devices_registered_total").increment(1);
    Ok((
        StatusCode::CREATED,
        Json(DeviceRegistration {
            device_id: device.id,
            token,
        }),
    ))
}
