//! SLA policies: the targets, clock rules and penalties a contract sets, by version.

use super::calendar::ClockKind;
use super::clock::ClockRules;
pub use super::terms::{Metric, PauseReason, WarningThresholds};
use crate::{ContractId, FieldError, Priority, ServiceCode};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identifies a policy across its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SlaPolicyId(pub Uuid);

/// One target: how long the operator has for `metric`, for a service and/or a priority
/// (`None` = any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub metric: Metric,
    pub service_code: Option<ServiceCode>,
    pub priority: Option<Priority>,
    /// Counted with the policy's clock: business time for business-hours clocks.
    pub duration: SignedDuration,
}

impl Target {
    pub const MAX_DURATION: SignedDuration = SignedDuration::from_hours(366 * 24);

    fn applies_to(&self, metric: Metric, service_code: &ServiceCode, priority: Priority) -> bool {
        self.metric == metric
            && self.service_code.as_ref().is_none_or(|s| s == service_code)
            && self.priority.is_none_or(|p| p == priority)
    }

    /// A service-specific target beats a priority-specific one: the service clause is the
    /// contract's more deliberate choice. Both beat neither.
    fn specificity(&self) -> u8 {
        2 * u8::from(self.service_code.is_some()) + u8::from(self.priority.is_some())
    }
}

/// What a breach costs the operator, in minor units (centimes of MAD).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PenaltyRule {
    /// Charged once per breached clock.
    pub per_breach_minor: i64,
    /// Charged for every started hour late (business hours for business-hours clocks).
    pub per_started_hour_late_minor: i64,
    /// The most charged per billing period, all breaches together.
    pub cap_per_period_minor: Option<i64>,
}

/// A version of a contract's SLA policy. A report is measured against the version in force
/// when it was created ([`policy_in_force`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub id: SlaPolicyId,
    /// 1, 2, …: a change makes a new version, old ones stay for the reports measured by
    /// them.
    pub version: u32,
    pub contract: ContractId,
    /// When this version starts to apply to new reports.
    pub effective_from: Timestamp,
    pub clock: ClockKind,
    pub targets: Vec<Target>,
    pub pause_reasons_that_stop_the_clock: Vec<PauseReason>,
    #[serde(default)]
    pub warning_thresholds: WarningThresholds,
    pub penalty: PenaltyRule,
}

impl SlaPolicy {
    /// Checks what types cannot: a version number, positive and bounded target durations,
    /// no two targets for the same case, an acknowledge and a resolve target for every
    /// priority of every service, and non-negative money.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.version == 0 {
            return Err(FieldError::new("version", "must be 1 or more"));
        }
        for (i, target) in self.targets.iter().enumerate() {
            let field = |name: &str| format!("targets[{i}].{name}");
            if target.duration <= SignedDuration::ZERO || target.duration > Target::MAX_DURATION {
                return Err(FieldError::new(
                    field("duration"),
                    "must be positive and at most 366 days",
                ));
            }
            let duplicate = self.targets[..i].iter().any(|other| {
                other.metric == target.metric
                    && other.service_code == target.service_code
                    && other.priority == target.priority
            });
            if duplicate {
                return Err(FieldError::new(
                    format!("targets[{i}]"),
                    "another target has the same metric, service and priority",
                ));
            }
        }
        for metric in [Metric::Acknowledge, Metric::Resolve] {
            for priority in Priority::ALL {
                let covered = self.targets.iter().any(|t| {
                    t.metric == metric
                        && t.service_code.is_none()
                        && t.priority.is_none_or(|p| p == priority)
                });
                if !covered {
                    return Err(FieldError::new(
                        "targets",
                        format!(
                            "needs a {} target for {} priority that applies to any service",
                            metric.as_str(),
                            priority.as_str()
                        ),
                    ));
                }
            }
        }
        let penalty = &self.penalty;
        let amounts = [
            ("penalty.per_breach_minor", penalty.per_breach_minor),
            (
                "penalty.per_started_hour_late_minor",
                penalty.per_started_hour_late_minor,
            ),
            (
                "penalty.cap_per_period_minor",
                penalty.cap_per_period_minor.unwrap_or(0),
            ),
        ];
        for (field, amount) in amounts {
            if amount < 0 {
                return Err(FieldError::new(field, "must not be negative"));
            }
        }
        Ok(())
    }

    /// The target for a report, the most specific match winning: service and priority,
    /// then service, then priority, then the catch-all. `None` if no target applies (e.g.
    /// a policy without `on_site` targets).
    pub fn target_for(
        &self,
        metric: Metric,
        service_code: &ServiceCode,
        priority: Priority,
    ) -> Option<&Target> {
        self.targets
            .iter()
            .filter(|t| t.applies_to(metric, service_code, priority))
            // On equal specificity (only possible in an invalid policy) the first one wins.
            .rev()
            .max_by_key(|t| t.specificity())
    }

    pub fn stops_clock(&self, reason: PauseReason) -> bool {
        self.pause_reasons_that_stop_the_clock.contains(&reason)
    }

    /// Everything [`super::clock::compute_clock`] needs for one metric of one report.
    pub fn clock_rules(
        &self,
        metric: Metric,
        service_code: &ServiceCode,
        priority: Priority,
    ) -> Option<ClockRules> {
        let target = self.target_for(metric, service_code, priority)?;
        Some(ClockRules {
            target: target.duration,
            clock: self.clock,
            pause_reasons_that_stop_the_clock: self.pause_reasons_that_stop_the_clock.clone(),
            warning_thresholds: self.warning_thresholds.clone(),
        })
    }
}

impl SlaPolicy {
    /// What a contract without a policy is measured against: acknowledge within 24 hours
    /// and resolve within 72, around the clock, no penalty. Waiting for the resident and
    /// force majeure stop the clock.
    pub fn fallback(contract: ContractId) -> Self {
        let target = |metric, hours| Target {
            metric,
            service_code: None,
            priority: None,
            duration: SignedDuration::from_hours(hours),
        };
        Self {
            id: SlaPolicyId(contract.0),
            version: 1,
            contract,
            effective_from: Timestamp::UNIX_EPOCH,
            clock: ClockKind::Always,
            targets: vec![target(Metric::Acknowledge, 24), target(Metric::Resolve, 72)],
            pause_reasons_that_stop_the_clock: vec![
                PauseReason::AwaitingResident,
                PauseReason::ForceMajeure,
            ],
            warning_thresholds: WarningThresholds::default(),
            penalty: PenaltyRule::default(),
        }
    }
}

/// The version in force at `at` among one policy's versions: the latest `effective_from`
/// not after `at` (the higher version on a tie). Pass a report's creation time.
pub fn policy_in_force(versions: &[SlaPolicy], at: Timestamp) -> Option<&SlaPolicy> {
    versions
        .iter()
        .filter(|p| p.effective_from <= at)
        .max_by_key(|p| (p.effective_from, p.version))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn code(raw: &str) -> ServiceCode {
        ServiceCode::parse(raw).unwrap()
    }

    pub(crate) fn target(
        metric: Metric,
        service: Option<&str>,
        priority: Option<Priority>,
        hours: i64,
    ) -> Target {
        Target {
            metric,
            service_code: service.map(code),
            priority,
            duration: SignedDuration::from_hours(hours),
        }
    }

    /// Waste collection: acknowledge in 4 h, resolve in 48 h (24 h when urgent, 12 h for
    /// overflowing containers), stopped by the resident or force majeure.
    pub(crate) fn waste_policy() -> SlaPolicy {
        SlaPolicy {
            id: SlaPolicyId(Uuid::nil()),
            version: 1,
            contract: ContractId(Uuid::nil()),
            effective_from: "2026-01-01T00:00:00Z".parse().unwrap(),
            clock: ClockKind::BusinessHours,
            targets: vec![
                target(Metric::Acknowledge, None, None, 4),
                target(Metric::Resolve, None, None, 48),
                target(Metric::Resolve, None, Some(Priority::Urgent), 24),
                target(Metric::Resolve, Some("container-full"), None, 12),
                target(
                    Metric::Resolve,
                    Some("container-full"),
                    Some(Priority::Urgent),
                    6,
                ),
            ],
            pause_reasons_that_stop_the_clock: vec![
                PauseReason::AwaitingResident,
                PauseReason::ForceMajeure,
            ],
            warning_thresholds: WarningThresholds::default(),
            penalty: PenaltyRule {
                per_breach_minor: 50_000,
                per_started_hour_late_minor: 10_000,
                cap_per_period_minor: Some(1_000_000),
            },
        }
    }

    #[test]
    fn names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.as_str()), Some(m));
        }
        for r in PauseReason::ALL {
            assert_eq!(PauseReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(
            serde_json::to_string(&PauseReason::AwaitingResident).unwrap(),
            r#""awaiting_resident""#
        );
        assert_eq!(
            serde_json::to_string(&Metric::OnSite).unwrap(),
            r#""on_site""#
        );
    }

    #[test]
    fn most_specific_target_wins() {
        let policy = waste_policy();
        policy.validate().unwrap();
        let hours = |metric, service: &str, priority| {
            policy
                .target_for(metric, &code(service), priority)
                .map(|t| t.duration.as_hours())
        };
        assert_eq!(
            hours(Metric::Acknowledge, "litter", Priority::Urgent),
            Some(4)
        );
        assert_eq!(hours(Metric::Resolve, "litter", Priority::Normal), Some(48));
        assert_eq!(hours(Metric::Resolve, "litter", Priority::Urgent), Some(24));
        assert_eq!(
            hours(Metric::Resolve, "container-full", Priority::Low),
            Some(12)
        );
        assert_eq!(
            hours(Metric::Resolve, "container-full", Priority::Urgent),
            Some(6)
        );
        assert_eq!(hours(Metric::OnSite, "litter", Priority::Normal), None);
        // Service beats priority: a service-only target is chosen over a priority-only one.
        let mut policy = policy;
        policy
            .targets
            .retain(|t| !(t.service_code.is_some() && t.priority.is_some()));
        assert_eq!(
            policy
                .target_for(Metric::Resolve, &code("container-full"), Priority::Urgent)
                .map(|t| t.duration.as_hours()),
            Some(12)
        );
    }

    #[test]
    fn validation() {
        let invalid = |change: &dyn Fn(&mut SlaPolicy)| {
            let mut policy = waste_policy();
            change(&mut policy);
            policy.validate().unwrap_err().field
        };
        assert_eq!(invalid(&|p| p.version = 0), "version");
        assert_eq!(
            invalid(&|p| p.targets[1].duration = SignedDuration::ZERO),
            "targets[1].duration"
        );
        assert_eq!(
            invalid(&|p| p.targets.push(target(Metric::Resolve, None, None, 3))),
            "targets[5]"
        );
        assert_eq!(
            invalid(&|p| {
                p.targets.remove(0);
            }),
            "targets"
        );
        assert_eq!(
            invalid(&|p| p.penalty.cap_per_period_minor = Some(-1)),
            "penalty.cap_per_period_minor"
        );
        // Per-priority targets without a catch-all are fine if every priority is covered.
        let mut policy = waste_policy();
        policy.targets.remove(0);
        for priority in Priority::ALL {
            policy
                .targets
                .push(target(Metric::Acknowledge, None, Some(priority), 2));
        }
        policy.validate().unwrap();
        policy.targets.pop();
        assert!(policy.validate().unwrap_err().message.contains("urgent"));

        assert!(WarningThresholds::parse(&[50, 75, 90]).is_ok());
        assert!(WarningThresholds::parse(&[]).is_ok());
        for bad in [&[75, 50][..], &[0], &[100], &[50, 50]] {
            assert!(WarningThresholds::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn version_in_force_at_creation() {
        let v1 = waste_policy();
        let mut v2 = waste_policy();
        v2.version = 2;
        v2.effective_from = "2026-04-15T00:00:00Z".parse().unwrap();
        let versions = [v2, v1];
        let at = |raw: &str| policy_in_force(&versions, raw.parse().unwrap()).map(|p| p.version);
        assert_eq!(at("2025-12-31T23:59:59Z"), None);
        assert_eq!(at("2026-04-14T23:59:59Z"), Some(1));
        assert_eq!(at("2026-04-15T00:00:00Z"), Some(2));
    }

    #[test]
    fn serde_round_trip() {
        let policy = waste_policy();
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["clock"], "business_hours");
        assert_eq!(json["warning_thresholds"], serde_json::json!([50, 75, 90]));
        let back: SlaPolicy = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, policy);
        let mut bad = json;
        bad["warning_thresholds"] = serde_json::json!([90, 50]);
        assert!(serde_json::from_value::<SlaPolicy>(bad).is_err());
    }
}
