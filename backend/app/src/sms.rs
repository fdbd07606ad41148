//! Residents who reported by SMS: the message that tells them their report's status changed
//! (the conversation itself is the HTTP crate's).

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
    }
}
