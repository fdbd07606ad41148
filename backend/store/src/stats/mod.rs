//! Public statistics: the roll-up rows, the per-report facts they were built from, the
//! roll-up job's cursor and lease, and differential-privacy releases with their ε ledger.
//! [`StatsStore`] is a supertrait of [`Store`](crate::Store); its SQL is functions of
//! [`Sql`](crate::Sql) (in this module's files, by concern), which each backend delegates to
//! with [`impl_stats_store!`](crate::impl_stats_store).
//!
//! # How the roll-ups are kept
//!
//! Every change to a report bumps `reports.updated_at`. The roll-up job walks reports in
//! `(updated_at, id)` order from a cursor kept in `stats_state`; for each batch, in **one
//! transaction**, it derives each report's [`ReportFacts`] (a pure function the caller
//! passes), compares them with the facts stored for the report at its previous visit, and
//! applies the domain's [`changes`](balagh_domain::stats::changes) to the roll-up rows
//! (read, `RollupValue::apply`, write), then stores the new facts and moves the cursor.
//! Re-reading a report whose facts did not change changes nothing, so the job rewinds its
//! cursor by a few minutes at the start of each run: a transaction that committed late with
//! an older `updated_at` is still seen.
//!
//! Replicas: each batch starts by updating the single `stats_state` row (taking or renewing
//! the lease). That row lock serialises batches across replicas on PostgreSQL (and SQLite
//! has one writer), and the cursor is read under it, so two replicas never apply the same
//! change twice even if a lease expired mid-batch; the lease only keeps the others idle.
//!
//! Rows with `cell = 0` hold the same figures summed over every cell, maintained in the same
//! transaction: what the non-map queries read (a few thousand rows a month instead of
//! hundreds of thousands).

use crate::{Result, Ts};
use balagh_domain::stats::{ReportFacts, Res8Cell, RollupValue};
use balagh_domain::{JurisdictionId, OperatorId, ServiceCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use time::Date;
use uuid::Uuid;

/// What the roll-up job reads about one report.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsSource {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub service_code: String,
    pub operator_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    /// The report's stored H3 cell (resolution 9).
    pub cell: i64,
    pub channel: String,
    pub status: String,
    pub rating: Option<i32>,
    pub created_at: Ts,
    pub updated_at: Ts,
    /// `status_changed` events in order: (at, data with `action`, `from`, `to`).
    pub status_events: Vec<(Ts, Value)>,
    /// Whether any of its SLA clocks was breached.
    pub breached: bool,
}

/// The key of a stored roll-up row: the domain's key, with the cell optional (`None`: the
/// row summed over every cell).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatsKey {
    pub jurisdiction: JurisdictionId,
    pub service: ServiceCode,
    pub operator: Option<OperatorId>,
    pub district: Option<balagh_domain::stats::DistrictId>,
    pub cell: Option<Res8Cell>,
    pub day: Date,
}

impl StatsKey {
    /// The canonical text of the key (the table's primary key).
    pub fn text(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.jurisdiction.as_str(),
            self.service.as_str(),
            self.operator.map(|o| o.0.to_string()).unwrap_or_default(),
            self.district
                .as_ref()
                .map(|d| d.as_str())
                .unwrap_or_default(),
            self.cell.map_or(0, Res8Cell::to_i64),
            self.day.to_julian_day(),
        )
    }

    pub fn from_rollup(key: &balagh_domain::stats::RollupKey, all_cells: bool) -> Self {
        Self {
            jurisdiction: key.jurisdiction.clone(),
            service: key.service.clone(),
            operator: key.operator,
            district: key.district.clone(),
            cell: (!all_cells).then_some(key.cell),
            day: key.day,
        }
    }
}

/// One stored roll-up row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRow {
    pub key: StatsKey,
    pub value: RollupValue,
}

/// Summed `new` counts of one cell, service and district over a period (map queries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellNewCount {
    pub service: String,
    pub district: Option<String>,
    pub cell: i64,
    pub new: i64,
}

/// The facts as stored (JSON), so that a report's previous contribution can be taken out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFacts {
    pub jurisdiction: String,
    pub service: String,
    pub operator: Option<Uuid>,
    pub district: Option<String>,
    pub cell: i64,
    pub channel: String,
    /// Instants in microseconds since the Unix epoch.
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub reopened_at: Vec<i64>,
    pub breached: bool,
    pub rating: Option<u8>,
}

fn micros(at: time::OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

fn instant(micros: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
}

impl StoredFacts {
    pub fn from_domain(f: &ReportFacts) -> Self {
        Self {
            jurisdiction: f.jurisdiction.as_str().to_owned(),
            service: f.service.as_str().to_owned(),
            operator: f.operator.map(|o| o.0),
            district: f.district.as_ref().map(|d| d.as_str().to_owned()),
            cell: f.cell.to_i64(),
            channel: f.channel.as_str().to_owned(),
            created_at: micros(f.created_at),
            acknowledged_at: f.acknowledged_at.map(micros),
            resolved_at: f.resolved_at.map(micros),
            reopened_at: f.reopened_at.iter().copied().map(micros).collect(),
            breached: f.breached,
            rating: f.rating.map(|r| r.value()),
        }
    }

    pub fn into_domain(self) -> Option<ReportFacts> {
        use balagh_domain::stats::Rating;
        Some(ReportFacts {
            jurisdiction: balagh_domain::Slug::parse("jurisdiction", &self.jurisdiction).ok()?,
            service: ServiceCode::parse(&self.service).ok()?,
            operator: self.operator.map(OperatorId),
            district: match self.district {
                Some(d) => Some(balagh_domain::Slug::parse("district", &d).ok()?),
                None => None,
            },
            cell: Res8Cell::from_i64(self.cell).ok()?,
            channel: balagh_domain::Channel::parse(&self.channel)?,
            created_at: instant(self.created_at)?,
            acknowledged_at: match self.acknowledged_at {
                Some(m) => Some(instant(m)?),
                None => None,
            },
            resolved_at: match self.resolved_at {
                Some(m) => Some(instant(m)?),
                None => None,
            },
            reopened_at: self
                .reopened_at
                .into_iter()
                .map(instant)
                .collect::<Option<Vec<_>>>()?,
            breached: self.breached,
            rating: match self.rating {
                Some(r) => Some(Rating::parse(i64::from(r)).ok()?),
                None => None,
            },
        })
    }
}

/// How the roll-up job derives facts and local days: pure functions from the caller.
pub struct RollupJob<'a> {
    /// This replica's name, for the lease.
    pub worker: &'a str,
    pub now: Ts,
    /// How long the lease lasts without renewal.
    pub lease: time::Duration,
    /// Reports per batch (one transaction).
    pub limit: u32,
    /// Moves the cursor back by this much first (the start of a run).
    pub rewind: Option<time::Duration>,
    /// A report's facts; `None`: it is not counted (its previous contribution is removed).
    pub derive: &'a (dyn Fn(&StatsSource) -> Option<ReportFacts> + Send + Sync),
    /// The time zone of a jurisdiction (local days).
    pub time_zone: &'a (dyn Fn(&JurisdictionId) -> jiff::tz::TimeZone + Send + Sync),
}

impl std::fmt::Debug for RollupJob<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollupJob")
            .field("worker", &self.worker)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupBatch {
    /// Another replica holds the lease.
    NotLeader,
    /// Reports read, roll-up rows written or deleted, and whether a full batch was read
    /// (there may be more).
    Done {
        reports: usize,
        rows: usize,
        more: bool,
    },
}

/// The roll-up job's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsState {
    pub cursor_at: Ts,
    pub cursor_id: Uuid,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Ts>,
    /// Bumped by every batch that changed a row (caches of published figures key on it).
    pub revision: i64,
}

/// Open reports already past a due time, per service and operator.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenLate {
    pub service: String,
    pub operator_id: Option<Uuid>,
    pub reports: i64,
}

/// Reports created in a period, per service and operator (read live, not from roll-ups).
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedCount {
    pub service: String,
    pub operator_id: Option<Uuid>,
    pub reports: i64,
}

/// An open report's age, service and operator, for backlog ageing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogCount {
    pub service: String,
    pub operator_id: Option<Uuid>,
    /// Open for 0–1, 1–3, 3–7, 7–30 and more than 30 days.
    pub buckets: [i64; 5],
}

/// One report of a period for the record-level open data, with its stored facts.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSource {
    pub reference: String,
    pub status: String,
    pub facts: StoredFacts,
}

/// One report of a period for differential-privacy counts: who sent it (device or staff
/// member who entered it; `None`: counted as its own reporter) and where it counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ReporterReport {
    pub id: Uuid,
    pub reporter: Option<Uuid>,
    pub created_at: Ts,
    pub service: String,
    pub district: Option<String>,
}

/// What [`StatsStore::record_release`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReleaseOutcome {
    /// Stored now (ε spent).
    Recorded(Value),
    /// Stored before: its body, to publish again as is.
    Existing(Value),
    /// Refused: it would take a scope over its budget.
    Refused(balagh_domain::stats::LedgerError),
}

/// The ε spent so far in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerLine {
    pub scope: String,
    pub release_id: String,
    pub epsilon_micros: i64,
    pub budget_micros: i64,
}

#[crate::async_trait]
pub trait StatsStore {
    /// Runs one batch of the roll-up job (see the module documentation).
    async fn stats_rollup_batch(&self, job: &RollupJob<'_>) -> Result<RollupBatch>;
    /// Gives the lease up (at the end of a run) if this worker holds it.
    async fn release_stats_lease(&self, worker: &str) -> Result<()>;
    async fn stats_state(&self) -> Result<StatsState>;
    /// Forgets every roll-up row and fact and rewinds the cursor: the next run rebuilds all.
    async fn reset_stats(&self) -> Result<()>;
    /// Adds rows to the stored ones (for generators that computed them in memory), in one
    /// transaction.
    async fn merge_stats_rows(&self, rows: &[StatsRow]) -> Result<()>;
    /// Stores facts (generators), replacing any.
    async fn put_stats_facts(&self, facts: &[(Uuid, StoredFacts)]) -> Result<()>;
    /// Moves the cursor (generators: everything before `at` is already rolled up).
    async fn set_stats_cursor(&self, at: Ts) -> Result<()>;

    /// Rows of a jurisdiction for local days `from..=to` (Julian day numbers), either the
    /// all-cells rows or the per-cell rows.
    async fn stats_rows(
        &self,
        jurisdiction: &str,
        from: i32,
        to: i32,
        per_cell: bool,
    ) -> Result<Vec<StatsRow>>;
    /// `new` summed per cell, service and district over `from..=to` (map queries).
    async fn stats_cell_counts(
        &self,
        jurisdiction: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<CellNewCount>>;
    /// Open reports by service, operator and age at `now`.
    async fn stats_backlog(&self, jurisdiction: &str, now: Ts) -> Result<Vec<BacklogCount>>;
    /// Open reports (not paused) whose SLA due time passed within `[from, until)` and before
    /// `now`, per service and operator: they have missed a target already.
    async fn stats_open_late(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
        now: Ts,
    ) -> Result<Vec<OpenLate>>;
    /// Reports created in `[from, until)` per service and operator, from the reports
    /// themselves (the staff dashboard's exact figure, without the roll-up's lag).
    async fn stats_created(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<CreatedCount>>;
    /// Public comments and ratings received in `[from, until)`: (comments, rating events'
    /// data).
    async fn stats_feedback(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<(i64, Vec<Value>)>;
    /// Reports created in `[from, until)` with their stored facts (record-level open data).
    async fn stats_records(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<RecordSource>>;
    /// Reports created in `[from, until)` with their reporter (differential privacy).
    async fn stats_reporter_reports(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<ReporterReport>>;

    /// A stored release's body.
    async fn stats_release(&self, release_id: &str) -> Result<Option<Value>>;
    /// Stored releases by id (those that exist), in no particular order.
    async fn stats_releases(&self, release_ids: &[String]) -> Result<Vec<(String, Value)>>;
    /// Ids of the stored releases whose id starts with `prefix`.
    async fn stats_release_ids(&self, prefix: &str) -> Result<Vec<String>>;
    /// Stores a release that spends no ε, unless one with that id exists: the stored body
    /// either way (releases are immutable).
    async fn put_stats_release(&self, release_id: &str, body: &Value, now: Ts) -> Result<Value>;
    /// The first local day (Julian day number) with roll-up rows in a jurisdiction.
    async fn stats_first_day(&self, jurisdiction: &str) -> Result<Option<i32>>;
    /// Spends `epsilon` in every scope and stores the release, in one transaction; a
    /// release already stored is returned as it was.
    async fn record_release(
        &self,
        release_id: &balagh_domain::stats::ReleaseId,
        scopes: &[String],
        epsilon: balagh_domain::stats::Epsilon,
        budget: balagh_domain::stats::Epsilon,
        body: &Value,
        now: Ts,
    ) -> Result<ReleaseOutcome>;
    /// The ledger lines of scopes (all when empty).
    async fn epsilon_ledger(&self, scopes: &[String]) -> Result<Vec<LedgerLine>>;
}

/// Adds the changes of each report into per-key (remove, add) totals, for the row and for
/// its all-cells row.
pub fn fold_changes(
    changes: impl IntoIterator<Item = balagh_domain::stats::RollupChange>,
    into: &mut BTreeMap<StatsKey, (RollupValue, RollupValue)>,
) {
    for change in changes {
        for all_cells in [false, true] {
            let slot = into
                .entry(StatsKey::from_rollup(&change.key, all_cells))
                .or_default();
            slot.0.merge(&change.remove);
            slot.1.merge(&change.add);
        }
    }
}

/// Rolls a list of rows up into all-cells rows too (generators).
pub fn with_all_cells(
    rows: BTreeMap<balagh_domain::stats::RollupKey, RollupValue>,
) -> Vec<StatsRow> {
    let mut out: BTreeMap<StatsKey, RollupValue> = BTreeMap::new();
    for (key, value) in rows {
        for all_cells in [false, true] {
            out.entry(StatsKey::from_rollup(&key, all_cells))
                .or_default()
                .merge(&value);
        }
    }
    out.into_iter()
        .map(|(key, value)| StatsRow { key, value })
        .collect()
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct RollupRow {
    pub key: String,
    pub jurisdiction_id: String,
    pub service_code: String,
    pub operator_id: Option<Uuid>,
    pub district: Option<String>,
    pub cell: i64,
    pub day: i32,
    pub new: i64,
    pub new_by_channel: sqlx::types::Json<Vec<u64>>,
    pub resolved: i64,
    pub reopened: i64,
    pub breached: i64,
    pub acknowledge: sqlx::types::Json<balagh_domain::stats::DurationHistogram>,
    pub resolve: sqlx::types::Json<balagh_domain::stats::DurationHistogram>,
    pub satisfaction_sum: i64,
    pub satisfaction_count: i64,
}

/// `'new', 'unrouted', …`: the open statuses as the backlog query lists them, which the
/// partial index `reports_open_idx` repeats word for word (tested).
pub fn open_statuses_sql() -> String {
    balagh_domain::ReportStatus::OPEN
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub const ROLLUP_COLUMNS: &str = "key, jurisdiction_id, service_code, operator_id, district, \
    cell, day, new, new_by_channel, resolved, reopened, breached, acknowledge, resolve, \
    satisfaction_sum, satisfaction_count";

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl RollupRow {
    pub fn into_domain(self) -> Result<StatsRow> {
        let corrupt = || crate::StoreError::Corrupt(format!("roll-up row {}", self.key));
        let mut by_channel = balagh_domain::stats::ChannelCounts::default();
        for (channel, n) in balagh_domain::Channel::ALL
            .iter()
            .zip(self.new_by_channel.0.iter())
        {
            by_channel.add(*channel, *n);
        }
        let key = StatsKey {
            jurisdiction: balagh_domain::Slug::parse("jurisdiction", &self.jurisdiction_id)
                .map_err(|_| corrupt())?,
            service: ServiceCode::parse(&self.service_code).map_err(|_| corrupt())?,
            operator: self.operator_id.map(OperatorId),
            district: match &self.district {
                Some(d) => Some(balagh_domain::Slug::parse("district", d).map_err(|_| corrupt())?),
                None => None,
            },
            cell: match self.cell {
                0 => None,
                c => Some(Res8Cell::from_i64(c).map_err(|_| corrupt())?),
            },
            day: Date::from_julian_day(self.day).map_err(|_| corrupt())?,
        };
        Ok(StatsRow {
            key,
            value: RollupValue {
                new: count(self.new),
                new_by_channel: by_channel,
                resolved: count(self.resolved),
                reopened: count(self.reopened),
                breached: count(self.breached),
                acknowledge: self.acknowledge.0,
                resolve: self.resolve.0,
                satisfaction_sum: count(self.satisfaction_sum),
                satisfaction_count: count(self.satisfaction_count),
            },
        })
    }
}

/// Bound values of one row, in [`ROLLUP_COLUMNS`] order.
#[doc(hidden)]
pub fn channel_vector(value: &RollupValue) -> Vec<u64> {
    value.new_by_channel.iter().map(|(_, n)| n).collect()
}

#[doc(hidden)]
pub fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod open_backlog_index {
    /// The planner uses a partial index only when the query's condition implies the
    /// index's: both databases' index must list the open statuses the query lists.
    #[test]
    fn the_index_lists_the_statuses_the_backlog_query_reads() {
        let condition = format!("WHERE status IN ({})", super::open_statuses_sql());
        for migration in [
            include_str!(
                "../../../../migrations/postgres/20261122000009_backlog_and_rollup_reads.sql"
            ),
            include_str!(
                "../../../../migrations/sqlite/20261122000009_backlog_and_rollup_reads.sql"
            ),
        ] {
            assert!(migration.contains(&condition), "{condition}");
        }
    }
}

// The SQL of the trait above: functions of `Sql`, by concern, and the backends' delegation.
mod delegate;
mod folding;
mod ledger;
mod live_counts;
mod open_data;
mod releases;
mod rollup_reads;
mod rollups;
mod state;

#[doc(hidden)]
pub use rollups::SourceRow;
