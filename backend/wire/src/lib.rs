//! The JSON shapes of Balagh's `/api/v1`, shared by the server and the mobile SDK so the two
//! cannot drift apart. Times are RFC 3339 strings in UTC; coordinates WGS84 degrees.

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
    /// `waste`, `lighting` or `transport`.
    pub group: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeView>,
}

/// Answer to `GET /api/v1/services`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceList {
    pub jurisdiction_id: String,
    /// The language the names are in (`fr`, `ar` or `en`).
    pub language: String,
    pub services: Vec<ServiceView>,
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
