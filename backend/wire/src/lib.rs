//! The JSON shapes of Balagh's `/api/v1`, shared by the server and the mobile SDK so the two
//! cannot drift apart. Times are RFC 3339 strings in UTC; coordinates WGS84 degrees.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

mod push;
pub use push::*;
mod service_media;
pub use service_media::*;

/// Answer to `POST /api/v1/devices`: keep the token secret; it is shown only once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceRegistration {
    pub device_id: Uuid,
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
}

/// A list value of a service attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttributeValueView {
    pub key: String,
    pub name: String,
}

/// An extra question a service asks when reporting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttributeView {
    pub code: String,
    /// `string`, `number`, `datetime`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: String,
    pub required: bool,
    pub description: String,
    #[serde(default)]
    pub values: Vec<AttributeValueView>,
    pub order: u32,
}

/// A service residents can report about, named in the negotiated language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceView {
    pub code: String,
    /// The service group's code (`waste`, `lighting`, `transport`, or one the commune
    /// added, such as `parks`).
    pub group: String,
    /// The group's name in the negotiated language.
    #[serde(default)]
    pub group_name: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeView>,
    /// Short videos explaining the service, per language (sign language included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<ServiceVideoView>,
    /// An easy-to-read explanation in the language of the answer, when staff wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read: Option<String>,
}

/// Answer to `GET /api/v1/services`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceList {
    pub jurisdiction_id: String,
    /// The language the names are in (`fr`, `ar` or `en`).
    pub language: String,
    pub services: Vec<ServiceView>,
    /// The jurisdiction's service groups in display order (those without services too).
    #[serde(default)]
    pub groups: Vec<ServiceGroupView>,
}

/// A service group, named in the negotiated language (or every language, for staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceGroupView {
    /// Slug: 1-32 characters of a-z, 0-9 or '_', starting with a letter.
    pub code: String,
    pub name: String,
    /// An icon key the apps know (`waste`, `lighting`, `transport`); a generic icon
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Display order, lowest first.
    pub order: u32,
}

/// Body of `POST /api/v1/reports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewReportRequest {
    pub service_code: String,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// What is wrong, 1–4000 characters.
    pub description: String,
    /// Values for the service's extra attributes, by attribute code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<Map<String, Value>>,
    /// Horizontal accuracy of the position fix, in metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
    /// Draft photos of this device to attach (`POST /api/v1/photos/uploads`, confirmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<Uuid>>,
}

/// The operator a report was routed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperatorView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// One entry of a report's public history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventView {
    /// `created`, `routed`, `supported`, …
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
}

/// A report as its reporter sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportView {
    /// UUIDv7.
    pub id: Uuid,
    /// Short public reference, e.g. `TET-7KQ2M9XD`.
    pub reference: String,
    pub jurisdiction_id: String,
    pub service_code: String,
    /// `new`, `unrouted`, `acknowledged`, `in_progress`, `paused`, `resolved`, `closed`,
    /// `rejected`, `duplicate` or `reopened`.
    pub status: String,
    pub priority: String,
    /// Null while the report waits for staff triage (`unrouted`).
    pub operator: Option<OperatorView>,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub attributes: Value,
    pub channel: String,
    pub supporters: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    /// Public history, oldest first (only on `GET /api/v1/reports/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<EventView>>,
    /// Its photos with short-lived URLs (only on `GET /api/v1/reports/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<PhotoView>>,
    /// Its SLA clocks as of now (only on `GET /api/v1/reports/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clocks: Option<Vec<ClockView>>,
    /// `follower` when the device follows a report it did not write (it supported it, its
    /// own report was merged into it, or it chose to follow): the view is then what the
    /// public may know of it (point on the record grid, screened description, status
    /// changes only). Absent for the reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<String>,
}

/// A page of the device's own reports, newest first; pass `next_cursor` as `cursor` for the
/// next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MyReportsPage {
    pub reports: Vec<ReportView>,
    pub next_cursor: Option<String>,
}

/// An open report near a point, for "is it already reported?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NearbyReport {
    pub id: Uuid,
    pub reference: String,
    pub service_code: String,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    /// Distance from the queried point, in metres.
    pub distance_m: f64,
    pub description: String,
    pub supporters: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// Answer to `GET /api/v1/reports/nearby`, nearest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NearbyList {
    pub radius_m: f64,
    pub window_days: u32,
    pub reports: Vec<NearbyReport>,
}

/// Answer to `POST /api/v1/reports/{id}/support`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SupportResult {
    pub supporters: i64,
    /// True when this device had already said "me too" (nothing changed).
    pub already_supported: bool,
}

/// One wrong field in a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem details (`application/problem+json`), the body of every error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:balagh:problem:validation-failed`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The wrong fields, when the request was invalid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// A staff or operator user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// `staff_admin`, `staff_agent`, `staff_analyst`, `operator_manager` or `operator_agent`.
    pub role: String,
    /// Set for staff roles.
    pub jurisdiction_id: Option<String>,
    /// Set for operator roles.
    pub operator_id: Option<Uuid>,
    pub active: bool,
}

/// Answer to a login: the session cookie is set; send `csrf_token` as `X-CSRF-Token` on
/// every state-changing request made with the cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResult {
    pub user: UserView,
    pub csrf_token: String,
}

/// Body of `POST /api/v1/admin/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: String,
    /// For operator roles: the operator (of the admin's jurisdiction).
    #[serde(default)]
    pub operator_id: Option<Uuid>,
}

/// Body of `PATCH /api/v1/admin/users/{id}`: only the fields to change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdateRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub password: Option<String>,
}

/// Body of `PUT /api/v1/me/password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Body of `POST /api/v1/me/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What the token is for ("SAP integration").
    pub name: String,
    /// Lifetime in days, 1–365 (default 90).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// An API token as listed (the secret itself only in [`CreatedToken`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    pub revoked: bool,
}

/// A new API token: `token` is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenView,
    pub token: String,
}

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

/// Body of `POST /api/v1/reports/{id}/reply`: the resident's answer to the operator's
/// question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub text: String,
}

/// Body of `POST /api/v1/reports/{id}/reopen`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// What is still wrong.
    pub comment: String,
}

/// Body of `POST /api/v1/reports/{id}/rating`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 (bad) to 5 (excellent).
    pub stars: u8,
    #[serde(default)]
    pub comment: Option<String>,
}

/// Body of `PUT /api/v1/operator/webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointRequest {
    /// HTTPS URL receiving ticket events (plain HTTP only to this machine, for testing).
    pub url: String,
}

/// The endpoint with its signing secret, shown only when it is (re)created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookEndpointView {
    pub url: String,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

/// A webhook delivery as kept in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeliveryView {
    /// Also the `webhook-id` receivers see (`msg_` + this id without dashes).
    pub id: Uuid,
    pub event_type: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
}

/// Body of `POST /api/v1/staff/reports`: a report entered by staff for a resident who came
/// to the counter or phoned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssistedReportRequest {
    pub service_code: String,
    pub lat: f64,
    pub lon: f64,
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<Map<String, Value>>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    /// `counter` or `phone`.
    pub channel: String,
    /// The resident's name, kept private (never published, never sent to operators).
    #[serde(default)]
    pub contact_name: Option<String>,
    /// The resident's phone number, kept private.
    #[serde(default)]
    pub contact_phone: Option<String>,
}

/// An operator of the commune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperatorSummary {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// A contract of the commune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContractView {
    pub id: Uuid,
    pub reference: String,
    pub operator_id: Uuid,
    pub service_group: String,
    pub zone_name: String,
    /// GeoJSON (Multi)Polygon, WGS84.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub zone: Value,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_until: Option<OffsetDateTime>,
}

/// What a zone import changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ZoneImportResult {
    pub operators: usize,
    pub contracts: usize,
}

/// One rendition of a photo: an upright, metadata-free JPEG behind a short-lived URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RenditionView {
    /// Signed URL, valid until the photo's `urls_expire_at`.
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// A photo of a report (or a draft photo, before its report exists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhotoView {
    pub id: Uuid,
    /// Null for a draft not attached yet.
    pub report_id: Option<Uuid>,
    /// `report` (the problem) or `evidence` (the operator's resolution).
    pub purpose: String,
    /// `resident`, `operator` or `staff`.
    pub uploaded_by: String,
    /// Size of the original, upright.
    pub width: u32,
    pub height: u32,
    /// Longest side at most 2048 px.
    pub large: RenditionView,
    /// Longest side at most 400 px.
    pub thumbnail: RenditionView,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub urls_expire_at: OffsetDateTime,
    /// Approved by staff for the public.
    pub approved: bool,
    /// Staff only: metres between where the phone says the photo was taken and the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps_distance_m: Option<f64>,
    /// Staff only: taken more than 1 km from the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps_far: Option<bool>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// A report's photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhotoList {
    pub photos: Vec<PhotoView>,
}

/// Where to upload one photo: `PUT` the bytes to `upload_url` before `expires_at`, then
/// `POST` to `confirm_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UploadSlotView {
    /// Also the id of the photo it becomes.
    pub photo_id: Uuid,
    /// Always `PUT`.
    pub method: String,
    /// A presigned S3 URL, or a signed URL of this server (local storage).
    pub upload_url: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    pub confirm_url: String,
    /// Largest accepted photo, in bytes.
    pub max_bytes: u64,
}

/// Body of `POST /api/v1/reports/{id}/photos/attach`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttachPhotosRequest {
    /// Confirmed draft photos of this device.
    pub photo_ids: Vec<Uuid>,
}

/// Body of `POST /api/v1/staff/photos/{id}/moderation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhotoModerationRequest {
    /// True: the public may see it; false: hidden from the public again.
    pub approved: bool,
}
