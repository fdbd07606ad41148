//! Reading reports (one, with its details, its history, those nearby), a resident's "me
//! too", and the upkeep of the reports table (counts, statistics, erasing contacts).

use crate::{
    EventRow, NearbyQuery, NewSupport, REPORT_COLUMNS, ReportDetails, ReportDetailsRow, ReportRow,
    Result, SharedWrites, Sql, SqlBackend, SqlDb, StoredEvent, StoredReport, SupportOutcome, Ts,
    convert_all,
};
use balagh_domain::ReportStatus;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

/// The open statuses as an SQL list of literals.
fn open_statuses_sql() -> String {
    ReportStatus::OPEN
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> ReportRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// One report, read on `conn` (a transaction's, to read what it wrote).
    pub(crate) async fn report_by_id(
        conn: &mut <S::Db as Database>::Connection,
        id: Uuid,
    ) -> Result<Option<StoredReport>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1");
        sqlx::query_as::<_, ReportRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(S::error)?
            .map(ReportRow::into_domain)
            .transpose()
    }
}

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> f64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (i64,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ReportRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ReportDetailsRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> EventRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// One report.
    pub async fn report(&self, id: Uuid) -> Result<Option<StoredReport>> {
        let mut conn = self.0.reader().acquire().await.map_err(S::error)?;
        Self::report_by_id(&mut conn, id).await
    }

    /// The report with its events and photos, in one statement.
    pub async fn report_details(&self, id: Uuid) -> Result<Option<ReportDetails>> {
        let sql = crate::report_details_sql(S::BACKEND);
        sqlx::query_as::<_, ReportDetailsRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(ReportDetailsRow::into_domain)
            .transpose()
    }

    /// A report's history, oldest first.
    pub async fn report_events(&self, id: Uuid) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query_as::<_, EventRow>(
            "SELECT id, report_id, kind, actor, public, data, at FROM report_events \
             WHERE report_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        convert_all(rows, EventRow::into_domain)
    }

    /// Open reports of a service in the given cells, created since `q.since`.
    pub async fn nearby_candidates(&self, q: &NearbyQuery) -> Result<Vec<StoredReport>> {
        if q.cells.is_empty() {
            return Ok(Vec::new());
        }
        // Only the columns of reports_nearby_idx (partial on the open statuses, written as
        // its predicate is): the box is tested on the index's lat and lon, so reports of the
        // cells outside it cost no row read. The jurisdiction is checked on the few rows
        // found.
        let mut select = sqlx::QueryBuilder::<S::Db>::new(format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE service_code = "
        ));
        select
            .push_bind(q.service_code.as_str())
            .push(" AND created_at >= ")
            .push_bind(q.since)
            .push(" AND lat BETWEEN ")
            .push_bind(q.bounds.south)
            .push(" AND ")
            .push_bind(q.bounds.north)
            .push(" AND lon BETWEEN ")
            .push_bind(q.bounds.west)
            .push(" AND ")
            .push_bind(q.bounds.east)
            .push(format!(
                " AND status IN ({}) AND cell IN (",
                open_statuses_sql()
            ));
        let mut cells = select.separated(", ");
        for cell in &q.cells {
            cells.push_bind(*cell);
        }
        select.push(")");
        let rows = select
            .build_query_as::<ReportRow>()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        let reports = convert_all(rows, ReportRow::into_domain)?;
        Ok(reports
            .into_iter()
            .filter(|r| r.jurisdiction == q.jurisdiction)
            .collect())
    }

    /// Adds a device's "me too"; once per device.
    pub async fn support_report(&self, s: &NewSupport) -> Result<SupportOutcome> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT supporters FROM reports WHERE id = $1")
                .bind(s.report_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(S::error)?;
        let Some(current) = current else {
            return Ok(SupportOutcome::NotFound);
        };
        let added = sqlx::query(
            "INSERT INTO report_supporters (report_id, device_id, at) \
             VALUES ($1, $2, $3) ON CONFLICT (report_id, device_id) DO NOTHING",
        )
        .bind(s.report_id)
        .bind(s.device)
        .bind(s.at)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        if S::Db::rows_affected(&added) == 0 {
            return Ok(SupportOutcome::AlreadySupported {
                supporters: current,
            });
        }
        let supporters: i64 = sqlx::query_scalar(
            "UPDATE reports SET supporters = supporters + 1, updated_at = $2 \
             WHERE id = $1 RETURNING supporters",
        )
        .bind(s.report_id)
        .bind(s.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(S::error)?;
        let event = balagh_domain::EventData::Supported(balagh_domain::event_data::Supported {
            supporters,
        })
        .event(balagh_domain::event::Actor::Device(s.device), true);
        let events = std::slice::from_ref(&event);
        S::insert_events(&mut *tx, s.report_id, s.at, events).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(SupportOutcome::Added { supporters })
    }

    /// How many reports there are.
    pub async fn count_reports(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM reports")
            .fetch_one(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// Refreshes the planner's statistics after a bulk load.
    pub async fn analyze(&self) -> Result<()> {
        sqlx::raw_sql(S::ANALYZE)
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(())
    }

    /// Erases the contacts of up to `limit` reports (and Open311 device ids) older than
    /// `created_before`; how many reports were touched.
    pub async fn erase_contacts(&self, created_before: Ts, limit: u32) -> Result<u64> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let reports = sqlx::query(
            "UPDATE reports SET contact = NULL WHERE id IN (SELECT id FROM reports \
             WHERE contact IS NOT NULL AND created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .bind(created_before)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        // An Open311 client's device id names the resident's phone.
        let devices = sqlx::query(
            "UPDATE open311_submissions SET device_id = NULL WHERE report_id IN \
             (SELECT report_id FROM open311_submissions WHERE device_id IS NOT NULL \
              AND received_at < $1 ORDER BY received_at LIMIT $2)",
        )
        .bind(created_before)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        tx.commit().await.map_err(S::error)?;
        Ok(S::Db::rows_affected(&reports).max(S::Db::rows_affected(&devices)))
    }
}
