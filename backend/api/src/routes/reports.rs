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
use balagh_domain::event::Actor;
use balagh_domain::{
    Channel, FieldError, GeoPoint, IdempotencyKey, NearbySearch, ReportStatus, ServiceCode,
};
use balagh_store::{NearbyQuery, NewSupport, StoredReport, SupportOutcome, Ts};
use balagh_wire::{
    EventView, NearbyList, NearbyReport, NewReportRequest, OperatorView, ReportView, SupportResult,
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
    let point = GeoPoint::parse(params.lat, params.lon)?;
    let code = ServiceCode::parse(&params.service_code)?;
    let catalog = state.catalog();
    let Some(jurisdiction) = catalog.router().jurisdiction_at(&point) else {
        return Err(ApiError::OutsideJurisdiction);
    };
    if catalog.service(jurisdiction, &code).is_none() {
        return Err(FieldError::new("service_code", format!("no service '{code}' here")).into());
    }
    let page_size = params.page_size.unwrap_or(20);
    if !(1..=50).contains(&page_size) {
        return Err(FieldError::new("page_size", "must be from 1 to 50").into());
    }
    let page = params.page.unwrap_or(1);
    if page == 0 {
        return Err(FieldError::new("page", "must be at least 1").into());
    }
    let settings = state.settings();
    let reports = nearby_open(&state, jurisdiction, point, code).await?;
    Ok(Json(NearbyList {
        radius_m: settings.nearby_radius_m,
        window_days: settings.nearby_window_days,
        reports: reports
            .into_iter()
            .skip(((page - 1) * page_size) as usize)
            .take(page_size as usize)
            .collect(),
    }))
}

/// Open reports of a service near a point (within the configured radius and window),
/// nearest first, at most 50, as the publication gate lets them out: "is it already
/// reported?", for the app and Open311 alike. Nothing for a service whose reports are not
/// listed publicly.
pub async fn nearby_open(
    state: &AppState,
    jurisdiction: &balagh_domain::JurisdictionId,
    point: GeoPoint,
    code: ServiceCode,
) -> ApiResult<Vec<NearbyReport>> {
    let settings = state.settings();
    let catalog = state.catalog();
    let gate = balagh_app::publish::records::Records::new(&catalog, settings.stats.records);
    if !gate.lists(jurisdiction, &code) {
        return Ok(Vec::new());
    }
    let search = NearbySearch::new(point, settings.nearby_radius_m)?;
    let since = Ts::new(
        time::OffsetDateTime::now_utc() - time::Duration::days(settings.nearby_window_days.into()),
    );
    let candidates = state
        .store()
        .nearby_candidates(&NearbyQuery {
            jurisdiction: jurisdiction.clone(),
            service_code: code,
            cells: search.cells.clone(),
            since,
        })
        .await?;
    let mut reports: Vec<NearbyReport> = candidates
        .into_iter()
        .filter_map(|r| {
            search.distance_if_within(&r.point)?;
            let snapped = gate.point(&r);
            Some(NearbyReport {
                id: r.id,
                reference: r.reference.as_str().to_owned(),
                service_code: r.service_code.to_string(),
                status: r.status.as_str().to_owned(),
                lat: snapped.lat(),
                lon: snapped.lon(),
                distance_m: f64::from(gate.policy.rounded_distance_m(&point, &r.point)),
                description: gate.description(&r).unwrap_or_default().to_owned(),
                supporters: r.supporters,
                created_at: gate.time(r.created_at).get(),
            })
        })
        .collect();
    // Nearest first by the published distance (ties: newest first), never by the exact one.
    reports.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(b.created_at.cmp(&a.created_at))
    });
    reports.truncate(50);
    Ok(reports)
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
    let report = state.store().report(id).await?.ok_or(ApiError::NotFound)?;
    if report.device == Some(device) {
        return Err(ApiError::Conflict("you reported this yourself"));
    }
    // Counted before the support is recorded (concurrent "me too" cannot slip past).
    crate::abuse::admit_support(&state, &address, id).await?;
    let outcome = state
        .store()
        .support_report(&NewSupport {
            report_id: id,
            device,
            at: Ts::now(),
        })
        .await?;
    match outcome {
        SupportOutcome::Added { supporters } => Ok(Json(SupportResult {
            supporters,
            already_supported: false,
        })),
        SupportOutcome::AlreadySupported { supporters } => {
            // Asking again changed nothing: not counted against the address.
            crate::abuse::refund_support(&state, &address, id).await?;
            Ok(Json(SupportResult {
                supporters,
                already_supported: true,
            }))
        }
        SupportOutcome::NotFound => Err(ApiError::NotFound),
    }
}

/// The device's own report, or 404.
pub async fn own_report(state: &AppState, device: Uuid, id: &str) -> ApiResult<StoredReport> {
    let id = parse_report_id(id)?;
    state
        .store()
        .report(id)
        .await?
        .filter(|r| r.device == Some(device))
        .ok_or(ApiError::NotFound)
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
    let report = own_report(&state, device, &id).await?;
    let updated = balagh_app::lifecycle::apply(
        &state,
        &report,
        report.version,
        Actor::Device(device),
        balagh_domain::lifecycle::Action::Confirm,
        balagh_app::lifecycle::Extras::default(),
    )
    .await?;
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
    let report = own_report(&state, device, &id).await?;
    let comment = crate::params::text("comment", Some(&body.comment), true)?;
    let window = time::Duration::days(state.settings().reopen_window_days.into());
    if report
        .resolved_at
        .is_some_and(|at| Ts::now().get() - at.get() > window)
    {
        return Err(ApiError::Conflict(
            "the reopen window has passed: please submit a new report",
        ));
    }
    let updated = balagh_app::lifecycle::apply(
        &state,
        &report,
        report.version,
        Actor::Device(device),
        balagh_domain::lifecycle::Action::Reopen,
        balagh_app::lifecycle::Extras {
            note: comment,
            ..Default::default()
        },
    )
    .await?;
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
    let report = own_report(&state, device, &id).await?;
    if !(1..=5).contains(&body.stars) {
        return Err(FieldError::new("stars", "must be 1 to 5").into());
    }
    let comment = crate::params::text("comment", body.comment.as_deref(), false)?;
    if !matches!(report.status, ReportStatus::Resolved | ReportStatus::Closed) {
        return Err(ApiError::Conflict(
            "a report can be rated once it is resolved",
        ));
    }
    let mut change = balagh_store::ReportChange::new(&report, Ts::now());
    change.rating = Some(body.stars);
    let rated = balagh_domain::event_data::Rated {
        stars: body.stars,
        comment,
    };
    let event = balagh_domain::EventData::Rated(rated).event(Actor::Device(device), false);
    let data = event.data.clone();
    change.events.push(event);
    let updated =
        balagh_app::lifecycle::commit(&state, &report, change, "ticket.updated", &data).await?;
    Ok(Json(report_view(&updated, &state.catalog())))
}
