//! The staff dashboard's data: checked filters, the statistics module's figures for them,
//! and what is read live from the reports (figures the roll-ups would show late).

use super::StaffSession;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::public::round6;
use balagh_app::stats::{self, Context};
use balagh_domain::{OperatorId, ReportStatus};
use balagh_store::{TriageQuery, Ts};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;
use time::Date;

/// Longest period the dashboard covers at once.
const MAX_DAYS: i64 = 366;
/// Default period: the last 90 days.
const DEFAULT_DAYS: i64 = 90;
/// Open reports drawn on the map at most.
const MAX_POINTS: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    pub(super) from: Option<String>,
    pub(super) to: Option<String>,
    pub(super) service: Option<String>,
    pub(super) operator: Option<String>,
    /// CSV downloads: `compliance`, `resolution` or `backlog`.
    pub(super) table: Option<String>,
}

/// Checked filters.
#[derive(Debug, Clone)]
pub(super) struct Filters {
    pub(super) from: Date,
    pub(super) to: Date,
    pub(super) service: Option<String>,
    pub(super) operator: Option<(String, OperatorId)>,
}

impl Filters {
    fn parse(ctx: &Context, q: &DashboardQuery) -> Result<Self, String> {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let today = balagh_domain::stats::local_day(time::OffsetDateTime::now_utc(), &ctx.tz);
        let to = match nonempty(&q.to) {
            Some(raw) => stats::parse_date("to", &raw).map_err(|e| e.to_string())?,
            None => today,
        };
        let from = match nonempty(&q.from) {
            Some(raw) => stats::parse_date("from", &raw).map_err(|e| e.to_string())?,
            None => to - time::Duration::days(DEFAULT_DAYS - 1),
        };
        if from > to {
            return Err("from: must not be after to".into());
        }
        if (to - from).whole_days() >= MAX_DAYS {
            return Err(format!("from: at most {MAX_DAYS} days"));
        }
        let service = match nonempty(&q.service) {
            Some(s) if ctx.services.iter().any(|x| x.code.as_str() == s) => Some(s),
            Some(_) => return Err("service: unknown service".into()),
            None => None,
        };
        let operator = match nonempty(&q.operator) {
            Some(slug) => {
                let found = ctx
                    .catalog
                    .operators_of(&ctx.jurisdiction.id)
                    .find(|o| o.operator.slug.as_str() == slug)
                    .map(|o| o.operator.id)
                    .ok_or_else(|| "operator: unknown operator".to_owned())?;
                Some((slug, found))
            }
            None => None,
        };
        Ok(Self {
            from,
            to,
            service,
            operator,
        })
    }

    /// The query string of these filters (without `lang`).
    pub(super) fn query(&self) -> String {
        let mut q = format!("from={}&to={}", self.from, self.to);
        if let Some(s) = &self.service {
            let _ = write!(q, "&service={s}");
        }
        if let Some((o, _)) = &self.operator {
            let _ = write!(q, "&operator={o}");
        }
        q
    }
}

/// Weekly compliance per operator, summed over services: week → operator → (new,
/// resolved, breached).
pub(super) fn weekly(data: &Value) -> BTreeMap<String, BTreeMap<String, (u64, u64, u64)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (u64, u64, u64)>> = BTreeMap::new();
    for r in data["sla_compliance_by_week"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let week = r["week"].as_str().unwrap_or_default().to_owned();
        let operator = r["operator"].as_str().unwrap_or_default().to_owned();
        let e = out.entry(week).or_default().entry(operator).or_default();
        e.0 += r["new"].as_u64().unwrap_or(0);
        e.1 += r["resolved"].as_u64().unwrap_or(0);
        e.2 += r["breached"].as_u64().unwrap_or(0);
    }
    out
}

pub(super) fn within(resolved: u64, breached: u64) -> Option<f64> {
    // Per week: the reports resolved that week (open late ones count in the overview).
    balagh_domain::stats::within_sla_share(resolved, breached, 0)
}

pub(super) const AGES: [(&str, &str); 5] = [
    ("days_0_1", "0–1"),
    ("days_1_3", "1–3"),
    ("days_3_7", "3–7"),
    ("days_7_30", "7–30"),
    ("days_over_30", "> 30"),
];

pub(super) async fn load(
    state: &AppState,
    session: &StaffSession,
    q: &DashboardQuery,
) -> Result<Result<(Context, Filters, Value), String>, ApiError> {
    let Some(ctx) = Context::new(state, Some(session.jurisdiction.as_str())) else {
        return Err(ApiError::NotFound);
    };
    let filters = match Filters::parse(&ctx, q) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let data = stats::dashboard(
        state,
        &ctx,
        filters.from,
        filters.to,
        filters.service.as_deref(),
        filters.operator.as_ref().map(|(_, id)| *id),
    )
    .await?;
    Ok(Ok((ctx, filters, data)))
}

/// Hot-spot cells (GeoJSON polygons with counts) and open report points `[lat, lon]`.
pub(super) async fn map_layers(
    state: &AppState,
    ctx: &Context,
    filters: &Filters,
) -> Result<(Vec<Value>, Vec<Value>), ApiError> {
    let counts = state
        .stale_reads()
        .stats_cell_counts(
            ctx.jurisdiction.id.as_str(),
            filters.from.to_julian_day(),
            filters.to.to_julian_day(),
        )
        .await?;
    let mut per_cell: BTreeMap<i64, i64> = BTreeMap::new();
    for c in counts {
        if filters.service.as_deref().is_none_or(|s| s == c.service) {
            *per_cell.entry(c.cell).or_default() += c.new;
        }
    }
    let cells: Vec<Value> = per_cell
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .filter_map(|(cell, n)| {
            let index = h3o::CellIndex::try_from(u64::try_from(cell).ok()?).ok()?;
            let mut ring: Vec<Value> = index
                .boundary()
                .iter()
                .map(|ll| json!([round6(ll.lng()), round6(ll.lat())]))
                .collect();
            ring.push(ring.first()?.clone());
            Some(json!({
                "id": index.to_string(), "service": "", "count": n,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }))
        })
        .collect();
    let open = state
        .stale_reads()
        .triage_queue(&TriageQuery {
            jurisdiction: ctx.jurisdiction.id.clone(),
            statuses: ReportStatus::OPEN.to_vec(),
            after: None,
            limit: MAX_POINTS,
            newest_first: false,
        })
        .await?;
    let points = open
        .iter()
        .filter(|r| {
            filters
                .service
                .as_deref()
                .is_none_or(|s| s == r.service_code.as_str())
                && filters
                    .operator
                    .as_ref()
                    .is_none_or(|(_, id)| r.operator == Some(*id))
        })
        .map(|r| json!([round5(r.point.lat()), round5(r.point.lon())]))
        .collect();
    Ok((cells, points))
}

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// What the dashboard reads live besides the backlog and the open late reports (which the
/// statistics module reads from the reports already).
pub(super) struct Live {
    /// Reports created in the period, with the filters: exact at once.
    pub(super) new: u64,
    /// The other period figures come from the roll-ups: every report changed before this
    /// time is in them (`None`: not rolled up yet).
    pub(super) rolled_up_to: Option<Ts>,
}

pub(super) async fn live(
    state: &AppState,
    ctx: &Context,
    filters: &Filters,
) -> Result<Live, ApiError> {
    // The primary, not a replica: staff expect what was filed a moment ago.
    let store = state.store();
    let created = store
        .stats_created(
            ctx.jurisdiction.id.as_str(),
            stats::start_of(filters.from, &ctx.tz),
            stats::start_of(filters.to + time::Duration::days(1), &ctx.tz),
        )
        .await?;
    let new = created
        .iter()
        .filter(|c| filters.service.as_deref().is_none_or(|s| s == c.service))
        .filter(|c| {
            filters
                .operator
                .as_ref()
                .is_none_or(|(_, id)| c.operator_id == Some(id.0))
        })
        .map(|c| u64::try_from(c.reports).unwrap_or(0))
        .sum();
    let cursor = state.stale_reads().stats_state().await?.cursor_at;
    // The cursor starts at the epoch: nothing was ever rolled up.
    let rolled_up_to = (cursor.get().unix_timestamp() > 86_400).then_some(cursor);
    Ok(Live { new, rolled_up_to })
}
