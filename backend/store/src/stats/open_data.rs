//! The reports of a period one by one, with their stored facts: the record-level open data
//! and the differential-privacy counts read them.

use super::{RecordSource, ReporterReport, StoredFacts};
use crate::{Result, Sql, SqlBackend, Ts};
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

/// A report's id, device, staff author, creation, service and facts (if rolled up).
type ReporterRow = (
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    Ts,
    String,
    Option<Json<StoredFacts>>,
);

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (String, String, Json<StoredFacts>): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ReporterRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Reports created in `[from, until)` with their stored facts (record-level open data).
    pub async fn stats_records(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<RecordSource>> {
        let rows: Vec<(String, String, Json<StoredFacts>)> = sqlx::query_as(
            "SELECT r.reference, r.status, f.facts FROM reports r \
             JOIN stats_report_facts f ON f.report_id = r.id \
             WHERE r.jurisdiction_id = $1 AND r.created_at >= $2 \
             AND r.created_at < $3 ORDER BY r.created_at, r.id",
        )
        .bind(jurisdiction)
        .bind(from)
        .bind(until)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(|(reference, status, facts)| RecordSource {
                reference,
                status,
                facts: facts.0,
            })
            .collect())
    }

    /// Reports created in `[from, until)` with their reporter (differential privacy).
    pub async fn stats_reporter_reports(
        &self,
        jurisdiction: &str,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<ReporterReport>> {
        let rows: Vec<ReporterRow> = sqlx::query_as(
            "SELECT r.id, r.device_id, r.created_by, r.created_at, r.service_code, \
             f.facts FROM reports r \
             LEFT JOIN stats_report_facts f ON f.report_id = r.id \
             WHERE r.jurisdiction_id = $1 AND r.created_at >= $2 \
             AND r.created_at < $3",
        )
        .bind(jurisdiction)
        .bind(from)
        .bind(until)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, device, staff, created_at, service, facts)| ReporterReport {
                    id,
                    reporter: device.or(staff),
                    created_at,
                    service,
                    district: facts.and_then(|f| f.0.district),
                },
            )
            .collect())
    }
}
