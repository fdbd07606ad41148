//! Residents' reports: submit, read back, "is it already reported?", "me too".

use crate::extract::{ApiJson, ApiQuery, DeviceAuth};
use crate::problem::{ApiError, ApiResult};
use crate::routes::accounts::ClientAddress;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_app::Catalog;
use balagh_app::intake::{self, Submitter};
use balagh_app::resident;
use balagh_domain::{Channel, FieldError, IdempotencyKey};
use balagh_store::StoredReport;
use balagh_wire::{
    EventView, NearbyList, NewReportRequest, OperatorView, ReportView, SupportResult,
};
use serde::Deserialize;
use uuid::Uuid;

const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Set on an answer replayed for a repeated Idempotency-Key.
const REPLAYED_HEADER: &str = "idempotent-replayed";

pub fn report_view(report: &StoredReport, catalog: &Catalog) -> ReportView {
    ReportView {
        id: report.id,
        reference: report.reference.as_str().to_owned(),
        jurisdiction_id: report.jurisdiction.to_string(),
        service_code: report.service_code.to_string(),
        status: report.status.as_str().to_owned(),
        priority: report.priority.as_str().to_owned(),
        operator: report
            .operator
            .and_then(|id| catalog.operator(id))
            .map(|record| OperatorView {
                id: record.operator.id.0,
                slug: record.operator.slug.to_string(),
                name: record.operator.name.clone(),
            }),
        lat: report.point.lat(),
        lon: report.point.lon(),
        accuracy_m: report.accuracy_m,
        description: report.description.clone(),
        attributes: report.attributes.clone(),
        channel: report.channel.as_str().to_owned(),
        supporters: report.supporters,
        created_at: report.created_at.get(),
        updated_at: report.updated_at.get(),
        history: None,
        photos: None,
        clocks: None,
        viewer: None,
    }
}

pub fn idempotency_key(headers: &HeaderMap) -> ApiResult<IdempotencyKey> {
    let raw = headers
        .get(IDEMPOTENCY_HEADER)
        .ok_or_else(|| {
            ApiError::InvalidParameter(FieldError::new(
                "Idempotency-Key",
                "header is required so that a retried submission never creates a second report",
            ))
        })?
        .to_str()
        .unwrap_or("");
    IdempotencyKey::parse(raw).map_err(ApiError::InvalidParameter)
}

fn created(report: &StoredReport, catalog: &Catalog, replayed: bool) -> Response {
    let location = format!("/api/v1/reports/{}", report.id);
    let mut response = (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(report_view(report, catalog)),
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// Submits a report. Routed at once to the operator whose contract covers the point; a point
/// in the commune that no contract covers waits for staff as `unrouted`. Send an
/// `Idempotency-Key`: repeating it returns the first report, never a second one.
#[utoipa::path(
    post, path = "/api/v1/reports", tag = "reports",
    request_body = NewReportRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per submission, e.g. a UUID")),
    security(("device_token" = [])),
    responses(
        (status = 201, description = "Created (or replayed for a repeated Idempotency-Key)", body = ReportView),
        (status = 400, description = "Malformed body or missing Idempotency-Key", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, outside the area served, or key reused", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewReportRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    // The draft photos named in the body are attached in the report's own transaction.
    let (stored, replayed) = intake::submit(
        &state,
        &body,
        key,
        Submitter {
            channel: Channel::App,
            device: Some(device),
            staff: None,
            contact: None,
        },
    )
    .await?;
    Ok(created(&stored, &state.catalog(), replayed))
}

/// Submits through the intake pipeline ([`intake::submit`]) and answers 201, or 200 with
/// the first answer's report for a replay.
pub async fn submit(
    state: &AppState,
    body: &NewReportRequest,
    key: IdempotencyKey,
    by: Submitter,
) -> ApiResult<Response> {
    let (stored, replayed) = intake::submit(state, body, key, by).await?;
    Ok(created(&stored, &state.catalog(), replayed))
}

fn parse_report_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// Reads a report with its public history. Only its reporter may: for anyone else it does
/// not exist (404), so its existence does not leak.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "The report", body = ReportView),
        (status = 401, description = "Missing or invalid token", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report for this device", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<ReportView>> {
    let id = parse_report_id(&id)?;
    // The report, its history and its photos in one round trip.
    let details = state
        .store()
        .report_details(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if details.report.device != Some(device) {
        // A follower (supporter, merged duplicate's reporter, or one who chose to follow)
        // sees what the public may know; anyone else, nothing (404, existence not leaked).
        return super::my_reports::follower_view(&state, device, details).await;
    }
    let (report, events, photos) = (details.report, details.events, details.photos);
    let clocks = balagh_app::clocks::views(&state.catalog(), &report, &events);
    let history = events
        .into_iter()
        .filter(|e| e.public)
        .map(|e| EventView {
            kind: e.kind.as_str().to_owned(),
            at: e.at.get(),
            data: e.data,
        })
        .collect();
    let mut view = report_view(&report, &state.catalog());
    view.history = Some(history);
    view.clocks = Some(clocks);
    view.photos = Some(
        balagh_app::photos::photo_views(
            &state,
            &crate::params::base_url(&state, &headers),
            &photos,
            false,
        )
        .await?,
    );
    Ok(Json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyParams {
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    pub service_code: String,
    /// Page, from 1 [default: 1].
    pub page: Option<u32>,
    /// Reports per page, 1–50 [default: 20].
    pub page_size: Option<u32>,
}

/// Open reports of a service near a point (default: within 250 m, from the last 30 days),
/// nearest first: offer "me too" instead of a duplicate report. What the public may know
/// and no more: services whose reports are listed publicly only, the point snapped to the
/// record grid, the distance from it rounded to 50 m, the time to the hour, the description
/// only where staff approved it or the personal-data screen passed it (else empty).
/// Limited per device (`http.rate_limits.device_lookups_*`).
#[utoipa::path(
    get, path = "/api/v1/reports/nearby", tag = "reports",
    params(NearbyParams),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Nearby open reports", body = NearbyList),
        (status = 400, description = "Missing or malformed parameter", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn nearby_reports(
    State(state): State<AppState>,
    DeviceAuth(_device): DeviceAuth,
    ApiQuery(params): ApiQuery<NearbyParams>,
) -> ApiResult<Json<NearbyList>> {
    let request = resident::NearbyRequest {
        lat: params.lat,
        lon: params.lon,
        service_code: &params.service_code,
        page: params.page,
        page_size: params.page_size,
    };
    Ok(Json(resident::nearby(&state, request).await?))
}

/// "Me too": adds this device's support to a report, once per device. The reporter cannot
/// support their own report (409). One address adds a limited number per report per day
/// (429 with `Retry-After` past it), so fresh devices cannot multiply support.
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/support", tag = "reports",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Counted (or already counted)", body = SupportResult),
        (status = 404, description = "No such report", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Own report", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many supports of this report from this address", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn support_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ClientAddress(address): ClientAddress,
    Path(id): Path<String>,
) -> ApiResult<Json<SupportResult>> {
    let id = parse_report_id(&id)?;
    resident::supportable(&state, device, id).await?;
    // Counted before the support is recorded (concurrent "me too" cannot slip past).
    crate::abuse::admit_support(&state, &address, id).await?;
    let result = resident::add_support(&state, device, id).await?;
    if result.already_supported {
        // Asking again changed nothing: not counted against the address.
        crate::abuse::refund_support(&state, &address, id).await?;
    }
    Ok(Json(result))
}

/// The device's own report, or 404.
pub async fn own_report(state: &AppState, device: Uuid, id: &str) -> ApiResult<StoredReport> {
    Ok(resident::own_report(state, device, parse_report_id(id)?).await?)
}

/// The reporter confirms the fix: the report closes.
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/confirm", tag = "reports",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Closed", body = ReportView),
        (status = 404, description = "Not your report", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not resolved", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    let updated = resident::confirm(&state, device, parse_report_id(&id)?).await?;
    Ok(Json(report_view(&updated, &state.catalog())))
}

/// The reporter says it is not fixed: within the reopen window (14 days by default) after
/// the resolution, the report reopens for the operator, with the comment.
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/reopen", tag = "reports",
    request_body = balagh_wire::ReopenRequest,
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Reopened", body = ReportView),
        (status = 409, description = "Not resolved, or the reopen window has passed", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reopen_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<balagh_wire::ReopenRequest>,
) -> ApiResult<Json<ReportView>> {
    let id = parse_report_id(&id)?;
    let updated = resident::reopen(&state, device, id, &body.comment).await?;
    Ok(Json(report_view(&updated, &state.catalog())))
}

/// The reporter rates the resolution, 1–5 (after it is resolved; a new rating replaces the
/// previous one).
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/rating", tag = "reports",
    request_body = balagh_wire::RatingRequest,
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Rated", body = ReportView),
        (status = 409, description = "Not resolved yet", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Stars out of range", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rate_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<balagh_wire::RatingRequest>,
) -> ApiResult<Json<ReportView>> {
    let id = parse_report_id(&id)?;
    let updated = resident::rate(&state, device, id, body.stars, body.comment.as_deref()).await?;
    Ok(Json(report_view(&updated, &state.catalog())))
}
