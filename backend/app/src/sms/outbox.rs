//! The SMS written to the outbox with a change or a new report: the status change of a
//! report made by SMS, the receipt of one entered at the counter.

use balagh_domain::ReportStatus;
use balagh_store::{NewOutboxMessage, SMS_TOPIC, Ts};
use serde_json::json;
use uuid::Uuid;

/// The outbox message of a public status change of a report made by SMS, written with the
/// change (the SMS worker finds the number and the gateway in the report's contact).
pub fn status_sms(report_id: Uuid, status: ReportStatus, at: Ts) -> NewOutboxMessage {
    NewOutboxMessage {
        id: Uuid::now_v7(),
        topic: SMS_TOPIC,
        operator: None,
        event_type: "sms.report_status".into(),
        payload: json!({
            "kind": "report_status",
            "report_id": report_id,
            "status": status.as_str(),
        }),
        created_at: at,
        jurisdiction: None,
    }
}

/// Whether a report's resident hears of it by SMS: its private contact names a gateway
/// (reports made by SMS, and those entered at the counter with a phone number while a
/// gateway is connected).
pub fn told_by_sms(contact: Option<&serde_json::Value>) -> bool {
    contact.is_some_and(|c| c["sms_gateway"].is_string())
}

/// The receipt SMS of a report entered at the counter for a resident told by SMS, written
/// with the report. Reports made by SMS get theirs as the conversation's answer.
pub fn receipt_sms(report: &balagh_store::NewReport) -> Option<NewOutboxMessage> {
    (report.channel != balagh_domain::Channel::Sms && told_by_sms(report.contact.as_ref())).then(
        || NewOutboxMessage {
            id: Uuid::now_v7(),
            topic: SMS_TOPIC,
            operator: None,
            event_type: "sms.receipt".into(),
            payload: json!({ "kind": "receipt", "report_id": report.id }),
            created_at: report.created_at,
            jurisdiction: None,
        },
    )
}
