//! Screens in the commune's reception areas: registered, changed and revoked by staff
//! administrators (`/api/v1/staff/screens`); each gets a secret URL `/screens/{token}`
//! (the token is shown once and stored as its SHA-256) whose page polls
//! `GET /api/v1/screens/{token}/content`. Staff also clear a notice's urgent flag here.

use crate::auth::principal::{Staff, StaffAdmin, StaffWriter};
use crate::auth::secrets;
use crate::extract::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::web::screen::{self as page, TOKEN_PREFIX};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_domain::{FieldError, GeoPoint, JurisdictionId, Language};
use balagh_store::{NewScreen, Screen, ScreenSettings, Ts};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A registered screen (never its token).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScreenView {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub service_codes: Vec<String>,
    pub languages: Vec<String>,
    /// `landscape` or `portrait`.
    pub orientation: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
}

/// A screen just registered: `token` and `url` are shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedScreen {
    #[serde(flatten)]
    pub screen: ScreenView,
    pub token: String,
    /// The path to open in the screen's browser (kiosk mode), e.g. `/screens/scr_…`.
    pub url: String,
}

/// A screen's settings (registration, or a full replacement).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenRequest {
    /// Where it hangs, 1–100 characters (e.g. "Accueil, hôtel de ville").
    pub name: String,
    /// Its place (WGS84), inside the commune.
    pub lat: f64,
    pub lon: f64,
    /// Services shown, in order [default: every service of the commune].
    #[serde(default)]
    pub service_codes: Vec<String>,
    /// Languages rotated, in order [default: the commune's].
    #[serde(default)]
    pub languages: Vec<String>,
    /// `landscape` or `portrait` [default: landscape].
    #[serde(default)]
    pub orientation: Option<String>,
}

pub fn screen_view(s: &Screen) -> ScreenView {
    ScreenView {
        id: s.id,
        jurisdiction_id: s.jurisdiction_id.clone(),
        name: s.name.clone(),
        lat: s.lat,
        lon: s.lon,
        service_codes: s.service_codes.clone(),
        languages: s.languages.clone(),
        orientation: s.orientation.clone(),
        created_at: s.created_at.get(),
        updated_at: s.updated_at.get(),
        revoked_at: s.revoked_at.map(Ts::get),
    }
}

/// Checks a request against the commune's catalogue; every wrong field is named.
fn settings(
    state: &AppState,
    jurisdiction: &JurisdictionId,
    body: &ScreenRequest,
) -> Result<ScreenSettings, ApiError> {
    let catalog = state.catalog();
    let commune = catalog
        .jurisdiction(jurisdiction)
        .ok_or(ApiError::Forbidden)?;
    let mut errors = Vec::new();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "must be 1-100 characters, no control characters",
        ));
    }
    match GeoPoint::parse(body.lat, body.lon) {
        Ok(p) if catalog.router().jurisdiction_at(&p) == Some(jurisdiction) => {}
        Ok(_) => errors.push(FieldError::new("lat", "must be a place inside the commune")),
        Err(e) => errors.push(e),
    }
    let known = catalog.services(jurisdiction);
    let mut services = body.service_codes.clone();
    if services.is_empty() {
        services = known.iter().map(|s| s.code.as_str().to_owned()).collect();
    }
    if let Some(bad) = services
        .iter()
        .find(|c| !known.iter().any(|s| s.code.as_str() == c.as_str()))
    {
        errors.push(FieldError::new(
            "service_codes",
            format!("unknown service {bad}"),
        ));
    }
    let mut languages = body.languages.clone();
    if languages.is_empty() {
        languages = commune
            .languages
            .iter()
            .map(|l| l.code().to_owned())
            .collect();
    }
    if languages
        .iter()
        .any(|l| !Language::parse(l).is_some_and(|l| commune.languages.contains(&l)))
        || languages.len() > 3
    {
        errors.push(FieldError::new(
            "languages",
            "must be languages of the commune (fr, ar, en)",
        ));
    }
    let orientation = body.orientation.as_deref().unwrap_or("landscape");
    if !matches!(orientation, "landscape" | "portrait") {
        errors.push(FieldError::new(
            "orientation",
            "must be landscape or portrait",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    services.dedup();
    languages.dedup();
    Ok(ScreenSettings {
        name: name.to_owned(),
        lat: body.lat,
        lon: body.lon,
        service_codes: services,
        languages,
        orientation: orientation.to_owned(),
    })
}

/// The screens of your commune, revoked ones included.
#[utoipa::path(get, path = "/api/v1/staff/screens", tag = "screens",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Screens (never their tokens)", body = [ScreenView]),
        (status = 403, description = "Not a staff administrator", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_screens(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
) -> ApiResult<Json<Vec<ScreenView>>> {
    let screens = state.store().screens(caller.jurisdiction.as_str()).await?;
    Ok(Json(screens.iter().map(screen_view).collect()))
}

/// Registers a screen; its secret URL is shown once.
#[utoipa::path(post, path = "/api/v1/staff/screens", tag = "screens",
    request_body = ScreenRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Registered", body = CreatedScreen),
        (status = 403, description = "Not a staff administrator", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_screen(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    ApiJson(body): ApiJson<ScreenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedScreen>)> {
    let settings = settings(&state, &caller.jurisdiction, &body)?;
    let token = secrets::generate(TOKEN_PREFIX);
    let now = Ts::now();
    let new = NewScreen {
        id: Uuid::now_v7(),
        jurisdiction_id: caller.jurisdiction.as_str().to_owned(),
        settings,
        token_hash: secrets::hash(&token),
        created_by: Some(caller.user.id),
        created_at: now,
    };
    state.store().create_screen(&new).await?;
    tracing::info!(screen_id = %new.id, name = %new.settings.name, "screen registered");
    let screen = Screen {
        id: new.id,
        jurisdiction_id: new.jurisdiction_id,
        name: new.settings.name,
        lat: new.settings.lat,
        lon: new.settings.lon,
        service_codes: new.settings.service_codes,
        languages: new.settings.languages,
        orientation: new.settings.orientation,
        created_by: new.created_by,
        created_at: now,
        updated_at: now,
        revoked_at: None,
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedScreen {
            screen: screen_view(&screen),
            url: format!("/screens/{token}"),
            token,
        }),
    ))
}

/// Replaces a screen's settings (its URL stays the same).
#[utoipa::path(put, path = "/api/v1/staff/screens/{id}", tag = "screens",
    params(("id" = Uuid, Path, description = "Screen id")),
    request_body = ScreenRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Updated", body = ScreenView),
        (status = 404, description = "No such active screen in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_screen(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScreenRequest>,
) -> ApiResult<Json<ScreenView>> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let settings = settings(&state, &caller.jurisdiction, &body)?;
    let screen = state
        .store()
        .update_screen(caller.jurisdiction.as_str(), id, &settings, Ts::now())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(screen_view(&screen)))
}

/// Revokes a screen at once: its URL and its content answer 404 from then on.
#[utoipa::path(delete, path = "/api/v1/staff/screens/{id}", tag = "screens",
    params(("id" = Uuid, Path, description = "Screen id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such active screen in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_screen(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    if state
        .store()
        .revoke_screen(caller.jurisdiction.as_str(), id, Ts::now())
        .await?
    {
        tracing::info!(screen_id = %id, "screen revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Clears a running notice's urgent flag: the screens stop giving it the whole screen (it
/// stays listed among the notices until it ends).
#[utoipa::path(delete, path = "/api/v1/notices/{id}/urgent", tag = "screens",
    params(("id" = Uuid, Path, description = "Notice id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "No longer urgent"),
        (status = 404, description = "No such running urgent notice in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn clear_urgency(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    if state
        .store()
        .clear_notice_urgency(caller.jurisdiction.as_str(), id, Ts::now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// What a screen shows now, in each of its languages (the token of its URL is the only
/// credential). Figures are the newest published month's, as `GET /api/v1/stats/summary`
/// shows them, for the district serving the screen's place.
#[utoipa::path(get, path = "/api/v1/screens/{token}/content", tag = "screens",
    params(("token" = String, Path, description = "The secret token of the screen's URL")),
    responses(
        (status = 200, description = "The screen's content", body = Object),
        (status = 404, description = "No such screen (or revoked)", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn screen_content(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (screen, hash) = page::by_token(&state, &token)
        .await?
        .ok_or(ApiError::NotFound)?;
    let url = page::app_url(&state, &headers);
    let content =
        page::content::build(&state, &state.settings().screens, &screen, &hash, &url).await?;
    let mut response = Json(content).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("valid"));
    Ok(response)
}
