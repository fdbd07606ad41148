//! The SQL of [`super`]'s store trait, expanded by each backend (see
//! [`impl_sql_store!`](crate::impl_sql_store)).

/// Implements [`StatsStore`] for a backend (see [`impl_sql_store!`](crate::impl_sql_store)).
#[macro_export]
macro_rules! impl_stats_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx::{self, types::Json};
            use $crate::stats::{
                RollupRow, ROLLUP_COLUMNS, StatsKey, StatsRow, StoredFacts, channel_vector,
                fold_changes, signed,
            };
            use $crate::*;
            use balagh_domain::stats::RollupValue;
            use std::collections::{BTreeMap, HashMap};
            use uuid::Uuid;

            type Conn = <$db as sqlx::Database>::Connection;

            /// Stored rows with these keys.
            async fn rows_by_key(
                conn: &mut Conn,
                keys: &[String],
            ) -> Result<HashMap<String, StatsRow>> {
                let mut out = HashMap::with_capacity(keys.len());
                for chunk in keys.chunks($crate::shared::BULK_ROWS) {
                    let mut select = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {ROLLUP_COLUMNS} FROM stats_rollups WHERE key IN ("
                    ));
                    let mut list = select.separated(", ");
                    for key in chunk {
                        list.push_bind(key.clone());
                    }
                    select.push(")");
                    let rows: Vec<RollupRow> = select
                        .build_query_as()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                    for row in rows {
                        let key = row.key.clone();
                        out.insert(key, row.into_domain()?);
                    }
                }
                Ok(out)
            }

            /// Writes rows (upsert) and deletes the keys given.
            async fn write_rows(
                conn: &mut Conn,
                upserts: &[StatsRow],
                deletes: &[String],
            ) -> Result<()> {
                for chunk in upserts.chunks(400) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(format!(
                        "INSERT INTO stats_rollups ({ROLLUP_COLUMNS}) "
                    ));
                    insert.push_values(chunk, |mut b, row| {
                        let (k, v) = (&row.key, &row.value);
                        b.push_bind(k.text())
                            .push_bind(k.jurisdiction.as_str().to_owned())
                            .push_bind(k.service.as_str().to_owned())
                            .push_bind(k.operator.map(|o| o.0))
                            .push_bind(k.district.as_ref().map(|d| d.as_str().to_owned()))
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
                    insert
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                }
                for chunk in deletes.chunks($crate::shared::BULK_ROWS) {
                    let mut delete =
                        sqlx::QueryBuilder::<$db>::new("DELETE FROM stats_rollups WHERE key IN (");
                    let mut list = delete.separated(", ");
                    for key in chunk {
                        list.push_bind(key.clone());
                    }
                    delete.push(")");
                    delete
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                }
                Ok(())
            }

            async fn write_facts(conn: &mut Conn, facts: &[(Uuid, StoredFacts)]) -> Result<()> {
                for chunk in facts.chunks($crate::shared::BULK_ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO stats_report_facts (report_id, facts) ",
                    );
                    insert.push_values(chunk, |mut b, (id, f)| {
                        b.push_bind(*id).push_bind(Json(f.clone()));
                    });
                    insert.push(" ON CONFLICT (report_id) DO UPDATE SET facts = excluded.facts");
                    insert
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                }
                Ok(())
            }

            fn id_list(builder: &mut sqlx::QueryBuilder<$db>, ids: &[Uuid]) {
                let mut list = builder.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                builder.push(")");
            }

            #[derive(sqlx::FromRow)]
            struct SourceRow {
                id: Uuid,
                jurisdiction_id: String,
                service_code: String,
                operator_id: Option<Uuid>,
                contract_id: Option<Uuid>,
                cell: i64,
                channel: String,
                status: String,
                rating: Option<i32>,
                created_at: Ts,
                updated_at: Ts,
            }

            #[$crate::async_trait]
            impl $crate::stats::StatsStore for $store {
                async fn stats_rollup_batch(
                    &self,
                    job: &$crate::stats::RollupJob<'_>,
                ) -> Result<$crate::stats::RollupBatch> {
                    use $crate::stats::{RollupBatch, StatsSource};
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    // Takes or renews the lease; the row lock serialises batches.
                    let claimed: Option<(Ts, Uuid)> = sqlx::query_as(
                        "UPDATE stats_state SET lease_owner = $1, lease_until = $2 \
                         WHERE id = 1 AND (lease_owner IS NULL OR lease_owner = $1 \
                         OR lease_until IS NULL OR lease_until < $3) \
                         RETURNING cursor_at, cursor_id",
                    )
                    .bind(job.worker)
                    .bind(Ts::new(job.now.get() + job.lease))
                    .bind(job.now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let Some((mut cursor_at, mut cursor_id)) = claimed else {
                        return Ok(RollupBatch::NotLeader);
                    };
                    if let Some(rewind) = job.rewind {
                        cursor_at = Ts::new(cursor_at.get() - rewind);
                        cursor_id = Uuid::nil();
                    }
                    let sources: Vec<SourceRow> = sqlx::query_as(
                        "SELECT id, jurisdiction_id, service_code, operator_id, contract_id, \
                         cell, channel, status, rating, created_at, updated_at FROM reports \
                         WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3",
                    )
                    .bind(cursor_at)
                    .bind(cursor_id)
                    .bind(i64::from(job.limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let more = sources.len() == job.limit as usize;
                    let Some(last) = sources.last().map(|s| (s.updated_at, s.id)) else {
                        tx.commit().await.map_err(<$store>::error)?;
                        return Ok(RollupBatch::Done { reports: 0, rows: 0, more: false });
                    };
                    let ids: Vec<Uuid> = sources.iter().map(|s| s.id).collect();

                    let mut events: HashMap<Uuid, Vec<(Ts, serde_json::Value)>> = HashMap::new();
                    let mut breached: std::collections::HashSet<Uuid> = Default::default();
                    let mut old: HashMap<Uuid, StoredFacts> = HashMap::new();
                    for chunk in ids.chunks($crate::shared::BULK_ROWS) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT report_id, at, data FROM report_events \
                             WHERE kind = 'status_changed' AND report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        let rows: Vec<(Uuid, Ts, Json<serde_json::Value>)> = q
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        for (id, at, data) in rows {
                            events.entry(id).or_default().push((at, data.0));
                        }
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT DISTINCT report_id FROM sla_clocks \
                             WHERE (state = 'breached' OR breached_at IS NOT NULL) \
                             AND report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        let rows: Vec<(Uuid,)> = q
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        breached.extend(rows.into_iter().map(|(id,)| id));
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT report_id, facts FROM stats_report_facts WHERE report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        let rows: Vec<(Uuid, Json<StoredFacts>)> = q
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        old.extend(rows.into_iter().map(|(id, f)| (id, f.0)));
                    }

                    let mut totals: BTreeMap<StatsKey, (RollupValue, RollupValue)> =
                        BTreeMap::new();
                    let mut new_facts: Vec<(Uuid, StoredFacts)> = Vec::new();
                    let mut dropped: Vec<Uuid> = Vec::new();
                    for s in sources {
                        let mut status_events = events.remove(&s.id).unwrap_or_default();
                        status_events.sort_by_key(|(at, _)| *at);
                        let source = StatsSource {
                            id: s.id,
                            jurisdiction_id: s.jurisdiction_id,
                            service_code: s.service_code,
                            operator_id: s.operator_id,
                            contract_id: s.contract_id,
                            cell: s.cell,
                            channel: s.channel,
                            status: s.status,
                            rating: s.rating,
                            created_at: s.created_at,
                            updated_at: s.updated_at,
                            status_events,
                            breached: breached.contains(&s.id),
                        };
                        let previous_stored = old.remove(&s.id);
                        let previous = match previous_stored.clone() {
                            Some(f) => Some(f.into_domain().ok_or_else(|| {
                                StoreError::Corrupt(format!("stats facts of report {}", s.id))
                            })?),
                            None => None,
                        };
                        let current = (job.derive)(&source);
                        match (&previous, &current) {
                            (_, Some(new)) => {
                                let tz = (job.time_zone)(&new.jurisdiction);
                                fold_changes(
                                    balagh_domain::stats::changes(previous.as_ref(), new, &tz),
                                    &mut totals,
                                );
                                let stored = StoredFacts::from_domain(new);
                                if previous_stored.as_ref() != Some(&stored) {
                                    new_facts.push((s.id, stored));
                                }
                            }
                            (Some(old_facts), None) => {
                                let tz = (job.time_zone)(&old_facts.jurisdiction);
                                let removal = balagh_domain::stats::contributions(old_facts, &tz)
                                    .into_iter()
                                    .map(|(key, remove)| balagh_domain::stats::RollupChange {
                                        key,
                                        remove,
                                        add: RollupValue::default(),
                                    });
                                fold_changes(removal, &mut totals);
                                dropped.push(s.id);
                            }
                            (None, None) => {}
                        }
                    }
                    totals.retain(|_, (remove, add)| remove != add);

                    let keys: Vec<String> = totals.keys().map(StatsKey::text).collect();
                    let mut stored = rows_by_key(&mut tx, &keys).await?;
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
                    write_rows(&mut tx, &upserts, &deletes).await?;
                    write_facts(&mut tx, &new_facts).await?;
                    for chunk in dropped.chunks($crate::shared::BULK_ROWS) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "DELETE FROM stats_report_facts WHERE report_id IN (",
                        );
                        id_list(&mut q, chunk);
                        q.build().execute(&mut *tx).await.map_err(<$store>::error)?;
                    }
                    sqlx::query(
                        "UPDATE stats_state SET cursor_at = $1, cursor_id = $2, \
                         revision = revision + $3 WHERE id = 1",
                    )
                    .bind(last.0)
                    .bind(last.1)
                    .bind(i64::from(rows > 0))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(RollupBatch::Done {
                        reports: ids.len(),
                        rows,
                        more,
                    })
                }

                async fn release_stats_lease(&self, worker: &str) -> Result<()> {
                    sqlx::query(
                        "UPDATE stats_state SET lease_owner = NULL, lease_until = NULL \
                         WHERE id = 1 AND lease_owner = $1",
                    )
                    .bind(worker)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn stats_state(&self) -> Result<$crate::stats::StatsState> {
                    let (cursor_at, cursor_id, lease_owner, lease_until, revision): (
                        Ts,
                        Uuid,
                        Option<String>,
                        Option<Ts>,
                        i64,
                    ) = sqlx::query_as(
                        "SELECT cursor_at, cursor_id, lease_owner, lease_until, revision \
                         FROM stats_state WHERE id = 1",
                    )
                    .fetch_one(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok($crate::stats::StatsState {
                        cursor_at,
                        cursor_id,
                        lease_owner,
                        lease_until,
                        revision,
                    })
                }

                async fn reset_stats(&self) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(
                        "UPDATE stats_state SET cursor_at = $1, cursor_id = $2, \
                         revision = revision + 1 WHERE id = 1",
                    )
                    .bind(Ts::new(time::OffsetDateTime::UNIX_EPOCH))
                    .bind(Uuid::nil())
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    for table in ["stats_rollups", "stats_report_facts"] {
                        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn merge_stats_rows(&self, rows: &[StatsRow]) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query("UPDATE stats_state SET revision = revision + 1 WHERE id = 1")
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    for chunk in rows.chunks(2_000) {
                        let keys: Vec<String> = chunk.iter().map(|r| r.key.text()).collect();
                        let mut stored = rows_by_key(&mut tx, &keys).await?;
                        let merged: Vec<StatsRow> = chunk
                            .iter()
                            .zip(&keys)
                            .map(|(row, text)| {
                                let mut value =
                                    stored.remove(text).map(|r| r.value).unwrap_or_default();
                                value.merge(&row.value);
                                StatsRow {
                                    key: row.key.clone(),
                                    value,
                                }
                            })
                            .collect();
                        write_rows(&mut tx, &merged, &[]).await?;
                    }
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn put_stats_facts(&self, facts: &[(Uuid, StoredFacts)]) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    write_facts(&mut tx, facts).await?;
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn set_stats_cursor(&self, at: Ts) -> Result<()> {
                    sqlx::query(
                        "UPDATE stats_state SET cursor_at = $1, cursor_id = $2 WHERE id = 1",
                    )
                    .bind(at)
                    .bind(Uuid::nil())
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn stats_rows(
                    &self,
                    jurisdiction: &str,
                    from: i32,
                    to: i32,
                    per_cell: bool,
                ) -> Result<Vec<StatsRow>> {
                    // The literal conditions match the partial indexes.
                    let cells = if per_cell { "cell <> 0" } else { "cell = 0" };
                    let sql = format!(
                        "SELECT {ROLLUP_COLUMNS} FROM stats_rollups WHERE {cells} \
                         AND jurisdiction_id = $1 AND day >= $2 AND day <= $3"
                    );
                    let rows: Vec<RollupRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(jurisdiction)
                        .bind(from)
                        .bind(to)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    rows.into_iter().map(RollupRow::into_domain).collect()
                }

                async fn stats_cell_counts(
                    &self,
                    jurisdiction: &str,
                    from: i32,
                    to: i32,
                ) -> Result<Vec<$crate::stats::CellNewCount>> {
                    let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
                        "SELECT service_code, district, cell, CAST(SUM(new) AS BIGINT) \
                         FROM stats_rollups WHERE cell <> 0 AND jurisdiction_id = $1 \
                         AND day >= $2 AND day <= $3 AND new > 0 \
                         GROUP BY service_code, district, cell",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, district, cell, new)| $crate::stats::CellNewCount {
                            service,
                            district,
                            cell,
                            new,
                        })
                        .collect())
                }

                async fn stats_backlog(
                    &self,
                    jurisdiction: &str,
                    now: Ts,
                ) -> Result<Vec<$crate::stats::BacklogCount>> {
                    let day = |d: i64| Ts::new(now.get() - time::Duration::days(d));
                    let open = $crate::stats::open_statuses_sql();
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
                    let rows: Vec<(String, Option<Uuid>, i64, i64, i64, i64, i64)> =
                        sqlx::query_as(sqlx::AssertSqlSafe(sql))
                            .bind(jurisdiction)
                            .bind(day(1))
                            .bind(day(3))
                            .bind(day(7))
                            .bind(day(30))
                            .fetch_all(self.reader())
                            .await
                            .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, operator_id, a, b, c, d, e)| $crate::stats::BacklogCount {
                            service,
                            operator_id,
                            buckets: [a, b, c, d, e],
                        })
                        .collect())
                }

                async fn stats_open_late(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                    now: Ts,
                ) -> Result<Vec<$crate::stats::OpenLate>> {
                    let open = $crate::stats::open_statuses_sql();
                    let sql = format!(
                        "SELECT service_code, operator_id, CAST(COUNT(*) AS BIGINT) FROM reports \
                         WHERE jurisdiction_id = $1 AND status IN ({open}) AND status <> 'paused' \
                         AND due_at >= $2 AND due_at < $3 AND due_at < $4 \
                         GROUP BY service_code, operator_id"
                    );
                    let rows: Vec<(String, Option<Uuid>, i64)> =
                        sqlx::query_as(sqlx::AssertSqlSafe(sql))
                            .bind(jurisdiction)
                            .bind(from)
                            .bind(until)
                            .bind(now)
                            .fetch_all(self.reader())
                            .await
                            .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, operator_id, reports)| $crate::stats::OpenLate {
                            service,
                            operator_id,
                            reports,
                        })
                        .collect())
                }

                async fn stats_created(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<$crate::stats::CreatedCount>> {
                    let rows: Vec<(String, Option<Uuid>, i64)> = sqlx::query_as(
                        "SELECT service_code, operator_id, CAST(COUNT(*) AS BIGINT) FROM reports \
                         WHERE jurisdiction_id = $1 AND created_at >= $2 AND created_at < $3 \
                         GROUP BY service_code, operator_id",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(service, operator_id, reports)| $crate::stats::CreatedCount {
                            service,
                            operator_id,
                            reports,
                        })
                        .collect())
                }

                async fn stats_feedback(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<(i64, Vec<serde_json::Value>)> {
                    let comments: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM report_events e JOIN reports r ON r.id = e.report_id \
                         WHERE e.kind IN ('comment', 'rated') AND e.kind = 'comment' AND e.public \
                         AND e.at >= $2 AND e.at < $3 AND r.jurisdiction_id = $1",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_one(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    let ratings: Vec<(Json<serde_json::Value>,)> = sqlx::query_as(
                        "SELECT e.data FROM report_events e JOIN reports r ON r.id = e.report_id \
                         WHERE e.kind IN ('comment', 'rated') AND e.kind = 'rated' \
                         AND e.at >= $2 AND e.at < $3 AND r.jurisdiction_id = $1",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok((comments, ratings.into_iter().map(|(d,)| d.0).collect()))
                }

                async fn stats_records(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<$crate::stats::RecordSource>> {
                    let rows: Vec<(String, String, Json<StoredFacts>)> = sqlx::query_as(
                        "SELECT r.reference, r.status, f.facts FROM reports r \
                         JOIN stats_report_facts f ON f.report_id = r.id \
                         WHERE r.jurisdiction_id = $1 AND r.created_at >= $2 \
                         AND r.created_at < $3 ORDER BY r.created_at, r.id",
                    )
                    .bind(jurisdiction)
                    .bind(from)
                    .bind(until)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(reference, status, facts)| $crate::stats::RecordSource {
                            reference,
                            status,
                            facts: facts.0,
                        })
                        .collect())
                }

                async fn stats_reporter_reports(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<$crate::stats::ReporterReport>> {
                    let rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, Ts, String, Option<Json<StoredFacts>>)> =
                        sqlx::query_as(
                            "SELECT r.id, r.device_id, r.created_by, r.created_at, r.service_code, \
                             f.facts FROM reports r \
                             LEFT JOIN stats_report_facts f ON f.report_id = r.id \
                             WHERE r.jurisdiction_id = $1 AND r.created_at >= $2 \
                             AND r.created_at < $3",
                        )
                        .bind(jurisdiction)
                        .bind(from)
                        .bind(until)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, device, staff, created_at, service, facts)| {
                            $crate::stats::ReporterReport {
                                id,
                                reporter: device.or(staff),
                                created_at,
                                service,
                                district: facts.and_then(|f| f.0.district),
                            }
                        })
                        .collect())
                }

                async fn stats_release(&self, release_id: &str) -> Result<Option<serde_json::Value>> {
                    let body: Option<Json<serde_json::Value>> = sqlx::query_scalar(
                        "SELECT body FROM stats_releases WHERE release_id = $1",
                    )
                    .bind(release_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(body.map(|b| b.0))
                }

                async fn stats_releases(
                    &self,
                    ids: &[String],
                ) -> Result<Vec<(String, serde_json::Value)>> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT release_id, body FROM stats_releases WHERE release_id IN (",
                    );
                    let mut list = q.separated(", ");
                    for id in ids {
                        list.push_bind(id.clone());
                    }
                    q.push(")");
                    let rows: Vec<(String, Json<serde_json::Value>)> = q
                        .build_query_as()
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(rows.into_iter().map(|(id, body)| (id, body.0)).collect())
                }

                async fn stats_release_ids(&self, prefix: &str) -> Result<Vec<String>> {
                    sqlx::query_scalar(
                        "SELECT release_id FROM stats_releases \
                         WHERE substr(release_id, 1, length($1)) = $1 ORDER BY release_id",
                    )
                    .bind(prefix)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn put_stats_release(
                    &self,
                    release_id: &str,
                    body: &serde_json::Value,
                    now: Ts,
                ) -> Result<serde_json::Value> {
                    sqlx::query(
                        "INSERT INTO stats_releases (release_id, epsilon_micros, body, created_at) \
                         VALUES ($1, 0, $2, $3) ON CONFLICT (release_id) DO NOTHING",
                    )
                    .bind(release_id)
                    .bind(Json(body.clone()))
                    .bind(now)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    let stored: Json<serde_json::Value> = sqlx::query_scalar(
                        "SELECT body FROM stats_releases WHERE release_id = $1",
                    )
                    .bind(release_id)
                    .fetch_one(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(stored.0)
                }

                async fn stats_first_day(&self, jurisdiction: &str) -> Result<Option<i32>> {
                    sqlx::query_scalar(
                        "SELECT MIN(day) FROM stats_rollups WHERE cell = 0 AND jurisdiction_id = $1",
                    )
                    .bind(jurisdiction)
                    .fetch_one(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn record_release(
                    &self,
                    release_id: &balagh_domain::stats::ReleaseId,
                    scopes: &[String],
                    epsilon: balagh_domain::stats::Epsilon,
                    budget: balagh_domain::stats::Epsilon,
                    body: &serde_json::Value,
                    now: Ts,
                ) -> Result<$crate::stats::ReleaseOutcome> {
                    use $crate::stats::ReleaseOutcome;
                    use balagh_domain::stats::{EpsilonLedger, LedgerEntry, ReleaseId, Spent};
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    // Serialises ε spending across replicas.
                    sqlx::query(
                        "UPDATE stats_state SET ledger_revision = ledger_revision + 1 WHERE id = 1",
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let existing: Option<Json<serde_json::Value>> = sqlx::query_scalar(
                        "SELECT body FROM stats_releases WHERE release_id = $1",
                    )
                    .bind(release_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    if let Some(body) = existing {
                        tx.rollback().await.map_err(<$store>::error)?;
                        return Ok(ReleaseOutcome::Existing(body.0));
                    }
                    for scope in scopes {
                        let lines: Vec<(String, i64)> = sqlx::query_as(
                            "SELECT release_id, epsilon_micros FROM stats_epsilon_ledger \
                             WHERE scope = $1 ORDER BY created_at, release_id",
                        )
                        .bind(scope)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                        let entries = lines.into_iter().filter_map(|(release, micros)| {
                            Some(LedgerEntry {
                                release: ReleaseId::parse(&release).ok()?,
                                epsilon: balagh_domain::stats::Epsilon::from_micros(
                                    u64::try_from(micros).ok()?,
                                )
                                .ok()?,
                            })
                        });
                        // A ledger holding more than today's budget (the budget was lowered)
                        // refuses everything.
                        let mut ledger = match EpsilonLedger::from_entries(budget, entries) {
                            Ok(ledger) => ledger,
                            Err(error) => {
                                tx.rollback().await.map_err(<$store>::error)?;
                                return Ok(ReleaseOutcome::Refused(error));
                            }
                        };
                        match ledger.spend(release_id.clone(), epsilon) {
                            Ok(Spent::Recorded(_)) | Ok(Spent::AlreadyRecorded(_)) => {}
                            Err(error) => {
                                tx.rollback().await.map_err(<$store>::error)?;
                                return Ok(ReleaseOutcome::Refused(error));
                            }
                        }
                    }
                    sqlx::query(
                        "INSERT INTO stats_releases (release_id, epsilon_micros, body, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(release_id.as_str())
                    .bind(signed(epsilon.micros()))
                    .bind(Json(body.clone()))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    for scope in scopes {
                        sqlx::query(
                            "INSERT INTO stats_epsilon_ledger (scope, release_id, epsilon_micros, \
                             budget_micros, created_at) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(scope)
                        .bind(release_id.as_str())
                        .bind(signed(epsilon.micros()))
                        .bind(signed(budget.micros()))
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(ReleaseOutcome::Recorded(body.clone()))
                }

                async fn epsilon_ledger(
                    &self,
                    scopes: &[String],
                ) -> Result<Vec<$crate::stats::LedgerLine>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT scope, release_id, epsilon_micros, budget_micros \
                         FROM stats_epsilon_ledger",
                    );
                    if !scopes.is_empty() {
                        q.push(" WHERE scope IN (");
                        let mut list = q.separated(", ");
                        for s in scopes {
                            list.push_bind(s.clone());
                        }
                        q.push(")");
                    }
                    q.push(" ORDER BY scope, created_at, release_id");
                    let rows: Vec<(String, String, i64, i64)> = q
                        .build_query_as()
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(scope, release_id, epsilon_micros, budget_micros)| {
                            $crate::stats::LedgerLine {
                                scope,
                                release_id,
                                epsilon_micros,
                                budget_micros,
                            }
                        })
                        .collect())
                }
            }
        };
    };
}
