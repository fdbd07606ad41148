//! Residents' reports: devices, reporting, following up, replying and rating.

use crate::{ClockView, PhotoView};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Answer to `POST /api/v1/devices`: keep the token secret; it is shown only once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceRegistration {
    pub device_id: Uuid,
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
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
