//! Layered configuration: built-in defaults, then an optional TOML file, then environment
//! variables (`BALAGH_*`), then command-line flags. Secrets never print.

use crate::photos_config::{PhotoArgs, PhotosFileConfig, resolve_photos};
use crate::push_config::{PushArgs, PushFileConfig, resolve_push};
use balagh_api::ApiSettings;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/balagh.sqlite3";
/// PostgreSQL connections per replica. More connections than the database has cores to
/// run them only queue inside PostgreSQL, where waiting is dearer than in the pool.
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// A database URL. Its password is masked whenever it is displayed or debug-printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn masked(&self) -> String {
        // scheme://user:password@host → scheme://user:***@host
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let Some((credentials, host)) = rest.rsplit_once('@') else {
            return mask_query_password(&self.0);
        };
        let user = credentials.split_once(':').map_or(credentials, |(u, _)| u);
        let masked = if credentials.contains(':') {
            format!("{scheme}://{user}:***@{host}")
        } else {
            format!("{scheme}://{credentials}@{host}")
        };
        mask_query_password(&masked)
    }
}

/// `?password=…` is another way to pass a PostgreSQL password.
fn mask_query_password(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if balagh_store::Backend::from_url(s).is_none() {
            return Err("must start with postgres://, postgresql:// or sqlite://".into());
        }
        Ok(Self(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.masked())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The optional TOML file (`--config FILE` or `BALAGH_CONFIG`). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub database_url: Option<DatabaseUrl>,
    pub demo_data: Option<bool>,
    pub log_format: Option<LogFormat>,
    /// Map tiles of the resident web app (`https://…/{z}/{x}/{y}.png`).
    pub map_tile_url: Option<String>,
    #[serde(default)]
    pub database: DatabaseFileConfig,
    #[serde(default)]
    pub nearby: NearbyFileConfig,
    #[serde(default)]
    pub http: HttpFileConfig,
    #[serde(default)]
    pub tickets: TicketsFileConfig,
    #[serde(default)]
    pub photos: PhotosFileConfig,
    #[serde(default)]
    pub push: PushFileConfig,
    #[serde(default)]
    pub stats: StatsFileConfig,
    #[serde(default)]
    pub retention: RetentionFileConfig,
    #[serde(default)]
    pub outbound: OutboundFileConfig,
    #[serde(default)]
    pub devices: DevicesFileConfig,
    #[serde(default)]
    pub screens: ScreensFileConfig,
    #[serde(default)]
    pub map: MapFileConfig,
    #[serde(default)]
    pub sms: SmsFileConfig,
}

/// `[sms]`: the SMS conversation's limits and the defaults of new gateways.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsFileConfig {
    pub max_message_chars: Option<u32>,
    pub per_number_per_hour: Option<u32>,
    pub per_gateway_per_hour: Option<u32>,
    pub signature_tolerance_seconds: Option<u32>,
}

/// `[screens]`: what the reception-area screens show besides their own data.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreensFileConfig {
    /// The number residents send SMS reports to, shown under "how to report".
    pub sms_number: Option<String>,
    /// The counter's opening hours by language code, e.g. `fr = "Lun-Ven 8h30-16h30"`.
    pub counter_hours: Option<std::collections::BTreeMap<String, String>>,
    /// The web app the QR code leads to [default: this server's `/`].
    pub public_url: Option<String>,
    /// Seconds between two polls of a screen [default: 60].
    pub poll_seconds: Option<u64>,
    /// Seconds without fresh data before a screen says so [default: 60].
    pub stale_after_seconds: Option<u64>,
    /// Seconds each panel stays on screen [default: 15].
    pub rotate_seconds: Option<u64>,
    /// Notices within this distance of a screen are shown on it, in metres [default: 2000].
    pub notice_radius_m: Option<f64>,
}

/// `[map]`: the maps of the pages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapFileConfig {
    /// Tile URL with `{z}`, `{x}` and `{y}` [default: OpenStreetMap's public tiles].
    pub tile_url: Option<String>,
}

/// `[devices]`: what keeps device registration from multiplying per-device budgets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesFileConfig {
    /// New devices one client address may register per hour; 0 turns it off [default: 30].
    pub new_per_address_per_hour: Option<u32>,
    /// "Me too" one client address may add to one report per day; 0 turns it off
    /// [default: 5].
    pub supports_per_address_per_report: Option<u32>,
    /// Leading zero bits of the proof of work a registration must carry; 0 asks for none
    /// [default: 0].
    pub proof_of_work_bits: Option<u8>,
}

/// `[outbound]`: where Balagh may send requests to URLs that others chose (operators'
/// webhooks, browsers' Web Push endpoints). By default: https to public addresses only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundFileConfig {
    /// Development only: also allow http:// (and https) to the literal addresses 127.0.0.1
    /// and [::1], where local test receivers listen [default: false].
    pub allow_loopback_http: Option<bool>,
    /// Private networks (CIDR or single address) and host names that receivers inside the
    /// commune's network use; loopback, link-local and unspecified ranges cannot be listed.
    pub allowed_hosts: Option<Vec<String>>,
}

/// `[retention]`: how long residents' personal data stays.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionFileConfig {
    /// Days after which the contact details residents left on a report (name, phone, an
    /// Open311 client's device id) are erased; the report stays, in the statistics too.
    /// 0 keeps them [default: 365].
    pub contact_days: Option<u16>,
    /// Months of report history kept (PostgreSQL drops whole months past it, except months
    /// holding an event of a report still open); at least 12. 0 keeps it all [default: 0].
    pub history_months: Option<u16>,
    /// Days delivered webhooks and pushes stay in the outbox (pending and dead ones stay
    /// until handled). 0 keeps them [default: 90].
    pub outbox_days: Option<u16>,
}

/// `retention.history_months`: `None` keeps the history; otherwise at least a year, far
/// beyond any reopening window.
fn history_retention(file: &RetentionFileConfig) -> Result<Option<u16>, String> {
    match file.history_months.unwrap_or(0) {
        0 => Ok(None),
        months if months < 12 => Err(format!(
            "retention.history_months must be 0 (keep all) or at least 12, not {months}"
        )),
        months => Ok(Some(months)),
    }
}

pub(crate) fn secret_from_env(name: &str) -> Option<balagh_objects::Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(balagh_objects::Secret::new)
}

/// `[stats]`: thresholds, publication lag, licence, roll-up interval and the optional
/// differential-privacy mode (on when `dp_epsilon_per_release` is set).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsFileConfig {
    /// Smallest count published [default: 5].
    pub k: Option<u64>,
    /// Smallest count published for sensitive services [default: 10].
    pub k_sensitive: Option<u64>,
    /// Hours after the end of a day before it is published [default: 48].
    pub lag_hours: Option<u32>,
    /// SPDX identifier of the open-data licence [default: CC-BY-4.0].
    pub licence: Option<String>,
    /// URL of the licence text [default: the CC BY 4.0 deed].
    pub licence_url: Option<String>,
    /// Publisher named in the DCAT catalogue [default: the jurisdiction's name].
    pub publisher: Option<String>,
    /// Seconds between roll-up runs on each replica [default: 120].
    pub rollup_interval_seconds: Option<u64>,
    /// Seconds a server keeps a public answer; 0 disables [default: the roll-up interval].
    pub answer_cache_seconds: Option<u64>,
    /// ε spent by each noisy release, e.g. "0.5"; setting it turns differential privacy on.
    pub dp_epsilon_per_release: Option<String>,
    /// ε budget per calendar month of data [default: 4 × the release's ε].
    pub dp_budget: Option<String>,
    /// Reports counted per reporter and release [default: 5].
    pub dp_contribution_cap: Option<u32>,
    /// Side of the grid public records' points are snapped to, in metres [default: 100].
    pub record_grid_metres: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsFileConfig {
    /// Days a resident may reopen a resolved report.
    pub reopen_window_days: Option<u32>,
    /// Days after which an unanswered resolved report closes.
    pub auto_close_days: Option<u32>,
    /// Seconds between sweeps of SLA clocks (warnings and breaches are raised within this
    /// delay).
    pub sla_sweep_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFileConfig {
    pub max_connections: Option<u32>,
    /// Streaming replicas for reads that tolerate staleness (`replicas_config.rs`).
    #[serde(default)]
    pub replica_urls: Vec<DatabaseUrl>,
    pub max_replica_lag_seconds: Option<f64>,
    pub replica_check_seconds: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearbyFileConfig {
    pub radius_m: Option<f64>,
    pub window_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFileConfig {
    pub max_body_bytes: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    /// Hours a web session lasts.
    pub session_hours: Option<u32>,
    /// Mark the session cookie Secure (set it when serving over HTTPS).
    pub secure_cookies: Option<bool>,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Option<Vec<String>>,
    #[serde(default)]
    pub rate_limits: RateLimitsFileConfig,
}

/// `[http.rate_limits]`: requests one client may make of one replica (0 turns a limit off).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsFileConfig {
    /// Requests per second from one address [default: 300].
    pub per_ip_per_second: Option<f64>,
    /// Requests at once from one address [default: 600].
    pub per_ip_burst: Option<f64>,
    /// Changes per second by one device token [default: 20].
    pub device_writes_per_second: Option<f64>,
    /// Changes at once by one device token [default: 100].
    pub device_writes_burst: Option<f64>,
    /// "Already reported nearby?" look-ups per second by one device token [default: 0.2].
    pub device_lookups_per_second: Option<f64>,
    /// Look-ups at once by one device token [default: 30].
    pub device_lookups_burst: Option<f64>,
}

/// Rate limits and trusted proxies from the file (`balagh serve` defaults otherwise).
pub fn resolve_rate_limits(
    http: &HttpFileConfig,
) -> Result<balagh_api::limits::RateLimits, String> {
    use balagh_api::limits::{Rate, RateLimits};
    let defaults = RateLimits::recommended();
    let file = &http.rate_limits;
    let rate = |per_second: Option<f64>, burst: Option<f64>, default: Option<Rate>, what: &str| {
        let default = default.expect("recommended limits are on");
        let per_second = per_second.unwrap_or(default.per_second);
        let burst = burst.unwrap_or(default.burst);
        if per_second < 0.0 || burst < 0.0 || !per_second.is_finite() || !burst.is_finite() {
            return Err(format!(
                "http.rate_limits.{what}: must be 0 (off) or positive"
            ));
        }
        Ok(Rate::new(per_second, burst))
    };
    Ok(RateLimits {
        per_ip: rate(
            file.per_ip_per_second,
            file.per_ip_burst,
            defaults.per_ip,
            "per_ip_*",
        )?,
        per_device_writes: rate(
            file.device_writes_per_second,
            file.device_writes_burst,
            defaults.per_device_writes,
            "device_writes_*",
        )?,
        per_device_lookups: rate(
            file.device_lookups_per_second,
            file.device_lookups_burst,
            defaults.per_device_lookups,
            "device_lookups_*",
        )?,
        trusted_proxies: http
            .trusted_proxies
            .iter()
            .flatten()
            .map(|p| p.parse().map_err(|e| format!("http.trusted_proxies: {e}")))
            .collect::<Result<_, String>>()?,
    })
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }
}

/// Flags and environment variables shared by every command that opens the database.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: postgres://… (production) or sqlite://PATH (embedded)
    /// [default: sqlite://./data/balagh.sqlite3]
    #[arg(long, env = "BALAGH_DATABASE_URL")]
    pub database_url: Option<DatabaseUrl>,
    /// Optional TOML configuration file (see deploy/balagh.example.toml).
    #[arg(long, env = "BALAGH_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Flags of `balagh serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "BALAGH_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// PostgreSQL streaming replica for reads that tolerate staleness (repeat the flag, or
    /// comma-separated in the environment) [default: none; file: database.replica_urls]
    #[arg(
        long = "database-replica-url",
        env = "BALAGH_DATABASE_REPLICA_URLS",
        value_delimiter = ','
    )]
    pub database_replica_urls: Vec<DatabaseUrl>,
    /// Do not load the Tétouan demo data into an empty database.
    #[arg(long, env = "BALAGH_NO_DEMO")]
    pub no_demo: bool,
    /// Log format [default: text]
    #[arg(long, env = "BALAGH_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(flatten)]
    pub photos: PhotoArgs,
    #[command(flatten)]
    pub push: PushArgs,
}

/// Everything `serve` needs, resolved from all layers.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    pub database_max_connections: u32,
    /// Read replicas and their staleness bound (PostgreSQL only).
    pub database_replicas: Option<crate::replicas_config::ReplicaConfig>,
    /// Load the demo data when the database has no jurisdiction yet.
    pub demo_data: bool,
    pub log_format: LogFormat,
    pub api: ApiSettings,
    /// How often replicas check for catalog changes made elsewhere.
    pub catalog_refresh: Duration,
    /// Background work: webhook deliveries, auto-closing.
    pub workers: crate::workers::WorkerSettings,
    /// Where photos are kept (a directory by default, or S3).
    pub photo_storage: balagh_objects::StorageConfig,
    /// Key of the URLs this server signs for local photo storage (random if unset).
    pub photo_url_key: Option<balagh_objects::Secret>,
    /// How pushes reach residents' devices (logged when nothing is configured).
    pub push: balagh_push::PushSettings,
}

/// The tile URL: http(s), with the `{z}`, `{x}` and `{y}` placeholders.
fn resolve_tile_url(configured: Option<&str>) -> Result<String, String> {
    let Some(url) = configured else {
        return Ok(balagh_api::state::DEFAULT_MAP_TILE_URL.to_owned());
    };
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && ["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p));
    if valid {
        Ok(url.to_owned())
    } else {
        Err("map.tile_url must be an http(s) URL with {z}, {x} and {y}".into())
    }
}

pub fn resolve_database_url(args: &DatabaseArgs, file: &FileConfig) -> DatabaseUrl {
    args.database_url
        .clone()
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| DatabaseUrl(DEFAULT_DATABASE_URL.to_owned()))
}

impl Settings {
    pub fn resolve(args: &ServeArgs) -> Result<Self, String> {
        let file = FileConfig::load(args.database.config.as_deref())?;
        let defaults = ApiSettings::default();
        let (photo_storage, photo_url_key, photo_settings) =
            resolve_photos(&args.photos, &file.photos)?;
        let push = resolve_push(&args.push, &file.push)?;
        let app = balagh_app::AppSettings {
            nearby_radius_m: file.nearby.radius_m.unwrap_or(defaults.nearby_radius_m),
            nearby_window_days: file
                .nearby
                .window_days
                .unwrap_or(defaults.nearby_window_days),
            reopen_window_days: file
                .tickets
                .reopen_window_days
                .unwrap_or(defaults.reopen_window_days),
            auto_close_days: file
                .tickets
                .auto_close_days
                .unwrap_or(defaults.auto_close_days),
            photos: photo_settings,
            stats: crate::stats_config::resolve(&file.stats)?,
            outbound: crate::security_config::outbound(&file.outbound)?,
            sms: crate::sms_config::resolve(&file.sms)?,
        };
        let api = ApiSettings {
            app,
            max_body_bytes: file.http.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            request_timeout: file
                .http
                .request_timeout_seconds
                .map_or(defaults.request_timeout, Duration::from_secs),
            session_lifetime: file
                .http
                .session_hours
                .map_or(defaults.session_lifetime, |h| {
                    time::Duration::hours(h.into())
                }),
            secure_cookies: file.http.secure_cookies.unwrap_or(defaults.secure_cookies),
            web_push_public_key: push
                .web_push
                .as_ref()
                .map(balagh_push::WebPushConfig::public_key_base64url),
            rate_limits: resolve_rate_limits(&file.http)?,
            devices: crate::security_config::devices(&file.devices)?,
            screens: crate::screens_config::resolve(&file.screens)?,
            resident_map_tile_url: match file.map_tile_url.clone() {
                Some(url) if !url.starts_with("https://") => {
                    return Err("map_tile_url must be an https:// URL".into());
                }
                other => other,
            },
            map_tile_url: resolve_tile_url(file.map.tile_url.as_deref())?,
        };
        if !(api.nearby_radius_m > 0.0
            && api.nearby_radius_m <= balagh_domain::NearbySearch::MAX_RADIUS_M)
        {
            return Err("nearby.radius_m must be greater than 0 and at most 2000".into());
        }
        Ok(Self {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default")),
            database_url: resolve_database_url(&args.database, &file),
            database_max_connections: file.database.max_connections.unwrap_or(DEFAULT_POOL_SIZE),
            database_replicas: crate::replicas_config::resolve(
                &args.database_replica_urls,
                &file.database,
                &resolve_database_url(&args.database, &file),
            )?,
            demo_data: !args.no_demo && file.demo_data.unwrap_or(true),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            api,
            catalog_refresh: Duration::from_secs(5),
            workers: crate::workers::WorkerSettings {
                sla_sweep_interval: file.tickets.sla_sweep_seconds.map_or(
                    crate::workers::WorkerSettings::default().sla_sweep_interval,
                    |s| Duration::from_secs(s.max(1)),
                ),
                contact_retention: match file
                    .retention
                    .contact_days
                    .unwrap_or(crate::workers::DEFAULT_CONTACT_RETENTION_DAYS)
                {
                    0 => None,
                    days => Some(time::Duration::days(days.into())),
                },
                history_retention_months: history_retention(&file.retention)?,
                outbox_retention: match file
                    .retention
                    .outbox_days
                    .unwrap_or(crate::workers::DEFAULT_OUTBOX_RETENTION_DAYS)
                {
                    0 => None,
                    days => Some(time::Duration::days(days.into())),
                },
                ..crate::workers::WorkerSettings::default()
            },
            photo_storage,
            photo_url_key,
            push,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_retention_is_all_or_at_least_a_year() {
        let months = |m| {
            history_retention(&RetentionFileConfig {
                contact_days: None,
                history_months: m,
                outbox_days: None,
            })
        };
        assert_eq!(months(None), Ok(None));
        assert_eq!(months(Some(0)), Ok(None));
        assert_eq!(months(Some(12)), Ok(Some(12)));
        assert!(months(Some(11)).unwrap_err().contains("at least 12"));
    }

    #[test]
    fn the_map_tile_url_is_checked() {
        let file: FileConfig =
            toml::from_str("[map]\ntile_url = \"https://{s}.tiles.example/{z}/{x}/{y}.png\"\n")
                .unwrap();
        assert_eq!(
            resolve_tile_url(file.map.tile_url.as_deref()).unwrap(),
            "https://{s}.tiles.example/{z}/{x}/{y}.png"
        );
        assert_eq!(
            resolve_tile_url(None).unwrap(),
            balagh_api::state::DEFAULT_MAP_TILE_URL
        );
        for bad in [
            "https://tiles.example/map.png",
            "ftp://t.example/{z}/{x}/{y}.png",
        ] {
            assert!(resolve_tile_url(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_print() {
        let url: DatabaseUrl = "postgres://balagh:s3cr3t@db:5432/balagh?sslmode=require"
            .parse()
            .unwrap();
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("balagh:***@db:5432"), "{shown}");
        }
        let url: DatabaseUrl = "postgres://db/balagh?user=x&password=hunter2"
            .parse()
            .unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
    }

    #[test]
    fn layers_resolve_in_order() {
        let dir = std::env::temp_dir().join(format!("balagh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("balagh.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndemo_data = false\n[nearby]\nradius_m = 300.0\n",
        )
        .unwrap();
        let args = ServeArgs {
            database: DatabaseArgs {
                database_url: None,
                config: Some(path.clone()),
            },
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            database_replica_urls: Vec::new(),
            no_demo: false,
            log_format: None,
            photos: PhotoArgs::default(),
            push: PushArgs::default(),
        };
        let settings = Settings::resolve(&args).unwrap();
        assert_eq!(settings.listen.port(), 7000, "flag beats file");
        assert!(!settings.demo_data, "file beats default");
        assert_eq!(settings.api.nearby_radius_m, 300.0);
        assert_eq!(settings.database_url.expose(), DEFAULT_DATABASE_URL);

        assert_eq!(
            settings.api.rate_limits,
            balagh_api::limits::RateLimits::recommended(),
            "serve limits rates by default"
        );
        std::fs::write(
            &path,
            "[http]\ntrusted_proxies = [\"10.0.0.0/8\"]\n[http.rate_limits]\nper_ip_per_second = 0\ndevice_writes_burst = 5\n",
        )
        .unwrap();
        let limits = Settings::resolve(&args).unwrap().api.rate_limits;
        assert_eq!(limits.per_ip, None, "0 turns a limit off");
        assert_eq!(limits.per_device_writes.unwrap().burst, 5.0);
        assert!(limits.trusted_proxies[0].contains("10.9.8.7".parse().unwrap()));
        std::fs::write(&path, "[http]\ntrusted_proxies = [\"proxy\"]\n").unwrap();
        assert!(
            Settings::resolve(&args)
                .unwrap_err()
                .contains("trusted_proxies")
        );

        std::fs::write(&path, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let error = Settings::resolve(&args).unwrap_err();
        assert!(error.contains("lisen"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
