//! One release: every public figure of one complete week, month or year, computed once by
//! the release job and stored as it is (see the module documentation of [`super`]).
//!
//! A release holds only what may be published: the exact figures of listed services, the
//! protected tables of the others (monthly; a year's are combined from its months), and
//! the listed services' record rows. Views never read anything else.

use super::{ListedFigures, ProtectedFigures, Release, ServiceShares};
use crate::stats::{Context, NO_DISTRICT, NO_OPERATOR, Period, PeriodKind, start_of};
use balagh_domain::Channel;
use balagh_domain::publish::{DistrictCount, ProtectedTable, protect};
use balagh_domain::stats::{DurationHistogram, RollupValue};
use balagh_store::StoreError;
use balagh_store::stats::{RecordSource, StatsRow};
use std::collections::{BTreeMap, BTreeSet};
use time::Duration;

/// What a release is computed from (read by the job, then pure).
#[derive(Debug, Default)]
pub struct Sources {
    /// All-cells roll-up rows of the period.
    pub rows: Vec<StatsRow>,
    /// Reports made in the period, with their facts.
    pub records: Vec<RecordSource>,
    /// `new` per (service, district, res-8 cell) of the period.
    pub cells: Vec<balagh_store::stats::CellNewCount>,
    /// Public comments received, and suggestions (ratings left with a comment).
    pub feedback: (u64, u64),
    /// Differential privacy: the noisy monthly `new` of protected services per district.
    pub noisy_new: Option<BTreeMap<(String, String), u64>>,
}

/// Reads what a release of `period` needs.
pub async fn read_sources(
    app: &crate::App,
    ctx: &Context,
    period: &Period,
) -> Result<Sources, StoreError> {
    let store = app.store();
    let j = ctx.jurisdiction.id.as_str();
    let (first, last) = (period.first.to_julian_day(), period.last.to_julian_day());
    let from = start_of(period.first, &ctx.tz);
    let until = start_of(period.last + Duration::days(1), &ctx.tz);
    let feedback = crate::stats::feedback(app, ctx, period.first, period.last).await?;
    Ok(Sources {
        rows: store.stats_rows(j, first, last, false).await?,
        records: store.stats_records(j, from, until).await?,
        cells: store.stats_cell_counts(j, first, last).await?,
        feedback: (feedback.comments, feedback.suggestions),
        noisy_new: None,
    })
}

/// The operator (slug) holding the contract of a service group in a district, as the
/// public knows it from the contracts.
pub fn district_operators(ctx: &Context) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for contract in ctx.catalog.router().contracts() {
        if contract.jurisdiction != ctx.jurisdiction.id {
            continue;
        }
        let Some(district) = crate::stats::district_slug(&contract.zone_name) else {
            continue;
        };
        let operator = ctx.operator_slug(Some(contract.operator));
        out.entry((
            contract.group.as_str().to_owned(),
            district.as_str().to_owned(),
        ))
        .or_insert(operator);
    }
    out
}

fn district_of(row: &StatsRow) -> String {
    row.key
        .district
        .as_ref()
        .map_or_else(|| NO_DISTRICT.to_owned(), |d| d.as_str().to_owned())
}

/// Builds the release of a week or month from its sources (a year is its months merged:
/// see [`super::job`]).
pub fn build(ctx: &Context, period: &Period, sources: Sources) -> Release {
    let listed: BTreeSet<String> = ctx
        .services
        .iter()
        .filter(|s| ctx.records.lists(s))
        .map(|s| s.code.as_str().to_owned())
        .collect();
    let monthly = period.kind == PeriodKind::Month;
    let mut per_service = per_service_values(ctx, &sources.rows);
    let new_from_records = new_from_records(&sources.records);
    let mut release = Release::empty(ctx, period);
    let mut totals = ListedTotals::default();
    for service in &ctx.services {
        let code = service.code.as_str();
        let values = per_service.remove(code).unwrap_or_default();
        if listed.contains(code) {
            let figures =
                listed_figures(ctx, code, &values, &new_from_records, monthly, &mut totals);
            release.listed.insert(code.to_owned(), figures);
        } else {
            let figures = match period.kind {
                PeriodKind::Week => ProtectedFigures::monthly_only(),
                _ => protected_month(ctx, service, &values, &sources),
            };
            release.protected.insert(code.to_owned(), figures);
        }
    }
    release.operator_totals = operator_totals(totals.by_operator);
    if monthly {
        release.channels = Some(channel_row(ctx, totals.channels));
        release.satisfaction_ratings = Some(totals.ratings.0);
        release.satisfaction_mean = (totals.ratings.0 >= ctx.policy.k_default())
            .then(|| round3(totals.ratings.1 as f64 / totals.ratings.0 as f64));
        release.feedback = Some(sources.feedback);
    }
    release.cells = listed_cells(&sources, &listed);
    release.records = sources
        .records
        .iter()
        .filter(|r| listed.contains(&r.facts.service))
        .filter_map(|r| super::view::record_row(ctx, r))
        .collect();
    release
}

/// The roll-up rows merged per service, then per (district, operator).
fn per_service_values(
    ctx: &Context,
    rows: &[StatsRow],
) -> BTreeMap<String, BTreeMap<(String, String), RollupValue>> {
    let mut per_service: BTreeMap<String, BTreeMap<(String, String), RollupValue>> =
        BTreeMap::new();
    for row in rows {
        per_service
            .entry(row.key.service.as_str().to_owned())
            .or_default()
            .entry((district_of(row), ctx.operator_slug(row.key.operator)))
            .or_default()
            .merge(&row.value);
    }
    per_service
}

/// `new` of listed services is counted from the records themselves, so that the record
/// file adds up to the tables exactly: per (service, district).
fn new_from_records(records: &[RecordSource]) -> BTreeMap<(String, String), u64> {
    let mut new_from_records: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in records {
        let district = r
            .facts
            .district
            .clone()
            .unwrap_or_else(|| NO_DISTRICT.into());
        *new_from_records
            .entry((r.facts.service.clone(), district))
            .or_default() += 1;
    }
    new_from_records
}

/// What the listed services add up to across services: reports by channel, ratings
/// (count, sum), and per operator (resolved, breached, time to resolve).
#[derive(Default)]
struct ListedTotals {
    channels: BTreeMap<String, u64>,
    ratings: (u64, u64),
    by_operator: BTreeMap<String, (u64, u64, DurationHistogram)>,
}

/// The exact figures of one listed service; adds its share to `totals`.
fn listed_figures(
    ctx: &Context,
    code: &str,
    values: &BTreeMap<(String, String), RollupValue>,
    new_from_records: &BTreeMap<(String, String), u64>,
    monthly: bool,
    totals: &mut ListedTotals,
) -> ListedFigures {
    let mut figures = ListedFigures::default();
    let mut total = RollupValue::default();
    for ((district, operator), v) in values {
        *figures.resolved.entry(district.clone()).or_default() += v.resolved;
        *figures
            .resolved_by_operator
            .entry(operator.clone())
            .or_default() += v.resolved;
        let op = totals.by_operator.entry(operator.clone()).or_default();
        op.0 += v.resolved;
        op.1 += v.breached;
        op.2.merge(&v.resolve);
        total.merge(v);
    }
    for ((s, district), n) in new_from_records {
        if s == code {
            figures.new.insert(district.clone(), *n);
        }
    }
    figures.breached = total.breached;
    figures.reopened = total.reopened;
    figures.resolve = total.resolve.to_sparse();
    figures.acknowledge = total.acknowledge.to_sparse();
    for (channel, n) in total.new_by_channel.iter() {
        *totals
            .channels
            .entry(channel.as_str().to_owned())
            .or_default() += n;
    }
    totals.ratings.0 += total.satisfaction_count;
    totals.ratings.1 += total.satisfaction_sum;
    if monthly {
        figures.ratings = Some(total.satisfaction_count);
        figures.satisfaction_mean = (total.satisfaction_count >= ctx.k(code))
            .then(|| total.satisfaction_mean())
            .flatten()
            .map(round3);
    }
    figures
}

/// Per operator: resolved, breached and the sparse time-to-resolve histogram.
fn operator_totals(
    by_operator: BTreeMap<String, (u64, u64, DurationHistogram)>,
) -> BTreeMap<String, super::OperatorTotals> {
    by_operator
        .into_iter()
        .map(|(op, (resolved, breached, resolve))| {
            let totals = super::OperatorTotals {
                resolved,
                breached,
                resolve: resolve.to_sparse(),
            };
            (op, totals)
        })
        .collect()
}

/// `new` per (service, H3 cell) of the listed services, cells with reports only.
fn listed_cells(sources: &Sources, listed: &BTreeSet<String>) -> Vec<(String, String, u64)> {
    sources
        .cells
        .iter()
        .filter(|c| listed.contains(&c.service) && c.new > 0)
        .filter_map(|c| {
            let cell = h3o::CellIndex::try_from(u64::try_from(c.cell).ok()?).ok()?;
            Some((c.service.clone(), cell.to_string(), c.new as u64))
        })
        .collect()
}

/// Shares as published: three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Reports by channel of listed services: the whole row, or nothing when a channel in use
/// has fewer than k (a channel is not in any record, so a small one could single someone
/// out, and withholding one cell of a row whose total is public withholds nothing).
fn channel_row(ctx: &Context, channels: BTreeMap<String, u64>) -> BTreeMap<String, Option<u64>> {
    let k = ctx.policy.k_default();
    let whole = channels.values().all(|n| *n == 0 || *n >= k);
    Channel::ALL
        .iter()
        .map(|c| {
            let n = channels.get(c.as_str()).copied().unwrap_or(0);
            (c.as_str().to_owned(), whole.then_some(n))
        })
        .collect()
}

/// A protected service's month: `new` and `resolved` at the finest safe level (or noisy
/// `new` by district with differential privacy), and its shares only where the service's
/// resolved total is published and at least k.
fn protected_month(
    ctx: &Context,
    service: &balagh_domain::Service,
    values: &BTreeMap<(String, String), RollupValue>,
    sources: &Sources,
) -> ProtectedFigures {
    let code = service.code.as_str();
    let k = ctx.k(code);
    let operators = district_operators(ctx);
    let group = service.group.as_str();
    // Every district the service can have a report in: its group's contract zones, those
    // its reports fell in, and "outside every zone".
    let mut districts: BTreeMap<String, String> = operators
        .iter()
        .filter(|((g, _), _)| g == group)
        .map(|((_, d), o)| (d.clone(), o.clone()))
        .collect();
    for (district, operator) in values.keys() {
        districts
            .entry(district.clone())
            .or_insert_with(|| operator.clone());
    }
    districts
        .entry(NO_DISTRICT.into())
        .or_insert_with(|| NO_OPERATOR.into());
    let measure = |f: &dyn Fn(&RollupValue) -> u64| -> Vec<DistrictCount> {
        districts
            .iter()
            .map(|(d, o)| DistrictCount {
                district: d.clone(),
                operator: o.clone(),
                count: values
                    .iter()
                    .filter(|((vd, _), _)| vd == d)
                    .map(|(_, v)| f(v))
                    .sum(),
            })
            .collect()
    };
    let new = match &sources.noisy_new {
        Some(noisy) => noisy_table(&measure(&|v| v.new), code, noisy),
        None => protect(&measure(&|v| v.new), k),
    };
    let resolved = if sources.noisy_new.is_some() {
        ProtectedTable {
            level: Some(balagh_domain::publish::Level::Withheld.as_str().to_owned()),
            districts: districts.keys().map(|d| (d.clone(), None)).collect(),
            operators: districts.values().map(|o| (o.clone(), None)).collect(),
            total: None,
        }
    } else {
        protect(&measure(&|v| v.resolved), k)
    };
    let mut total = RollupValue::default();
    for v in values.values() {
        total.merge(v);
    }
    let shares = (resolved.total.is_some() && total.resolved >= k).then(|| ServiceShares {
        median_minutes_to_resolve: total.resolve.median().and_then(|b| b.upper_minutes()),
        p90_minutes_to_resolve: total.resolve.quantile(0.9).and_then(|b| b.upper_minutes()),
        within_sla: balagh_domain::stats::within_sla_share(total.resolved, total.breached, 0),
    });
    ProtectedFigures {
        monthly_only: false,
        new,
        resolved,
        shares,
        median_minutes_to_acknowledge: (total.acknowledge.count() >= k)
            .then(|| total.acknowledge.median().and_then(|b| b.upper_minutes()))
            .flatten(),
        reopened: (total.reopened == 0 || total.reopened >= k).then_some(total.reopened),
    }
}

/// Differential privacy: the noisy district counts, and their sums.
fn noisy_table(
    districts: &[DistrictCount],
    service: &str,
    noisy: &BTreeMap<(String, String), u64>,
) -> ProtectedTable {
    let mut table = ProtectedTable {
        level: Some(balagh_domain::publish::Level::District.as_str().to_owned()),
        ..Default::default()
    };
    let mut total = 0;
    for d in districts {
        let n = noisy
            .get(&(service.to_owned(), d.district.clone()))
            .copied()
            .unwrap_or(0);
        table.districts.insert(d.district.clone(), Some(n));
        *table
            .operators
            .entry(d.operator.clone())
            .or_insert(Some(0))
            .get_or_insert(0) += n;
        total += n;
    }
    table.total = Some(total);
    table
}

/// A histogram from its stored sparse form.
pub fn histogram(sparse: &[(u8, u64)]) -> DurationHistogram {
    DurationHistogram::from_sparse(sparse).unwrap_or_default()
}
