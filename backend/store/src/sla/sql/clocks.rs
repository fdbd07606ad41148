//! Clocks: read per report, claimed by the sweepers of all replicas, rewritten with the
//! alarms a sweep raises.

use crate::writes::SharedWrites;
use crate::{CLOCK_COLUMNS, ClockRecord, Result, SlaCheck, SlaCheckOutcome, Sql, SqlDb, Ts};
use balagh_domain::JurisdictionId;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Transaction, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> ClockRecord: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid, String): FromRow<'r, <S::Db as Database>::Row>,
{
    /// A report's clocks, by metric and cycle.
    pub async fn report_clocks(&self, report_id: Uuid) -> Result<Vec<ClockRecord>> {
        let sql = format!(
            "SELECT {CLOCK_COLUMNS} FROM sla_clocks WHERE report_id = $1 ORDER BY metric, cycle"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(report_id)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// Reports with a clock due for a look at `now`, reserved for `lease_length` so that
    /// other replicas skip them meanwhile.
    pub async fn claim_due_clocks(
        &self,
        now: Ts,
        lease_length: time::Duration,
        limit: u32,
    ) -> Result<Vec<Uuid>> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        // Only the partial index on next_check_at is read: the cost follows what is due, not
        // what is open. Nothing is locked yet: a report has several clock rows, and replicas
        // that each locked some of them in due order and then reached for the others
        // deadlocked (seen in CI).
        let due: Vec<Uuid> = sqlx::query_scalar(
            "SELECT report_id FROM sla_clocks WHERE next_check_at <= $1 \
             AND (locked_until IS NULL OR locked_until < $1) \
             ORDER BY next_check_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(S::error)?;
        let mut candidates = due;
        candidates.sort_unstable();
        candidates.dedup();
        if candidates.is_empty() {
            tx.commit().await.map_err(S::error)?;
            return Ok(Vec::new());
        }
        // Every replica locks clock rows in one global order (report, metric), so none waits
        // for another that waits for it; rows another replica leased meanwhile fail the
        // re-checked condition and are left out.
        let mut lock = QueryBuilder::<S::Db>::new(
            "SELECT report_id, metric FROM sla_clocks WHERE report_id IN (",
        );
        let mut ids = lock.separated(", ");
        for id in &candidates {
            ids.push_bind(*id);
        }
        lock.push(") AND (locked_until IS NULL OR locked_until < ")
            .push_bind(now)
            .push(") ORDER BY report_id, metric")
            .push(S::FOR_UPDATE);
        let held: Vec<(Uuid, String)> = lock
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(S::error)?;
        let reports = Self::lease_clocks(&mut tx, &held, Ts::new(now.get() + lease_length)).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(reports)
    }

    /// Leases the clock rows `held` (locked, in report order) until `until`; the reports
    /// they belong to, once each.
    async fn lease_clocks(
        tx: &mut Transaction<'_, S::Db>,
        held: &[(Uuid, String)],
        until: Ts,
    ) -> Result<Vec<Uuid>> {
        let mut reports = Vec::new();
        if held.is_empty() {
            return Ok(reports);
        }
        let mut lease = QueryBuilder::<S::Db>::new("UPDATE sla_clocks SET locked_until = ");
        lease
            .push_bind(until)
            .push(" WHERE (report_id, metric) IN (");
        let mut rows = lease.separated(", ");
        for (report, metric) in held {
            rows.push("(")
                .push_bind_unseparated(*report)
                .push_unseparated(", ")
                .push_bind_unseparated(metric.as_str())
                .push_unseparated(")");
            if reports.last() != Some(report) {
                reports.push(*report);
            }
        }
        lease.push(")");
        lease.build().execute(&mut **tx).await.map_err(S::error)?;
        Ok(reports)
    }

    /// Writes a sweep's findings in one transaction: each alarm's event and messages only if
    /// that alarm was not raised before.
    pub async fn record_sla_check(&self, check: &SlaCheck) -> Result<SlaCheckOutcome> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        // Locks the report row (PostgreSQL) without changing it, and tells whether it is
        // still the version the clocks were computed from.
        let current =
            sqlx::query("UPDATE reports SET version = version WHERE id = $1 AND version = $2")
                .bind(check.report_id)
                .bind(check.report_version)
                .execute(&mut *tx)
                .await
                .map_err(S::error)?;
        if S::Db::rows_affected(&current) == 0 {
            return Ok(SlaCheckOutcome::Stale);
        }
        S::replace_clocks(&mut *tx, check.report_id, &check.clocks).await?;
        let mut raised = 0;
        for alarm in &check.alarms {
            let new = sqlx::query(
                "INSERT INTO sla_alarms (report_id, metric, cycle, percent, \
                 raised_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(check.report_id)
            .bind(alarm.metric.as_str())
            .bind(alarm.cycle)
            .bind(alarm.percent)
            .bind(check.at)
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
            if S::Db::rows_affected(&new) == 1 {
                raised += 1;
                let event = std::slice::from_ref(&alarm.event);
                S::insert_events(&mut *tx, check.report_id, check.at, event).await?;
                S::insert_outbox(&mut *tx, &alarm.outbox).await?;
            }
        }
        tx.commit().await.map_err(S::error)?;
        Ok(SlaCheckOutcome::Recorded { raised })
    }

    /// Reports of a jurisdiction created since `since`, by id, for replaying clocks.
    pub async fn report_ids_since(
        &self,
        jurisdiction: &JurisdictionId,
        since: Ts,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Uuid>> {
        sqlx::query_scalar(
            "SELECT id FROM reports WHERE jurisdiction_id = $1 \
             AND created_at >= $2 AND ($3 IS NULL OR id > $3) \
             ORDER BY id LIMIT $4",
        )
        .bind(jurisdiction.as_str())
        .bind(since)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)
    }
}
