//! `[database]` read replicas: streaming replicas of the PostgreSQL primary that serve the
//! reads which tolerate a bounded staleness (see `docs/SCALING.md`).

use crate::config::{DatabaseFileConfig, DatabaseUrl};
use std::time::Duration;

/// Default bound on a replica's replay lag for it to serve reads.
pub const DEFAULT_MAX_REPLICA_LAG_SECONDS: f64 = 5.0;
/// Default interval between lag measurements.
pub const DEFAULT_REPLICA_CHECK_SECONDS: f64 = 1.0;

/// The replicas and their staleness bound, resolved from all layers.
#[derive(Debug, Clone)]
pub struct ReplicaConfig {
    pub urls: Vec<DatabaseUrl>,
    pub max_lag: Duration,
    pub check_interval: Duration,
}

impl ReplicaConfig {
    /// What the store needs (pool size per replica as for the primary).
    pub fn store_settings(&self, max_connections: u32) -> balagh_store_postgres::ReplicaSettings {
        balagh_store_postgres::ReplicaSettings {
            urls: self.urls.iter().map(|u| u.expose().to_owned()).collect(),
            max_lag: self.max_lag,
            check_interval: self.check_interval,
            max_connections,
        }
    }
}

/// Replicas from the flags/environment (which win) or the file; none configured → `None`.
pub fn resolve(
    from_args: &[DatabaseUrl],
    file: &DatabaseFileConfig,
    primary: &DatabaseUrl,
) -> Result<Option<ReplicaConfig>, String> {
    let urls = if from_args.is_empty() {
        file.replica_urls.clone()
    } else {
        from_args.to_vec()
    };
    if urls.is_empty() {
        return Ok(None);
    }
    let postgres = |u: &DatabaseUrl| {
        matches!(
            balagh_store::Backend::from_url(u.expose()),
            Some(balagh_store::Backend::Postgres)
        )
    };
    if !postgres(primary) {
        return Err("database.replica_urls: read replicas need a PostgreSQL primary".into());
    }
    if let Some(url) = urls.iter().find(|u| !postgres(u)) {
        return Err(format!(
            "database.replica_urls: {url} is not a postgres:// URL"
        ));
    }
    let seconds = |name: &str, v: Option<f64>, default: f64, max: f64| match v {
        None => Ok(Duration::from_secs_f64(default)),
        Some(s) if s.is_finite() && s > 0.0 && s <= max => Ok(Duration::from_secs_f64(s)),
        Some(_) => Err(format!(
            "database.{name}: more than 0 and at most {max} seconds"
        )),
    };
    Ok(Some(ReplicaConfig {
        urls,
        max_lag: seconds(
            "max_replica_lag_seconds",
            file.max_replica_lag_seconds,
            DEFAULT_MAX_REPLICA_LAG_SECONDS,
            86_400.0,
        )?,
        check_interval: seconds(
            "replica_check_seconds",
            file.replica_check_seconds,
            DEFAULT_REPLICA_CHECK_SECONDS,
            60.0,
        )?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> DatabaseUrl {
        s.parse().unwrap()
    }

    #[test]
    fn none_without_replicas_and_flags_win_over_the_file() {
        let primary = url("postgres://db/balagh");
        let mut file = DatabaseFileConfig::default();
        assert!(resolve(&[], &file, &primary).unwrap().is_none());
        file.replica_urls = vec![url("postgres://file-replica/balagh")];
        let from_file = resolve(&[], &file, &primary).unwrap().unwrap();
        assert_eq!(from_file.urls, vec![url("postgres://file-replica/balagh")]);
        assert_eq!(from_file.max_lag, Duration::from_secs(5));
        let flags = [url("postgres://flag-replica/balagh")];
        let from_flags = resolve(&flags, &file, &primary).unwrap().unwrap();
        assert_eq!(from_flags.urls, flags.to_vec());
    }

    #[test]
    fn refuses_sqlite_and_bad_bounds() {
        let mut file = DatabaseFileConfig {
            replica_urls: vec![url("postgres://replica/balagh")],
            ..Default::default()
        };
        let sqlite = url("sqlite://./data/balagh.sqlite3");
        assert!(resolve(&[], &file, &sqlite).is_err());
        let primary = url("postgres://db/balagh");
        file.max_replica_lag_seconds = Some(0.0);
        assert!(resolve(&[], &file, &primary).is_err());
        file.max_replica_lag_seconds = Some(2.5);
        file.replica_check_seconds = Some(f64::NAN);
        assert!(resolve(&[], &file, &primary).is_err());
        file.replica_check_seconds = None;
        let ok = resolve(&[], &file, &primary).unwrap().unwrap();
        assert_eq!(ok.max_lag, Duration::from_millis(2500));
        file.replica_urls.push(url("sqlite://x.sqlite3"));
        assert!(resolve(&[], &file, &primary).is_err());
    }
}
