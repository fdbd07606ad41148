//! How a ticket looks to operators' systems: the views and the webhook message written with
//! every change an operator hears of.

use balagh_domain::lifecycle::allowed_actions;
use balagh_store::{NewOutboxMessage, StoredEvent, StoredReport, Ts, WEBHOOK_TOPIC};
use balagh_wire::{TicketEventView, TicketView};
use serde_json::{Value, json};
use uuid::Uuid;

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
