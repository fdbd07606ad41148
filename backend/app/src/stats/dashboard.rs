//! The staff dashboard: read straight from the roll-ups and the live counts, unlagged and
//! unsuppressed (staff see their own data).

use super::{Context, Period, PeriodKind, bucket_minutes, period_rows, share, start_of};
use crate::App;
use balagh_domain::OperatorId;
use balagh_domain::stats::{DurationHistogram, RollupValue};
use balagh_store::stats::{BacklogCount, StatsRow};
use balagh_store::{StoreError, Ts};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::{Date, Duration};

/// The dashboard's optional service and operator filter.
#[derive(Clone, Copy)]
struct Filter<'a> {
    service: Option<&'a str>,
    operator: Option<OperatorId>,
}

impl Filter<'_> {
    /// Whether figures of this service and operator are shown.
    fn keep(&self, svc: &str, op: Option<OperatorId>) -> bool {
        self.service.is_none_or(|s| s == svc) && self.operator.is_none_or(|o| op == Some(o))
    }
}

/// The kept roll-up rows merged per week, operator and service; per service; and overall.
#[derive(Default)]
struct Folded {
    weekly: BTreeMap<(String, String, String), RollupValue>,
    per_service: BTreeMap<String, RollupValue>,
    total: RollupValue,
}

/// Staff dashboard: SLA compliance by operator and service per week, percentiles, backlog
/// ageing and reopen rate, unlagged and unsuppressed (staff see their own data).
pub async fn dashboard(
    app: &App,
    ctx: &Context,
    from: Date,
    to: Date,
    service: Option<&str>,
    operator: Option<OperatorId>,
) -> Result<Value, StoreError> {
    let filter = Filter { service, operator };
    let rows = period_rows(app, ctx, from, to).await?;
    let folded = fold(ctx, &rows, filter);
    let backlog = app
        .stale_reads()
        .stats_backlog(ctx.jurisdiction.id.as_str(), Ts::now())
        .await?;
    let (aging, backlog_rows) = backlog_aging(ctx, &backlog, filter);
    let open_late = open_late(app, ctx, from, to, filter).await?;
    let total = &folded.total;
    Ok(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "sla_compliance_by_week": compliance(&folded.weekly),
        "resolution_by_service": resolution(&folded.per_service),
        "overall": {
            "new": total.new, "resolved": total.resolved, "reopened": total.reopened,
            "breached": total.breached,
            "open_late": open_late,
            "reopen_rate": share((total.resolved > 0).then(|| total.reopened as f64 / total.resolved as f64)),
            "within_sla": balagh_domain::stats::within_sla_share(total.resolved, total.breached, open_late),
            "resolve": percentiles(&total.resolve),
        },
        "backlog_aging": {
            "days_0_1": aging[0], "days_1_3": aging[1], "days_3_7": aging[2],
            "days_7_30": aging[3], "days_over_30": aging[4],
            "by_service_and_operator": backlog_rows,
        },
    }))
}

/// Merges the rows the filter keeps per week, operator and service; per service; overall.
fn fold(ctx: &Context, rows: &[StatsRow], filter: Filter<'_>) -> Folded {
    let mut folded = Folded::default();
    for r in rows
        .iter()
        .filter(|r| filter.keep(r.key.service.as_str(), r.key.operator))
    {
        let week = Period::containing(PeriodKind::Week, r.key.day).label();
        folded
            .weekly
            .entry((
                week,
                ctx.operator_slug(r.key.operator),
                r.key.service.as_str().to_owned(),
            ))
            .or_default()
            .merge(&r.value);
        folded
            .per_service
            .entry(r.key.service.as_str().to_owned())
            .or_default()
            .merge(&r.value);
        folded.total.merge(&r.value);
    }
    folded
}

/// SLA compliance per week, operator and service.
fn compliance(weekly: &BTreeMap<(String, String, String), RollupValue>) -> Vec<Value> {
    weekly
        .iter()
        .map(|((week, op, svc), v)| {
            json!({
                "week": week, "operator": op, "service": svc,
                "new": v.new, "resolved": v.resolved, "breached": v.breached,
                // Weeks judge the reports resolved in them; open late ones count overall.
                "within_sla": balagh_domain::stats::within_sla_share(v.resolved, v.breached, 0),
            })
        })
        .collect()
}

/// A histogram's count, median and 90th percentile.
fn percentiles(h: &DurationHistogram) -> Value {
    json!({"count": h.count(), "p50_minutes": bucket_minutes(h.quantile(0.5)), "p90_minutes": bucket_minutes(h.quantile(0.9))})
}

/// Resolution and acknowledgement percentiles per service.
fn resolution(per_service: &BTreeMap<String, RollupValue>) -> Vec<Value> {
    per_service
        .iter()
        .map(|(s, v)| json!({"service": s, "resolve": percentiles(&v.resolve), "acknowledge": percentiles(&v.acknowledge)}))
        .collect()
}

/// The kept open reports' ages: totals per bucket, and one row per service and operator.
fn backlog_aging(
    ctx: &Context,
    backlog: &[BacklogCount],
    filter: Filter<'_>,
) -> ([i64; 5], Vec<Value>) {
    let mut aging = [0i64; 5];
    let mut backlog_rows = Vec::new();
    for b in backlog
        .iter()
        .filter(|b| filter.keep(&b.service, b.operator_id.map(OperatorId)))
    {
        for (slot, n) in aging.iter_mut().zip(b.buckets) {
            *slot += n;
        }
        backlog_rows.push(json!({
            "service": b.service,
            "operator": ctx.operator_slug(b.operator_id.map(OperatorId)),
            "days_0_1": b.buckets[0], "days_1_3": b.buckets[1], "days_3_7": b.buckets[2],
            "days_7_30": b.buckets[3], "days_over_30": b.buckets[4],
        }));
    }
    (aging, backlog_rows)
}

/// Reports still open whose target passed in the period have missed it already: they
/// count against the share, as of now (no roll-up lag).
async fn open_late(
    app: &App,
    ctx: &Context,
    from: Date,
    to: Date,
    filter: Filter<'_>,
) -> Result<u64, StoreError> {
    let open_late: i64 = app
        .stale_reads()
        .stats_open_late(
            ctx.jurisdiction.id.as_str(),
            start_of(from, &ctx.tz),
            start_of(to + Duration::days(1), &ctx.tz),
            Ts::now(),
        )
        .await?
        .iter()
        .filter(|l| filter.keep(&l.service, l.operator_id.map(OperatorId)))
        .map(|l| l.reports)
        .sum();
    Ok(u64::try_from(open_late).unwrap_or(0))
}
