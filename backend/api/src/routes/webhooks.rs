//! Operators' webhook endpoints, and the deliveries that failed (dead letters), which the
//! operator's manager and commune staff can see and replay.

use crate::auth::principal::{Operator, OperatorManager, Staff, StaffCaller, StaffWriter};
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use balagh_domain::{FieldError, OperatorId};
use balagh_store::{OutboxMessage, OutboxState, Ts, WebhookEndpoint};
use balagh_webhooks::WebhookSecret;
use balagh_wire::{DeliveryView, WebhookEndpointRequest, WebhookEndpointView};
use serde::Deserialize;
use uuid::Uuid;

/// A URL Balagh will call, checked by the outbound policy ([`balagh_outbound`]) with the
/// parser the delivery client uses; the policy's serialisation is what gets stored. The
/// same check runs again at every delivery, and the addresses at every connection.
pub(crate) async fn check_outbound_url(
    state: &AppState,
    field: &str,
    raw: &str,
) -> Result<String, FieldError> {
    balagh_outbound::check_resolved(&state.settings().outbound, raw)
        .await
        .map(String::from)
        .map_err(|refusal| FieldError::new(field, refusal.to_string()))
}

/// Sets your company's webhook endpoint and returns a new signing secret (shown once; the
/// previous secret stops working).
#[utoipa::path(put, path = "/api/v1/operator/webhook", tag = "operator", request_body = WebhookEndpointRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Endpoint set", body = WebhookEndpointView),
        (status = 403, description = "Not an operator manager", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_endpoint(
    State(state): State<AppState>,
    Operator(caller, _): Operator<OperatorManager>,
    ApiJson(body): ApiJson<WebhookEndpointRequest>,
) -> ApiResult<Json<WebhookEndpointView>> {
    let url = check_outbound_url(&state, "url", &body.url).await?;
    let secret = WebhookSecret::generate().expose();
    state
        .store()
        .set_webhook_endpoint(
            &WebhookEndpoint {
                operator_id: caller.operator.0,
                url: url.clone(),
                secret: secret.clone(),
                active: true,
            },
            Ts::now(),
        )
        .await?;
    Ok(Json(WebhookEndpointView { url, secret }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// `dead` (default), `pending` or `delivered`.
    pub state: Option<String>,
}

pub(crate) fn delivery_view(m: OutboxMessage) -> DeliveryView {
    DeliveryView {
        id: m.id,
        event_type: m.event_type,
        state: m.state,
        attempts: m.attempts,
        last_error: m.last_error,
        created_at: m.created_at.get(),
        payload: m.payload.0,
    }
}

async fn deliveries(
    state: &AppState,
    operator: OperatorId,
    params: DeliveriesParams,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let wanted = parse_state(params.state.as_deref())?;
    let messages = state.store().outbox_messages(operator, wanted, 200).await?;
    Ok(Json(messages.into_iter().map(delivery_view).collect()))
}

/// A delivery state filter: dead letters unless asked otherwise.
pub(crate) fn parse_state(raw: Option<&str>) -> ApiResult<OutboxState> {
    match raw {
        None | Some("") => Ok(OutboxState::Dead),
        Some(raw) => OutboxState::parse(raw).ok_or_else(|| {
            ApiError::InvalidParameter(FieldError::new(
                "state",
                "must be dead, pending or delivered",
            ))
        }),
    }
}

async fn replay(state: &AppState, operator: OperatorId, id: &str) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    if state.store().replay_outbox(operator, id, Ts::now()).await? {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Your company's webhook deliveries (dead letters by default), newest first.
#[utoipa::path(get, path = "/api/v1/operator/webhook/deliveries", tag = "operator", params(DeliveriesParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Deliveries", body = [DeliveryView])))]
pub async fn operator_deliveries(
    State(state): State<AppState>,
    Operator(caller, _): Operator<OperatorManager>,
    ApiQuery(params): ApiQuery<DeliveriesParams>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    deliveries(&state, caller.operator, params).await
}

/// Sends a dead-lettered delivery again (a new round of retries).
#[utoipa::path(post, path = "/api/v1/operator/webhook/deliveries/{id}/replay", tag = "operator",
    params(("id" = Uuid, Path, description = "Delivery id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 202, description = "Queued again"),
        (status = 404, description = "No such dead delivery of yours", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn operator_replay(
    State(state): State<AppState>,
    Operator(caller, _): Operator<OperatorManager>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    replay(&state, caller.operator, &id).await
}

/// The operator must hold contracts in the staff member's commune.
fn staff_operator(state: &AppState, caller: &StaffCaller, operator: &str) -> ApiResult<OperatorId> {
    let id = Uuid::parse_str(operator).map_err(|_| ApiError::NotFound)?;
    state
        .catalog()
        .operator(OperatorId(id))
        .filter(|r| r.jurisdiction == caller.jurisdiction)
        .map(|r| r.operator.id)
        .ok_or(ApiError::NotFound)
}

/// An operator's webhook deliveries, for commune staff.
#[utoipa::path(get, path = "/api/v1/staff/operators/{operator_id}/webhook/deliveries", tag = "staff",
    params(("operator_id" = Uuid, Path, description = "Operator id"), DeliveriesParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Deliveries", body = [DeliveryView])))]
pub async fn staff_deliveries(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path(operator): Path<String>,
    ApiQuery(params): ApiQuery<DeliveriesParams>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let operator = staff_operator(&state, &caller, &operator)?;
    deliveries(&state, operator, params).await
}

/// Replays an operator's dead-lettered delivery, for commune staff.
#[utoipa::path(post, path = "/api/v1/staff/operators/{operator_id}/webhook/deliveries/{id}/replay", tag = "staff",
    params(("operator_id" = Uuid, Path, description = "Operator id"), ("id" = Uuid, Path, description = "Delivery id")),
    security(("api_token" = []), ("session" = [])),
    responses((status = 202, description = "Queued again")))]
pub async fn staff_replay(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path((operator, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let operator = staff_operator(&state, &caller, &operator)?;
    replay(&state, operator, &id).await
}
