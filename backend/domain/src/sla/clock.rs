//! SLA clocks, recomputed from a report's events.
//!
//! A clock is never stored as a counter: it is replayed from [`ClockEvent`]s against the
//! calendar and policy, so correcting a calendar (a holiday entered late, a wrong override)
//! and replaying gives the right figures.
//!
//! **Cycles.** One report has one clock per metric and cycle. A `Started` event after the
//! metric was met (`Stopped`) opens a new cycle: a reopened report gets a fresh target,
//! and a breach in an earlier cycle stays on record. [`compute_cycles`] returns every
//! cycle, [`compute_clock`] the current one; [`ClockSnapshot::cycle`] numbers them from 1.

use super::calendar::{BusinessCalendar, CalendarError, ClockKind};
use super::terms::{PauseReason, WarningThresholds};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Something that happened to one metric's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClockEvent {
    /// The clock starts (report routed) or restarts in a new cycle (report reopened).
    Started {
        at: Timestamp,
    },
    /// Work is paused. The clock stops only if the policy lists the reason; a second
    /// pause with another reason replaces the first from that instant.
    Paused {
        at: Timestamp,
        reason: PauseReason,
    },
    Resumed {
        at: Timestamp,
    },
    /// The metric was met (acknowledged, resolved, agent on site): the cycle ends.
    Stopped {
        at: Timestamp,
    },
}

impl ClockEvent {
    pub fn at(&self) -> Timestamp {
        match *self {
            ClockEvent::Started { at }
            | ClockEvent::Paused { at, .. }
            | ClockEvent::Resumed { at }
            | ClockEvent::Stopped { at } => at,
        }
    }
}

/// What a clock is measured against: one target of a policy and the policy's clock rules
/// (see [`super::policy::SlaPolicy::clock_rules`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockRules {
    pub target: SignedDuration,
    pub clock: ClockKind,
    pub pause_reasons_that_stop_the_clock: Vec<PauseReason>,
    pub warning_thresholds: WarningThresholds,
}

impl ClockRules {
    fn stops_clock(&self, reason: PauseReason) -> bool {
        self.pause_reasons_that_stop_the_clock.contains(&reason)
    }
}

/// A period during which work was paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PausedInterval {
    pub from: Timestamp,
    /// `None` while still paused.
    pub until: Option<Timestamp>,
    pub reason: PauseReason,
    /// Whether the policy lets this reason stop the clock; if not, the time still counts.
    pub stops_clock: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    /// Paused for a reason that stops the clock.
    Paused,
    /// Met on time.
    Met,
    /// Not met by the due time (whether met late since or not).
    Breached,
}

/// A warning threshold the clock went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WarningCrossed {
    pub percent: u8,
    pub at: Timestamp,
}

/// One cycle of a clock as of `now` (or as of when it was met).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockSnapshot {
    /// 1 for the first cycle, 2 after the first reopen, …
    pub cycle: u32,
    pub clock: ClockKind,
    pub target: SignedDuration,
    pub started_at: Timestamp,
    /// When the target is (or was) reached, moved later by the time the clock was
    /// stopped. While paused it is projected as if work resumed now, so it keeps moving.
    pub due_at: Timestamp,
    /// All pauses, including those whose reason did not stop the clock.
    pub paused_intervals: Vec<PausedInterval>,
    /// Clock time during pauses that stopped the clock (business time for business-hours
    /// clocks).
    pub paused: SignedDuration,
    /// Clock time counted against the target, pauses excluded.
    pub elapsed: SignedDuration,
    /// `target - elapsed`, or zero once reached.
    pub remaining: SignedDuration,
    /// `elapsed - target` once past the target, else zero: how late, in clock time.
    pub overdue: SignedDuration,
    pub state: ClockState,
    pub met_at: Option<Timestamp>,
    /// The due time, once it passed without the metric being met.
    pub breached_at: Option<Timestamp>,
    /// Thresholds passed before `now` (or before being met), in order.
    pub warnings_crossed: Vec<WarningCrossed>,
}

/// The clock's current cycle, or `None` before it started.
pub fn compute_clock(
    rules: &ClockRules,
    calendar: &BusinessCalendar,
    events: &[ClockEvent],
    now: Timestamp,
) -> Result<Option<ClockSnapshot>, CalendarError> {
    Ok(compute_cycles(rules, calendar, events, now)?.pop())
}

/// Every cycle of a clock, as of `now`. Events after `now` are ignored (so a past state can
/// be replayed), events are taken in time order (ties in the given order), and events that
/// make no sense in the current state (a resume without a pause, anything after `Stopped`
/// but a new `Started`, a second `Started` in a running cycle) are ignored.
pub fn compute_cycles(
    rules: &ClockRules,
    calendar: &BusinessCalendar,
    events: &[ClockEvent],
    now: Timestamp,
) -> Result<Vec<ClockSnapshot>, CalendarError> {
    replay(rules, events, now)
        .into_iter()
        .zip(1..)
        .map(|(cycle, number)| measure(rules, calendar, cycle, number, now))
        .collect()
}

/// A cycle as told by the events, before any time arithmetic.
struct CycleLog {
    started_at: Timestamp,
    pauses: Vec<PausedInterval>,
    met_at: Option<Timestamp>,
}

impl CycleLog {
    fn open_pause(&mut self) -> Option<&mut PausedInterval> {
        self.pauses.last_mut().filter(|p| p.until.is_none())
    }
}

fn replay(rules: &ClockRules, events: &[ClockEvent], now: Timestamp) -> Vec<CycleLog> {
    let mut ordered: Vec<ClockEvent> = events.iter().filter(|e| e.at() <= now).copied().collect();
    ordered.sort_by_key(ClockEvent::at); // stable: ties keep the log's order

    let mut cycles: Vec<CycleLog> = Vec::new();
    for event in ordered {
        if let ClockEvent::Started { at } = event {
            if cycles.last().is_none_or(|c| c.met_at.is_some()) {
                cycles.push(CycleLog {
                    started_at: at,
                    pauses: Vec::new(),
                    met_at: None,
                });
            }
            continue;
        }
        let Some(cycle) = cycles.last_mut().filter(|c| c.met_at.is_none()) else {
            continue;
        };
        match event {
            ClockEvent::Paused { at, reason } => {
                if let Some(open) = cycle.open_pause() {
                    if open.reason == reason {
                        continue;
                    }
                    open.until = Some(at);
                }
                cycle.pauses.push(PausedInterval {
                    from: at,
                    until: None,
                    reason,
                    stops_clock: rules.stops_clock(reason),
                });
            }
            ClockEvent::Resumed { at } => {
                if let Some(open) = cycle.open_pause() {
                    open.until = Some(at);
                }
            }
            ClockEvent::Stopped { at } => {
                if let Some(open) = cycle.open_pause() {
                    open.until = Some(at);
                }
                cycle.met_at = Some(at);
            }
            ClockEvent::Started { .. } => {}
        }
    }
    cycles
}

fn measure(
    rules: &ClockRules,
    calendar: &BusinessCalendar,
    cycle: CycleLog,
    number: u32,
    now: Timestamp,
) -> Result<ClockSnapshot, CalendarError> {
    let clock = rules.clock;
    let end = cycle.met_at.unwrap_or(now);
    let count = |from, until| clock.elapsed(calendar, from, until);

    // The stretches during which the clock ran, between pauses that stopped it.
    let mut running: Vec<(Timestamp, SignedDuration)> = Vec::new();
    let mut paused = SignedDuration::ZERO;
    let mut cursor = cycle.started_at;
    for pause in cycle.pauses.iter().filter(|p| p.stops_clock) {
        let until = pause.until.unwrap_or(end);
        running.push((cursor, count(cursor, pause.from)));
        paused += count(pause.from, until);
        cursor = until;
    }
    running.push((cursor, count(cursor, end)));
    let elapsed = running
        .iter()
        .fold(SignedDuration::ZERO, |sum, (_, length)| sum + *length);

    // When the clock reaches `amount`: inside a running stretch, or projected from the end
    // as if it ran on from there.
    let reaches = |amount: SignedDuration| -> Result<Timestamp, CalendarError> {
        let mut counted = SignedDuration::ZERO;
        for &(from, length) in &running {
            if counted + length >= amount {
                return clock.add(calendar, from, amount - counted);
            }
            counted += length;
        }
        clock.add(calendar, end, amount - counted)
    };

    let due_at = reaches(rules.target)?;
    // Met exactly at the due time is on time.
    let breached = due_at < end;
    let mut warnings_crossed = Vec::new();
    for &percent in rules.warning_thresholds.as_slice() {
        let amount =
            SignedDuration::from_nanos_i128(rules.target.as_nanos() * i128::from(percent) / 100);
        let at = reaches(amount)?;
        if at < end {
            warnings_crossed.push(WarningCrossed { percent, at });
        }
    }
    let paused_now = cycle.met_at.is_none()
        && cycle
            .pauses
            .last()
            .is_some_and(|p| p.until.is_none() && p.stops_clock);
    let state = if breached {
        ClockState::Breached
    } else if cycle.met_at.is_some() {
        ClockState::Met
    } else if paused_now {
        ClockState::Paused
    } else {
        ClockState::Running
    };

    Ok(ClockSnapshot {
        cycle: number,
        clock,
        target: rules.target,
        started_at: cycle.started_at,
        due_at,
        paused_intervals: cycle.pauses,
        paused,
        elapsed,
        remaining: (rules.target - elapsed).max(SignedDuration::ZERO),
        overdue: (elapsed - rules.target).max(SignedDuration::ZERO),
        state,
        met_at: cycle.met_at,
        breached_at: breached.then_some(due_at),
        warnings_crossed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::calendar::WeeklyHours;
    use proptest::prelude::*;

    fn ts(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    fn mins(m: i64) -> SignedDuration {
        SignedDuration::from_mins(m)
    }

    fn rules(clock: ClockKind, target: SignedDuration) -> ClockRules {
        ClockRules {
            target,
            clock,
            pause_reasons_that_stop_the_clock: vec![PauseReason::AwaitingResident],
            warning_thresholds: WarningThresholds::default(),
        }
    }

    fn admin() -> BusinessCalendar {
        BusinessCalendar::moroccan_administration("Africa/Casablanca").unwrap()
    }

    fn start(at: &str) -> ClockEvent {
        ClockEvent::Started { at: ts(at) }
    }

    fn pause(at: &str, reason: PauseReason) -> ClockEvent {
        ClockEvent::Paused { at: ts(at), reason }
    }

    fn resume(at: &str) -> ClockEvent {
        ClockEvent::Resumed { at: ts(at) }
    }

    fn stop(at: &str) -> ClockEvent {
        ClockEvent::Stopped { at: ts(at) }
    }

    fn clock_at(rules: &ClockRules, events: &[ClockEvent], now: &str) -> ClockSnapshot {
        compute_clock(rules, &admin(), events, ts(now))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn not_started_has_no_clock() {
        let r = rules(ClockKind::Always, hours(4));
        let events = [start("2026-04-20T10:00:00Z")];
        assert_eq!(
            compute_clock(&r, &admin(), &events, ts("2026-04-20T09:00:00Z")).unwrap(),
            None
        );
        assert_eq!(
            compute_clock(&r, &admin(), &[], ts("2026-04-20T09:00:00Z")).unwrap(),
            None
        );
    }

    #[test]
    fn running_with_warnings_then_breached() {
        // 24/7, 4 h target, started Monday 10:00 UTC.
        let r = rules(ClockKind::Always, hours(4));
        let events = [start("2026-04-20T10:00:00Z")];

        let c = clock_at(&r, &events, "2026-04-20T12:30:00Z");
        assert_eq!(c.state, ClockState::Running);
        assert_eq!(c.due_at, ts("2026-04-20T14:00:00Z"));
        assert_eq!((c.elapsed, c.remaining), (mins(150), mins(90)));
        assert_eq!(
            c.warnings_crossed,
            [WarningCrossed {
                percent: 50,
                at: ts("2026-04-20T12:00:00Z")
            }]
        );

        let c = clock_at(&r, &events, "2026-04-20T13:40:00Z");
        let crossed: Vec<(u8, Timestamp)> = c
            .warnings_crossed
            .iter()
            .map(|w| (w.percent, w.at))
            .collect();
        assert_eq!(
            crossed,
            [
                (50, ts("2026-04-20T12:00:00Z")),
                (75, ts("2026-04-20T13:00:00Z")),
                (90, ts("2026-04-20T13:36:00Z")),
            ]
        );

        // Exactly at the due time it is not late yet.
        let c = clock_at(&r, &events, "2026-04-20T14:00:00Z");
        assert_eq!(
            (c.state, c.remaining),
            (ClockState::Running, SignedDuration::ZERO)
        );

        let c = clock_at(&r, &events, "2026-04-20T15:30:00Z");
        assert_eq!(c.state, ClockState::Breached);
        assert_eq!(c.breached_at, Some(ts("2026-04-20T14:00:00Z")));
        assert_eq!(c.overdue, mins(90));

        // Met late: still a breach, with the time it was met.
        let late = [events[0], stop("2026-04-20T15:00:00Z")];
        let c = clock_at(&r, &late, "2026-04-21T00:00:00Z");
        assert_eq!(c.state, ClockState::Breached);
        assert_eq!(c.met_at, Some(ts("2026-04-20T15:00:00Z")));
        assert_eq!(c.overdue, hours(1));

        // Met on time: warnings after the stop are not crossed.
        let on_time = [events[0], stop("2026-04-20T12:10:00Z")];
        let c = clock_at(&r, &on_time, "2026-04-22T00:00:00Z");
        assert_eq!(c.state, ClockState::Met);
        assert_eq!(c.breached_at, None);
        assert_eq!(c.elapsed, mins(130));
        assert_eq!(c.warnings_crossed.len(), 1);
        // Met exactly at the due time is on time.
        let exactly = [events[0], stop("2026-04-20T14:00:00Z")];
        assert_eq!(
            clock_at(&r, &exactly, "2026-04-22T00:00:00Z").state,
            ClockState::Met
        );
    }

    #[test]
    fn pause_reasons_that_stop_the_clock_and_those_that_do_not() {
        let r = rules(ClockKind::Always, hours(4));
        let events = |reason| {
            [
                start("2026-04-20T10:00:00Z"),
                pause("2026-04-20T11:00:00Z", reason),
                resume("2026-04-20T13:00:00Z"),
            ]
        };

        // Awaiting the resident stops the clock: the due time moves 2 h later.
        let c = clock_at(
            &r,
            &events(PauseReason::AwaitingResident),
            "2026-04-20T14:00:00Z",
        );
        assert_eq!(c.state, ClockState::Running);
        assert_eq!(c.paused, hours(2));
        assert_eq!(c.elapsed, hours(2));
        assert_eq!(c.due_at, ts("2026-04-20T16:00:00Z"));
        assert!(c.paused_intervals[0].stops_clock);

        // A third party is not in this policy: the pause is recorded, the clock runs on.
        let c = clock_at(&r, &events(PauseReason::ThirdParty), "2026-04-20T14:00:00Z");
        assert_eq!(c.paused, SignedDuration::ZERO);
        assert_eq!(c.elapsed, hours(4));
        assert_eq!(c.due_at, ts("2026-04-20T14:00:00Z"));
        assert_eq!(c.paused_intervals.len(), 1);
        assert!(!c.paused_intervals[0].stops_clock);

        // While paused, the due time is projected from now and keeps moving.
        let ongoing = &events(PauseReason::AwaitingResident)[..2];
        let c = clock_at(&r, ongoing, "2026-04-20T12:00:00Z");
        assert_eq!(c.state, ClockState::Paused);
        assert_eq!(c.paused_intervals[0].until, None);
        assert_eq!(c.due_at, ts("2026-04-20T15:00:00Z"));
        let c = clock_at(&r, ongoing, "2026-04-20T20:00:00Z");
        assert_eq!(c.state, ClockState::Paused);
        assert_eq!(c.due_at, ts("2026-04-20T23:00:00Z"));

        // Changing the reason mid-pause: only the stopping part counts as paused.
        let switched = [
            start("2026-04-20T10:00:00Z"),
            pause("2026-04-20T11:00:00Z", PauseReason::ThirdParty),
            pause("2026-04-20T12:00:00Z", PauseReason::AwaitingResident),
            resume("2026-04-20T12:30:00Z"),
        ];
        let c = clock_at(&r, &switched, "2026-04-20T13:00:00Z");
        assert_eq!(c.paused, mins(30));
        assert_eq!(c.elapsed, mins(150));
        assert_eq!(c.paused_intervals.len(), 2);
    }

    #[test]
    fn business_hours_clock_pauses_and_due_time() {
        // 8 business hours from Thursday 16 April 2026, 14:30 local (13:30 UTC).
        let r = rules(ClockKind::BusinessHours, hours(8));
        let started = start("2026-04-16T13:30:00Z");
        let c = clock_at(&r, &[started], "2026-04-16T14:00:00Z");
        // 2 h on Thursday, 6 h on Friday: due Friday 14:30 local.
        assert_eq!(c.due_at, ts("2026-04-17T13:30:00Z"));

        // Paused for the resident from Thursday 15:30 to Friday 10:30 local: only the
        // working time inside the pause (1 h Thursday + 2 h Friday) moves the due time.
        let events = [
            started,
            pause("2026-04-16T14:30:00Z", PauseReason::AwaitingResident),
            resume("2026-04-17T09:30:00Z"),
        ];
        let c = clock_at(&r, &events, "2026-04-17T10:00:00Z");
        assert_eq!(c.paused, hours(3));
        assert_eq!(c.elapsed, mins(90));
        // 7 h remain after the first hour: 6 h on Friday from 10:30, the last one on Monday
        // 08:30-09:30 local.
        assert_eq!(c.due_at, ts("2026-04-20T08:30:00Z"));
        assert_eq!(
            c.due_at,
            admin()
                .add_business(ts("2026-04-16T13:30:00Z"), r.target + c.paused)
                .unwrap()
        );

        // Due at the end of a working day: breached from then, not from the next opening.
        let r = rules(ClockKind::BusinessHours, hours(2));
        let c = clock_at(&r, &[start("2026-04-17T13:30:00Z")], "2026-04-18T10:00:00Z");
        assert_eq!(c.due_at, ts("2026-04-17T15:30:00Z")); // Friday 16:30 local
        assert_eq!(c.state, ClockState::Breached);
        assert_eq!(c.overdue, SignedDuration::ZERO); // Saturday: no working time yet
        let c = clock_at(&r, &[start("2026-04-17T13:30:00Z")], "2026-04-20T08:00:00Z");
        assert_eq!(c.overdue, mins(30)); // Monday 09:00 local
    }

    #[test]
    fn reopen_starts_a_new_cycle() {
        let r = rules(ClockKind::Always, hours(4));
        let events = [
            start("2026-04-20T08:00:00Z"),
            stop("2026-04-20T14:00:00Z"), // resolved 2 h late
            ClockEvent::Resumed {
                at: ts("2026-04-20T15:00:00Z"),
            }, // ignored: the cycle is over
            start("2026-04-22T09:00:00Z"), // reopened by the resident
            start("2026-04-22T09:05:00Z"), // duplicate, ignored
        ];
        let cycles = compute_cycles(&r, &admin(), &events, ts("2026-04-22T10:00:00Z")).unwrap();
        assert_eq!(cycles.len(), 2);
        assert_eq!(
            (cycles[0].cycle, cycles[0].state),
            (1, ClockState::Breached)
        );
        assert_eq!(cycles[0].overdue, hours(2));
        assert_eq!((cycles[1].cycle, cycles[1].state), (2, ClockState::Running));
        assert_eq!(cycles[1].started_at, ts("2026-04-22T09:00:00Z"));
        assert_eq!(cycles[1].elapsed, hours(1));
        assert_eq!(cycles[1].due_at, ts("2026-04-22T13:00:00Z"));
        let current = compute_clock(&r, &admin(), &events, ts("2026-04-22T10:00:00Z"))
            .unwrap()
            .unwrap();
        assert_eq!(current, cycles[1]);
        // Replaying as of before the reopen shows a single, finished cycle.
        let before = compute_cycles(&r, &admin(), &events, ts("2026-04-21T00:00:00Z")).unwrap();
        assert_eq!(before.len(), 1);
    }

    #[test]
    fn events_out_of_order_are_sorted() {
        let r = rules(ClockKind::Always, hours(4));
        let ordered = [
            start("2026-04-20T10:00:00Z"),
            pause("2026-04-20T11:00:00Z", PauseReason::AwaitingResident),
            resume("2026-04-20T12:00:00Z"),
        ];
        let shuffled = [ordered[2], ordered[0], ordered[1]];
        assert_eq!(
            clock_at(&r, &ordered, "2026-04-20T13:00:00Z"),
            clock_at(&r, &shuffled, "2026-04-20T13:00:00Z")
        );
    }

    #[test]
    fn a_calendar_without_working_time_is_an_error() {
        let r = rules(ClockKind::BusinessHours, hours(4));
        let closed = BusinessCalendar::new("Africa/Casablanca", WeeklyHours::closed()).unwrap();
        let result = compute_clock(
            &r,
            &closed,
            &[start("2026-04-20T10:00:00Z")],
            ts("2026-04-20T11:00:00Z"),
        );
        assert!(matches!(result, Err(CalendarError::NoWorkingTime { .. })));
    }

    #[test]
    fn events_serialize_with_a_type_tag() {
        let event = pause("2026-04-20T11:00:00Z", PauseReason::ForceMajeure);
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "paused",
                "at": "2026-04-20T11:00:00Z",
                "reason": "force_majeure"
            })
        );
        assert_eq!(serde_json::from_value::<ClockEvent>(json).unwrap(), event);
    }

    /// A clock's events: a start, then pauses and resumes at increasing offsets.
    fn event_logs() -> impl Strategy<Value = (Timestamp, Vec<ClockEvent>, Timestamp)> {
        let step = 0i64..3 * 86_400;
        let pause_kind = prop_oneof![
            Just(Some(PauseReason::AwaitingResident)),
            Just(Some(PauseReason::ThirdParty)),
            Just(Some(PauseReason::ForceMajeure)),
            Just(None), // a resume
        ];
        (
            1_767_225_600i64..1_798_761_600, // during 2026
            prop::collection::vec((step.clone(), pause_kind), 0..8),
            step,
        )
            .prop_map(|(start_second, steps, tail)| {
                let started = Timestamp::from_second(start_second).unwrap();
                let mut at = started;
                let mut events = vec![ClockEvent::Started { at }];
                for (gap, kind) in steps {
                    at += SignedDuration::from_secs(gap);
                    events.push(match kind {
                        Some(reason) => ClockEvent::Paused { at, reason },
                        None => ClockEvent::Resumed { at },
                    });
                }
                (started, events, at + SignedDuration::from_secs(tail))
            })
    }

    fn clock_kinds() -> impl Strategy<Value = ClockKind> {
        prop_oneof![Just(ClockKind::Always), Just(ClockKind::BusinessHours)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn pauses_never_count(
            kind in clock_kinds(),
            target_mins in 1i64..5_000,
            (started, events, now) in event_logs(),
        ) {
            let calendar = admin();
            let r = ClockRules {
                pause_reasons_that_stop_the_clock: vec![
                    PauseReason::AwaitingResident,
                    PauseReason::ForceMajeure,
                ],
                ..rules(kind, mins(target_mins))
            };
            let c = compute_clock(&r, &calendar, &events, now).unwrap().unwrap();
            let without_pauses = kind.elapsed(&calendar, started, now);

            prop_assert!(!c.elapsed.is_negative());
            prop_assert!(!c.paused.is_negative());
            prop_assert_eq!(c.elapsed + c.paused, without_pauses);
            prop_assert_eq!(c.remaining - c.overdue, r.target - c.elapsed);

            let breached = c.state == ClockState::Breached;
            prop_assert_eq!(breached, c.due_at < now);
            if breached {
                prop_assert!(c.elapsed >= r.target);
                prop_assert_eq!(c.warnings_crossed.len(), 3);
            } else {
                // Every pause happened before the due time, which moved by exactly the
                // paused clock time.
                prop_assert!(c.elapsed <= r.target);
                let expected = kind.add(&calendar, started, r.target + c.paused).unwrap();
                prop_assert_eq!(c.due_at, expected);
            }
            let times: Vec<Timestamp> = c.warnings_crossed.iter().map(|w| w.at).collect();
            prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));
            prop_assert!(times.iter().all(|&at| at <= c.due_at && at < now));
        }

        #[test]
        fn later_is_never_less_elapsed(
            kind in clock_kinds(),
            (_, events, now) in event_logs(),
            later in 0i64..7 * 86_400,
        ) {
            let calendar = admin();
            let r = rules(kind, hours(10));
            let at = |now| compute_clock(&r, &calendar, &events, now).unwrap().unwrap();
            let later = now + SignedDuration::from_secs(later);
            prop_assert!(at(later).elapsed >= at(now).elapsed);
            prop_assert!(at(later).paused >= at(now).paused);
        }
    }
}
