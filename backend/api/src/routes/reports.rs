//! Residents' reports: submit, read back, "is it already reported?", "me too".

use crate::catalog::Catalog;
use crate::extract::{ApiJson, ApiQuery, DeviceAuth};
use crate::problem::{ApiError, ApiResult};
use crate::routes::accounts::ClientAddress;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_domain::event::Actor;
use balagh_domain::{
    Accuracy, AttributeValues, Channel, Description, FieldError, GeoPoint, IdempotencyKey,
    NearbySearch, PublicReference, ReportStatus, RouteOutcome, ServiceCode,
};
use balagh_store::{
    CreateOutcome, Idempotency, NearbyQuery, NewReport, NewSupport, StoreError, StoredReport,
    SupportOutcome, Ts,
};
use balagh_wire::{
    EventView, NearbyList, NearbyReport, NewReportRequest, OperatorView, ReportView, SupportResult,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Set on an answer replayed for a repeated Idempotency-Key.
const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Attempts at a fresh public reference when one collides (1 in 2^40 per pair).
const REFERENCE_ATTEMPTS: usize = 4;

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

/// A request checked against the catalog, ready to store.
struct CheckedReport {
    point: GeoPoint,
    accuracy: Option<Accuracy>,
    description: Description,
    attributes: AttributeValues,
    service_code: ServiceCode,
}

/// Checks every field, reporting all the wrong ones at once.
fn check_report(
    body: &NewReportRequest,
    catalog: &Catalog,
) -> ApiResult<(CheckedReport, balagh_domain::Jurisdiction)> {
    let mut errors: Vec<FieldError> = Vec::new();
    let point = GeoPoint::parse(body.lat, body.lon)
        .map_err(|e| errors.push(e))
        .ok();
    let description = Description::parse(&body.description)
        .map_err(|e| errors.push(e))
        .ok();
    let accuracy = body
        .accuracy_m
        .map(Accuracy::parse)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let code = ServiceCode::parse(&body.service_code)
        .map_err(|e| errors.push(e))
        .ok();
    let Some(point) = point else {
        return Err(ApiError::Validation(errors));
    };
    let jurisdiction = catalog
        .router()
        .jurisdiction_at(&point)
        .and_then(|id| catalog.jurisdiction(id))
        .ok_or(ApiError::OutsideJurisdiction)?;
    let service = code.as_ref().and_then(|code| {
        let found = catalog.service(&jurisdiction.id, code);
        if found.is_none() {
            errors.push(FieldError::new(
                "service_code",
                format!(
                    "no service '{code}' in {}; see GET /api/v1/services",
                    jurisdiction.id
                ),
            ));
        }
        found
    });
    let attributes = service.and_then(|service| {
        AttributeValues::parse(
            service,
            body.attributes.as_ref().unwrap_or(&Default::default()),
        )
        .map_err(|e| errors.push(e))
        .ok()
    });
    match (description, attributes, code) {
        (Some(description), Some(attributes), Some(service_code)) if errors.is_empty() => Ok((
            CheckedReport {
                point,
                accuracy,
                description,
                attributes,
                service_code,
            },
            jurisdiction.clone(),
        )),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Fingerprint of what was submitted, to tell a retry from a different request that reuses
/// the key. The wire type serializes deterministically (attributes are a sorted map).
fn request_hash(body: &NewReportRequest) -> Vec<u8> {
    Sha256::digest(serde_json::to_vec(body).expect("request serializes")).to_vec()
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
    let drafts = checked_drafts(&state, device, &body).await?;
    let (stored, replayed) = submit_stored(
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
    if !replayed {
        crate::photos::attach_drafts(&state, &stored, device, &drafts).await?;
    }
    Ok(created(&stored, &state.catalog(), replayed))
}

/// The draft photos named in a submission: this device's, and not attached to a report,
/// unless to the first report of this very submission (a repeat).
async fn checked_drafts(
    state: &AppState,
    device: Uuid,
    body: &NewReportRequest,
) -> ApiResult<Vec<balagh_store::StoredPhoto>> {
    let Some(ids) = body.photos.as_deref().filter(|ids| !ids.is_empty()) else {
        return Ok(Vec::new());
    };
    let drafts = crate::photos::check_drafts(state, device, ids, |_| true).await?;
    let hash = request_hash(body);
    for draft in &drafts {
        let Some(report_id) = draft.report_id else {
            continue;
        };
        let same_submission = state.store().report(report_id).await?.is_some_and(|r| {
            r.device == Some(device) && r.request_hash.as_deref() == Some(hash.as_slice())
        });
        if !same_submission {
            return Err(FieldError::new(
                "photos",
                format!("{} is attached to another report", draft.id),
            )
            .into());
        }
    }
    Ok(drafts)
}

/// Who submits a report, through which channel.
#[derive(Debug, Clone)]
pub struct Submitter {
    pub channel: Channel,
    /// The resident's device (app, web).
    pub device: Option<Uuid>,
    /// The staff member entering it for a resident (counter, phone).
    pub staff: Option<Uuid>,
    /// The resident's contact details given to staff (private).
    pub contact: Option<serde_json::Value>,
}

/// Checks, routes and stores a report with its events and the operator's webhook: the one
/// intake pipeline behind every channel.
pub async fn submit(
    state: &AppState,
    body: &NewReportRequest,
    key: IdempotencyKey,
    by: Submitter,
) -> ApiResult<Response> {
    let (stored, replayed) = submit_stored(state, body, key, by).await?;
    Ok(created(&stored, &state.catalog(), replayed))
}

/// [`submit`], returning the stored report and whether it was a replay.
pub async fn submit_stored(
    state: &AppState,
    body: &NewReportRequest,
    key: IdempotencyKey,
    by: Submitter,
) -> ApiResult<(StoredReport, bool)> {
    let catalog = state.catalog();
    let (checked, jurisdiction) = check_report(body, &catalog)?;
    let (group, priority) = catalog
        .service(&jurisdiction.id, &checked.service_code)
        .map(|s| (s.group.clone(), s.initial_priority(&checked.attributes)))
        .ok_or(ApiError::Internal("service vanished from catalog".into()))?;
    let now = Ts::now();
    let (status, operator, contract) =
        match catalog
            .router()
            .route(&jurisdiction.id, &group, &checked.point, now.get())
        {
            RouteOutcome::Routed { contract, operator } => {
                (ReportStatus::New, Some(operator), Some(contract))
            }
            RouteOutcome::Unrouted => (ReportStatus::Unrouted, None, None),
        };
    let hash = request_hash(body);
    let actor = match (by.device, by.staff) {
        (Some(device), _) => Actor::Device(device),
        (None, Some(user)) => Actor::User(user),
        (None, None) => Actor::System,
    };
    let mut report = NewReport {
        id: Uuid::now_v7(),
        reference: PublicReference::generate(&jurisdiction.reference_prefix, &mut rand::rng()),
        jurisdiction: jurisdiction.id.clone(),
        service_code: checked.service_code,
        point: checked.point,
        accuracy: checked.accuracy,
        description: checked.description,
        attributes: checked.attributes,
        channel: by.channel,
        status,
        priority,
        operator,
        contract,
        device: by.device,
        idempotency: Some(Idempotency {
            key,
            request_hash: hash.clone(),
        }),
        created_at: now,
        // Set from the SLA clocks below.
        due_at: None,
        contact: by.contact,
        created_by: by.staff,
        events: balagh_domain::event_data::creation_events(actor, operator, contract, by.channel),
        outbox: Vec::new(),
        clocks: Vec::new(),
        later_events: Vec::new(),
    };
    crate::sla::start_clocks(&catalog, &mut report)?;
    let created_event = serde_json::json!({ "action": "created", "channel": by.channel.as_str() });
    for attempt in 1..=REFERENCE_ATTEMPTS {
        // The operator's system hears of it through the outbox, in the same transaction.
        report.outbox = crate::actions::webhook(
            &StoredReport::from_new(&report),
            "ticket.created",
            &created_event,
            now,
        )
        .into_iter()
        .chain(crate::sms::receipt_sms(&report))
        .collect();
        match state.store().create_report(&report).await {
            Ok(CreateOutcome::Created(stored)) => {
                metrics::counter!(
                    "balagh_reports_created_total",
                    "channel" => by.channel.as_str(),
                    "routed" => if operator.is_some() { "yes" } else { "no" },
                )
                .increment(1);
                return Ok((stored, false));
            }
            Ok(CreateOutcome::Existing(stored)) => {
                if stored.request_hash.as_deref() != Some(hash.as_slice()) {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                return Ok((stored, true));
            }
            Err(StoreError::Conflict(balagh_store::Constraint::ReportReference))
                if attempt < REFERENCE_ATTEMPTS =>
            {
                report.reference =
                    PublicReference::generate(&jurisdiction.reference_prefix, &mut rand::rng());
            }
            Err(StoreError::MissingReference) => {
                // The catalog changed under us (service or contract removed): say so.
                return Err(ApiError::Unavailable("catalog changed; retry".into()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal("no free public reference".into()))
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
    let clocks = crate::sla::views(&state.catalog(), &report, &events);
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
    view.photos = Some(crate::photos::photo_views(&state, &headers, &photos, false).await?);
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
    let gate = crate::publish::records::Records::new(&catalog, settings.stats.records);
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
    let updated = crate::actions::apply(
        &state,
        &report,
        report.version,
        Actor::Device(device),
        balagh_domain::lifecycle::Action::Confirm,
        crate::actions::Extras::default(),
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
    let comment = crate::actions::text("comment", Some(&body.comment), true)?;
    let window = time::Duration::days(state.settings().reopen_window_days.into());
    if report
        .resolved_at
        .is_some_and(|at| Ts::now().get() - at.get() > window)
    {
        return Err(ApiError::Conflict(
            "the reopen window has passed: please submit a new report",
        ));
    }
    let updated = crate::actions::apply(
        &state,
        &report,
        report.version,
        Actor::Device(device),
        balagh_domain::lifecycle::Action::Reopen,
        crate::actions::Extras {
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
    let comment = crate::actions::text("comment", body.comment.as_deref(), false)?;
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
    let updated = crate::actions::commit(&state, &report, change, "ticket.updated", &data).await?;
    Ok(Json(report_view(&updated, &state.catalog())))
}
