//! Which store holds the photos, and its credentials.

use std::path::PathBuf;

/// Default photo directory, next to the default SQLite database (`./data/balagh.sqlite3`).
pub const DEFAULT_LOCAL_DIR: &str = "./data/photos";

/// A secret string (a secret key, a signing key): never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Where photos are stored.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageConfig {
    /// A directory on this machine (embedded mode, one server).
    Local(LocalConfig),
    /// An S3-compatible object store (production, any number of replicas).
    S3(S3Config),
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self::Local(LocalConfig {
            root: PathBuf::from(DEFAULT_LOCAL_DIR),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    pub root: PathBuf,
}

/// An S3-compatible store: AWS, MinIO, Garage, Ceph, a cloud provider's S3 endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `https://s3.example.com`; `None` means AWS itself (from the region).
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (most self-hosted stores).
    pub path_style: bool,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let config = StorageConfig::S3(S3Config {
            endpoint: None,
            region: "eu-west-3".into(),
            bucket: "b".into(),
            path_style: false,
            access_key_id: "AKID".into(),
            secret_access_key: Secret::new("hunter2-secret"),
        });
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        assert_eq!(Secret::new("x").to_string(), "***");
    }
}
