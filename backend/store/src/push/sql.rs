//! The SQL of [`super`]'s store trait, expanded by each backend (see
//! [`impl_sql_store!`](crate::impl_sql_store)).

/// Implements [`PushStore`] for a backend (see [`impl_sql_store!`](crate::impl_sql_store)).
#[macro_export]
macro_rules! impl_push_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx::{self, types::Json};
            use $crate::*;
            use balagh_domain::notify::area::BoundingBox;
            use uuid::Uuid;

            fn registrations(rows: Vec<RegistrationRow>) -> Result<Vec<PushRegistration>> {
                rows.into_iter().map(RegistrationRow::into_domain).collect()
            }

            /// `INSERT`s of the registrations and their areas (no transaction of its own).
            async fn insert_registrations(
                conn: &mut <$db as sqlx::Database>::Connection,
                registrations: &[&PushRegistration],
                upsert: bool,
            ) -> Result<()> {
                if registrations.is_empty() {
                    return Ok(());
                }
                let mut insert = sqlx::QueryBuilder::<$db>::new(format!(
                    "INSERT INTO push_registrations ({REGISTRATION_COLUMNS}) "
                ));
                insert.push_values(registrations, |mut b, r| {
                    let (p256dh, auth) = match &r.channel {
                        PushChannel::WebPush { p256dh, auth, .. } => {
                            (Some(p256dh.clone()), Some(auth.clone()))
                        }
                        PushChannel::Fcm { .. } => (None, None),
                    };
                    b.push_bind(r.device_id)
                        .push_bind(r.channel.kind())
                        .push_bind(r.channel.token().to_owned())
                        .push_bind(p256dh)
                        .push_bind(auth)
                        .push_bind(r.language.clone())
                        .push_bind(r.time_zone.clone())
                        .push_bind(r.quiet_hours.map(|q| i32::from(q.0)))
                        .push_bind(r.quiet_hours.map(|q| i32::from(q.1)))
                        .push_bind(Json(r.areas.clone()))
                        .push_bind(r.active)
                        .push_bind(r.deactivated_reason.clone())
                        .push_bind(r.updated_at);
                });
                if upsert {
                    insert.push(
                        " ON CONFLICT (device_id) DO UPDATE SET channel = excluded.channel, \
                         token = excluded.token, p256dh = excluded.p256dh, auth = excluded.auth, \
                         language = excluded.language, time_zone = excluded.time_zone, \
                         quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, \
                         areas = excluded.areas, active = excluded.active, \
                         deactivated_reason = excluded.deactivated_reason, \
                         updated_at = excluded.updated_at",
                    );
                }
                insert
                    .build()
                    .execute(&mut *conn)
                    .await
                    .map_err(<$store>::error)?;
                let areas: Vec<(Uuid, i32, StoredArea, BoundingBox)> = registrations
                    .iter()
                    .flat_map(|r| {
                        r.areas.iter().enumerate().filter_map(|(i, a)| {
                            let parsed = balagh_domain::notify::AreaOfInterest::parse(
                                a.lat, a.lon, a.radius_m,
                            )
                            .ok()?;
                            Some((r.device_id, i as i32, *a, parsed.bbox()))
                        })
                    })
                    .collect();
                for chunk in areas.chunks($crate::shared::BULK_ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO push_areas (device_id, position, lat, lon, radius_m, \
                         min_lat, max_lat, min_lon, max_lon) ",
                    );
                    insert.push_values(chunk, |mut b, (device, position, a, bbox)| {
                        b.push_bind(*device)
                            .push_bind(*position)
                            .push_bind(a.lat)
                            .push_bind(a.lon)
                            .push_bind(a.radius_m)
                            .push_bind(bbox.min_lat)
                            .push_bind(bbox.max_lat)
                            .push_bind(bbox.min_lon)
                            .push_bind(bbox.max_lon);
                    });
                    insert
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(<$store>::error)?;
                }
                Ok(())
            }

            #[$crate::async_trait]
            impl PushStore for $store {
                async fn set_push_registration(&self, r: &PushRegistration) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query("DELETE FROM push_areas WHERE device_id = $1")
                        .bind(r.device_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    insert_registrations(&mut tx, &[r], true).await?;
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn push_registration(&self, device: Uuid) -> Result<Option<PushRegistration>> {
                    let sql = format!(
                        "SELECT {REGISTRATION_COLUMNS} FROM push_registrations WHERE device_id = $1"
                    );
                    sqlx::query_as::<_, RegistrationRow>(sqlx::AssertSqlSafe(sql))
                        .bind(device)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .map(RegistrationRow::into_domain)
                        .transpose()
                }

                async fn delete_push_registration(&self, device: Uuid) -> Result<bool> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query("DELETE FROM push_areas WHERE device_id = $1")
                        .bind(device)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    let done = sqlx::query("DELETE FROM push_registrations WHERE device_id = $1")
                        .bind(device)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn deactivate_push_registration(
                    &self,
                    device: Uuid,
                    token: &str,
                    reason: &str,
                    at: Ts,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE push_registrations SET active = FALSE, deactivated_reason = $3, \
                         updated_at = $4 WHERE device_id = $1 AND token = $2 AND active",
                    )
                    .bind(device)
                    .bind(token)
                    .bind(reason)
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn push_registrations(&self, devices: &[Uuid]) -> Result<Vec<PushRegistration>> {
                    let mut out = Vec::with_capacity(devices.len());
                    for chunk in devices.chunks($crate::shared::BULK_ROWS) {
                        let mut select = sqlx::QueryBuilder::<$db>::new(format!(
                            "SELECT {REGISTRATION_COLUMNS} FROM push_registrations \
                             WHERE device_id IN ("
                        ));
                        let mut ids = select.separated(", ");
                        for id in chunk {
                            ids.push_bind(*id);
                        }
                        select.push(")");
                        let rows = select
                            .build_query_as::<RegistrationRow>()
                            .fetch_all(self.reader())
                            .await
                            .map_err(<$store>::error)?;
                        out.extend(registrations(rows)?);
                    }
                    Ok(out)
                }

                async fn push_devices_in_box(&self, bbox: &BoundingBox) -> Result<Vec<Uuid>> {
                    // One pass over the areas' box index; the registrations are read by id
                    // afterwards, so a notice reaching every device costs one scan, not one
                    // per page.
                    sqlx::query_scalar(
                        "SELECT DISTINCT a.device_id FROM push_areas a \
                         JOIN push_registrations r ON r.device_id = a.device_id \
                         WHERE r.active AND a.min_lat <= $2 AND a.max_lat >= $1 \
                         AND a.min_lon <= $4 AND a.max_lon >= $3",
                    )
                    .bind(bbox.min_lat)
                    .bind(bbox.max_lat)
                    .bind(bbox.min_lon)
                    .bind(bbox.max_lon)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn follower_registrations(
                    &self,
                    report_id: Uuid,
                ) -> Result<Vec<PushRegistration>> {
                    let sql = format!(
                        "SELECT {REGISTRATION_COLUMNS} FROM push_registrations WHERE active \
                         AND device_id IN ( \
                           SELECT device_id FROM reports WHERE id = $1 AND device_id IS NOT NULL \
                           UNION SELECT device_id FROM report_supporters WHERE report_id = $1 \
                           UNION SELECT device_id FROM report_followers \
                             WHERE report_id = $1 AND active) \
                         AND device_id NOT IN (SELECT device_id FROM report_followers \
                           WHERE report_id = $1 AND NOT active)"
                    );
                    let rows = sqlx::query_as::<_, RegistrationRow>(sqlx::AssertSqlSafe(sql))
                        .bind(report_id)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?;
                    registrations(rows)
                }

                async fn unfollow_report(&self, report_id: Uuid, device: Uuid, at: Ts) -> Result<bool> {
                    let following = self.is_following(report_id, device).await?;
                    sqlx::query(
                        "INSERT INTO report_followers (report_id, device_id, since, active) \
                         VALUES ($1, $2, $3, FALSE) ON CONFLICT (report_id, device_id) \
                         DO UPDATE SET active = FALSE, since = excluded.since",
                    )
                    .bind(report_id)
                    .bind(device)
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(following)
                }

                async fn is_following(&self, report_id: Uuid, device: Uuid) -> Result<bool> {
                    let explicit: Option<bool> = sqlx::query_scalar(
                        "SELECT active FROM report_followers WHERE report_id = $1 AND device_id = $2",
                    )
                    .bind(report_id)
                    .bind(device)
                    .fetch_optional(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    if let Some(active) = explicit {
                        return Ok(active);
                    }
                    let implicit: i64 = sqlx::query_scalar(
                        "SELECT (SELECT COUNT(*) FROM reports WHERE id = $1 AND device_id = $2) \
                         + (SELECT COUNT(*) FROM report_supporters \
                            WHERE report_id = $1 AND device_id = $2)",
                    )
                    .bind(report_id)
                    .bind(device)
                    .fetch_one(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(implicit > 0)
                }

                async fn enqueue_pushes(&self, pushes: &[NewPush]) -> Result<u64> {
                    let mut added = 0;
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    for chunk in pushes.chunks($crate::shared::BULK_ROWS) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO outbox (id, topic, device_id, dedupe_key, event_type, \
                             payload, state, attempts, next_attempt_at, created_at, \
                             jurisdiction_id) ",
                        );
                        insert.push_values(chunk, |mut b, p| {
                            b.push_bind(p.id)
                                .push_bind(PUSH_TOPIC)
                                .push_bind(p.device_id)
                                .push_bind(p.dedupe_key.clone())
                                .push_bind(p.event_type.clone())
                                .push_bind(Json(p.payload.clone()))
                                .push_bind("pending")
                                .push_bind(0_i32)
                                .push_bind(p.not_before)
                                .push_bind(p.created_at)
                                .push_bind(p.jurisdiction.as_ref().map(|j| j.as_str().to_owned()));
                        });
                        insert.push(" ON CONFLICT (dedupe_key) DO NOTHING");
                        added += insert
                            .build()
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?
                            .rows_affected();
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(added)
                }

                async fn record_deliveries(&self, results: &[(Uuid, DeliveryResult)]) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    // Successes, by far the most common, in one statement per chunk.
                    let delivered: Vec<(Uuid, Ts)> = results
                        .iter()
                        .filter_map(|(id, r)| match r {
                            DeliveryResult::Delivered { at } => Some((*id, *at)),
                            _ => None,
                        })
                        .collect();
                    for chunk in delivered.chunks($crate::shared::BULK_ROWS) {
                        let at = chunk.iter().map(|(_, at)| *at).max().unwrap_or_else(Ts::now);
                        let mut update = sqlx::QueryBuilder::<$db>::new(
                            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, \
                             locked_until = NULL, last_error = NULL, delivered_at = ",
                        );
                        update.push_bind(at).push(" WHERE id IN (");
                        let mut ids = update.separated(", ");
                        for (id, _) in chunk {
                            ids.push_bind(*id);
                        }
                        update.push(")");
                        update
                            .build()
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                    }
                    for (id, result) in results {
                        let query = match result {
                            DeliveryResult::Delivered { .. } => continue,
                            DeliveryResult::Retry { error, next_attempt_at } => sqlx::query(
                                "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
                                 next_attempt_at = $3, locked_until = NULL WHERE id = $1",
                            )
                            .bind(*id)
                            .bind(error.clone())
                            .bind(*next_attempt_at),
                            DeliveryResult::Dead { error } => sqlx::query(
                                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, \
                                 last_error = $2, locked_until = NULL WHERE id = $1",
                            )
                            .bind(*id)
                            .bind(error.clone()),
                        };
                        query.execute(&mut *tx).await.map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn push_messages(
                    &self,
                    jurisdiction: &str,
                    state: OutboxState,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>> {
                    let sql = format!(
                        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE topic IN ($1, $2) AND state = $3 \
                         AND (jurisdiction_id = $5 OR jurisdiction_id IS NULL) \
                         ORDER BY created_at DESC, id DESC LIMIT $4"
                    );
                    sqlx::query_as::<_, OutboxMessage>(sqlx::AssertSqlSafe(sql))
                        .bind(PUSH_TOPIC)
                        .bind(PUSH_FANOUT_TOPIC)
                        .bind(state.as_str())
                        .bind(i64::from(limit))
                        .bind(jurisdiction)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn replay_push(&self, jurisdiction: &str, id: Uuid, now: Ts) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE outbox SET state = 'pending', attempts = 0, first_attempt_at = NULL, \
                         next_attempt_at = $2, locked_until = NULL WHERE id = $1 \
                         AND topic IN ($3, $4) AND state = 'dead' \
                         AND (jurisdiction_id = $5 OR jurisdiction_id IS NULL)",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(PUSH_TOPIC)
                    .bind(PUSH_FANOUT_TOPIC)
                    .bind(jurisdiction)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn create_notice(
                    &self,
                    n: &StoredNotice,
                    fanout: &NewOutboxMessage,
                ) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO service_notices ({NOTICE_COLUMNS}) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
                    )))
                    .bind(n.id)
                    .bind(n.jurisdiction_id.clone())
                    .bind(n.kind.clone())
                    .bind(Json(n.service_codes.clone()))
                    .bind(Json(n.area.clone()))
                    .bind(n.radius_m)
                    .bind(n.bbox.min_lat)
                    .bind(n.bbox.max_lat)
                    .bind(n.bbox.min_lon)
                    .bind(n.bbox.max_lon)
                    .bind(n.valid_from)
                    .bind(n.valid_until)
                    .bind(Json(n.texts.clone()))
                    .bind(n.operator_id)
                    .bind(n.published_by)
                    .bind(n.created_at)
                    .bind(n.withdrawn_at)
                    .bind(n.urgent)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    $crate::sla::insert_outbox_sql!(tx, $store, $db, std::slice::from_ref(fanout));
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn notice(&self, id: Uuid) -> Result<Option<StoredNotice>> {
                    let sql = format!("SELECT {NOTICE_COLUMNS} FROM service_notices WHERE id = $1");
                    Ok(sqlx::query_as::<_, NoticeRow>(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .map(NoticeRow::into_domain))
                }

                async fn active_notices(
                    &self,
                    bbox: &BoundingBox,
                    now: Ts,
                    limit: u32,
                ) -> Result<Vec<StoredNotice>> {
                    let sql = format!(
                        "SELECT {NOTICE_COLUMNS} FROM service_notices WHERE valid_until > $5 \
                         AND valid_from <= $5 AND withdrawn_at IS NULL \
                         AND min_lat <= $2 AND max_lat >= $1 AND min_lon <= $4 AND max_lon >= $3 \
                         ORDER BY valid_until, id LIMIT $6"
                    );
                    Ok(sqlx::query_as::<_, NoticeRow>(sqlx::AssertSqlSafe(sql))
                        .bind(bbox.min_lat)
                        .bind(bbox.max_lat)
                        .bind(bbox.min_lon)
                        .bind(bbox.max_lon)
                        .bind(now)
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .into_iter()
                        .map(NoticeRow::into_domain)
                        .collect())
                }

                async fn current_notices(
                    &self,
                    jurisdiction: &str,
                    now: Ts,
                    limit: u32,
                ) -> Result<Vec<StoredNotice>> {
                    let sql = format!(
                        "SELECT {NOTICE_COLUMNS} FROM service_notices WHERE jurisdiction_id = $1 \
                         AND valid_until > $2 AND withdrawn_at IS NULL \
                         ORDER BY created_at DESC, id DESC LIMIT $3"
                    );
                    Ok(sqlx::query_as::<_, NoticeRow>(sqlx::AssertSqlSafe(sql))
                        .bind(jurisdiction)
                        .bind(now)
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .into_iter()
                        .map(NoticeRow::into_domain)
                        .collect())
                }

                async fn withdraw_notice(&self, id: Uuid, at: Ts) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE service_notices SET withdrawn_at = $2 WHERE id = $1 \
                         AND withdrawn_at IS NULL AND valid_until > $2",
                    )
                    .bind(id)
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn bulk_insert_push_devices(
                    &self,
                    devices: &[(NewDevice, PushRegistration)],
                ) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    for chunk in devices.chunks($crate::shared::BULK_ROWS / 2) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO devices (id, token_hash, created_at) ",
                        );
                        insert.push_values(chunk, |mut b, (d, _)| {
                            b.push_bind(d.id)
                                .push_bind(d.token_hash.clone())
                                .push_bind(d.created_at);
                        });
                        insert
                            .build()
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                        let regs: Vec<&PushRegistration> = chunk.iter().map(|(_, r)| r).collect();
                        insert_registrations(&mut tx, &regs, false).await?;
                    }
                    tx.commit().await.map_err(<$store>::error)
                }
            }
        };
    };
}
