//! The lists reports are worked from: an operator's ticket queue, staff triage, resolved
//! reports due for closing, a device's own reports; and who follows a report.

use crate::{
    QueueQuery, REPORT_COLUMNS, ReportRow, Result, Sql, SqlBackend, SqlDb, StoredReport,
    TriageQuery, Ts, convert_all,
};
use balagh_domain::ReportStatus;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

/// Statuses as an SQL list of literals.
fn status_list(statuses: &[ReportStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (i64,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ReportRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// `SELECT {columns} FROM reports WHERE` the queue's filters (not its cursor).
    fn queue_query(q: &QueueQuery, columns: &str) -> QueryBuilder<S::Db> {
        let statuses = if q.statuses.is_empty() {
            ReportStatus::OPEN.to_vec()
        } else {
            q.statuses.clone()
        };
        let mut sql = QueryBuilder::<S::Db>::new(format!(
            "SELECT {columns} FROM reports WHERE status IN ({}) AND operator_id = ",
            status_list(&statuses)
        ));
        sql.push_bind(q.operator.0);
        if !q.service_codes.is_empty() {
            sql.push(" AND service_code IN (");
            let mut codes = sql.separated(", ");
            for code in &q.service_codes {
                codes.push_bind(code.as_str());
            }
            sql.push(")");
        }
        if let Some(contract) = q.contract {
            sql.push(" AND contract_id = ").push_bind(contract.0);
        }
        if let Some(assignee) = q.assignee {
            sql.push(" AND assignee_id = ").push_bind(assignee);
        }
        if let Some(before) = q.due_before {
            sql.push(" AND due_at <= ").push_bind(before);
        }
        sql
    }

    /// An operator's tickets by due time then id, after the query's cursor.
    pub async fn ticket_queue(&self, q: &QueueQuery) -> Result<Vec<StoredReport>> {
        let mut sql = Self::queue_query(q, REPORT_COLUMNS);
        if let Some(after) = &q.after {
            sql.push(" AND (due_at, id) > (")
                .push_bind(after.due_at)
                .push(", ")
                .push_bind(after.id)
                .push(")");
        }
        sql.push(" ORDER BY due_at, id LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = sql
            .build_query_as::<ReportRow>()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        convert_all(rows, ReportRow::into_domain)
    }

    /// How many tickets match the queue's filters (its cursor and limit aside).
    pub async fn ticket_queue_count(&self, q: &QueueQuery) -> Result<i64> {
        Self::queue_query(q, "COUNT(*)")
            .build_query_scalar::<i64>()
            .fetch_one(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// A jurisdiction's reports in the given statuses, by creation, after the cursor.
    pub async fn triage_queue(&self, q: &TriageQuery) -> Result<Vec<StoredReport>> {
        let mut sql = QueryBuilder::<S::Db>::new(format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE status IN ({}) \
             AND jurisdiction_id = ",
            status_list(&q.statuses)
        ));
        sql.push_bind(q.jurisdiction.as_str());
        let (after, order) = if q.newest_first {
            (
                " AND (created_at, id) < (",
                " ORDER BY created_at DESC, id DESC LIMIT ",
            )
        } else {
            (
                " AND (created_at, id) > (",
                " ORDER BY created_at, id LIMIT ",
            )
        };
        if let Some((created_at, id)) = &q.after {
            sql.push(after)
                .push_bind(*created_at)
                .push(", ")
                .push_bind(*id)
                .push(")");
        }
        sql.push(order).push_bind(i64::from(q.limit));
        let rows = sql
            .build_query_as::<ReportRow>()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        convert_all(rows, ReportRow::into_domain)
    }

    /// Resolved reports whose resolution is older than `before` (for auto-closing).
    pub async fn resolved_before(&self, before: Ts, limit: u32) -> Result<Vec<StoredReport>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE status = 'resolved' \
             AND resolved_at < $1 ORDER BY resolved_at, id LIMIT $2"
        );
        let rows = sqlx::query_as::<_, ReportRow>(sqlx::AssertSqlSafe(sql))
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        convert_all(rows, ReportRow::into_domain)
    }

    /// A device follows a report (again); false if it already did.
    pub async fn follow_report(&self, report_id: Uuid, device: Uuid, at: Ts) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO report_followers (report_id, device_id, since, active) \
             VALUES ($1, $2, $3, TRUE) ON CONFLICT (report_id, device_id) \
             DO UPDATE SET active = TRUE, since = excluded.since \
             WHERE NOT report_followers.active",
        )
        .bind(report_id)
        .bind(device)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }

    /// The devices following a report: its reporter's, its supporters' and those that
    /// followed it, less those that stopped.
    pub async fn followers(&self, report_id: Uuid) -> Result<Vec<Uuid>> {
        sqlx::query_scalar(
            "SELECT device_id FROM reports WHERE id = $1 AND device_id IS NOT NULL \
             UNION SELECT device_id FROM report_supporters WHERE report_id = $1 \
             UNION SELECT device_id FROM report_followers \
               WHERE report_id = $1 AND active \
             EXCEPT SELECT device_id FROM report_followers \
               WHERE report_id = $1 AND NOT active",
        )
        .bind(report_id)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)
    }

    /// A device's own reports, newest first, strictly before the `(created_at, id)` cursor.
    pub async fn device_reports(
        &self,
        device: Uuid,
        before: Option<(Ts, Uuid)>,
        limit: u32,
    ) -> Result<Vec<StoredReport>> {
        // Served by the (device_id, idempotency_key) unique index: a device has
        // few reports (intake is limited per device), sorted here.
        let mut q = QueryBuilder::<S::Db>::new(format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE device_id = "
        ));
        q.push_bind(device);
        if let Some((at, id)) = before {
            q.push(" AND (created_at < ")
                .push_bind(at)
                .push(" OR (created_at = ")
                .push_bind(at)
                .push(" AND id < ")
                .push_bind(id)
                .push("))");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows: Vec<ReportRow> = q
            .build_query_as()
            .fetch_all(self.0.writer())
            .await
            .map_err(S::error)?;
        convert_all(rows, ReportRow::into_domain)
    }
}
