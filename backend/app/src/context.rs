//! What every use case shares: the store, the catalog snapshot, photo storage, settings.

use crate::catalogue::Catalog;
use crate::photos::PhotoStorage;
use balagh_store::{Store, StoreError};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The settings of the use cases (the HTTP crate keeps its own: limits, sessions, pages).
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Radius of "is it already reported?" look-ups, in metres.
    pub nearby_radius_m: f64,
    /// How far back those look-ups go, in days.
    pub nearby_window_days: u32,
    /// Days a resident has to reopen a resolved report.
    pub reopen_window_days: u32,
    /// Days after which an unanswered resolved report closes by itself.
    pub auto_close_days: u32,
    /// Photos: limits, URL lifetimes, processing concurrency.
    pub photos: PhotoSettings,
    /// Public statistics: thresholds, publication lag, licence, differential privacy.
    pub stats: crate::stats::StatsSettings,
    /// `[sms]`: the conversation's limits and the defaults of new gateways.
    pub sms: crate::sms::SmsSettings,
    /// What URLs chosen by others (webhooks, Web Push endpoints) may point to; production
    /// rules by default (https, public addresses only).
    pub outbound: balagh_outbound::PolicyResolver,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            nearby_radius_m: 250.0,
            nearby_window_days: 30,
            reopen_window_days: 14,
            auto_close_days: 7,
            photos: PhotoSettings::default(),
            stats: crate::stats::StatsSettings::default(),
            sms: crate::sms::SmsSettings::default(),
            outbound: balagh_outbound::PolicyResolver::system(Default::default()),
        }
    }
}

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

/// The use cases' context: cheap to clone (an `Arc`), shared by handlers and workers.
#[derive(Clone, Debug)]
pub struct App(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    /// For reads that tolerate the read replicas' bounded staleness (the primary's store
    /// when there are none).
    stale_reads: Arc<dyn Store>,
    catalog: RwLock<Arc<Catalog>>,
    settings: AppSettings,
    photos: PhotoStorage,
    /// Bounds photos processed at once, so uploads cannot exhaust the cores or memory.
    processing: Arc<tokio::sync::Semaphore>,
    /// The key of residents' pseudonymous labels (loaded from the database on first use).
    resident_label_key: tokio::sync::OnceCell<Vec<u8>>,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Catalog,
        settings: AppSettings,
        photos: PhotoStorage,
    ) -> Self {
        let processing = Arc::new(tokio::sync::Semaphore::new(
            settings.photos.max_concurrent.max(1),
        ));
        Self(Arc::new(Inner {
            stale_reads: store.clone(),
            store,
            catalog: RwLock::new(Arc::new(catalog)),
            settings,
            photos,
            processing,
            resident_label_key: tokio::sync::OnceCell::new(),
        }))
    }

    /// The key residents' pseudonymous labels are derived with, shared by every replica.
    pub async fn resident_label_key(&self) -> Result<&[u8], StoreError> {
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
    pub fn photos(&self) -> &PhotoStorage {
        &self.0.photos
    }

    pub fn processing(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.0.processing
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// The store for public reads that tolerate `database.max_replica_lag_seconds` of
    /// staleness: statistics and open data, notices, screens, Open311 reads, dashboards.
    /// Writes through it still reach the primary; what a client must read back at once
    /// (its own report, a queue it just changed) uses [`App::store`].
    pub fn stale_reads(&self) -> &dyn Store {
        self.0.stale_reads.as_ref()
    }

    /// Routes the stale-tolerant reads to `store` (before the context is shared).
    pub fn with_stale_reads(mut self, store: Arc<dyn Store>) -> Self {
        Arc::get_mut(&mut self.0)
            .expect("with_stale_reads is called before the context is shared")
            .stale_reads = store;
        self
    }

    pub fn settings(&self) -> &AppSettings {
        &self.0.settings
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
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = app.refresh_catalog().await {
                    tracing::warn!(%error, "catalog refresh failed; keeping the previous one");
                }
            }
        })
    }
}
