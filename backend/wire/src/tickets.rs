//! Tickets as operators and staff see them: SLA clocks, history, actions.

use crate::PhotoView;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A ticket as an operator (or staff) sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketView {
    pub id: Uuid,
    pub reference: String,
    pub service_code: String,
    pub status: String,
    pub priority: String,
    pub operator_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub lat: f64,
    pub lon: f64,
    /// Null when staff hid it by moderation.
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub attributes: Value,
    pub channel: String,
    pub supporters: i64,
    pub duplicate_of: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub resolved_at: Option<OffsetDateTime>,
    /// Concurrency version; also the `ETag` (`"<version>"`) to send as `If-Match`.
    pub version: i64,
    /// What can be done next, e.g. `acknowledge`, `start`, `resolve`.
    pub allowed_actions: Vec<String>,
    /// Full history (with internal events) on single-ticket reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<TicketEventView>>,
    /// Photos with short-lived URLs, on single-ticket reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<PhotoView>>,
    /// SLA clocks as of now, on single-ticket reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clocks: Option<Vec<ClockView>>,
}

/// One SLA clock of a report: a metric (`acknowledge`, `resolve`, `on_site`) in one cycle
/// (a reopen starts a new one), measured against the contract's policy version in force
/// when the report was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClockView {
    pub metric: String,
    pub cycle: u32,
    /// `running`, `paused`, `met` or `breached`.
    pub state: String,
    /// `always` (24/7) or `business_hours`.
    pub clock: String,
    pub policy_version: u32,
    pub contract_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub due_at: OffsetDateTime,
    /// The due time in the jurisdiction's local time, e.g. `2026-04-21T09:30:00+01:00`.
    pub due_at_local: String,
    /// Clock time (business time for business-hours clocks) counted so far, in seconds.
    pub elapsed_seconds: i64,
    /// Clock time left before the due time, in seconds (0 once reached).
    pub remaining_seconds: i64,
    /// Clock time past the due time, in seconds.
    pub overdue_seconds: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub met_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub breached_at: Option<OffsetDateTime>,
    /// Pauses, with whether each stopped the clock under the policy.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub paused_intervals: Value,
}

/// One entry of a ticket's history, with who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketEventView {
    pub kind: String,
    /// `device:<id>`, `user:<id>` or `system`.
    pub actor: String,
    pub public: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
}

/// A page of tickets; pass `next_cursor` as `cursor` for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketPage {
    pub tickets: Vec<TicketView>,
    pub next_cursor: Option<String>,
}

/// Body of ticket actions; which fields matter depends on the action.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TicketActionRequest {
    /// A note for the history (resolve: what was done).
    #[serde(default)]
    pub note: Option<String>,
    /// Pause reason (`awaiting_resident`, `third_party`, `force_majeure`) or rejection reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Resolve: reference of an evidence photo.
    #[serde(default)]
    pub evidence_photo: Option<String>,
    /// Staff `route`: the contract to route to (default: the one covering the point now).
    #[serde(default)]
    pub contract_id: Option<Uuid>,
    /// Staff `mark_duplicate`: the original report.
    #[serde(default)]
    pub duplicate_of: Option<Uuid>,
}

/// Body of `POST …/assign`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// An agent of the same operator, or null to unassign.
    pub agent_id: Option<Uuid>,
}

/// Body of `POST …/comments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub text: String,
    /// Public comments are shown to residents; internal ones only to staff and operator.
    #[serde(default)]
    pub public: bool,
}
