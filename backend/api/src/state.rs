//! What every request handler shares: the use cases' context and the HTTP parts.

use balagh_app::photos::PhotoStorage;
use balagh_app::{App, AppSettings, Catalog};
use balagh_store::{Store, StoreError};
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The HTTP side's settings, with the use cases' own ([`AppSettings`]: nearby look-ups,
/// reopen window, auto-close, photos, stats, outbound, SMS), which it holds and reaches
/// through `Deref` (`settings.stats`, `settings.photos`, as the handlers read them).
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The use cases' settings, handed to the [`App`] the state holds.
    pub app: AppSettings,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before a 503.
    pub request_timeout: Duration,
    /// How long a web session lasts.
    pub session_lifetime: time::Duration,
    /// Mark the session cookie `Secure` (behind HTTPS, as in production).
    pub secure_cookies: bool,
    /// The VAPID public key browsers subscribe with, when Web Push is configured.
    pub web_push_public_key: Option<String>,
    /// Per-address and per-device request rates, and the proxies trusted to name the
    /// client (off by default; `balagh serve` turns them on).
    pub rate_limits: crate::limits::RateLimits,
    /// New devices and "me too" per client address, and the optional proof of work (off by
    /// default; `balagh serve` turns the limits on).
    pub devices: crate::abuse::DeviceLimits,
    /// `[screens]`: what reception-area screens show besides their own data, and how often
    /// they poll.
    pub screens: crate::web::screen::ScreensConfig,
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

impl Deref for ApiSettings {
    type Target = AppSettings;

    fn deref(&self) -> &AppSettings {
        &self.app
    }
}

impl DerefMut for ApiSettings {
    fn deref_mut(&mut self) -> &mut AppSettings {
        &mut self.app
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            // The use cases' defaults are theirs.
            app: AppSettings::default(),
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            session_lifetime: time::Duration::hours(12),
            secure_cookies: false,
            web_push_public_key: None,
            rate_limits: crate::limits::RateLimits::default(),
            devices: crate::abuse::DeviceLimits::default(),
            screens: crate::web::screen::ScreensConfig::default(),
            resident_map_tile_url: None,
            map_tile_url: DEFAULT_MAP_TILE_URL.to_owned(),
        }
    }
}

/// What every request handler shares: the use cases' context ([`App`], which handlers
/// reach through `Deref`) and what only HTTP needs.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    app: App,
    settings: ApiSettings,
    metrics: Option<PrometheusHandle>,
    devices: DeviceCache,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Catalog,
        settings: ApiSettings,
        metrics: Option<PrometheusHandle>,
        photos: PhotoStorage,
    ) -> Self {
        let app = App::new(store, catalog, settings.app.clone(), photos);
        Self(Arc::new(Inner {
            app,
            settings,
            metrics,
            devices: DeviceCache::default(),
        }))
    }

    /// The use cases' context.
    pub fn app(&self) -> &App {
        &self.0.app
    }

    /// Routes the stale-tolerant reads to `store` (before the state is shared).
    pub fn with_stale_reads(self, store: Arc<dyn Store>) -> Self {
        let mut inner =
            Arc::try_unwrap(self.0).expect("with_stale_reads is called before the state is shared");
        inner.app = inner.app.with_stale_reads(store);
        Self(Arc::new(inner))
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
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0.app
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
