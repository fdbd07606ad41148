//! `[outbound]` and `[devices]` of the configuration file: where Balagh may send requests
//! to URLs others chose, and what keeps device registration from multiplying budgets.

use crate::config::{DevicesFileConfig, OutboundFileConfig};

/// The outbound policy from the file.
pub fn outbound(file: &OutboundFileConfig) -> Result<balagh_outbound::PolicyResolver, String> {
    let allowed = file
        .allowed_hosts
        .iter()
        .flatten()
        .map(|entry| {
            balagh_outbound::Allowed::parse(entry)
                .map_err(|e| format!("outbound.allowed_hosts: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let policy = balagh_outbound::OutboundPolicy {
        allow_loopback_http: file.allow_loopback_http.unwrap_or(false),
        allowed,
    };
    Ok(balagh_outbound::PolicyResolver::system(
        std::sync::Arc::new(policy),
    ))
}

/// The device limits from the file (`balagh serve` defaults otherwise).
pub fn devices(file: &DevicesFileConfig) -> Result<balagh_api::abuse::DeviceLimits, String> {
    let defaults = balagh_api::abuse::DeviceLimits::recommended();
    let bits = file
        .proof_of_work_bits
        .unwrap_or(defaults.proof_of_work_bits);
    if bits > 32 {
        return Err(
            "devices.proof_of_work_bits: at most 32 (each bit doubles a phone's work)".into(),
        );
    }
    Ok(balagh_api::abuse::DeviceLimits {
        new_devices_per_address_per_hour: file
            .new_per_address_per_hour
            .unwrap_or(defaults.new_devices_per_address_per_hour),
        supports_per_address_per_report: file
            .supports_per_address_per_report
            .unwrap_or(defaults.supports_per_address_per_report),
        proof_of_work_bits: bits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_cannot_open_this_machine() {
        let file = |entries: &[&str]| OutboundFileConfig {
            allow_loopback_http: None,
            allowed_hosts: Some(entries.iter().map(|e| (*e).to_owned()).collect()),
        };
        assert!(outbound(&file(&["10.20.0.0/16", "hooks.commune.internal"])).is_ok());
        for bad in ["127.0.0.0/8", "169.254.169.254", "0.0.0.0/0", "not a host!"] {
            let error = outbound(&file(&[bad])).unwrap_err();
            assert!(
                error.starts_with("outbound.allowed_hosts"),
                "{bad}: {error}"
            );
        }
        let default = outbound(&OutboundFileConfig::default()).unwrap();
        assert!(!default.policy().allow_loopback_http);
    }

    #[test]
    fn device_limits_default_on_and_proofs_stay_affordable() {
        let limits = devices(&DevicesFileConfig::default()).unwrap();
        assert_eq!(limits, balagh_api::abuse::DeviceLimits::recommended());
        assert!(limits.new_devices_per_address_per_hour > 0);
        let too_hard = DevicesFileConfig {
            proof_of_work_bits: Some(33),
            ..DevicesFileConfig::default()
        };
        assert!(devices(&too_hard).is_err());
    }
}
