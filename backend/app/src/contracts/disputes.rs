//! Disputes of SLA breaches: an operator's manager disputes a breach of one of its tickets,
//! the commune's staff accept it (the penalty is waived, the breach stays on record) or
//! reject it. One dispute per clock.

use crate::clocks;
use crate::{App, AppError, AppResult};
use balagh_domain::event::Actor;
use balagh_domain::event_data::{
    DisputeDecided, DisputeDecision as Verdict, DisputeOpened, EventData,
};
use balagh_domain::sla::Metric;
use balagh_domain::{FieldError, JurisdictionId, OperatorId};
use balagh_store::{
    Constraint, Dispute, DisputeDecision, DisputeScope, DisputeState, NewDispute, StoreError, Ts,
};
use uuid::Uuid;

/// The longest disputes list answered at once.
const LIST_LIMIT: u32 = 500;

/// Who opens a dispute: a manager of the operator.
#[derive(Debug, Clone, Copy)]
pub struct Disputant {
    pub operator: OperatorId,
    pub user: Uuid,
}

/// What a dispute is about and why.
#[derive(Debug, Clone)]
pub struct DisputeDraft<'a> {
    /// `acknowledge`, `resolve` or `on_site`.
    pub metric: &'a str,
    pub cycle: u32,
    /// Why the breach is not the operator's doing (free text, required).
    pub reason: &'a str,
}

/// Opens a dispute of a breached clock of the operator on a report. Another operator's
/// ticket, even one it held before, is not found.
pub async fn open(
    app: &App,
    by: Disputant,
    report_id: Uuid,
    draft: &DisputeDraft<'_>,
) -> AppResult<Dispute> {
    let store = app.store();
    let report = store.report(report_id).await?.ok_or(AppError::NotFound)?;
    let metric = Metric::parse(draft.metric)
        .ok_or_else(|| FieldError::new("metric", "must be acknowledge, resolve or on_site"))?;
    let reason =
        balagh_domain::report::free_text("reason", Some(draft.reason), true)?.unwrap_or_default();
    let now = Ts::now();
    let events = store.report_events(report_id).await?;
    let all = clocks::clocks_of(
        &app.catalog(),
        &report,
        &clocks::milestones(events.iter().map(|e| (e.at, e.kind, &e.data))),
        now,
    )?;
    if !all.iter().any(|c| c.operator == by.operator) && report.operator != Some(by.operator) {
        return Err(AppError::NotFound);
    }
    let clock = all
        .iter()
        .find(|c| {
            c.metric == metric && c.snapshot.cycle == draft.cycle && c.operator == by.operator
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
        report_id,
        metric,
        cycle: clock.snapshot.cycle as i32,
        operator: by.operator,
        reason: reason.clone(),
        opened_by: by.user,
        at: now,
        event: EventData::DisputeOpened(DisputeOpened {
            dispute_id,
            metric,
            cycle: draft.cycle,
            reason,
        })
        .event(Actor::User(by.user), false),
    };
    match store.open_dispute(&dispute).await {
        Err(StoreError::Conflict(Constraint::SlaDispute)) => {
            return Err(AppError::Conflict("this breach is already disputed"));
        }
        other => other?,
    }
    store.dispute(dispute_id).await?.ok_or(AppError::NotFound)
}

/// Who decides a dispute: a staff member of the commune.
#[derive(Debug, Clone, Copy)]
pub struct Decider<'a> {
    pub jurisdiction: &'a JurisdictionId,
    pub user: Uuid,
}

/// Accepts (`accept`) or rejects (`reject`) an open dispute of one of the commune's
/// operators, with an optional note.
pub async fn decide(
    app: &App,
    by: Decider<'_>,
    id: Uuid,
    decision: &str,
    note: Option<&str>,
) -> AppResult<Dispute> {
    let dispute = app.store().dispute(id).await?.ok_or(AppError::NotFound)?;
    let operator = app
        .catalog()
        .operator(OperatorId(dispute.operator_id))
        .map(|o| o.jurisdiction.clone());
    if operator.as_ref() != Some(by.jurisdiction) {
        return Err(AppError::NotFound);
    }
    let Some(verdict) = Verdict::parse(decision) else {
        return Err(FieldError::new("decision", "must be accept or reject").into());
    };
    let note = balagh_domain::report::free_text("note", note, false)?;
    let decision = DisputeDecision {
        id,
        accept: verdict.accepted(),
        note: note.clone(),
        decided_by: by.user,
        at: Ts::now(),
        event: EventData::DisputeDecided(DisputeDecided {
            dispute_id: id,
            decision: verdict,
            note,
            metric: dispute.metric,
            cycle: dispute.cycle,
        })
        .event(Actor::User(by.user), false),
    };
    app.store()
        .decide_dispute(&decision)
        .await?
        .ok_or(AppError::Conflict("this dispute is already decided"))
}

/// An operator's disputes, or those of a commune's operators, oldest first, optionally
/// in one state.
pub async fn list(
    app: &App,
    scope: &DisputeScope,
    state: Option<DisputeState>,
) -> AppResult<Vec<Dispute>> {
    Ok(app.store().disputes(scope, state, LIST_LIMIT).await?)
}
