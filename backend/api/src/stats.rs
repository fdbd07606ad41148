//! Public statistics: keeping the roll-ups, and everything published from them.
//!
//! - **Roll-ups** ([`run_rollups`]): a job every replica runs (see
//!   [`balagh_store::stats`]) derives each changed report's [`ReportFacts`] with
//!   [`derive_facts`] and applies the domain's changes. The **district** of a report is the
//!   contract zone it was routed to (`contracts.zone_name`, slugged: "Ouest / غرب" →
//!   `ouest`); the demo data has no other district concept. Unrouted reports have none
//!   (`outside-zones` in tables).
//! - **Publication**: only whole local days up to the policy's last publishable day (48 h
//!   lag by default); weeks (ISO, Monday–Sunday) and calendar months once complete. Every
//!   table goes through the domain's [`suppress`] (k = 5, 10 for sensitive services, with
//!   complementary suppression), every map through [`coarsen`], every record through
//!   [`OpenDataRecord`]. Nothing here reads a description, photo, point or reporter.
//! - **Consistency between the files of one period**: the maps are per service, and a
//!   district whose `new` count is suppressed in the district × service table publishes no
//!   map row for that service; in the other districts, if what the map withholds is under k,
//!   more rows are withheld until it is at least k (else the table's district total minus
//!   the map rows would give it away). The record-level set only lists reports of
//!   published table entries, with the map's area. So counting records or adding map rows
//!   gives back only published figures.
//! - **Differential privacy** (optional): `new` counts of the district × service table get
//!   discrete Laplace noise after capping each reporter's reports; each release is stored
//!   and its ε recorded against each calendar month it covers; the other figures, the maps
//!   and the record-level set are not published in that mode.

use crate::catalog::Catalog;
use crate::state::AppState;
use balagh_domain::stats::{
    Area, CellCount, CountTable, DifferentialPrivacy, DurationHistogram, Entry, OpenDataRecord,
    PublicationPolicy, PublishedTable, Rating, RecordFields, ReleaseId, ReportFacts, Res8Cell,
    RollupValue, coarsen, suppress,
};
use balagh_domain::{
    Channel, JurisdictionId, OperatorId, PublicReference, ReportStatus, ServiceCode, Slug,
};
use balagh_store::stats::{
    ReleaseOutcome, RollupBatch, RollupJob, StatsRow, StatsSource, StoredFacts,
};
use balagh_store::{StoreError, Ts};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use time::{Date, Duration, OffsetDateTime};

/// How statistics are published.
#[derive(Debug, Clone)]
pub struct StatsSettings {
    /// Thresholds, lag, differential privacy.
    pub policy: PublicationPolicy,
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
pub async fn run_rollups(
    state: &AppState,
    worker: &str,
    batch: u32,
) -> Result<RollupRun, StoreError> {
    let catalog = state.catalog();
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
        match state.store().stats_rollup_batch(&job).await? {
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
    state.store().release_stats_lease(worker).await?;
    Ok(run)
}

// --- periods ---------------------------------------------------------------------------

/// Weeks or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Week,
    Month,
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
        }
    }

    pub fn previous(&self) -> Self {
        Self::containing(self.kind, self.first - Duration::days(1))
    }

    pub fn next(&self) -> Self {
        Self::containing(self.kind, self.last + Duration::days(1))
    }

    /// `2026-W14` or `2026-04`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Week => {
                let (year, week, _) = self.first.to_iso_week_date();
                format!("{year}-W{week:02}")
            }
            PeriodKind::Month => {
                format!("{}-{:02}", self.first.year(), u8::from(self.first.month()))
            }
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
    /// Active services, by code.
    pub services: Vec<balagh_domain::Service>,
    /// Districts (contract zones), sorted, then [`NO_DISTRICT`].
    pub districts: Vec<String>,
}

impl Context {
    pub fn new(state: &AppState, jurisdiction: Option<&str>) -> Option<Self> {
        let catalog = state.catalog();
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
        Some(Self {
            policy: state.settings().stats.policy.clone(),
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

    fn service_codes(&self) -> Vec<String> {
        self.services
            .iter()
            .map(|s| s.code.as_str().to_owned())
            .collect()
    }
}

fn district_label(d: Option<&Slug>) -> String {
    d.map(|d| d.as_str().to_owned())
        .unwrap_or_else(|| NO_DISTRICT.into())
}

/// Rows summed per (district, service).
pub fn by_district_service(rows: &[StatsRow]) -> BTreeMap<(String, String), RollupValue> {
    let mut out: BTreeMap<(String, String), RollupValue> = BTreeMap::new();
    for r in rows {
        out.entry((
            district_label(r.key.district.as_ref()),
            r.key.service.as_str().to_owned(),
        ))
        .or_default()
        .merge(&r.value);
    }
    out
}

/// A district × service table of one measure, suppressed.
#[derive(Debug)]
pub struct SuppressedTable {
    pub measure: &'static str,
    pub districts: Vec<String>,
    pub services: Vec<String>,
    pub published: PublishedTable,
    pub suppression: balagh_domain::stats::Suppression,
}

impl SuppressedTable {
    pub fn build(
        ctx: &Context,
        measure: &'static str,
        counts: &BTreeMap<(String, String), u64>,
    ) -> Self {
        let districts = ctx.districts.clone();
        let services = ctx.service_codes();
        let values: Vec<Vec<u64>> = districts
            .iter()
            .map(|d| {
                services
                    .iter()
                    .map(|s| counts.get(&(d.clone(), s.clone())).copied().unwrap_or(0))
                    .collect()
            })
            .collect();
        let table = CountTable::new(districts.clone(), services.clone(), values)
            .expect("labels are distinct and non-empty");
        let suppression = suppress(&table, |_, c| ctx.k(&services[c]));
        Self {
            measure,
            published: suppression.published(),
            districts,
            services,
            suppression,
        }
    }

    pub fn cell(&self, district: &str, service: &str) -> Option<u64> {
        let row = self.districts.iter().position(|d| d == district)?;
        let column = self.services.iter().position(|s| s == service)?;
        self.published.get(Entry::Cell { row, column })
    }

    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .districts
            .iter()
            .enumerate()
            .map(|(r, d)| {
                let cells: Map<String, Value> = self
                    .services
                    .iter()
                    .enumerate()
                    .map(|(c, s)| (s.clone(), json!(self.published.get(Entry::Cell { row: r, column: c }))))
                    .collect();
                json!({"district": d, "services": cells, "total": self.published.get(Entry::RowTotal(r))})
            })
            .collect();
        let totals: Map<String, Value> = self
            .services
            .iter()
            .enumerate()
            .map(|(c, s)| (s.clone(), json!(self.published.get(Entry::ColumnTotal(c)))))
            .collect();
        json!({
            "measure": self.measure,
            "rows": rows,
            "service_totals": totals,
            "grand_total": self.published.get(Entry::GrandTotal),
            "suppressed_entries": self.suppression.suppressed().len(),
        })
    }
}

/// Minutes of a bucket's upper bound (`None` for the overflow bucket).
fn bucket_minutes(b: Option<balagh_domain::stats::Bucket>) -> Value {
    match b {
        Some(b) => json!(b.upper_minutes()),
        None => Value::Null,
    }
}

/// Share as a fraction with 3 decimals at most (never a coordinate-looking number).
fn share(x: Option<f64>) -> Value {
    x.map(|v| json!((v * 1000.0).round() / 1000.0))
        .unwrap_or(Value::Null)
}

/// Per-service figures of a set of rows, each withheld below the service's k.
pub fn service_figures(
    ctx: &Context,
    rows: &BTreeMap<(String, String), RollupValue>,
) -> Vec<Value> {
    let mut per_service: BTreeMap<String, RollupValue> = BTreeMap::new();
    for ((_, s), v) in rows {
        per_service.entry(s.clone()).or_default().merge(v);
    }
    ctx.services
        .iter()
        .map(|service| {
            let code = service.code.as_str();
            let v = per_service.get(code).cloned().unwrap_or_default();
            let k = ctx.k(code);
            let enough = |n: u64| n == 0 || n >= k;
            let resolved_ok = v.resolved >= k;
            json!({
                "service": code,
                "group": service.group.as_str(),
                "reopened": enough(v.reopened).then_some(v.reopened),
                "median_minutes_to_resolve": if resolved_ok { bucket_minutes(v.resolve.median()) } else { Value::Null },
                "p90_minutes_to_resolve": if resolved_ok { bucket_minutes(v.resolve.quantile(0.9)) } else { Value::Null },
                "median_minutes_to_acknowledge": if v.acknowledge.count() >= k { bucket_minutes(v.acknowledge.median()) } else { Value::Null },
                "within_sla": if resolved_ok { share(Some(1.0 - v.breached.min(v.resolved) as f64 / v.resolved as f64)) } else { Value::Null },
                "satisfaction_mean": if v.satisfaction_count >= k { share(v.satisfaction_mean()) } else { Value::Null },
                "ratings": enough(v.satisfaction_count).then_some(v.satisfaction_count),
            })
        })
        .collect()
}

/// The rows of a period (all cells).
pub async fn period_rows(
    state: &AppState,
    ctx: &Context,
    first: Date,
    last: Date,
) -> Result<Vec<StatsRow>, StoreError> {
    state
        .store()
        .stats_rows(
            ctx.jurisdiction.id.as_str(),
            first.to_julian_day(),
            last.to_julian_day(),
            false,
        )
        .await
}

/// `new` counts per (district, service) of a period: exact, or (differential privacy) a
/// stored noisy release.
pub async fn new_counts(
    state: &AppState,
    ctx: &Context,
    period: &Period,
    exact: &BTreeMap<(String, String), RollupValue>,
) -> Result<BTreeMap<(String, String), u64>, PublishError> {
    match ctx.policy.differential_privacy() {
        None => Ok(exact.iter().map(|(k, v)| (k.clone(), v.new)).collect()),
        Some(dp) => noisy_new_counts(state, ctx, period, dp).await,
    }
}

/// Why something could not be published.
#[derive(Debug)]
pub enum PublishError {
    Store(StoreError),
    /// The ε budget of a scope would be exceeded.
    BudgetExhausted(String),
    /// Not published in differential-privacy mode.
    NotInPrivacyMode,
    Invalid(balagh_domain::FieldError),
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> Self {
        PublishError::Store(e)
    }
}

impl From<balagh_domain::FieldError> for PublishError {
    fn from(e: balagh_domain::FieldError) -> Self {
        PublishError::Invalid(e)
    }
}

async fn noisy_new_counts(
    state: &AppState,
    ctx: &Context,
    period: &Period,
    dp: &DifferentialPrivacy,
) -> Result<BTreeMap<(String, String), u64>, PublishError> {
    let jurisdiction = ctx.jurisdiction.id.as_str();
    let release = ReleaseId::parse(&format!("{jurisdiction}/counts/{}", period.label()))?;
    let read = |body: &Value| -> BTreeMap<(String, String), u64> {
        body["counts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| {
                        Some((
                            (c[0].as_str()?.to_owned(), c[1].as_str()?.to_owned()),
                            c[2].as_u64()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(body) = state.store().stats_release(release.as_str()).await? {
        return Ok(read(&body));
    }
    let from = start_of(period.first, &ctx.tz);
    let until = start_of(period.last + Duration::days(1), &ctx.tz);
    let reports = state
        .store()
        .stats_reporter_reports(jurisdiction, from, until)
        .await?;
    let capped = balagh_domain::stats::cap_contributions(
        reports,
        dp.contribution_cap,
        |r| r.reporter.unwrap_or(r.id),
        |r| (r.created_at, r.id),
    );
    let mut exact: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in capped {
        let district = r.district.unwrap_or_else(|| NO_DISTRICT.into());
        *exact.entry((district, r.service)).or_default() += 1;
    }
    let counts = draw_noise(ctx, &exact, dp);
    let body = json!({"release": release.as_str(), "epsilon": dp.epsilon_per_release.to_string(),
        "contribution_cap": dp.contribution_cap, "counts": counts});
    let scopes: Vec<String> = period
        .months()
        .into_iter()
        .map(|m| format!("{jurisdiction}/{m}"))
        .collect();
    match state
        .store()
        .record_release(
            &release,
            &scopes,
            dp.epsilon_per_release,
            dp.budget,
            &body,
            Ts::now(),
        )
        .await?
    {
        ReleaseOutcome::Recorded(body) | ReleaseOutcome::Existing(body) => Ok(read(&body)),
        ReleaseOutcome::Refused(error) => Err(PublishError::BudgetExhausted(error.to_string())),
    }
}

/// Noisy counts of every (district, service), exact ones taken from `exact`.
fn draw_noise(
    ctx: &Context,
    exact: &BTreeMap<(String, String), u64>,
    dp: &DifferentialPrivacy,
) -> Vec<Value> {
    let mut rng = rand::rng();
    let mut counts = Vec::new();
    for d in &ctx.districts {
        for s in ctx.service_codes() {
            let exact = exact.get(&(d.clone(), s.clone())).copied().unwrap_or(0);
            let noisy = balagh_domain::stats::noisy_count(
                &mut rng,
                exact,
                dp.epsilon_per_release,
                dp.contribution_cap,
            );
            counts.push(json!([d, s, noisy]));
        }
    }
    counts
}

/// One period's published tables: `new` (and, without differential privacy, `resolved`)
/// by district × service, and per-service figures.
pub async fn period_summary(
    state: &AppState,
    ctx: &Context,
    period: &Period,
) -> Result<(Value, SuppressedTable), PublishError> {
    let rows = period_rows(state, ctx, period.first, period.last).await?;
    let grouped = by_district_service(&rows);
    let new = SuppressedTable::build(ctx, "new", &new_counts(state, ctx, period, &grouped).await?);
    let mut out = json!({
        "period": period.label(),
        "from": period.first.to_string(),
        "to": period.last.to_string(),
        "new": new.to_json(),
    });
    if ctx.policy.differential_privacy().is_none() {
        let resolved: BTreeMap<(String, String), u64> = grouped
            .iter()
            .map(|(k, v)| (k.clone(), v.resolved))
            .collect();
        out["resolved"] = SuppressedTable::build(ctx, "resolved", &resolved).to_json();
        out["services"] = Value::Array(service_figures(ctx, &grouped));
    }
    Ok((out, new))
}

/// Per-operator figures over rows: operator × service `resolved` table, and each
/// operator's share within SLA and median time to resolve (withheld below k).
pub fn operator_figures(ctx: &Context, rows: &[StatsRow]) -> Value {
    let mut per: BTreeMap<(String, String), RollupValue> = BTreeMap::new();
    for r in rows {
        per.entry((
            ctx.operator_slug(r.key.operator),
            r.key.service.as_str().to_owned(),
        ))
        .or_default()
        .merge(&r.value);
    }
    let mut operators: Vec<String> = ctx
        .catalog
        .operators_of(&ctx.jurisdiction.id)
        .map(|o| o.operator.slug.as_str().to_owned())
        .collect();
    operators.sort();
    operators.push(NO_OPERATOR.into());
    let services = ctx.service_codes();
    let values: Vec<Vec<u64>> = operators
        .iter()
        .map(|o| {
            services
                .iter()
                .map(|s| per.get(&(o.clone(), s.clone())).map_or(0, |v| v.resolved))
                .collect()
        })
        .collect();
    let table = CountTable::new(operators.clone(), services.clone(), values).expect("labels");
    let suppression = suppress(&table, |_, c| ctx.k(&services[c]));
    let published = suppression.published();
    let list: Vec<Value> = operators
        .iter()
        .enumerate()
        .map(|(r, o)| {
            let mut total = RollupValue::default();
            let mut k = ctx.policy.k_default();
            for ((op, s), v) in &per {
                if op == o {
                    total.merge(v);
                    k = k.max(ctx.k(s));
                }
            }
            let ok = total.resolved >= k;
            let cells: Map<String, Value> = services
                .iter()
                .enumerate()
                .map(|(c, s)| (s.clone(), json!(published.get(Entry::Cell { row: r, column: c }))))
                .collect();
            json!({
                "operator": o,
                "resolved": published.get(Entry::RowTotal(r)),
                "resolved_by_service": cells,
                "within_sla": if ok { share(Some(1.0 - total.breached.min(total.resolved) as f64 / total.resolved as f64)) } else { Value::Null },
                "median_minutes_to_resolve": if ok { bucket_minutes(total.resolve.median()) } else { Value::Null },
                "p90_minutes_to_resolve": if ok { bucket_minutes(total.resolve.quantile(0.9)) } else { Value::Null },
            })
        })
        .collect();
    json!({"operators": list, "grand_total": published.get(Entry::GrandTotal)})
}

// --- maps ------------------------------------------------------------------------------

/// One published map row of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRow {
    pub service: String,
    pub area: Area,
    pub count: u64,
}

/// The per-service maps of a period, consistent with its `new` table (see the module
/// documentation), and where each (service, cell) went.
pub async fn period_maps(
    state: &AppState,
    ctx: &Context,
    period: &Period,
    table: &SuppressedTable,
    only_service: Option<&str>,
) -> Result<(Vec<MapRow>, HashMap<(String, i64), Option<Area>>), StoreError> {
    let counts = state
        .store()
        .stats_cell_counts(
            ctx.jurisdiction.id.as_str(),
            period.first.to_julian_day(),
            period.last.to_julian_day(),
        )
        .await?;
    let mut per_service: BTreeMap<String, Vec<CellCount>> = BTreeMap::new();
    for c in counts {
        if only_service.is_some_and(|s| s != c.service) {
            continue;
        }
        let Ok(cell) = Res8Cell::from_i64(c.cell) else {
            continue;
        };
        per_service.entry(c.service).or_default().push(CellCount {
            cell,
            district: c.district.and_then(|d| Slug::parse("district", &d).ok()),
            count: u64::try_from(c.new).unwrap_or(0),
        });
    }
    let mut rows = Vec::new();
    let mut placement: HashMap<(String, i64), Option<Area>> = HashMap::new();
    for (service, cells) in per_service {
        let k = ctx.k(&service);
        // Districts whose table entry is suppressed publish nothing for this service.
        let (kept, hidden): (Vec<CellCount>, Vec<CellCount>) = cells.into_iter().partition(|c| {
            table
                .cell(&district_label(c.district.as_ref()), &service)
                .is_some()
        });
        for c in &hidden {
            placement.insert((service.clone(), c.cell.to_i64()), None);
        }
        let coarse = coarsen(&kept, k);
        // Per district, what the map withholds must be 0 or at least k: withhold the
        // smallest rows until it is.
        let district_of: HashMap<Res8Cell, String> = kept
            .iter()
            .map(|c| (c.cell, district_label(c.district.as_ref())))
            .collect();
        let mut area_rows: Vec<(Area, u64)> = coarse
            .rows
            .iter()
            .map(|r| (r.area.clone(), r.count))
            .collect();
        let mut district_total: HashMap<String, u64> = HashMap::new();
        for c in &kept {
            *district_total
                .entry(district_of[&c.cell].clone())
                .or_default() += c.count;
        }
        // What a district withholds is counted from its own cells (an area coarser than a
        // cell may span districts), so it is never negative. Withholding an area to fix one
        // district can change another's, hence the loop until nothing changes.
        let mut withheld_areas: BTreeSet<Area> = BTreeSet::new();
        let published_in = |district: &str, out: &BTreeSet<Area>| {
            kept.iter()
                .filter(|c| district_of[&c.cell] == district)
                .filter(|c| coarse.area_of(c.cell).is_some_and(|a| !out.contains(a)))
                .map(|c| c.count)
                .sum::<u64>()
        };
        let touches = |area: &Area, district: &str| {
            kept.iter()
                .any(|c| district_of[&c.cell] == district && coarse.area_of(c.cell) == Some(area))
        };
        loop {
            let mut changed = false;
            for (district, total) in &district_total {
                loop {
                    let withheld = total.saturating_sub(published_in(district, &withheld_areas));
                    if withheld == 0 || withheld >= k {
                        break;
                    }
                    let smallest = area_rows
                        .iter()
                        .filter(|(a, _)| !withheld_areas.contains(a) && touches(a, district))
                        .min_by_key(|(_, n)| *n)
                        .map(|(a, _)| a.clone());
                    match smallest {
                        Some(a) => {
                            withheld_areas.insert(a);
                            changed = true;
                        }
                        None => break,
                    }
                }
            }
            if !changed {
                break;
            }
        }
        area_rows.retain(|(a, _)| !withheld_areas.contains(a));
        for c in &kept {
            let area = coarse
                .area_of(c.cell)
                .filter(|a| !withheld_areas.contains(*a))
                .cloned();
            placement.insert((service.clone(), c.cell.to_i64()), area);
        }
        rows.extend(area_rows.into_iter().map(|(area, count)| MapRow {
            service: service.clone(),
            area,
            count,
        }));
    }
    Ok((rows, placement))
}

/// A GeoJSON polygon of an H3 cell ([lon, lat] rings, closed), coordinates rounded to 6
/// decimals (cell corners, not anyone's position).
fn cell_polygon(cell: h3o::CellIndex) -> Value {
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

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Map rows as GeoJSON features.
pub fn map_features(period: &Period, rows: &[MapRow]) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            let (geometry, cell, district) = match &r.area {
                Area::Res8(c) => (cell_polygon(c.cell()), Some(c.cell().to_string()), None),
                Area::Res7(c) => (cell_polygon(*c), Some(c.to_string()), None),
                Area::District(d) => (Value::Null, None, Some(d.as_str().to_owned())),
            };
            json!({
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "period": period.label(),
                    "service": r.service,
                    "area_level": r.area.level().as_str(),
                    "h3_cell": cell,
                    "district": district,
                    "new": r.count,
                },
            })
        })
        .collect()
}

// --- record-level ----------------------------------------------------------------------

/// The record-level rows of a period: reports of published `new` table entries, with the
/// map's area.
pub async fn period_records(
    state: &AppState,
    ctx: &Context,
    period: &Period,
) -> Result<Vec<OpenDataRecord>, PublishError> {
    if ctx.policy.differential_privacy().is_some() {
        return Err(PublishError::NotInPrivacyMode);
    }
    let (_, table) = period_summary(state, ctx, period).await?;
    let (_, placement) = period_maps(state, ctx, period, &table, None).await?;
    let from = start_of(period.first, &ctx.tz);
    let until = start_of(period.last + Duration::days(1), &ctx.tz);
    let sources = state
        .store()
        .stats_records(ctx.jurisdiction.id.as_str(), from, until)
        .await?;
    let mut out = Vec::with_capacity(sources.len());
    for s in sources {
        let f: StoredFacts = s.facts;
        let district = f.district.clone();
        if table
            .cell(district.as_deref().unwrap_or(NO_DISTRICT), &f.service)
            .is_none()
        {
            continue;
        }
        let Some(facts) = f.clone().into_domain() else {
            continue;
        };
        let Some(status) = ReportStatus::parse(&s.status) else {
            continue;
        };
        let area = placement
            .get(&(f.service.clone(), facts.cell.to_i64()))
            .cloned()
            .flatten();
        let record = OpenDataRecord::new(RecordFields {
            reference: PublicReference::from_stored(s.reference),
            service: facts.service.clone(),
            district: facts.district.clone(),
            area,
            date: balagh_domain::stats::local_day(facts.created_at, &ctx.tz),
            status,
            to_acknowledge: facts.acknowledged_at.map(|a| a - facts.created_at),
            to_resolve: facts.resolved_at.map(|r| r - facts.created_at),
            operator: facts
                .operator
                .and_then(|o| ctx.catalog.operator(o))
                .map(|o| o.operator.slug.clone()),
        });
        if let Ok(record) = record {
            out.push(record);
        }
    }
    Ok(out)
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

/// A count for a CSV field: empty when withheld.
pub fn opt(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

// --- indicators and dashboard ----------------------------------------------------------

/// Engagement-3 indicators over rows.
pub fn indicators(
    ctx: &Context,
    rows: &[StatsRow],
    feedback: balagh_domain::stats::Feedback,
) -> Value {
    let k = ctx.policy.k_default();
    let domain_rows: Vec<(balagh_domain::stats::RollupKey, RollupValue)> = rows
        .iter()
        .filter_map(|r| {
            Some((
                balagh_domain::stats::RollupKey {
                    jurisdiction: r.key.jurisdiction.clone(),
                    service: r.key.service.clone(),
                    operator: r.key.operator,
                    district: r.key.district.clone(),
                    // All-cells rows: any cell will do, indicators never group by it.
                    cell: placeholder_cell()?,
                    day: r.key.day,
                },
                r.value.clone(),
            ))
        })
        .collect();
    let e = balagh_domain::stats::engagement3(&domain_rows, feedback, k);
    let channels: Map<String, Value> = e
        .reports_by_channel
        .iter()
        .map(|(c, n)| (c.as_str().to_owned(), json!(n)))
        .collect();
    let medians: Map<String, Value> = e
        .median_resolution_by_service
        .iter()
        .map(|(s, b)| {
            let b = if ctx.k(s.as_str()) > k { None } else { *b };
            (s.as_str().to_owned(), bucket_minutes(b))
        })
        .collect();
    let within: Vec<Value> = e
        .within_sla_by_operator
        .iter()
        .map(|(o, w)| {
            json!({
                "operator": ctx.operator_slug(*o),
                "resolved": (w.resolved == 0 || w.resolved >= k).then_some(w.resolved),
                "within_sla": if w.resolved >= k { share(w.share()) } else { Value::Null },
            })
        })
        .collect();
    json!({
        "services_digitalised": e.services_digitalised.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "services_total": ctx.services.len(),
        "channels_in_use": e.channels_in_use.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "reports_by_channel": channels,
        "median_minutes_to_resolve_by_service": medians,
        "within_sla_by_operator": within,
        "satisfaction": {
            "ratings": e.satisfaction.ratings,
            "mean": if e.satisfaction.ratings >= k { share(e.satisfaction.mean()) } else { Value::Null },
        },
        "comments_received": e.feedback.comments,
        "suggestions_received": e.feedback.suggestions,
    })
}

fn placeholder_cell() -> Option<Res8Cell> {
    // Tétouan's centre; only used as a key filler for the all-cells rows.
    balagh_domain::GeoPoint::parse(35.5785, -5.3684)
        .ok()
        .map(|p| Res8Cell::of(&p))
}

/// Feedback of a period: public comments, and ratings left with a comment (suggestions).
pub async fn feedback(
    state: &AppState,
    ctx: &Context,
    first: Date,
    last: Date,
) -> Result<balagh_domain::stats::Feedback, StoreError> {
    let (comments, ratings) = state
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

/// Staff dashboard: SLA compliance by operator and service per week, percentiles, backlog
/// ageing and reopen rate, unlagged and unsuppressed (staff see their own data).
pub async fn dashboard(
    state: &AppState,
    ctx: &Context,
    from: Date,
    to: Date,
    service: Option<&str>,
    operator: Option<OperatorId>,
) -> Result<Value, StoreError> {
    let rows = period_rows(state, ctx, from, to).await?;
    let keep = |svc: &str, op: Option<OperatorId>| {
        service.is_none_or(|s| s == svc) && operator.is_none_or(|o| op == Some(o))
    };
    let mut weekly: BTreeMap<(String, String, String), RollupValue> = BTreeMap::new();
    let mut per_service: BTreeMap<String, RollupValue> = BTreeMap::new();
    let mut total = RollupValue::default();
    for r in rows
        .iter()
        .filter(|r| keep(r.key.service.as_str(), r.key.operator))
    {
        let week = Period::containing(PeriodKind::Week, r.key.day).label();
        weekly
            .entry((
                week,
                ctx.operator_slug(r.key.operator),
                r.key.service.as_str().to_owned(),
            ))
            .or_default()
            .merge(&r.value);
        per_service
            .entry(r.key.service.as_str().to_owned())
            .or_default()
            .merge(&r.value);
        total.merge(&r.value);
    }
    let compliance: Vec<Value> = weekly
        .iter()
        .map(|((week, op, svc), v)| {
            json!({
                "week": week, "operator": op, "service": svc,
                "new": v.new, "resolved": v.resolved, "breached": v.breached,
                "within_sla": share((v.resolved > 0).then(|| 1.0 - v.breached.min(v.resolved) as f64 / v.resolved as f64)),
            })
        })
        .collect();
    let percentiles = |h: &DurationHistogram| json!({"count": h.count(), "p50_minutes": bucket_minutes(h.quantile(0.5)), "p90_minutes": bucket_minutes(h.quantile(0.9))});
    let resolution: Vec<Value> = per_service
        .iter()
        .map(|(s, v)| json!({"service": s, "resolve": percentiles(&v.resolve), "acknowledge": percentiles(&v.acknowledge)}))
        .collect();
    let backlog = state
        .store()
        .stats_backlog(ctx.jurisdiction.id.as_str(), Ts::now())
        .await?;
    let mut aging = [0i64; 5];
    let mut backlog_rows = Vec::new();
    for b in backlog
        .iter()
        .filter(|b| keep(&b.service, b.operator_id.map(OperatorId)))
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
    Ok(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "sla_compliance_by_week": compliance,
        "resolution_by_service": resolution,
        "overall": {
            "new": total.new, "resolved": total.resolved, "reopened": total.reopened,
            "breached": total.breached,
            "reopen_rate": share((total.resolved > 0).then(|| total.reopened as f64 / total.resolved as f64)),
            "within_sla": share((total.resolved > 0).then(|| 1.0 - total.breached.min(total.resolved) as f64 / total.resolved as f64)),
            "resolve": percentiles(&total.resolve),
        },
        "backlog_aging": {
            "days_0_1": aging[0], "days_1_3": aging[1], "days_3_7": aging[2],
            "days_7_30": aging[3], "days_over_30": aging[4],
            "by_service_and_operator": backlog_rows,
        },
    }))
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
