//! A report's SLA clocks, derived from its history.
//!
//! The history is read as [`Milestone`]s. Each stretch of the report's life with one
//! contract (an *assignment*) is measured against that contract's policy: routing starts
//! the acknowledge, resolve and on-site clocks; acknowledging stops the first, starting work
//! on site the first and third, resolving all three; a reopen starts new cycles. A report
//! that leaves the operator (re-routed to another contract, marked duplicate, dismissed)
//! drops the cycles still running at that moment: a breach before it stays on record. An
//! operator's "not ours" does not stop the clock: if staff route the report back, the time
//! in between counts, so rejecting cannot reset a clock.

use super::calendar::{BusinessCalendar, CalendarError};
use super::clock::{ClockEvent, ClockSnapshot, ClockState, compute_cycles};
use super::policy::{Metric, PauseReason, SlaPolicy};
use crate::event_data::{EventData, Routed};
use crate::lifecycle::Action;
use crate::{ContractId, EventKind, OperatorId, Priority, ServiceCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::BTreeMap;

/// What in a report's history matters to its clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    Routed {
        operator: OperatorId,
        contract: ContractId,
    },
    Acknowledged,
    /// Work started on site.
    WorkStarted,
    Paused(PauseReason),
    Resumed,
    Resolved,
    Reopened,
    /// No longer the operator's: marked a duplicate or dismissed.
    Withdrawn,
}

impl Milestone {
    /// Reads a stored event (`routed`, or a `status_changed` with its action). Data that
    /// does not read as its kind's (see [`EventData`]) is no milestone.
    pub fn from_event(kind: EventKind, data: &Value) -> Option<Self> {
        let routing = |r: Routed| Milestone::Routed {
            operator: r.operator_id,
            contract: r.contract_id,
        };
        match kind {
            EventKind::Routed | EventKind::StatusChanged => {}
            _ => return None,
        }
        match EventData::from_stored(kind, data).ok()? {
            EventData::Routed(r) => Some(routing(r)),
            EventData::StatusChanged(change) => match change.action {
                Action::Route => change.routing.map(routing),
                Action::Acknowledge => Some(Milestone::Acknowledged),
                Action::Start => Some(Milestone::WorkStarted),
                Action::Pause => change
                    .reason
                    .as_deref()
                    .and_then(PauseReason::parse)
                    .map(Milestone::Paused),
                Action::Resume => Some(Milestone::Resumed),
                Action::Resolve => Some(Milestone::Resolved),
                Action::Reopen => Some(Milestone::Reopened),
                Action::MarkDuplicate | Action::Dismiss => Some(Milestone::Withdrawn),
                Action::RejectNotOurs | Action::Confirm | Action::AutoClose => None,
            },
            _ => None,
        }
    }

    /// What this milestone does to each metric's clock.
    fn clock_events(self, at: Timestamp) -> Vec<(Metric, ClockEvent)> {
        use Metric::*;
        let all = |event: ClockEvent| [Acknowledge, Resolve, OnSite].map(|m| (m, event)).to_vec();
        let stopped = ClockEvent::Stopped { at };
        match self {
            Milestone::Routed { .. } | Milestone::Reopened => all(ClockEvent::Started { at }),
            Milestone::Acknowledged => vec![(Acknowledge, stopped)],
            Milestone::WorkStarted => vec![(Acknowledge, stopped), (OnSite, stopped)],
            Milestone::Paused(reason) => all(ClockEvent::Paused { at, reason }),
            Milestone::Resumed => all(ClockEvent::Resumed { at }),
            Milestone::Resolved => all(stopped),
            Milestone::Withdrawn => Vec::new(),
        }
    }
}

/// A warning threshold (percent of the target) or the breach (100) the clock went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alarm {
    pub percent: u8,
    pub at: Timestamp,
}

impl Alarm {
    pub const BREACH: u8 = 100;
}

/// One clock of a report: a metric, a cycle, under one contract's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketClock {
    pub metric: Metric,
    pub operator: OperatorId,
    pub contract: ContractId,
    pub policy_version: u32,
    pub snapshot: ClockSnapshot,
    /// Thresholds passed, in order, the breach last.
    pub alarms: Vec<Alarm>,
    /// When the next threshold will be passed if the clock keeps running; `None` when it
    /// is paused, stopped, or past every threshold.
    pub next_alarm_at: Option<Timestamp>,
    /// When the report left the operator, for cycles that ended that way.
    pub withdrawn_at: Option<Timestamp>,
}

/// A report's clocks as of `now`, in order of assignment, metric and cycle. Cycles are
/// numbered per metric across assignments, dropped ones included, so a number always
/// names the same cycle. `policy_for` gives the policy version in force
/// for a contract when the report was created (`None`: the contract has no SLA).
pub fn ticket_clocks<'p>(
    history: &[(Timestamp, Milestone)],
    service: &ServiceCode,
    priority: Priority,
    policy_for: impl Fn(ContractId) -> Option<&'p SlaPolicy>,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Result<Vec<TicketClock>, CalendarError> {
    struct Assignment {
        operator: OperatorId,
        contract: ContractId,
        until: Option<Timestamp>,
        events: BTreeMap<Metric, Vec<ClockEvent>>,
    }
    let mut assignments: Vec<Assignment> = Vec::new();
    for &(at, milestone) in history {
        let open = assignments.last_mut().filter(|a| a.until.is_none());
        match (milestone, open) {
            (Milestone::Routed { contract, .. }, Some(current)) if current.contract == contract => {
                // Routed back after a "not ours": the same clocks go on.
                continue;
            }
            (Milestone::Routed { operator, contract }, open) => {
                if let Some(previous) = open {
                    previous.until = Some(at);
                }
                assignments.push(Assignment {
                    operator,
                    contract,
                    until: None,
                    events: BTreeMap::new(),
                });
            }
            (Milestone::Withdrawn, Some(current)) => {
                current.until = Some(at);
                continue;
            }
            (_, None) => continue,
            (_, Some(_)) => {}
        }
        let current = assignments.last_mut().expect("an assignment is open");
        for (metric, event) in milestone.clock_events(at) {
            current.events.entry(metric).or_default().push(event);
        }
    }

    let mut clocks = Vec::new();
    let mut cycles_so_far: BTreeMap<Metric, u32> = BTreeMap::new();
    for assignment in &assignments {
        let Some(policy) = policy_for(assignment.contract) else {
            continue;
        };
        for (metric, events) in &assignment.events {
            let Some(rules) = policy.clock_rules(*metric, service, priority) else {
                continue;
            };
            let as_of = assignment.until.map_or(now, |until| until.min(now));
            let offset = cycles_so_far.entry(*metric).or_default();
            let cycles = compute_cycles(&rules, calendar, events, as_of)?;
            let count = cycles.len() as u32;
            for mut snapshot in cycles {
                let running = matches!(snapshot.state, ClockState::Running | ClockState::Paused);
                let breached_unmet =
                    snapshot.state == ClockState::Breached && snapshot.met_at.is_none();
                if assignment.until.is_some() && running {
                    continue;
                }
                snapshot.cycle += *offset;
                let mut alarms: Vec<Alarm> = snapshot
                    .warnings_crossed
                    .iter()
                    .map(|w| Alarm {
                        percent: w.percent,
                        at: w.at,
                    })
                    .collect();
                if let Some(at) = snapshot.breached_at {
                    alarms.push(Alarm {
                        percent: Alarm::BREACH,
                        at,
                    });
                }
                let next_alarm_at =
                    if snapshot.state == ClockState::Running && assignment.until.is_none() {
                        next_threshold(&rules.warning_thresholds, &snapshot)
                            .map(|to_go| rules.clock.add(calendar, now, to_go))
                            .transpose()?
                    } else {
                        None
                    };
                clocks.push(TicketClock {
                    metric: *metric,
                    operator: assignment.operator,
                    contract: assignment.contract,
                    policy_version: policy.version,
                    snapshot,
                    alarms,
                    next_alarm_at,
                    withdrawn_at: assignment.until.filter(|_| breached_unmet || running),
                });
            }
            *offset += count;
        }
    }
    Ok(clocks)
}

/// Clock time until the first threshold not yet passed, if any is left.
fn next_threshold(
    thresholds: &super::policy::WarningThresholds,
    snapshot: &ClockSnapshot,
) -> Option<SignedDuration> {
    let passed = snapshot
        .warnings_crossed
        .iter()
        .map(|w| w.percent)
        .max()
        .unwrap_or(0);
    let percent = thresholds
        .as_slice()
        .iter()
        .copied()
        .chain([Alarm::BREACH])
        .filter(|p| *p > passed)
        .min()?;
    if snapshot.breached_at.is_some() {
        return None;
    }
    let at_threshold = snapshot.target * i32::from(percent) / 100;
    Some(at_threshold - snapshot.elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::policy::tests::{code, target, waste_policy};
    use crate::sla::{ClockKind, SlaPolicyId};
    use uuid::Uuid;

    fn ts(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    fn calendar() -> BusinessCalendar {
        BusinessCalendar::moroccan_administration("Africa/Casablanca").unwrap()
    }

    /// 24/7: acknowledge in 4 h, resolve in 10 h; warnings at 50/75/90 %.
    fn policy(contract: ContractId) -> SlaPolicy {
        let mut p = waste_policy();
        p.id = SlaPolicyId(Uuid::nil());
        p.contract = contract;
        p.clock = ClockKind::Always;
        p.targets = vec![
            target(Metric::Acknowledge, None, None, 4),
            target(Metric::Resolve, None, None, 10),
        ];
        p.validate().unwrap();
        p
    }

    const A: ContractId = ContractId(Uuid::from_u128(1));
    const B: ContractId = ContractId(Uuid::from_u128(2));

    fn routed(contract: ContractId) -> Milestone {
        Milestone::Routed {
            operator: OperatorId(contract.0),
            contract,
        }
    }

    fn clocks(history: &[(&str, Milestone)], now: &str) -> Vec<TicketClock> {
        let (a, b) = (policy(A), policy(B));
        let history: Vec<_> = history.iter().map(|(at, m)| (ts(at), *m)).collect();
        ticket_clocks(
            &history,
            &code("litter"),
            Priority::Normal,
            |c| [&a, &b].into_iter().find(|p| p.contract == c),
            &calendar(),
            ts(now),
        )
        .unwrap()
    }

    fn summary(clocks: &[TicketClock]) -> Vec<(Metric, u32, ClockState, ContractId)> {
        clocks
            .iter()
            .map(|c| (c.metric, c.snapshot.cycle, c.snapshot.state, c.contract))
            .collect()
    }

    #[test]
    fn events_become_milestones() {
        let contract = Uuid::now_v7();
        let operator = Uuid::now_v7();
        let routing = serde_json::json!({"operator_id": operator, "contract_id": contract});
        assert_eq!(
            Milestone::from_event(EventKind::Routed, &routing),
            Some(Milestone::Routed {
                operator: OperatorId(operator),
                contract: ContractId(contract)
            })
        );
        let pause = serde_json::json!({"action": "pause", "from": "in_progress", "to": "paused",
            "reason": "third_party"});
        assert_eq!(
            Milestone::from_event(EventKind::StatusChanged, &pause),
            Some(Milestone::Paused(PauseReason::ThirdParty))
        );
        let misspelt = serde_json::json!({"action": "pause", "from": "in_progress",
            "to": "paused", "raison": "third_party"});
        assert_eq!(
            Milestone::from_event(EventKind::StatusChanged, &misspelt),
            None
        );
        let comment = serde_json::json!({"text": "hello"});
        assert_eq!(Milestone::from_event(EventKind::Comment, &comment), None);
        let reject = serde_json::json!({"action": "reject_not_ours", "from": "new",
            "to": "rejected", "reason": "not ours"});
        assert_eq!(
            Milestone::from_event(EventKind::StatusChanged, &reject),
            None
        );
    }

    #[test]
    fn routing_starts_and_milestones_stop() {
        let c = clocks(
            &[
                ("2026-04-20T08:00:00Z", routed(A)),
                ("2026-04-20T09:00:00Z", Milestone::Acknowledged),
            ],
            "2026-04-20T12:00:00Z",
        );
        assert_eq!(
            summary(&c),
            [
                (Metric::Acknowledge, 1, ClockState::Met, A),
                (Metric::Resolve, 1, ClockState::Running, A),
            ]
        );
        // Resolve: 4 h of 10 elapsed; 50 % falls at 13:00.
        assert_eq!(c[1].alarms, []);
        assert_eq!(c[1].next_alarm_at, Some(ts("2026-04-20T13:00:00Z")));
        assert_eq!(c[1].snapshot.due_at, ts("2026-04-20T18:00:00Z"));
    }

    #[test]
    fn alarms_in_order_then_nothing_left() {
        let c = clocks(
            &[("2026-04-20T08:00:00Z", routed(A))],
            "2026-04-20T16:00:00Z",
        );
        let resolve = &c[1];
        let percents: Vec<u8> = resolve.alarms.iter().map(|a| a.percent).collect();
        assert_eq!(percents, [50, 75]);
        assert_eq!(resolve.next_alarm_at, Some(ts("2026-04-20T17:00:00Z")));
        let late = clocks(
            &[("2026-04-20T08:00:00Z", routed(A))],
            "2026-04-20T19:00:00Z",
        );
        let percents: Vec<u8> = late[1].alarms.iter().map(|a| a.percent).collect();
        assert_eq!(percents, [50, 75, 90, 100]);
        assert_eq!(late[1].alarms[3].at, ts("2026-04-20T18:00:00Z"));
        assert_eq!(late[1].next_alarm_at, None);
        assert_eq!(late[1].snapshot.state, ClockState::Breached);
    }

    #[test]
    fn reroute_to_another_contract_drops_running_cycles_but_keeps_breaches() {
        let c = clocks(
            &[
                ("2026-04-20T08:00:00Z", routed(A)),
                // Acknowledge breached at 12:00; re-routed at 13:00 before resolve was due.
                ("2026-04-20T13:00:00Z", routed(B)),
                ("2026-04-20T14:00:00Z", Milestone::Acknowledged),
            ],
            "2026-04-20T15:00:00Z",
        );
        assert_eq!(
            summary(&c),
            [
                (Metric::Acknowledge, 1, ClockState::Breached, A),
                (Metric::Acknowledge, 2, ClockState::Met, B),
                // Cycle 1 was A's, dropped: numbers are never reused, so alarms raised
                // for A's cycle are not mistaken for B's.
                (Metric::Resolve, 2, ClockState::Running, B),
            ]
        );
        assert_eq!(c[0].withdrawn_at, Some(ts("2026-04-20T13:00:00Z")));
        assert_eq!(c[0].snapshot.overdue, SignedDuration::from_hours(1));
        assert_eq!(c[2].snapshot.started_at, ts("2026-04-20T13:00:00Z"));
    }

    #[test]
    fn not_ours_does_not_reset_the_clock() {
        let c = clocks(
            &[
                ("2026-04-20T08:00:00Z", routed(A)),
                // "Not ours" is not a milestone; staff route it back to the same contract.
                ("2026-04-20T11:00:00Z", routed(A)),
                ("2026-04-20T13:00:00Z", Milestone::Acknowledged),
            ],
            "2026-04-20T15:00:00Z",
        );
        assert_eq!(c[0].snapshot.state, ClockState::Breached);
        assert_eq!(c[0].snapshot.cycle, 1);
        assert_eq!(c[1].snapshot.started_at, ts("2026-04-20T08:00:00Z"));
    }

    #[test]
    fn reopen_starts_new_cycles_and_duplicate_withdraws() {
        let c = clocks(
            &[
                ("2026-04-20T08:00:00Z", routed(A)),
                ("2026-04-20T09:00:00Z", Milestone::WorkStarted),
                ("2026-04-20T10:00:00Z", Milestone::Resolved),
                ("2026-04-21T08:00:00Z", Milestone::Reopened),
                ("2026-04-21T09:00:00Z", Milestone::Withdrawn),
            ],
            "2026-04-22T00:00:00Z",
        );
        assert_eq!(
            summary(&c),
            [
                (Metric::Acknowledge, 1, ClockState::Met, A),
                (Metric::Resolve, 1, ClockState::Met, A),
            ],
            "the reopened cycles were still running when the report was withdrawn"
        );
    }

    #[test]
    fn paused_clock_has_no_next_alarm() {
        let c = clocks(
            &[
                ("2026-04-20T08:00:00Z", routed(A)),
                ("2026-04-20T08:30:00Z", Milestone::Acknowledged),
                // waste_policy stops the clock for force majeure.
                (
                    "2026-04-20T09:00:00Z",
                    Milestone::Paused(PauseReason::ForceMajeure),
                ),
            ],
            "2026-04-21T09:00:00Z",
        );
        assert_eq!(c[1].snapshot.state, ClockState::Paused);
        assert_eq!(c[1].next_alarm_at, None);
        assert_eq!(c[1].snapshot.elapsed, SignedDuration::from_hours(1));
    }

    #[test]
    fn contract_without_policy_has_no_clocks() {
        let history = [(ts("2026-04-20T08:00:00Z"), routed(A))];
        let none = ticket_clocks(
            &history,
            &code("litter"),
            Priority::Normal,
            |_| None,
            &calendar(),
            ts("2026-04-21T00:00:00Z"),
        )
        .unwrap();
        assert!(none.is_empty());
    }
}
