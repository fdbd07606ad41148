//! The roll-up job's SQL (see [`super`]'s documentation) and the generators' writes: the
//! roll-up rows and per-report facts, read and written in the caller's transaction.

use super::folding::{Folded, Related, fold_batch};
use super::{
    ROLLUP_COLUMNS, RollupBatch, RollupJob, RollupRow, StatsKey, StatsRow, StoredFacts,
    channel_vector, signed,
};
use crate::writes::BULK_ROWS;
use crate::{Result, Sql, SqlBackend, StoreError, Ts};
use balagh_domain::stats::{DurationHistogram, RollupValue};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

type Conn<S> = <<S as SqlBackend>::Db as Database>::Connection;

/// What the roll-up job reads of a report (see [`StatsSource`](super::StatsSource)).
#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct SourceRow {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub service_code: String,
    pub operator_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub cell: i64,
    pub channel: String,
    pub status: String,
    pub rating: Option<i32>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// `?, ?, …)`: binds each id and closes the list the caller opened.
fn id_list<DB: Database>(builder: &mut QueryBuilder<DB>, ids: &[Uuid])
where
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
{
    let mut list = builder.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    builder.push(")");
}

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<Vec<u64>>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<DurationHistogram>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<StoredFacts>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> RollupRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> SourceRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Ts, Uuid): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid, Ts, Json<Value>): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid, Json<StoredFacts>): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Runs one batch of the roll-up job, in one transaction (see [`super`]).
    pub async fn stats_rollup_batch(&self, job: &RollupJob<'_>) -> Result<RollupBatch> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let Some((mut cursor_at, mut cursor_id)) = Self::claim_stats_lease(&mut tx, job).await?
        else {
            return Ok(RollupBatch::NotLeader);
        };
        if let Some(rewind) = job.rewind {
            cursor_at = Ts::new(cursor_at.get() - rewind);
            cursor_id = Uuid::nil();
        }
        let sources = Self::rollup_sources(&mut tx, (cursor_at, cursor_id), job.limit).await?;
        let more = sources.len() == job.limit as usize;
        let Some(last) = sources.last().map(|s| (s.updated_at, s.id)) else {
            tx.commit().await.map_err(S::error)?;
            return Ok(RollupBatch::Done {
                reports: 0,
                rows: 0,
                more: false,
            });
        };
        let ids: Vec<Uuid> = sources.iter().map(|s| s.id).collect();
        let related = Self::rollup_related(&mut tx, &ids).await?;
        let Folded {
            totals,
            new_facts,
            dropped,
        } = fold_batch(job, sources, related)?;
        let rows = Self::apply_totals(&mut tx, totals).await?;
        Self::write_facts(&mut tx, &new_facts).await?;
        Self::delete_facts(&mut tx, &dropped).await?;
        Self::move_stats_cursor(&mut tx, last, rows).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(RollupBatch::Done {
            reports: ids.len(),
            rows,
            more,
        })
    }

    /// Takes or renews the lease: the cursor, or `None` when another replica holds it.
    async fn claim_stats_lease(
        conn: &mut Conn<S>,
        job: &RollupJob<'_>,
    ) -> Result<Option<(Ts, Uuid)>> {
        // The row lock serialises batches.
        sqlx::query_as(
            "UPDATE stats_state SET lease_owner = $1, lease_until = $2 \
             WHERE id = 1 AND (lease_owner IS NULL OR lease_owner = $1 \
             OR lease_until IS NULL OR lease_until < $3) \
             RETURNING cursor_at, cursor_id",
        )
        .bind(job.worker)
        .bind(Ts::new(job.now.get() + job.lease))
        .bind(job.now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(S::error)
    }

    /// The next reports after the cursor, in `(updated_at, id)` order.
    async fn rollup_sources(
        conn: &mut Conn<S>,
        (cursor_at, cursor_id): (Ts, Uuid),
        limit: u32,
    ) -> Result<Vec<SourceRow>> {
        sqlx::query_as(
            "SELECT id, jurisdiction_id, service_code, operator_id, contract_id, \
             cell, channel, status, rating, created_at, updated_at FROM reports \
             WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3",
        )
        .bind(cursor_at)
        .bind(cursor_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(S::error)
    }

    /// The status changes, SLA breaches and stored facts of a batch's reports.
    async fn rollup_related(conn: &mut Conn<S>, ids: &[Uuid]) -> Result<Related> {
        let mut related = Related::default();
        for chunk in ids.chunks(BULK_ROWS) {
            let mut q = QueryBuilder::<S::Db>::new(
                "SELECT report_id, at, data FROM report_events \
                 WHERE kind = 'status_changed' AND report_id IN (",
            );
            id_list(&mut q, chunk);
            let rows: Vec<(Uuid, Ts, Json<Value>)> = q
                .build_query_as()
                .fetch_all(&mut *conn)
                .await
                .map_err(S::error)?;
            for (id, at, data) in rows {
                related.events.entry(id).or_default().push((at, data.0));
            }
            let mut q = QueryBuilder::<S::Db>::new(
                "SELECT DISTINCT report_id FROM sla_clocks \
                 WHERE (state = 'breached' OR breached_at IS NOT NULL) \
                 AND report_id IN (",
            );
            id_list(&mut q, chunk);
            let rows: Vec<(Uuid,)> = q
                .build_query_as()
                .fetch_all(&mut *conn)
                .await
                .map_err(S::error)?;
            related.breached.extend(rows.into_iter().map(|(id,)| id));
            let mut q = QueryBuilder::<S::Db>::new(
                "SELECT report_id, facts FROM stats_report_facts WHERE report_id IN (",
            );
            id_list(&mut q, chunk);
            let rows: Vec<(Uuid, Json<StoredFacts>)> = q
                .build_query_as()
                .fetch_all(&mut *conn)
                .await
                .map_err(S::error)?;
            related
                .old
                .extend(rows.into_iter().map(|(id, f)| (id, f.0)));
        }
        Ok(related)
    }

    /// Applies per-key (remove, add) totals to the stored rows, deleting those left empty;
    /// how many rows were written or deleted.
    async fn apply_totals(
        conn: &mut Conn<S>,
        totals: BTreeMap<StatsKey, (RollupValue, RollupValue)>,
    ) -> Result<usize> {
        let keys: Vec<String> = totals.keys().map(StatsKey::text).collect();
        let mut stored = Self::rows_by_key(conn, &keys).await?;
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
        Self::write_rows(conn, &upserts, &deletes).await?;
        Ok(rows)
    }

    /// Moves the cursor past the batch's last report; the revision moves when rows changed.
    async fn move_stats_cursor(conn: &mut Conn<S>, last: (Ts, Uuid), rows: usize) -> Result<()> {
        sqlx::query(
            "UPDATE stats_state SET cursor_at = $1, cursor_id = $2, \
             revision = revision + $3 WHERE id = 1",
        )
        .bind(last.0)
        .bind(last.1)
        .bind(i64::from(rows > 0))
        .execute(&mut *conn)
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// Adds rows to the stored ones (generators), in one transaction.
    pub async fn merge_stats_rows(&self, rows: &[StatsRow]) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query("UPDATE stats_state SET revision = revision + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        for chunk in rows.chunks(2_000) {
            let keys: Vec<String> = chunk.iter().map(|r| r.key.text()).collect();
            let mut stored = Self::rows_by_key(&mut tx, &keys).await?;
            let merged: Vec<StatsRow> = chunk
                .iter()
                .zip(&keys)
                .map(|(row, text)| {
                    let mut value = stored.remove(text).map(|r| r.value).unwrap_or_default();
                    value.merge(&row.value);
                    StatsRow {
                        key: row.key.clone(),
                        value,
                    }
                })
                .collect();
            Self::write_rows(&mut tx, &merged, &[]).await?;
        }
        tx.commit().await.map_err(S::error)
    }

    /// Stores facts (generators), replacing any.
    pub async fn put_stats_facts(&self, facts: &[(Uuid, StoredFacts)]) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        Self::write_facts(&mut tx, facts).await?;
        tx.commit().await.map_err(S::error)
    }

    /// Stored rows with these keys.
    async fn rows_by_key(conn: &mut Conn<S>, keys: &[String]) -> Result<HashMap<String, StatsRow>> {
        let mut out = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(BULK_ROWS) {
            let mut select = QueryBuilder::<S::Db>::new(format!(
                "SELECT {ROLLUP_COLUMNS} FROM stats_rollups WHERE key IN ("
            ));
            let mut list = select.separated(", ");
            for key in chunk {
                list.push_bind(key.as_str());
            }
            select.push(")");
            let rows: Vec<RollupRow> = select
                .build_query_as()
                .fetch_all(&mut *conn)
                .await
                .map_err(S::error)?;
            for row in rows {
                let key = row.key.clone();
                out.insert(key, row.into_domain()?);
            }
        }
        Ok(out)
    }

    /// Writes rows (upsert) and deletes the keys given.
    async fn write_rows(
        conn: &mut Conn<S>,
        upserts: &[StatsRow],
        deletes: &[String],
    ) -> Result<()> {
        for chunk in upserts.chunks(400) {
            let mut insert = QueryBuilder::<S::Db>::new(format!(
                "INSERT INTO stats_rollups ({ROLLUP_COLUMNS}) "
            ));
            insert.push_values(chunk, |mut b, row| {
                let (k, v) = (&row.key, &row.value);
                let text = k.text();
                b.push_bind(text.as_str())
                    .push_bind(k.jurisdiction.as_str())
                    .push_bind(k.service.as_str())
                    .push_bind(k.operator.map(|o| o.0))
                    .push_bind(k.district.as_ref().map(|d| d.as_str()))
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
            insert.build().execute(&mut *conn).await.map_err(S::error)?;
        }
        for chunk in deletes.chunks(BULK_ROWS) {
            let mut delete = QueryBuilder::<S::Db>::new("DELETE FROM stats_rollups WHERE key IN (");
            let mut list = delete.separated(", ");
            for key in chunk {
                list.push_bind(key.as_str());
            }
            delete.push(")");
            delete.build().execute(&mut *conn).await.map_err(S::error)?;
        }
        Ok(())
    }

    /// Stores facts by report, replacing any.
    async fn write_facts(conn: &mut Conn<S>, facts: &[(Uuid, StoredFacts)]) -> Result<()> {
        for chunk in facts.chunks(BULK_ROWS) {
            let mut insert =
                QueryBuilder::<S::Db>::new("INSERT INTO stats_report_facts (report_id, facts) ");
            insert.push_values(chunk, |mut b, (id, f)| {
                b.push_bind(*id).push_bind(Json(f.clone()));
            });
            insert.push(" ON CONFLICT (report_id) DO UPDATE SET facts = excluded.facts");
            insert.build().execute(&mut *conn).await.map_err(S::error)?;
        }
        Ok(())
    }

    /// Forgets the facts of reports no longer counted.
    async fn delete_facts(conn: &mut Conn<S>, ids: &[Uuid]) -> Result<()> {
        for chunk in ids.chunks(BULK_ROWS) {
            let mut q =
                QueryBuilder::<S::Db>::new("DELETE FROM stats_report_facts WHERE report_id IN (");
            id_list(&mut q, chunk);
            q.build().execute(&mut *conn).await.map_err(S::error)?;
        }
        Ok(())
    }
}
