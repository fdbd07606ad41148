//! What the SLA engine keeps: calendars, policy versions, clocks, alarms, disputes, and the
//! notifications escalations are delivered to. The SQL is shared by both databases through
//! [`impl_sla_store!`](crate::impl_sla_store).

use crate::{NewOutboxMessage, Result, Ts};
pub use balagh_domain::sla::DisputeState;
use balagh_domain::sla::{CalendarSpec, Metric, SlaPolicy};
use balagh_domain::{ContractId, JurisdictionId, NewEvent, OperatorId};
use serde_json::Value;
use uuid::Uuid;

/// One clock of a report (a metric and cycle), as last computed from its history.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ClockRecord {
    pub report_id: Uuid,
    /// `acknowledge`, `resolve` or `on_site`.
    pub metric: String,
    pub cycle: i32,
    pub operator_id: Uuid,
    pub contract_id: Uuid,
    pub policy_version: i32,
    /// `always` or `business_hours`.
    pub clock: String,
    /// `running`, `paused`, `met` or `breached`.
    pub state: String,
    pub started_at: Ts,
    pub due_at: Ts,
    pub met_at: Option<Ts>,
    pub breached_at: Option<Ts>,
    pub withdrawn_at: Option<Ts>,
    pub target_ms: i64,
    pub elapsed_ms: i64,
    pub overdue_ms: i64,
    pub report_created_at: Ts,
    pub computed_at: Ts,
    /// When the sweeper must look again (the next threshold), if ever.
    pub next_check_at: Option<Ts>,
}

pub const CLOCK_COLUMNS: &str = "report_id, metric, cycle, operator_id, contract_id, \
    policy_version, clock, state, started_at, due_at, met_at, breached_at, withdrawn_at, \
    target_ms, elapsed_ms, overdue_ms, report_created_at, computed_at, next_check_at";

/// A warning or breach to raise once, with what it writes when it is raised.
#[derive(Debug, Clone)]
pub struct NewAlarm {
    pub metric: String,
    pub cycle: i32,
    /// 100 for the breach.
    pub percent: i32,
    pub event: NewEvent,
    pub outbox: Vec<NewOutboxMessage>,
}

/// What one look at a report's clocks found.
#[derive(Debug, Clone)]
pub struct SlaCheck {
    pub report_id: Uuid,
    /// The report version the clocks were computed at: if it changed since, nothing is
    /// written (the change has recomputed the clocks itself).
    pub report_version: i64,
    pub at: Ts,
    pub clocks: Vec<ClockRecord>,
    pub alarms: Vec<NewAlarm>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaCheckOutcome {
    /// Written; this many alarms were new (the others had been raised before).
    Recorded { raised: usize },
    /// The report changed meanwhile: nothing written.
    Stale,
}

/// A policy version as stored, with who made it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPolicy {
    pub policy: SlaPolicy,
    pub created_at: Ts,
    pub created_by: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct NewDispute {
    pub id: Uuid,
    pub report_id: Uuid,
    pub metric: Metric,
    pub cycle: i32,
    pub operator: OperatorId,
    pub reason: String,
    pub opened_by: Uuid,
    pub at: Ts,
    pub event: NewEvent,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Dispute {
    pub id: Uuid,
    pub report_id: Uuid,
    #[sqlx(try_from = "String")]
    pub metric: Metric,
    pub cycle: i32,
    pub operator_id: Uuid,
    pub reason: String,
    pub opened_by: Uuid,
    pub opened_at: Ts,
    #[sqlx(try_from = "String")]
    pub state: DisputeState,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<Ts>,
    pub decision_note: Option<String>,
}

pub const DISPUTE_COLUMNS: &str = "id, report_id, metric, cycle, operator_id, reason, \
    opened_by, opened_at, state, decided_by, decided_at, decision_note";

#[derive(Debug, Clone)]
pub struct DisputeDecision {
    pub id: Uuid,
    pub accept: bool,
    pub note: Option<String>,
    pub decided_by: Uuid,
    pub at: Ts,
    /// Written to the report's history with the decision.
    pub event: NewEvent,
}

/// Which disputes to list.
#[derive(Debug, Clone)]
pub enum DisputeScope {
    Operator(OperatorId),
    /// Every operator of the jurisdiction.
    Jurisdiction(JurisdictionId),
}

/// Whose clocks a statement covers.
#[derive(Debug, Clone, Copy)]
pub enum StatementScope {
    Operator(OperatorId),
    Contract(ContractId),
}

/// A clock in a statement, with what the evidence needs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StatementClock {
    #[sqlx(flatten)]
    pub clock: ClockRecord,
    pub reference: String,
    pub service_code: String,
    pub priority: String,
    /// The dispute's state, if the breach was disputed.
    pub dispute_state: Option<String>,
}

/// An escalation waiting in a user's inbox.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Notification {
    pub id: Uuid,
    pub event_type: String,
    pub report_id: Option<Uuid>,
    pub payload: sqlx::types::Json<Value>,
    pub created_at: Ts,
    pub read_at: Option<Ts>,
}

/// An escalation message to deliver to inboxes.
#[derive(Debug, Clone)]
pub struct Escalation {
    /// The outbox message: one notification per message and user.
    pub message_id: Uuid,
    pub event_type: String,
    pub report_id: Uuid,
    /// Its managers are told.
    pub operator: Option<OperatorId>,
    /// Its staff admins and agents are told.
    pub jurisdiction: JurisdictionId,
    pub payload: Value,
    pub at: Ts,
}

/// Outbox topic of escalations to operator managers and staff (in-app notifications).
pub const ESCALATION_TOPIC: &str = "escalation";

/// The SLA part of the store.
#[async_trait::async_trait]
pub trait SlaStore: Send + Sync {
    /// Every jurisdiction's calendar that staff have set.
    async fn sla_calendars(&self) -> Result<Vec<(JurisdictionId, CalendarSpec)>>;
    async fn put_sla_calendar(
        &self,
        jurisdiction: &JurisdictionId,
        spec: &CalendarSpec,
        at: Ts,
        by: Option<Uuid>,
    ) -> Result<()>;
    /// Every version of every policy.
    async fn sla_policies(&self) -> Result<Vec<StoredPolicy>>;
    /// Adds a version; a taken version number is `Conflict(SlaPolicyVersion)`.
    async fn add_sla_policy(&self, policy: &SlaPolicy, at: Ts, by: Option<Uuid>) -> Result<()>;

    async fn report_clocks(&self, report_id: Uuid) -> Result<Vec<ClockRecord>>;
    /// Reports with a clock due for a look at `now`, reserved for `lease` so that other
    /// replicas skip them meanwhile.
    async fn claim_due_clocks(
        &self,
        now: Ts,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<Uuid>>;
    /// Writes a sweep's findings in one transaction: each alarm's event and messages only
    /// if that alarm was not raised before.
    async fn record_sla_check(&self, check: &SlaCheck) -> Result<SlaCheckOutcome>;
    /// Reports of a jurisdiction created since `since`, by id, for replaying clocks.
    async fn report_ids_since(
        &self,
        jurisdiction: &JurisdictionId,
        since: Ts,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Uuid>>;

    /// A dispute on a clock; a second one on the same clock is `Conflict(SlaDispute)`.
    async fn open_dispute(&self, dispute: &NewDispute) -> Result<()>;
    async fn dispute(&self, id: Uuid) -> Result<Option<Dispute>>;
    async fn disputes(
        &self,
        scope: &DisputeScope,
        state: Option<DisputeState>,
        limit: u32,
    ) -> Result<Vec<Dispute>>;
    /// Decides an open dispute; `None` if there is no such open dispute.
    async fn decide_dispute(&self, decision: &DisputeDecision) -> Result<Option<Dispute>>;

    /// Clocks of reports created in `[from, until)`, with their evidence.
    async fn statement_clocks(
        &self,
        scope: StatementScope,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<StatementClock>>;

    /// Delivers an escalation to the inboxes of the operator's managers and the
    /// jurisdiction's staff admins and agents, once per user; returns how many were new.
    async fn deliver_escalation(&self, escalation: &Escalation) -> Result<u64>;
    async fn notifications(&self, user_id: Uuid, limit: u32) -> Result<Vec<Notification>>;
}

// The SQL of the trait above, as functions of `Sql`.
mod sql;

/// A policy's `effective_from` as a stored timestamp.
#[doc(hidden)]
pub fn ts_from_jiff(at: jiff::Timestamp) -> Result<Ts> {
    balagh_domain::sla::to_offset_date_time(at)
        .map(Ts::new)
        .ok_or_else(|| crate::StoreError::Corrupt("timestamp out of range".into()))
}
