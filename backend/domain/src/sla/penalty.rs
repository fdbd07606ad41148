//! Penalties: what breaches cost the operator, in minor units (centimes of MAD).

use super::clock::ClockSnapshot;
use super::policy::PenaltyRule;
use jiff::SignedDuration;
use serde::Serialize;

/// Hours late, every started hour counting as one: 0 when not late, 1 for a minute late,
/// 2 for an hour and a second.
pub fn started_hours_late(overdue: SignedDuration) -> i64 {
    const HOUR_NANOS: i128 = 3_600_000_000_000;
    let nanos = overdue.as_nanos();
    if nanos <= 0 {
        return 0;
    }
    // Positive and far below i128::MAX, so rounding up cannot overflow.
    i64::try_from((nanos + HOUR_NANOS - 1) / HOUR_NANOS).unwrap_or(i64::MAX)
}

/// The penalty for one clock cycle: nothing unless breached, else the per-breach amount
/// plus the per-started-hour amount for each started hour of [`ClockSnapshot::overdue`]
/// (clock time, so business hours for business-hours clocks).
///
/// A clock still running late keeps growing: bill a period with snapshots taken at its end.
pub fn penalty_for(snapshot: &ClockSnapshot, rule: &PenaltyRule) -> i64 {
    if snapshot.breached_at.is_none() {
        return 0;
    }
    rule.per_started_hour_late_minor
        .saturating_mul(started_hours_late(snapshot.overdue))
        .saturating_add(rule.per_breach_minor)
}

/// A billing period's penalties, before and after the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeriodPenalty {
    pub uncapped_minor: i64,
    pub total_minor: i64,
}

impl PeriodPenalty {
    /// Whether the cap reduced the total.
    pub fn capped(&self) -> bool {
        self.total_minor < self.uncapped_minor
    }
}

/// Sums a period's penalty lines and applies the period cap, if any. When a policy changed
/// during the period, each line comes from the version its report is measured against; the
/// caller chooses the cap (the contract's, usually the version in force at the period's
/// end).
pub fn apply_cap(lines: &[i64], cap_per_period_minor: Option<i64>) -> PeriodPenalty {
    let uncapped_minor = lines
        .iter()
        .fold(0i64, |sum, line| sum.saturating_add((*line).max(0)));
    let total_minor = match cap_per_period_minor {
        Some(cap) => uncapped_minor.min(cap.max(0)),
        None => uncapped_minor,
    };
    PeriodPenalty {
        uncapped_minor,
        total_minor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::calendar::ClockKind;
    use crate::sla::clock::ClockState;
    use jiff::Timestamp;

    fn snapshot(breached: bool, overdue: SignedDuration) -> ClockSnapshot {
        let at: Timestamp = "2026-04-20T10:00:00Z".parse().unwrap();
        ClockSnapshot {
            cycle: 1,
            clock: ClockKind::Always,
            target: SignedDuration::from_hours(4),
            started_at: at,
            due_at: at,
            paused_intervals: Vec::new(),
            paused: SignedDuration::ZERO,
            elapsed: SignedDuration::ZERO,
            remaining: SignedDuration::ZERO,
            overdue,
            state: if breached {
                ClockState::Breached
            } else {
                ClockState::Met
            },
            met_at: None,
            breached_at: breached.then_some(at),
            warnings_crossed: Vec::new(),
        }
    }

    const RULE: PenaltyRule = PenaltyRule {
        per_breach_minor: 50_000,
        per_started_hour_late_minor: 10_000,
        cap_per_period_minor: Some(120_000),
    };

    #[test]
    fn started_hours() {
        let secs = SignedDuration::from_secs;
        assert_eq!(started_hours_late(SignedDuration::ZERO), 0);
        assert_eq!(started_hours_late(secs(-5)), 0);
        assert_eq!(started_hours_late(SignedDuration::from_nanos(1)), 1);
        assert_eq!(started_hours_late(secs(3600)), 1);
        assert_eq!(started_hours_late(secs(3601)), 2);
        assert_eq!(
            started_hours_late(SignedDuration::MAX),
            2_562_047_788_015_216
        );
    }

    #[test]
    fn penalty_per_breach_and_per_started_hour() {
        let mins = SignedDuration::from_mins;
        assert_eq!(
            penalty_for(&snapshot(false, SignedDuration::ZERO), &RULE),
            0
        );
        // Breached, but no clock time late yet (due at closing time, now the weekend).
        assert_eq!(
            penalty_for(&snapshot(true, SignedDuration::ZERO), &RULE),
            50_000
        );
        assert_eq!(penalty_for(&snapshot(true, mins(1)), &RULE), 60_000);
        assert_eq!(penalty_for(&snapshot(true, mins(150)), &RULE), 80_000);
        let only_hours = PenaltyRule {
            per_breach_minor: 0,
            ..RULE
        };
        assert_eq!(penalty_for(&snapshot(true, mins(61)), &only_hours), 20_000);
        let huge = PenaltyRule {
            per_started_hour_late_minor: i64::MAX,
            ..RULE
        };
        assert_eq!(penalty_for(&snapshot(true, mins(120)), &huge), i64::MAX);
    }

    #[test]
    fn cap_per_period() {
        let lines = [50_000, 80_000, 0, 60_000];
        let capped = apply_cap(&lines, RULE.cap_per_period_minor);
        assert_eq!(
            capped,
            PeriodPenalty {
                uncapped_minor: 190_000,
                total_minor: 120_000
            }
        );
        assert!(capped.capped());
        let below = apply_cap(&lines[..2], Some(200_000));
        assert_eq!(below.total_minor, 130_000);
        assert!(!below.capped());
        assert_eq!(apply_cap(&lines, None).total_minor, 190_000);
        assert_eq!(apply_cap(&[], Some(10)).total_minor, 0);
        assert_eq!(apply_cap(&[i64::MAX, 1], None).total_minor, i64::MAX);
    }
}
