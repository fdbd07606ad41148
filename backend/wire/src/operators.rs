//! Operators, contracts, webhooks, zone imports and reports entered by staff.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

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
