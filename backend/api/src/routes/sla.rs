//! SLA management: calendars and policy versions (staff), disputes of breaches (operators
//! open, staff decide), penalty statements (JSON or CSV), clock replay after a calendar
//! correction, and the in-app notifications escalations land in.

use crate::auth::principal::{
    AnyOperator, AnyStaff, Operator, OperatorManager, SignedIn, Staff, StaffAdmin, StaffWriter,
};
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_app::contracts::{self, disputes, policies, statements};
use balagh_domain::sla::{
    CalendarSpec, ClockKind, PauseReason, PenaltyRule, SlaPolicy, Target, WarningThresholds,
};
use balagh_domain::{ContractId, FieldError};
use balagh_store::{Dispute, DisputeScope, DisputeState, StatementScope, Ts};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// A jurisdiction's business calendar.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CalendarView {
    pub jurisdiction_id: String,
    /// IANA time zone of the jurisdiction (Africa/Casablanca's Ramadan changes included).
    pub time_zone: String,
    /// Weekly hours, holidays, movable religious holidays and one-off overrides.
    #[schema(value_type = Object)]
    pub calendar: CalendarSpec,
}

fn calendar_view(
    state: &AppState,
    jurisdiction: &balagh_domain::JurisdictionId,
) -> ApiResult<CalendarView> {
    let (time_zone, calendar) =
        policies::calendar(state, jurisdiction).ok_or(ApiError::NotFound)?;
    Ok(CalendarView {
        jurisdiction_id: jurisdiction.to_string(),
        time_zone,
        calendar,
    })
}

/// Your commune's business calendar (the default one, Moroccan administration hours and
/// fixed national holidays, until an admin sets it).
#[utoipa::path(get, path = "/api/v1/staff/sla/calendar", tag = "sla",
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Calendar", body = CalendarView)))]
pub async fn get_calendar(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
) -> ApiResult<Json<CalendarView>> {
    Ok(Json(calendar_view(&state, &staff.jurisdiction)?))
}

/// Replaces your commune's business calendar. Clocks of existing reports keep their stored
/// figures until replayed (`POST /api/v1/staff/sla/recompute`).
#[utoipa::path(put, path = "/api/v1/staff/sla/calendar", tag = "sla",
    request_body = super::request_schemas::CalendarRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Stored", body = CalendarView),
        (status = 422, description = "Invalid calendar", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_calendar(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    ApiJson(spec): ApiJson<CalendarSpec>,
) -> ApiResult<Json<CalendarView>> {
    policies::put_calendar(&state, &staff.jurisdiction, &spec, staff.user.id).await?;
    Ok(Json(calendar_view(&state, &staff.jurisdiction)?))
}

/// A new version of a contract's SLA policy.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    /// When the version starts to apply to new reports (default: now). Reports created
    /// before keep the version they were created under.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub effective_from: Option<jiff::Timestamp>,
    /// `always` (24/7) or `business_hours`.
    #[schema(value_type = String)]
    pub clock: ClockKind,
    /// `{metric, service_code?, priority?, duration}`; durations like `PT4H` or `4h 30m`.
    #[schema(value_type = Vec<Object>)]
    pub targets: Vec<Target>,
    #[schema(value_type = Vec<String>)]
    pub pause_reasons_that_stop_the_clock: Vec<PauseReason>,
    /// Percent of the target at which to warn (default 50, 75, 90).
    #[schema(value_type = Option<Vec<u8>>)]
    pub warning_thresholds: Option<WarningThresholds>,
    /// `{per_breach_minor, per_started_hour_late_minor, cap_per_period_minor}` in centimes.
    #[schema(value_type = Object)]
    pub penalty: PenaltyRule,
}

impl PolicyRequest {
    pub fn into_draft(self) -> policies::PolicyDraft {
        policies::PolicyDraft {
            effective_from: self.effective_from,
            clock: self.clock,
            targets: self.targets,
            pause_reasons_that_stop_the_clock: self.pause_reasons_that_stop_the_clock,
            warning_thresholds: self.warning_thresholds,
            penalty: self.penalty,
        }
    }
}

/// One version of a policy.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    #[schema(value_type = Object)]
    pub policy: SlaPolicy,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub created_by: Option<Uuid>,
}

/// A contract of the staff member's commune, by its id in a path.
pub(crate) fn staff_contract(
    state: &AppState,
    jurisdiction: &balagh_domain::JurisdictionId,
    id: &str,
) -> ApiResult<ContractId> {
    let id = ContractId(Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?);
    Ok(contracts::of_jurisdiction(state, jurisdiction, id)?)
}

fn policy_views(state: &AppState, contract: ContractId) -> Vec<PolicyView> {
    state
        .catalog()
        .sla_policy_versions(contract)
        .iter()
        .map(|p| PolicyView {
            policy: p.policy.clone(),
            created_at: p.created_at.get(),
            created_by: p.created_by,
        })
        .collect()
}

/// Every version of a contract's SLA policy, oldest first (empty: the contract is measured
/// against the fallback targets, acknowledge 24 h and resolve 72 h around the clock, no
/// penalty).
#[utoipa::path(get, path = "/api/v1/staff/contracts/{id}/sla-policies", tag = "sla",
    params(("id" = Uuid, Path, description = "Contract")),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Versions", body = [PolicyView])))]
pub async fn list_policies(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<PolicyView>>> {
    let contract = staff_contract(&state, &staff.jurisdiction, &id)?;
    Ok(Json(policy_views(&state, contract)))
}

/// Adds a version of a contract's SLA policy (versions are never changed or removed).
#[utoipa::path(post, path = "/api/v1/staff/contracts/{id}/sla-policies", tag = "sla",
    params(("id" = Uuid, Path, description = "Contract")),
    request_body = PolicyRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created", body = PolicyView),
        (status = 409, description = "Another version was added meanwhile", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid policy", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_policy(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PolicyRequest>,
) -> ApiResult<Response> {
    let contract = staff_contract(&state, &staff.jurisdiction, &id)?;
    let draft = body.into_draft();
    let (policy, now) = policies::add_policy(&state, contract, draft, staff.user.id).await?;
    let view = PolicyView {
        policy,
        created_at: now.get(),
        created_by: Some(staff.user.id),
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecomputeRequest {
    /// Replay the clocks of reports created since then (at most 400 days back).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecomputeResult {
    pub reports: usize,
    /// Warnings and breaches the replay revealed and raised.
    pub raised: usize,
}

/// Replays the clocks of your commune's reports created since a date, from their
/// histories, with the current calendar (after a holiday entered late, an override…).
#[utoipa::path(post, path = "/api/v1/staff/sla/recompute", tag = "sla",
    request_body = RecomputeRequest,
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Replayed", body = RecomputeResult)))]
pub async fn recompute(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    ApiJson(body): ApiJson<RecomputeRequest>,
) -> ApiResult<Json<RecomputeResult>> {
    let replayed = policies::recompute(&state, &staff.jurisdiction, Ts::new(body.since)).await?;
    Ok(Json(RecomputeResult {
        reports: replayed.reports,
        raised: replayed.raised,
    }))
}

/// A breach an operator disputes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    /// `acknowledge`, `resolve` or `on_site`.
    pub metric: String,
    pub cycle: u32,
    /// Why the breach is not the operator's doing (1 to 4000 characters).
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisputeView {
    pub id: Uuid,
    pub report_id: Uuid,
    pub metric: String,
    pub cycle: i32,
    pub operator_id: Uuid,
    pub reason: String,
    pub opened_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: OffsetDateTime,
    /// `open`, `accepted` or `rejected`.
    pub state: String,
    pub decided_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<OffsetDateTime>,
    pub decision_note: Option<String>,
}

impl From<Dispute> for DisputeView {
    fn from(d: Dispute) -> Self {
        Self {
            id: d.id,
            report_id: d.report_id,
            metric: d.metric.as_str().to_owned(),
            cycle: d.cycle,
            operator_id: d.operator_id,
            reason: d.reason,
            opened_by: d.opened_by,
            opened_at: d.opened_at.get(),
            state: d.state.as_str().to_owned(),
            decided_by: d.decided_by,
            decided_at: d.decided_at.map(Ts::get),
            decision_note: d.decision_note,
        }
    }
}

/// Disputes a breach of one of your tickets: staff accept (the penalty is waived, the
/// breach stays on record) or reject it. One dispute per clock.
#[utoipa::path(post, path = "/api/v1/operator/tickets/{id}/disputes", tag = "sla",
    params(("id" = Uuid, Path, description = "Ticket (report) id")),
    request_body = DisputeRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Opened", body = DisputeView),
        (status = 404, description = "Not your ticket", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already disputed", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such breached clock", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_dispute(
    State(state): State<AppState>,
    Operator(caller, _): Operator<OperatorManager>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DisputeRequest>,
) -> ApiResult<Response> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let by = disputes::Disputant {
        operator: caller.operator,
        user: caller.user.id,
    };
    let draft = disputes::DisputeDraft {
        metric: &body.metric,
        cycle: body.cycle,
        reason: &body.reason,
    };
    let stored = disputes::open(&state, by, id, &draft).await?;
    Ok((StatusCode::CREATED, Json(DisputeView::from(stored))).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisputeParams {
    /// `open`, `accepted` or `rejected` (default: all).
    pub state: Option<String>,
}

fn dispute_state(raw: Option<&str>) -> ApiResult<Option<DisputeState>> {
    raw.filter(|s| !s.is_empty())
        .map(|s| {
            DisputeState::parse(s).ok_or_else(|| {
                ApiError::InvalidParameter(FieldError::new(
                    "state",
                    "must be open, accepted or rejected",
                ))
            })
        })
        .transpose()
}

/// Your company's disputes.
#[utoipa::path(get, path = "/api/v1/operator/disputes", tag = "sla",
    params(DisputeParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Disputes", body = [DisputeView])))]
pub async fn operator_disputes(
    State(state): State<AppState>,
    Operator(caller, _): Operator<AnyOperator>,
    ApiQuery(params): ApiQuery<DisputeParams>,
) -> ApiResult<Json<Vec<DisputeView>>> {
    let filter = dispute_state(params.state.as_deref())?;
    let scope = DisputeScope::Operator(caller.operator);
    let list = disputes::list(&state, &scope, filter).await?;
    Ok(Json(list.into_iter().map(DisputeView::from).collect()))
}

/// Disputes of your commune's operators, oldest first.
#[utoipa::path(get, path = "/api/v1/staff/disputes", tag = "sla",
    params(DisputeParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Disputes", body = [DisputeView])))]
pub async fn staff_disputes(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
    ApiQuery(params): ApiQuery<DisputeParams>,
) -> ApiResult<Json<Vec<DisputeView>>> {
    let filter = dispute_state(params.state.as_deref())?;
    let scope = DisputeScope::Jurisdiction(staff.jurisdiction.clone());
    let list = disputes::list(&state, &scope, filter).await?;
    Ok(Json(list.into_iter().map(DisputeView::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `accept` (the penalty is waived) or `reject`.
    pub decision: String,
    pub note: Option<String>,
}

/// Accepts or rejects an open dispute.
#[utoipa::path(post, path = "/api/v1/staff/disputes/{id}/decision", tag = "sla",
    params(("id" = Uuid, Path, description = "Dispute")),
    request_body = DecisionRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Decided", body = DisputeView),
        (status = 409, description = "Already decided", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide_dispute(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffWriter>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> ApiResult<Json<DisputeView>> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let by = disputes::Decider {
        jurisdiction: &staff.jurisdiction,
        user: staff.user.id,
    };
    let decided = disputes::decide(&state, by, id, &body.decision, body.note.as_deref()).await?;
    Ok(Json(DisputeView::from(decided)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// An operator (staff only; operators get their own).
    pub operator: Option<Uuid>,
    /// One contract instead of the whole operator.
    pub contract: Option<Uuid>,
    /// Start of the period (RFC 3339), inclusive: reports created from then.
    pub from: String,
    /// End of the period (RFC 3339), exclusive; at most 366 days after `from`.
    pub until: String,
    /// `json` (default) or `csv` (the penalty lines, then the totals).
    pub format: Option<String>,
}

/// A penalty statement for an operator or one of its contracts over a period (reports
/// created in it): tickets, met, breached, % within SLA, median and p90 clock time to
/// acknowledge and resolve, and each breach with its evidence and amount, after disputes
/// and the contract's cap.
#[utoipa::path(get, path = "/api/v1/staff/sla/statement", tag = "sla",
    params(StatementParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Statement (JSON or text/csv)", body = Object)))]
pub async fn staff_statement(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
    ApiQuery(params): ApiQuery<StatementParams>,
) -> ApiResult<Response> {
    let scope = statements::staff_scope(
        &state,
        &staff.jurisdiction,
        params.contract,
        params.operator,
    )
    .map_err(query_error)?;
    statement(&state, scope, &params).await
}

/// Your company's penalty statement (see the staff one), for all your contracts or one.
#[utoipa::path(get, path = "/api/v1/operator/sla/statement", tag = "sla",
    params(StatementParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Statement (JSON or text/csv)", body = Object)))]
pub async fn operator_statement(
    State(state): State<AppState>,
    Operator(caller, _): Operator<AnyOperator>,
    ApiQuery(params): ApiQuery<StatementParams>,
) -> ApiResult<Response> {
    let scope = statements::operator_scope(&state, caller.operator, params.contract)?;
    statement(&state, scope, &params).await
}

fn period_bound(field: &str, raw: &str) -> ApiResult<OffsetDateTime> {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).map_err(|_| {
        ApiError::InvalidParameter(FieldError::new(field, "must be an RFC 3339 date-time"))
    })
}

async fn statement(
    state: &AppState,
    scope: StatementScope,
    params: &StatementParams,
) -> ApiResult<Response> {
    let from = period_bound("from", &params.from)?;
    let until = period_bound("until", &params.until)?;
    if !statements::valid_period(from, until) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "until",
            "must be after from, at most 366 days later",
        )));
    }
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::InvalidParameter(FieldError::new(
                "format",
                "must be json or csv",
            )));
        }
    };
    let currency = super::statement_csv::currency_of(&state.catalog(), scope);
    let built = statements::build(state, scope, from, until).await?;
    if csv {
        let body = super::statement_csv::statement_csv(&built, &state.catalog(), &currency);
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"statement.csv\"",
                ),
            ],
            body,
        )
            .into_response())
    } else {
        // Amounts are in the minor unit of the commune's currency, given beside them.
        let mut body =
            serde_json::to_value(&built).map_err(|e| ApiError::Internal(e.to_string()))?;
        body["currency"] = serde_json::json!(currency);
        Ok(Json(body).into_response())
    }
}

/// A statement's scope refused as a query parameter is the query's fault (400), as the
/// period's and the format's are.
fn query_error(error: balagh_app::AppError) -> ApiError {
    match error {
        balagh_app::AppError::Validation(mut errors) if errors.len() == 1 => {
            ApiError::InvalidParameter(errors.remove(0))
        }
        other => other.into(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// `ticket.sla_warning` or `ticket.sla_breached`.
    pub event_type: String,
    pub report_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub payload: Value,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// Your escalations: SLA warnings and breaches of your company's tickets (operator
/// managers) or your commune's (staff admins and agents), newest first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "accounts",
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Notifications", body = [NotificationView])))]
pub async fn my_notifications(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> ApiResult<Json<Vec<NotificationView>>> {
    let list = state.store().notifications(user.id, 200).await?;
    Ok(Json(
        list.into_iter()
            .map(|n| NotificationView {
                id: n.id,
                event_type: n.event_type,
                report_id: n.report_id,
                payload: n.payload.0,
                created_at: n.created_at.get(),
            })
            .collect(),
    ))
}
