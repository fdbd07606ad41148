//! Applying lifecycle actions to reports: one place for the rules shared by the operator,
//! staff and resident endpoints (transition, version check, history, webhooks).

use crate::clocks::recompute_for_change;
use crate::tickets::webhook;
use crate::{App, AppError, AppResult};
use balagh_domain::EventKind;
use balagh_domain::event::Actor;
use balagh_domain::event_data::{EventData, Routed, StatusChanged};
use balagh_domain::lifecycle::{Action, transition};
use balagh_store::{ChangeOutcome, ReportChange, StoredReport, Ts};
use serde_json::Value;

/// What a status change also sets, besides the status.
#[derive(Debug, Default)]
pub struct Extras {
    pub note: Option<String>,
    pub reason: Option<String>,
    pub evidence_photo: Option<String>,
    pub routing: Option<(balagh_domain::OperatorId, balagh_domain::ContractId)>,
}

/// Applies `action` to `report` as `actor`, checking the transition and the version.
pub async fn apply(
    app: &App,
    report: &StoredReport,
    expected_version: i64,
    actor: Actor,
    action: Action,
    extras: Extras,
) -> AppResult<StoredReport> {
    let to = transition(report.status, action).map_err(|e| AppError::IllegalTransition {
        message: e.to_string(),
        allowed: e.allowed.iter().map(|a| a.as_str().to_owned()).collect(),
    })?;
    let now = Ts::now();
    let mut change = ReportChange::new(report, now);
    change.expected_version = expected_version;
    change.status = Some(to);
    // The due time follows from the SLA clocks, recomputed in `commit`.
    match action {
        Action::Resolve => change.resolved_at = Some(Some(now)),
        Action::Reopen => change.resolved_at = Some(None),
        Action::Route => {
            change.operator = Some(extras.routing);
            change.assignee = Some(None);
        }
        _ => {}
    }
    let mut changed = StatusChanged::new(action, report.status, to);
    changed.note = extras.note;
    changed.reason = extras.reason;
    changed.evidence_photo = extras.evidence_photo;
    changed.routing = extras.routing.map(|(operator_id, contract_id)| Routed {
        operator_id,
        contract_id,
    });
    // Why an operator gave a ticket back is between the operator and the commune.
    let event = EventData::StatusChanged(changed).event(actor, action != Action::RejectNotOurs);
    let data = event.data.clone();
    change.events.push(event);
    let event_type = match action {
        Action::Reopen => "ticket.reopened",
        Action::Route => "ticket.created",
        _ => "ticket.updated",
    };
    commit(app, report, change, event_type, &data).await
}

/// Stores a change and, once it is known how the report looks after it, its webhook.
pub async fn commit(
    app: &App,
    before: &StoredReport,
    mut change: ReportChange,
    event_type: &str,
    event: &Value,
) -> AppResult<StoredReport> {
    recompute_for_change(app, before, &mut change).await?;
    let after = after(before, &change);
    // The webhook, written in the same transaction, carries the ticket after the change.
    if let Some(message) = webhook(&after, event_type, event, change.at) {
        change.outbox.push(message);
    }
    // Followers hear of public status changes (the push fan-out is queued with the change).
    let public_status_change = change
        .events
        .iter()
        .any(|e| e.kind == EventKind::StatusChanged && e.public);
    if public_status_change && after.status != before.status {
        change.outbox.extend(status_messages(&after, change.at));
    }
    match app.store().change_report(&change).await? {
        ChangeOutcome::Applied(report) => Ok(report),
        ChangeOutcome::VersionMismatch(current) => Err(AppError::VersionMismatch {
            current: current.version,
        }),
        ChangeOutcome::NotFound => Err(AppError::NotFound),
    }
}

/// Who is told of a report's public status change, written with the change: its followers
/// by push, and its resident by SMS when the report's contact names a gateway.
pub fn status_messages(after: &StoredReport, at: Ts) -> Vec<balagh_store::NewOutboxMessage> {
    let mut messages = vec![crate::notify::status_fanout(after, at)];
    if crate::sms::told_by_sms(after.contact.as_ref()) {
        messages.push(crate::sms::status_sms(after.id, after.status, at));
    }
    messages
}

/// The report as it will be after `change` (if the change applies at all).
fn after(before: &StoredReport, change: &ReportChange) -> StoredReport {
    let mut report = before.clone();
    if let Some(status) = change.status {
        report.status = status;
    }
    if let Some(routing) = change.operator {
        report.operator = routing.map(|(o, _)| o);
        report.contract = routing.map(|(_, c)| c);
    }
    if let Some(assignee) = change.assignee {
        report.assignee = assignee;
    }
    if let Some(due) = change.due_at {
        report.due_at = due;
    }
    if let Some(resolved) = change.resolved_at {
        report.resolved_at = resolved;
    }
    if let Some(hidden) = change.description_hidden {
        report.description_hidden = hidden;
    }
    if let Some(approved) = change.description_approved {
        report.description_approved = approved;
    }
    if let Some(priority) = change.priority {
        report.priority = priority;
    }
    report.version = change.expected_version + 1;
    report.updated_at = change.at;
    report
}

/// A comment on a report at the version its author read, public (residents see it) or
/// internal; by staff or operator alike.
pub async fn comment(
    app: &App,
    report: &StoredReport,
    version: i64,
    actor: Actor,
    text: &str,
    public: bool,
) -> AppResult<StoredReport> {
    let text = balagh_domain::report::free_text("text", Some(text), true)?.unwrap_or_default();
    let mut change = ReportChange::new(report, Ts::now());
    change.expected_version = version;
    let event = EventData::Comment(balagh_domain::event_data::Comment { text, public })
        .event(actor, public);
    let data = event.data.clone();
    change.events.push(event);
    commit(app, report, change, "ticket.updated", &data).await
}
