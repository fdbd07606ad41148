//! The storage contract of Balagh.
//!
//! One [`Store`] trait, implemented by `balagh-store-postgres` (production) and
//! `balagh-store-sqlite` (the embedded default). Both implementations share their SQL text
//! (functions of [`Sql`] over a [`SqlBackend`], reached through short delegating
//! `impl_*_store!` macros, and [`SharedWrites`] for the writes areas share); only what
//! truly differs (pools,
//! migrations, error codes, the fragments of [`SqlBackend`]) is written per database. Every
//! integration test runs against both.

mod accounts;
#[cfg(feature = "contract-tests")]
pub mod contract;
mod dialect;
mod error;
pub mod history;
mod open311;
mod outbox;
mod photos;
pub mod places;
pub mod push;
mod records;
mod report_details;
mod rows;
mod screens;
pub mod service_groups;
pub mod service_media;
#[doc(hidden)]
pub mod sla;
pub mod sms;
pub mod stats;
mod store_sql;
mod tickets;
mod timestamp;
pub mod writes;

pub use accounts::*;
pub use dialect::{Sql, SqlBackend, SqlDb};
pub use error::{Constraint, StoreError};
pub use history::{HistoryDrop, HistoryStore};
pub use open311::*;
pub use outbox::*;
pub use photos::*;
pub use places::{BusImportSummary, PlaceStore};
#[doc(hidden)]
pub use places::{BusStopRow, PlaceRow, like_escape};
pub use push::{
    NOTICE_COLUMNS, NewPush, PUSH_FANOUT_TOPIC, PUSH_TOPIC, PushChannel, PushRegistration,
    PushStore, REGISTRATION_COLUMNS, StoredArea, StoredNotice,
};
#[doc(hidden)]
pub use push::{NoticeRow, RegistrationRow};
pub use records::*;
pub use report_details::*;
pub use rows::*;
pub use screens::*;
#[doc(hidden)]
pub use service_groups::ServiceGroupRow;
pub use service_groups::ServiceGroupStore;
pub use service_media::ServiceMediaRow;
pub use service_media::{ServiceMedia, ServiceMediaStore, ServiceVideo};
pub use sla::{
    CLOCK_COLUMNS, ClockRecord, DISPUTE_COLUMNS, Dispute, DisputeDecision, DisputeScope,
    DisputeState, ESCALATION_TOPIC, Escalation, NewAlarm, NewDispute, Notification, SlaCheck,
    SlaCheckOutcome, SlaStore, StatementClock, StatementScope, StoredPolicy,
};
pub use sms::{
    ConversationClaim, InboundOutcome, InboundSms, PendingSms, SMS_GATEWAY_COLUMNS, SMS_TOPIC,
    SmsGateway, SmsStore, StoredConversation,
};
pub use stats::StatsStore;
pub use tickets::*;
pub use timestamp::Ts;
pub use writes::SharedWrites;

// Re-exported so the shared implementation macro resolves the same sqlx in every backend.
#[doc(hidden)]
pub use async_trait::async_trait;
#[doc(hidden)]
pub use sqlx;

use balagh_domain::account::{Email, Scope, User};
use balagh_domain::{
    Contract, Jurisdiction, JurisdictionId, NewEvent, OperatorId, Service, zones::ZoneFeature,
};
use uuid::Uuid;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// Chosen by URL scheme, as in `postgres://…` or `sqlite://…`.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "sqlite" => Some(Backend::Sqlite),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Reports progress of long writes (count of items done so far).
pub type Progress<'a> = &'a (dyn Fn(usize) + Send + Sync);

/// Everything Balagh keeps. Methods are transactions: each either happens whole or not at all.
#[async_trait]
pub trait Store:
    SlaStore
    + PhotoStore
    + PushStore
    + Open311Store
    + StatsStore
    + ScreenStore
    + SmsStore
    + PlaceStore
    + ServiceMediaStore
    + ServiceGroupStore
    + HistoryStore
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
{
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> Result<()>;

    /// A round trip to the database (for readiness checks).
    async fn ping(&self) -> Result<()>;

    /// Closes the pools; pending statements finish first.
    async fn close(&self);

    // --- catalog: jurisdictions, services, operators, contracts -------------------------

    /// A counter bumped by every catalog change, so replicas know when to reload.
    async fn catalog_revision(&self) -> Result<i64>;
    async fn upsert_jurisdiction(&self, jurisdiction: &Jurisdiction) -> Result<()>;
    async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>>;
    async fn upsert_services(
        &self,
        jurisdiction: &JurisdictionId,
        services: &[Service],
    ) -> Result<()>;
    /// Active services of every jurisdiction.
    async fn services(&self) -> Result<Vec<(JurisdictionId, Service)>>;
    /// Creates or updates operators and contracts from zone features, in one transaction.
    async fn upsert_zones(
        &self,
        jurisdiction: &JurisdictionId,
        zones: &[ZoneFeature],
        progress: Progress<'_>,
    ) -> Result<ZoneImportSummary>;
    async fn operators(&self) -> Result<Vec<OperatorRecord>>;
    async fn contracts(&self) -> Result<Vec<Contract>>;

    // --- devices -------------------------------------------------------------------------

    async fn create_device(&self, device: &NewDevice) -> Result<()>;
    /// The device holding this token (looked up by its SHA-256 hash).
    async fn device_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Uuid>>;

    // --- reports -------------------------------------------------------------------------

    /// Stores a report with its first events, outbox messages, clocks and draft photos, all
    /// or nothing. With an idempotency key already used by the same device, stores nothing
    /// and returns the existing report.
    async fn create_report(&self, report: &NewReport) -> Result<CreateOutcome>;
    async fn report(&self, id: Uuid) -> Result<Option<StoredReport>>;
    async fn report_events(&self, id: Uuid) -> Result<Vec<StoredEvent>>;
    /// The report with its events and photos (what `report`, `report_events` and
    /// `report_photos` return), in one statement: one round trip, one pooled connection.
    async fn report_details(&self, id: Uuid) -> Result<Option<ReportDetails>>;
    /// Open reports of a service in the given cells, created since `query.since`.
    async fn nearby_candidates(&self, query: &NearbyQuery) -> Result<Vec<StoredReport>>;
    /// Adds a device's "me too"; once per device.
    async fn support_report(&self, support: &NewSupport) -> Result<SupportOutcome>;
    /// Inserts many reports with their events (`later_events` included) and clocks, without
    /// idempotency checks (nor photos): for data generators and benchmarks.
    async fn bulk_insert_reports(&self, reports: &[NewReport]) -> Result<()>;
    async fn count_reports(&self) -> Result<i64>;
    /// Refreshes the planner's statistics (and, on PostgreSQL, the visibility map) after a
    /// bulk load, so that queries use their indexes at once.
    async fn analyze(&self) -> Result<()>;
    /// Erases the contact details residents left (at the counter, by phone, through
    /// Open311) on up to `limit` reports created before `created_before`; the reports stay.
    /// Returns how many reports were touched.
    async fn erase_contacts(&self, created_before: Ts, limit: u32) -> Result<u64>;

    // --- accounts ------------------------------------------------------------------------

    async fn create_user(&self, user: &NewUser) -> Result<()>;
    async fn user(&self, id: Uuid) -> Result<Option<User>>;
    /// The user and their password hash, for login.
    async fn user_for_login(&self, email: &Email) -> Result<Option<(User, String)>>;
    /// Users with a grant in this scope.
    async fn users_in_scope(&self, scope: &Scope) -> Result<Vec<User>>;
    /// Applies `update`; deactivating or setting a password also deletes every session and
    /// revokes every API token of the user, in the same transaction.
    async fn update_user(&self, id: Uuid, update: &UserUpdate) -> Result<Option<User>>;
    async fn create_session(&self, session: &NewSession) -> Result<()>;
    /// The active user of an unexpired session, and its CSRF token.
    async fn session_user(&self, token_hash: &[u8], now: Ts) -> Result<Option<(User, String)>>;
    async fn delete_session(&self, token_hash: &[u8]) -> Result<()>;
    async fn create_api_token(&self, token: &NewApiToken) -> Result<()>;
    /// The active user of an unexpired, unrevoked API token.
    async fn api_token_user(&self, token_hash: &[u8], now: Ts) -> Result<Option<User>>;
    async fn api_tokens(&self, user_id: Uuid) -> Result<Vec<ApiTokenInfo>>;
    /// Revokes one of the user's tokens; false if it is not theirs or already revoked.
    async fn revoke_api_token(&self, user_id: Uuid, token_id: Uuid, now: Ts) -> Result<bool>;
    /// Counts one attempt for `key` (a login on an account or from an address, a device
    /// registration or a "me too" from an address) in one statement, BEFORE the attempt is
    /// acted on, so that attempts made at once cannot all pass a check-then-record race: the
    /// answer says how many attempts the current window holds, this one included, and when
    /// the window ends. Shared by every replica (it is a row of `login_throttle`).
    async fn count_attempt(
        &self,
        key: &str,
        now: Ts,
        policy: &ThrottlePolicy,
    ) -> Result<LoginAttempts>;
    /// Gives one attempt back to `key` (a successful login from a shared address).
    async fn refund_attempt(&self, key: &str) -> Result<()>;
    /// The server key called `name`: `fresh` is stored if there is none yet, and whichever
    /// key was stored first is returned (replicas starting together agree).
    async fn server_key(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>>;
    /// Forgets the attempts of `key` (a successful login to that account).
    async fn clear_login_failures(&self, key: &str) -> Result<()>;

    // --- tickets -------------------------------------------------------------------------

    /// Applies a change if the report is still at the expected version, with its events and
    /// outbox messages, in one transaction.
    async fn change_report(&self, change: &ReportChange) -> Result<ChangeOutcome>;
    /// Marks `change.report_id` a duplicate of `original`: applies the change and moves its
    /// supporters and followers to the original, in one transaction.
    async fn merge_duplicate(
        &self,
        change: &ReportChange,
        original: Uuid,
        original_event: &NewEvent,
    ) -> Result<ChangeOutcome>;
    async fn ticket_queue(&self, query: &QueueQuery) -> Result<Vec<StoredReport>>;
    /// How many tickets match the queue's filters (its cursor and limit aside).
    async fn ticket_queue_count(&self, query: &QueueQuery) -> Result<i64>;
    async fn triage_queue(&self, query: &TriageQuery) -> Result<Vec<StoredReport>>;
    /// Resolved reports whose resolution is older than `before` (for auto-closing).
    async fn resolved_before(&self, before: Ts, limit: u32) -> Result<Vec<StoredReport>>;
    async fn follow_report(&self, report_id: Uuid, device: Uuid, at: Ts) -> Result<bool>;
    async fn followers(&self, report_id: Uuid) -> Result<Vec<Uuid>>;
    /// A device's own reports, newest first, strictly before the `(created_at, id)` cursor.
    async fn device_reports(
        &self,
        device: Uuid,
        before: Option<(Ts, Uuid)>,
        limit: u32,
    ) -> Result<Vec<StoredReport>>;

    // --- outbox and webhooks -------------------------------------------------------------

    async fn set_webhook_endpoint(&self, endpoint: &WebhookEndpoint, at: Ts) -> Result<()>;
    async fn webhook_endpoint(&self, operator: OperatorId) -> Result<Option<WebhookEndpoint>>;
    /// Claims up to `limit` due pending messages of a topic for `lease`; a message claimed by
    /// one worker is not claimed by another until the lease ends.
    async fn claim_outbox(
        &self,
        topic: &str,
        now: Ts,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>>;
    async fn record_delivery(&self, id: Uuid, result: &DeliveryResult) -> Result<()>;
    async fn outbox_messages(
        &self,
        operator: OperatorId,
        state: OutboxState,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>>;
    /// Puts a dead message back in the queue; false if there is no such dead message.
    async fn replay_outbox(&self, operator: OperatorId, id: Uuid, now: Ts) -> Result<bool>;
    /// Deletes up to `limit` delivered messages created before `before` (webhooks and pushes
    /// whose delivery is history); returns how many. Pending and dead ones stay.
    async fn purge_delivered_outbox(&self, before: Ts, limit: u32) -> Result<u64>;
}
