//! SMS gateways of a commune, configured by staff administrators
//! (`/api/v1/staff/sms-gateways`): create (the inbound URL and the secret are shown once),
//! list (never the secrets), disable.

use crate::auth::principal::{Staff, StaffAdmin};
use crate::auth::secrets;
use crate::extract::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::sms::{self, ANDROID_SMS_GATEWAY, KINDS, RAPIDPRO_EXTERNAL, SMSSYNC};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use balagh_domain::FieldError;
use balagh_store::{SmsGateway, Ts};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A gateway as staff see it: never its secret or send password.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SmsGatewayView {
    pub id: Uuid,
    /// `android_sms_gateway`, `rapidpro_external` or `smssync`.
    pub kind: String,
    pub name: String,
    /// The commune's number residents write to.
    pub public_number: Option<String>,
    /// Where answers are sent (none for SMSSync, which polls).
    pub send_url: Option<String>,
    pub send_username: Option<String>,
    /// The path the gateway posts inbound messages to.
    pub inbound_path: String,
    pub per_number_per_hour: i32,
    pub per_gateway_per_hour: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<time::OffsetDateTime>,
}

/// A gateway just created: its secret is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedSmsGateway {
    #[serde(flatten)]
    pub gateway: SmsGatewayView,
    /// capcom6: the webhook signing key; RapidPro: none needed (the path is the secret);
    /// SMSSync: the app's "secret key".
    pub secret: String,
}

/// A new gateway.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsGatewayRequest {
    pub kind: String,
    /// 1–100 characters (e.g. "Téléphone de l'accueil").
    pub name: String,
    /// The secret the gateway signs or sends with, 16–200 characters [default: generated].
    #[serde(default)]
    pub secret: Option<String>,
    /// capcom6: `https://api.sms-gate.app/3rdparty/v1/messages` (or the phone's local
    /// `/message`); RapidPro External: the channel's send URL. Not for SMSSync.
    #[serde(default)]
    pub send_url: Option<String>,
    /// Basic authentication of the send API (capcom6: required).
    #[serde(default)]
    pub send_username: Option<String>,
    #[serde(default)]
    pub send_password: Option<String>,
    #[serde(default)]
    pub public_number: Option<String>,
    /// Messages acted on per number and hour [default from `[sms]`].
    #[serde(default)]
    pub per_number_per_hour: Option<i32>,
    /// Messages acted on per hour for the whole gateway [default from `[sms]`].
    #[serde(default)]
    pub per_gateway_per_hour: Option<i32>,
}

pub fn gateway_view(g: &SmsGateway) -> SmsGatewayView {
    SmsGatewayView {
        id: g.id,
        kind: g.kind.clone(),
        name: g.name.clone(),
        public_number: g.public_number.clone(),
        send_url: g.send_url.clone(),
        send_username: g.send_username.clone(),
        inbound_path: sms::inbound::inbound_path(&g.kind, &g.inbound_token),
        per_number_per_hour: g.per_number_per_hour,
        per_gateway_per_hour: g.per_gateway_per_hour,
        created_at: g.created_at.get(),
        disabled_at: g.disabled_at.map(Ts::get),
    }
}

fn short_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    range: std::ops::RangeInclusive<usize>,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if !range.contains(&value.chars().count()) || value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!(
                "must be {}-{} characters, no control characters",
                range.start(),
                range.end()
            ),
        ));
    }
    Some(value.to_owned())
}

/// Checks a request; every wrong field is named.
fn checked(state: &AppState, body: &SmsGatewayRequest) -> ApiResult<SmsGatewayRequest> {
    let mut errors = Vec::new();
    if !KINDS.contains(&body.kind.as_str()) {
        errors.push(FieldError::new(
            "kind",
            format!("must be one of {}", KINDS.join(", ")),
        ));
    }
    let name = short_text(&mut errors, "name", Some(&body.name), 1..=100);
    if name.is_none() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    let secret = short_text(&mut errors, "secret", body.secret.as_deref(), 16..=200);
    let send_url = short_text(&mut errors, "send_url", body.send_url.as_deref(), 1..=2000);
    let send_username = short_text(
        &mut errors,
        "send_username",
        body.send_username.as_deref(),
        1..=200,
    );
    let send_password = short_text(
        &mut errors,
        "send_password",
        body.send_password.as_deref(),
        1..=200,
    );
    let public_number = short_text(
        &mut errors,
        "public_number",
        body.public_number.as_deref(),
        3..=20,
    );
    match (body.kind.as_str(), &send_url) {
        (SMSSYNC, Some(_)) => {
            errors.push(FieldError::new("send_url", "SMSSync polls: no send URL"))
        }
        (ANDROID_SMS_GATEWAY | RAPIDPRO_EXTERNAL, None) => {
            errors.push(FieldError::new("send_url", "is required for this kind"));
        }
        (_, Some(url)) => {
            if let Err(refusal) = state.settings().outbound.policy().check_url(url) {
                errors.push(FieldError::new("send_url", refusal.to_string()));
            }
        }
        _ => {}
    }
    if body.kind == ANDROID_SMS_GATEWAY && (send_username.is_none() || send_password.is_none()) {
        errors.push(FieldError::new(
            "send_username",
            "capcom6's send API needs its username and password",
        ));
    }
    for (field, value) in [
        ("per_number_per_hour", body.per_number_per_hour),
        ("per_gateway_per_hour", body.per_gateway_per_hour),
    ] {
        if value.is_some_and(|v| !(1..=100_000).contains(&v)) {
            errors.push(FieldError::new(field, "must be 1-100000"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(SmsGatewayRequest {
        kind: body.kind.clone(),
        name: name.unwrap_or_default(),
        secret,
        send_url,
        send_username,
        send_password,
        public_number,
        per_number_per_hour: body.per_number_per_hour,
        per_gateway_per_hour: body.per_gateway_per_hour,
    })
}

/// The SMS gateways of your commune, disabled ones included (never their secrets).
#[utoipa::path(get, path = "/api/v1/staff/sms-gateways", tag = "sms",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Gateways", body = [SmsGatewayView]),
        (status = 403, description = "Not a staff administrator", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_gateways(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
) -> ApiResult<Json<Vec<SmsGatewayView>>> {
    let gateways = state
        .store()
        .sms_gateways(caller.jurisdiction.as_str())
        .await?;
    Ok(Json(gateways.iter().map(gateway_view).collect()))
}

/// Connects a gateway; its inbound path and secret are shown once.
#[utoipa::path(post, path = "/api/v1/staff/sms-gateways", tag = "sms",
    request_body = SmsGatewayRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created", body = CreatedSmsGateway),
        (status = 403, description = "Not a staff administrator", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid gateway", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_gateway(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    ApiJson(body): ApiJson<SmsGatewayRequest>,
) -> ApiResult<(StatusCode, Json<CreatedSmsGateway>)> {
    let body = checked(&state, &body)?;
    let defaults = &state.settings().sms;
    let secret = body.secret.unwrap_or_else(|| secrets::generate("sms_"));
    let as_limit = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    let gateway = SmsGateway {
        id: Uuid::now_v7(),
        jurisdiction_id: caller.jurisdiction.as_str().to_owned(),
        kind: body.kind,
        name: body.name,
        secret: secret.clone(),
        // The path's last segment: random, so the URL itself is a secret too.
        inbound_token: secrets::generate("")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect(),
        send_url: body.send_url,
        send_username: body.send_username,
        send_password: body.send_password,
        public_number: body.public_number,
        per_number_per_hour: body
            .per_number_per_hour
            .unwrap_or(as_limit(defaults.per_number_per_hour)),
        per_gateway_per_hour: body
            .per_gateway_per_hour
            .unwrap_or(as_limit(defaults.per_gateway_per_hour)),
        created_by: Some(caller.user.id),
        created_at: Ts::now(),
        disabled_at: None,
    };
    state.store().create_sms_gateway(&gateway).await?;
    tracing::info!(gateway = %gateway.id, kind = %gateway.kind, "SMS gateway connected");
    Ok((
        StatusCode::CREATED,
        Json(CreatedSmsGateway {
            gateway: gateway_view(&gateway),
            secret,
        }),
    ))
}

/// Disables a gateway at once: its inbound path answers 404 and nothing more is sent
/// through it.
#[utoipa::path(delete, path = "/api/v1/staff/sms-gateways/{id}", tag = "sms",
    params(("id" = Uuid, Path, description = "Gateway id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Disabled"),
        (status = 404, description = "No such active gateway in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable_gateway(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    if state
        .store()
        .disable_sms_gateway(caller.jurisdiction.as_str(), id, Ts::now())
        .await?
    {
        tracing::info!(gateway = %id, "SMS gateway disabled");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
