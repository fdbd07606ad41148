//! The SQL of [`super`]'s store trait, expanded by each backend (see
//! [`impl_sql_store!`](crate::impl_sql_store)).

/// The SQL of [`SlaStore`], shared like `impl_sql_store!` (same backend requirements).
#[macro_export]
macro_rules! impl_sla_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx::{self, types::Json};
            use $crate::*;
            use balagh_domain::JurisdictionId;
            use balagh_domain::sla::{CalendarSpec, SlaPolicy};
            use uuid::Uuid;

            type Conn = <$db as sqlx::Database>::Connection;

            fn jurisdiction(raw: &str) -> Result<JurisdictionId> {
                balagh_domain::Slug::parse("jurisdiction_id", raw)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }

            async fn insert_event(
                conn: &mut Conn,
                report_id: Uuid,
                at: Ts,
                event: &balagh_domain::NewEvent,
            ) -> Result<()> {
                $crate::shared::insert_events_sql!(
                    conn,
                    $store,
                    $db,
                    report_id,
                    at,
                    std::slice::from_ref(event)
                );
                Ok(())
            }

            #[$crate::async_trait]
            impl $crate::SlaStore for $store {
                async fn sla_calendars(&self) -> Result<Vec<(JurisdictionId, CalendarSpec)>> {
                    let rows: Vec<(String, Json<CalendarSpec>)> = sqlx::query_as(
                        "SELECT jurisdiction_id, definition FROM sla_calendars \
                         ORDER BY jurisdiction_id",
                    )
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    rows.into_iter()
                        .map(|(j, spec)| Ok((jurisdiction(&j)?, spec.0)))
                        .collect()
                }

                async fn put_sla_calendar(
                    &self,
                    jurisdiction: &JurisdictionId,
                    spec: &CalendarSpec,
                    at: Ts,
                    by: Option<Uuid>,
                ) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(
                        "INSERT INTO sla_calendars (jurisdiction_id, definition, updated_at, \
                         updated_by) VALUES ($1, $2, $3, $4) ON CONFLICT (jurisdiction_id) \
                         DO UPDATE SET definition = excluded.definition, \
                         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                    )
                    .bind(jurisdiction.as_str())
                    .bind(Json(spec))
                    .bind(at)
                    .bind(by)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    $crate::sla::bump_catalog_sql!(tx, $store);
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn sla_policies(&self) -> Result<Vec<StoredPolicy>> {
                    let rows: Vec<(Json<SlaPolicy>, Ts, Option<Uuid>)> = sqlx::query_as(
                        "SELECT definition, created_at, created_by FROM sla_policies \
                         ORDER BY contract_id, version",
                    )
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(policy, created_at, created_by)| StoredPolicy {
                            policy: policy.0,
                            created_at,
                            created_by,
                        })
                        .collect())
                }

                async fn add_sla_policy(
                    &self,
                    policy: &SlaPolicy,
                    at: Ts,
                    by: Option<Uuid>,
                ) -> Result<()> {
                    let effective_from = $crate::sla::ts_from_jiff(policy.effective_from)?;
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(
                        "INSERT INTO sla_policies (contract_id, version, effective_from, \
                         definition, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(policy.contract.0)
                    .bind(policy.version as i32)
                    .bind(effective_from)
                    .bind(Json(policy))
                    .bind(at)
                    .bind(by)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    $crate::sla::bump_catalog_sql!(tx, $store);
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn report_clocks(&self, report_id: Uuid) -> Result<Vec<ClockRecord>> {
                    let sql = format!(
                        "SELECT {CLOCK_COLUMNS} FROM sla_clocks WHERE report_id = $1 \
                         ORDER BY metric, cycle"
                    );
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(report_id)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn claim_due_clocks(
                    &self,
                    now: Ts,
                    lease_length: time::Duration,
                    limit: u32,
                ) -> Result<Vec<Uuid>> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    // Only the partial index on next_check_at is read: the cost follows what
                    // is due, not what is open. Nothing is locked yet: a report has several
                    // clock rows, and replicas that each locked some of them in due order
                    // and then reached for the others deadlocked (seen in CI).
                    let due: Vec<Uuid> = sqlx::query_scalar(
                        "SELECT report_id FROM sla_clocks WHERE next_check_at <= $1 \
                         AND (locked_until IS NULL OR locked_until < $1) \
                         ORDER BY next_check_at LIMIT $2",
                    )
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    let mut candidates = due;
                    candidates.sort_unstable();
                    candidates.dedup();
                    if candidates.is_empty() {
                        tx.commit().await.map_err(<$store>::error)?;
                        return Ok(Vec::new());
                    }
                    // Every replica locks clock rows in one global order (report, metric), so
                    // none waits for another that waits for it; rows another replica leased
                    // meanwhile fail the re-checked condition and are left out.
                    let mut lock = sqlx::QueryBuilder::<$db>::new(
                        "SELECT report_id, metric FROM sla_clocks WHERE report_id IN (",
                    );
                    let mut ids = lock.separated(", ");
                    for id in &candidates {
                        ids.push_bind(*id);
                    }
                    lock.push(") AND (locked_until IS NULL OR locked_until < ")
                        .push_bind(now)
                        .push(") ORDER BY report_id, metric")
                        .push(<$store>::FOR_UPDATE);
                    let held: Vec<(Uuid, String)> = lock
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    let mut reports = Vec::new();
                    if !held.is_empty() {
                        let mut lease = sqlx::QueryBuilder::<$db>::new(
                            "UPDATE sla_clocks SET locked_until = ",
                        );
                        lease
                            .push_bind(Ts::new(now.get() + lease_length))
                            .push(" WHERE (report_id, metric) IN (");
                        let mut rows = lease.separated(", ");
                        for (report, metric) in &held {
                            rows.push("(")
                                .push_bind_unseparated(*report)
                                .push_unseparated(", ")
                                .push_bind_unseparated(metric.clone())
                                .push_unseparated(")");
                            if reports.last() != Some(report) {
                                reports.push(*report);
                            }
                        }
                        lease.push(")");
                        lease
                            .build()
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(reports)
                }

                async fn record_sla_check(&self, check: &SlaCheck) -> Result<SlaCheckOutcome> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    // Locks the report row (PostgreSQL) without changing it, and tells whether
                    // it is still the version the clocks were computed from.
                    let current = sqlx::query(
                        "UPDATE reports SET version = version WHERE id = $1 AND version = $2",
                    )
                    .bind(check.report_id)
                    .bind(check.report_version)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?
                    .rows_affected();
                    if current == 0 {
                        return Ok(SlaCheckOutcome::Stale);
                    }
                    $crate::sla::replace_clocks_sql!(tx, $store, $db, check.report_id, &check.clocks);
                    let mut raised = 0;
                    for alarm in &check.alarms {
                        let new = sqlx::query(
                            "INSERT INTO sla_alarms (report_id, metric, cycle, percent, \
                             raised_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                        )
                        .bind(check.report_id)
                        .bind(&alarm.metric)
                        .bind(alarm.cycle)
                        .bind(alarm.percent)
                        .bind(check.at)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?
                        .rows_affected();
                        if new == 1 {
                            raised += 1;
                            insert_event(&mut tx, check.report_id, check.at, &alarm.event)
                                .await?;
                            $crate::sla::insert_outbox_sql!(tx, $store, $db, &alarm.outbox);
                        }
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(SlaCheckOutcome::Recorded { raised })
                }

                async fn report_ids_since(
                    &self,
                    jurisdiction: &JurisdictionId,
                    since: Ts,
                    after: Option<Uuid>,
                    limit: u32,
                ) -> Result<Vec<Uuid>> {
                    sqlx::query_scalar(
                        "SELECT id FROM reports WHERE jurisdiction_id = $1 \
                         AND created_at >= $2 AND ($3 IS NULL OR id > $3) \
                         ORDER BY id LIMIT $4",
                    )
                    .bind(jurisdiction.as_str())
                    .bind(since)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)
                }

                async fn open_dispute(&self, d: &NewDispute) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(
                        "INSERT INTO sla_disputes (id, report_id, metric, cycle, operator_id, \
                         reason, opened_by, opened_at, state) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open')",
                    )
                    .bind(d.id)
                    .bind(d.report_id)
                    .bind(d.metric.as_str())
                    .bind(d.cycle)
                    .bind(d.operator.0)
                    .bind(&d.reason)
                    .bind(d.opened_by)
                    .bind(d.at)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    insert_event(&mut tx, d.report_id, d.at, &d.event).await?;
                    tx.commit().await.map_err(<$store>::error)
                }

                async fn dispute(&self, id: Uuid) -> Result<Option<Dispute>> {
                    let sql = format!("SELECT {DISPUTE_COLUMNS} FROM sla_disputes WHERE id = $1");
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn disputes(
                    &self,
                    scope: &DisputeScope,
                    state: Option<DisputeState>,
                    limit: u32,
                ) -> Result<Vec<Dispute>> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {DISPUTE_COLUMNS} FROM sla_disputes WHERE "
                    ));
                    match scope {
                        DisputeScope::Operator(o) => {
                            q.push("operator_id = ").push_bind(o.0);
                        }
                        DisputeScope::Jurisdiction(j) => {
                            q.push(
                                "operator_id IN (SELECT id FROM operators WHERE jurisdiction_id = ",
                            )
                            .push_bind(j.as_str().to_owned())
                            .push(")");
                        }
                    }
                    if let Some(state) = state {
                        q.push(" AND state = ").push_bind(state.as_str());
                    }
                    q.push(" ORDER BY opened_at, id LIMIT ")
                        .push_bind(i64::from(limit));
                    q.build_query_as()
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn decide_dispute(&self, d: &DisputeDecision) -> Result<Option<Dispute>> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let sql = format!(
                        "UPDATE sla_disputes SET state = $2, decided_by = $3, decided_at = $4, \
                         decision_note = $5 WHERE id = $1 AND state = 'open' \
                         RETURNING {DISPUTE_COLUMNS}"
                    );
                    let decided: Option<Dispute> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(d.id)
                        .bind(if d.accept { "accepted" } else { "rejected" })
                        .bind(d.decided_by)
                        .bind(d.at)
                        .bind(&d.note)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    if let Some(dispute) = &decided {
                        insert_event(&mut tx, dispute.report_id, d.at, &d.event).await?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(decided)
                }

                async fn statement_clocks(
                    &self,
                    scope: StatementScope,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<StatementClock>> {
                    let (column, id) = match scope {
                        StatementScope::Operator(o) => ("operator_id", o.0),
                        StatementScope::Contract(c) => ("contract_id", c.0),
                    };
                    let columns = CLOCK_COLUMNS
                        .split(", ")
                        .map(|c| format!("c.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "SELECT {columns}, r.reference, r.service_code, r.priority, \
                         d.state AS dispute_state FROM sla_clocks c \
                         JOIN reports r ON r.id = c.report_id \
                         LEFT JOIN sla_disputes d ON d.report_id = c.report_id \
                         AND d.metric = c.metric AND d.cycle = c.cycle \
                         WHERE c.{column} = $1 AND c.report_created_at >= $2 \
                         AND c.report_created_at < $3 \
                         ORDER BY c.report_created_at, c.report_id, c.metric, c.cycle"
                    );
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .bind(from)
                        .bind(until)
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn deliver_escalation(&self, e: &Escalation) -> Result<u64> {
                    let recipients: Vec<Uuid> = sqlx::query_scalar(
                        "SELECT id FROM users WHERE active AND ( \
                         (role = 'operator_manager' AND operator_id = $1) \
                         OR (role IN ('staff_admin', 'staff_agent') AND jurisdiction_id = $2)) \
                         ORDER BY id",
                    )
                    .bind(e.operator.map(|o| o.0))
                    .bind(e.jurisdiction.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    if recipients.is_empty() {
                        return Ok(0);
                    }
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO user_notifications (id, message_id, user_id, event_type, \
                         report_id, payload, created_at) ",
                    );
                    insert.push_values(&recipients, |mut b, user| {
                        b.push_bind(Uuid::now_v7())
                            .push_bind(e.message_id)
                            .push_bind(*user)
                            .push_bind(e.event_type.clone())
                            .push_bind(e.report_id)
                            .push_bind(Json(e.payload.clone()))
                            .push_bind(e.at);
                    });
                    insert.push(" ON CONFLICT (message_id, user_id) DO NOTHING");
                    Ok(insert
                        .build()
                        .execute(self.writer())
                        .await
                        .map_err(<$store>::error)?
                        .rows_affected())
                }

                async fn notifications(
                    &self,
                    user_id: Uuid,
                    limit: u32,
                ) -> Result<Vec<Notification>> {
                    sqlx::query_as(
                        "SELECT id, event_type, report_id, payload, created_at, read_at \
                         FROM user_notifications WHERE user_id = $1 \
                         ORDER BY created_at DESC, id DESC LIMIT $2",
                    )
                    .bind(user_id)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)
                }
            }
        };
    };
}
