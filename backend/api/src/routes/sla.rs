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
use balagh_app::clocks::{self, jiff};
use balagh_domain::event::Actor;
use balagh_domain::event_data::{
    DisputeDecided, DisputeDecision as DisputeVerdict, DisputeOpened, EventData,
};
use balagh_domain::sla::{
    CalendarSpec, ClockKind, MeasuredClock, Metric, PauseReason, PenaltyRule, SlaPolicy,
    SlaPolicyId, Statement, Target, WarningThresholds, build_statement, to_timestamp,
};
use balagh_domain::{ContractId, FieldError, OperatorId};
use balagh_store::{
    Constraint, Dispute, DisputeDecision, DisputeScope, DisputeState, NewDispute, StatementScope,
    StoreError, Ts,
};
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
    let catalog = state.catalog();
    let j = catalog
        .jurisdiction(jurisdiction)
        .ok_or(ApiError::NotFound)?;
    let spec = catalog
        .sla_calendar_spec(jurisdiction)
        .cloned()
        .unwrap_or_else(CalendarSpec::moroccan_administration);
    Ok(CalendarView {
        jurisdiction_id: j.id.to_string(),
        time_zone: j.time_zone.clone(),
        calendar: spec,
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
    let time_zone = state
        .catalog()
        .jurisdiction(&staff.jurisdiction)
        .map(|j| j.time_zone.clone())
        .ok_or(ApiError::NotFound)?;
    spec.build(&time_zone)?;
    state
        .store()
        .put_sla_calendar(&staff.jurisdiction, &spec, Ts::now(), Some(staff.user.id))
        .await?;
    state.refresh_catalog().await?;
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

fn staff_contract(
    state: &AppState,
    jurisdiction: &balagh_domain::JurisdictionId,
    id: &str,
) -> ApiResult<ContractId> {
    let id = ContractId(Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?);
    state
        .catalog()
        .contract(id)
        .filter(|c| &c.jurisdiction == jurisdiction)
        .map(|c| c.id)
        .ok_or(ApiError::NotFound)
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
    let now = Ts::now();
    let versions = state.catalog().sla_policy_versions(contract).to_vec();
    let policy = SlaPolicy {
        id: versions
            .first()
            .map_or_else(|| SlaPolicyId(Uuid::now_v7()), |v| v.policy.id),
        version: versions.last().map_or(1, |v| v.policy.version + 1),
        contract,
        effective_from: body.effective_from.unwrap_or_else(|| jiff(now)),
        clock: body.clock,
        targets: body.targets,
        pause_reasons_that_stop_the_clock: body.pause_reasons_that_stop_the_clock,
        warning_thresholds: body.warning_thresholds.unwrap_or_default(),
        penalty: body.penalty,
    };
    policy.validate()?;
    match state
        .store()
        .add_sla_policy(&policy, now, Some(staff.user.id))
        .await
    {
        Err(StoreError::Conflict(Constraint::SlaPolicyVersion)) => {
            return Err(ApiError::Conflict(
                "another version of this policy was added meanwhile: read and retry",
            ));
        }
        other => other?,
    }
    state.refresh_catalog().await?;
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
    let now = Ts::now();
    if body.since < now.get() - time::Duration::days(400) {
        return Err(FieldError::new("since", "must be within the last 400 days").into());
    }
    let since = Ts::new(body.since);
    let (mut reports, mut raised, mut after) = (0, 0, None);
    loop {
        let page = state
            .store()
            .report_ids_since(&staff.jurisdiction, since, after, 500)
            .await?;
        let Some(last) = page.last().copied() else {
            break;
        };
        for id in page {
            raised += clocks::check_report(&state, id, now).await?;
            reports += 1;
        }
        after = Some(last);
    }
    Ok(Json(RecomputeResult { reports, raised }))
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
    let report = state.store().report(id).await?.ok_or(ApiError::NotFound)?;
    let metric = Metric::parse(&body.metric)
        .ok_or_else(|| FieldError::new("metric", "must be acknowledge, resolve or on_site"))?;
    let reason = crate::params::text("reason", Some(&body.reason), true)?.unwrap_or_default();
    let now = Ts::now();
    let events = state.store().report_events(id).await?;
    let all = clocks::clocks_of(
        &state.catalog(),
        &report,
        &clocks::milestones(events.iter().map(|e| (e.at, e.kind, &e.data))),
        now,
    )?;
    // Another operator's ticket, even one it held before, is not found.
    if !all.iter().any(|c| c.operator == caller.operator)
        && report.operator != Some(caller.operator)
    {
        return Err(ApiError::NotFound);
    }
    let clock = all
        .iter()
        .find(|c| {
            c.metric == metric && c.snapshot.cycle == body.cycle && c.operator == caller.operator
        })
        .filter(|c| c.snapshot.breached_at.is_some())
        .ok_or_else(|| {
            FieldError::new(
                "cycle",
                "no breached clock of yours has this metric and cycle",
            )
        })?;
    let dispute_id = Uuid::now_v7();
    let dispute = NewDispute {
        id: dispute_id,
        report_id: id,
        metric,
        cycle: clock.snapshot.cycle as i32,
        operator: caller.operator,
        reason: reason.clone(),
        opened_by: caller.user.id,
        at: now,
        event: EventData::DisputeOpened(DisputeOpened {
            dispute_id,
            metric,
            cycle: body.cycle,
            reason: reason.clone(),
        })
        .event(Actor::User(caller.user.id), false),
    };
    match state.store().open_dispute(&dispute).await {
        Err(StoreError::Conflict(Constraint::SlaDispute)) => {
            return Err(ApiError::Conflict("this breach is already disputed"));
        }
        other => other?,
    }
    let stored = state
        .store()
        .dispute(dispute_id)
        .await?
        .ok_or(ApiError::NotFound)?;
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
    let list = state
        .store()
        .disputes(&DisputeScope::Operator(caller.operator), filter, 500)
        .await?;
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
    let list = state
        .store()
        .disputes(
            &DisputeScope::Jurisdiction(staff.jurisdiction.clone()),
            filter,
            500,
        )
        .await?;
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
    let dispute = state.store().dispute(id).await?.ok_or(ApiError::NotFound)?;
    let operator = state
        .catalog()
        .operator(OperatorId(dispute.operator_id))
        .map(|o| o.jurisdiction.clone());
    if operator.as_ref() != Some(&staff.jurisdiction) {
        return Err(ApiError::NotFound);
    }
    let Some(verdict) = DisputeVerdict::parse(&body.decision) else {
        return Err(FieldError::new("decision", "must be accept or reject").into());
    };
    let accept = verdict.accepted();
    let note = crate::params::text("note", body.note.as_deref(), false)?;
    let decision = DisputeDecision {
        id,
        accept,
        note: note.clone(),
        decided_by: staff.user.id,
        at: Ts::now(),
        event: EventData::DisputeDecided(DisputeDecided {
            dispute_id: id,
            decision: verdict,
            note: note.clone(),
            metric: dispute.metric,
            cycle: dispute.cycle,
        })
        .event(Actor::User(staff.user.id), false),
    };
    let decided = state
        .store()
        .decide_dispute(&decision)
        .await?
        .ok_or(ApiError::Conflict("this dispute is already decided"))?;
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
    let catalog = state.catalog();
    let scope = match (params.contract, params.operator) {
        (Some(contract), _) => StatementScope::Contract(staff_contract(
            &state,
            &staff.jurisdiction,
            &contract.to_string(),
        )?),
        (None, Some(operator)) => {
            let record = catalog
                .operator(OperatorId(operator))
                .filter(|o| o.jurisdiction == staff.jurisdiction)
                .ok_or(ApiError::NotFound)?;
            StatementScope::Operator(record.operator.id)
        }
        (None, None) => {
            return Err(ApiError::InvalidParameter(FieldError::new(
                "operator",
                "give an operator or a contract",
            )));
        }
    };
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
    let scope = match params.contract {
        Some(contract) => {
            let held = state
                .catalog()
                .contract(ContractId(contract))
                .is_some_and(|c| c.operator == caller.operator);
            if !held {
                return Err(ApiError::NotFound);
            }
            StatementScope::Contract(ContractId(contract))
        }
        None => StatementScope::Operator(caller.operator),
    };
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
    if until <= from || until - from > time::Duration::days(366) {
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
    let built = build(state, scope, from, until).await?;
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

/// The statement of an operator or contract for reports created in `[from, until)`, as of
/// now.
pub async fn build(
    state: &AppState,
    scope: StatementScope,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> ApiResult<Statement> {
    let rows = state
        .store()
        .statement_clocks(scope, Ts::new(from), Ts::new(until))
        .await?;
    let catalog = state.catalog();
    let now = Ts::now();
    let as_of = jiff(now);
    let mut measured = Vec::with_capacity(rows.len());
    for row in rows {
        let c = &row.clock;
        let (Some(metric), Some(kind)) = (Metric::parse(&c.metric), ClockKind::parse(&c.clock))
        else {
            continue;
        };
        let contract = ContractId(c.contract_id);
        // The version the clock was measured against; the fallback policy has no penalty.
        let penalty = catalog
            .sla_policy_versions(contract)
            .iter()
            .find(|v| v.policy.version as i32 == c.policy_version)
            .map(|v| v.policy.penalty)
            .unwrap_or_default();
        let breached = c.breached_at.is_some()
            || (c.met_at.is_none()
                && c.withdrawn_at.is_none()
                && c.due_at < now
                && c.state != "paused");
        // A clock still open past its due time is late until now (or until it left the
        // operator); a met one as stored.
        let overdue = if c.met_at.is_none() && breached {
            let calendar = catalog
                .contract(contract)
                .and_then(|k| catalog.sla_calendar(&k.jurisdiction));
            let end = c.withdrawn_at.map_or(as_of, jiff);
            match calendar {
                Some(calendar) => kind.elapsed(calendar, jiff(c.due_at), end),
                None => jiff::SignedDuration::from_millis(c.overdue_ms),
            }
        } else {
            jiff::SignedDuration::from_millis(c.overdue_ms)
        };
        measured.push(MeasuredClock {
            reference: row.reference.clone(),
            service_code: row.service_code.clone(),
            contract,
            metric,
            cycle: c.cycle as u32,
            due_at: jiff(c.due_at),
            met_at: c.met_at.map(jiff),
            breached,
            elapsed: jiff::SignedDuration::from_millis(c.elapsed_ms),
            overdue,
            penalty,
            dispute: row.dispute_state.clone(),
        });
    }
    let period_end = to_timestamp(until).unwrap_or(as_of);
    Ok(build_statement(
        &measured,
        to_timestamp(from).unwrap_or(as_of),
        period_end,
        as_of,
        |contract| {
            catalog
                .sla_policy(contract, period_end)
                .and_then(|p| p.penalty.cap_per_period_minor)
        },
    ))
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
