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
mod push;
mod queue;
mod reports;
mod services;
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
