//! Pushes to residents: device registrations with their areas of interest, report
//! followers, service notices, and the per-device push messages of the outbox.
//! [`PushStore`] is a supertrait of [`Store`](crate::Store); its SQL is the functions of
//! [`Sql`](crate::Sql) in `registrations.rs`, `deliveries.rs` and `notices.rs`, which each
//! backend delegates to with [`impl_push_store!`](crate::impl_push_store).
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

// The SQL of the trait above: functions of [`Sql`](crate::Sql), by concern.
mod deliveries;
mod notices;
mod registrations;

/// `impl PushStore for $store`, delegating to the functions of [`Sql`](crate::Sql).
#[macro_export]
macro_rules! impl_push_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::notify::area::BoundingBox;
            use uuid::Uuid;
            use $crate::{
                DeliveryResult, NewDevice, NewOutboxMessage, NewPush, OutboxMessage, OutboxState,
                PushRegistration, Result, Sql, StoredNotice, Ts,
            };

            #[$crate::async_trait]
            impl $crate::PushStore for $store {
                async fn set_push_registration(&self, r: &PushRegistration) -> Result<()> {
                    Sql(self).set_push_registration(r).await
                }

                async fn push_registration(
                    &self,
                    device: Uuid,
                ) -> Result<Option<PushRegistration>> {
                    Sql(self).push_registration(device).await
                }

                async fn delete_push_registration(&self, device: Uuid) -> Result<bool> {
                    Sql(self).delete_push_registration(device).await
                }

                async fn deactivate_push_registration(
                    &self,
                    device: Uuid,
                    token: &str,
                    reason: &str,
                    at: Ts,
                ) -> Result<bool> {
                    Sql(self)
                        .deactivate_push_registration(device, token, reason, at)
                        .await
                }

                async fn push_registrations(
                    &self,
                    devices: &[Uuid],
                ) -> Result<Vec<PushRegistration>> {
                    Sql(self).push_registrations(devices).await
                }

                async fn push_devices_in_box(&self, bbox: &BoundingBox) -> Result<Vec<Uuid>> {
                    Sql(self).push_devices_in_box(bbox).await
                }

                async fn follower_registrations(
                    &self,
                    report_id: Uuid,
                ) -> Result<Vec<PushRegistration>> {
                    Sql(self).follower_registrations(report_id).await
                }

                async fn unfollow_report(
                    &self,
                    report_id: Uuid,
                    device: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    Sql(self).unfollow_report(report_id, device, at).await
                }

                async fn is_following(&self, report_id: Uuid, device: Uuid) -> Result<bool> {
                    Sql(self).is_following(report_id, device).await
                }

                async fn enqueue_pushes(&self, pushes: &[NewPush]) -> Result<u64> {
                    Sql(self).enqueue_pushes(pushes).await
                }

                async fn record_deliveries(
                    &self,
                    results: &[(Uuid, DeliveryResult)],
                ) -> Result<()> {
                    Sql(self).record_deliveries(results).await
                }

                async fn push_messages(
                    &self,
                    jurisdiction: &str,
                    state: OutboxState,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>> {
                    Sql(self).push_messages(jurisdiction, state, limit).await
                }

                async fn replay_push(&self, jurisdiction: &str, id: Uuid, now: Ts) -> Result<bool> {
                    Sql(self).replay_push(jurisdiction, id, now).await
                }

                async fn create_notice(
                    &self,
                    notice: &StoredNotice,
                    fanout: &NewOutboxMessage,
                ) -> Result<()> {
                    Sql(self).create_notice(notice, fanout).await
                }

                async fn notice(&self, id: Uuid) -> Result<Option<StoredNotice>> {
                    Sql(self).notice(id).await
                }

                async fn active_notices(
                    &self,
                    bbox: &BoundingBox,
                    now: Ts,
                    limit: u32,
                ) -> Result<Vec<StoredNotice>> {
                    Sql(self).active_notices(bbox, now, limit).await
                }

                async fn current_notices(
                    &self,
                    jurisdiction: &str,
                    now: Ts,
                    limit: u32,
                ) -> Result<Vec<StoredNotice>> {
                    Sql(self).current_notices(jurisdiction, now, limit).await
                }

                async fn withdraw_notice(&self, id: Uuid, at: Ts) -> Result<bool> {
                    Sql(self).withdraw_notice(id, at).await
                }

                async fn bulk_insert_push_devices(
                    &self,
                    devices: &[(NewDevice, PushRegistration)],
                ) -> Result<()> {
                    Sql(self).bulk_insert_push_devices(devices).await
                }
            }
        };
    };
}
