//! The SMS channel's HTTP side (issue 21): the gateways' webhooks.
//!
//! - [`inbound`]: one URL per gateway, `/sms/{kind}/{token}`, speaking each gateway's own
//!   webhook format (capcom6's SMS Gateway for Android, RapidPro/TextIt External channels,
//!   SMSSync); bad signatures and secrets are refused and logged, repeats dropped by our
//!   own key. Each accepted message goes to the conversation, a use case of the app
//!   ([`balagh_app::sms::conversation`]), which queues its answers in the outbox
//!   ([`SMS_TOPIC`](balagh_store::SMS_TOPIC)); the binary's SMS worker sends them through
//!   the gateway's send API (or queues them for SMSSync's poll).

pub mod inbound;

pub use balagh_app::sms::{ANDROID_SMS_GATEWAY, KINDS, RAPIDPRO_EXTERNAL, SMSSYNC};

/// A form body (`application/x-www-form-urlencoded`).
pub fn form(fields: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        out.append_pair(name, value);
    }
    out.finish()
}

/// The contact of a report entered for a resident, made reachable by SMS when it can be
/// (see [`balagh_app::sms::assisted_contact`]).
pub async fn assisted_contact(
    state: &crate::state::AppState,
    jurisdiction: &str,
    contact: Option<serde_json::Value>,
    language: balagh_domain::Language,
) -> crate::problem::ApiResult<Option<serde_json::Value>> {
    Ok(balagh_app::sms::assisted_contact(state, jurisdiction, contact, language).await?)
}
