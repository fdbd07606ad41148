//! Public statistics: the roll-up rows, the per-report facts they were built from, the
//! roll-up job's cursor and lease, and differential-privacy releases with their ε ledger.
//! [`StatsStore`] is a supertrait of [`Store`](crate::Store); both backends share its SQL
//! through [`impl_stats_store!`](crate::impl_stats_store).
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

/// Implements [`StatsStore`] for a backend (see [`impl_sql_store!`](crate::impl_sql_store)).
#[macro_export]
macro_rules! impl_stats_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx::{self, types::Json};
            use $crate::stats::{
                RollupRow, ROLLUP_COLUMNS, StatsKey, StatsRow, StoredFacts, channel_vector,
                fold_changes, signed,
            };
            use $crate::*;
            use balagh_domain::stats::RollupValue;
            use std::collections::{BTreeMap, HashMap};
            use uuid::Uuid;

            type Conn = <$db as sqlx::Database>::Connection;

            /// Stored rows with these keys.
            async fn rows_by_key(
                conn: &mut Conn,
                keys: &[String],
            ) -> Result<HashMap<String, StatsRow>> {
                let mut out = HashMap::with_capacity(keys.len());
                for chunk in keys.chunks($crate::shared::BULK_ROWS) {
                    let mut select = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {ROLLUP_COLUMNS} FROM stats_rollups WHERE key IN ("
                    ));
                    let mut list = select.separated(", ");
                    for key in chunk {
                        list.push_bind(key.clone());
                    }
                    select.push(")");
                    let rows: Vec<RollupRow> = select
                        .build_query_as()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                    for row in rows {
                        let key = row.key.clone();
                        out.insert(key, row.into_domain()?);
                    }
                }
                Ok(out)
            }

            /// Writes rows (upsert) and deletes the keys given.
            async fn write_rows(
                conn: &mut Conn,
                upserts: &[StatsRow],
                deletes: &[String],
            ) -> Result<()> {
                for chunk in upserts.chunks(400) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(format!(
                        "INSERT INTO stats_rollups ({ROLLUP_COLUMNS}) "
                    ));
                    insert.push_values(chunk, |mut b, row| {
                        let (k, v) = (&row.key, &row.value);
                        b.push_bind(k.text())
                            .push_bind(k.jurisdiction.as_str().to_owned())
                            .push_bind(k.service.as_str().to_owned())
                            .push_bind(k.operator.map(|o| o.0))
                            .push_bind(k.district.as_ref().map(|d| d.as_str().to_owned()))
                            .push_bind(k.cell.map_or(0, |c| c.to_i64()))
                            .push_bind(k.day.to_julian_day())
                            .push_bind(signed(v.new))
                            .push_bind(Json(channel_vector(v)))
                            .push_bind(signed(v.resolved))
                            .push_bind(signed(v.reopened))
                            .push_bind(signed(v.breached))
                            .push_bind(Json(v.acknowledge.clone()))
                            .push_bind(Json(v.resolve.clone()))
                            .push_bind(signed(v.satisfaction_sum))
                            .push_bind(signed(v.satisfaction_count));
                    });
                    insert.push(
                        " ON CONFLICT (key) DO UPDATE SET new = excluded.new, \
                         new_by_channel = excluded.new_by_channel, resolved = excluded.resolved, \
                         reopened = excluded.reopened, breached = excluded.breached, \
                         acknowledge = excluded.acknowledge, resolve = excluded.resolve, \
                         satisfaction_sum = excluded.satisfaction_sum, \
                         satisfaction_count = excluded.satisfaction_count",
                    );
                    insert
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                }
                for chunk in deletes.chunks($crate::shared::BULK_ROWS) {
                    let mut delete =
                        sqlx::QueryBuilder::<$db>::new("DELETE FROM stats_rollups WHERE key IN (");
                    let mut list = delete.separated(", ");
                    for key in chunk {
                        list.push_bind(key.clone());
                    }
                    delete.push(")");
                    delete
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                }
                Ok(())
            }

            async fn write_facts(conn: &mut Conn, facts: &[(Uuid, StoredFacts)]) -> Result<()> {
                for chunk in facts.chunks($crate::shared::BULK_ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO stats_report_facts (report_id, facts) ",
                    );
                    insert.push_values(chunk, |mut b, (id, f)| {
                        b.push_bind(*id).push_bind(Json(f.clone()));
                    });
                    insert.push(" ON CONFLICT (report_id) DO UPDATE SET facts = excluded.facts");
                    insert
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                }
                Ok(())
            }

            fn id_list(builder: &mut sqlx::QueryBuilder<$db>, ids: &[Uuid]) {
                let mut list = builder.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                builder.push(")");
            }

            #[derive(sqlx::FromRow)]
            struct SourceRow {
                id: Uuid,
                jurisdiction_id: String,
                service_code: String,
                operator_id: Option<Uuid>,
                contract_id: Option<Uuid>,
                cell: i64,
                channel: String,
                status: String,
                rating: Option<i32>,
                created_at: Ts,
                updated_at: Ts,
            }

            #[$crate::async_trait]
            impl $crate::stats::StatsStore for $store {
                async fn stats_rollup_batch(
                    &self,
                    job: &$crate::stats::RollupJob<'_>,
                ) -> Result<$crate::stats::RollupBatch> {
                    use $crate::stats::{RollupBatch, StatsSource};
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    // Takes or renews the lease; the row lock serialises batches.
                    let claimed: Option<(Ts, Uuid)> = sqlx::query_as(
                        "UPDATE stats_state SET lease_owner = $1, lease_until = $2 \
                         WHERE id = 1 AND (lease_owner IS NULL OR lease_owner = $1 \
                         OR lease_until IS NULL OR lease_until < $3) \
                         RETURNING cursor_at, cursor_id",
                    )
                    .bind(job.worker)
                    .bind(Ts::new(job.now.get() + job.lease))
                    .bind(job.now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let Some((mut cursor_at, mut cursor_id)) = claimed else {
                        return Ok(RollupBatch::NotLeader);
                    };
                    if let Some(rewind) = job.rewind {
                        cursor_at = Ts::new(cursor_at.get() - rewind);
                        cursor_id = Uuid::nil();
                    }
                    let sources: Vec<SourceRow> = sqlx::query_as(
                        "SELECT id, jurisdiction_id, service_code, operator_id, contract_id, \
                         cell, channel, status, rating, created_at, updated_at FROM reports \
                         WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3",
                    )
                    .bind(cursor_at)
                    .bind(cursor_id)
                    .bind(i64::from(job.limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let more = sources.len() == job.limit as usize;
                    let Some(last) = sources.last().map(|s| (s.updated_at, s.id)) else {
                        tx.commit().await.map_err(<$store>::error)?;
                        return Ok(RollupBatch::Done { reports: 0, rows: 0, more: false });
                    };
                    let ids: Vec<Uuid> = sources.iter().map(|s| s.id).collect();

                    let mut events: HashMap<Uuid, Vec<(Ts, serde_json::Value)>> = HashMap::new();
                    let mut breached: std::collections::HashSet<Uuid> = Default::default();
                    let mut old: HashMap<Uuid, StoredFacts> = HashMap::new();
                    for chunk in ids.chunks($crate::shared::BULK_ROWS) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT report_id, at, data FROM report_events \
                             WHERE kind = 'status_changed' AND report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        let rows: Vec<(Uuid, Ts, Json<serde_json::Value>)> = q
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        for (id, at, data) in rows {
                            events.entry(id).or_default().push((at, data.0));
                        }
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT DISTINCT report_id FROM sla_clocks \
                             WHERE (state = 'breached' OR breached_at IS NOT NULL) \
                             AND report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        let rows: Vec<(Uuid,)> = q
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        breached.extend(rows.into_iter().map(|(id,)| id));
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT report_id, facts FROM stats_report_facts WHERE report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        let rows: Vec<(Uuid, Json<StoredFacts>)> = q
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        old.extend(rows.into_iter().map(|(id, f)| (id, f.0)));
                    }

                    let mut totals: BTreeMap<StatsKey, (RollupValue, RollupValue)> =
                        BTreeMap::new();
                    let mut new_facts: Vec<(Uuid, StoredFacts)> = Vec::new();
                    let mut dropped: Vec<Uuid> = Vec::new();
                    for s in sources {
                        let mut status_events = events.remove(&s.id).unwrap_or_default();
                        status_events.sort_by_key(|(at, _)| *at);
                        let source = StatsSource {
                            id: s.id,
                            jurisdiction_id: s.jurisdiction_id,
                            service_code: s.service_code,
                            operator_id: s.operator_id,
                            contract_id: s.contract_id,
                            cell: s.cell,
                            channel: s.channel,
                            status: s.status,
                            rating: s.rating,
                            created_at: s.created_at,
                            updated_at: s.updated_at,
                            status_events,
                            breached: breached.contains(&s.id),
                        };
                        let previous_stored = old.remove(&s.id);
                        let previous = match previous_stored.clone() {
                            Some(f) => Some(f.into_domain().ok_or_else(|| {
                                StoreError::Corrupt(format!("stats facts of report {}", s.id))
                            })?),
                            None => None,
                        };
                        let current = (job.derive)(&source);
                        match (&previous, &current) {
                            (_, Some(new)) => {
                                let tz = (job.time_zone)(&new.jurisdiction);
                                fold_changes(
                                    balagh_domain::stats::changes(previous.as_ref(), new, &tz),
                                    &mut totals,
                                );
                                let stored = StoredFacts::from_domain(new);
                                if previous_stored.as_ref() != Some(&stored) {
                                    new_facts.push((s.id, stored));
                                }
                            }
                            (Some(old_facts), None) => {
                                let tz = (job.time_zone)(&old_facts.jurisdiction);
                                let removal = balagh_domain::stats::contributions(old_facts, &tz)
                                    .into_iter()
                                    .map(|(key, remove)| balagh_domain::stats::RollupChange {
                                        key,
                                        remove,
                                        add: RollupValue::default(),
                                    });
                                fold_changes(removal, &mut totals);
                                dropped.push(s.id);
                            }
                            (None, None) => {}
                        }
                    }
                    totals.retain(|_, (remove, add)| remove != add);

                    let keys: Vec<String> = totals.keys().map(StatsKey::text).collect();
                    let mut stored = rows_by_key(&mut tx, &keys).await?;
                    let mut upserts = Vec::new();
                    let mut deletes = Vec::new();
                    for ((key, (remove, add)), text) in totals.into_iter().zip(keys) {
                        let current = stored.remove(&text).map(|r| r.value).unwrap_or_default();
                        let mut next = current.checked_sub(&remove).ok_or_else(|| {
                            StoreError::Corrupt(format!(
                                "roll-up row {text} would go below zero: rebuild the statistics"
                            ))
                        })?;
                        next.merge(&add);
                        if next.is_empty() {
                            deletes.push(text);
                        } else {
                            upserts.push(StatsRow { key, value: next });
                        }
                    }
                    let rows = upserts.len() + deletes.len();
                    write_rows(&mut tx, &upserts, &deletes).await?;
                    write_facts(&mut tx, &new_facts).await?;
                    for chunk in dropped.chunks($crate::shared::BULK_ROWS) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "DELETE FROM stats_report_facts WHERE report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        q.build().execute(&mut *tx).await.map_err(<$store>::error)?;
                    }
                    sqlx::query(
                        "UPDATE stats_state SET cursor_at = $1, cursor_id = $2, \
                         revision = revision + $3 WHERE id = 1",
                    )
                    .bind(last.0)
                    .bind(last.1)
                    .bind(i64::from(rows > 0))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(RollupBatch::Done {
                        reports: ids.len(),
                        rows,
                        more,
                    })
                }

                async fn release_stats_lease(&self, worker: &str) -> Result<()> {
                    sqlx::query(
                        "UPDATE stats_state SET lease_owner = NULL, lease_until = NULL \
                         WHERE id = 1 AND lease_owner = $1",
                    )
                    .bind(worker)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn stats_state(&self) -> Result<$crate::stats::StatsState> {
                    let (cursor_at, cursor_id, lease_owner, lease_until, revision): (
                        Ts,
                        Uuid,
                        Option<String>,
                        Option<Ts>,
                        i64,
                    ) = sqlx::query_as(
                        "SELECT cursor_at, cursor_id, lease_owner, lease_until, revision \
                         FROM stats_state WHERE id = 1",
                    )
                    .fetch_one(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok($crate::stats::StatsState {
                        cursor_at,
                        cursor_id,
                        lease_owner,
                        lease_until,
                        revision,
                    })
                }

                async fn reset_stats(&self) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(
                        "UPDATE stats_state SET cursor_at = $1, cursor_id = $2, \
                         revision = revision + 1 WHERE id = 1",
                    )
                    .bind(Ts::new(time::OffsetDateTime::UNIX_EPOCH))
                    .bind(Uuid::nil())
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    for table in ["stats_rollups", "stats_report_facts"] {
                        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn merge_stats_rows(&self, rows: &[StatsRow]) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query("UPDATE stats_state SET revision = revision + 1 WHERE id = 1")
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    for chunk in rows.chunks(2_000) {
                        let keys: Vec<String> = chunk.iter().map(|r| r.key.text()).collect();
                        let mut stored = rows_by_key(&mut tx, &keys).await?;
                        let merged: Vec<StatsRow> = chunk
                            .iter()
                            .zip(&keys)
                            .map(|(row, text)| {
                                let mut value =
                                    stored.remove(text).map(|r| r.value).unwrap_or_default();
                                value.merge(&row.value);
                                StatsRow {
                                    key: row.key.clone(),
                                    value,
                                }
                            })
                            .collect();
                        write_rows(&mut tx, &merged, &[]).await?;
                    }
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn put_stats_facts(&self, facts: &[(Uuid, StoredFacts)]) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    write_facts(&mut tx, facts).await?;
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn set_stats_cursor(&self, at: Ts) -> Result<()> {
                    sqlx::query(
                        "UPDATE stats_state SET cursor_at = $1, cursor_id = $2 WHERE id = 1",
                    )
                    .bind(at)
                    .bind(Uuid::nil())
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn stats_rows(
                    &self,
                    jurisdiction: &str,
                    from: i32,
                    to: i32,
                    per_cell: bool,
                ) -> Result<Vec<StatsRow>> {
                    // The literal conditions match the partial indexes.
                    let cells = if per_cell { "cell <> 0" } else { "cell = 0" };
                    let sql = format!(
                        "SELECT {ROLLUP_COLUMNS} FROM stats_rollups WHERE {cells} \
                         AND jurisdiction_id = $1 AND day >= $2 AND day <= $3"
                    );
                    let rows: Vec<RollupRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(jurisdiction)
                        .bind(from)
                        .bind(to)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    rows.into_iter().map(RollupRow::into_domain).collect()
                }

                async fn stats_cell_counts(
                    &self,
                    jurisdiction: &str,
                    from: i32,
                    to: i32,
                ) -> Result<Vec<$crate::stats::CellNewCount>> {
                    let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
                        "SELECT service_code, district, cell, CAST(SUM(new) AS BIGINT) \
                         FROM stats_rollups WHERE cell <> 0 AND jurisdiction_id = $1 \
                         AND day >= $2 AND day <= $3 AND new > 0 \
                         GROUP BY service_code, district, cell",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, district, cell, new)| $crate::stats::CellNewCount {
                            service,
                            district,
                            cell,
                            new,
                        })
                        .collect())
                }

                async fn stats_backlog(
                    &self,
                    jurisdiction: &str,
                    now: Ts,
                ) -> Result<Vec<$crate::stats::BacklogCount>> {
                    let day = |d: i64| Ts::new(now.get() - time::Duration::days(d));
                    let open = $crate::stats::open_statuses_sql();
                    let sql = format!(
                        "SELECT service_code, operator_id, \
                         CAST(SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0 END) AS BIGINT), \
                         CAST(SUM(CASE WHEN created_at < $2 AND created_at >= $3 THEN 1 ELSE 0 END) AS BIGINT), \
                         CAST(SUM(CASE WHEN created_at < $3 AND created_at >= $4 THEN 1 ELSE 0 END) AS BIGINT), \
                         CAST(SUM(CASE WHEN created_at < $4 AND created_at >= $5 THEN 1 ELSE 0 END) AS BIGINT), \
                         CAST(SUM(CASE WHEN created_at < $5 THEN 1 ELSE 0 END) AS BIGINT) \
                         FROM reports WHERE jurisdiction_id = $1 AND status IN ({open}) \
                         GROUP BY service_code, operator_id"
                    );
                    let rows: Vec<(String, Option<Uuid>, i64, i64, i64, i64, i64)> =
                        sqlx::query_as(sqlx::AssertSqlSafe(sql))
                            .bind(jurisdiction)
                            .bind(day(1))
                            .bind(day(3))
                            .bind(day(7))
                            .bind(day(30))
                            .fetch_all(self.reader())
                            .await
                            .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, operator_id, a, b, c, d, e)| $crate::stats::BacklogCount {
                            service,
                            operator_id,
                            buckets: [a, b, c, d, e],
                        })
                        .collect())
                }

                async fn stats_open_late(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                    now: Ts,
                ) -> Result<Vec<$crate::stats::OpenLate>> {
                    let open = $crate::stats::open_statuses_sql();
                    let sql = format!(
                        "SELECT service_code, operator_id, CAST(COUNT(*) AS BIGINT) FROM reports \
                         WHERE jurisdiction_id = $1 AND status IN ({open}) AND status <> 'paused' \
                         AND due_at >= $2 AND due_at < $3 AND due_at < $4 \
                         GROUP BY service_code, operator_id"
                    );
                    let rows: Vec<(String, Option<Uuid>, i64)> =
                        sqlx::query_as(sqlx::AssertSqlSafe(sql))
                            .bind(jurisdiction)
                            .bind(from)
                            .bind(until)
                            .bind(now)
                            .fetch_all(self.reader())
                            .await
                            .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, operator_id, reports)| $crate::stats::OpenLate {
                            service,
                            operator_id,
                            reports,
                        })
                        .collect())
                }

                async fn stats_created(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<$crate::stats::CreatedCount>> {
                    let rows: Vec<(String, Option<Uuid>, i64)> = sqlx::query_as(
                        "SELECT service_code, operator_id, CAST(COUNT(*) AS BIGINT) FROM reports \
                         WHERE jurisdiction_id = $1 AND created_at >= $2 AND created_at < $3 \
                         GROUP BY service_code, operator_id",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, operator_id, reports)| $crate::stats::CreatedCount {
                            service,
                            operator_id,
                            reports,
                        })
                        .collect())
                }

                async fn stats_feedback(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<(i64, Vec<serde_json::Value>)> {
                    let comments: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM report_events e JOIN reports r ON r.id = e.report_id \
                         WHERE e.kind IN ('comment', 'rated') AND e.kind = 'comment' AND e.public \
                         AND e.at >= $2 AND e.at < $3 AND r.jurisdiction_id = $1",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_one(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    let ratings: Vec<(Json<serde_json::Value>,)> = sqlx::query_as(
                        "SELECT e.data FROM report_events e JOIN reports r ON r.id = e.report_id \
                         WHERE e.kind IN ('comment', 'rated') AND e.kind = 'rated' \
                         AND e.at >= $2 AND e.at < $3 AND r.jurisdiction_id = $1",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok((comments, ratings.into_iter().map(|(d,)| d.0).collect()))
                }

                async fn stats_records(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<$crate::stats::RecordSource>> {
                    let rows: Vec<(String, String, Json<StoredFacts>)> = sqlx::query_as(
                        "SELECT r.reference, r.status, f.facts FROM reports r \
                         JOIN stats_report_facts f ON f.report_id = r.id \
                         WHERE r.jurisdiction_id = $1 AND r.created_at >= $2 \
                         AND r.created_at < $3 ORDER BY r.created_at, r.id",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(reference, status, facts)| $crate::stats::RecordSource {
                            reference,
                            status,
                            facts: facts.0,
                        })
                        .collect())
                }

                async fn stats_reporter_reports(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<$crate::stats::ReporterReport>> {
                    let rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, Ts, String, Option<Json<StoredFacts>>)> =
                        sqlx::query_as(
                            "SELECT r.id, r.device_id, r.created_by, r.created_at, r.service_code, \
                             f.facts FROM reports r \
                             LEFT JOIN stats_report_facts f ON f.report_id = r.id \
                             WHERE r.jurisdiction_id = $1 AND r.created_at >= $2 \
                             AND r.created_at < $3",
                        )
                        .bind(jurisdiction)
                        .bind(from)
                        .bind(until)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, device, staff, created_at, service, facts)| {
                            $crate::stats::ReporterReport {
                                id,
                                reporter: device.or(staff),
                                created_at,
                                service,
                                district: facts.and_then(|f| f.0.district),
                            }
                        })
                        .collect())
                }

                async fn stats_release(&self, release_id: &str) -> Result<Option<serde_json::Value>> {
                    let body: Option<Json<serde_json::Value>> = sqlx::query_scalar(
                        "SELECT body FROM stats_releases WHERE release_id = $1",
                    )
                    .bind(release_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(body.map(|b| b.0))
                }

                async fn stats_releases(
                    &self,
                    ids: &[String],
                ) -> Result<Vec<(String, serde_json::Value)>> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT release_id, body FROM stats_releases WHERE release_id IN (",
                    );
                    let mut list = q.separated(", ");
                    for id in ids {
                        list.push_bind(id.clone());
                    }
                    q.push(")");
                    let rows: Vec<(String, Json<serde_json::Value>)> = q
                        .build_query_as()
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(rows.into_iter().map(|(id, body)| (id, body.0)).collect())
                }

                async fn stats_release_ids(&self, prefix: &str) -> Result<Vec<String>> {
                    sqlx::query_scalar(
                        "SELECT release_id FROM stats_releases \
                         WHERE substr(release_id, 1, length($1)) = $1 ORDER BY release_id",
                    )
                    .bind(prefix)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn put_stats_release(
                    &self,
                    release_id: &str,
                    body: &serde_json::Value,
                    now: Ts,
                ) -> Result<serde_json::Value> {
                    sqlx::query(
                        "INSERT INTO stats_releases (release_id, epsilon_micros, body, created_at) \
                         VALUES ($1, 0, $2, $3) ON CONFLICT (release_id) DO NOTHING",
                    )
                    .bind(release_id)
                    .bind(Json(body.clone()))
                    .bind(now)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    let stored: Json<serde_json::Value> = sqlx::query_scalar(
                        "SELECT body FROM stats_releases WHERE release_id = $1",
                    )
                    .bind(release_id)
                    .fetch_one(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(stored.0)
                }

                async fn stats_first_day(&self, jurisdiction: &str) -> Result<Option<i32>> {
                    sqlx::query_scalar(
                        "SELECT MIN(day) FROM stats_rollups WHERE cell = 0 AND jurisdiction_id = $1",
                    )
                    .bind(jurisdiction)
                    .fetch_one(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn record_release(
                    &self,
                    release_id: &balagh_domain::stats::ReleaseId,
                    scopes: &[String],
                    epsilon: balagh_domain::stats::Epsilon,
                    budget: balagh_domain::stats::Epsilon,
                    body: &serde_json::Value,
                    now: Ts,
                ) -> Result<$crate::stats::ReleaseOutcome> {
                    use $crate::stats::ReleaseOutcome;
                    use balagh_domain::stats::{EpsilonLedger, LedgerEntry, ReleaseId, Spent};
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    // Serialises ε spending across replicas.
                    sqlx::query(
                        "UPDATE stats_state SET ledger_revision = ledger_revision + 1 WHERE id = 1",
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let existing: Option<Json<serde_json::Value>> = sqlx::query_scalar(
                        "SELECT body FROM stats_releases WHERE release_id = $1",
                    )
                    .bind(release_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    if let Some(body) = existing {
                        tx.rollback().await.map_err(<$store>::error)?;
                        return Ok(ReleaseOutcome::Existing(body.0));
                    }
                    for scope in scopes {
                        let lines: Vec<(String, i64)> = sqlx::query_as(
                            "SELECT release_id, epsilon_micros FROM stats_epsilon_ledger \
                             WHERE scope = $1 ORDER BY created_at, release_id",
                        )
                        .bind(scope)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                        let entries = lines.into_iter().filter_map(|(release, micros)| {
                            Some(LedgerEntry {
                                release: ReleaseId::parse(&release).ok()?,
                                epsilon: balagh_domain::stats::Epsilon::from_micros(
                                    u64::try_from(micros).ok()?,
                                )
                                .ok()?,
                            })
                        });
                        // A ledger holding more than today's budget (the budget was lowered)
                        // refuses everything.
                        let mut ledger = match EpsilonLedger::from_entries(budget, entries) {
                            Ok(ledger) => ledger,
                            Err(error) => {
                                tx.rollback().await.map_err(<$store>::error)?;
                                return Ok(ReleaseOutcome::Refused(error));
                            }
                        };
                        match ledger.spend(release_id.clone(), epsilon) {
                            Ok(Spent::Recorded(_)) | Ok(Spent::AlreadyRecorded(_)) => {}
                            Err(error) => {
                                tx.rollback().await.map_err(<$store>::error)?;
                                return Ok(ReleaseOutcome::Refused(error));
                            }
                        }
                    }
                    sqlx::query(
                        "INSERT INTO stats_releases (release_id, epsilon_micros, body, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(release_id.as_str())
                    .bind(signed(epsilon.micros()))
                    .bind(Json(body.clone()))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    for scope in scopes {
                        sqlx::query(
                            "INSERT INTO stats_epsilon_ledger (scope, release_id, epsilon_micros, \
                             budget_micros, created_at) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(scope)
                        .bind(release_id.as_str())
                        .bind(signed(epsilon.micros()))
                        .bind(signed(budget.micros()))
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(ReleaseOutcome::Recorded(body.clone()))
                }

                async fn epsilon_ledger(
                    &self,
                    scopes: &[String],
                ) -> Result<Vec<$crate::stats::LedgerLine>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT scope, release_id, epsilon_micros, budget_micros \
                         FROM stats_epsilon_ledger",
                    );
                    if !scopes.is_empty() {
                        q.push(" WHERE scope IN (");
                        let mut list = q.separated(", ");
                        for s in scopes {
                            list.push_bind(s.clone());
                        }
                        q.push(")");
                    }
                    q.push(" ORDER BY scope, created_at, release_id");
                    let rows: Vec<(String, String, i64, i64)> = q
                        .build_query_as()
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(scope, release_id, epsilon_micros, budget_micros)| {
                            $crate::stats::LedgerLine {
                                scope,
                                release_id,
                                epsilon_micros,
                                budget_micros,
                            }
                        })
                        .collect())
                }
            }
        };
    };
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
                "../../../migrations/postgres/20261122000009_backlog_and_rollup_reads.sql"
            ),
            include_str!("../../../migrations/sqlite/20261122000009_backlog_and_rollup_reads.sql"),
        ] {
            assert!(migration.contains(&condition), "{condition}");
        }
    }
}
