//! `[stats]` of the configuration file: what public statistics publish and when.

pub use crate::config::StatsFileConfig;
use balagh_app::stats::StatsSettings;
use balagh_domain::stats::{DifferentialPrivacy, Epsilon, PublicationPolicy};

/// The statistics settings from the file, checked by the domain.
pub fn resolve(file: &StatsFileConfig) -> Result<StatsSettings, String> {
    let defaults = StatsSettings::default();
    let default_policy = PublicationPolicy::default();
    let dp = match &file.dp_epsilon_per_release {
        None => None,
        Some(raw) => {
            let epsilon =
                Epsilon::parse(raw).map_err(|e| format!("stats.dp_epsilon_per_release: {e}"))?;
            let budget = match &file.dp_budget {
                Some(raw) => Epsilon::parse(raw).map_err(|e| format!("stats.dp_budget: {e}"))?,
                None => Epsilon::from_micros(
                    epsilon.micros().saturating_mul(4).min(Epsilon::MAX_MICROS),
                )
                .map_err(|e| format!("stats.dp_budget: {e}"))?,
            };
            Some(
                DifferentialPrivacy::new(epsilon, budget, file.dp_contribution_cap.unwrap_or(5))
                    .map_err(|e| format!("stats.{e}"))?,
            )
        }
    };
    let policy = PublicationPolicy::new(
        file.k.unwrap_or(default_policy.k_default()),
        file.k_sensitive.unwrap_or(default_policy.k_sensitive()),
        file.lag_hours.map_or(default_policy.lag(), |h| {
            time::Duration::hours(i64::from(h))
        }),
        dp,
    )
    .map_err(|e| format!("stats.{e}"))?;
    let rollup_interval = file
        .rollup_interval_seconds
        .map_or(defaults.rollup_interval, |s| {
            std::time::Duration::from_secs(s.max(1))
        });
    let records = match file.record_grid_metres {
        Some(m) => balagh_domain::publish::RecordPolicy::new(m)
            .map_err(|e| format!("stats.record_grid_metres: {}", e.message))?,
        None => defaults.records,
    };
    Ok(StatsSettings {
        policy,
        records,
        licence: file.licence.clone().unwrap_or(defaults.licence),
        licence_url: file.licence_url.clone().unwrap_or(defaults.licence_url),
        publisher: file.publisher.clone(),
        rollup_interval,
        // Figures change only when the roll-ups do.
        answer_cache: file
            .answer_cache_seconds
            .map_or(rollup_interval, std::time::Duration::from_secs),
    })
}
