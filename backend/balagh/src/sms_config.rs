//! `[sms]` of the configuration file: the SMS conversation's limits and the defaults of new
//! gateways.

use crate::config::SmsFileConfig;
use std::time::Duration;

/// The SMS settings from the file.
pub fn resolve(file: &SmsFileConfig) -> Result<balagh_app::sms::SmsSettings, String> {
    let defaults = balagh_app::sms::SmsSettings::default();
    let bounded = |name: &str, v: Option<u32>, default: u32, max: u32| match v {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(format!("sms.{name}: between 1 and {max}")),
    };
    Ok(balagh_app::sms::SmsSettings {
        max_message_chars: bounded(
            "max_message_chars",
            file.max_message_chars,
            u32::try_from(defaults.max_message_chars).unwrap_or(u32::MAX),
            4000,
        )? as usize,
        per_number_per_hour: bounded(
            "per_number_per_hour",
            file.per_number_per_hour,
            defaults.per_number_per_hour,
            100_000,
        )?,
        per_gateway_per_hour: bounded(
            "per_gateway_per_hour",
            file.per_gateway_per_hour,
            defaults.per_gateway_per_hour,
            100_000,
        )?,
        signature_tolerance: Duration::from_secs(
            bounded(
                "signature_tolerance_seconds",
                file.signature_tolerance_seconds,
                u32::try_from(defaults.signature_tolerance.as_secs()).unwrap_or(300),
                86_400,
            )?
            .into(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let settings = resolve(&SmsFileConfig::default()).unwrap();
        assert_eq!(settings.per_number_per_hour, 20);
        let file = SmsFileConfig {
            per_number_per_hour: Some(0),
            ..SmsFileConfig::default()
        };
        assert!(
            resolve(&file)
                .unwrap_err()
                .contains("sms.per_number_per_hour")
        );
    }
}
