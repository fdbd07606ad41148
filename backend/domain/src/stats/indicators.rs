//! The engagement-3 indicators of the open-government action plan, computed from roll-up
//! rows of a period (the caller selects the rows: a jurisdiction, a week, a month…).
//!
//! Definitions:
//! - **Services digitalised**: services that received at least one report through a
//!   digital channel (app, web, Open311) in the period.
//! - **Channels in use**: channels through which at least one report arrived.
//! - **Reports by channel**: new reports per channel.
//! - **Median resolution time by service**: the bucket of the median time from creation to
//!   (last) resolution, over the reports resolved in the period, exact to the bucket of
//!   [`histogram`](super::histogram); withheld (`None`) below `min_count` resolutions, so a
//!   median never describes one or two reports.
//! - **% within SLA by operator**: among the reports resolved in the period,
//!   `1 − breached / resolved`, where *breached* means the report missed at least one of its
//!   SLA targets (acknowledge or resolve). Reports still open are not counted. Unrouted
//!   reports have no operator (`None`).
//! - **Satisfaction**: the mean of residents' 1–5 ratings and how many there were.
//! - **Comments and suggestions received**: not in the roll-ups; the caller passes the
//!   counts through ([`Feedback`]).

use super::histogram::Bucket;
use super::rollup::{ChannelCounts, RollupKey, RollupValue};
use crate::{Channel, OperatorId, ServiceCode};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Channels through which a resident reports online.
pub const DIGITAL_CHANNELS: [Channel; 3] = [Channel::App, Channel::Web, Channel::Open311];

/// All rows added up.
pub fn total(rows: &[(RollupKey, RollupValue)]) -> RollupValue {
    let mut out = RollupValue::default();
    for (_, v) in rows {
        out.merge(v);
    }
    out
}

/// Rows added up per group.
fn grouped<G: Ord>(
    rows: &[(RollupKey, RollupValue)],
    group: impl Fn(&RollupKey) -> G,
) -> BTreeMap<G, RollupValue> {
    let mut out: BTreeMap<G, RollupValue> = BTreeMap::new();
    for (k, v) in rows {
        out.entry(group(k)).or_default().merge(v);
    }
    out
}

/// Median resolution bucket per service; `None` with fewer than `min_count` resolutions.
pub fn median_resolution_by_service(
    rows: &[(RollupKey, RollupValue)],
    min_count: u64,
) -> BTreeMap<ServiceCode, Option<Bucket>> {
    grouped(rows, |k| k.service.clone())
        .into_iter()
        .map(|(service, v)| {
            let median = (v.resolve.count() >= min_count.max(1))
                .then(|| v.resolve.median())
                .flatten();
            (service, median)
        })
        .collect()
}

/// Resolved reports and, among them, breached ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WithinSla {
    pub resolved: u64,
    pub breached: u64,
}

impl WithinSla {
    /// `1 − breached / resolved`, in [0, 1]; `None` when nothing was resolved.
    pub fn share(&self) -> Option<f64> {
        (self.resolved > 0)
            .then(|| 1.0 - self.breached.min(self.resolved) as f64 / self.resolved as f64)
    }
}

/// Share of reports resolved within SLA, per operator.
pub fn within_sla_by_operator(
    rows: &[(RollupKey, RollupValue)],
) -> BTreeMap<Option<OperatorId>, WithinSla> {
    grouped(rows, |k| k.operator)
        .into_iter()
        .map(|(operator, v)| {
            (
                operator,
                WithinSla {
                    resolved: v.resolved,
                    breached: v.breached,
                },
            )
        })
        .collect()
}

/// New reports per channel.
pub fn reports_by_channel(rows: &[(RollupKey, RollupValue)]) -> ChannelCounts {
    total(rows).new_by_channel
}

/// Residents' ratings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Satisfaction {
    pub ratings: u64,
    pub sum: u64,
}

impl Satisfaction {
    /// Mean rating (1–5), if any.
    pub fn mean(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.sum as f64 / self.ratings as f64)
    }
}

pub fn satisfaction(rows: &[(RollupKey, RollupValue)]) -> Satisfaction {
    let t = total(rows);
    Satisfaction {
        ratings: t.satisfaction_count,
        sum: t.satisfaction_sum,
    }
}

/// Comments and suggestions received in the period (outside the roll-ups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub comments: u64,
    pub suggestions: u64,
}

/// All engagement-3 indicators of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Engagement3 {
    pub services_digitalised: BTreeSet<ServiceCode>,
    pub channels_in_use: Vec<Channel>,
    pub reports_by_channel: ChannelCounts,
    pub median_resolution_by_service: BTreeMap<ServiceCode, Option<Bucket>>,
    pub within_sla_by_operator: BTreeMap<Option<OperatorId>, WithinSla>,
    pub satisfaction: Satisfaction,
    pub feedback: Feedback,
}

/// Computes every indicator from a period's rows.
pub fn engagement3(
    rows: &[(RollupKey, RollupValue)],
    feedback: Feedback,
    min_count: u64,
) -> Engagement3 {
    let by_service = grouped(rows, |k| k.service.clone());
    let services_digitalised = by_service
        .iter()
        .filter(|(_, v)| {
            DIGITAL_CHANNELS
                .iter()
                .any(|c| v.new_by_channel.get(*c) > 0)
        })
        .map(|(s, _)| s.clone())
        .collect();
    let reports_by_channel = reports_by_channel(rows);
    Engagement3 {
        services_digitalised,
        channels_in_use: reports_by_channel
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, _)| c)
            .collect(),
        reports_by_channel,
        median_resolution_by_service: median_resolution_by_service(rows, min_count),
        within_sla_by_operator: within_sla_by_operator(rows),
        satisfaction: satisfaction(rows),
        feedback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rollup::tests::{casablanca, facts};
    use crate::stats::rollup::{Rating, ReportFacts, contributions};
    use std::collections::BTreeMap;
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};
    use uuid::Uuid;

    fn report(
        service: &str,
        operator: u128,
        channel: Channel,
        resolve_hours: Option<i64>,
        breached: bool,
        rating: Option<i64>,
    ) -> ReportFacts {
        let created: OffsetDateTime = datetime!(2026-04-06 09:00 UTC);
        ReportFacts {
            service: ServiceCode::parse(service).unwrap(),
            operator: Some(OperatorId(Uuid::from_u128(operator))),
            channel,
            created_at: created,
            resolved_at: resolve_hours.map(|h| created + Duration::hours(h)),
            breached,
            rating: rating.map(|r| Rating::parse(r).unwrap()),
            ..facts()
        }
    }

    fn rows(reports: &[ReportFacts]) -> Vec<(RollupKey, RollupValue)> {
        let mut table: BTreeMap<RollupKey, RollupValue> = BTreeMap::new();
        for r in reports {
            for (k, v) in contributions(r, &casablanca()) {
                table.entry(k).or_default().merge(&v);
            }
        }
        table.into_iter().collect()
    }

    #[test]
    fn engagement3_indicators() {
        let reports = vec![
            report("litter", 1, Channel::App, Some(3), false, Some(5)),
            report("litter", 1, Channel::App, Some(7), false, Some(4)),
            report("litter", 1, Channel::Web, Some(30), true, None),
            report("litter", 1, Channel::Phone, None, false, None),
            report("streetlight", 2, Channel::Counter, Some(50), true, Some(1)),
            report("streetlight", 2, Channel::Counter, Some(20), false, None),
        ];
        let all = rows(&reports);
        let e = engagement3(
            &all,
            Feedback {
                comments: 4,
                suggestions: 2,
            },
            3,
        );
        let litter = ServiceCode::parse("litter").unwrap();
        let light = ServiceCode::parse("streetlight").unwrap();
        // Streetlight reports only came through the counter.
        assert_eq!(e.services_digitalised, BTreeSet::from([litter.clone()]));
        assert_eq!(
            e.channels_in_use,
            vec![Channel::App, Channel::Web, Channel::Phone, Channel::Counter]
        );
        assert_eq!(e.reports_by_channel.get(Channel::App), 2);
        assert_eq!(e.reports_by_channel.total(), 6);
        // Litter: 3 h, 7 h, 30 h: the median (2nd) is 7 h, in the 8-hour bucket.
        assert_eq!(
            e.median_resolution_by_service[&litter].map(Bucket::upper_minutes),
            Some(Some(480))
        );
        // Streetlight: only 2 resolved, under min_count.
        assert_eq!(e.median_resolution_by_service[&light], None);
        let op1 = e.within_sla_by_operator[&Some(OperatorId(Uuid::from_u128(1)))];
        assert_eq!(
            op1,
            WithinSla {
                resolved: 3,
                breached: 1
            }
        );
        assert!((op1.share().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        let op2 = e.within_sla_by_operator[&Some(OperatorId(Uuid::from_u128(2)))];
        assert_eq!(op2.share(), Some(0.5));
        assert_eq!(
            e.satisfaction,
            Satisfaction {
                ratings: 3,
                sum: 10
            }
        );
        assert!((e.satisfaction.mean().unwrap() - 10.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.feedback.comments, 4);
    }

    #[test]
    fn nothing_resolved_means_no_share() {
        assert_eq!(WithinSla::default().share(), None);
        assert_eq!(Satisfaction::default().mean(), None);
        let e = engagement3(&[], Feedback::default(), 5);
        assert!(e.services_digitalised.is_empty() && e.channels_in_use.is_empty());
    }
}
