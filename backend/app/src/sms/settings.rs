//! `[sms]`: the conversation's limits and the defaults of new gateways.

use std::time::Duration;

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
