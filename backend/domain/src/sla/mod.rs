//! Service-level agreements: making every delay measurable, explainable and billable.
//!
//! - [`calendar`]: when clocks run (time zone, working hours, holidays, overrides).
//! - [`policy`]: a contract's targets, pause rules, warnings and penalties, by version.
//! - [`clock`]: a report's clock per metric and cycle, replayed from its events.
//! - [`penalty`]: what breaches cost, with a cap per billing period.
//!
//! This module counts time with [`jiff`], which does IANA time-zone arithmetic (Morocco's
//! Ramadan changes come from the bundled database, never a fixed offset). The rest of the
//! crate uses `time::OffsetDateTime`: convert at the edges with [`to_timestamp`] and
//! [`to_offset_date_time`].

pub mod calendar;
pub mod clock;
pub mod penalty;
pub mod policy;
pub mod spec;
pub mod statement;
pub mod terms;
pub mod ticket;

pub use calendar::{
    BusinessCalendar, CalendarError, ClockKind, DaySchedule, Holiday, MovableHoliday,
    MovableHolidayKind, NationalHolidays, WeeklyHours, WorkingInterval, morocco_fixed_holidays,
};
pub use clock::{
    ClockEvent, ClockRules, ClockSnapshot, ClockState, PausedInterval, WarningCrossed,
    compute_clock, compute_cycles,
};
pub use penalty::{PeriodPenalty, apply_cap, penalty_for, started_hours_late};
pub use policy::{
    Metric, PauseReason, PenaltyRule, SlaPolicy, SlaPolicyId, Target, WarningThresholds,
    policy_in_force,
};
pub use spec::{CalendarSpec, DayOverride, MovableHolidaySpec};
pub use statement::{
    ContractTotal, MeasuredClock, MetricFigures, PenaltyLine, Statement, build_statement,
};
pub use terms::DisputeState;
pub use ticket::{Alarm, Milestone, TicketClock, ticket_clocks};

use jiff::Timestamp;
use time::OffsetDateTime;

/// The same instant as a [`jiff::Timestamp`]; `None` only within a day of year ±9999,
/// where the two libraries' ranges differ.
pub fn to_timestamp(at: OffsetDateTime) -> Option<Timestamp> {
    Timestamp::from_nanosecond(at.unix_timestamp_nanos()).ok()
}

/// The same instant as a UTC `time::OffsetDateTime`; `None` only outside year ±9999.
pub fn to_offset_date_time(at: Timestamp) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(at.as_nanosecond()).ok()
}

#[cfg(test)]
mod scenarios {
    //! Whole-chain examples: policy version -> clock -> penalty.

    use super::policy::tests::{code, target, waste_policy};
    use super::*;
    use crate::Priority;
    use jiff::SignedDuration;
    use time::macros::datetime;

    fn ts(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    fn calendar() -> BusinessCalendar {
        BusinessCalendar::moroccan_administration("Africa/Casablanca").unwrap()
    }

    #[test]
    fn conversions_keep_the_instant() {
        let odt = datetime!(2026-02-15 02:00:00.123456789 UTC);
        let at = to_timestamp(odt).unwrap();
        assert_eq!(at, ts("2026-02-15T02:00:00.123456789Z"));
        assert_eq!(to_offset_date_time(at), Some(odt));
        let offset = datetime!(2026-02-15 03:00 +01:00);
        assert_eq!(to_timestamp(offset), Some(ts("2026-02-15T02:00:00Z")));
        assert_eq!(
            to_offset_date_time(Timestamp::MAX).map(|t| t.year()),
            Some(9999)
        );
    }

    /// Version 2 of the waste policy, from 15 April 2026: resolve in 24 business hours,
    /// dearer hours, a lower cap.
    fn waste_policy_v2() -> SlaPolicy {
        let mut v2 = waste_policy();
        v2.version = 2;
        v2.effective_from = ts("2026-04-15T00:00:00Z");
        v2.targets = vec![
            target(Metric::Acknowledge, None, None, 2),
            target(Metric::Resolve, None, None, 24),
        ];
        v2.penalty = PenaltyRule {
            per_breach_minor: 50_000,
            per_started_hour_late_minor: 20_000,
            cap_per_period_minor: Some(150_000),
        };
        v2.validate().unwrap();
        v2
    }

    /// The resolve penalty of a report created at `created`, resolved at `resolved`.
    fn resolve_penalty(versions: &[SlaPolicy], created: &str, resolved: &str) -> (u32, i64) {
        let policy = policy_in_force(versions, ts(created)).unwrap();
        let rules = policy
            .clock_rules(Metric::Resolve, &code("litter"), Priority::Normal)
            .unwrap();
        let events = [
            ClockEvent::Started { at: ts(created) },
            ClockEvent::Stopped { at: ts(resolved) },
        ];
        let snapshot = compute_clock(&rules, &calendar(), &events, ts("2026-05-31T23:00:00Z"))
            .unwrap()
            .unwrap();
        (policy.version, penalty_for(&snapshot, &policy.penalty))
    }

    #[test]
    fn policy_changed_mid_period() {
        let versions = [waste_policy(), waste_policy_v2()];
        // Created Monday 13 April 09:30 local under v1 (48 business hours = 6 working
        // days): due Tuesday 21 April 09:30; resolved Wednesday 22 April 12:00 local, that
        // is 7 h + 3.5 h = 10.5 business hours late: 11 started hours.
        assert_eq!(
            resolve_penalty(&versions, "2026-04-13T08:30:00Z", "2026-04-22T11:00:00Z"),
            (1, 50_000 + 11 * 10_000)
        );
        // The same delays for a report created under v2 (24 h = 3 working days): created
        // Thursday 16 April 09:30, due Tuesday 21 April 09:30 as well, same resolution.
        assert_eq!(
            resolve_penalty(&versions, "2026-04-16T08:30:00Z", "2026-04-22T11:00:00Z"),
            (2, 50_000 + 11 * 20_000)
        );
        // On time under v2.
        assert_eq!(
            resolve_penalty(&versions, "2026-04-16T08:30:00Z", "2026-04-21T08:00:00Z"),
            (2, 0)
        );
        // The period's total, capped by the contract's current cap.
        let lines = [160_000, 270_000, 0];
        let period = apply_cap(&lines, versions[1].penalty.cap_per_period_minor);
        assert_eq!(
            (period.uncapped_minor, period.total_minor),
            (430_000, 150_000)
        );
    }

    #[test]
    fn reopened_report_breaches_per_cycle() {
        // 24/7 policy: acknowledge in 4 h, resolve in 12 h.
        let mut policy = waste_policy();
        policy.clock = ClockKind::Always;
        policy.targets = vec![
            target(Metric::Acknowledge, None, None, 4),
            target(Metric::Resolve, None, None, 12),
        ];
        policy.validate().unwrap();
        let rules = policy
            .clock_rules(Metric::Resolve, &code("litter"), Priority::High)
            .unwrap();
        let events = [
            ClockEvent::Started {
                at: ts("2026-04-20T08:00:00Z"),
            },
            ClockEvent::Stopped {
                at: ts("2026-04-20T19:00:00Z"),
            }, // on time
            ClockEvent::Started {
                at: ts("2026-04-21T10:00:00Z"),
            }, // reopened
            ClockEvent::Paused {
                at: ts("2026-04-21T12:00:00Z"),
                reason: PauseReason::ThirdParty, // not a stopping reason here
            },
            ClockEvent::Stopped {
                at: ts("2026-04-22T00:30:00Z"),
            }, // 2 h 30 late
        ];
        let cycles =
            compute_cycles(&rules, &calendar(), &events, ts("2026-04-30T00:00:00Z")).unwrap();
        let summary: Vec<(u32, ClockState, i64)> = cycles
            .iter()
            .map(|c| (c.cycle, c.state, penalty_for(c, &policy.penalty)))
            .collect();
        assert_eq!(
            summary,
            [
                (1, ClockState::Met, 0),
                (2, ClockState::Breached, 50_000 + 3 * 10_000),
            ]
        );
        assert_eq!(cycles[1].overdue, SignedDuration::from_mins(150));
        assert_eq!(cycles[1].paused_intervals.len(), 1);
        assert_eq!(
            cycles[1].paused_intervals[0].until,
            Some(ts("2026-04-22T00:30:00Z"))
        );
    }
}
