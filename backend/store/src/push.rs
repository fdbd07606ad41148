//! Pushes to residents: device registrations with their areas of interest, report
//! followers, service notices, and the per-device push messages of the outbox.
//! [`PushStore`] is a supertrait of [`Store`](crate::Store); both backends share its SQL
//! through [`impl_push_store!`](crate::impl_push_store).
//!
//! Delivery runs in two outbox stages. A change (a public status change, a published notice)
//! writes one fan-out message ([`PUSH_FANOUT_TOPIC`]) in its own transaction; a worker turns
//! it into one message per device ([`PUSH_TOPIC`]) whose dedupe key (event × device) makes a
//! repeated fan-out insert nothing; push workers then claim and send those.

use crate::{OutboxMessage, OutboxState, Result, Ts};
use balagh_domain::JurisdictionId;
use balagh_domain::notify::area::BoundingBox;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Outbox topic of events to fan out to devices.
pub const PUSH_FANOUT_TOPIC: &str = "push_fanout";
/// Outbox topic of pushes to one device.
pub const PUSH_TOPIC: &str = "push";

/// How a device receives pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushChannel {
    /// Android and iOS apps, through Firebase Cloud Messaging.
    Fcm { token: String },
    /// Browsers (the web app), through the browser's push service.
    WebPush {
        endpoint: String,
        p256dh: String,
        auth: String,
    },
}

impl PushChannel {
    pub fn kind(&self) -> &'static str {
        match self {
            PushChannel::Fcm { .. } => "fcm",
            PushChannel::WebPush { .. } => "web_push",
        }
    }

    /// The FCM token or the Web Push endpoint: what the push service may declare gone.
    pub fn token(&self) -> &str {
        match self {
            PushChannel::Fcm { token } => token,
            PushChannel::WebPush { endpoint, .. } => endpoint,
        }
    }
}

/// One area of interest as stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoredArea {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

/// A device's push registration.
#[derive(Debug, Clone, PartialEq)]
pub struct PushRegistration {
    pub device_id: Uuid,
    pub channel: PushChannel,
    /// `fr`, `ar` or `en`.
    pub language: String,
    /// IANA name, for quiet hours.
    pub time_zone: String,
    /// Minutes after local midnight (start, end).
    pub quiet_hours: Option<(u16, u16)>,
    pub areas: Vec<StoredArea>,
    pub active: bool,
    pub deactivated_reason: Option<String>,
    pub updated_at: Ts,
}

/// A push to one device, produced by a fan-out.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPush {
    pub id: Uuid,
    pub device_id: Uuid,
    /// `{event}:{device}`: the same event never reaches a device twice.
    pub dedupe_key: String,
    pub event_type: String,
    pub payload: Value,
    /// Not before this instant (the end of the device's quiet hours), else now.
    pub not_before: Ts,
    pub created_at: Ts,
    /// The commune whose staff see this push in the delivery queues.
    pub jurisdiction: Option<JurisdictionId>,
}

/// A service notice as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNotice {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub kind: String,
    pub service_codes: Vec<String>,
    /// GeoJSON geometry.
    pub area: Value,
    pub radius_m: Option<f64>,
    pub bbox: BoundingBox,
    pub valid_from: Ts,
    pub valid_until: Ts,
    /// `{"fr": {"title": …, "body": …}, …}`
    pub texts: Value,
    pub operator_id: Option<Uuid>,
    pub published_by: Uuid,
    pub created_at: Ts,
    pub withdrawn_at: Option<Ts>,
    /// Takes over the reception-area screens near it until it ends or staff clear the flag.
    pub urgent: bool,
}

pub const NOTICE_COLUMNS: &str = "id, jurisdiction_id, kind, service_codes, area, radius_m, \
    min_lat, max_lat, min_lon, max_lon, valid_from, valid_until, texts, operator_id, \
    published_by, created_at, withdrawn_at, urgent";

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct NoticeRow {
    id: Uuid,
    jurisdiction_id: String,
    kind: String,
    service_codes: sqlx::types::Json<Vec<String>>,
    area: sqlx::types::Json<Value>,
    radius_m: Option<f64>,
    min_lat: f64,
    max_lat: f64,
    min_lon: f64,
    max_lon: f64,
    valid_from: Ts,
    valid_until: Ts,
    texts: sqlx::types::Json<Value>,
    operator_id: Option<Uuid>,
    published_by: Uuid,
    created_at: Ts,
    withdrawn_at: Option<Ts>,
    urgent: bool,
}

impl NoticeRow {
    pub fn into_domain(self) -> StoredNotice {
        StoredNotice {
            id: self.id,
            jurisdiction_id: self.jurisdiction_id,
            kind: self.kind,
            service_codes: self.service_codes.0,
            area: self.area.0,
            radius_m: self.radius_m,
            bbox: BoundingBox {
                min_lat: self.min_lat,
                max_lat: self.max_lat,
                min_lon: self.min_lon,
                max_lon: self.max_lon,
            },
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            texts: self.texts.0,
            operator_id: self.operator_id,
            published_by: self.published_by,
            created_at: self.created_at,
            withdrawn_at: self.withdrawn_at,
            urgent: self.urgent,
        }
    }
}

pub const REGISTRATION_COLUMNS: &str = "device_id, channel, token, p256dh, auth, language, \
    time_zone, quiet_start, quiet_end, areas, active, deactivated_reason, updated_at";

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct RegistrationRow {
    device_id: Uuid,
    channel: String,
    token: String,
    p256dh: Option<String>,
    auth: Option<String>,
    language: String,
    time_zone: String,
    quiet_start: Option<i32>,
    quiet_end: Option<i32>,
    areas: sqlx::types::Json<Vec<StoredArea>>,
    active: bool,
    deactivated_reason: Option<String>,
    updated_at: Ts,
}

impl RegistrationRow {
    pub fn into_domain(self) -> Result<PushRegistration> {
        let corrupt =
            || crate::StoreError::Corrupt(format!("push registration {}", self.device_id));
        let channel = match (self.channel.as_str(), self.p256dh, self.auth) {
            ("fcm", _, _) => PushChannel::Fcm { token: self.token },
            ("web_push", Some(p256dh), Some(auth)) => PushChannel::WebPush {
                endpoint: self.token,
                p256dh,
                auth,
            },
            _ => return Err(corrupt()),
        };
        let minutes = |m: Option<i32>| m.and_then(|m| u16::try_from(m).ok());
        Ok(PushRegistration {
            device_id: self.device_id,
            channel,
            language: self.language,
            time_zone: self.time_zone,
            quiet_hours: minutes(self.quiet_start).zip(minutes(self.quiet_end)),
            areas: self.areas.0,
            active: self.active,
            deactivated_reason: self.deactivated_reason,
            updated_at: self.updated_at,
        })
    }
}

#[crate::async_trait]
pub trait PushStore {
    /// Creates or replaces a device's registration (and its areas), active again.
    async fn set_push_registration(&self, registration: &PushRegistration) -> Result<()>;
    async fn push_registration(&self, device: Uuid) -> Result<Option<PushRegistration>>;
    /// False if the device had none.
    async fn delete_push_registration(&self, device: Uuid) -> Result<bool>;
    /// Stops pushes to a token the push service declared gone, unless the device has
    /// registered another token since.
    async fn deactivate_push_registration(
        &self,
        device: Uuid,
        token: &str,
        reason: &str,
        at: Ts,
    ) -> Result<bool>;
    /// Registrations of these devices (active or not).
    async fn push_registrations(&self, devices: &[Uuid]) -> Result<Vec<PushRegistration>>;
    /// Devices with an active registration and an area whose box overlaps `bbox`: the
    /// candidates for a notice (their registrations are then read in chunks).
    async fn push_devices_in_box(&self, bbox: &BoundingBox) -> Result<Vec<Uuid>>;
    /// Active registrations of a report's followers: its reporter, its supporters and
    /// devices that followed it, less those that unfollowed.
    async fn follower_registrations(&self, report_id: Uuid) -> Result<Vec<PushRegistration>>;
    /// Stops following (also as reporter or supporter); false if not following.
    async fn unfollow_report(&self, report_id: Uuid, device: Uuid, at: Ts) -> Result<bool>;
    /// Whether the device follows the report.
    async fn is_following(&self, report_id: Uuid, device: Uuid) -> Result<bool>;

    /// Queues pushes, skipping those whose dedupe key is already queued; returns how many
    /// were added.
    async fn enqueue_pushes(&self, pushes: &[NewPush]) -> Result<u64>;
    /// Records the outcomes of many delivery attempts in one transaction.
    async fn record_deliveries(&self, results: &[(Uuid, crate::DeliveryResult)]) -> Result<()>;
    /// Push and fan-out messages of a commune in a state, newest first (for its staff).
    /// Messages written before pushes named their commune are everyone's.
    async fn push_messages(
        &self,
        jurisdiction: &str,
        state: OutboxState,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>>;
    /// Puts a commune's dead push or fan-out message back in the queue.
    async fn replay_push(&self, jurisdiction: &str, id: Uuid, now: Ts) -> Result<bool>;

    /// Stores a notice with its fan-out message, in one transaction.
    async fn create_notice(
        &self,
        notice: &StoredNotice,
        fanout: &crate::NewOutboxMessage,
    ) -> Result<()>;
    async fn notice(&self, id: Uuid) -> Result<Option<StoredNotice>>;
    /// Notices active at `now` whose box overlaps `bbox`, soonest ending first.
    async fn active_notices(
        &self,
        bbox: &BoundingBox,
        now: Ts,
        limit: u32,
    ) -> Result<Vec<StoredNotice>>;
    /// Notices of a jurisdiction not yet ended (for staff and operators), newest first.
    async fn current_notices(
        &self,
        jurisdiction: &str,
        now: Ts,
        limit: u32,
    ) -> Result<Vec<StoredNotice>>;
    /// Ends a notice now; false if there is no such notice still running.
    async fn withdraw_notice(&self, id: Uuid, at: Ts) -> Result<bool>;

    /// Inserts devices with their registrations in bulk (benchmarks and generators).
    async fn bulk_insert_push_devices(
        &self,
        devices: &[(crate::NewDevice, PushRegistration)],
    ) -> Result<()>;
}

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
