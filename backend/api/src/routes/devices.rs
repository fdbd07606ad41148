//! Device registration: how a resident's app gets its bearer token.

use crate::auth::secrets;
use crate::problem::ApiError;
use crate::problem::ApiResult;
use crate::routes::accounts::ClientAddress;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use balagh_store::{NewDevice, Ts};
use balagh_wire::DeviceRegistration;
use uuid::Uuid;

/// Registers a device and returns its bearer token (shown only this once). One address may
/// register a limited number per hour (429 with `Retry-After` past it); a server may also
/// ask for a proof of work in `X-Balagh-Proof` (403 `proof-of-work-required` without it).
#[utoipa::path(
    post, path = "/api/v1/devices", tag = "devices",
    params(("X-Balagh-Proof" = Option<String>, Header, description = "`<unix minute>:<nonce>`, when the server asks for a proof of work")),
    responses(
        (status = 201, description = "Registered", body = DeviceRegistration),
        (status = 403, description = "A proof of work is required", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many new devices from this address", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register_device(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<DeviceRegistration>)> {
    crate::abuse::admit_new_device(&state, &address, &headers).await?;
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
