//! The SMS channel (issue 21): residents without a smartphone report and follow up by SMS
//! through the gateway their commune already runs.
//!
//! - [`inbound`]: one URL per gateway, `/sms/{kind}/{token}`, speaking each gateway's own
//!   webhook format (capcom6's SMS Gateway for Android, RapidPro/TextIt External channels,
//!   SMSSync); bad signatures and secrets are refused and logged, repeats dropped by our
//!   own key.
//! - [`dialogue`]: the conversation's glue around the pure rules of
//!   [`balagh_domain::sms`]: the menu of the commune's services, place look-ups, the same
//!   intake as the app (channel `sms`), answers in the resident's language.
//! - Answers and status changes of reports made by SMS go through the outbox
//!   ([`SMS_TOPIC`](balagh_store::SMS_TOPIC)); the binary's SMS worker sends them through
//!   the gateway's send API (or queues them for SMSSync's poll).

pub mod dialogue;
pub mod inbound;
pub mod texts;

use std::time::Duration;

/// Gateway kinds, as stored and as they appear in inbound URLs.
pub const ANDROID_SMS_GATEWAY: &str = "android_sms_gateway";
pub const RAPIDPRO_EXTERNAL: &str = "rapidpro_external";
pub const SMSSYNC: &str = "smssync";
pub const KINDS: [&str; 3] = [ANDROID_SMS_GATEWAY, RAPIDPRO_EXTERNAL, SMSSYNC];

/// `[sms]`: the conversation's limits and the defaults of new gateways.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// Longest message the conversation reads (longer ones get a short help answer).
    pub max_message_chars: usize,
    /// Default of a gateway's limit of messages acted on per phone number and hour.
    pub per_number_per_hour: u32,
    /// Default of a gateway's limit of messages acted on per hour, all numbers together.
    pub per_gateway_per_hour: u32,
    /// How far a signed request's timestamp may be from now (capcom6's `X-Timestamp`).
    pub signature_tolerance: Duration,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            // Three concatenated SMS of Latin text.
            max_message_chars: 459,
            per_number_per_hour: 20,
            per_gateway_per_hour: 1000,
            signature_tolerance: Duration::from_secs(300),
        }
    }
}

/// A form body (`application/x-www-form-urlencoded`).
pub fn form(fields: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        out.append_pair(name, value);
    }
    out.finish()
}

/// The report's private contact for a report made by SMS: the number, the gateway that
/// answers it, and the conversation's language. Erased with other contacts under retention.
pub fn contact(phone: &str, gateway: uuid::Uuid, language: &str) -> serde_json::Value {
    serde_json::json!({ "phone": phone, "sms_gateway": gateway, "sms_language": language })
}
