//! Push registrations, report following and service notices.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebPushSubscription {
    /// The push service URL (HTTPS).
    pub endpoint: String,
    pub keys: WebPushKeys,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebPushKeys {
    /// The subscription's P-256 public key, base64url (65 bytes).
    pub p256dh: String,
    /// The authentication secret, base64url (16 bytes).
    pub auth: String,
}

/// A daily window in the device's local time during which pushes wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuietHoursView {
    /// `HH:MM`, e.g. `22:00`.
    pub start: String,
    /// `HH:MM`, e.g. `07:00` (the window may wrap past midnight).
    pub end: String,
}

/// A place the resident wants service notices about (home, work).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AreaOfInterestView {
    pub lat: f64,
    pub lon: f64,
    /// 50 to 20,000 metres.
    pub radius_m: f64,
}

/// Body of `PUT /api/v1/devices/me/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRegistrationRequest {
    /// `fcm` (Android and iOS apps) or `web_push` (browsers).
    pub channel: String,
    /// The FCM registration token (channel `fcm`).
    #[serde(default)]
    pub token: Option<String>,
    /// The browser's subscription (channel `web_push`).
    #[serde(default)]
    pub subscription: Option<WebPushSubscription>,
    /// `fr`, `ar` or `en`: the language of the pushes.
    pub language: String,
    /// IANA time zone for quiet hours (default `Africa/Casablanca`).
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietHoursView>,
    /// Up to 3 areas of interest for service notices.
    #[serde(default)]
    pub areas: Vec<AreaOfInterestView>,
}

/// A device's push registration (the token itself is never shown back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushRegistrationView {
    pub channel: String,
    pub language: String,
    pub time_zone: String,
    pub quiet_hours: Option<QuietHoursView>,
    pub areas: Vec<AreaOfInterestView>,
    /// False once the push service said the token is gone: register again.
    pub active: bool,
    pub deactivated_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// The key browsers need to subscribe (`applicationServerKey`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebPushKeyView {
    /// base64url P-256 public key, or null when Web Push is not configured.
    pub public_key: Option<String>,
}

/// Whether the calling device follows a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FollowView {
    pub report_id: Uuid,
    pub following: bool,
}

/// A notice's words in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeTextView {
    /// At most 120 characters.
    pub title: String,
    /// At most 2000 characters.
    pub body: String,
}

/// Body of `POST /api/v1/notices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNoticeRequest {
    /// `planned_interruption`, `collection_delay`, `diversion` or `other`.
    pub kind: String,
    /// Services concerned (at least one).
    pub service_codes: Vec<String>,
    /// GeoJSON geometry: a Polygon or MultiPolygon, or a Point with `radius_m`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub area: Value,
    #[serde(default)]
    pub radius_m: Option<f64>,
    /// Default: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_from: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_until: OffsetDateTime,
    /// By language code; the jurisdiction's default language is required.
    pub texts: BTreeMap<String, NoticeTextView>,
    /// Takes over the reception-area screens near it until it ends or staff clear the flag
    /// (`DELETE /api/v1/notices/{id}/urgent`). Default false.
    #[serde(default)]
    pub urgent: bool,
}

/// A service notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NoticeView {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub kind: String,
    pub service_codes: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub area: Value,
    pub radius_m: Option<f64>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_until: OffsetDateTime,
    /// Title and body in the language asked for (`Accept-Language`), else the default.
    pub title: String,
    pub body: String,
    pub language: String,
    pub texts: BTreeMap<String, NoticeTextView>,
    /// `commune` or `operator`.
    pub publisher: String,
    pub operator_id: Option<Uuid>,
    /// Metres from the point asked about (0 inside the area), in `GET /api/v1/notices`.
    pub distance_m: Option<f64>,
    pub withdrawn: bool,
    /// Takes over the reception-area screens near it.
    #[serde(default)]
    pub urgent: bool,
}

/// Answer to `GET /api/v1/notices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NoticeList {
    pub notices: Vec<NoticeView>,
}
