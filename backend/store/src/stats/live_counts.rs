//! Counts read from the reports and their events themselves, not from the roll-ups: the
//! staff dashboard's exact figures (backlog, late, created) and the feedback received.

use super::{BacklogCount, CreatedCount, OpenLate, open_statuses_sql};
use crate::{Result, Sql, SqlBackend, Ts};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

/// Service, operator and the five age buckets of the backlog query.
type BacklogRow = (String, Option<Uuid>, i64, i64, i64, i64, i64);

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> BacklogRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String, Option<Uuid>, i64): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Json<Value>,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Open reports by service, operator and age at `now`.
    pub async fn stats_backlog(&self, jurisdiction: &str, now: Ts) -> Result<Vec<BacklogCount>> {
        let day = |d: i64| Ts::new(now.get() - time::Duration::days(d));
        let open = open_statuses_sql();
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
        let rows: Vec<BacklogRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction)
            .bind(day(1))
            .bind(day(3))
            .bind(day(7))
            .bind(day(30))
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(|(service, operator_id, a, b, c, d, e)| BacklogCount {
                service,
                operator_id,
                buckets: [a, b, c, d, e],
            })
            .collect())
    }

    /// Open reports (not paused) whose due time passed within `[from, until)` and before
    /// `now`, per service and operator.
    pub async fn stats_open_late(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
        now: Ts,
    ) -> Result<Vec<OpenLate>> {
        let open = open_statuses_sql();
        let sql = format!(
            "SELECT service_code, operator_id, CAST(COUNT(*) AS BIGINT) FROM reports \
             WHERE jurisdiction_id = $1 AND status IN ({open}) AND status <> 'paused' \
             AND due_at >= $2 AND due_at < $3 AND due_at < $4 \
             GROUP BY service_code, operator_id"
        );
        let rows: Vec<(String, Option<Uuid>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction)
            .bind(from)
            .bind(until)
            .bind(now)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(|(service, operator_id, reports)| OpenLate {
                service,
                operator_id,
                reports,
            })
            .collect())
    }

    /// Reports created in `[from, until)` per service and operator.
    pub async fn stats_created(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<CreatedCount>> {
        let rows: Vec<(String, Option<Uuid>, i64)> = sqlx::query_as(
            "SELECT service_code, operator_id, CAST(COUNT(*) AS BIGINT) FROM reports \
             WHERE jurisdiction_id = $1 AND created_at >= $2 AND created_at < $3 \
             GROUP BY service_code, operator_id",
        )
        .bind(jurisdiction)
        .bind(from)
        .bind(until)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(|(service, operator_id, reports)| CreatedCount {
                service,
                operator_id,
                reports,
            })
            .collect())
    }

    /// Public comments and ratings received in `[from, until)`: (comments, rating events'
    /// data).
    pub async fn stats_feedback(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<(i64, Vec<Value>)> {
        let comments: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM report_events e JOIN reports r ON r.id = e.report_id \
             WHERE e.kind IN ('comment', 'rated') AND e.kind = 'comment' AND e.public \
             AND e.at >= $2 AND e.at < $3 AND r.jurisdiction_id = $1",
        )
        .bind(jurisdiction)
        .bind(from)
        .bind(until)
        .fetch_one(self.0.reader())
        .await
        .map_err(S::error)?;
        let ratings: Vec<(Json<Value>,)> = sqlx::query_as(
            "SELECT e.data FROM report_events e JOIN reports r ON r.id = e.report_id \
             WHERE e.kind IN ('comment', 'rated') AND e.kind = 'rated' \
             AND e.at >= $2 AND e.at < $3 AND r.jurisdiction_id = $1",
        )
        .bind(jurisdiction)
        .bind(from)
        .bind(until)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok((comments, ratings.into_iter().map(|(d,)| d.0).collect()))
    }
}
