//! Commune staff: triage of unrouted and rejected reports, re-routing, duplicates,
//! dismissal and moderation. Staff see only their own commune's reports.

use crate::auth::principal::{AnyStaff, Staff, StaffCaller, StaffWriter};
use crate::extract::{ApiJson, ApiQuery, MaybeJson};
use crate::params::if_match;
use crate::problem::{ApiError, ApiResult};
use crate::routes::tickets::{comment, with_etag};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use balagh_app::lifecycle::Extras;
use balagh_app::tickets::ticket_view;
use balagh_domain::event::Actor;
use balagh_domain::event_data::{
    DuplicateMerged, EventData, Moderated, PriorityChanged, StatusChanged,
};
use balagh_domain::lifecycle::{Action, transition};
use balagh_domain::{ContractId, FieldError, OperatorId, Priority, ReportStatus, RouteOutcome};
use balagh_store::{ChangeOutcome, ReportChange, StoredReport, TriageQuery, Ts};
use balagh_wire::{CommentRequest, TicketActionRequest, TicketPage};
use serde::Deserialize;
use uuid::Uuid;

pub async fn own_report(
    state: &AppState,
    caller: &StaffCaller,
    id: &str,
) -> ApiResult<StoredReport> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    state
        .store()
        .report(id)
        .await?
        .filter(|r| r.jurisdiction == caller.jurisdiction)
        .ok_or(ApiError::NotFound)
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
    let mut statuses = crate::params::parse_statuses(params.status.as_deref())?;
    if statuses.is_empty() {
        statuses = vec![ReportStatus::Unrouted, ReportStatus::Rejected];
    }
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            "must be 1-200",
        )));
    }
    let after = match params.after {
        Some(id) => {
            let last = own_report(&state, &caller, &id.to_string()).await?;
            Some((last.created_at, last.id))
        }
        None => None,
    };
    let reports = state
        .store()
        .triage_queue(&TriageQuery {
            jurisdiction: caller.jurisdiction.clone(),
            statuses,
            after,
            limit,
            newest_first: false,
        })
        .await?;
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
    let updated = triage_action(
        &state,
        &caller,
        &report,
        version,
        &action,
        body.unwrap_or_default(),
    )
    .await?;
    Ok(with_etag(ticket_view(&updated, None)))
}

/// A triage action (`route`, `dismiss`, `mark_duplicate`) on a report read at `version`: the
/// API and the staff pages share it.
pub async fn triage_action(
    state: &AppState,
    caller: &StaffCaller,
    report: &StoredReport,
    version: i64,
    action: &str,
    body: TicketActionRequest,
) -> ApiResult<StoredReport> {
    let actor = Actor::User(caller.user.id);
    let note = crate::params::text("note", body.note.as_deref(), false)?;
    let updated = match action {
        "route" => {
            let contract = route_target(state, caller, report, body.contract_id)?;
            let extras = Extras {
                note,
                routing: Some(contract),
                ..Extras::default()
            };
            balagh_app::lifecycle::apply(state, report, version, actor, Action::Route, extras)
                .await?
        }
        "dismiss" => {
            let reason = crate::params::text("reason", body.reason.as_deref(), true)?;
            let extras = Extras {
                note,
                reason,
                ..Extras::default()
            };
            balagh_app::lifecycle::apply(state, report, version, actor, Action::Dismiss, extras)
                .await?
        }
        "mark_duplicate" => {
            mark_duplicate(state, caller, report, version, body.duplicate_of).await?
        }
        _ => return Err(ApiError::NotFound),
    };
    Ok(updated)
}

/// Where `route` sends a report: the named contract, which must be of the caller's commune
/// and cover the report's service group, or the contract covering the point now.
fn route_target(
    state: &AppState,
    caller: &StaffCaller,
    report: &StoredReport,
    contract_id: Option<Uuid>,
) -> ApiResult<(OperatorId, ContractId)> {
    let catalog = state.catalog();
    let group = catalog
        .service(&report.jurisdiction, &report.service_code)
        .map(|s| s.group.clone())
        .ok_or(ApiError::Conflict("the report's service no longer exists"))?;
    let contract = match contract_id {
        Some(id) => {
            let chosen = catalog
                .router()
                .contracts()
                .iter()
                .find(|c| c.id == ContractId(id) && c.jurisdiction == caller.jurisdiction)
                .ok_or_else(|| {
                    FieldError::new("contract_id", "no such contract in your commune")
                })?;
            // A lighting report never goes to a waste company: the contract must
            // cover the report's service group (another zone of it is allowed).
            if chosen.group != group {
                return Err(FieldError::new(
                    "contract_id",
                    format!(
                        "contract {} covers the {} service group, but service {} belongs to {}: choose a {} contract",
                        chosen.reference,
                        chosen.group.as_str(),
                        report.service_code,
                        group.as_str(),
                        group.as_str(),
                    ),
                )
                .into());
            }
            (chosen.operator, chosen.id)
        }
        None => match catalog.router().route(
            &report.jurisdiction,
            &group,
            &report.point,
            Ts::now().get(),
        ) {
            RouteOutcome::Routed { operator, contract } => (operator, contract),
            RouteOutcome::Unrouted => {
                return Err(FieldError::new(
                    "contract_id",
                    "no contract covers this point now: name one",
                )
                .into());
            }
        },
    };
    Ok(contract)
}

async fn mark_duplicate(
    state: &AppState,
    caller: &StaffCaller,
    report: &StoredReport,
    version: i64,
    original: Option<Uuid>,
) -> ApiResult<StoredReport> {
    let original_id = original.ok_or_else(|| FieldError::new("duplicate_of", "is required"))?;
    let original = own_report(state, caller, &original_id.to_string())
        .await
        .map_err(|_| FieldError::new("duplicate_of", "no such report in your commune"))?;
    if original.id == report.id || original.duplicate_of.is_some() {
        return Err(FieldError::new(
            "duplicate_of",
            "must be another report that is not itself a duplicate",
        )
        .into());
    }
    let to = transition(report.status, Action::MarkDuplicate).map_err(|e| {
        ApiError::IllegalTransition {
            message: e.to_string(),
            allowed: e.allowed.iter().map(|a| a.as_str().to_owned()).collect(),
        }
    })?;
    let now = Ts::now();
    let mut change = ReportChange::new(report, now);
    change.expected_version = version;
    change.status = Some(to);
    change.duplicate_of = Some(Some(original.id));
    let mut marked = StatusChanged::new(Action::MarkDuplicate, report.status, to);
    marked.duplicate_of = Some(original.id);
    marked.original_reference = Some(original.reference.as_str().to_owned());
    let event = EventData::StatusChanged(marked).event(Actor::User(caller.user.id), true);
    let data = event.data.clone();
    change.events.push(event);
    if let Some(message) = balagh_app::tickets::webhook(report, "ticket.updated", &data, now) {
        change.outbox.push(message);
    }
    // Its followers (and its resident, by SMS) learn where to look now (they follow the
    // original from here on).
    let mut as_duplicate = report.clone();
    as_duplicate.status = balagh_domain::ReportStatus::Duplicate;
    change
        .outbox
        .extend(balagh_app::lifecycle::status_messages(&as_duplicate, now));
    // A duplicate leaves its operator: clocks still running end here.
    balagh_app::clocks::recompute_for_change(state, report, &mut change).await?;
    let merged = EventData::DuplicateMerged(DuplicateMerged {
        duplicate: report.id,
        duplicate_reference: report.reference.as_str().to_owned(),
    })
    .event(Actor::User(caller.user.id), true);
    match state
        .store()
        .merge_duplicate(&change, original.id, &merged)
        .await?
    {
        ChangeOutcome::Applied(updated) => Ok(updated),
        ChangeOutcome::VersionMismatch(current) => Err(ApiError::PreconditionFailed {
            current_etag: crate::params::etag(current.version),
        }),
        ChangeOutcome::NotFound => Err(ApiError::NotFound),
    }
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
    let updated = moderate_description(
        &state,
        &caller,
        &report,
        version,
        body.hide_description,
        &body.reason,
    )
    .await?;
    Ok(with_etag(ticket_view(&updated, None)))
}

/// Hides or shows a report's description, with the reason on record.
pub async fn moderate_description(
    state: &AppState,
    caller: &StaffCaller,
    report: &StoredReport,
    version: i64,
    hide: bool,
    reason: &str,
) -> ApiResult<StoredReport> {
    let reason = crate::params::text("reason", Some(reason), true)?;
    let mut change = ReportChange::new(report, Ts::now());
    change.expected_version = version;
    change.description_hidden = Some(hide);
    // Showing it again is staff's approval for the public, whatever the automatic screen
    // says of it.
    change.description_approved = Some(!hide);
    let moderated = Moderated {
        hidden: hide,
        reason,
    };
    let event = EventData::Moderated(moderated).event(Actor::User(caller.user.id), false);
    let data = event.data.clone();
    change.events.push(event);
    Ok(balagh_app::lifecycle::commit(state, report, change, "ticket.updated", &data).await?)
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
    let updated = comment(&state, &report, &headers, Actor::User(caller.user.id), body).await?;
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
    let priority = Priority::parse(&body.priority)
        .ok_or_else(|| FieldError::new("priority", "must be one of: low, normal, high, urgent"))?;
    let note = crate::params::text("note", body.note.as_deref(), false)?;
    let updated = change_priority(&state, &report, version, caller.user.id, priority, note).await?;
    Ok(with_etag(ticket_view(&updated, None)))
}

/// Stores a new priority with its event and the clocks it implies.
pub async fn change_priority(
    state: &AppState,
    report: &StoredReport,
    version: i64,
    by: Uuid,
    priority: Priority,
    note: Option<String>,
) -> ApiResult<StoredReport> {
    let mut change = ReportChange::new(report, Ts::now());
    change.expected_version = version;
    change.priority = Some(priority);
    let changed = PriorityChanged {
        from: report.priority,
        to: priority,
        note,
    };
    let event = EventData::PriorityChanged(changed).event(Actor::User(by), false);
    let data = event.data.clone();
    change.events.push(event);
    // `commit` recomputes the clocks with the new priority's targets.
    Ok(balagh_app::lifecycle::commit(state, report, change, "ticket.updated", &data).await?)
}
