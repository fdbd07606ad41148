//! Public statistics: keeping the roll-ups, and everything published from them.
//!
//! - **Roll-ups** ([`run_rollups`]): a job every replica runs (see
//!   [`balagh_store::stats`]) derives each changed report's [`ReportFacts`] with
//!   [`derive_facts`] and applies the domain's changes. The **district** of a report is the
//!   contract zone it was routed to (`contracts.zone_name`, slugged: "Ouest / غرب" →
//!   `ouest`); the demo data has no other district concept. Unrouted reports have none
//!   (`outside-zones` in tables).
//! - **Publication** is the gate's ([`crate::publish`]): releases are computed from these
//!   roll-ups by the release job that runs right after them; nothing here publishes.
//! - The staff dashboard ([`dashboard`]) reads the roll-ups directly: staff see their own
//!   data, unlagged and exact.

use crate::App;
use crate::catalogue::Catalog;
use balagh_domain::stats::{PublicationPolicy, Rating, ReportFacts, Res8Cell};
use balagh_domain::{Channel, JurisdictionId, OperatorId, ReportStatus, ServiceCode, Slug};
use balagh_store::stats::{RollupBatch, RollupJob, StatsRow, StatsSource};
use balagh_store::{StoreError, Ts};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use time::{Date, Duration, OffsetDateTime};

mod dashboard;
pub use dashboard::dashboard;

/// How statistics are published: the deployment's settings; a commune's
/// `statistics` overrides replace thresholds, lag and grid in its [`Context`].
#[derive(Debug, Clone)]
pub struct StatsSettings {
    /// Thresholds, lag, differential privacy.
    pub policy: PublicationPolicy,
    /// How public records are blurred (grid of points).
    pub records: balagh_domain::publish::RecordPolicy,
    /// Licence of the open data (an SPDX id such as `CC-BY-4.0`) and its URL.
    pub licence: String,
    pub licence_url: String,
    /// Who publishes (DCAT `dct:publisher`); default: the jurisdiction's name.
    pub publisher: Option<String>,
    /// How often the roll-up job runs on each replica.
    pub rollup_interval: std::time::Duration,
    /// How long a server keeps a public answer (zero: never; benchmarks measure the
    /// computation that way).
    pub answer_cache: std::time::Duration,
}

impl Default for StatsSettings {
    fn default() -> Self {
        Self {
            policy: PublicationPolicy::default(),
            records: balagh_domain::publish::RecordPolicy::default(),
            licence: "CC-BY-4.0".into(),
            licence_url: "https://creativecommons.org/licenses/by/4.0/".into(),
            publisher: None,
            rollup_interval: std::time::Duration::from_secs(120),
            answer_cache: std::time::Duration::from_secs(120),
        }
    }
}

/// Slug of a contract zone's name: ASCII letters and digits of its first (Latin) part,
/// accents dropped (`Réseau urbain / الشبكة الحضرية` → `reseau-urbain`).
pub fn district_slug(zone_name: &str) -> Option<Slug> {
    let mut out = String::new();
    for c in zone_name.chars() {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' | 'À' | 'Â' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c.to_ascii_lowercase(),
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') && c.is_ascii() {
            out.push('-');
        }
    }
    let slug = out.trim_matches('-').chars().take(64).collect::<String>();
    Slug::parse("district", slug.trim_end_matches('-')).ok()
}

/// What counts as the first acknowledgement: the first operator reaction.
const REACTIONS: [&str; 4] = ["acknowledge", "start", "pause", "resolve"];

/// A report's facts from what the store read; `None` if it cannot be counted (a service or
/// jurisdiction the catalog no longer knows, or an unreadable row).
pub fn derive_facts(catalog: &Catalog, s: &StatsSource) -> Option<ReportFacts> {
    let jurisdiction = Slug::parse("jurisdiction", &s.jurisdiction_id).ok()?;
    let service = ServiceCode::parse(&s.service_code).ok()?;
    let cell = h3_cell(s.cell).and_then(Res8Cell::containing)?;
    let district = s
        .contract_id
        .and_then(|c| catalog.contract(balagh_domain::ContractId(c)))
        .and_then(|c| district_slug(&c.zone_name));
    let field =
        |data: &Value, name: &str| data.get(name).and_then(Value::as_str).map(str::to_owned);
    let acknowledged_at = s
        .status_events
        .iter()
        .find(|(_, d)| field(d, "action").is_some_and(|a| REACTIONS.contains(&a.as_str())))
        .map(|(at, _)| at.get());
    let status = ReportStatus::parse(&s.status)?;
    let resolved_at = if matches!(status, ReportStatus::Resolved | ReportStatus::Closed) {
        s.status_events
            .iter()
            .rev()
            .find(|(_, d)| field(d, "to").as_deref() == Some("resolved"))
            .map(|(at, _)| at.get())
    } else {
        None
    };
    let reopened_at = s
        .status_events
        .iter()
        .filter(|(_, d)| field(d, "to").as_deref() == Some("reopened"))
        .map(|(at, _)| at.get())
        .collect();
    Some(ReportFacts {
        jurisdiction,
        service,
        operator: s.operator_id.map(OperatorId),
        district,
        cell,
        channel: Channel::parse(&s.channel)?,
        created_at: s.created_at.get(),
        acknowledged_at,
        resolved_at,
        reopened_at,
        breached: s.breached,
        rating: s.rating.and_then(|r| Rating::parse(i64::from(r)).ok()),
    })
}

fn h3_cell(raw: i64) -> Option<h3o::CellIndex> {
    h3o::CellIndex::try_from(u64::try_from(raw).ok()?).ok()
}

/// Time zone of a jurisdiction (UTC if unknown).
pub fn time_zone(catalog: &Catalog, jurisdiction: &JurisdictionId) -> jiff::tz::TimeZone {
    catalog
        .jurisdiction(jurisdiction)
        .and_then(|j| jiff::tz::TimeZone::get(&j.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// What a run of the roll-up job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupRun {
    pub batches: usize,
    pub reports: usize,
    pub rows: usize,
    /// Another replica held the lease.
    pub skipped: bool,
}

/// This process's name for leases.
pub fn worker_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| format!("balagh-{}", uuid::Uuid::new_v4().simple()))
}

/// How far each run looks back for changes committed late.
pub const REWIND: Duration = Duration::minutes(5);

/// Brings the roll-ups up to date: batches until nothing is left (or another replica holds
/// the lease).
pub async fn run_rollups(app: &App, worker: &str, batch: u32) -> Result<RollupRun, StoreError> {
    let run = roll_up(app, worker, batch).await?;
    if !run.skipped {
        app.store().release_stats_lease(worker).await?;
    }
    Ok(run)
}

/// The roll-up run itself; the caller gives the lease up (if not `skipped`) once it has
/// done what must run under it (the releases, see [`crate::publish::job`]).
pub async fn roll_up(app: &App, worker: &str, batch: u32) -> Result<RollupRun, StoreError> {
    let catalog = app.catalog();
    let zones: std::sync::Mutex<HashMap<JurisdictionId, jiff::tz::TimeZone>> = Default::default();
    let derive = |s: &StatsSource| derive_facts(&catalog, s);
    let tz = |j: &JurisdictionId| {
        zones
            .lock()
            .expect("time zones")
            .entry(j.clone())
            .or_insert_with(|| time_zone(&catalog, j))
            .clone()
    };
    let mut run = RollupRun::default();
    let mut rewind = Some(REWIND);
    loop {
        let job = RollupJob {
            worker,
            now: Ts::now(),
            lease: Duration::minutes(5),
            limit: batch,
            rewind: rewind.take(),
            derive: &derive,
            time_zone: &tz,
        };
        match app.store().stats_rollup_batch(&job).await? {
            RollupBatch::NotLeader => {
                run.skipped = true;
                return Ok(run);
            }
            RollupBatch::Done {
                reports,
                rows,
                more,
            } => {
                run.batches += 1;
                run.reports += reports;
                run.rows += rows;
                if !more {
                    break;
                }
            }
        }
    }
    Ok(run)
}

// --- periods ---------------------------------------------------------------------------

/// Weeks, months or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Week,
    Month,
    Year,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 3] = [PeriodKind::Week, PeriodKind::Month, PeriodKind::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Year => "year",
        }
    }
}

/// One published period (local days, inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
}

impl Period {
    pub fn containing(kind: PeriodKind, day: Date) -> Self {
        match kind {
            PeriodKind::Week => {
                let first =
                    day - Duration::days(i64::from(day.weekday().number_days_from_monday()));
                Self {
                    kind,
                    first,
                    last: first + Duration::days(6),
                }
            }
            PeriodKind::Month => {
                let first = day.replace_day(1).expect("day 1 exists");
                let last = first
                    .replace_day(day.month().length(day.year()))
                    .expect("last day exists");
                Self { kind, first, last }
            }
            PeriodKind::Year => Self {
                kind,
                first: Date::from_calendar_date(day.year(), time::Month::January, 1)
                    .expect("1 January exists"),
                last: Date::from_calendar_date(day.year(), time::Month::December, 31)
                    .expect("31 December exists"),
            },
        }
    }

    pub fn previous(&self) -> Self {
        Self::containing(self.kind, self.first - Duration::days(1))
    }

    pub fn next(&self) -> Self {
        Self::containing(self.kind, self.last + Duration::days(1))
    }

    /// `2026-W14`, `2026-04` or `2026`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Week => {
                let (year, week, _) = self.first.to_iso_week_date();
                format!("{year}-W{week:02}")
            }
            PeriodKind::Month => {
                format!("{}-{:02}", self.first.year(), u8::from(self.first.month()))
            }
            PeriodKind::Year => self.first.year().to_string(),
        }
    }

    /// Calendar months the period touches (`2026-03`), the ε ledger's scopes.
    pub fn months(&self) -> Vec<String> {
        let mut out = vec![Period::containing(PeriodKind::Month, self.first).label()];
        let last = Period::containing(PeriodKind::Month, self.last).label();
        if out[0] != last {
            out.push(last);
        }
        out
    }
}

/// Parses a local date `YYYY-MM-DD`.
pub fn parse_date(field: &str, raw: &str) -> Result<Date, balagh_domain::FieldError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &format)
        .map_err(|_| balagh_domain::FieldError::new(field, "must be a date such as 2026-03-31"))
}

/// The most periods one request may cover.
pub const MAX_PERIODS: usize = 60;

/// Complete, publishable periods overlapping `[from, to]` (defaults: the last publishable
/// one).
pub fn periods(
    kind: PeriodKind,
    from: Option<Date>,
    to: Option<Date>,
    last_publishable: Date,
) -> Result<Vec<Period>, balagh_domain::FieldError> {
    let mut newest = Period::containing(kind, to.unwrap_or(last_publishable).min(last_publishable));
    if newest.last > last_publishable {
        newest = newest.previous();
    }
    let oldest_day = from.unwrap_or(newest.first);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(balagh_domain::FieldError::new(
            "from",
            "must not be after to",
        ));
    }
    let mut out = Vec::new();
    let mut p = newest;
    while p.last >= oldest_day {
        out.push(p.clone());
        if out.len() > MAX_PERIODS {
            return Err(balagh_domain::FieldError::new(
                "from",
                format!("at most {MAX_PERIODS} periods per request"),
            ));
        }
        p = p.previous();
    }
    out.reverse();
    Ok(out)
}

/// Start of a local day, in UTC.
pub fn start_of(day: Date, tz: &jiff::tz::TimeZone) -> Ts {
    let civil = jiff::civil::date(
        day.year() as i16,
        u8::from(day.month()) as i8,
        day.day() as i8,
    );
    let ts = civil
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    Ts::new(
        OffsetDateTime::from_unix_timestamp_nanos(ts.as_nanosecond())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
    )
}

// --- tables ----------------------------------------------------------------------------

/// Label of rows without a district (reports no contract zone covers).
pub const NO_DISTRICT: &str = "outside-zones";
/// Label of reports without an operator.
pub const NO_OPERATOR: &str = "unrouted";

/// The jurisdiction's publication context.
#[derive(Debug)]
pub struct Context {
    pub catalog: std::sync::Arc<Catalog>,
    pub jurisdiction: balagh_domain::Jurisdiction,
    pub tz: jiff::tz::TimeZone,
    pub policy: PublicationPolicy,
    pub records: balagh_domain::publish::RecordPolicy,
    /// Active services, by code.
    pub services: Vec<balagh_domain::Service>,
    /// Districts (contract zones), sorted, then [`NO_DISTRICT`].
    pub districts: Vec<String>,
}

impl Context {
    pub fn new(app: &App, jurisdiction: Option<&str>) -> Option<Self> {
        let catalog = app.catalog();
        let j = catalog.jurisdiction_or_default(jurisdiction)?.clone();
        let tz = time_zone(&catalog, &j.id);
        let mut services = catalog.services(&j.id).to_vec();
        services.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        let mut districts: Vec<String> = catalog
            .router()
            .contracts()
            .iter()
            .filter(|c| c.jurisdiction == j.id)
            .filter_map(|c| district_slug(&c.zone_name))
            .map(|s| s.as_str().to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        districts.push(NO_DISTRICT.into());
        // The commune's own thresholds, lag and grid, where it has them (issue 22).
        let stats = &app.settings().stats;
        Some(Self {
            policy: j.statistics.publication(&stats.policy),
            records: j.statistics.records(stats.records),
            catalog,
            jurisdiction: j,
            tz,
            services,
            districts,
        })
    }

    pub fn last_publishable_day(&self) -> Date {
        self.policy
            .last_publishable_day(OffsetDateTime::now_utc(), &self.tz)
    }

    pub fn k(&self, service: &str) -> u64 {
        let sensitive = self
            .services
            .iter()
            .find(|s| s.code.as_str() == service)
            .is_some_and(|s| s.sensitive);
        self.policy.k(sensitive)
    }

    pub fn operator_slug(&self, id: Option<OperatorId>) -> String {
        id.and_then(|id| self.catalog.operator(id))
            .map(|o| o.operator.slug.as_str().to_owned())
            .unwrap_or_else(|| NO_OPERATOR.into())
    }
}

/// Minutes of a bucket's upper bound (`None` for the overflow bucket).
fn bucket_minutes(b: Option<balagh_domain::stats::Bucket>) -> Value {
    json!(b.and_then(|b| b.upper_minutes()))
}

/// Share as a fraction with 3 decimals at most.
fn share(x: Option<f64>) -> Value {
    x.map(|v| json!((v * 1000.0).round() / 1000.0))
        .unwrap_or(Value::Null)
}

/// The rows of a period (all cells).
pub async fn period_rows(
    app: &App,
    ctx: &Context,
    first: Date,
    last: Date,
) -> Result<Vec<StatsRow>, StoreError> {
    app.stale_reads()
        .stats_rows(
            ctx.jurisdiction.id.as_str(),
            first.to_julian_day(),
            last.to_julian_day(),
            false,
        )
        .await
}

// --- CSV -------------------------------------------------------------------------------

/// One CSV field (RFC 4180 quoting).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// Feedback of a period: public comments, and ratings left with a comment (suggestions).
pub async fn feedback(
    app: &App,
    ctx: &Context,
    first: Date,
    last: Date,
) -> Result<balagh_domain::stats::Feedback, StoreError> {
    let (comments, ratings) = app
        .store()
        .stats_feedback(
            ctx.jurisdiction.id.as_str(),
            start_of(first, &ctx.tz),
            start_of(last + Duration::days(1), &ctx.tz),
        )
        .await?;
    let suggestions = ratings
        .iter()
        .filter(|d| {
            d.get("comment")
                .and_then(Value::as_str)
                .is_some_and(|c| !c.trim().is_empty())
        })
        .count();
    Ok(balagh_domain::stats::Feedback {
        comments: u64::try_from(comments).unwrap_or(0),
        suggestions: suggestions as u64,
    })
}

/// Month label of a date (for tests and the catalogue's temporal coverage).
pub fn month_start(d: Date) -> Date {
    Date::from_calendar_date(d.year(), d.month(), 1).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn zone_names_become_slugs() {
        assert_eq!(district_slug("Ouest / غرب").unwrap().as_str(), "ouest");
        assert_eq!(
            district_slug("Réseau urbain / الشبكة الحضرية")
                .unwrap()
                .as_str(),
            "reseau-urbain"
        );
        assert!(district_slug("غرب").is_none());
    }

    #[test]
    fn periods_are_complete_and_publishable() {
        let last = date!(2026 - 04 - 07); // a Tuesday
        let weeks = periods(PeriodKind::Week, None, None, last).unwrap();
        assert_eq!(weeks.len(), 1);
        assert_eq!(weeks[0].label(), "2026-W14");
        assert_eq!(
            (weeks[0].first, weeks[0].last),
            (date!(2026 - 03 - 30), date!(2026 - 04 - 05))
        );
        let months = periods(PeriodKind::Month, Some(date!(2026 - 01 - 15)), None, last).unwrap();
        assert_eq!(
            months.iter().map(Period::label).collect::<Vec<_>>(),
            ["2026-01", "2026-02", "2026-03"]
        );
        assert_eq!(weeks[0].months(), ["2026-03", "2026-04"]);
        assert!(periods(PeriodKind::Week, Some(date!(2020 - 01 - 01)), None, last).is_err());
    }
}
