//! The operator's ticket queue: list, read, and work tickets. An operator sees only its own
//! company's tickets; another company's ticket does not exist for it (404).

use crate::auth::principal::{AnyOperator, Operator, OperatorCaller};
use crate::extract::{ApiJson, ApiQuery, MaybeJson};
use crate::params::etag;
use crate::params::if_match;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use balagh_app::lifecycle::Extras;
use balagh_app::tickets::operator_ticket_view;
use balagh_domain::event::Actor;
use balagh_domain::event_data::{Assigned, EventData};
use balagh_domain::lifecycle::{Action, PauseReason};
use balagh_domain::{FieldError, ServiceCode};
use balagh_store::{QueueCursor, QueueQuery, ReportChange, StoredReport, Ts};
use balagh_wire::{AssignRequest, CommentRequest, TicketActionRequest, TicketPage, TicketView};
use serde::Deserialize;
use uuid::Uuid;

/// A ticket as JSON with its ETag.
pub fn with_etag(view: TicketView) -> Response {
    let tag = etag(view.version);
    let mut response = Json(view).into_response();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The operator's ticket, or 404 (also for another operator's ticket).
async fn own_ticket(
    state: &AppState,
    caller: &OperatorCaller,
    id: &str,
) -> ApiResult<StoredReport> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    state
        .store()
        .report(id)
        .await?
        .filter(|r| r.operator == Some(caller.operator))
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// Comma-separated statuses (default: every open status).
    pub status: Option<String>,
    /// Comma-separated service codes.
    pub service: Option<String>,
    /// A contract (zone) of yours.
    pub contract: Option<Uuid>,
    /// An agent's user id, or `me`.
    pub assignee: Option<String>,
    /// Only tickets due before this time (RFC 3339): "due soon".
    pub due_before: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}

pub(crate) fn encode_cursor(report: &StoredReport) -> Option<String> {
    Some(super::cursor::encode(report.due_at?, report.id))
}

pub(crate) fn decode_cursor(raw: &str) -> ApiResult<QueueCursor> {
    let (due_at, id) = super::cursor::decode(raw)?;
    Ok(QueueCursor { due_at, id })
}

/// Your tickets, soonest due first, with filters and cursor pagination.
#[utoipa::path(get, path = "/api/v1/operator/tickets", tag = "operator", params(QueueParams),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "A page of tickets", body = TicketPage),
        (status = 403, description = "Not an operator user", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_tickets(
    State(state): State<AppState>,
    Operator(caller, _): Operator<AnyOperator>,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> ApiResult<Json<TicketPage>> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            "must be 1-200",
        )));
    }
    let service_codes = params
        .service
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|list| {
            list.split(',')
                .map(|c| ServiceCode::parse(c.trim()))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|e| ApiError::InvalidParameter(FieldError::new("service", e.message)))?
        .unwrap_or_default();
    let assignee = match params.assignee.as_deref() {
        None | Some("") => None,
        Some("me") => Some(caller.user.id),
        Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| {
            ApiError::InvalidParameter(FieldError::new("assignee", "must be a user id or 'me'"))
        })?),
    };
    let due_before = params
        .due_before
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|raw| {
            time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                .map(Ts::new)
                .map_err(|_| {
                    ApiError::InvalidParameter(FieldError::new(
                        "due_before",
                        "must be an RFC 3339 date-time",
                    ))
                })
        })
        .transpose()?;
    let query = QueueQuery {
        operator: caller.operator,
        statuses: crate::params::parse_statuses(params.status.as_deref())?,
        service_codes,
        contract: params.contract.map(balagh_domain::ContractId),
        assignee,
        due_before,
        after: params
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?,
        limit,
    };
    let tickets = state.store().ticket_queue(&query).await?;
    let next_cursor = (tickets.len() == limit as usize)
        .then(|| tickets.last().and_then(encode_cursor))
        .flatten();
    Ok(Json(TicketPage {
        tickets: tickets
            .iter()
            .map(|t| operator_ticket_view(t, None))
            .collect(),
        next_cursor,
    }))
}

/// One of your tickets with its full history (internal events included) and its ETag.
#[utoipa::path(get, path = "/api/v1/operator/tickets/{id}", tag = "operator",
    params(("id" = Uuid, Path, description = "Ticket (report) id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "The ticket", body = TicketView),
        (status = 404, description = "Not one of your tickets", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_ticket(
    State(state): State<AppState>,
    Operator(caller, _): Operator<AnyOperator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // The ticket, its history and its photos in one round trip.
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let details = state
        .store()
        .report_details(id)
        .await?
        .filter(|d| d.report.operator == Some(caller.operator))
        .ok_or(ApiError::NotFound)?;
    let (ticket, history, photos) = (details.report, details.events, details.photos);
    let mut view = operator_ticket_view(&ticket, Some(&history));
    // Residents appear by a label of this report only, never by device id.
    crate::pseudonyms::pseudonymise_history(state.resident_label_key().await?, &mut view);
    view.photos = Some(
        balagh_app::photos::photo_views(
            &state,
            &crate::params::base_url(&state, &headers),
            &photos,
            false,
        )
        .await?,
    );
    view.clocks = Some(balagh_app::clocks::views(
        &state.catalog(),
        &ticket,
        &history,
    ));
    Ok(with_etag(view))
}

/// The evidence of a resolution: a confirmed photo of this ticket, uploaded by this
/// operator through the photo pipeline (`POST /api/v1/reports/{id}/photos/uploads`).
async fn evidence_photo(
    state: &AppState,
    caller: &OperatorCaller,
    ticket: &StoredReport,
    raw: &str,
) -> ApiResult<String> {
    let unknown = || {
        ApiError::from(FieldError::new(
            "evidence_photo",
            "must be the id of a confirmed evidence photo your company uploaded to this ticket",
        ))
    };
    let id = Uuid::parse_str(raw).map_err(|_| unknown())?;
    let photo = state
        .store()
        .photo(id)
        .await?
        .filter(|p| {
            p.report_id == Some(ticket.id)
                && p.purpose == balagh_store::PhotoPurpose::Evidence
                && p.uploader.operator() == Some(caller.operator)
        })
        .ok_or_else(unknown)?;
    Ok(photo.id.to_string())
}

/// An operator's action by its name in URLs (`reject_not_ours`, …).
pub fn operator_action(raw: &str) -> Option<Action> {
    Action::ALL
        .into_iter()
        .find(|a| a.is_operators() && a.as_str() == raw)
}

/// The note and reason of an operator's action, checked: a resolution needs a note, a
/// pause one of the pause reasons, a "not ours" a reason.
pub fn action_texts(
    action: Action,
    note: Option<&str>,
    reason: Option<&str>,
) -> ApiResult<(Option<String>, Option<String>)> {
    let note = crate::params::text("note", note, action == Action::Resolve)?;
    let reason = match action {
        Action::Pause => {
            let raw = crate::params::text("reason", reason, true)?.unwrap_or_default();
            Some(
                PauseReason::parse(&raw)
                    .ok_or_else(|| {
                        FieldError::new(
                            "reason",
                            "must be awaiting_resident, third_party or force_majeure",
                        )
                    })?
                    .as_str()
                    .to_owned(),
            )
        }
        Action::RejectNotOurs => crate::params::text("reason", reason, true)?,
        _ => None,
    };
    Ok((note, reason))
}

/// Works a ticket: `acknowledge`, `start`, `pause` (with `reason`: awaiting_resident,
/// third_party, force_majeure), `resume`, `resolve` (with `note`, optional `evidence_photo`:
/// the id of an evidence photo you uploaded to this ticket)
/// or `reject_not_ours` (with `reason`: back to the commune's triage). Send `If-Match` with
/// the ETag you read: a stale one is refused (412), an action the status does not allow is
/// a 409 listing what is allowed.
#[utoipa::path(post, path = "/api/v1/operator/tickets/{id}/actions/{action}", tag = "operator",
    request_body = TicketActionRequest,
    params(
        ("id" = Uuid, Path, description = "Ticket (report) id"),
        ("action" = String, Path, description = "acknowledge | start | pause | resume | resolve | reject_not_ours"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Changed", body = TicketView),
        (status = 404, description = "Not one of your tickets, or unknown action", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in this status", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn ticket_action(
    State(state): State<AppState>,
    Operator(caller, _): Operator<AnyOperator>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<TicketActionRequest>,
) -> ApiResult<Response> {
    let action = operator_action(&action).ok_or(ApiError::NotFound)?;
    let ticket = own_ticket(&state, &caller, &id).await?;
    let version = if_match(&headers)?;
    let body = body.unwrap_or_default();
    let (note, reason) = action_texts(action, body.note.as_deref(), body.reason.as_deref())?;
    let evidence_photo = match body.evidence_photo.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(evidence_photo(&state, &caller, &ticket, raw).await?),
    };
    let extras = Extras {
        note,
        reason,
        evidence_photo,
        routing: None,
    };
    let updated = balagh_app::lifecycle::apply(
        &state,
        &ticket,
        version,
        Actor::User(caller.user.id),
        action,
        extras,
    )
    .await?;
    Ok(with_etag(operator_ticket_view(&updated, None)))
}

/// Assigns the ticket to an agent of your company (or unassigns it with null).
#[utoipa::path(post, path = "/api/v1/operator/tickets/{id}/assign", tag = "operator",
    request_body = AssignRequest,
    params(("id" = Uuid, Path, description = "Ticket id"), ("If-Match" = String, Header, description = "The ETag last read")),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Assigned", body = TicketView)))]
pub async fn assign_ticket(
    State(state): State<AppState>,
    Operator(caller, _): Operator<AnyOperator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AssignRequest>,
) -> ApiResult<Response> {
    let ticket = own_ticket(&state, &caller, &id).await?;
    let version = if_match(&headers)?;
    let updated = assign(&state, &caller, &ticket, version, body.agent_id).await?;
    Ok(with_etag(operator_ticket_view(&updated, None)))
}

/// Assigns `ticket` to `agent` (an active user of the caller's company) or unassigns it.
pub async fn assign(
    state: &AppState,
    caller: &OperatorCaller,
    ticket: &StoredReport,
    version: i64,
    agent: Option<Uuid>,
) -> ApiResult<StoredReport> {
    if let Some(agent) = agent {
        let colleague = state.store().user(agent).await?.filter(|u| {
            u.active && u.grant.scope() == &balagh_domain::account::Scope::Operator(caller.operator)
        });
        if colleague.is_none() {
            return Err(
                FieldError::new("agent_id", "must be an active user of your company").into(),
            );
        }
    }
    let mut change = ReportChange::new(ticket, Ts::now());
    change.expected_version = version;
    change.assignee = Some(agent);
    let assigned = Assigned {
        from: ticket.assignee,
        to: agent,
    };
    let event = EventData::Assigned(assigned).event(Actor::User(caller.user.id), false);
    let data = event.data.clone();
    change.events.push(event);
    Ok(balagh_app::lifecycle::commit(state, ticket, change, "ticket.updated", &data).await?)
}

/// Adds a comment: public (residents see it) or internal.
#[utoipa::path(post, path = "/api/v1/operator/tickets/{id}/comments", tag = "operator",
    request_body = CommentRequest,
    params(("id" = Uuid, Path, description = "Ticket id"), ("If-Match" = String, Header, description = "The ETag last read")),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Commented", body = TicketView)))]
pub async fn comment_ticket(
    State(state): State<AppState>,
    Operator(caller, _): Operator<AnyOperator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CommentRequest>,
) -> ApiResult<Response> {
    let ticket = own_ticket(&state, &caller, &id).await?;
    let updated = comment(&state, &ticket, &headers, Actor::User(caller.user.id), body).await?;
    Ok(with_etag(operator_ticket_view(&updated, None)))
}

/// A comment on a report, by anyone allowed to comment on it.
pub async fn comment(
    state: &AppState,
    report: &StoredReport,
    headers: &HeaderMap,
    actor: Actor,
    body: CommentRequest,
) -> ApiResult<StoredReport> {
    comment_at(state, report, if_match(headers)?, actor, body).await
}

/// A comment on a report at the version the author read.
pub async fn comment_at(
    state: &AppState,
    report: &StoredReport,
    version: i64,
    actor: Actor,
    body: CommentRequest,
) -> ApiResult<StoredReport> {
    let comment =
        balagh_app::lifecycle::comment(state, report, version, actor, &body.text, body.public);
    Ok(comment.await?)
}
