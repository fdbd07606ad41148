//! # Balagh SDK core
//!
//! The offline-first client behind the Balagh resident apps, as plain async Rust (the
//! Kotlin/Swift/Python bindings are a thin UniFFI layer over it, in `balagh-sdk-ffi`).
//!
//! - [`Client::new`] needs the server's base URL, a directory the SDK owns (its SQLite file
//!   `balagh-sdk.sqlite3` and queued photos live there) and the resident's locale.
//! - The device registers itself once (`POST /api/v1/devices`) and keeps its token in that
//!   store.
//! - [`Client::submit_report`] returns a local id at once: the report waits in a durable
//!   queue with an idempotency key fixed at submit time, and [`Client::flush`] (or the
//!   background loop of [`Client::start_background_sync`]) sends it, with exponential
//!   backoff, across restarts. The server answers a repeated key with the first report, so
//!   a report is never created twice, even when the app dies between the server's answer
//!   and the local bookkeeping.
//! - Photos are shrunk on the phone (upright, ≤ 2048 px, JPEG, no metadata) when the
//!   report is queued, then sent through the upload-slot flow; each confirmed photo id is
//!   stored before the report is created.
//!
//! The JSON shapes are `balagh-wire`'s, the same types the server serializes.

mod error;
mod http;
mod store;

pub use balagh_wire::{
    AreaOfInterestView, EventView, FieldProblem, FollowView, NearbyList, NearbyReport,
    NewReportRequest, NoticeList, NoticeView, PhotoView, Problem, PushRegistrationView,
    QuietHoursView, ReportView, ServiceList, ServiceView, SupportResult,
};
pub use error::{Result, SdkError};

use balagh_wire::{
    DeviceRegistration, MyReportsPage, PushRegistrationRequest, RatingRequest, ReopenRequest,
    ReplyRequest, UploadSlotView, WebPushKeys, WebPushSubscription,
};
use http::{Api, check, read_json, send, send_json};
use reqwest::{Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use store::{OutboxRow, PhotoRow, Slot, Store};
use time::OffsetDateTime;
use uuid::Uuid;

/// Longest side of a photo after shrinking on the phone, in pixels.
pub const PHOTO_MAX_SIDE: u32 = balagh_media::DEFAULT_UPLOAD_MAX_SIDE;
/// First retry delay of a queued report; it doubles at each failure.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// Longest delay between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(3600);
/// How long the background loop sleeps when nothing is queued.
const IDLE_WAKE: Duration = Duration::from_secs(300);
/// Upload slots this close to expiry are not used any more.
const SLOT_MARGIN_MS: i64 = 60_000;
const QUEUE_DIR: &str = "outbox";

/// Languages the server speaks; pushes are worded in one of them.
const PUSH_LANGUAGES: [&str; 3] = ["fr", "ar", "en"];

/// A photo to attach to a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoInput {
    /// A file the app can read (JPEG, PNG or WebP; convert HEIC first).
    File(PathBuf),
    /// The encoded image itself.
    Bytes(Vec<u8>),
}

/// What the resident is reporting.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDraft {
    /// A service code from [`Client::services`], e.g. `waste_bin_overflow`.
    pub service_code: String,
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy of the position fix, in metres.
    pub accuracy_m: Option<f64>,
    /// What is wrong, 1–4000 characters.
    pub description: String,
    /// Answers to the service's extra questions, by attribute code.
    pub attributes: Map<String, Value>,
    pub photos: Vec<PhotoInput>,
}

/// Where a queued report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    /// Waiting to be sent (or to be retried).
    Pending,
    /// On the server: see `report_id` and `reference`.
    Sent,
    /// Refused by the server (see `problem`); it will not be retried.
    Rejected,
}

/// A report in the local queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedReport {
    pub local_id: String,
    pub state: QueueState,
    /// What will be (or was) sent, without the photo ids.
    pub request: NewReportRequest,
    pub photo_count: u32,
    pub attempts: u32,
    /// When the next attempt is due (pending reports only).
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// The server's reasons, for a rejected report.
    pub problem: Option<Problem>,
    pub report_id: Option<Uuid>,
    pub reference: Option<String>,
    pub created_at: OffsetDateTime,
}

/// What one [`Client::flush`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlushSummary {
    /// Reports the server now has (created or, after a lost answer, found again).
    pub sent: u32,
    /// Reports refused by the server during this flush.
    pub rejected: u32,
    /// Reports still waiting.
    pub pending: u32,
    /// Earliest next attempt among the waiting reports.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the flush stopped early (the network is down, the server is busy…).
    pub error: Option<String>,
}

/// The services, possibly from the local cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Services {
    pub list: ServiceList,
    /// True when the server could not be reached and this is the cached copy.
    pub offline: bool,
}

/// One of the resident's own reports as last synced.
#[derive(Debug, Clone, PartialEq)]
pub struct MyReport {
    pub report: ReportView,
    /// The local id it was queued under, when it was sent from this installation.
    pub local_id: Option<String>,
}

/// Where pushes go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum PushChannel {
    /// Firebase Cloud Messaging (Android, and iOS through FCM).
    Fcm { token: String },
    /// A browser's Web Push subscription.
    WebPush {
        endpoint: String,
        p256dh: String,
        auth: String,
    },
}

/// A push registration; the language follows the client's locale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushSettings {
    pub channel: PushChannel,
    /// IANA time zone for quiet hours (server default `Africa/Casablanca`).
    pub time_zone: Option<String>,
    pub quiet_hours: Option<QuietHoursView>,
    /// Up to 3 places for service notices.
    pub areas: Vec<AreaOfInterestView>,
}

/// Called with the local id of a report the server just accepted.
#[doc(hidden)]
pub type AfterPostHook = Arc<dyn Fn(&str) + Send + Sync>;

/// The SDK client. Cheap to clone; clones share the store, the queue and the HTTP pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.api.url(""))
            .field("storage_dir", &self.inner.storage_dir)
            .finish_non_exhaustive()
    }
}

struct Inner {
    api: Api,
    storage_dir: PathBuf,
    store: tokio::sync::OnceCell<Store>,
    locale: RwLock<String>,
    flush_lock: tokio::sync::Mutex<()>,
    device_lock: tokio::sync::Mutex<()>,
    wake: Arc<tokio::sync::Notify>,
    background: AtomicBool,
    after_report_post: Mutex<Option<AfterPostHook>>,
}

fn now_ms() -> i64 {
    ms(OffsetDateTime::now_utc())
}

fn ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Delay before attempt number `attempts + 1`: 5 s doubling, at most an hour, ±20 %.
fn backoff(attempts: u32) -> Duration {
    let base = FIRST_RETRY
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
        .min(MAX_RETRY);
    let jitter = (Uuid::new_v4().as_u128() % 401) as f64 / 1000.0 - 0.2;
    base.mul_f64(1.0 + jitter)
}

fn normalize_locale(locale: &str) -> String {
    let trimmed = locale.trim();
    if trimmed.is_empty() {
        "fr".to_owned()
    } else {
        trimmed.replace('_', "-")
    }
}

fn push_language(locale: &str) -> String {
    let primary = locale
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if PUSH_LANGUAGES.contains(&primary.as_str()) {
        primary
    } else {
        "fr".to_owned()
    }
}

fn parse_uuid(raw: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| SdkError::InvalidInput(format!("{what} {raw:?} is not a UUID")))
}

impl Client {
    /// A client for the server at `base_url` (e.g. `https://balagh.tetouan.ma`), keeping its
    /// state in `storage_dir` (created if missing; use the app's private files directory),
    /// speaking `locale` (`fr`, `ar`, `en`, or a tag such as `ar-MA`).
    ///
    /// Nothing is sent yet: the device registers itself on the first call that needs it.
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] for a malformed URL, [`SdkError::Storage`] when the
    /// directory cannot be created.
    pub fn new(base_url: &str, storage_dir: impl AsRef<Path>, locale: &str) -> Result<Self> {
        let api = Api::new(base_url)?;
        let storage_dir = storage_dir.as_ref().to_path_buf();
        std::fs::create_dir_all(storage_dir.join(QUEUE_DIR))?;
        Ok(Self {
            inner: Arc::new(Inner {
                api,
                storage_dir,
                store: tokio::sync::OnceCell::new(),
                locale: RwLock::new(normalize_locale(locale)),
                flush_lock: tokio::sync::Mutex::new(()),
                device_lock: tokio::sync::Mutex::new(()),
                wake: Arc::new(tokio::sync::Notify::new()),
                background: AtomicBool::new(false),
                after_report_post: Mutex::new(None),
            }),
        })
    }

    async fn store(&self) -> Result<&Store> {
        self.inner
            .store
            .get_or_try_init(|| async {
                let store = Store::open(&self.inner.storage_dir).await?;
                // A locale changed while the app was closed re-words the pushes.
                let locale = self.locale();
                if store.setting(store::LOCALE).await?.as_deref() != Some(locale.as_str()) {
                    store.set_setting(store::LOCALE, &locale).await?;
                    if store.setting(store::PUSH_SETTINGS).await?.is_some() {
                        store.set_setting(store::PUSH_DIRTY, "1").await?;
                    }
                }
                Ok(store)
            })
            .await
    }

    /// The locale requests are made in.
    #[must_use]
    pub fn locale(&self) -> String {
        self.inner
            .locale
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    // ---------------------------------------------------------------- device

    /// The device's id, once registered.
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn device_id(&self) -> Result<Option<Uuid>> {
        let id = self.store().await?.setting(store::DEVICE_ID).await?;
        Ok(id.and_then(|id| Uuid::parse_str(&id).ok()))
    }

    /// Registers this installation with the server if it is not yet, and returns its id.
    /// Done once: the token is kept in the SDK's store.
    ///
    /// # Errors
    /// [`SdkError::Network`] when offline, [`SdkError::Storage`].
    pub async fn register_device(&self) -> Result<Uuid> {
        self.token().await?;
        self.device_id()
            .await?
            .ok_or_else(|| SdkError::Storage("device id missing after registration".into()))
    }

    async fn token(&self) -> Result<String> {
        let store = self.store().await?;
        if let Some(token) = store.setting(store::DEVICE_TOKEN).await? {
            return Ok(token);
        }
        let _guard = self.inner.device_lock.lock().await;
        if let Some(token) = store.setting(store::DEVICE_TOKEN).await? {
            return Ok(token);
        }
        let registration: DeviceRegistration =
            send_json(self.request(Method::POST, "/api/v1/devices", None)).await?;
        store
            .set_device(&registration.device_id.to_string(), &registration.token)
            .await?;
        tracing::info!(device = %registration.device_id, "device registered");
        Ok(registration.token)
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        self.inner.api.request(method, path, token, &self.locale())
    }

    async fn authed(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder> {
        let token = self.token().await?;
        Ok(self.request(method, path, Some(&token)))
    }

    // ---------------------------------------------------------------- locale

    /// Changes the locale: service names, notices and pushes follow it. A push
    /// registration is re-sent with the new language (at the next flush when offline).
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn set_locale(&self, locale: &str) -> Result<()> {
        let locale = normalize_locale(locale);
        match self.inner.locale.write() {
            Ok(mut current) => *current = locale.clone(),
            Err(poisoned) => *poisoned.into_inner() = locale.clone(),
        }
        let store = self.store().await?;
        store.set_setting(store::LOCALE, &locale).await?;
        if store.setting(store::PUSH_SETTINGS).await?.is_some() {
            store.set_setting(store::PUSH_DIRTY, "1").await?;
            self.inner.wake.notify_one();
            if let Err(error) = self.resend_push_if_dirty().await {
                tracing::info!(%error, "push language will be updated later");
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- services

    /// The services residents can report about, in the client's locale. Revalidated with
    /// the cached `ETag` (`If-None-Match`); when the server cannot be reached the cached
    /// copy is returned with `offline = true`.
    ///
    /// # Errors
    /// [`SdkError::Network`] when offline with nothing cached.
    pub async fn services(&self) -> Result<Services> {
        let store = self.store().await?;
        let locale = self.locale();
        let cached = store.cached_services(&locale).await?;
        let mut request = self.request(Method::GET, "/api/v1/services", None);
        if let Some((_, Some(etag))) = &cached {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        match send(request).await {
            Ok(response) if response.status() == StatusCode::NOT_MODIFIED => {
                if let Some((body, _)) = cached {
                    return Ok(Services {
                        list: serde_json::from_str(&body)?,
                        offline: false,
                    });
                }
                Err(SdkError::Network("304 without a cached copy".into()))
            }
            Ok(response) => {
                let etag = response
                    .headers()
                    .get(header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let list: ServiceList = read_json(response).await?;
                store
                    .cache_services(
                        &locale,
                        &serde_json::to_string(&list)?,
                        etag.as_deref(),
                        now_ms(),
                    )
                    .await?;
                Ok(Services {
                    list,
                    offline: false,
                })
            }
            Err(SdkError::Network(message)) => match cached {
                Some((body, _)) => Ok(Services {
                    list: serde_json::from_str(&body)?,
                    offline: true,
                }),
                None => Err(SdkError::Network(message)),
            },
            Err(other) => Err(other),
        }
    }

    // ---------------------------------------------------------------- before submitting

    /// Open reports of this service near the point (the server's radius, 250 m by
    /// default, from the last 30 days), nearest first: offer "me too"
    /// ([`Client::support`]) instead of a duplicate.
    ///
    /// # Errors
    /// [`SdkError::Network`] offline; [`SdkError::Rejected`] for a point outside the
    /// commune or an unknown service.
    pub async fn nearby_reports(
        &self,
        lat: f64,
        lon: f64,
        service_code: &str,
    ) -> Result<NearbyList> {
        let path = Api::with_query(
            "/api/v1/reports/nearby",
            &[
                ("lat", lat.to_string()),
                ("lon", lon.to_string()),
                ("service_code", service_code.to_owned()),
            ],
        );
        send_json(self.authed(Method::GET, &path).await?).await
    }

    /// "Me too": supports someone else's report (once per device) and follows it.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (409) for one's own report, [`SdkError::Network`].
    pub async fn support(&self, report_id: &str) -> Result<SupportResult> {
        let id = parse_uuid(report_id, "report id")?;
        let path = format!("/api/v1/reports/{id}/support");
        let result = send_json(self.authed(Method::POST, &path).await?).await?;
        self.store()
            .await?
            .set_following(&id.to_string(), true, now_ms())
            .await?;
        Ok(result)
    }

    // ---------------------------------------------------------------- the queue

    /// Queues a report and returns its local id at once; nothing waits for the network.
    /// Photos are shrunk now (upright, ≤ 2048 px, JPEG, metadata removed) and kept with
    /// the queued report, so the originals may be deleted afterwards.
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] for an unreadable photo or an empty description,
    /// [`SdkError::Storage`].
    pub async fn submit_report(&self, draft: ReportDraft) -> Result<String> {
        if !draft.lat.is_finite()
            || !draft.lon.is_finite()
            || !(-90.0..=90.0).contains(&draft.lat)
            || !(-180.0..=180.0).contains(&draft.lon)
        {
            return Err(SdkError::InvalidInput(
                "lat/lon must be WGS84 degrees".into(),
            ));
        }
        if draft.description.trim().is_empty() {
            return Err(SdkError::InvalidInput("the description is empty".into()));
        }
        if draft.service_code.trim().is_empty() {
            return Err(SdkError::InvalidInput("no service code".into()));
        }
        let store = self.store().await?;
        let local_id = Uuid::now_v7().to_string();
        let mut files = Vec::new();
        for (position, photo) in draft.photos.into_iter().enumerate() {
            let bytes = match photo {
                PhotoInput::Bytes(bytes) => bytes,
                PhotoInput::File(path) => tokio::fs::read(&path).await.map_err(|e| {
                    SdkError::InvalidInput(format!("photo {}: {e}", path.display()))
                })?,
            };
            let jpeg = shrink_photo(bytes).await?;
            let file = format!("{QUEUE_DIR}/{local_id}-{position}.jpg");
            let path = self.inner.storage_dir.join(&file);
            tokio::fs::write(&path, &jpeg).await?;
            tokio::fs::File::open(&path).await?.sync_all().await?;
            files.push(file);
        }
        let request = NewReportRequest {
            service_code: draft.service_code.trim().to_owned(),
            lat: draft.lat,
            lon: draft.lon,
            description: draft.description,
            attributes: (!draft.attributes.is_empty()).then_some(draft.attributes),
            accuracy_m: draft.accuracy_m,
            photos: None,
        };
        let key = Uuid::new_v4().to_string();
        store
            .enqueue(
                &local_id,
                &key,
                &serde_json::to_string(&request)?,
                &files,
                now_ms(),
            )
            .await?;
        self.inner.wake.notify_one();
        Ok(local_id)
    }

    /// Reports not on the server yet: pending and rejected ones, oldest first.
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn queued_reports(&self) -> Result<Vec<QueuedReport>> {
        let store = self.store().await?;
        let mut out = Vec::new();
        for row in store.queued(false).await? {
            out.push(self.queued_view(store, row).await?);
        }
        Ok(out)
    }

    /// One queued report by local id, also once sent.
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn queued_report(&self, local_id: &str) -> Result<Option<QueuedReport>> {
        let store = self.store().await?;
        match store.queued_one(local_id).await? {
            Some(row) => Ok(Some(self.queued_view(store, row).await?)),
            None => Ok(None),
        }
    }

    async fn queued_view(&self, store: &Store, row: OutboxRow) -> Result<QueuedReport> {
        let photos = store.photos(&row.local_id).await?;
        let state = match row.state.as_str() {
            "sent" => QueueState::Sent,
            "rejected" => QueueState::Rejected,
            _ => QueueState::Pending,
        };
        Ok(QueuedReport {
            request: serde_json::from_str(&row.body)?,
            photo_count: u32::try_from(photos.len()).unwrap_or(u32::MAX),
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            next_attempt_at: (state == QueueState::Pending).then(|| from_ms(row.next_attempt_at)),
            last_error: row.last_error,
            problem: row
                .problem
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
            report_id: row
                .report_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok()),
            reference: row.reference,
            created_at: from_ms(row.created_at),
            local_id: row.local_id,
            state,
        })
    }

    /// Drops a queued report that is not on the server (a rejected one, or one the
    /// resident cancels), with its photos.
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] for an unknown or already sent report.
    pub async fn discard_queued(&self, local_id: &str) -> Result<()> {
        let _guard = self.inner.flush_lock.lock().await;
        let store = self.store().await?;
        match store.queued_one(local_id).await? {
            Some(row) if row.state != "sent" => {}
            Some(_) => {
                return Err(SdkError::InvalidInput(format!(
                    "{local_id} is already on the server"
                )));
            }
            None => {
                return Err(SdkError::InvalidInput(format!(
                    "no queued report {local_id}"
                )));
            }
        }
        for file in store.discard(local_id).await? {
            let _ = tokio::fs::remove_file(self.inner.storage_dir.join(file)).await;
        }
        Ok(())
    }

    /// Tells the SDK the network is back: every waiting report becomes due, then they
    /// are sent (what [`Client::flush`] returns).
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn retry_now(&self) -> Result<FlushSummary> {
        self.store().await?.make_all_due(now_ms()).await?;
        self.inner.wake.notify_one();
        self.flush().await
    }

    /// Sends every queued report that is due, oldest first, and stops at the first
    /// network failure (the others keep their turn). Failed reports are retried after 5 s,
    /// 10 s, 20 s… (at most an hour apart). One flush at a time per client.
    ///
    /// # Errors
    /// [`SdkError::Storage`] only: network trouble is reported in
    /// [`FlushSummary::error`].
    pub async fn flush(&self) -> Result<FlushSummary> {
        let _guard = self.inner.flush_lock.lock().await;
        let store = self.store().await?;
        let mut summary = FlushSummary::default();
        if let Err(error) = self.resend_push_if_dirty().await
            && error.is_transient()
        {
            summary.error = Some(error.to_string());
        }
        for row in store.due(now_ms()).await? {
            let attempts = row.attempts.saturating_add(1);
            match self.send_queued(store, &row, attempts).await {
                Ok(()) => summary.sent += 1,
                Err(SdkError::Rejected(problem)) => {
                    tracing::warn!(local_id = %row.local_id, kind = %problem.kind, "report rejected");
                    store
                        .reject(&row.local_id, attempts, &serde_json::to_string(&problem)?)
                        .await?;
                    summary.rejected += 1;
                }
                Err(error @ (SdkError::Network(_) | SdkError::Unauthorized)) => {
                    let delay = backoff(u32::try_from(attempts).unwrap_or(u32::MAX));
                    let next = now_ms()
                        .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                    store
                        .retry_later(&row.local_id, attempts, next, &error.to_string())
                        .await?;
                    summary.error = Some(error.to_string());
                    break;
                }
                Err(other) => return Err(other),
            }
        }
        summary.pending = u32::try_from(
            store
                .queued(false)
                .await?
                .iter()
                .filter(|r| r.state == "pending")
                .count(),
        )
        .unwrap_or(u32::MAX);
        summary.next_attempt_at = store.next_due_at().await?.map(from_ms);
        Ok(summary)
    }

    /// Sends one queued report: its photos first (each confirmed id stored before going
    /// on), then the report with its fixed idempotency key.
    async fn send_queued(&self, store: &Store, row: &OutboxRow, attempts: i64) -> Result<()> {
        let token = self.token().await?;
        let mut body: NewReportRequest = serde_json::from_str(&row.body)?;
        let mut photo_ids = Vec::new();
        for photo in store.photos(&row.local_id).await? {
            if photo.refused.is_some() {
                continue;
            }
            if let Some(id) = self
                .upload_photo(store, &token, &row.local_id, photo)
                .await?
            {
                photo_ids.push(id);
            }
        }
        body.photos = (!photo_ids.is_empty()).then_some(photo_ids);
        let request = self
            .request(Method::POST, "/api/v1/reports", Some(&token))
            .header("Idempotency-Key", &row.idempotency_key)
            .json(&body);
        let response = match send(request).await {
            Ok(response) => response,
            Err(SdkError::Rejected(problem))
                if problem.status == 422 && problem.errors.iter().any(|e| e.field == "photos") =>
            {
                // A draft photo expired on the server (a day offline between upload and
                // report): upload again rather than lose the report.
                store.reset_photos(&row.local_id).await?;
                return Err(SdkError::Network(format!(
                    "photos must be uploaded again: {}",
                    problem.detail.unwrap_or(problem.title)
                )));
            }
            Err(other) => return Err(other),
        };
        let replayed = response.headers().contains_key("idempotent-replayed");
        let report: ReportView = read_json(response).await?;
        tracing::info!(local_id = %row.local_id, report = %report.id, replayed, "report sent");
        let hook = self
            .inner
            .after_report_post
            .lock()
            .ok()
            .and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook(&row.local_id);
        }
        store
            .mark_sent(&row.local_id, attempts, &report, now_ms())
            .await?;
        for photo in store.photos(&row.local_id).await? {
            let _ = tokio::fs::remove_file(self.inner.storage_dir.join(&photo.file)).await;
        }
        Ok(())
    }

    /// Uploads one photo through a draft upload slot and returns its confirmed id, or
    /// `None` when the server refuses this photo (the report then goes without it).
    async fn upload_photo(
        &self,
        store: &Store,
        token: &str,
        local_id: &str,
        photo: PhotoRow,
    ) -> Result<Option<Uuid>> {
        if let Some(id) = photo
            .photo_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
        {
            return Ok(Some(id));
        }
        let bytes = match tokio::fs::read(self.inner.storage_dir.join(&photo.file)).await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, local_id, "queued photo file missing; sending without it");
                store
                    .set_photo_refused(local_id, photo.position, "photo file missing")
                    .await?;
                return Ok(None);
            }
        };
        let mut slot = match (
            &photo.slot_id,
            &photo.upload_url,
            &photo.confirm_url,
            photo.slot_expires_at,
        ) {
            (Some(id), Some(upload_url), Some(confirm_url), Some(expires_at))
                if expires_at > now_ms() + SLOT_MARGIN_MS =>
            {
                Some(Slot {
                    id: id.clone(),
                    upload_url: upload_url.clone(),
                    confirm_url: confirm_url.clone(),
                    expires_at,
                })
            }
            _ => None,
        };
        let mut uploaded = slot.is_some() && photo.uploaded;
        for _ in 0..3 {
            let current = match slot.take() {
                Some(slot) => slot,
                None => {
                    let view: UploadSlotView = send_json(self.request(
                        Method::POST,
                        "/api/v1/photos/uploads",
                        Some(token),
                    ))
                    .await?;
                    let fresh = Slot {
                        id: view.photo_id.to_string(),
                        upload_url: view.upload_url,
                        confirm_url: view.confirm_url,
                        expires_at: ms(view.expires_at),
                    };
                    store
                        .set_slot(local_id, photo.position, Some(&fresh))
                        .await?;
                    uploaded = false;
                    fresh
                }
            };
            if !uploaded {
                // The signed URL is the credential: no bearer token (S3 would refuse it).
                let put = self
                    .inner
                    .api
                    .request(Method::PUT, &current.upload_url, None, &self.locale())
                    .header(header::CONTENT_TYPE, "image/jpeg")
                    .body(bytes.clone());
                match send(put).await {
                    Ok(_) => {
                        store.set_uploaded(local_id, photo.position, true).await?;
                    }
                    Err(SdkError::Rejected(problem)) if matches!(problem.status, 403 | 404) => {
                        // Expired or unknown slot (e.g. the server restarted with a new
                        // signing key): ask for a new one.
                        store.set_slot(local_id, photo.position, None).await?;
                        continue;
                    }
                    Err(SdkError::Rejected(problem)) => {
                        store
                            .set_photo_refused(
                                local_id,
                                photo.position,
                                &serde_json::to_string(&problem)?,
                            )
                            .await?;
                        return Ok(None);
                    }
                    Err(other) => return Err(other),
                }
            }
            let confirm = self.request(Method::POST, &current.confirm_url, Some(token));
            match send(confirm).await {
                Ok(response) => {
                    let view: PhotoView = read_json(response).await?;
                    store
                        .set_photo_id(local_id, photo.position, &view.id.to_string())
                        .await?;
                    return Ok(Some(view.id));
                }
                Err(SdkError::Rejected(problem)) if problem.status == 409 => {
                    // Nothing arrived under that slot: upload again.
                    store.set_uploaded(local_id, photo.position, false).await?;
                    uploaded = false;
                    slot = Some(current);
                }
                Err(SdkError::Rejected(problem)) if problem.status == 404 => {
                    store.set_slot(local_id, photo.position, None).await?;
                }
                Err(SdkError::Rejected(problem)) => {
                    store
                        .set_photo_refused(
                            local_id,
                            photo.position,
                            &serde_json::to_string(&problem)?,
                        )
                        .await?;
                    return Ok(None);
                }
                Err(other) => return Err(other),
            }
        }
        Err(SdkError::Network(
            "the photo upload did not go through".into(),
        ))
    }

    /// Sends queued reports in the background for as long as this client (or a clone)
    /// lives: right after each submit, when [`Client::retry_now`] is called, and when a
    /// retry falls due. Must be called inside a Tokio runtime (the bindings do that).
    /// Calling it again does nothing.
    pub fn start_background_sync(&self) {
        if self.inner.background.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let wake = self.inner.wake.clone();
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { break };
                let client = Client { inner };
                let wait = match client.flush().await {
                    Ok(summary) => summary
                        .next_attempt_at
                        .map(|at| {
                            Duration::from_millis(u64::try_from(ms(at) - now_ms()).unwrap_or(0))
                        })
                        .unwrap_or(IDLE_WAKE)
                        .min(IDLE_WAKE),
                    Err(error) => {
                        tracing::warn!(%error, "background sync");
                        IDLE_WAKE
                    }
                };
                drop(client);
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
    }

    #[doc(hidden)]
    /// Test hook: called after the server answered a report's POST and before the queue
    /// records it as sent (where a crash is the worst case for "never sent twice").
    pub fn set_after_report_post_hook(&self, hook: Option<AfterPostHook>) {
        if let Ok(mut slot) = self.inner.after_report_post.lock() {
            *slot = hook;
        }
    }

    /// Closes the local store (the client stays usable: it opens it again on demand only
    /// if it was never opened; call this when the app shuts the SDK down).
    pub async fn close(&self) {
        if let Some(store) = self.inner.store.get() {
            store.close().await;
        }
    }

    // ---------------------------------------------------------------- my reports

    /// The resident's reports as last synced (works offline), newest first.
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn my_reports(&self) -> Result<Vec<MyReport>> {
        let store = self.store().await?;
        let mut out = Vec::new();
        for (body, local_id) in store.my_reports().await? {
            out.push(MyReport {
                report: serde_json::from_str(&body)?,
                local_id,
            });
        }
        Ok(out)
    }

    /// Refreshes every one of the resident's reports (status, history, photos, SLA
    /// clocks) from the server, then returns them as [`Client::my_reports`] does.
    ///
    /// # Errors
    /// [`SdkError::Network`] (what was refreshed before stays refreshed).
    pub async fn sync_my_reports(&self) -> Result<Vec<MyReport>> {
        let store = self.store().await?;
        // The server's list first: reports sent from this device before a reinstall, or
        // from another app sharing the device, are found even if this store never saw them.
        let mut known = store.my_report_ids().await?;
        for id in self.server_report_ids().await? {
            if !known.contains(&id) {
                known.push(id);
            }
        }
        for id in known {
            match self.report(&id).await {
                Ok(_) => {}
                // Gone for this device (staff removed it): keep the last copy.
                Err(SdkError::Rejected(problem)) if problem.status == 404 => {}
                Err(other) => return Err(other),
            }
        }
        self.my_reports().await
    }

    /// Ids of every report this device sent, from the server (`GET /api/v1/me/reports`,
    /// page by page).
    async fn server_report_ids(&self) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/me/reports?limit=100".to_owned();
            if let Some(c) = &cursor {
                path.push_str("&cursor=");
                path.push_str(c);
            }
            let page: MyReportsPage = send_json(self.authed(Method::GET, &path).await?).await?;
            ids.extend(page.reports.iter().map(|r| r.id.to_string()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(ids),
            }
        }
    }

    /// One of the resident's reports, fresh from the server (with history), also cached;
    /// or a report the device follows without having written it, as the public may know
    /// it (`viewer` is `"follower"`; not cached among the resident's own reports).
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (404) when it is neither this device's report nor followed.
    pub async fn report(&self, report_id: &str) -> Result<ReportView> {
        let id = parse_uuid(report_id, "report id")?;
        let view: ReportView = send_json(
            self.authed(Method::GET, &format!("/api/v1/reports/{id}"))
                .await?,
        )
        .await?;
        if view.viewer.is_none() {
            self.store().await?.save_report(&view, now_ms()).await?;
        }
        Ok(view)
    }

    /// Answers the operator's question while the ticket waits for the resident: the
    /// answer goes to the operator and the ticket resumes.
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] for an empty answer, [`SdkError::Rejected`] (409) when
    /// no question waits.
    pub async fn reply_to_operator(&self, report_id: &str, text: &str) -> Result<ReportView> {
        if text.trim().is_empty() {
            return Err(SdkError::InvalidInput("the answer is empty".into()));
        }
        let body = serde_json::to_value(ReplyRequest {
            text: text.to_owned(),
        })?;
        self.report_action(report_id, "reply", Some(body)).await
    }

    async fn report_action(
        &self,
        report_id: &str,
        action: &str,
        body: Option<Value>,
    ) -> Result<ReportView> {
        let id = parse_uuid(report_id, "report id")?;
        let mut request = self
            .authed(Method::POST, &format!("/api/v1/reports/{id}/{action}"))
            .await?;
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await?;
        // The answer has no history: read the report back whole.
        self.report(&id.to_string()).await
    }

    /// The resident confirms the operator's fix: the report closes.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (409) when the report is not resolved.
    pub async fn confirm_fixed(&self, report_id: &str) -> Result<ReportView> {
        self.report_action(report_id, "confirm", None).await
    }

    /// The resident says it is not fixed: reopens a resolved report (within 14 days).
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (409) when not resolved or too late.
    pub async fn reopen(&self, report_id: &str, comment: &str) -> Result<ReportView> {
        let body = serde_json::to_value(ReopenRequest {
            comment: comment.to_owned(),
        })?;
        self.report_action(report_id, "reopen", Some(body)).await
    }

    /// Rates the resolution, 1 (bad) to 5 (excellent).
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] outside 1–5, [`SdkError::Rejected`] (409) before it is
    /// resolved.
    pub async fn rate(
        &self,
        report_id: &str,
        stars: u8,
        comment: Option<String>,
    ) -> Result<ReportView> {
        if !(1..=5).contains(&stars) {
            return Err(SdkError::InvalidInput("stars must be 1 to 5".into()));
        }
        let body = serde_json::to_value(RatingRequest { stars, comment })?;
        self.report_action(report_id, "rating", Some(body)).await
    }

    // ---------------------------------------------------------------- following

    /// Follows a report: a push on each public change.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (404) for an unknown report.
    pub async fn follow(&self, report_id: &str) -> Result<FollowView> {
        self.set_follow(report_id, true).await
    }

    /// Stops following a report (also one's own).
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (404) for an unknown report.
    pub async fn unfollow(&self, report_id: &str) -> Result<FollowView> {
        self.set_follow(report_id, false).await
    }

    async fn set_follow(&self, report_id: &str, follow: bool) -> Result<FollowView> {
        let id = parse_uuid(report_id, "report id")?;
        let method = if follow { Method::PUT } else { Method::DELETE };
        let view: FollowView = send_json(
            self.authed(method, &format!("/api/v1/reports/{id}/follow"))
                .await?,
        )
        .await?;
        self.store()
            .await?
            .set_following(&id.to_string(), view.following, now_ms())
            .await?;
        Ok(view)
    }

    /// Reports followed from this installation (besides the resident's own).
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn followed_reports(&self) -> Result<Vec<Uuid>> {
        Ok(self
            .store()
            .await?
            .followed()
            .await?
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }

    // ---------------------------------------------------------------- push

    /// Registers (or replaces) where this device gets pushes, in the locale's language
    /// (`fr`, `ar`, `en`; others get `fr`). Kept locally and re-sent when the locale
    /// changes.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (422) for a bad token, time zone, quiet hours or area;
    /// [`SdkError::Network`] (the settings are kept and sent at the next flush).
    pub async fn register_push(&self, settings: PushSettings) -> Result<PushRegistrationView> {
        let store = self.store().await?;
        store
            .set_setting(store::PUSH_SETTINGS, &serde_json::to_string(&settings)?)
            .await?;
        store.set_setting(store::PUSH_DIRTY, "1").await?;
        self.put_push(&settings).await
    }

    async fn put_push(&self, settings: &PushSettings) -> Result<PushRegistrationView> {
        let (channel, token, subscription) = match &settings.channel {
            PushChannel::Fcm { token } => ("fcm", Some(token.clone()), None),
            PushChannel::WebPush {
                endpoint,
                p256dh,
                auth,
            } => (
                "web_push",
                None,
                Some(WebPushSubscription {
                    endpoint: endpoint.clone(),
                    keys: WebPushKeys {
                        p256dh: p256dh.clone(),
                        auth: auth.clone(),
                    },
                }),
            ),
        };
        let body = PushRegistrationRequest {
            channel: channel.to_owned(),
            token,
            subscription,
            language: push_language(&self.locale()),
            time_zone: settings.time_zone.clone(),
            quiet_hours: settings.quiet_hours.clone(),
            areas: settings.areas.clone(),
        };
        let result = send_json(
            self.authed(Method::PUT, "/api/v1/devices/me/push")
                .await?
                .json(&body),
        )
        .await;
        let store = self.store().await?;
        match &result {
            Ok(_) => store.delete_setting(store::PUSH_DIRTY).await?,
            // Refused settings are not retried.
            Err(SdkError::Rejected(_)) => {
                store.delete_setting(store::PUSH_DIRTY).await?;
                store.delete_setting(store::PUSH_SETTINGS).await?;
            }
            Err(_) => {}
        }
        result
    }

    async fn resend_push_if_dirty(&self) -> Result<()> {
        let store = self.store().await?;
        if store.setting(store::PUSH_DIRTY).await?.is_none() {
            return Ok(());
        }
        let Some(settings) = store.setting(store::PUSH_SETTINGS).await? else {
            store.delete_setting(store::PUSH_DIRTY).await?;
            return Ok(());
        };
        let settings: PushSettings = serde_json::from_str(&settings)?;
        self.put_push(&settings).await.map(|_| ())
    }

    /// This device's push registration as the server has it (`None`: not registered).
    ///
    /// # Errors
    /// [`SdkError::Network`].
    pub async fn push_registration(&self) -> Result<Option<PushRegistrationView>> {
        match send_json(self.authed(Method::GET, "/api/v1/devices/me/push").await?).await {
            Ok(view) => Ok(Some(view)),
            Err(SdkError::Rejected(problem)) if problem.status == 404 => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Stops all pushes to this device.
    ///
    /// # Errors
    /// [`SdkError::Network`].
    pub async fn unregister_push(&self) -> Result<()> {
        let store = self.store().await?;
        store.delete_setting(store::PUSH_SETTINGS).await?;
        store.delete_setting(store::PUSH_DIRTY).await?;
        let request = self
            .authed(Method::DELETE, "/api/v1/devices/me/push")
            .await?;
        match request.send().await.map_err(http::network) {
            Ok(response) if response.status() == StatusCode::NOT_FOUND => Ok(()),
            Ok(response) => check(response).await.map(|_| ()),
            Err(error) => Err(error),
        }
    }

    // ---------------------------------------------------------------- notices

    /// Active service notices (interruptions, collection delays, diversions) within
    /// `radius_m` (default 1000 m) of a point, nearest first, in the locale's language.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (400) for a bad point or radius, [`SdkError::Network`].
    pub async fn notices_near(
        &self,
        lat: f64,
        lon: f64,
        radius_m: Option<f64>,
        service_code: Option<&str>,
    ) -> Result<NoticeList> {
        let mut pairs = vec![("lat", lat.to_string()), ("lon", lon.to_string())];
        if let Some(radius) = radius_m {
            pairs.push(("radius_m", radius.to_string()));
        }
        if let Some(code) = service_code {
            pairs.push(("service_code", code.to_owned()));
        }
        let path = Api::with_query("/api/v1/notices", &pairs);
        send_json(self.request(Method::GET, &path, None)).await
    }
}

/// Shrinks a photo as the SDK does before queueing it: decoded (JPEG, PNG, WebP), turned
/// upright from its EXIF orientation, fitted within [`PHOTO_MAX_SIDE`] px and re-encoded
/// as JPEG from bare pixels, so no metadata (GPS position, camera) survives.
///
/// # Errors
/// [`SdkError::InvalidInput`] for HEIC, unknown or corrupt images.
pub async fn shrink_photo(bytes: Vec<u8>) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || balagh_media::shrink_for_upload(&bytes, PHOTO_MAX_SIDE))
        .await
        .map_err(|e| SdkError::Storage(format!("photo task: {e}")))?
        .map_err(|e| SdkError::InvalidInput(format!("photo: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_five_seconds_to_an_hour_with_jitter() {
        for _ in 0..50 {
            let first = backoff(1).as_secs_f64();
            assert!((4.0..=6.0).contains(&first), "{first}");
            let fourth = backoff(4).as_secs_f64();
            assert!((32.0..=48.0).contains(&fourth), "{fourth}");
            let late = backoff(40).as_secs_f64();
            assert!((2880.0..=4320.0).contains(&late), "{late}");
        }
    }

    #[test]
    fn pushes_are_worded_in_a_language_the_server_speaks() {
        assert_eq!(push_language("ar-MA"), "ar");
        assert_eq!(push_language("en_GB"), "en");
        assert_eq!(push_language("FR"), "fr");
        assert_eq!(push_language("es"), "fr");
        assert_eq!(normalize_locale("  "), "fr");
        assert_eq!(normalize_locale("ar_MA"), "ar-MA");
    }
}
