//! Streaming replicas for reads that tolerate a bounded staleness (public statistics and
//! open data, Open311 reads, notices, screens, dashboards).
//!
//! Each replica's replay lag is measured every `check_interval`; a replica serves reads only
//! while its last measurement was within `max_lag`. When none is fresh (lagging, down,
//! promoted, unreachable), reads go to the primary: a replica can make an answer at most
//! `max_lag + check_interval` old, never wrong for longer, and never unavailable.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use balagh_store::{Result, StoreError};

/// Replay lag in seconds: 0 when the replica has replayed everything it received (an idle
/// primary sends nothing, so the last replayed commit's age says nothing then), else the age
/// of the last commit it replayed. NULL when the server is not a standby (promoted, or
/// misconfigured): reading from it could show another timeline.
const LAG_QUERY: &str = "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL \
     WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
     ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8";

/// Where the replicas are and how stale a read may be.
#[derive(Debug, Clone)]
pub struct ReplicaSettings {
    /// `postgres://` URLs of streaming replicas of the primary.
    pub urls: Vec<String>,
    /// A replica lagging more than this serves no reads.
    pub max_lag: Duration,
    /// How often each replica's lag is measured.
    pub check_interval: Duration,
    /// Pool size per replica.
    pub max_connections: u32,
}

#[derive(Debug)]
struct Replica {
    pool: PgPool,
    /// Host and port, for logs (never the credentials).
    label: String,
    fresh: AtomicBool,
}

/// The replicas and which of them may serve reads now.
#[derive(Debug)]
pub struct ReplicaSet {
    replicas: Vec<Replica>,
    max_lag: Duration,
    /// Round robin among the fresh replicas.
    next: AtomicUsize,
}

impl ReplicaSet {
    /// Connects lazily (a replica down at start-up is simply not fresh). None is fresh until
    /// its lag has been measured once.
    pub fn connect_lazy(settings: &ReplicaSettings) -> Result<Arc<Self>> {
        let replicas = settings
            .urls
            .iter()
            .map(|url| {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Unavailable(format!("invalid replica URL: {e}")))?
                    .application_name("balagh-replica")
                    .options([("jit", "off")]);
                let label = format!("{}:{}", options.get_host(), options.get_port());
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections.max(1))
                    // A replica that does not answer quickly is not worth waiting for: the
                    // primary can serve the read.
                    .acquire_timeout(Duration::from_secs(2))
                    .connect_lazy_with(options);
                Ok(Replica {
                    pool,
                    label,
                    fresh: AtomicBool::new(false),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Self {
            replicas,
            max_lag: settings.max_lag,
            next: AtomicUsize::new(0),
        }))
    }

    /// A replica that may serve a read now, if any.
    pub(crate) fn fresh_pool(&self) -> Option<&PgPool> {
        let count = self.replicas.len();
        if count == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|i| &self.replicas[(start + i) % count])
            .find(|r| r.fresh.load(Ordering::Relaxed))
            .map(|r| &r.pool)
    }

    /// How many replicas may serve reads now.
    pub fn fresh_count(&self) -> usize {
        self.replicas
            .iter()
            .filter(|r| r.fresh.load(Ordering::Relaxed))
            .count()
    }

    /// Measures every replica's lag once and updates which may serve reads.
    pub async fn check(&self) {
        for replica in &self.replicas {
            let lag = match sqlx::query_scalar::<_, Option<f64>>(LAG_QUERY)
                .fetch_one(&replica.pool)
                .await
            {
                Ok(Some(seconds)) => Some(seconds),
                Ok(None) => {
                    tracing::warn!(replica = %replica.label, "not a standby: serves no reads");
                    None
                }
                Err(error) => {
                    tracing::debug!(replica = %replica.label, %error, "replica lag unknown");
                    None
                }
            };
            let fresh = lag.is_some_and(|s| s <= self.max_lag.as_secs_f64());
            let was = replica.fresh.swap(fresh, Ordering::Relaxed);
            if was != fresh {
                tracing::info!(
                    replica = %replica.label,
                    lag_seconds = lag,
                    max_lag_seconds = self.max_lag.as_secs_f64(),
                    "replica {}",
                    if fresh { "serves reads" } else { "serves no reads: reads go to the primary" }
                );
            }
        }
    }

    /// Measures the lag every `interval` until the set is dropped.
    pub fn spawn_monitor(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let set: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(100)));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(set) = set.upgrade() else { return };
                set.check().await;
            }
        })
    }
}
