//! Penalty statements: per operator or contract and period, what was measured, what was
//! met, what was breached and what each breach costs, with the evidence for each line.

use super::penalty::{apply_cap, started_hours_late};
use super::policy::{Metric, PenaltyRule};
use crate::ContractId;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// One clock as the statement reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredClock {
    pub reference: String,
    pub service_code: String,
    pub contract: ContractId,
    pub metric: Metric,
    pub cycle: u32,
    pub due_at: Timestamp,
    /// When the metric was met, late or not.
    pub met_at: Option<Timestamp>,
    /// The due time passed without the metric being met.
    pub breached: bool,
    /// Clock time counted against the target (until met, or until now).
    pub elapsed: SignedDuration,
    /// Clock time past the due time (until met, or until the statement's `as_of`).
    pub overdue: SignedDuration,
    /// The penalty rule of the policy version the report is measured against.
    pub penalty: PenaltyRule,
    /// `open`, `accepted` or `rejected` when the breach was disputed.
    pub dispute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricFigures {
    pub metric: Metric,
    /// Clocks met or breached.
    pub measured: usize,
    pub met: usize,
    pub breached: usize,
    /// Still running and not yet due.
    pub pending: usize,
    /// `met / measured`, in percent; `None` when nothing was measured.
    pub percent_within_sla: Option<f64>,
    /// Clock time to meet the metric (business time for business-hours clocks), over the
    /// clocks met, late or not.
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

/// A breach and what it costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PenaltyLine {
    pub reference: String,
    pub service_code: String,
    pub contract_id: uuid::Uuid,
    pub metric: Metric,
    pub cycle: u32,
    pub due_at: Timestamp,
    /// When it was finally met (`None`: still not).
    pub done_at: Option<Timestamp>,
    /// Started hours late (clock hours).
    pub hours_late: i64,
    /// Before any dispute or cap.
    pub amount_minor: i64,
    pub dispute: Option<String>,
    /// An accepted dispute removes the penalty; the line stays on record.
    pub waived: bool,
}

/// Totals of one contract after its cap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractTotal {
    pub contract_id: uuid::Uuid,
    pub lines: usize,
    pub waived_minor: i64,
    /// Sum of the lines not waived.
    pub uncapped_minor: i64,
    pub cap_minor: Option<i64>,
    pub total_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub from: Timestamp,
    pub until: Timestamp,
    pub as_of: Timestamp,
    /// Reports created in the period that had a clock.
    pub tickets: usize,
    pub metrics: Vec<MetricFigures>,
    pub lines: Vec<PenaltyLine>,
    pub contracts: Vec<ContractTotal>,
    /// All contracts, after their caps, in minor units (centimes).
    pub total_minor: i64,
}

/// Builds the statement of clocks of reports created in `[from, until)`. `cap_for` gives a
/// contract's cap per period (that of its policy version in force at the period's end).
pub fn build_statement(
    clocks: &[MeasuredClock],
    from: Timestamp,
    until: Timestamp,
    as_of: Timestamp,
    cap_for: impl Fn(ContractId) -> Option<i64>,
) -> Statement {
    let tickets = clocks
        .iter()
        .map(|c| c.reference.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let metrics = Metric::ALL
        .into_iter()
        .filter(|m| clocks.iter().any(|c| c.metric == *m))
        .map(|metric| figures(metric, clocks.iter().filter(|c| c.metric == metric)))
        .collect();
    let lines: Vec<PenaltyLine> = clocks
        .iter()
        .filter(|c| c.breached)
        .map(|c| {
            let hours_late = started_hours_late(c.overdue);
            let amount_minor =
                c.penalty.per_breach_minor + hours_late * c.penalty.per_started_hour_late_minor;
            PenaltyLine {
                reference: c.reference.clone(),
                service_code: c.service_code.clone(),
                contract_id: c.contract.0,
                metric: c.metric,
                cycle: c.cycle,
                due_at: c.due_at,
                done_at: c.met_at,
                hours_late,
                amount_minor,
                dispute: c.dispute.clone(),
                waived: c.dispute.as_deref() == Some("accepted"),
            }
        })
        .collect();
    let mut by_contract: BTreeMap<uuid::Uuid, Vec<&PenaltyLine>> = BTreeMap::new();
    for line in &lines {
        by_contract.entry(line.contract_id).or_default().push(line);
    }
    let contracts: Vec<ContractTotal> = by_contract
        .into_iter()
        .map(|(contract_id, lines)| {
            let charged: Vec<i64> = lines
                .iter()
                .filter(|l| !l.waived)
                .map(|l| l.amount_minor)
                .collect();
            let cap_minor = cap_for(ContractId(contract_id));
            let period = apply_cap(&charged, cap_minor);
            ContractTotal {
                contract_id,
                lines: lines.len(),
                waived_minor: lines
                    .iter()
                    .filter(|l| l.waived)
                    .map(|l| l.amount_minor)
                    .sum(),
                uncapped_minor: period.uncapped_minor,
                cap_minor,
                total_minor: period.total_minor,
            }
        })
        .collect();
    Statement {
        from,
        until,
        as_of,
        tickets,
        metrics,
        total_minor: contracts.iter().map(|c| c.total_minor).sum(),
        lines,
        contracts,
    }
}

fn figures<'a>(metric: Metric, clocks: impl Iterator<Item = &'a MeasuredClock>) -> MetricFigures {
    let (mut met, mut breached, mut pending) = (0, 0, 0);
    let mut durations: Vec<i64> = Vec::new();
    for c in clocks {
        if c.breached {
            breached += 1;
        } else if c.met_at.is_some() {
            met += 1;
        } else {
            pending += 1;
        }
        if c.met_at.is_some() {
            durations.push(c.elapsed.as_secs());
        }
    }
    durations.sort_unstable();
    let measured = met + breached;
    MetricFigures {
        metric,
        measured,
        met,
        breached,
        pending,
        percent_within_sla: (measured > 0).then(|| 100.0 * met as f64 / measured as f64),
        median_seconds: nearest_rank(&durations, 50),
        p90_seconds: nearest_rank(&durations, 90),
    }
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[i64], percent: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn ts(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    const RULE: PenaltyRule = PenaltyRule {
        per_breach_minor: 50_000,
        per_started_hour_late_minor: 10_000,
        cap_per_period_minor: None,
    };

    fn clock(
        reference: &str,
        metric: Metric,
        hours: i64,
        late_minutes: Option<i64>,
    ) -> MeasuredClock {
        MeasuredClock {
            reference: reference.into(),
            service_code: "litter".into(),
            contract: ContractId(Uuid::from_u128(7)),
            metric,
            cycle: 1,
            due_at: ts("2026-04-20T12:00:00Z"),
            met_at: Some(ts("2026-04-20T12:00:00Z")),
            breached: late_minutes.is_some(),
            elapsed: SignedDuration::from_hours(hours),
            overdue: SignedDuration::from_mins(late_minutes.unwrap_or(0)),
            penalty: RULE,
            dispute: None,
        }
    }

    #[test]
    fn figures_lines_disputes_and_cap() {
        let mut clocks = vec![
            clock("A", Metric::Resolve, 10, None),
            clock("B", Metric::Resolve, 20, None),
            clock("C", Metric::Resolve, 30, Some(90)), // 2 started hours
            clock("D", Metric::Resolve, 40, Some(30)), // 1 started hour, disputed
            clock("A", Metric::Acknowledge, 1, None),
        ];
        clocks[3].dispute = Some("accepted".into());
        let mut pending = clock("E", Metric::Resolve, 2, None);
        pending.met_at = None;
        clocks.push(pending);
        let s = build_statement(
            &clocks,
            ts("2026-04-01T00:00:00Z"),
            ts("2026-05-01T00:00:00Z"),
            ts("2026-05-02T00:00:00Z"),
            |_| Some(60_000),
        );
        assert_eq!(s.tickets, 5);
        let resolve = s
            .metrics
            .iter()
            .find(|m| m.metric == Metric::Resolve)
            .unwrap();
        assert_eq!(
            (
                resolve.measured,
                resolve.met,
                resolve.breached,
                resolve.pending
            ),
            (4, 2, 2, 1)
        );
        assert_eq!(resolve.percent_within_sla, Some(50.0));
        // Met durations 10, 20, 30, 40 h: median (rank 2) 20 h, p90 (rank 4) 40 h.
        assert_eq!(resolve.median_seconds, Some(20 * 3600));
        assert_eq!(resolve.p90_seconds, Some(40 * 3600));
        assert_eq!(s.lines.len(), 2);
        assert_eq!(
            (s.lines[0].hours_late, s.lines[0].amount_minor),
            (2, 70_000)
        );
        assert!(
            s.lines[1].waived,
            "accepted dispute stays on record, waived"
        );
        let total = &s.contracts[0];
        assert_eq!(
            (total.waived_minor, total.uncapped_minor, total.total_minor),
            (60_000, 70_000, 60_000)
        );
        assert_eq!(s.total_minor, 60_000);
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[5], 90), Some(5));
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&ten, 50), Some(5));
        assert_eq!(nearest_rank(&ten, 90), Some(9));
    }
}
