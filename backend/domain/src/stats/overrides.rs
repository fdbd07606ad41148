//! A commune's own statistics settings: optional overrides of the deployment's thresholds,
//! lag and record grid (issue 22: one deployment may serve communes with different rules).
//! Differential privacy stays the deployment's: its ε ledger is kept per deployment.

use super::policy::PublicationPolicy;
use crate::FieldError;
use crate::publish::RecordPolicy;
use serde::{Deserialize, Serialize};
use time::Duration;

/// The `statistics` object of `jurisdiction.json`; absent fields keep the deployment's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_default: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_sensitive: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_m: Option<f64>,
}

// Grid sizes are checked finite and within 50–2000 m, so equality is total.
impl Eq for StatisticsOverrides {}

impl StatisticsOverrides {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Checks each value by the domain's rules on its own (fields named
    /// `statistics.k_default`, …); `k_sensitive` below `k_default` is refused when both
    /// are given.
    pub fn validate(&self) -> Result<(), FieldError> {
        let base = PublicationPolicy::default();
        let k = self.k_default.unwrap_or(base.k_default());
        let k_sensitive = self.k_sensitive.unwrap_or(k.max(base.k_sensitive()));
        PublicationPolicy::new(k, k_sensitive, self.lag(&base), None).map_err(|mut e| {
            if e.field == "lag" {
                e.field = "lag_hours".into();
            }
            e.within("statistics")
        })?;
        if let Some(grid) = self.grid_m {
            RecordPolicy::new(grid).map_err(|e| e.within("statistics"))?;
        }
        Ok(())
    }

    fn lag(&self, base: &PublicationPolicy) -> Duration {
        self.lag_hours
            .map_or(base.lag(), |h| Duration::hours(i64::from(h)))
    }

    /// The deployment's policy with these overrides. A sensitive threshold never falls
    /// below the default one: an override of `k_default` alone above the deployment's
    /// `k_sensitive` raises both (stricter, never looser).
    pub fn publication(&self, base: &PublicationPolicy) -> PublicationPolicy {
        let k = self.k_default.unwrap_or(base.k_default());
        let k_sensitive = self.k_sensitive.unwrap_or(base.k_sensitive()).max(k);
        PublicationPolicy::new(
            k,
            k_sensitive,
            self.lag(base),
            base.differential_privacy().cloned(),
        )
        // Overrides were validated on import; a row that no longer passes keeps the
        // deployment's policy.
        .unwrap_or_else(|_| base.clone())
    }

    /// The deployment's record policy with the grid override.
    pub fn records(&self, base: RecordPolicy) -> RecordPolicy {
        self.grid_m
            .and_then(|m| RecordPolicy::new(m).ok())
            .unwrap_or(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_what_they_give() {
        let base = PublicationPolicy::default();
        let none = StatisticsOverrides::default();
        assert!(none.is_empty());
        assert_eq!(none.publication(&base), base);
        let tabarka = StatisticsOverrides {
            k_default: Some(8),
            k_sensitive: Some(15),
            lag_hours: None,
            grid_m: Some(250.0),
        };
        let p = tabarka.publication(&base);
        assert_eq!((p.k(false), p.k(true), p.lag()), (8, 15, base.lag()));
        assert_eq!(tabarka.records(RecordPolicy::default()).grid_m(), 250.0);
        // k_default alone above the deployment's k_sensitive raises both.
        let high = StatisticsOverrides {
            k_default: Some(12),
            ..Default::default()
        };
        assert_eq!(high.publication(&base).k(true), 12);
        assert!(high.validate().is_ok());
    }

    #[test]
    fn bad_overrides_name_their_field() {
        let field = |o: StatisticsOverrides| o.validate().unwrap_err().field;
        let o = StatisticsOverrides::default();
        assert_eq!(
            field(StatisticsOverrides {
                k_default: Some(1),
                ..o
            }),
            "statistics.k_default"
        );
        assert_eq!(
            field(StatisticsOverrides {
                k_default: Some(8),
                k_sensitive: Some(6),
                ..o
            }),
            "statistics.k_sensitive"
        );
        assert_eq!(
            field(StatisticsOverrides {
                lag_hours: Some(24 * 91),
                ..o
            }),
            "statistics.lag_hours"
        );
        assert_eq!(
            field(StatisticsOverrides {
                grid_m: Some(10.0),
                ..o
            }),
            "statistics.grid_m"
        );
        assert!(
            serde_json::from_str::<StatisticsOverrides>(r#"{"k": 3}"#).is_err(),
            "unknown keys are refused"
        );
    }
}
