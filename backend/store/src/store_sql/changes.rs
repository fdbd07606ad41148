//! Changes to a report: applied only at the version the caller read (optimistic
//! concurrency), with their events, outbox messages and recomputed clocks in the same
//! transaction; and marking a report a duplicate of another.

use crate::{
    ChangeOutcome, REPORT_COLUMNS, ReportChange, ReportRow, Result, SharedWrites, Sql, Ts,
};
use balagh_domain::NewEvent;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<String>: Encode<'q, S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> ReportRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Applies a change if the report is still at the expected version, in one transaction.
    pub async fn change_report(&self, change: &ReportChange) -> Result<ChangeOutcome> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let outcome = Self::apply_change(&mut tx, change).await?;
        if matches!(outcome, ChangeOutcome::Applied(_)) {
            tx.commit().await.map_err(S::error)?;
        } else {
            tx.rollback().await.map_err(S::error)?;
        }
        Ok(outcome)
    }

    /// Applies `change` to a duplicate and moves its reporter, supporters and followers to
    /// `original`, in one transaction.
    pub async fn merge_duplicate(
        &self,
        change: &ReportChange,
        original: Uuid,
        original_event: &NewEvent,
    ) -> Result<ChangeOutcome> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let outcome = Self::apply_change(&mut tx, change).await?;
        if !matches!(outcome, ChangeOutcome::Applied(_)) {
            tx.rollback().await.map_err(S::error)?;
            return Ok(outcome);
        }
        // The duplicate's reporter and supporters support the original (except its
        // own reporter); its followers follow it.
        for sql in [
            "INSERT INTO report_supporters (report_id, device_id, at) \
             SELECT $1, device_id, $3 FROM reports WHERE id = $2 \
             AND device_id IS NOT NULL \
             AND device_id IS DISTINCT FROM (SELECT device_id FROM reports WHERE id = $1) \
             ON CONFLICT (report_id, device_id) DO NOTHING",
            "INSERT INTO report_supporters (report_id, device_id, at) \
             SELECT $1, device_id, $3 FROM report_supporters WHERE report_id = $2 \
             AND device_id IS DISTINCT FROM (SELECT device_id FROM reports WHERE id = $1) \
             ON CONFLICT (report_id, device_id) DO NOTHING",
            "INSERT INTO report_followers (report_id, device_id, since) \
             SELECT $1, device_id, $3 FROM report_followers WHERE report_id = $2 \
             ON CONFLICT (report_id, device_id) DO NOTHING",
            "UPDATE reports SET supporters = \
             (SELECT COUNT(*) FROM report_supporters WHERE report_id = $1), \
             updated_at = $3, version = version + 1 WHERE id = $1 AND $2 = $2",
        ] {
            sqlx::query(sql)
                .bind(original)
                .bind(change.report_id)
                .bind(change.at)
                .execute(&mut *tx)
                .await
                .map_err(S::error)?;
        }
        let events = std::slice::from_ref(original_event);
        S::insert_events(&mut *tx, original, change.at, events).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(outcome)
    }

    /// Updates a report at its expected version; on success appends the change's
    /// events and outbox messages and replaces its clocks.
    async fn apply_change(
        conn: &mut <S::Db as Database>::Connection,
        c: &ReportChange,
    ) -> Result<ChangeOutcome> {
        let mut q = Self::change_update(c);
        let updated: Option<ReportRow> = q
            .build_query_as()
            .fetch_optional(&mut *conn)
            .await
            .map_err(S::error)?;
        match updated {
            Some(row) => {
                S::insert_events(&mut *conn, c.report_id, c.at, &c.events).await?;
                S::insert_outbox(&mut *conn, &c.outbox).await?;
                if let Some(clocks) = &c.clocks {
                    S::replace_clocks(&mut *conn, c.report_id, clocks).await?;
                }
                Ok(ChangeOutcome::Applied(row.into_domain()?))
            }
            None => Ok(match Self::report_by_id(conn, c.report_id).await? {
                Some(current) => ChangeOutcome::VersionMismatch(current),
                None => ChangeOutcome::NotFound,
            }),
        }
    }

    /// `UPDATE reports` setting what the change sets, at its expected version, returning
    /// the report as changed.
    fn change_update(c: &ReportChange) -> QueryBuilder<S::Db> {
        let mut q =
            QueryBuilder::<S::Db>::new("UPDATE reports SET version = version + 1, updated_at = ");
        q.push_bind(c.at);
        if let Some(status) = c.status {
            q.push(", status = ").push_bind(status.as_str());
        }
        if let Some(routing) = c.operator {
            q.push(", operator_id = ")
                .push_bind(routing.map(|(o, _)| o.0))
                .push(", contract_id = ")
                .push_bind(routing.map(|(_, k)| k.0));
        }
        if let Some(assignee) = c.assignee {
            q.push(", assignee_id = ").push_bind(assignee);
        }
        if let Some(original) = c.duplicate_of {
            q.push(", duplicate_of = ").push_bind(original);
        }
        if let Some(hidden) = c.description_hidden {
            q.push(", description_hidden = ").push_bind(hidden);
        }
        if let Some(approved) = c.description_approved {
            q.push(", description_approved = ").push_bind(approved);
        }
        if let Some(due) = c.due_at {
            q.push(", due_at = ").push_bind(due);
        }
        if let Some(resolved) = c.resolved_at {
            q.push(", resolved_at = ").push_bind(resolved);
        }
        if let Some(rating) = c.rating {
            q.push(", rating = ").push_bind(i32::from(rating));
        }
        if let Some(priority) = c.priority {
            q.push(", priority = ").push_bind(priority.as_str());
        }
        q.push(" WHERE id = ")
            .push_bind(c.report_id)
            .push(" AND version = ")
            .push_bind(c.expected_version)
            .push(" RETURNING ")
            .push(REPORT_COLUMNS);
        q
    }
}
