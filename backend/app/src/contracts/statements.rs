//! Penalty statements: for an operator or one of its contracts over a period (reports
//! created in it), tickets, met, breached, % within SLA, median and p90 clock times, and
//! each breach with its evidence and amount, after disputes and the contract's cap.

use crate::clocks::jiff;
use crate::{App, AppError, AppResult};
use balagh_domain::sla::{
    ClockKind, MeasuredClock, Metric, Statement, build_statement, to_timestamp,
};
use balagh_domain::{ContractId, FieldError, JurisdictionId, OperatorId};
use balagh_store::{StatementClock, StatementScope, Ts};
use time::OffsetDateTime;
use uuid::Uuid;

/// The longest period a statement covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// What the commune's staff ask a statement of: one contract, or else an operator, of the
/// commune (another commune's are not found).
pub fn staff_scope(
    app: &App,
    jurisdiction: &JurisdictionId,
    contract: Option<Uuid>,
    operator: Option<Uuid>,
) -> AppResult<StatementScope> {
    match (contract, operator) {
        (Some(contract), _) => Ok(StatementScope::Contract(super::of_jurisdiction(
            app,
            jurisdiction,
            ContractId(contract),
        )?)),
        (None, Some(operator)) => app
            .catalog()
            .operator(OperatorId(operator))
            .filter(|o| &o.jurisdiction == jurisdiction)
            .map(|o| StatementScope::Operator(o.operator.id))
            .ok_or(AppError::NotFound),
        (None, None) => Err(FieldError::new("operator", "give an operator or a contract").into()),
    }
}

/// What an operator asks a statement of: one of its contracts, or all of them.
pub fn operator_scope(
    app: &App,
    operator: OperatorId,
    contract: Option<Uuid>,
) -> AppResult<StatementScope> {
    match contract {
        Some(contract) => {
            let held = app
                .catalog()
                .contract(ContractId(contract))
                .is_some_and(|c| c.operator == operator);
            if held {
                Ok(StatementScope::Contract(ContractId(contract)))
            } else {
                Err(AppError::NotFound)
            }
        }
        None => Ok(StatementScope::Operator(operator)),
    }
}

/// Whether `[from, until)` is a period a statement may cover: not empty, at most
/// [`MAX_PERIOD_DAYS`] long.
pub fn valid_period(from: OffsetDateTime, until: OffsetDateTime) -> bool {
    until > from && until - from <= time::Duration::days(MAX_PERIOD_DAYS)
}

/// The statement of an operator or contract for reports created in `[from, until)`, as of
/// now.
pub async fn build(
    app: &App,
    scope: StatementScope,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> AppResult<Statement> {
    let rows = app
        .store()
        .statement_clocks(scope, Ts::new(from), Ts::new(until))
        .await?;
    let catalog = app.catalog();
    let now = Ts::now();
    let as_of = jiff(now);
    let measured: Vec<MeasuredClock> = rows
        .iter()
        .filter_map(|row| measure(&catalog, row, now))
        .collect();
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

/// One stored clock as the statement counts it (`None`: a metric or clock kind this
/// version does not know).
fn measure(catalog: &crate::Catalog, row: &StatementClock, now: Ts) -> Option<MeasuredClock> {
    let c = &row.clock;
    let (metric, kind) = (Metric::parse(&c.metric)?, ClockKind::parse(&c.clock)?);
    let contract = ContractId(c.contract_id);
    let as_of = jiff(now);
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
    Some(MeasuredClock {
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
    })
}
