//! The SQL both backends share, written once.
//!
//! [`impl_sql_store!`] expands to `impl Store for $store` over `sqlx::Pool<$db>`. The backend
//! type implements [`SqlBackend`](crate::SqlBackend) (pools, error mapping, the fragments that
//! differ) and has an inherent `async fn run_migrations(&self) -> Result<()>`. SQL text uses
//! `$N` placeholders, which both databases accept.

/// Bound on rows per multi-row INSERT: 20 columns × 500 rows stays under both databases'
/// parameter limits.
pub const BULK_ROWS: usize = 500;

/// Appends events to a report's history in one statement (a macro, so that it works with
/// either database's connection type).
#[doc(hidden)]
#[macro_export]
macro_rules! __insert_events_sql {
    ($conn:ident, $store:ty, $db:ty, $report_id:expr, $at:expr, $events:expr) => {
        let events: &[balagh_domain::NewEvent] = $events;
        if !events.is_empty() {
            let mut insert = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO report_events (id, report_id, kind, actor, public, data, at) ",
            );
            insert.push_values(events, |mut b, event| {
                b.push_bind(Uuid::now_v7())
                    .push_bind($report_id)
                    .push_bind(event.kind.as_str())
                    .push_bind(event.actor.to_stored())
                    .push_bind(event.public)
                    .push_bind(Json(event.data.clone()))
                    .push_bind($at);
            });
            insert
                .build()
                .execute(&mut *$conn)
                .await
                .map_err(<$store>::error)?;
        }
    };
}
#[doc(hidden)]
pub use __insert_events_sql as insert_events_sql;

#[macro_export]
macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx::{self, types::Json};
            use $crate::*;
            use balagh_domain::{
                Contract, Jurisdiction, JurisdictionId, NewEvent, ReportStatus, Service,
                zones::ZoneFeature,
            };
            use uuid::Uuid;

            type Tx<'c> = sqlx::Transaction<'c, $db>;
            type Conn = <$db as sqlx::Database>::Connection;

            fn open_statuses_sql() -> String {
                ReportStatus::OPEN
                    .iter()
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            }

            async fn bump_catalog(tx: &mut Tx<'_>) -> Result<()> {
                sqlx::query("UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1")
                    .execute(&mut **tx)
                    .await
                    .map_err(<$store>::error)?;
                Ok(())
            }

            /// Appends events in one statement.
            async fn insert_events(
                conn: &mut Conn,
                report_id: Uuid,
                at: Ts,
                events: &[NewEvent],
            ) -> Result<()> {
                $crate::shared::insert_events_sql!(conn, $store, $db, report_id, at, events);
                Ok(())
            }

            async fn report_by_id(conn: &mut Conn, id: Uuid) -> Result<Option<StoredReport>> {
                let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1");
                sqlx::query_as::<_, ReportRow>(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(<$store>::error)?
                    .map(ReportRow::into_domain)
                    .transpose()
            }

            /// Appends outbox messages in one statement.
            async fn insert_outbox(conn: &mut Conn, messages: &[NewOutboxMessage]) -> Result<()> {
                $crate::sla::insert_outbox_sql!(conn, $store, $db, messages);
                Ok(())
            }

            /// Updates a report at its expected version; on success appends the change's
            /// events and outbox messages.
            async fn apply_change(conn: &mut Conn, c: &ReportChange) -> Result<ChangeOutcome> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "UPDATE reports SET version = version + 1, updated_at = ",
                );
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
                let updated: Option<ReportRow> = q
                    .build_query_as()
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(<$store>::error)?;
                match updated {
                    Some(row) => {
                        insert_events(conn, c.report_id, c.at, &c.events).await?;
                        insert_outbox(conn, &c.outbox).await?;
                        if let Some(clocks) = &c.clocks {
                            $crate::sla::replace_clocks_sql!(conn, $store, $db, c.report_id, clocks);
                        }
                        Ok(ChangeOutcome::Applied(row.into_domain()?))
                    }
                    None => Ok(match report_by_id(conn, c.report_id).await? {
                        Some(current) => ChangeOutcome::VersionMismatch(current),
                        None => ChangeOutcome::NotFound,
                    }),
                }
            }

            fn status_list(statuses: &[ReportStatus]) -> String {
                statuses
                    .iter()
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            }

            /// `SELECT {columns} FROM reports WHERE` the queue's filters (not its cursor).
            fn queue_query(q: &QueueQuery, columns: &str) -> sqlx::QueryBuilder<$db> {
                let statuses = if q.statuses.is_empty() {
                    ReportStatus::OPEN.to_vec()
                } else {
                    q.statuses.clone()
                };
                let mut sql = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {columns} FROM reports WHERE status IN ({}) AND operator_id = ",
                    status_list(&statuses)
                ));
                sql.push_bind(q.operator.0);
                if !q.service_codes.is_empty() {
                    sql.push(" AND service_code IN (");
                    let mut codes = sql.separated(", ");
                    for code in &q.service_codes {
                        codes.push_bind(code.as_str().to_owned());
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

            async fn user_row(
                pool: &sqlx::Pool<$db>,
                sql: String,
                bind: impl FnOnce(
                    sqlx::query::QueryAs<'_, $db, UserWithRow, <$db as sqlx::Database>::Arguments>,
                ) -> sqlx::query::QueryAs<'_, $db, UserWithRow, <$db as sqlx::Database>::Arguments>,
            ) -> Result<Option<(balagh_domain::account::User, String)>> {
                let row = bind(sqlx::query_as::<_, UserWithRow>(sqlx::AssertSqlSafe(sql)))
                    .fetch_optional(pool)
                    .await
                    .map_err(<$store>::error)?;
                row.map(|r| Ok((r.user.into_domain()?, r.extra))).transpose()
            }

            fn push_report_values(
                b: &mut sqlx::query_builder::Separated<'_, $db, &'static str>,
                r: &NewReport,
            ) {
                b.push_bind(r.id)
                    .push_bind(r.reference.as_str().to_owned())
                    .push_bind(r.jurisdiction.as_str().to_owned())
                    .push_bind(r.service_code.as_str().to_owned())
                    .push_bind(r.point.lat())
                    .push_bind(r.point.lon())
                    .push_bind(r.accuracy.map(|a| a.metres()))
                    .push_bind(r.point.report_cell())
                    .push_bind(r.description.as_str().to_owned())
                    .push_bind(Json(r.attributes.as_map().clone()))
                    .push_bind(r.channel.as_str())
                    .push_bind(r.status.as_str())
                    .push_bind(r.priority.as_str())
                    .push_bind(r.operator.map(|o| o.0))
                    .push_bind(r.contract.map(|c| c.0))
                    .push_bind(r.device)
                    .push_bind(r.idempotency.as_ref().map(|i| i.key.as_str().to_owned()))
                    .push_bind(r.idempotency.as_ref().map(|i| i.request_hash.clone()))
                    .push_bind(r.created_at)
                    .push_bind(r.created_at)
                    .push_bind(r.due_at)
                    .push_bind(r.contact.as_ref().map(Json))
                    .push_bind(r.created_by);
            }

            const INSERT_REPORT: &str = "INSERT INTO reports (id, reference, jurisdiction_id, \
                service_code, lat, lon, accuracy_m, cell, description, attributes, channel, \
                status, priority, operator_id, contract_id, device_id, idempotency_key, \
                request_hash, created_at, updated_at, due_at, contact, created_by) ";

            /// Report and events in one transaction: INSERT … RETURNING, then the events.
            /// `None` when the device already used the idempotency key.
            async fn insert_report_in_transaction(
                pool: &sqlx::Pool<$db>,
                report: &NewReport,
            ) -> Result<Option<ReportRow>> {
                let mut tx = pool.begin().await.map_err(<$store>::error)?;
                let mut insert = sqlx::QueryBuilder::<$db>::new(INSERT_REPORT);
                insert.push("VALUES (");
                push_report_values(&mut insert.separated(", "), report);
                insert.push(") ON CONFLICT DO NOTHING RETURNING ");
                insert.push(REPORT_COLUMNS);
                let inserted: Option<ReportRow> = insert
                    .build_query_as()
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                if inserted.is_some() {
                    insert_events(&mut tx, report.id, report.created_at, &report.events).await?;
                    insert_outbox(&mut tx, &report.outbox).await?;
                    $crate::sla::insert_clocks_sql!(tx, $store, $db, &report.clocks);
                    attach_new_report_photos(&mut tx, report).await?;
                    tx.commit().await.map_err(<$store>::error)?;
                }
                Ok(inserted)
            }

            /// Attaches a new report's draft photos in its transaction. A draft that is gone
            /// or attached elsewhere returns an error before the commit: the transaction is
            /// dropped, so nothing of the report is written.
            async fn attach_new_report_photos(tx: &mut Tx<'_>, report: &NewReport) -> Result<()> {
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
                    .map_err(<$store>::error)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::PhotoNotAttachable(photo.photo_id));
                    }
                }
                Ok(())
            }

            /// The same as one statement (a data-modifying CTE, PostgreSQL only): one round
            /// trip and an implicit transaction, the hot path of report intake.
            async fn insert_report_single_statement(
                pool: &sqlx::Pool<$db>,
                report: &NewReport,
            ) -> Result<Option<ReportRow>> {
                let mut sql = sqlx::QueryBuilder::<$db>::new("WITH r AS (");
                sql.push(INSERT_REPORT).push("VALUES (");
                push_report_values(&mut sql.separated(", "), report);
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
                if !report.outbox.is_empty() {
                    sql.push(
                        ", o AS (INSERT INTO outbox (id, topic, operator_id, event_type, payload, \
                         state, attempts, next_attempt_at, created_at, jurisdiction_id) \
                         SELECT v.id, v.topic, v.operator_id, v.event_type, v.payload, \
                         'pending', 0, r.created_at, r.created_at, v.jurisdiction_id \
                         FROM r CROSS JOIN (",
                    );
                    sql.push_values(&report.outbox, |mut b, m| {
                        b.push_bind(m.id)
                            .push_bind(m.topic)
                            .push_bind(m.operator.map(|o| o.0))
                            .push_bind(m.event_type.clone())
                            .push_bind(Json(m.payload.clone()))
                            .push_bind(m.jurisdiction.as_ref().map(|j| j.as_str().to_owned()));
                    });
                    sql.push(") AS v (id, topic, operator_id, event_type, payload, jurisdiction_id))");
                }
                if !report.clocks.is_empty() {
                    // The clocks of a new report: their rows are bound as given, only
                    // inserted if the report was.
                    sql.push(format!(
                        ", c AS (INSERT INTO sla_clocks ({CLOCK_COLUMNS}) SELECT v.* FROM r \
                         CROSS JOIN ("
                    ));
                    sql.push_values(&report.clocks, |mut b, c| {
                        $crate::sla::push_clock_values!(b, c);
                    });
                    sql.push(format!(") AS v ({CLOCK_COLUMNS}))"));
                }
                sql.push(" SELECT ").push(REPORT_COLUMNS).push(" FROM r");
                sql.build_query_as()
                    .fetch_optional(pool)
                    .await
                    .map_err(<$store>::error)
            }


            #[$crate::async_trait]
            impl Store for $store {
                fn backend(&self) -> Backend {
                    <$store>::BACKEND
                }

                async fn migrate(&self) -> Result<()> {
                    self.run_migrations().await
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query("SELECT 1")
                        .execute(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn close(&self) {
                    self.writer().close().await;
                    self.reader().close().await;
                }

                async fn catalog_revision(&self) -> Result<i64> {
                    sqlx::query_scalar("SELECT revision FROM catalog_revision WHERE id = 1")
                        .fetch_one(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn upsert_jurisdiction(&self, j: &Jurisdiction) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(
                        "INSERT INTO jurisdictions (id, name, time_zone, languages, \
                         default_language, reference_prefix, boundary, statistics, \
                         currency_code, currency_exponent) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                         time_zone = excluded.time_zone, languages = excluded.languages, \
                         default_language = excluded.default_language, \
                         reference_prefix = excluded.reference_prefix, boundary = excluded.boundary, \
                         statistics = excluded.statistics, currency_code = excluded.currency_code, \
                         currency_exponent = excluded.currency_exponent",
                    )
                    .bind(j.id.as_str())
                    .bind(&j.name)
                    .bind(&j.time_zone)
                    .bind(Json(&j.languages))
                    .bind(j.default_language.code())
                    .bind(&j.reference_prefix)
                    .bind(Json(area_to_json(&j.boundary)))
                    .bind(Json(&j.statistics))
                    .bind(j.currency.code())
                    .bind(i32::from(j.currency.exponent()))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    // Every jurisdiction starts with the built-in groups (the migration
                    // seeded those that existed before groups were data).
                    for group in balagh_domain::ServiceGroupDefinition::built_in() {
                        sqlx::query(
                            "INSERT INTO service_groups (jurisdiction_id, code, name, icon, \
                             position) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (jurisdiction_id, code) DO NOTHING",
                        )
                        .bind(j.id.as_str())
                        .bind(group.code.as_str())
                        .bind(Json(&group.name))
                        .bind(group.icon.as_deref())
                        .bind(i32::try_from(group.order).unwrap_or(i32::MAX))
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    bump_catalog(&mut tx).await?;
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>> {
                    let rows = sqlx::query_as::<_, JurisdictionRow>(
                        "SELECT id, name, time_zone, languages, default_language, \
                         reference_prefix, boundary, statistics, currency_code, \
                         currency_exponent FROM jurisdictions ORDER BY id",
                    )
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    convert_all(rows, JurisdictionRow::into_domain)
                }

                async fn upsert_services(
                    &self,
                    jurisdiction: &JurisdictionId,
                    services: &[Service],
                ) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    for service in services {
                        sqlx::query(
                            "INSERT INTO services (jurisdiction_id, code, service_group, \
                             definition, active) VALUES ($1, $2, $3, $4, TRUE) \
                             ON CONFLICT (jurisdiction_id, code) DO UPDATE SET \
                             service_group = excluded.service_group, \
                             definition = excluded.definition, active = TRUE",
                        )
                        .bind(jurisdiction.as_str())
                        .bind(service.code.as_str())
                        .bind(service.group.as_str())
                        .bind(Json(service))
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    bump_catalog(&mut tx).await?;
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn services(&self) -> Result<Vec<(JurisdictionId, Service)>> {
                    let rows = sqlx::query_as::<_, ServiceRow>(
                        "SELECT jurisdiction_id, definition FROM services WHERE active \
                         ORDER BY jurisdiction_id, service_group, code",
                    )
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    convert_all(rows, |row| {
                        let j = balagh_domain::Slug::parse("jurisdiction_id", &row.jurisdiction_id)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        Ok((j, row.definition.0))
                    })
                }

                async fn upsert_zones(
                    &self,
                    jurisdiction: &JurisdictionId,
                    zones: &[ZoneFeature],
                    progress: Progress<'_>,
                ) -> Result<ZoneImportSummary> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let mut operators = std::collections::BTreeSet::new();
                    for (done, zone) in zones.iter().enumerate() {
                        let operator_id: Uuid = sqlx::query_scalar(
                            "INSERT INTO operators (id, jurisdiction_id, slug, name) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (jurisdiction_id, slug) \
                             DO UPDATE SET name = excluded.name RETURNING id",
                        )
                        .bind(Uuid::now_v7())
                        .bind(jurisdiction.as_str())
                        .bind(zone.operator.as_str())
                        .bind(&zone.operator_name)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                        operators.insert(operator_id);
                        sqlx::query(
                            "INSERT INTO contracts (id, jurisdiction_id, reference, operator_id, \
                             service_group, zone_name, zone, valid_from, valid_until) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                             ON CONFLICT (jurisdiction_id, reference) DO UPDATE SET \
                             operator_id = excluded.operator_id, \
                             service_group = excluded.service_group, \
                             zone_name = excluded.zone_name, zone = excluded.zone, \
                             valid_from = excluded.valid_from, valid_until = excluded.valid_until",
                        )
                        .bind(Uuid::now_v7())
                        .bind(jurisdiction.as_str())
                        .bind(&zone.contract_reference)
                        .bind(operator_id)
                        .bind(zone.group.as_str())
                        .bind(&zone.zone_name)
                        .bind(Json(area_to_json(&zone.zone)))
                        .bind(Ts::new(zone.valid_from))
                        .bind(zone.valid_until.map(Ts::new))
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                        progress(done + 1);
                    }
                    bump_catalog(&mut tx).await?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(ZoneImportSummary {
                        operators: operators.len(),
                        contracts: zones.len(),
                    })
                }

                async fn operators(&self) -> Result<Vec<OperatorRecord>> {
                    let rows = sqlx::query_as::<_, OperatorRow>(
                        "SELECT id, jurisdiction_id, slug, name FROM operators \
                         ORDER BY jurisdiction_id, slug",
                    )
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    convert_all(rows, OperatorRow::into_domain)
                }

                async fn contracts(&self) -> Result<Vec<Contract>> {
                    let rows = sqlx::query_as::<_, ContractRow>(
                        "SELECT id, jurisdiction_id, reference, operator_id, service_group, \
                         zone_name, zone, valid_from, valid_until FROM contracts \
                         ORDER BY jurisdiction_id, reference",
                    )
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    convert_all(rows, ContractRow::into_domain)
                }

                async fn create_device(&self, device: &NewDevice) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO devices (id, token_hash, created_at) VALUES ($1, $2, $3)",
                    )
                    .bind(device.id)
                    .bind(&device.token_hash)
                    .bind(device.created_at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn device_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Uuid>> {
                    sqlx::query_scalar("SELECT id FROM devices WHERE token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn create_report(&self, report: &NewReport) -> Result<CreateOutcome> {
                    // Attaching photos can fail after the report is written, and must undo
                    // it: that needs a transaction, not the one-statement path.
                    let inserted = if <$store>::DATA_MODIFYING_CTE && report.photos.is_empty() {
                        insert_report_single_statement(self.writer(), report).await?
                    } else {
                        insert_report_in_transaction(self.writer(), report).await?
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
                        .fetch_optional(self.writer())
                        .await
                        .map_err(<$store>::error)?;
                    match existing {
                        Some(row) => Ok(CreateOutcome::Existing(row.into_domain()?)),
                        None => Err(StoreError::Conflict(Constraint::ReportReference)),
                    }
                }

                async fn report(&self, id: Uuid) -> Result<Option<StoredReport>> {
                    let mut conn = self.reader().acquire().await.map_err(<$store>::error)?;
                    report_by_id(&mut conn, id).await
                }

                async fn report_details(&self, id: Uuid) -> Result<Option<ReportDetails>> {
                    let sql = $crate::report_details_sql(<$store>::BACKEND);
                    sqlx::query_as::<_, $crate::ReportDetailsRow>(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .map($crate::ReportDetailsRow::into_domain)
                        .transpose()
                }

                async fn report_events(&self, id: Uuid) -> Result<Vec<StoredEvent>> {
                    let rows = sqlx::query_as::<_, EventRow>(
                        "SELECT id, report_id, kind, actor, public, data, at FROM report_events \
                         WHERE report_id = $1 ORDER BY at, id",
                    )
                    .bind(id)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    convert_all(rows, EventRow::into_domain)
                }

                async fn nearby_candidates(&self, q: &NearbyQuery) -> Result<Vec<StoredReport>> {
                    if q.cells.is_empty() {
                        return Ok(Vec::new());
                    }
                    // Only the columns of reports_nearby_idx (partial on the open statuses,
                    // written as its predicate is): the box is tested on the index's lat and
                    // lon, so reports of the cells outside it cost no row read. The
                    // jurisdiction is checked on the few rows found.
                    let mut select = sqlx::QueryBuilder::<$db>::new(format!(
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
                        .push(format!(" AND status IN ({}) AND cell IN (", open_statuses_sql()));
                    let mut cells = select.separated(", ");
                    for cell in &q.cells {
                        cells.push_bind(*cell);
                    }
                    select.push(")");
                    let rows = select
                        .build_query_as::<ReportRow>()
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    let reports = convert_all(rows, ReportRow::into_domain)?;
                    Ok(reports
                        .into_iter()
                        .filter(|r| r.jurisdiction == q.jurisdiction)
                        .collect())
                }

                async fn support_report(&self, s: &NewSupport) -> Result<SupportOutcome> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let current: Option<i64> =
                        sqlx::query_scalar("SELECT supporters FROM reports WHERE id = $1")
                            .bind(s.report_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
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
                    .map_err(<$store>::error)?
                    .rows_affected();
                    if added == 0 {
                        return Ok(SupportOutcome::AlreadySupported { supporters: current });
                    }
                    let supporters: i64 = sqlx::query_scalar(
                        "UPDATE reports SET supporters = supporters + 1, updated_at = $2 \
                         WHERE id = $1 RETURNING supporters",
                    )
                    .bind(s.report_id)
                    .bind(s.at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let event = balagh_domain::EventData::Supported(
                        balagh_domain::event_data::Supported { supporters },
                    )
                    .event(balagh_domain::event::Actor::Device(s.device), true);
                    insert_events(&mut tx, s.report_id, s.at, std::slice::from_ref(&event)).await?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(SupportOutcome::Added { supporters })
                }

                async fn bulk_insert_reports(&self, reports: &[NewReport]) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    for chunk in reports.chunks($crate::shared::BULK_ROWS) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(INSERT_REPORT);
                        insert.push_values(chunk, |mut b, r| push_report_values(&mut b, r));
                        insert
                            .build()
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        let events: Vec<(Uuid, Ts, &NewEvent)> = chunk
                            .iter()
                            .flat_map(|r| {
                                r.events
                                    .iter()
                                    .map(move |e| (r.id, r.created_at, e))
                                    .chain(r.later_events.iter().map(move |(at, e)| (r.id, *at, e)))
                            })
                            .collect();
                        for events in events.chunks($crate::shared::BULK_ROWS) {
                            let mut insert = sqlx::QueryBuilder::<$db>::new(
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
                            insert
                                .build()
                                .execute(&mut *tx)
                                .await
                                .map_err(<$store>::error)?;
                        }
                    }
                    let clocks: Vec<ClockRecord> =
                        reports.iter().flat_map(|r| r.clocks.iter().cloned()).collect();
                    $crate::sla::insert_clocks_sql!(tx, $store, $db, &clocks);
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn erase_contacts(&self, created_before: Ts, limit: u32) -> Result<u64> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let reports = sqlx::query(
                        "UPDATE reports SET contact = NULL WHERE id IN (SELECT id FROM reports \
                         WHERE contact IS NOT NULL AND created_at < $1 ORDER BY created_at LIMIT $2)",
                    )
                    .bind(created_before)
                    .bind(i64::from(limit))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?
                    .rows_affected();
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
                    .map_err(<$store>::error)?
                    .rows_affected();
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(reports.max(devices))
                }

                async fn analyze(&self) -> Result<()> {
                    sqlx::raw_sql(<$store>::ANALYZE)
                        .execute(self.writer())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn count_reports(&self) -> Result<i64> {
                    sqlx::query_scalar("SELECT COUNT(*) FROM reports")
                        .fetch_one(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn create_user(&self, user: &NewUser) -> Result<()> {
                    let (jurisdiction, operator) = scope_columns(&user.grant);
                    sqlx::query(
                        "INSERT INTO users (id, email, display_name, password_hash, role, \
                         jurisdiction_id, operator_id, active, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8)",
                    )
                    .bind(user.id)
                    .bind(user.email.as_str())
                    .bind(&user.display_name)
                    .bind(&user.password_hash)
                    .bind(user.grant.role().as_str())
                    .bind(jurisdiction)
                    .bind(operator)
                    .bind(user.created_at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn user(&self, id: Uuid) -> Result<Option<balagh_domain::account::User>> {
                    let sql = format!("SELECT {} FROM users WHERE id = $1", user_columns(""));
                    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .map(UserRow::into_domain)
                        .transpose()
                }

                async fn user_for_login(
                    &self,
                    email: &balagh_domain::account::Email,
                ) -> Result<Option<(balagh_domain::account::User, String)>> {
                    let sql = format!(
                        "SELECT {}, password_hash AS extra FROM users WHERE email = $1",
                        user_columns("")
                    );
                    user_row(self.reader(), sql, |q| q.bind(email.as_str().to_owned())).await
                }

                async fn users_in_scope(
                    &self,
                    scope: &balagh_domain::account::Scope,
                ) -> Result<Vec<balagh_domain::account::User>> {
                    use balagh_domain::account::Scope;
                    let column = match scope {
                        Scope::Jurisdiction(_) => "jurisdiction_id",
                        Scope::Operator(_) => "operator_id",
                    };
                    let sql = format!(
                        "SELECT {} FROM users WHERE {column} = $1 ORDER BY email",
                        user_columns("")
                    );
                    let query = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql));
                    let query = match scope {
                        Scope::Jurisdiction(j) => query.bind(j.as_str().to_owned()),
                        Scope::Operator(o) => query.bind(o.0),
                    };
                    let rows = query.fetch_all(self.reader()).await.map_err(<$store>::error)?;
                    convert_all(rows, UserRow::into_domain)
                }

                async fn update_user(
                    &self,
                    id: Uuid,
                    update: &UserUpdate,
                ) -> Result<Option<balagh_domain::account::User>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new("UPDATE users SET id = id");
                    if let Some(name) = &update.display_name {
                        q.push(", display_name = ").push_bind(name.clone());
                    }
                    if let Some(grant) = &update.grant {
                        let (jurisdiction, operator) = scope_columns(grant);
                        q.push(", role = ")
                            .push_bind(grant.role().as_str())
                            .push(", jurisdiction_id = ")
                            .push_bind(jurisdiction)
                            .push(", operator_id = ")
                            .push_bind(operator);
                    }
                    if let Some(active) = update.active {
                        q.push(", active = ").push_bind(active);
                    }
                    if let Some(hash) = &update.password_hash {
                        q.push(", password_hash = ").push_bind(hash.clone());
                    }
                    q.push(" WHERE id = ").push_bind(id).push(" RETURNING ").push(user_columns(""));
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let row = q
                        .build_query_as::<UserRow>()
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    // Deactivation and a new password end every way in the user had: sessions
                    // deleted, tokens revoked for good (reactivating revives none of them).
                    if row.is_some() && (update.active == Some(false) || update.password_hash.is_some()) {
                        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        sqlx::query(
                            "UPDATE api_tokens SET revoked_at = $2 \
                             WHERE user_id = $1 AND revoked_at IS NULL",
                        )
                        .bind(id)
                        .bind(Ts::now())
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    row.map(UserRow::into_domain).transpose()
                }

                async fn create_session(&self, s: &NewSession) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, \
                         expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&s.token_hash)
                    .bind(s.user_id)
                    .bind(&s.csrf_token)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn session_user(
                    &self,
                    token_hash: &[u8],
                    now: Ts,
                ) -> Result<Option<(balagh_domain::account::User, String)>> {
                    let sql = format!(
                        "SELECT {}, s.csrf_token AS extra FROM sessions s \
                         JOIN users u ON u.id = s.user_id \
                         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
                        user_columns("u.")
                    );
                    user_row(self.reader(), sql, |q| q.bind(token_hash.to_vec()).bind(now)).await
                }

                async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .execute(self.writer())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn create_api_token(&self, t: &NewApiToken) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, \
                         expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(t.id)
                    .bind(t.user_id)
                    .bind(&t.name)
                    .bind(&t.token_hash)
                    .bind(t.created_at)
                    .bind(t.expires_at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn api_token_user(
                    &self,
                    token_hash: &[u8],
                    now: Ts,
                ) -> Result<Option<balagh_domain::account::User>> {
                    let sql = format!(
                        "SELECT {} FROM api_tokens t JOIN users u ON u.id = t.user_id \
                         WHERE t.token_hash = $1 AND t.expires_at > $2 AND t.revoked_at IS NULL \
                         AND u.active",
                        user_columns("u.")
                    );
                    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
                        .bind(token_hash)
                        .bind(now)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .map(UserRow::into_domain)
                        .transpose()
                }

                async fn api_tokens(&self, user_id: Uuid) -> Result<Vec<ApiTokenInfo>> {
                    sqlx::query_as::<_, ApiTokenInfo>(
                        "SELECT id, name, created_at, expires_at, revoked_at FROM api_tokens \
                         WHERE user_id = $1 ORDER BY created_at, id",
                    )
                    .bind(user_id)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn revoke_api_token(&self, user_id: Uuid, token_id: Uuid, now: Ts) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE api_tokens SET revoked_at = $3 \
                         WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(token_id)
                    .bind(now)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn count_attempt(
                    &self,
                    key: &str,
                    now: Ts,
                    policy: &ThrottlePolicy,
                ) -> Result<balagh_store::LoginAttempts> {
                    // One statement: concurrent attempts serialise on the row (PostgreSQL's
                    // ON CONFLICT locks it; SQLite has one writer), each gets its own count.
                    // The `failures` column counts attempts since this statement exists.
                    let (count, started): (i32, Ts) = sqlx::query_as(
                        "INSERT INTO login_throttle (key, failures, window_started_at) \
                         VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET \
                         failures = CASE WHEN login_throttle.window_started_at <= $3 THEN 1 \
                                    ELSE login_throttle.failures + 1 END, \
                         window_started_at = CASE WHEN login_throttle.window_started_at <= $3 \
                                    THEN $2 ELSE login_throttle.window_started_at END \
                         RETURNING failures, window_started_at",
                    )
                    .bind(key)
                    .bind(now)
                    .bind(Ts::new(now.get() - policy.window))
                    .fetch_one(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(balagh_store::LoginAttempts {
                        count,
                        window_ends: Ts::new(started.get() + policy.window),
                    })
                }

                async fn server_key(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>> {
                    sqlx::query(
                        "INSERT INTO server_keys (name, key_bytes) VALUES ($1, $2) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(name)
                    .bind(fresh)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    sqlx::query_scalar("SELECT key_bytes FROM server_keys WHERE name = $1")
                        .bind(name)
                        .fetch_one(self.writer())
                        .await
                        .map_err(<$store>::error)
                }

                async fn refund_attempt(&self, key: &str) -> Result<()> {
                    sqlx::query(
                        "UPDATE login_throttle SET failures = failures - 1 \
                         WHERE key = $1 AND failures > 0",
                    )
                    .bind(key)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn clear_login_failures(&self, key: &str) -> Result<()> {
                    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                        .bind(key)
                        .execute(self.writer())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn change_report(&self, change: &ReportChange) -> Result<ChangeOutcome> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let outcome = apply_change(&mut tx, change).await?;
                    if matches!(outcome, ChangeOutcome::Applied(_)) {
                        tx.commit().await.map_err(<$store>::error)?;
                    } else {
                        tx.rollback().await.map_err(<$store>::error)?;
                    }
                    Ok(outcome)
                }

                async fn merge_duplicate(
                    &self,
                    change: &ReportChange,
                    original: Uuid,
                    original_event: &NewEvent,
                ) -> Result<ChangeOutcome> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let outcome = apply_change(&mut tx, change).await?;
                    if !matches!(outcome, ChangeOutcome::Applied(_)) {
                        tx.rollback().await.map_err(<$store>::error)?;
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
                            .map_err(<$store>::error)?;
                    }
                    insert_events(&mut tx, original, change.at, std::slice::from_ref(original_event))
                        .await?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(outcome)
                }

                async fn ticket_queue(&self, q: &QueueQuery) -> Result<Vec<StoredReport>> {
                    let mut sql = queue_query(q, REPORT_COLUMNS);
                    if let Some(after) = &q.after {
                        sql.push(" AND (due_at, id) > (")
                            .push_bind(after.due_at)
                            .push(", ")
                            .push_bind(after.id)
                            .push(")");
                    }
                    sql.push(" ORDER BY due_at, id LIMIT ").push_bind(i64::from(q.limit));
                    let rows = sql
                        .build_query_as::<ReportRow>()
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    convert_all(rows, ReportRow::into_domain)
                }

                async fn ticket_queue_count(&self, q: &QueueQuery) -> Result<i64> {
                    queue_query(q, "COUNT(*)")
                        .build_query_scalar::<i64>()
                        .fetch_one(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn triage_queue(&self, q: &TriageQuery) -> Result<Vec<StoredReport>> {
                    let mut sql = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {REPORT_COLUMNS} FROM reports WHERE status IN ({}) \
                         AND jurisdiction_id = ",
                        status_list(&q.statuses)
                    ));
                    sql.push_bind(q.jurisdiction.as_str().to_owned());
                    let (after, order) = if q.newest_first {
                        (" AND (created_at, id) < (", " ORDER BY created_at DESC, id DESC LIMIT ")
                    } else {
                        (" AND (created_at, id) > (", " ORDER BY created_at, id LIMIT ")
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
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    convert_all(rows, ReportRow::into_domain)
                }

                async fn resolved_before(&self, before: Ts, limit: u32) -> Result<Vec<StoredReport>> {
                    let sql = format!(
                        "SELECT {REPORT_COLUMNS} FROM reports WHERE status = 'resolved' \
                         AND resolved_at < $1 ORDER BY resolved_at, id LIMIT $2"
                    );
                    let rows = sqlx::query_as::<_, ReportRow>(sqlx::AssertSqlSafe(sql))
                        .bind(before)
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    convert_all(rows, ReportRow::into_domain)
                }

                async fn follow_report(&self, report_id: Uuid, device: Uuid, at: Ts) -> Result<bool> {
                    let done = sqlx::query(
                        "INSERT INTO report_followers (report_id, device_id, since, active) \
                         VALUES ($1, $2, $3, TRUE) ON CONFLICT (report_id, device_id) \
                         DO UPDATE SET active = TRUE, since = excluded.since \
                         WHERE NOT report_followers.active",
                    )
                    .bind(report_id)
                    .bind(device)
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn followers(&self, report_id: Uuid) -> Result<Vec<Uuid>> {
                    sqlx::query_scalar(
                        "SELECT device_id FROM reports WHERE id = $1 AND device_id IS NOT NULL \
                         UNION SELECT device_id FROM report_supporters WHERE report_id = $1 \
                         UNION SELECT device_id FROM report_followers \
                           WHERE report_id = $1 AND active \
                         EXCEPT SELECT device_id FROM report_followers \
                           WHERE report_id = $1 AND NOT active",
                    )
                    .bind(report_id)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn device_reports(
                    &self,
                    device: Uuid,
                    before: Option<(Ts, Uuid)>,
                    limit: u32,
                ) -> Result<Vec<StoredReport>> {
                    // Served by the (device_id, idempotency_key) unique index: a device has
                    // few reports (intake is limited per device), sorted here.
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!(
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
                        .fetch_all(self.writer())
                        .await
                        .map_err(<$store>::error)?;
                    convert_all(rows, ReportRow::into_domain)
                }

                async fn set_webhook_endpoint(&self, e: &WebhookEndpoint, at: Ts) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO operator_webhooks (operator_id, url, secret, active, updated_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (operator_id) DO UPDATE SET \
                         url = excluded.url, secret = excluded.secret, active = excluded.active, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(e.operator_id)
                    .bind(&e.url)
                    .bind(&e.secret)
                    .bind(e.active)
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn webhook_endpoint(
                    &self,
                    operator: balagh_domain::OperatorId,
                ) -> Result<Option<WebhookEndpoint>> {
                    sqlx::query_as::<_, WebhookEndpoint>(
                        "SELECT operator_id, url, secret, active FROM operator_webhooks \
                         WHERE operator_id = $1",
                    )
                    .bind(operator.0)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn claim_outbox(
                    &self,
                    topic: &str,
                    now: Ts,
                    lease: time::Duration,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>> {
                    let sql = format!(
                        "UPDATE outbox SET locked_until = $3, \
                         first_attempt_at = COALESCE(first_attempt_at, $2) \
                         WHERE id IN (SELECT id FROM outbox WHERE topic = $1 AND state = 'pending' \
                         AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
                         ORDER BY next_attempt_at LIMIT $4{}) RETURNING {OUTBOX_COLUMNS}",
                        <$store>::SKIP_LOCKED
                    );
                    sqlx::query_as::<_, OutboxMessage>(sqlx::AssertSqlSafe(sql))
                        .bind(topic)
                        .bind(now)
                        .bind(Ts::new(now.get() + lease))
                        .bind(i64::from(limit))
                        .fetch_all(self.writer())
                        .await
                        .map_err(<$store>::error)
                }

                async fn record_delivery(&self, id: Uuid, result: &DeliveryResult) -> Result<()> {
                    let query = match result {
                        DeliveryResult::Delivered { at } => sqlx::query(
                            "UPDATE outbox SET state = 'delivered', delivered_at = $2, \
                             attempts = attempts + 1, locked_until = NULL, last_error = NULL \
                             WHERE id = $1",
                        )
                        .bind(id)
                        .bind(*at),
                        DeliveryResult::Retry { error, next_attempt_at } => sqlx::query(
                            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
                             next_attempt_at = $3, locked_until = NULL WHERE id = $1",
                        )
                        .bind(id)
                        .bind(error.clone())
                        .bind(*next_attempt_at),
                        DeliveryResult::Dead { error } => sqlx::query(
                            "UPDATE outbox SET state = 'dead', attempts = attempts + 1, \
                             last_error = $2, locked_until = NULL WHERE id = $1",
                        )
                        .bind(id)
                        .bind(error.clone()),
                    };
                    query.execute(self.writer()).await.map_err(<$store>::error)?;
                    Ok(())
                }

                async fn outbox_messages(
                    &self,
                    operator: balagh_domain::OperatorId,
                    state: OutboxState,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>> {
                    let sql = format!(
                        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE operator_id = $1 AND state = $2 \
                         ORDER BY created_at DESC, id DESC LIMIT $3"
                    );
                    sqlx::query_as::<_, OutboxMessage>(sqlx::AssertSqlSafe(sql))
                        .bind(operator.0)
                        .bind(state.as_str())
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn replay_outbox(
                    &self,
                    operator: balagh_domain::OperatorId,
                    id: Uuid,
                    now: Ts,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE outbox SET state = 'pending', attempts = 0, first_attempt_at = NULL, \
                         next_attempt_at = $3, locked_until = NULL WHERE id = $1 \
                         AND operator_id = $2 AND state = 'dead'",
                    )
                    .bind(id)
                    .bind(operator.0)
                    .bind(now)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn purge_delivered_outbox(&self, before: Ts, limit: u32) -> Result<u64> {
                    let done = sqlx::query(
                        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                         WHERE state = 'delivered' AND created_at < $1 ORDER BY created_at LIMIT $2)",
                    )
                    .bind(before)
                    .bind(i64::from(limit))
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}
