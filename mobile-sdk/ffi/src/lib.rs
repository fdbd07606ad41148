//! UniFFI bindings of the Balagh SDK: a thin layer over `balagh-sdk` for the Kotlin
//! (Android) and Swift (iOS) apps, and Python for the tests.
//!
//! Every method of [`BalaghClient`] is `async` (`suspend` in Kotlin, `async` in Swift and
//! Python) and runs on Tokio. Errors are one small enum, [`BalaghError`].

use balagh_sdk as sdk;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

uniffi::setup_scaffolding!();

// ------------------------------------------------------------------------------- errors

/// One field the server found wrong.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FieldError {
    /// The request field, e.g. `description` or `service_code`.
    pub field: String,
    pub message: String,
}

/// Why a call failed. Each variant's text field is `reason` (not `message`, which Kotlin
/// exceptions already have).
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum BalaghError {
    /// The server could not be reached, or is busy or failing. Queued reports are kept
    /// and retried; show "will be sent when you are back online".
    #[error("network: {reason}")]
    Network { reason: String },
    /// The server refused the request; these are its problem details (RFC 9457).
    #[error("rejected ({status}): {title}")]
    Rejected {
        /// HTTP status, e.g. 404, 409, 422.
        status: u16,
        /// Stable identifier, e.g. `urn:balagh:problem:validation-failed`.
        problem_type: String,
        title: String,
        detail: Option<String>,
        /// The wrong fields, when the request was invalid.
        field_errors: Vec<FieldError>,
    },
    /// The server no longer accepts this installation's device token.
    #[error("unauthorized: {reason}")]
    Unauthorized { reason: String },
    /// The SDK's local storage could not be read or written.
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// An argument the SDK cannot use (unreadable photo, malformed id or URL).
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },
}

fn problem_details(problem: sdk::Problem) -> ProblemDetails {
    ProblemDetails {
        status: problem.status,
        problem_type: problem.kind,
        title: problem.title,
        detail: problem.detail,
        field_errors: problem
            .errors
            .into_iter()
            .map(|e| FieldError {
                field: e.field,
                message: e.message,
            })
            .collect(),
    }
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

type Result<T> = std::result::Result<T, BalaghError>;

/// The server's reasons for refusing a queued report.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProblemDetails {
    pub status: u16,
    pub problem_type: String,
    pub title: String,
    pub detail: Option<String>,
    pub field_errors: Vec<FieldError>,
}

// ------------------------------------------------------------------------------- services

/// A choice of a list attribute.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AttributeChoice {
    pub key: String,
    pub name: String,
}

/// An extra question a service asks (bus line, pole number…).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ServiceAttribute {
    pub code: String,
    /// `string`, `number`, `datetime`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: String,
    pub required: bool,
    pub description: String,
    pub choices: Vec<AttributeChoice>,
    pub order: u32,
}

/// A service residents can report about, named in the client's locale.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Service {
    /// What to pass as `service_code`, e.g. `waste_bin_overflow`.
    pub code: String,
    /// `waste`, `lighting` or `transport`.
    pub group: String,
    pub name: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub attributes: Vec<ServiceAttribute>,
}

/// The services of the commune.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ServiceCatalog {
    pub jurisdiction_id: String,
    /// The language the names are in (`fr`, `ar` or `en`).
    pub language: String,
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
        value: String,
    },
    Number {
        value: f64,
    },
    /// The keys of a multiple choice.
    Choices {
        keys: Vec<String>,
    },
}

/// A photo for a report. It is shrunk on the phone (≤ 2048 px JPEG, no metadata) when the
/// report is queued.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum PhotoSource {
    /// A readable file path (JPEG, PNG or WebP; convert HEIC to JPEG first).
    File { path: String },
    /// The encoded image.
    Bytes { data: Vec<u8> },
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
    pub photos: Vec<PhotoSource>,
}

/// An open report near the resident, to offer "me too".
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NearbyReport {
    pub id: String,
    pub reference: String,
    pub service_code: String,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    /// Metres from the point asked about.
    pub distance_m: f64,
    pub description: String,
    pub supporters: i64,
    pub created_at: SystemTime,
}

/// Answer of `check_nearby`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NearbyCheck {
    pub radius_m: f64,
    pub window_days: u32,
    /// Nearest first; empty when nothing similar is open nearby.
    pub reports: Vec<NearbyReport>,
}

/// Answer of "me too".
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Support {
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
    pub local_id: String,
    pub state: QueueState,
    pub service_code: String,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub photo_count: u32,
    pub attempts: u32,
    pub next_attempt_at: Option<SystemTime>,
    pub last_error: Option<String>,
    pub problem: Option<ProblemDetails>,
    pub report_id: Option<String>,
    pub reference: Option<String>,
    pub created_at: SystemTime,
}

/// What one flush did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlushResult {
    pub sent: u32,
    pub rejected: u32,
    pub pending: u32,
    pub next_attempt_at: Option<SystemTime>,
    /// Why it stopped early (offline, server busy), if it did.
    pub error: Option<String>,
}

/// One entry of a report's public history.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HistoryEntry {
    /// `created`, `routed`, `acknowledged`, `resolved`, `reopened`…
    pub kind: String,
    pub at: SystemTime,
    /// The event's details as JSON (a note, the new status…).
    pub data_json: String,
}

/// A photo of a report behind short-lived URLs.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ReportPhoto {
    pub id: String,
    /// Longest side ≤ 2048 px.
    pub url: String,
    /// Longest side ≤ 400 px.
    pub thumbnail_url: String,
    pub width: u32,
    pub height: u32,
    /// `report` (the resident's) or `evidence` (the operator's fix).
    pub purpose: String,
    pub urls_expire_at: SystemTime,
}

/// One of the resident's reports.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Report {
    pub id: String,
    /// Short public reference, e.g. `TET-7KQ2M9XD`.
    pub reference: String,
    /// The local id it was queued under, if sent from this installation.
    pub local_id: Option<String>,
    pub service_code: String,
    /// `new`, `unrouted`, `acknowledged`, `in_progress`, `paused`, `resolved`, `closed`,
    /// `rejected`, `duplicate` or `reopened`.
    pub status: String,
    pub priority: String,
    /// The operator handling it (absent while the commune triages it).
    pub operator_name: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub description: String,
    pub supporters: i64,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    /// Oldest first; empty until the report was synced once.
    pub history: Vec<HistoryEntry>,
    pub photos: Vec<ReportPhoto>,
}

/// Whether this device follows a report.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FollowState {
    pub report_id: String,
    pub following: bool,
}

// ------------------------------------------------------------------------------- push

/// Where pushes go.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum PushTarget {
    /// A Firebase Cloud Messaging registration token.
    Fcm { token: String },
    /// A Web Push subscription (`PushSubscription.toJSON()`).
    WebPush {
        endpoint: String,
        p256dh: String,
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
    pub lat: f64,
    pub lon: f64,
    /// 50 to 20,000 metres.
    pub radius_m: f64,
}

/// Push settings to register.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PushSettings {
    pub target: PushTarget,
    /// IANA time zone for quiet hours; the commune's when absent.
    pub time_zone: Option<String>,
    pub quiet_hours: Option<QuietHours>,
    /// Up to 3 areas.
    pub areas: Vec<Area>,
}

/// The device's push registration as the server has it (the token is never shown back).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PushRegistration {
    /// `fcm` or `web_push`.
    pub channel: String,
    pub language: String,
    pub time_zone: String,
    pub quiet_hours: Option<QuietHours>,
    pub areas: Vec<Area>,
    /// False once the push service said the token is gone: register again.
    pub active: bool,
    pub deactivated_reason: Option<String>,
}

/// A service notice: planned interruption, collection delay, diversion.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Notice {
    pub id: String,
    /// `planned_interruption`, `collection_delay`, `diversion` or `other`.
    pub kind: String,
    pub service_codes: Vec<String>,
    pub title: String,
    pub body: String,
    /// The language of `title` and `body`.
    pub language: String,
    pub valid_from: SystemTime,
    pub valid_until: SystemTime,
    /// Metres from the point asked about (0 inside the area).
    pub distance_m: Option<f64>,
    /// `commune` or `operator`.
    pub publisher: String,
}

// ------------------------------------------------------------------------------- conversions

fn system_time(at: time::OffsetDateTime) -> SystemTime {
    SystemTime::from(at)
}

fn service(view: sdk::ServiceView) -> Service {
    Service {
        code: view.code,
        group: view.group,
        name: view.name,
        description: view.description,
        keywords: view.keywords,
        attributes: view
            .attributes
            .into_iter()
            .map(|a| ServiceAttribute {
                code: a.code,
                datatype: a.datatype,
                required: a.required,
                description: a.description,
                choices: a
                    .values
                    .into_iter()
                    .map(|v| AttributeChoice {
                        key: v.key,
                        name: v.name,
                    })
                    .collect(),
                order: a.order,
            })
            .collect(),
    }
}

fn attribute_value(input: AttributeInput) -> serde_json::Value {
    match input {
        AttributeInput::Text { value } => serde_json::Value::String(value),
        AttributeInput::Number { value } => serde_json::Number::from_f64(value)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        AttributeInput::Choices { keys } => {
            serde_json::Value::Array(keys.into_iter().map(serde_json::Value::String).collect())
        }
    }
}

fn report(view: sdk::ReportView, local_id: Option<String>) -> Report {
    Report {
        id: view.id.to_string(),
        reference: view.reference,
        local_id,
        service_code: view.service_code,
        status: view.status,
        priority: view.priority,
        operator_name: view.operator.map(|o| o.name),
        lat: view.lat,
        lon: view.lon,
        description: view.description,
        supporters: view.supporters,
        created_at: system_time(view.created_at),
        updated_at: system_time(view.updated_at),
        history: view
            .history
            .unwrap_or_default()
            .into_iter()
            .map(|e| HistoryEntry {
                kind: e.kind,
                at: system_time(e.at),
                data_json: e.data.to_string(),
            })
            .collect(),
        photos: view
            .photos
            .unwrap_or_default()
            .into_iter()
            .map(|p| ReportPhoto {
                id: p.id.to_string(),
                url: p.large.url,
                thumbnail_url: p.thumbnail.url,
                width: p.width,
                height: p.height,
                purpose: p.purpose,
                urls_expire_at: system_time(p.urls_expire_at),
            })
            .collect(),
    }
}

fn queued(q: sdk::QueuedReport) -> QueuedReport {
    QueuedReport {
        local_id: q.local_id,
        state: match q.state {
            sdk::QueueState::Pending => QueueState::Pending,
            sdk::QueueState::Sent => QueueState::Sent,
            sdk::QueueState::Rejected => QueueState::Rejected,
        },
        service_code: q.request.service_code,
        description: q.request.description,
        lat: q.request.lat,
        lon: q.request.lon,
        photo_count: q.photo_count,
        attempts: q.attempts,
        next_attempt_at: q.next_attempt_at.map(system_time),
        last_error: q.last_error,
        problem: q.problem.map(problem_details),
        report_id: q.report_id.map(|id| id.to_string()),
        reference: q.reference,
        created_at: system_time(q.created_at),
    }
}

fn flush_result(s: sdk::FlushSummary) -> FlushResult {
    FlushResult {
        sent: s.sent,
        rejected: s.rejected,
        pending: s.pending,
        next_attempt_at: s.next_attempt_at.map(system_time),
        error: s.error,
    }
}

fn quiet_hours(q: sdk::QuietHoursView) -> QuietHours {
    QuietHours {
        start: q.start,
        end: q.end,
    }
}

fn area(a: sdk::AreaOfInterestView) -> Area {
    Area {
        lat: a.lat,
        lon: a.lon,
        radius_m: a.radius_m,
    }
}

fn push_registration(view: sdk::PushRegistrationView) -> PushRegistration {
    PushRegistration {
        channel: view.channel,
        language: view.language,
        time_zone: view.time_zone,
        quiet_hours: view.quiet_hours.map(quiet_hours),
        areas: view.areas.into_iter().map(area).collect(),
        active: view.active,
        deactivated_reason: view.deactivated_reason,
    }
}

fn notice(view: sdk::NoticeView) -> Notice {
    Notice {
        id: view.id.to_string(),
        kind: view.kind,
        service_codes: view.service_codes,
        title: view.title,
        body: view.body,
        language: view.language,
        valid_from: system_time(view.valid_from),
        valid_until: system_time(view.valid_until),
        distance_m: view.distance_m,
        publisher: view.publisher,
    }
}

// ------------------------------------------------------------------------------- client

/// The Balagh client of a resident's app. Create one per app process and keep it.
///
/// Reports are queued on the phone first (`submit_report` answers at once with a local
/// id) and sent when the network allows, never twice. Call `start_background_sync` once
/// at start-up, and `retry_now` when the platform says the network is back.
#[derive(Debug, uniffi::Object)]
pub struct BalaghClient {
    inner: sdk::Client,
}

#[uniffi::export(async_runtime = "tokio")]
impl BalaghClient {
    /// A client for the server at `base_url` (e.g. `https://balagh.tetouan.ma`) keeping its
    /// data (SQLite store, queued photos) in `storage_dir` (the app's private files
    /// directory), in `locale` (`fr`, `ar`, `en`, or a tag such as `ar-MA`). Nothing is
    /// sent until a call needs it.
    #[uniffi::constructor]
    pub fn new(base_url: String, storage_dir: String, locale: String) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            inner: sdk::Client::new(&base_url, storage_dir, &locale)?,
        }))
    }

    /// Registers this installation with the server (once; the token stays in the SDK's
    /// store) and returns its device id. Other calls do this by themselves when needed.
    pub async fn register_device(&self) -> Result<String> {
        Ok(self.inner.register_device().await?.to_string())
    }

    /// The device id, or null before the first registration.
    pub async fn device_id(&self) -> Result<Option<String>> {
        Ok(self.inner.device_id().await?.map(|id| id.to_string()))
    }

    /// The current locale.
    pub fn locale(&self) -> String {
        self.inner.locale()
    }

    /// Changes the locale (service names, notices, pushes follow).
    pub async fn set_locale(&self, locale: String) -> Result<()> {
        Ok(self.inner.set_locale(&locale).await?)
    }

    /// The services to report about, in the locale; the saved copy (`offline = true`)
    /// when the server cannot be reached.
    pub async fn services(&self) -> Result<ServiceCatalog> {
        let services = self.inner.services().await?;
        Ok(ServiceCatalog {
            jurisdiction_id: services.list.jurisdiction_id,
            language: services.list.language,
            services: services.list.services.into_iter().map(service).collect(),
            offline: services.offline,
        })
    }

    /// Open reports of the same service near the point: show them and offer "me too"
    /// (`support`) before submitting a duplicate.
    pub async fn check_nearby(
        &self,
        lat: f64,
        lon: f64,
        service_code: String,
    ) -> Result<NearbyCheck> {
        let list = self.inner.nearby_reports(lat, lon, &service_code).await?;
        Ok(NearbyCheck {
            radius_m: list.radius_m,
            window_days: list.window_days,
            reports: list
                .reports
                .into_iter()
                .map(|r| NearbyReport {
                    id: r.id.to_string(),
                    reference: r.reference,
                    service_code: r.service_code,
                    status: r.status,
                    lat: r.lat,
                    lon: r.lon,
                    distance_m: r.distance_m,
                    description: r.description,
                    supporters: r.supporters,
                    created_at: system_time(r.created_at),
                })
                .collect(),
        })
    }

    /// "Me too" on someone else's report; the device then follows it.
    pub async fn support(&self, report_id: String) -> Result<Support> {
        let result = self.inner.support(&report_id).await?;
        Ok(Support {
            supporters: result.supporters,
            already_supported: result.already_supported,
        })
    }

    /// Queues a report and returns its local id at once. Photos are shrunk now; the report
    /// is sent (with its photos) when the network allows, never twice.
    pub async fn submit_report(&self, report: NewReport) -> Result<String> {
        let draft = sdk::ReportDraft {
            service_code: report.service_code,
            lat: report.lat,
            lon: report.lon,
            accuracy_m: report.accuracy_m,
            description: report.description,
            attributes: report
                .attributes
                .into_iter()
                .map(|(code, value)| (code, attribute_value(value)))
                .collect(),
            photos: report
                .photos
                .into_iter()
                .map(|p| match p {
                    PhotoSource::File { path } => sdk::PhotoInput::File(path.into()),
                    PhotoSource::Bytes { data } => sdk::PhotoInput::Bytes(data),
                })
                .collect(),
        };
        Ok(self.inner.submit_report(draft).await?)
    }

    /// Reports not on the server yet (pending and rejected), oldest first.
    pub async fn queued_reports(&self) -> Result<Vec<QueuedReport>> {
        Ok(self
            .inner
            .queued_reports()
            .await?
            .into_iter()
            .map(queued)
            .collect())
    }

    /// One queued report by local id (also once sent), or null.
    pub async fn queued_report(&self, local_id: String) -> Result<Option<QueuedReport>> {
        Ok(self.inner.queued_report(&local_id).await?.map(queued))
    }

    /// Removes a queued report that is not on the server (rejected, or cancelled).
    pub async fn discard_queued(&self, local_id: String) -> Result<()> {
        Ok(self.inner.discard_queued(&local_id).await?)
    }

    /// Sends the queued reports that are due. Network trouble is not an error here: see
    /// `FlushResult.error` and `pending`.
    pub async fn flush(&self) -> Result<FlushResult> {
        Ok(flush_result(self.inner.flush().await?))
    }

    /// The network is back: send every queued report now.
    pub async fn retry_now(&self) -> Result<FlushResult> {
        Ok(flush_result(self.inner.retry_now().await?))
    }

    /// Keeps sending queued reports in the background while the process lives (after each
    /// submit, on `retry_now`, when a retry falls due). Idempotent.
    pub async fn start_background_sync(&self) {
        self.inner.start_background_sync();
    }

    /// The resident's reports as last synced (works offline), newest first.
    pub async fn my_reports(&self) -> Result<Vec<Report>> {
        Ok(self
            .inner
            .my_reports()
            .await?
            .into_iter()
            .map(|r| report(r.report, r.local_id))
            .collect())
    }

    /// Refreshes the resident's reports (status, history, photos) from the server.
    pub async fn sync_my_reports(&self) -> Result<Vec<Report>> {
        Ok(self
            .inner
            .sync_my_reports()
            .await?
            .into_iter()
            .map(|r| report(r.report, r.local_id))
            .collect())
    }

    /// One of the resident's reports, fresh from the server.
    pub async fn report(&self, report_id: String) -> Result<Report> {
        Ok(report(self.inner.report(&report_id).await?, None))
    }

    /// Confirms the operator fixed it: the report closes.
    pub async fn confirm_fixed(&self, report_id: String) -> Result<Report> {
        Ok(report(self.inner.confirm_fixed(&report_id).await?, None))
    }

    /// Not fixed after all: reopens a resolved report (within 14 days) with a comment.
    pub async fn reopen(&self, report_id: String, comment: String) -> Result<Report> {
        Ok(report(self.inner.reopen(&report_id, &comment).await?, None))
    }

    /// Rates the resolution from 1 to 5 stars.
    pub async fn rate(
        &self,
        report_id: String,
        stars: u8,
        comment: Option<String>,
    ) -> Result<Report> {
        Ok(report(
            self.inner.rate(&report_id, stars, comment).await?,
            None,
        ))
    }

    /// Follows a report: a push on each public change.
    pub async fn follow(&self, report_id: String) -> Result<FollowState> {
        let view = self.inner.follow(&report_id).await?;
        Ok(FollowState {
            report_id: view.report_id.to_string(),
            following: view.following,
        })
    }

    /// Stops following a report.
    pub async fn unfollow(&self, report_id: String) -> Result<FollowState> {
        let view = self.inner.unfollow(&report_id).await?;
        Ok(FollowState {
            report_id: view.report_id.to_string(),
            following: view.following,
        })
    }

    /// Registers (or replaces) where pushes go, worded in the locale's language.
    pub async fn register_push(&self, settings: PushSettings) -> Result<PushRegistration> {
        let channel = match settings.target {
            PushTarget::Fcm { token } => sdk::PushChannel::Fcm { token },
            PushTarget::WebPush {
                endpoint,
                p256dh,
                auth,
            } => sdk::PushChannel::WebPush {
                endpoint,
                p256dh,
                auth,
            },
        };
        let view = self
            .inner
            .register_push(sdk::PushSettings {
                channel,
                time_zone: settings.time_zone,
                quiet_hours: settings.quiet_hours.map(|q| sdk::QuietHoursView {
                    start: q.start,
                    end: q.end,
                }),
                areas: settings
                    .areas
                    .into_iter()
                    .map(|a| sdk::AreaOfInterestView {
                        lat: a.lat,
                        lon: a.lon,
                        radius_m: a.radius_m,
                    })
                    .collect(),
            })
            .await?;
        Ok(push_registration(view))
    }

    /// The push registration as the server has it, or null.
    pub async fn push_registration(&self) -> Result<Option<PushRegistration>> {
        Ok(self.inner.push_registration().await?.map(push_registration))
    }

    /// Stops all pushes to this device.
    pub async fn unregister_push(&self) -> Result<()> {
        Ok(self.inner.unregister_push().await?)
    }

    /// Active service notices within `radius_m` (default 1000 m) of a point.
    pub async fn notices_near(
        &self,
        lat: f64,
        lon: f64,
        radius_m: Option<f64>,
        service_code: Option<String>,
    ) -> Result<Vec<Notice>> {
        Ok(self
            .inner
            .notices_near(lat, lon, radius_m, service_code.as_deref())
            .await?
            .notices
            .into_iter()
            .map(notice)
            .collect())
    }
}

/// Sends the SDK's logs to standard error (for debugging; `filter` as in `RUST_LOG`, e.g.
/// `balagh_sdk=debug`). Calling it twice does nothing.
#[uniffi::export]
pub fn enable_logging(filter: String) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}
