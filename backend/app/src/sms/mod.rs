//! The SMS channel's use cases (issue 21): residents without a smartphone report and follow
//! up by SMS through the gateway their commune already runs.
//!
//! - [`conversation`]: one inbound message, from the log and the limits to the answer
//!   queued in the outbox, around the pure rules of [`balagh_domain::sms`] (the menu of the
//!   commune's services, place look-ups, the same intake as the app, channel `sms`).
//! - [`texts`]: the answers' words, in the resident's language.
//! - [`outbox`]: the status and receipt SMS written with a change or a new report.
//! - [`SmsSettings`]: the conversation's limits and the defaults of new gateways.
//!
//! The gateways' webhook formats and signatures are HTTP (`balagh-api`'s `sms::inbound`);
//! sending through their APIs is the binary's SMS worker.

pub mod conversation;
mod outbox;
mod settings;
pub mod texts;

pub use outbox::{receipt_sms, status_sms, told_by_sms};
pub use settings::SmsSettings;

use crate::{App, AppResult};

/// Gateway kinds, as stored and as they appear in inbound URLs.
pub const ANDROID_SMS_GATEWAY: &str = "android_sms_gateway";
pub const RAPIDPRO_EXTERNAL: &str = "rapidpro_external";
pub const SMSSYNC: &str = "smssync";
pub const KINDS: [&str; 3] = [ANDROID_SMS_GATEWAY, RAPIDPRO_EXTERNAL, SMSSYNC];

/// The report's private contact for a report made by SMS: the number, the gateway that
/// answers it, and the conversation's language. Erased with other contacts under retention.
pub fn contact(phone: &str, gateway: uuid::Uuid, language: &str) -> serde_json::Value {
    serde_json::json!({ "phone": phone, "sms_gateway": gateway, "sms_language": language })
}

/// A number as typed at the counter (`+212 600-00.00.00`), for a gateway: digits with an
/// optional leading `+` (`00` read as `+`), or `None` when it is not a phone number.
fn sms_number(typed: &str) -> Option<String> {
    let compact: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}'))
        .collect();
    let compact = match compact.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => compact,
    };
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    (digits.len() >= 6 && digits.len() <= 20 && digits.chars().all(|c| c.is_ascii_digit()))
        .then_some(compact)
}

/// The contact of a report entered for a resident (counter, phone), made reachable by SMS
/// when it holds a phone number and the commune has a gateway that can send: the receipt
/// and the status changes then go to that number, like a report made by SMS (STOP too).
pub async fn assisted_contact(
    app: &App,
    jurisdiction: &str,
    contact: Option<serde_json::Value>,
    language: balagh_domain::Language,
) -> AppResult<Option<serde_json::Value>> {
    let Some(mut contact) = contact else {
        return Ok(None);
    };
    let Some(number) = contact["phone"].as_str().and_then(sms_number) else {
        return Ok(Some(contact));
    };
    let gateways = app.store().sms_gateways(jurisdiction).await?;
    let Some(gateway) = gateways
        .iter()
        .find(|g| g.disabled_at.is_none() && (g.kind == SMSSYNC || g.send_url.is_some()))
    else {
        return Ok(Some(contact));
    };
    let language = match language {
        balagh_domain::Language::Ar => "ar",
        _ => "fr",
    };
    if let Some(fields) = contact.as_object_mut() {
        fields.insert("sms_phone".into(), number.into());
        fields.insert("sms_gateway".into(), gateway.id.to_string().into());
        fields.insert("sms_language".into(), language.into());
    }
    Ok(Some(contact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_numbers_are_read_as_typed_or_refused() {
        assert_eq!(
            sms_number("+212 600-00.00.31").as_deref(),
            Some("+212600000031")
        );
        assert_eq!(
            sms_number("00212 600 000 031").as_deref(),
            Some("+212600000031")
        );
        assert_eq!(sms_number("06 00 00 00 31").as_deref(), Some("0600000031"));
        assert_eq!(sms_number("fatima@example.org"), None);
        assert_eq!(sms_number("12"), None);
    }

    #[test]
    fn only_contacts_naming_a_gateway_are_told_by_sms() {
        let gateway = serde_json::json!({ "phone": "+2126", "sms_gateway": uuid::Uuid::nil() });
        assert!(told_by_sms(Some(&gateway)));
        assert!(!told_by_sms(Some(&serde_json::json!({ "phone": "+2126" }))));
        assert!(!told_by_sms(None));
    }
}
