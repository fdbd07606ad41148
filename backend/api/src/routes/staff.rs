//! Commune staff: triage of unrouted and rejected reports, re-routing, duplicates,
//! dismissal and moderation. Staff see only their own commune's reports.

use crate::auth::principal::{AnyStaff, Staff, StaffCaller, StaffWriter};
use crate::extract::{ApiJson, ApiQuery, MaybeJson};
use crate::params::if_match;
use crate::problem::{ApiError, ApiResult};
use crate::routes::tickets::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use balagh_app::lifecycle;
use balagh_app::tickets::ticket_view;
use balagh_app::triage::{self, StaffMember};
use balagh_domain::FieldError;
use balagh_domain::event::Actor;
use balagh_store::StoredReport;
use balagh_wire::{CommentRequest, TicketActionRequest, TicketPage};
use serde::Deserialize;
use uuid::Uuid;

/// A report of the caller's commune, or 404.
pub async fn own_report(
    state: &AppState,
    caller: &StaffCaller,
    id: &str,
) -> ApiResult<StoredReport> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    Ok(triage::commune_report(state, &caller.jurisdiction, id).await?)
}

/// The caller as the use cases know staff.
pub fn member(caller: &StaffCaller) -> StaffMember {
    StaffMember {
        user: caller.user.id,
        jurisdiction: caller.jurisdiction.clone(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TriageParams {
    /// Comma-separated statuses (default: unrouted,rejected).
    pub status: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// Id of the last report of the previous page.
    pub after: Option<Uuid>,
}

/// The triage queue: reports no contract covered and reports operators gave back, oldest
/// first.
#[utoipa::path(get, path = "/api/v1/staff/reports", tag = "staff", params(TriageParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Reports to triage", body = TicketPage)))]
pub async fn triage(
    State(state): State<AppState>,
    Staff(caller, _): Staff<AnyStaff>,
    ApiQuery(params): ApiQuery<TriageParams>,
) -> ApiResult<Json<TicketPage>> {
    let statuses = crate::params::parse_statuses(params.status.as_deref())?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            "must be 1-200",
        )));
    }
    let after = match params.after {
        Some(id) => Some(
            triage::cursor(&state, &caller.jurisdiction, id)
                .await?
                .ok_or(ApiError::NotFound)?,
        ),
        None => None,
    };
    let jurisdiction = &caller.jurisdiction;
    let reports = triage::queue(&state, jurisdiction, statuses, after, limit, false).await?;
    let next_cursor = (reports.len() == limit as usize)
        .then(|| reports.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(TicketPage {
        tickets: reports.iter().map(|r| ticket_view(r, None)).collect(),
        next_cursor,
    }))
}

/// Any report of your commune, with its full history.
#[utoipa::path(get, path = "/api/v1/staff/reports/{id}", tag = "staff",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "The report", body = balagh_wire::TicketView)))]
pub async fn get_report(
    State(state): State<AppState>,
    Staff(caller, _): Staff<AnyStaff>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // The report, its history and its photos in one round trip.
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let details = state
        .store()
        .report_details(id)
        .await?
        .filter(|d| d.report.jurisdiction == caller.jurisdiction)
        .ok_or(ApiError::NotFound)?;
    let (report, history, photos) = (details.report, details.events, details.photos);
    let mut view = ticket_view(&report, Some(&history));
    view.photos = Some(
        balagh_app::photos::photo_views(
            &state,
            &crate::params::base_url(&state, &headers),
            &photos,
            true,
        )
        .await?,
    );
    view.clocks = Some(balagh_app::clocks::views(
        &state.catalog(),
        &report,
        &history,
    ));
    // Staff see the original text even when moderation hides it from everyone else.
    view.description = Some(report.description.clone());
    Ok(with_etag(view))
}

/// Triage actions: `route` (to `contract_id`, which must cover the report's service group,
/// or to the contract covering the point now),
/// `mark_duplicate` (of `duplicate_of`: supporters and followers move to it) or `dismiss`
/// (with `reason`). `If-Match` required.
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/actions/{action}", tag = "staff",
    request_body = TicketActionRequest,
    params(
        ("id" = Uuid, Path, description = "Report id"),
        ("action" = String, Path, description = "route | mark_duplicate | dismiss"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Changed", body = balagh_wire::TicketView),
        (status = 409, description = "Not allowed in this status", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or invalid contract (another commune's, or another service group's), original or reason", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn report_action(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<TicketActionRequest>,
) -> ApiResult<Response> {
    let report = own_report(&state, &caller, &id).await?;
    let version = if_match(&headers)?;
    let body = body.unwrap_or_default();
    let updated = triage::act(&state, &member(&caller), &report, version, &action, body).await?;
    Ok(with_etag(ticket_view(&updated, None)))
}

/// Body of a moderation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationRequest {
    /// Hide (true) or show (false) the description; the original stays on record. Showing
    /// it approves it for the public even where the automatic personal-data screen flags it.
    pub hide_description: bool,
    pub reason: String,
}

/// Hides or shows a report's description (abuse, personal data). The text is never deleted:
/// it stays in the report's history for audit.
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/moderation", tag = "staff",
    request_body = ModerationRequest,
    params(("id" = Uuid, Path, description = "Report id"), ("If-Match" = String, Header, description = "The ETag last read")),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Moderated", body = balagh_wire::TicketView)))]
pub async fn moderate(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ModerationRequest>,
) -> ApiResult<Response> {
    let report = own_report(&state, &caller, &id).await?;
    let version = if_match(&headers)?;
    let updated = triage::moderate_description(
        &state,
        &member(&caller),
        &report,
        version,
        body.hide_description,
        &body.reason,
    )
    .await?;
    Ok(with_etag(ticket_view(&updated, None)))
}

/// A staff comment, public or internal.
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/comments", tag = "staff",
    request_body = CommentRequest,
    params(("id" = Uuid, Path, description = "Report id"), ("If-Match" = String, Header, description = "The ETag last read")),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Commented", body = balagh_wire::TicketView)))]
pub async fn comment_report(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CommentRequest>,
) -> ApiResult<Response> {
    let report = own_report(&state, &caller, &id).await?;
    let version = if_match(&headers)?;
    let actor = Actor::User(caller.user.id);
    let updated =
        lifecycle::comment(&state, &report, version, actor, &body.text, body.public).await?;
    Ok(with_etag(ticket_view(&updated, None)))
}

/// Body of a priority change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityRequest {
    /// `low`, `normal`, `high` or `urgent`: the SLA targets for this priority apply from
    /// the report's creation on.
    #[schema(value_type = String, example = "urgent")]
    pub priority: String,
    pub note: Option<String>,
}

/// Sets a report's priority. Its SLA clocks are recomputed at once with the targets of the
/// new priority (the demo's `urgent` targets, say).
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/priority", tag = "staff",
    request_body = PriorityRequest,
    params(("id" = Uuid, Path, description = "Report id"), ("If-Match" = String, Header, description = "The ETag last read")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Priority set", body = balagh_wire::TicketView),
        (status = 412, description = "Changed since you read it", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown priority", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_priority(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PriorityRequest>,
) -> ApiResult<Response> {
    let report = own_report(&state, &caller, &id).await?;
    let version = if_match(&headers)?;
    let priority = triage::parse_priority(&body.priority)?;
    let note = crate::params::text("note", body.note.as_deref(), false)?;
    let by = caller.user.id;
    let updated = triage::change_priority(&state, &report, version, by, priority, note).await?;
    Ok(with_etag(ticket_view(&updated, None)))
}
