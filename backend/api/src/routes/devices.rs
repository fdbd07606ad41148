//! Device registration: how a resident's app gets its bearer token.

use crate::auth::secrets;
use crate::problem::ApiError;
use crate::problem::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use balagh_store::{NewDevice, Ts};
use balagh_wire::DeviceRegistration;
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
    let token = secrets::generate(secrets::DEVICE_PREFIX);
    let device = NewDevice {
        id: Uuid::now_v7(),
        token_hash: secrets::hash(&token),
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
