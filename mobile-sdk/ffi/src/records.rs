//! The records, enums and the error the bindings expose. Each doc comment here becomes the
//! KDoc / Swift doc / Python docstring of the generated code
//! (`mobile-sdk/tests/kotlin/check_kdoc.py` fails when a public item has none).

use crate::convert::problem_details;
use balagh_sdk as sdk;
use std::collections::HashMap;
use std::time::SystemTime;

// ------------------------------------------------------------------------------- errors

/// One field the server found wrong.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FieldError {
    /// The request field, e.g. `description` or `service_code`.
    pub field: String,
    /// What is wrong with it, in the server's words (the request's language).
    pub message: String,
}

/// Why a call failed. Each variant's text field is `reason` (not `message`, which Kotlin
/// exceptions already have).
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum BalaghError {
    /// The server could not be reached, or is busy or failing. Queued reports are kept
    /// and retried; show "will be sent when you are back online".
    #[error("network: {reason}")]
    Network {
        /// What went wrong (connection refused, timeout, 503…), for logs; not for residents.
        reason: String,
    },
    /// The server refused the request; these are its problem details (RFC 9457).
    #[error("rejected ({status}): {title}")]
    Rejected {
        /// HTTP status, e.g. 404, 409, 422.
        status: u16,
        /// Stable identifier, e.g. `urn:balagh:problem:validation-failed`.
        problem_type: String,
        /// Short summary of the problem, e.g. `Validation failed`.
        title: String,
        /// Explanation of this occurrence, when the server gave one.
        detail: Option<String>,
        /// The wrong fields, when the request was invalid.
        field_errors: Vec<FieldError>,
    },
    /// The server no longer accepts this installation's device token.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// A description, for logs.
        reason: String,
    },
    /// The SDK's local storage could not be read or written.
    #[error("storage: {reason}")]
    Storage {
        /// The storage error (disk full, unreadable file…), for logs.
        reason: String,
    },
    /// An argument the SDK cannot use (unreadable photo, malformed id or URL).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// Which argument and why, for logs and developers.
        reason: String,
    },
}

impl From<sdk::SdkError> for BalaghError {
    fn from(error: sdk::SdkError) -> Self {
        match error {
            sdk::SdkError::Network(reason) => Self::Network { reason },
            sdk::SdkError::Rejected(problem) => {
                let p = problem_details(problem);
                Self::Rejected {
                    status: p.status,
                    problem_type: p.problem_type,
                    title: p.title,
                    detail: p.detail,
                    field_errors: p.field_errors,
                }
            }
            error @ sdk::SdkError::Unauthorized => Self::Unauthorized {
                reason: error.to_string(),
            },
            sdk::SdkError::Storage(reason) => Self::Storage { reason },
            sdk::SdkError::InvalidInput(reason) => Self::InvalidInput { reason },
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, BalaghError>;

/// The server's reasons for refusing a queued report.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProblemDetails {
    /// HTTP status the server answered, e.g. 422.
    pub status: u16,
    /// Stable identifier, e.g. `urn:balagh:problem:validation-failed`.
    pub problem_type: String,
    /// Short summary of the problem.
    pub title: String,
    /// Explanation of this occurrence, when the server gave one.
    pub detail: Option<String>,
    /// The wrong fields, when the report was invalid.
    pub field_errors: Vec<FieldError>,
}

// ------------------------------------------------------------------------------- services

/// A choice of a list attribute.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AttributeChoice {
    /// What to send (`AttributeInput.Text` or one of `AttributeInput.Choices`).
    pub key: String,
    /// What to show, in the client's locale.
    pub name: String,
}

/// An extra question a service asks (bus line, pole number…).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ServiceAttribute {
    /// The key of the answer in `NewReport.attributes`, e.g. `bus_line`.
    pub code: String,
    /// `string`, `number`, `datetime`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: String,
    /// True when a report of this service must answer it.
    pub required: bool,
    /// The question, in the client's locale.
    pub description: String,
    /// The allowed answers of a list attribute (empty otherwise).
    pub choices: Vec<AttributeChoice>,
    /// Display order, smallest first.
    pub order: u32,
}

/// A service residents can report about, named in the client's locale.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Service {
    /// What to pass as `service_code`, e.g. `waste_bin_overflow`.
    pub code: String,
    /// The service group's code: `waste`, `lighting`, `transport` or one the commune
    /// added (e.g. `parks`).
    pub group: String,
    /// The group's name in the client's locale (empty from servers older than groups as
    /// data).
    pub group_name: String,
    /// Name in the client's locale.
    pub name: String,
    /// One-sentence description in the client's locale.
    pub description: String,
    /// Search words in the client's locale.
    pub keywords: Vec<String>,
    /// Extra questions, by `order`.
    pub attributes: Vec<ServiceAttribute>,
}

/// The services of the commune.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ServiceCatalog {
    /// The commune's identifier.
    pub jurisdiction_id: String,
    /// The language the names are in (`fr`, `ar` or `en`).
    pub language: String,
    /// Every service residents can report about.
    pub services: Vec<Service>,
    /// True when the server could not be reached and this is the saved copy.
    pub offline: bool,
}

// ------------------------------------------------------------------------------- reports

/// An answer to one of the service's extra questions.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum AttributeInput {
    /// Free text, a date-time (RFC 3339) or a single choice's key.
    Text {
        /// The text, date-time or choice key.
        value: String,
    },
    /// A number (for `number` attributes).
    Number {
        /// The number.
        value: f64,
    },
    /// The keys of a multiple choice.
    Choices {
        /// Keys from `ServiceAttribute.choices`.
        keys: Vec<String>,
    },
}

/// A photo for a report. It is shrunk on the phone (≤ 2048 px JPEG, no metadata) when the
/// report is queued.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum PhotoSource {
    /// A readable file path (JPEG, PNG or WebP; convert HEIC to JPEG first).
    File {
        /// Absolute path of the image file.
        path: String,
    },
    /// The encoded image.
    Bytes {
        /// The image file's bytes.
        data: Vec<u8>,
    },
}

/// What the resident reports.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewReport {
    /// A code from `services()`.
    pub service_code: String,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Accuracy of the position fix, in metres.
    pub accuracy_m: Option<f64>,
    /// What is wrong, 1–4000 characters.
    pub description: String,
    /// Answers to the service's extra questions, by attribute code.
    pub attributes: HashMap<String, AttributeInput>,
    /// The photos, shrunk on the phone when the report is queued.
    pub photos: Vec<PhotoSource>,
}

/// An open report near the resident, to offer "me too".
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NearbyReport {
    /// Server id of the report, for `support` and `follow`.
    pub id: String,
    /// Short public reference, e.g. `TET-7KQ2M9XD`.
    pub reference: String,
    /// The service reported.
    pub service_code: String,
    /// Public status, e.g. `new` or `acknowledged`.
    pub status: String,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Metres from the point asked about.
    pub distance_m: f64,
    /// What its reporter wrote.
    pub description: String,
    /// How many residents said "me too".
    pub supporters: i64,
    /// When it was reported.
    pub created_at: SystemTime,
}

/// Answer of `check_nearby`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NearbyCheck {
    /// How far the server looked, in metres.
    pub radius_m: f64,
    /// How many days back the server looked.
    pub window_days: u32,
    /// Nearest first; empty when nothing similar is open nearby.
    pub reports: Vec<NearbyReport>,
}

/// Answer of "me too".
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Support {
    /// How many residents said "me too", this one included.
    pub supporters: i64,
    /// True when this device had already said "me too".
    pub already_supported: bool,
}

/// Where a queued report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum QueueState {
    /// Waiting to be sent, or to be retried.
    Pending,
    /// On the server (see `report_id`).
    Sent,
    /// Refused by the server (see `problem`); not retried. Fix and submit again, or
    /// discard it.
    Rejected,
}

/// A report in the local queue.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QueuedReport {
    /// The id `submit_report` returned.
    pub local_id: String,
    /// Pending, sent or rejected.
    pub state: QueueState,
    /// The service reported.
    pub service_code: String,
    /// What the resident wrote.
    pub description: String,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Photos queued with it (already shrunk).
    pub photo_count: u32,
    /// Sending attempts so far.
    pub attempts: u32,
    /// When it is retried, while pending after a failed attempt.
    pub next_attempt_at: Option<SystemTime>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// The server's reasons, when `Rejected`.
    pub problem: Option<ProblemDetails>,
    /// Server id, once `Sent`.
    pub report_id: Option<String>,
    /// Short public reference, once `Sent`.
    pub reference: Option<String>,
    /// When the resident submitted it.
    pub created_at: SystemTime,
}

/// What one flush did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlushResult {
    /// Reports the server accepted in this flush.
    pub sent: u32,
    /// Reports the server refused in this flush (see `QueuedReport.problem`).
    pub rejected: u32,
    /// Reports still waiting.
    pub pending: u32,
    /// When the next retry falls due, if any report waits.
    pub next_attempt_at: Option<SystemTime>,
    /// Why it stopped early (offline, server busy), if it did.
    pub error: Option<String>,
}

/// One entry of a report's public history.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HistoryEntry {
    /// `created`, `routed`, `acknowledged`, `resolved`, `reopened`…
    pub kind: String,
    /// When it happened.
    pub at: SystemTime,
    /// The event's details as JSON (a note, the new status…).
    pub data_json: String,
}

/// A photo of a report behind short-lived URLs.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ReportPhoto {
    /// Server id of the photo.
    pub id: String,
    /// Longest side ≤ 2048 px.
    pub url: String,
    /// Longest side ≤ 400 px.
    pub thumbnail_url: String,
    /// Width of `url`'s image in pixels.
    pub width: u32,
    /// Height of `url`'s image in pixels.
    pub height: u32,
    /// `report` (the resident's) or `evidence` (the operator's fix).
    pub purpose: String,
    /// When `url` and `thumbnail_url` stop working: fetch the report again after.
    pub urls_expire_at: SystemTime,
}

/// One of the resident's reports.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Report {
    /// Server id, for `report`, `follow`, `confirm_fixed`…
    pub id: String,
    /// Short public reference, e.g. `TET-7KQ2M9XD`.
    pub reference: String,
    /// The local id it was queued under, if sent from this installation.
    pub local_id: Option<String>,
    /// The service reported.
    pub service_code: String,
    /// `new`, `unrouted`, `acknowledged`, `in_progress`, `paused`, `resolved`, `closed`,
    /// `rejected`, `duplicate` or `reopened`.
    pub status: String,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// The operator handling it (absent while the commune triages it).
    pub operator_name: Option<String>,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// What the resident wrote.
    pub description: String,
    /// How many other residents said "me too".
    pub supporters: i64,
    /// When the server received it.
    pub created_at: SystemTime,
    /// Last public change.
    pub updated_at: SystemTime,
    /// Oldest first; empty until the report was synced once.
    pub history: Vec<HistoryEntry>,
    /// The resident's photos and the operator's evidence of the fix.
    pub photos: Vec<ReportPhoto>,
}

/// Whether this device follows a report.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FollowState {
    /// The report.
    pub report_id: String,
    /// True when this device now follows it.
    pub following: bool,
}

// ------------------------------------------------------------------------------- push

/// Where pushes go.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum PushTarget {
    /// A Firebase Cloud Messaging registration token.
    Fcm {
        /// The token `FirebaseMessaging.getInstance().token` gave the app.
        token: String,
    },
    /// A Web Push subscription (`PushSubscription.toJSON()`).
    WebPush {
        /// The push service URL of the subscription.
        endpoint: String,
        /// The subscription's `keys.p256dh` (base64url).
        p256dh: String,
        /// The subscription's `keys.auth` (base64url).
        auth: String,
    },
}

/// A daily window (device's local time) during which pushes wait.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QuietHours {
    /// `HH:MM`, e.g. `22:00`.
    pub start: String,
    /// `HH:MM`, e.g. `07:00`.
    pub end: String,
}

/// A place the resident wants service notices about.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Area {
    /// Latitude of the centre, WGS84 degrees.
    pub lat: f64,
    /// Longitude of the centre, WGS84 degrees.
    pub lon: f64,
    /// 50 to 20,000 metres.
    pub radius_m: f64,
}

/// Push settings to register.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PushSettings {
    /// The FCM token or Web Push subscription.
    pub target: PushTarget,
    /// IANA time zone for quiet hours; the commune's when absent.
    pub time_zone: Option<String>,
    /// When pushes wait (none when absent).
    pub quiet_hours: Option<QuietHours>,
    /// Up to 3 areas.
    pub areas: Vec<Area>,
}

/// The device's push registration as the server has it (the token is never shown back).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PushRegistration {
    /// `fcm` or `web_push`.
    pub channel: String,
    /// The language pushes are worded in (`fr`, `ar` or `en`).
    pub language: String,
    /// IANA time zone of the quiet hours.
    pub time_zone: String,
    /// When pushes wait, if set.
    pub quiet_hours: Option<QuietHours>,
    /// Places notices are pushed about.
    pub areas: Vec<Area>,
    /// False once the push service said the token is gone: register again.
    pub active: bool,
    /// Why it is no longer active, if so.
    pub deactivated_reason: Option<String>,
}

/// A service notice: planned interruption, collection delay, diversion.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Notice {
    /// Server id of the notice.
    pub id: String,
    /// `planned_interruption`, `collection_delay`, `diversion` or `other`.
    pub kind: String,
    /// Services concerned (empty: all).
    pub service_codes: Vec<String>,
    /// Headline, in `language`.
    pub title: String,
    /// Text, in `language`.
    pub body: String,
    /// The language of `title` and `body`.
    pub language: String,
    /// From when the notice applies.
    pub valid_from: SystemTime,
    /// Until when the notice applies.
    pub valid_until: SystemTime,
    /// Metres from the point asked about (0 inside the area).
    pub distance_m: Option<f64>,
    /// `commune` or `operator`.
    pub publisher: String,
}
