//! The SQL both backends share, written once.
//!
//! [`impl_sql_store!`] expands to `impl Store for $store` over `sqlx::Pool<$db>`. The backend
//! type supplies, as inherent items: `fn reader(&self) -> &Pool<$db>` (queries),
//! `fn writer(&self) -> &Pool<$db>` (transactions), `fn error(sqlx::Error) -> StoreError`
//! (its constraint names), `const DATA_MODIFYING_CTE: bool` (whether INSERTs may be chained
//! in one statement), `async fn run_migrations(&self) -> Result<()>` and
//! `const BACKEND: Backend`. SQL text uses `$N` placeholders, which both databases accept.

/// Bound on rows per multi-row INSERT: 20 columns × 500 rows stays under both databases'
/// parameter limits.
pub const BULK_ROWS: usize = 500;

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
                if events.is_empty() {
                    return Ok(());
                }
                let mut insert = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO report_events (id, report_id, kind, actor, public, data, at) ",
                );
                insert.push_values(events, |mut b, event| {
                    b.push_bind(Uuid::now_v7())
                        .push_bind(report_id)
                        .push_bind(event.kind.as_str())
                        .push_bind(event.actor.to_stored())
                        .push_bind(event.public)
                        .push_bind(Json(event.data.clone()))
                        .push_bind(at);
                });
                insert
                    .build()
                    .execute(&mut *conn)
                    .await
                    .map_err(<$store>::error)?;
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
                    .push_bind(r.created_at);
            }

            const INSERT_REPORT: &str = "INSERT INTO reports (id, reference, jurisdiction_id, \
                service_code, lat, lon, accuracy_m, cell, description, attributes, channel, \
                status, priority, operator_id, contract_id, device_id, idempotency_key, \
                request_hash, created_at, updated_at) ";

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
                insert.push(") ON CONFLICT (device_id, idempotency_key) DO NOTHING RETURNING ");
                insert.push(REPORT_COLUMNS);
                let inserted: Option<ReportRow> = insert
                    .build_query_as()
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                if inserted.is_some() {
                    insert_events(&mut tx, report.id, report.created_at, &report.events).await?;
                    tx.commit().await.map_err(<$store>::error)?;
                }
                Ok(inserted)
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
                sql.push(") ON CONFLICT (device_id, idempotency_key) DO NOTHING RETURNING ")
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
                sql.push(") AS v (id, kind, actor, public, data)) SELECT ")
                    .push(REPORT_COLUMNS)
                    .push(" FROM r");
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
                         default_language, reference_prefix, boundary) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                         time_zone = excluded.time_zone, languages = excluded.languages, \
                         default_language = excluded.default_language, \
                         reference_prefix = excluded.reference_prefix, boundary = excluded.boundary",
                    )
                    .bind(j.id.as_str())
                    .bind(&j.name)
                    .bind(&j.time_zone)
                    .bind(Json(&j.languages))
                    .bind(j.default_language.code())
                    .bind(&j.reference_prefix)
                    .bind(Json(area_to_json(&j.boundary)))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    bump_catalog(&mut tx).await?;
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>> {
                    let rows = sqlx::query_as::<_, JurisdictionRow>(
                        "SELECT id, name, time_zone, languages, default_language, \
                         reference_prefix, boundary FROM jurisdictions ORDER BY id",
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
                    let inserted = if <$store>::DATA_MODIFYING_CTE {
                        insert_report_single_statement(self.writer(), report).await?
                    } else {
                        insert_report_in_transaction(self.writer(), report).await?
                    };
                    if let Some(row) = inserted {
                        return Ok(CreateOutcome::Created(row.into_domain()?));
                    }
                    // The key was used before: answer with the report it created. (A
                    // concurrent first insert has committed by now: ON CONFLICT waited for it.)
                    let idempotency = report.idempotency.as_ref().ok_or_else(|| {
                        StoreError::Corrupt("insert skipped without an idempotency key".into())
                    })?;
                    let sql = format!(
                        "SELECT {REPORT_COLUMNS} FROM reports \
                         WHERE device_id = $1 AND idempotency_key = $2"
                    );
                    let existing = sqlx::query_as::<_, ReportRow>(sqlx::AssertSqlSafe(sql))
                        .bind(report.device)
                        .bind(idempotency.key.as_str())
                        .fetch_one(self.writer())
                        .await
                        .map_err(<$store>::error)?
                        .into_domain()?;
                    Ok(CreateOutcome::Existing(existing))
                }

                async fn report(&self, id: Uuid) -> Result<Option<StoredReport>> {
                    let mut conn = self.reader().acquire().await.map_err(<$store>::error)?;
                    report_by_id(&mut conn, id).await
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
                    let mut select = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {REPORT_COLUMNS} FROM reports WHERE jurisdiction_id = "
                    ));
                    select
                        .push_bind(q.jurisdiction.as_str())
                        .push(" AND service_code = ")
                        .push_bind(q.service_code.as_str())
                        .push(" AND created_at >= ")
                        .push_bind(q.since)
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
                    convert_all(rows, ReportRow::into_domain)
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
                    let event = NewEvent {
                        kind: balagh_domain::EventKind::Supported,
                        actor: balagh_domain::event::Actor::Device(s.device),
                        public: true,
                        data: serde_json::json!({ "supporters": supporters }),
                    };
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
                        let mut events = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO report_events (id, report_id, kind, actor, public, data, at) ",
                        );
                        let created = Json(serde_json::json!({}));
                        events.push_values(chunk, |mut b, r| {
                            b.push_bind(Uuid::now_v7())
                                .push_bind(r.id)
                                .push_bind(balagh_domain::EventKind::Created.as_str())
                                .push_bind("system")
                                .push_bind(true)
                                .push_bind(&created)
                                .push_bind(r.created_at);
                        });
                        events
                            .build()
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn count_reports(&self) -> Result<i64> {
                    sqlx::query_scalar("SELECT COUNT(*) FROM reports")
                        .fetch_one(self.reader())
                        .await
                        .map_err(<$store>::error)
                }
            }
        };
    };
}
