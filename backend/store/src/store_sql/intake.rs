//! Report intake: a new report with its first events, outbox messages, clocks and draft
//! photos, all or nothing (one statement on PostgreSQL when there are no photos, a
//! transaction otherwise), and the bulk load of synthetic reports.

use crate::{
    CLOCK_COLUMNS, ClockRecord, Constraint, CreateOutcome, NewOutboxMessage, NewReport,
    REPORT_COLUMNS, ReportRow, Result, SharedWrites, Sql, SqlDb, StoreError, Ts,
};
use balagh_domain::NewEvent;
use serde_json::{Map, Value};
use sqlx::query_builder::Separated;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

const INSERT_REPORT: &str = "INSERT INTO reports (id, reference, jurisdiction_id, \
    service_code, lat, lon, accuracy_m, cell, description, attributes, channel, \
    status, priority, operator_id, contract_id, device_id, idempotency_key, \
    request_hash, created_at, updated_at, due_at, contact, created_by) ";

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> &'q [u8]: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q [u8]>: Encode<'q, S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<String>: Encode<'q, S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> f64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<f64>: Encode<'q, S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q Map<String, Value>>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q Value>: Type<S::Db>,
    for<'q> Option<Json<&'q Value>>: Encode<'q, S::Db>,
    for<'r> ReportRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Stores a report with its first events, outbox messages, clocks and draft photos,
    /// all or nothing; with an idempotency key already used, the report it created.
    pub async fn create_report(&self, report: &NewReport) -> Result<CreateOutcome> {
        // Attaching photos can fail after the report is written, and must undo
        // it: that needs a transaction, not the one-statement path.
        let inserted = if S::DATA_MODIFYING_CTE && report.photos.is_empty() {
            self.insert_report_single_statement(report).await?
        } else {
            self.insert_report_in_transaction(report).await?
        };
        if let Some(row) = inserted {
            return Ok(CreateOutcome::Created(row.into_domain()?));
        }
        // Nothing inserted: either the key was used before (answer with the report it
        // created; a concurrent first insert has committed by now, as ON CONFLICT
        // waited for it) or the random public reference was taken.
        let Some(idempotency) = report.idempotency.as_ref() else {
            return Err(StoreError::Conflict(Constraint::ReportReference));
        };
        // Reports made by SMS have neither device nor author: their key is the
        // message's, unique among SMS reports (reports_sms_idempotency_key).
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE idempotency_key = $3 \
             AND (device_id = $1 OR created_by = $2 \
             OR (channel = 'sms' AND channel = $4))"
        );
        let existing = sqlx::query_as::<_, ReportRow>(sqlx::AssertSqlSafe(sql))
            .bind(report.device)
            .bind(report.created_by)
            .bind(idempotency.key.as_str())
            .bind(report.channel.as_str())
            .fetch_optional(self.0.writer())
            .await
            .map_err(S::error)?;
        match existing {
            Some(row) => Ok(CreateOutcome::Existing(row.into_domain()?)),
            None => Err(StoreError::Conflict(Constraint::ReportReference)),
        }
    }

    /// Binds a report's columns in [`INSERT_REPORT`] order.
    fn push_report_values(b: &mut Separated<'_, S::Db, &'static str>, r: &NewReport) {
        b.push_bind(r.id)
            .push_bind(r.reference.as_str())
            .push_bind(r.jurisdiction.as_str())
            .push_bind(r.service_code.as_str())
            .push_bind(r.point.lat())
            .push_bind(r.point.lon())
            .push_bind(r.accuracy.map(|a| a.metres()))
            .push_bind(r.point.report_cell())
            .push_bind(r.description.as_str())
            .push_bind(Json(r.attributes.as_map()))
            .push_bind(r.channel.as_str())
            .push_bind(r.status.as_str())
            .push_bind(r.priority.as_str())
            .push_bind(r.operator.map(|o| o.0))
            .push_bind(r.contract.map(|c| c.0))
            .push_bind(r.device)
            .push_bind(r.idempotency.as_ref().map(|i| i.key.as_str()))
            .push_bind(r.idempotency.as_ref().map(|i| i.request_hash.as_slice()))
            .push_bind(r.created_at)
            .push_bind(r.created_at)
            .push_bind(r.due_at)
            .push_bind(r.contact.as_ref().map(Json))
            .push_bind(r.created_by);
    }

    /// Report and events in one transaction: INSERT … RETURNING, then the events.
    /// `None` when the device already used the idempotency key.
    async fn insert_report_in_transaction(&self, report: &NewReport) -> Result<Option<ReportRow>> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let mut insert = QueryBuilder::<S::Db>::new(INSERT_REPORT);
        insert.push("VALUES (");
        Self::push_report_values(&mut insert.separated(", "), report);
        insert.push(") ON CONFLICT DO NOTHING RETURNING ");
        insert.push(REPORT_COLUMNS);
        let inserted: Option<ReportRow> = insert
            .build_query_as()
            .fetch_optional(&mut *tx)
            .await
            .map_err(S::error)?;
        if inserted.is_some() {
            let (id, at) = (report.id, report.created_at);
            S::insert_events(&mut *tx, id, at, &report.events).await?;
            S::insert_outbox(&mut *tx, &report.outbox).await?;
            S::insert_clocks(&mut *tx, &report.clocks).await?;
            self.attach_new_report_photos(&mut tx, report).await?;
            tx.commit().await.map_err(S::error)?;
        }
        Ok(inserted)
    }

    /// Attaches a new report's draft photos in its transaction. A draft that is gone
    /// or attached elsewhere returns an error before the commit: the transaction is
    /// dropped, so nothing of the report is written.
    async fn attach_new_report_photos(
        &self,
        tx: &mut sqlx::Transaction<'_, S::Db>,
        report: &NewReport,
    ) -> Result<()> {
        for photo in &report.photos {
            let done = sqlx::query(
                "UPDATE photos SET report_id = $1, gps_distance_m = $2, gps_far = $3, \
                 draft_gps_lat = NULL, draft_gps_lon = NULL, attached_at = $4 \
                 WHERE id = $5 AND report_id IS NULL AND device_id = $6",
            )
            .bind(report.id)
            .bind(photo.gps_distance_m)
            .bind(photo.gps_far)
            .bind(report.created_at)
            .bind(photo.photo_id)
            .bind(report.device)
            .execute(&mut **tx)
            .await
            .map_err(S::error)?;
            if S::Db::rows_affected(&done) != 1 {
                return Err(StoreError::PhotoNotAttachable(photo.photo_id));
            }
        }
        Ok(())
    }

    /// The same as one statement (a data-modifying CTE, PostgreSQL only): one round
    /// trip and an implicit transaction, the hot path of report intake.
    async fn insert_report_single_statement(
        &self,
        report: &NewReport,
    ) -> Result<Option<ReportRow>> {
        let mut sql = QueryBuilder::<S::Db>::new("WITH r AS (");
        sql.push(INSERT_REPORT).push("VALUES (");
        Self::push_report_values(&mut sql.separated(", "), report);
        sql.push(") ON CONFLICT DO NOTHING RETURNING ")
            .push(REPORT_COLUMNS)
            .push(
                "), e AS (INSERT INTO report_events (id, report_id, kind, actor, public, \
                 data, at) SELECT v.id, r.id, v.kind, v.actor, v.public, v.data, \
                 r.created_at FROM r CROSS JOIN (",
            );
        sql.push_values(&report.events, |mut b, event| {
            b.push_bind(Uuid::now_v7())
                .push_bind(event.kind.as_str())
                .push_bind(event.actor.to_stored())
                .push_bind(event.public)
                .push_bind(Json(event.data.clone()));
        });
        sql.push(") AS v (id, kind, actor, public, data))");
        Self::push_outbox_cte(&mut sql, &report.outbox);
        Self::push_clocks_cte(&mut sql, &report.clocks);
        sql.push(" SELECT ").push(REPORT_COLUMNS).push(" FROM r");
        sql.build_query_as()
            .fetch_optional(self.0.writer())
            .await
            .map_err(S::error)
    }

    /// The new report's outbox messages as a CTE `o` of the intake statement.
    fn push_outbox_cte(sql: &mut QueryBuilder<S::Db>, outbox: &[NewOutboxMessage]) {
        if outbox.is_empty() {
            return;
        }
        sql.push(
            ", o AS (INSERT INTO outbox (id, topic, operator_id, event_type, payload, \
             state, attempts, next_attempt_at, created_at, jurisdiction_id) \
             SELECT v.id, v.topic, v.operator_id, v.event_type, v.payload, \
             'pending', 0, r.created_at, r.created_at, v.jurisdiction_id \
             FROM r CROSS JOIN (",
        );
        sql.push_values(outbox, |mut b, m| {
            b.push_bind(m.id)
                .push_bind(m.topic)
                .push_bind(m.operator.map(|o| o.0))
                .push_bind(m.event_type.as_str())
                .push_bind(Json(m.payload.clone()))
                .push_bind(m.jurisdiction.as_ref().map(|j| j.as_str()));
        });
        sql.push(") AS v (id, topic, operator_id, event_type, payload, jurisdiction_id))");
    }

    /// The new report's clocks as a CTE `c` of the intake statement: their rows are bound
    /// as given, only inserted if the report was.
    fn push_clocks_cte(sql: &mut QueryBuilder<S::Db>, clocks: &[ClockRecord]) {
        if clocks.is_empty() {
            return;
        }
        sql.push(format!(
            ", c AS (INSERT INTO sla_clocks ({CLOCK_COLUMNS}) SELECT v.* FROM r \
             CROSS JOIN ("
        ));
        sql.push_values(clocks, |mut b, c| {
            S::push_clock_values(&mut b, c);
        });
        sql.push(format!(") AS v ({CLOCK_COLUMNS}))"));
    }

    /// Inserts many reports with their events (`later_events` included) and clocks,
    /// without idempotency checks nor photos, in statements of bounded size.
    pub async fn bulk_insert_reports(&self, reports: &[NewReport]) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        for chunk in reports.chunks(crate::writes::BULK_ROWS) {
            let mut insert = QueryBuilder::<S::Db>::new(INSERT_REPORT);
            insert.push_values(chunk, |mut b, r| Self::push_report_values(&mut b, r));
            insert.build().execute(&mut *tx).await.map_err(S::error)?;
            let events: Vec<(Uuid, Ts, &NewEvent)> = chunk
                .iter()
                .flat_map(|r| {
                    r.events
                        .iter()
                        .map(move |e| (r.id, r.created_at, e))
                        .chain(r.later_events.iter().map(move |(at, e)| (r.id, *at, e)))
                })
                .collect();
            for events in events.chunks(crate::writes::BULK_ROWS) {
                let mut insert = QueryBuilder::<S::Db>::new(
                    "INSERT INTO report_events (id, report_id, kind, actor, public, \
                     data, at) ",
                );
                insert.push_values(events, |mut b, (report_id, at, e)| {
                    b.push_bind(Uuid::now_v7())
                        .push_bind(*report_id)
                        .push_bind(e.kind.as_str())
                        .push_bind(e.actor.to_stored())
                        .push_bind(e.public)
                        .push_bind(Json(e.data.clone()))
                        .push_bind(*at);
                });
                insert.build().execute(&mut *tx).await.map_err(S::error)?;
            }
        }
        let clocks: Vec<ClockRecord> = reports
            .iter()
            .flat_map(|r| r.clocks.iter().cloned())
            .collect();
        S::insert_clocks(&mut *tx, &clocks).await?;
        tx.commit().await.map_err(S::error)
    }
}
