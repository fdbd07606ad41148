//! Applying lifecycle actions to reports: one place for the rules shared by the operator,
//! staff and resident endpoints (transition, version check, history, webhooks).

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::{HeaderMap, header};
use balagh_domain::event::Actor;
use balagh_domain::event_data::{EventData, Routed, StatusChanged};
use balagh_domain::lifecycle::{Action, allowed_actions, transition};
use balagh_domain::{EventKind, ReportStatus};
use balagh_store::{
    ChangeOutcome, NewOutboxMessage, ReportChange, StoredEvent, StoredReport, Ts, WEBHOOK_TOPIC,
};
use balagh_wire::{TicketEventView, TicketView};
use serde_json::{Value, json};
use uuid::Uuid;

/// The ETag of a report version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version named by `If-Match`: required on every change (428 without it).
pub fn if_match(headers: &HeaderMap) -> ApiResult<i64> {
    let raw = headers
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .unwrap_or("");
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map_err(|_| ApiError::PreconditionFailed {
            current_etag: String::new(),
        })
}

pub fn ticket_view(report: &StoredReport, history: Option<&[StoredEvent]>) -> TicketView {
    TicketView {
        id: report.id,
        reference: report.reference.as_str().to_owned(),
        service_code: report.service_code.to_string(),
        status: report.status.as_str().to_owned(),
        priority: report.priority.as_str().to_owned(),
        operator_id: report.operator.map(|o| o.0),
        contract_id: report.contract.map(|c| c.0),
        assignee_id: report.assignee,
        lat: report.point.lat(),
        lon: report.point.lon(),
        description: (!report.description_hidden).then(|| report.description.clone()),
        attributes: report.attributes.clone(),
        channel: report.channel.as_str().to_owned(),
        supporters: report.supporters,
        duplicate_of: report.duplicate_of,
        created_at: report.created_at.get(),
        due_at: report.due_at.map(Ts::get),
        resolved_at: report.resolved_at.map(Ts::get),
        version: report.version,
        allowed_actions: allowed_actions(report.status)
            .into_iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        history: history.map(|events| events.iter().map(event_view).collect()),
        photos: None,
        clocks: None,
    }
}

pub fn event_view(e: &StoredEvent) -> TicketEventView {
    TicketEventView {
        kind: e.kind.as_str().to_owned(),
        actor: e.actor.to_stored(),
        public: e.public,
        at: e.at.get(),
        data: e.data.clone(),
    }
}

/// The ticket as its operator sees it: only the actions an operator can perform are offered
/// (the others answer 404 to operators).
pub fn operator_ticket_view(report: &StoredReport, history: Option<&[StoredEvent]>) -> TicketView {
    TicketView {
        allowed_actions: balagh_domain::lifecycle::allowed_operator_actions(report.status)
            .into_iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        ..ticket_view(report, history)
    }
}

/// A webhook message for the report's operator, in the Standard Webhooks payload shape.
pub fn webhook(
    report: &StoredReport,
    event_type: &str,
    event: &Value,
    at: Ts,
) -> Option<NewOutboxMessage> {
    let operator = report.operator?;
    let mut ticket = serde_json::to_value(operator_ticket_view(report, None)).ok()?;
    // Operators' systems get the ticket as it is after the change, and what changed.
    ticket["event"] = event.clone();
    Some(NewOutboxMessage {
        jurisdiction: None,
        id: Uuid::now_v7(),
        topic: WEBHOOK_TOPIC,
        operator: Some(operator),
        event_type: event_type.to_owned(),
        payload: json!({
            "type": event_type,
            "timestamp": at.get().format(&time::format_description::well_known::Rfc3339).ok(),
            "data": ticket,
        }),
        created_at: at,
    })
}

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
    state: &AppState,
    report: &StoredReport,
    expected_version: i64,
    actor: Actor,
    action: Action,
    extras: Extras,
) -> ApiResult<StoredReport> {
    let to = transition(report.status, action).map_err(|e| ApiError::IllegalTransition {
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
    commit(state, report, change, event_type, &data).await
}

/// Stores a change and, once it is known how the report looks after it, its webhook.
pub async fn commit(
    state: &AppState,
    before: &StoredReport,
    mut change: ReportChange,
    event_type: &str,
    event: &Value,
) -> ApiResult<StoredReport> {
    crate::sla::recompute_for_change(state, before, &mut change).await?;
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
    match state.store().change_report(&change).await? {
        ChangeOutcome::Applied(report) => Ok(report),
        ChangeOutcome::VersionMismatch(current) => Err(ApiError::PreconditionFailed {
            current_etag: etag(current.version),
        }),
        ChangeOutcome::NotFound => Err(ApiError::NotFound),
    }
}

/// Who is told of a report's public status change, written with the change: its followers
/// by push, and its resident by SMS when the report's contact names a gateway.
pub fn status_messages(after: &StoredReport, at: Ts) -> Vec<NewOutboxMessage> {
    let mut messages = vec![crate::push::status_fanout(after, at)];
    if crate::sms::told_by_sms(after.contact.as_ref()) {
        messages.push(crate::sms::dialogue::status_sms(after.id, after.status, at));
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

/// Checks a free-text field (note, reason, comment): the domain's [`free_text`] rule.
///
/// [`free_text`]: balagh_domain::report::free_text
pub fn text(field: &str, value: Option<&str>, required: bool) -> ApiResult<Option<String>> {
    Ok(balagh_domain::report::free_text(field, value, required)?)
}

/// A comma-separated `status` parameter (empty: no filter).
pub fn parse_statuses(raw: Option<&str>) -> ApiResult<Vec<ReportStatus>> {
    raw.filter(|s| !s.is_empty())
        .map(|list| {
            list.split(',')
                .map(|s| {
                    ReportStatus::parse(s.trim()).ok_or_else(|| {
                        ApiError::InvalidParameter(balagh_domain::FieldError::new(
                            "status",
                            format!("unknown status '{s}'"),
                        ))
                    })
                })
                .collect()
        })
        .unwrap_or_else(|| Ok(Vec::new()))
}
