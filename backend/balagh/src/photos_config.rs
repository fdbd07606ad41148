//! `[photos]` and its flags: where photos are kept (a directory or S3) and how they are
//! taken in.

use crate::config::secret_from_env;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[photos]`: where photos are kept and how they are taken in.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotosFileConfig {
    /// `local` (a directory, the default) or `s3`.
    pub storage: Option<PhotoStorageKind>,
    /// The directory of `local` storage [default: ./data/photos].
    pub local_dir: Option<PathBuf>,
    /// Largest accepted photo, in bytes [default: 15 MiB].
    pub max_bytes: Option<usize>,
    /// Lifetime of upload URLs, in seconds [default: 900].
    pub upload_url_seconds: Option<u64>,
    /// Lifetime of the URLs of renditions, in seconds [default: 600].
    pub view_url_seconds: Option<u64>,
    /// Unconfirmed uploads and unattached drafts are deleted after this many hours [24].
    pub unconfirmed_hours: Option<u64>,
    /// Photos processed at once [default: the number of cores].
    pub max_concurrent: Option<usize>,
    /// Base of the URLs this server signs for local storage (default: the request's Host).
    pub public_base_url: Option<String>,
    /// Key for the URLs this server signs (local storage); give every replica the same.
    /// Default: a random key per process.
    pub url_signing_key: Option<balagh_objects::Secret>,
    #[serde(default)]
    pub s3: S3FileConfig,
}

/// `[photos.s3]`: an S3-compatible store.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3FileConfig {
    /// e.g. `https://s3.example.com` (default: AWS for the region).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub bucket: Option<String>,
    /// Path-style URLs (`endpoint/bucket/key`); default true when an endpoint is set.
    pub path_style: Option<bool>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<balagh_objects::Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PhotoStorageKind {
    Local,
    S3,
}

/// Photo storage flags and environment variables. The two secrets come from the
/// environment or the file only (`BALAGH_PHOTOS_S3_SECRET_ACCESS_KEY`,
/// `BALAGH_PHOTOS_URL_SIGNING_KEY`), never from flags, which other users can see.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PhotoArgs {
    /// Photo storage: local or s3 [default: local]
    #[arg(long = "photos-storage", env = "BALAGH_PHOTOS_STORAGE", value_enum)]
    pub storage: Option<PhotoStorageKind>,
    /// Directory of local photo storage [default: ./data/photos]
    #[arg(long = "photos-dir", env = "BALAGH_PHOTOS_DIR")]
    pub dir: Option<PathBuf>,
    /// S3 endpoint, e.g. https://s3.example.com
    #[arg(long = "photos-s3-endpoint", env = "BALAGH_PHOTOS_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region [default: us-east-1]
    #[arg(long = "photos-s3-region", env = "BALAGH_PHOTOS_S3_REGION")]
    pub s3_region: Option<String>,
    /// S3 bucket
    #[arg(long = "photos-s3-bucket", env = "BALAGH_PHOTOS_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// Path-style S3 URLs (true/false)
    #[arg(long = "photos-s3-path-style", env = "BALAGH_PHOTOS_S3_PATH_STYLE")]
    pub s3_path_style: Option<bool>,
    /// S3 access key id
    #[arg(
        long = "photos-s3-access-key-id",
        env = "BALAGH_PHOTOS_S3_ACCESS_KEY_ID"
    )]
    pub s3_access_key_id: Option<String>,
}

pub const PHOTOS_S3_SECRET_ENV: &str = "BALAGH_PHOTOS_S3_SECRET_ACCESS_KEY";
pub const PHOTOS_URL_KEY_ENV: &str = "BALAGH_PHOTOS_URL_SIGNING_KEY";

/// Photo storage and settings from all layers.
pub fn resolve_photos(
    args: &PhotoArgs,
    file: &PhotosFileConfig,
) -> Result<
    (
        balagh_objects::StorageConfig,
        Option<balagh_objects::Secret>,
        balagh_app::PhotoSettings,
    ),
    String,
> {
    use balagh_objects::{LocalConfig, S3Config, StorageConfig};
    let storage =
        match args
            .storage
            .or(file.storage)
            .unwrap_or(PhotoStorageKind::Local)
        {
            PhotoStorageKind::Local => StorageConfig::Local(LocalConfig {
                root: args
                    .dir
                    .clone()
                    .or_else(|| file.local_dir.clone())
                    .unwrap_or_else(|| PathBuf::from(balagh_objects::DEFAULT_LOCAL_DIR)),
            }),
            PhotoStorageKind::S3 => {
                let s3 = &file.s3;
                let endpoint = args.s3_endpoint.clone().or_else(|| s3.endpoint.clone());
                let required = |value: Option<String>, what: &str| {
                    value
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| format!("photos.s3.{what} is required for S3 photo storage"))
                };
                StorageConfig::S3(S3Config {
                path_style: args
                    .s3_path_style
                    .or(s3.path_style)
                    .unwrap_or(endpoint.is_some()),
                endpoint,
                region: args
                    .s3_region
                    .clone()
                    .or_else(|| s3.region.clone())
                    .unwrap_or_else(|| "us-east-1".to_owned()),
                bucket: required(args.s3_bucket.clone().or_else(|| s3.bucket.clone()), "bucket")?,
                access_key_id: required(
                    args.s3_access_key_id
                        .clone()
                        .or_else(|| s3.access_key_id.clone()),
                    "access_key_id",
                )?,
                secret_access_key: secret_from_env(PHOTOS_S3_SECRET_ENV)
                    .or_else(|| s3.secret_access_key.clone())
                    .ok_or_else(|| {
                        format!(
                            "photos.s3.secret_access_key (or {PHOTOS_S3_SECRET_ENV}) is required \
                             for S3 photo storage"
                        )
                    })?,
            })
            }
        };
    let defaults = balagh_app::PhotoSettings::default();
    let settings = balagh_app::PhotoSettings {
        limits: balagh_media::PhotoLimits {
            max_bytes: file.max_bytes.unwrap_or(defaults.limits.max_bytes),
            ..defaults.limits
        },
        upload_url_ttl: file
            .upload_url_seconds
            .map_or(defaults.upload_url_ttl, Duration::from_secs),
        view_url_ttl: file
            .view_url_seconds
            .map_or(defaults.view_url_ttl, Duration::from_secs),
        max_concurrent: file
            .max_concurrent
            .unwrap_or(defaults.max_concurrent)
            .max(1),
        unconfirmed_ttl: file
            .unconfirmed_hours
            .map_or(defaults.unconfirmed_ttl, |h| Duration::from_secs(h * 3600)),
        public_base_url: file.public_base_url.clone(),
    };
    if settings.limits.max_bytes == 0 || settings.upload_url_ttl.is_zero() {
        return Err("photos.max_bytes and photos.upload_url_seconds must be positive".into());
    }
    let url_key = secret_from_env(PHOTOS_URL_KEY_ENV).or_else(|| file.url_signing_key.clone());
    Ok((storage, url_key, settings))
}
