//! Starting and stopping the HTTP service.

use crate::config::Settings;
use crate::database;
use crate::demo::{DemoData, DemoError};
use balagh_api::AppState;
use balagh_app::Catalog;
use balagh_store::{Store, StoreError};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error(transparent)]
    Photos(#[from] balagh_objects::ObjectsError),
    #[error("push: {0}")]
    Push(#[from] balagh_push::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A bound, ready-to-run service.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    store: Arc<dyn Store>,
    catalog_refresh: std::time::Duration,
    workers: crate::workers::WorkerSettings,
    push: balagh_push::PushClient,
}

impl Application {
    /// Opens and migrates the database, loads the demo data into an empty one (unless told
    /// not to), loads the catalog and binds the listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        let stores = database::open_for_serve(
            &settings.database_url,
            settings.database_max_connections,
            settings.database_replicas.as_ref(),
        )
        .await?;
        let store = stores.primary;
        if settings.demo_data && store.jurisdictions().await?.is_empty() {
            let summary = DemoData::load()?.seed(store.as_ref()).await?;
            tracing::info!(
                operators = summary.operators,
                contracts = summary.contracts,
                "empty database: loaded the Tétouan demo data (synthetic)"
            );
        }
        let catalog = Catalog::load(store.as_ref()).await?;
        if catalog.jurisdictions().is_empty() {
            tracing::warn!(
                "no jurisdiction configured: every report will be refused as outside the area served"
            );
        }
        let objects = balagh_objects::Objects::open(&settings.photo_storage)?;
        tracing::info!(storage = %objects.describe(), "photo storage");
        let signer = match &settings.photo_url_key {
            Some(key) => balagh_objects::UrlSigner::from_secret(key),
            None => balagh_objects::UrlSigner::random(),
        };
        let state = AppState::new(
            store.clone(),
            catalog,
            settings.api.clone(),
            Some(crate::telemetry::metrics_handle()),
            balagh_app::photos::PhotoStorage { objects, signer },
        )
        .with_stale_reads(stores.stale_reads);
        // One outbound policy for every sender: the API's (it checked the URLs when they
        // were configured) is the one deliveries check again.
        let push = balagh_push::PushClient::new(balagh_push::PushSettings {
            outbound: settings.api.outbound.clone(),
            ..settings.push.clone()
        })?;
        tracing::info!(client = ?push, "push senders");
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        Ok(Self {
            listener,
            state,
            store,
            catalog_refresh: settings.catalog_refresh,
            workers: settings.workers.clone(),
            push,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let refresher = self.state.spawn_catalog_refresher(self.catalog_refresh);
        let app = balagh_api::app(self.state.clone());
        let workers = crate::workers::spawn(
            self.state.app().clone(),
            self.workers.clone(),
            self.push.clone(),
        );
        let result = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        refresher.abort();
        workers.stop().await;
        self.store.close().await;
        result
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
