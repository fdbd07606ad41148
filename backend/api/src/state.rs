//! What every request handler shares: the store, the catalog snapshot, settings.

use crate::catalog::Catalog;
use balagh_store::{Store, StoreError};
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Tunables of the resident API.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Radius of "is it already reported?" look-ups, in metres.
    pub nearby_radius_m: f64,
    /// How far back those look-ups go, in days.
    pub nearby_window_days: u32,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before a 503.
    pub request_timeout: Duration,
    /// Days a resident has to reopen a resolved report.
    pub reopen_window_days: u32,
    /// Days after which an unanswered resolved report closes by itself.
    pub auto_close_days: u32,
    /// How long a web session lasts.
    pub session_lifetime: time::Duration,
    /// Mark the session cookie `Secure` (behind HTTPS, as in production).
    pub secure_cookies: bool,
    /// Photos: limits, URL lifetimes, processing concurrency.
    pub photos: PhotoSettings,
    /// The VAPID public key browsers subscribe with, when Web Push is configured.
    pub web_push_public_key: Option<String>,
    /// Per-address and per-device request rates, and the proxies trusted to name the
    /// client (off by default; `balagh serve` turns them on).
    pub rate_limits: crate::limits::RateLimits,
    /// Public statistics: thresholds, publication lag, licence, differential privacy.
    pub stats: crate::stats::StatsSettings,
    /// What URLs chosen by others (webhooks, Web Push endpoints) may point to; production
    /// rules by default (https, public addresses only).
    pub outbound: balagh_outbound::PolicyResolver,
    /// New devices and "me too" per client address, and the optional proof of work (off by
    /// default; `balagh serve` turns the limits on).
    pub devices: crate::abuse::DeviceLimits,
    /// `[screens]`: what reception-area screens show besides their own data, and how often
    /// they poll.
    pub screens: crate::web::screen::ScreensConfig,
    /// `[sms]`: the SMS conversation's limits and the defaults of new gateways.
    pub sms: crate::sms::SmsSettings,
    /// Map tiles of the resident web app's map (`https://…/{z}/{x}/{y}.png`); without one
    /// the app offers only the position, the gazetteer and bus stops.
    pub resident_map_tile_url: Option<String>,
    /// Map tiles of the pages (`{z}`, `{x}`, `{y}` in the URL); the pages' CSP allows its
    /// host for images.
    pub map_tile_url: String,
}

/// OpenStreetMap's public tiles (fine for a commune's few agents; a busy deployment
/// points `[map] tile_url` at its own tile server).
pub const DEFAULT_MAP_TILE_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

/// How photos are taken in and shown.
#[derive(Debug, Clone)]
pub struct PhotoSettings {
    /// Bytes and pixels a photo may have.
    pub limits: balagh_media::PhotoLimits,
    /// Lifetime of an upload URL.
    pub upload_url_ttl: Duration,
    /// Lifetime of the URLs of renditions handed out with a report.
    pub view_url_ttl: Duration,
    /// Photos processed at once (each takes a core and up to ~60 MB for 12 MP).
    pub max_concurrent: usize,
    /// Uploads not confirmed within this time (and drafts never attached) are deleted.
    pub unconfirmed_ttl: Duration,
    /// Base of the URLs this server signs for the local directory (e.g.
    /// `https://balagh.example.ma`); by default the request's `Host`.
    pub public_base_url: Option<String>,
}

impl Default for PhotoSettings {
    fn default() -> Self {
        Self {
            limits: balagh_media::PhotoLimits::default(),
            upload_url_ttl: Duration::from_secs(15 * 60),
            view_url_ttl: Duration::from_secs(10 * 60),
            max_concurrent: std::thread::available_parallelism().map_or(2, usize::from),
            unconfirmed_ttl: Duration::from_secs(24 * 3600),
            public_base_url: None,
        }
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            nearby_radius_m: 250.0,
            nearby_window_days: 30,
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            reopen_window_days: 14,
            auto_close_days: 7,
            session_lifetime: time::Duration::hours(12),
            secure_cookies: false,
            photos: PhotoSettings::default(),
            web_push_public_key: None,
            rate_limits: crate::limits::RateLimits::default(),
            stats: crate::stats::StatsSettings::default(),
            outbound: balagh_outbound::PolicyResolver::system(Default::default()),
            devices: crate::abuse::DeviceLimits::default(),
            screens: crate::web::screen::ScreensConfig::default(),
            sms: crate::sms::SmsSettings::default(),
            resident_map_tile_url: None,
            map_tile_url: DEFAULT_MAP_TILE_URL.to_owned(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    /// For reads that tolerate the read replicas' bounded staleness (the primary's store
    /// when there are none).
    stale_reads: Arc<dyn Store>,
    catalog: RwLock<Arc<Catalog>>,
    settings: ApiSettings,
    metrics: Option<PrometheusHandle>,
    devices: DeviceCache,
    photos: crate::photos::PhotoStorage,
    /// Bounds photos processed at once, so uploads cannot exhaust the cores or memory.
    processing: Arc<tokio::sync::Semaphore>,
    /// The key of residents' pseudonymous labels (loaded from the database on first use).
    resident_label_key: tokio::sync::OnceCell<Vec<u8>>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Catalog,
        settings: ApiSettings,
        metrics: Option<PrometheusHandle>,
        photos: crate::photos::PhotoStorage,
    ) -> Self {
        let processing = Arc::new(tokio::sync::Semaphore::new(
            settings.photos.max_concurrent.max(1),
        ));
        Self(Arc::new(Inner {
            stale_reads: store.clone(),
            store,
            catalog: RwLock::new(Arc::new(catalog)),
            settings,
            metrics,
            devices: DeviceCache::default(),
            photos,
            processing,
            resident_label_key: tokio::sync::OnceCell::new(),
        }))
    }

    /// The key residents' pseudonymous labels are derived with, shared by every replica.
    pub(crate) async fn resident_label_key(&self) -> Result<&[u8], StoreError> {
        self.0
            .resident_label_key
            .get_or_try_init(|| async {
                let fresh: [u8; 32] = rand::random();
                self.store().server_key("resident-labels", &fresh).await
            })
            .await
            .map(Vec::as_slice)
    }

    /// Where photos are stored, and the signer of this server's URLs.
    pub fn photos(&self) -> &crate::photos::PhotoStorage {
        &self.0.photos
    }

    pub(crate) fn processing(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.0.processing
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// The store for public reads that tolerate `database.max_replica_lag_seconds` of
    /// staleness: statistics and open data, notices, screens, Open311 reads, dashboards.
    /// Writes through it still reach the primary; what a client must read back at once
    /// (its own report, a queue it just changed) uses [`AppState::store`].
    pub fn stale_reads(&self) -> &dyn Store {
        self.0.stale_reads.as_ref()
    }

    /// Routes the stale-tolerant reads to `store` (before the state is shared).
    pub fn with_stale_reads(mut self, store: Arc<dyn Store>) -> Self {
        Arc::get_mut(&mut self.0)
            .expect("with_stale_reads is called before the state is shared")
            .stale_reads = store;
        self
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.0.settings
    }

    pub fn metrics(&self) -> Option<&PrometheusHandle> {
        self.0.metrics.as_ref()
    }

    pub(crate) fn devices(&self) -> &DeviceCache {
        &self.0.devices
    }

    /// The current catalog snapshot (cheap: an `Arc` clone).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.0.catalog.read().expect("catalog lock").clone()
    }

    /// Reloads the catalog if the database says it changed; returns whether it did.
    pub async fn refresh_catalog(&self) -> Result<bool, StoreError> {
        let current = self.catalog().revision();
        if self.store().catalog_revision().await? == current {
            return Ok(false);
        }
        let fresh = Catalog::load(self.store()).await?;
        tracing::info!(revision = fresh.revision(), "catalog reloaded");
        *self.0.catalog.write().expect("catalog lock") = Arc::new(fresh);
        Ok(true)
    }

    /// Keeps the catalog in step with the database (zones imported by another process or
    /// replica) until the returned task is aborted.
    pub fn spawn_catalog_refresher(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = state.refresh_catalog().await {
                    tracing::warn!(%error, "catalog refresh failed; keeping the previous one");
                }
            }
        })
    }
}

/// Recently seen device tokens, so that most requests skip a database round trip.
/// Devices are never deleted, so a cached entry cannot grant access it no longer has;
/// entries still expire so memory stays bounded.
#[derive(Debug, Default)]
pub(crate) struct DeviceCache {
    entries: Mutex<HashMap<Vec<u8>, (Uuid, Instant)>>,
}

const DEVICE_CACHE_TTL: Duration = Duration::from_secs(300);
const DEVICE_CACHE_MAX: usize = 100_000;

impl DeviceCache {
    pub(crate) async fn authenticate(
        &self,
        store: &dyn Store,
        token_hash: &[u8],
    ) -> Result<Option<Uuid>, StoreError> {
        let now = Instant::now();
        if let Some((id, seen)) = self.entries.lock().expect("cache lock").get(token_hash)
            && now.duration_since(*seen) < DEVICE_CACHE_TTL
        {
            return Ok(Some(*id));
        }
        let found = store.device_by_token_hash(token_hash).await?;
        if let Some(id) = found {
            let mut entries = self.entries.lock().expect("cache lock");
            if entries.len() >= DEVICE_CACHE_MAX {
                entries.retain(|_, (_, seen)| now.duration_since(*seen) < DEVICE_CACHE_TTL);
                if entries.len() >= DEVICE_CACHE_MAX {
                    entries.clear();
                }
            }
            entries.insert(token_hash.to_vec(), (id, now));
        }
        Ok(found)
    }
}
