//! What the public endpoints, files and pages show, from stored releases only.

use super::release::{histogram, round3};
use super::{ListedFigures, OperatorTotals, ProtectedFigures, RecordRow, Release};
use crate::stats::{Context, NO_DISTRICT, PeriodKind};
use balagh_domain::publish::combine;
use balagh_domain::stats::{Bucket, DurationHistogram};
use balagh_store::stats::RecordSource;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The record row of a report of a listed service: no reference, point, time or text.
pub fn record_row(ctx: &Context, r: &RecordSource) -> Option<RecordRow> {
    let facts = r.facts.clone().into_domain()?;
    let minutes = |d: Option<time::Duration>| {
        d.map(|d| u32::try_from(d.whole_minutes().max(0)).unwrap_or(u32::MAX))
    };
    Some(RecordRow {
        service: facts.service.as_str().to_owned(),
        district: r
            .facts
            .district
            .clone()
            .unwrap_or_else(|| NO_DISTRICT.into()),
        h3_cell: facts.cell.cell().to_string(),
        date: balagh_domain::stats::local_day(facts.created_at, &ctx.tz).to_string(),
        status: r.status.clone(),
        minutes_to_acknowledge: minutes(facts.acknowledged_at.map(|a| a - facts.created_at)),
        minutes_to_resolve: minutes(facts.resolved_at.map(|a| a - facts.created_at)),
        operator: ctx.operator_slug(facts.operator),
    })
}

fn add_maps(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn add_sparse(into: &mut Vec<(u8, u64)>, from: &[(u8, u64)]) {
    let mut h = histogram(into);
    h.merge(&histogram(from));
    *into = h.to_sparse();
}

/// Sum of optional figures: `None` as soon as one is missing.
fn sum_all(values: impl IntoIterator<Item = Option<u64>>) -> Option<u64> {
    values
        .into_iter()
        .try_fold(0u64, |acc, v| v.map(|v| acc + v))
}

/// Several releases of one kind as one range: listed figures added up, protected tables
/// combined (entries every release published), monthly-only figures only where every
/// release has them. Everything in the result is a function of the releases alone.
pub fn merge(ctx: &Context, kind: PeriodKind, releases: &[Release]) -> Option<Release> {
    let first = releases.first()?;
    if releases.len() == 1 {
        return Some(first.clone());
    }
    let last = releases.last()?;
    let mut out = first.clone();
    out.id = format!("{}..{}", first.id, last.label);
    out.label = format!("{}..{}", first.label, last.label);
    out.to = last.to.clone();
    out.records = Vec::new();
    out.listed = BTreeMap::new();
    out.operator_totals = BTreeMap::new();
    let mut cells: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in releases {
        for (code, f) in &r.listed {
            let into: &mut ListedFigures = out.listed.entry(code.clone()).or_default();
            add_maps(&mut into.new, &f.new);
            add_maps(&mut into.resolved, &f.resolved);
            add_maps(&mut into.resolved_by_operator, &f.resolved_by_operator);
            into.breached += f.breached;
            into.reopened += f.reopened;
            add_sparse(&mut into.resolve, &f.resolve);
            add_sparse(&mut into.acknowledge, &f.acknowledge);
        }
        for (op, t) in &r.operator_totals {
            let into: &mut OperatorTotals = out.operator_totals.entry(op.clone()).or_default();
            into.resolved += t.resolved;
            into.breached += t.breached;
            add_sparse(&mut into.resolve, &t.resolve);
        }
        for (service, cell, n) in &r.cells {
            *cells.entry((service.clone(), cell.clone())).or_default() += n;
        }
    }
    out.cells = cells.into_iter().map(|((s, c), n)| (s, c, n)).collect();
    // Satisfaction: a mean over the range only where every month published its mean.
    for (code, into) in out.listed.iter_mut() {
        let parts: Vec<(Option<u64>, Option<f64>)> = releases
            .iter()
            .map(|r| {
                r.listed
                    .get(code)
                    .map_or((Some(0), None), |f| (f.ratings, f.satisfaction_mean))
            })
            .collect();
        into.ratings = sum_all(parts.iter().map(|p| p.0));
        into.satisfaction_mean = weighted_mean(&parts);
    }
    let parts: Vec<(Option<u64>, Option<f64>)> = releases
        .iter()
        .map(|r| (r.satisfaction_ratings, r.satisfaction_mean))
        .collect();
    out.satisfaction_ratings = sum_all(parts.iter().map(|p| p.0));
    out.satisfaction_mean = weighted_mean(&parts);
    out.channels = channels_sum(releases);
    out.feedback = releases
        .iter()
        .map(|r| r.feedback)
        .try_fold((0, 0), |acc, f| f.map(|f| (acc.0 + f.0, acc.1 + f.1)));
    out.protected = ctx
        .services
        .iter()
        .filter(|s| !ctx.records.lists(s))
        .map(|s| {
            let code = s.code.as_str();
            let figures: Vec<ProtectedFigures> = releases
                .iter()
                .map(|r| r.protected.get(code).cloned().unwrap_or_default())
                .collect();
            let merged = if kind == PeriodKind::Week || figures.iter().any(|f| f.monthly_only) {
                ProtectedFigures::monthly_only()
            } else {
                ProtectedFigures {
                    monthly_only: false,
                    new: combine(figures.iter().map(|f| &f.new)),
                    resolved: combine(figures.iter().map(|f| &f.resolved)),
                    shares: None,
                    median_minutes_to_acknowledge: None,
                    reopened: sum_all(figures.iter().map(|f| f.reopened)),
                }
            };
            (code.to_owned(), merged)
        })
        .collect();
    Some(out)
}

/// The mean over parts (count, mean) where every part with ratings published its mean.
fn weighted_mean(parts: &[(Option<u64>, Option<f64>)]) -> Option<f64> {
    let mut weight = 0u64;
    let mut sum = 0.0;
    for (count, mean) in parts {
        let count = (*count)?;
        if count == 0 {
            continue;
        }
        weight += count;
        sum += (*mean)? * count as f64;
    }
    (weight > 0).then(|| round3(sum / weight as f64))
}

fn channels_sum(releases: &[Release]) -> Option<BTreeMap<String, Option<u64>>> {
    let mut out: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for r in releases {
        for (c, n) in r.channels.as_ref()? {
            let slot = out.entry(c.clone()).or_insert(Some(0));
            *slot = match (*slot, n) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
    }
    Some(out)
}

fn minutes(b: Option<Bucket>) -> Value {
    json!(b.and_then(|b| b.upper_minutes()))
}

/// Releases are immutable: they judge reports when they resolve (no open late ones).
fn share_of(resolved: u64, breached: u64) -> Option<f64> {
    balagh_domain::stats::within_sla_share(resolved, breached, 0)
}

/// One measure (`new` or `resolved`) by district × service, as the summary shows it:
/// `null` = withheld; a row, column or grand total only where every entry it adds is
/// published.
pub fn table_json(release: &Release, measure: &str) -> Value {
    fn pick<'f>(f: &'f ListedFigures, measure: &str) -> &'f BTreeMap<String, u64> {
        if measure == "new" {
            &f.new
        } else {
            &f.resolved
        }
    }
    let pick_protected = |f: &ProtectedFigures| {
        if measure == "new" {
            f.new.clone()
        } else {
            f.resolved.clone()
        }
    };
    let mut withheld = 0usize;
    let mut totals: Map<String, Value> = Map::new();
    let mut columns: BTreeMap<String, BTreeMap<String, Option<u64>>> = BTreeMap::new();
    for (code, f) in &release.listed {
        let values = pick(f, measure);
        columns.insert(
            code.clone(),
            release
                .districts
                .iter()
                .map(|d| (d.clone(), Some(values.get(d).copied().unwrap_or(0))))
                .collect(),
        );
        totals.insert(code.clone(), json!(values.values().sum::<u64>()));
    }
    for (code, f) in &release.protected {
        let table = pick_protected(f);
        let column: BTreeMap<String, Option<u64>> = release
            .districts
            .iter()
            .map(|d| {
                // A district the service can never have a report in is a structural zero.
                let v = match table.districts.get(d) {
                    Some(v) => *v,
                    None if f.monthly_only => None,
                    None => Some(0),
                };
                (d.clone(), v)
            })
            .collect();
        withheld += column.values().filter(|v| v.is_none()).count();
        columns.insert(code.clone(), column);
        totals.insert(code.clone(), json!(table.total));
    }
    let rows: Vec<Value> = release
        .districts
        .iter()
        .map(|d| {
            let cells: Map<String, Value> = columns
                .iter()
                .map(|(code, c)| (code.clone(), json!(c.get(d).copied().flatten())))
                .collect();
            let total = sum_all(columns.values().map(|c| c.get(d).copied().flatten()));
            json!({"district": d, "services": cells, "total": total})
        })
        .collect();
    let grand = sum_all(totals.values().map(Value::as_u64));
    json!({
        "measure": measure,
        "rows": rows,
        "service_totals": totals,
        "grand_total": grand,
        "suppressed_entries": withheld,
        "protected_levels": release.protected.iter().map(|(code, f)| {
            (code.clone(), json!(if f.monthly_only { "monthly_only".to_owned() } else {
                pick_protected(f).level().as_str().to_owned()
            }))
        }).collect::<Map<String, Value>>(),
    })
}

/// Per-service figures of a release or range.
pub fn service_figures(ctx: &Context, release: &Release) -> Vec<Value> {
    ctx.services
        .iter()
        .map(|service| {
            let code = service.code.as_str();
            if let Some(f) = release.listed.get(code) {
                let resolve: DurationHistogram = histogram(&f.resolve);
                let acknowledge = histogram(&f.acknowledge);
                let resolved: u64 = f.resolved.values().sum();
                json!({
                    "service": code,
                    "group": service.group.as_str(),
                    "records_public": true,
                    "reopened": f.reopened,
                    "median_minutes_to_resolve": minutes(resolve.median()),
                    "p90_minutes_to_resolve": minutes(resolve.quantile(0.9)),
                    "median_minutes_to_acknowledge": minutes(acknowledge.median()),
                    "within_sla": share_of(resolved, f.breached),
                    "satisfaction_mean": f.satisfaction_mean,
                    "ratings": f.ratings,
                })
            } else {
                let f = release.protected.get(code).cloned().unwrap_or_default();
                let shares = f.shares.clone().unwrap_or_default();
                json!({
                    "service": code,
                    "group": service.group.as_str(),
                    "records_public": false,
                    "reopened": f.reopened,
                    "median_minutes_to_resolve": shares.median_minutes_to_resolve,
                    "p90_minutes_to_resolve": shares.p90_minutes_to_resolve,
                    "median_minutes_to_acknowledge": f.median_minutes_to_acknowledge,
                    "within_sla": shares.within_sla,
                    "satisfaction_mean": null,
                    "ratings": null,
                })
            }
        })
        .collect()
}

/// One period (or range) as the summary shows it.
pub fn summary_json(ctx: &Context, release: &Release) -> Value {
    json!({
        "period": release.label,
        "from": release.from,
        "to": release.to,
        "new": table_json(release, "new"),
        "resolved": table_json(release, "resolved"),
        "services": service_figures(ctx, release),
    })
}

/// Per operator: resolved by service (listed services exact, protected ones where their
/// operator entry is published), and over listed services the share within SLA and the
/// median and p90 time to resolve.
pub fn operators_json(release: &Release) -> Value {
    let list: Vec<Value> = release
        .operators
        .iter()
        .map(|op| {
            let mut cells: Map<String, Value> = Map::new();
            for (code, f) in &release.listed {
                cells.insert(
                    code.clone(),
                    json!(f.resolved_by_operator.get(op).copied().unwrap_or(0)),
                );
            }
            for (code, f) in &release.protected {
                let v = match f.resolved.operators.get(op) {
                    Some(v) => *v,
                    None if f.monthly_only || f.resolved.districts.is_empty() => None,
                    None => Some(0),
                };
                cells.insert(code.clone(), json!(v));
            }
            let totals = release.operator_totals.get(op).cloned().unwrap_or_default();
            let resolve = histogram(&totals.resolve);
            json!({
                "operator": op,
                "resolved": sum_all(cells.values().map(Value::as_u64)),
                "resolved_by_service": cells,
                "within_sla": share_of(totals.resolved, totals.breached),
                "median_minutes_to_resolve": minutes(resolve.median()),
                "p90_minutes_to_resolve": minutes(resolve.quantile(0.9)),
            })
        })
        .collect();
    let grand = sum_all(list.iter().map(|o| o["resolved"].as_u64()));
    json!({"operators": list, "grand_total": grand})
}

/// The engagement-3 indicators of a release or range.
pub fn indicators_json(ctx: &Context, release: &Release) -> Value {
    let channels = release.channels.clone();
    let in_use: Vec<String> = channels
        .iter()
        .flatten()
        .filter(|(_, n)| n.is_some_and(|n| n > 0))
        .map(|(c, _)| c.clone())
        .collect();
    let medians: Map<String, Value> = service_figures(ctx, release)
        .into_iter()
        .map(|f| {
            (
                f["service"].as_str().unwrap_or_default().to_owned(),
                f["median_minutes_to_resolve"].clone(),
            )
        })
        .collect();
    let within: Vec<Value> = release
        .operators
        .iter()
        .map(|op| {
            let t = release.operator_totals.get(op).cloned().unwrap_or_default();
            json!({"operator": op, "resolved": t.resolved, "within_sla": share_of(t.resolved, t.breached)})
        })
        .collect();
    json!({
        "services_digitalised": ctx.services.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(),
        "services_total": ctx.services.len(),
        "channels_in_use": in_use,
        "reports_by_channel": channels,
        "median_minutes_to_resolve_by_service": medians,
        "within_sla_by_operator": within,
        "satisfaction": {
            "ratings": release.satisfaction_ratings,
            "mean": release.satisfaction_mean,
        },
        "comments_received": release.feedback.map(|f| f.0),
        "suggestions_received": release.feedback.map(|f| f.1),
    })
}

/// The map's GeoJSON features of a release: listed services' `new` per H3 cell.
pub fn cell_features(release: &Release, only_service: Option<&str>) -> Vec<Value> {
    release
        .cells
        .iter()
        .filter(|(s, ..)| only_service.is_none_or(|o| o == s))
        .filter_map(|(service, cell, n)| {
            let index: h3o::CellIndex = cell.parse().ok()?;
            Some(json!({
                "type": "Feature",
                "geometry": cell_polygon(index),
                "properties": {
                    "period": release.label,
                    "service": service,
                    "area_level": "h3_res8",
                    "h3_cell": cell,
                    "district": null,
                    "new": n,
                },
            }))
        })
        .collect()
}

/// A GeoJSON polygon of an H3 cell, corners rounded to 6 decimals.
fn cell_polygon(cell: h3o::CellIndex) -> Value {
    let round6 = |x: f64| (x * 1e6).round() / 1e6;
    let mut ring: Vec<Value> = cell
        .boundary()
        .iter()
        .map(|ll| json!([round6(ll.lng()), round6(ll.lat())]))
        .collect();
    if let Some(first) = ring.first().cloned() {
        ring.push(first);
    }
    json!({"type": "Polygon", "coordinates": [ring]})
}
