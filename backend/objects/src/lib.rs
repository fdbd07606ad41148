//! Where photos are kept: a local directory (the embedded default) or any S3-compatible
//! object store, behind one small API built on the `object_store` crate.
//!
//! - [`Objects`]: put, get, size, delete and list objects by key (`uploads/…`,
//!   `renditions/…`), and presigned S3 URLs ([`Objects::presign`]) when the store is S3.
//! - [`UrlSigner`]: HMAC-SHA256 signed, expiring URLs for the local directory, which cannot
//!   presign: `balagh` serves those URLs itself and checks them with [`UrlSigner::verify`].
//!
//! Secrets (the S3 secret key, the URL signing key) never print, `Debug` included.

mod config;
mod signer;

pub use config::{DEFAULT_LOCAL_DIR, LocalConfig, S3Config, Secret, StorageConfig};
pub use signer::{UrlRefusal, UrlSigner};

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::sync::Arc;
use std::time::Duration;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    /// The configuration cannot work (missing bucket, unusable directory, bad key).
    #[error("photo storage configuration: {0}")]
    Config(String),
    /// The store refused or failed the operation.
    #[error("photo storage: {0}")]
    Store(#[from] object_store::Error),
}

pub type Result<T, E = ObjectsError> = std::result::Result<T, E>;

/// An object in the store and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
}

/// The photo store. Cheap to clone.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local { root: std::path::PathBuf },
    S3 { s3: Arc<AmazonS3>, bucket: String },
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("store", &self.describe())
            .finish()
    }
}

fn key_path(key: &str) -> Result<Path> {
    Path::parse(key).map_err(|e| ObjectsError::Config(format!("invalid object key {key:?}: {e}")))
}

impl Objects {
    /// Opens the configured store. A local directory is created if missing; an S3 store is
    /// not contacted until the first operation.
    pub fn open(config: &StorageConfig) -> Result<Self> {
        match config {
            StorageConfig::Local(local) => {
                std::fs::create_dir_all(&local.root).map_err(|e| {
                    ObjectsError::Config(format!("cannot create {}: {e}", local.root.display()))
                })?;
                let store = LocalFileSystem::new_with_prefix(&local.root)?;
                Ok(Self {
                    store: Arc::new(store),
                    backend: Backend::Local {
                        root: local.root.clone(),
                    },
                })
            }
            StorageConfig::S3(s3) => {
                if s3.bucket.is_empty() {
                    return Err(ObjectsError::Config("photos.s3.bucket is required".into()));
                }
                let mut builder = AmazonS3Builder::new()
                    .with_region(&s3.region)
                    .with_bucket_name(&s3.bucket)
                    .with_virtual_hosted_style_request(!s3.path_style)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(s3.secret_access_key.expose());
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let s3_store = Arc::new(builder.build()?);
                Ok(Self {
                    store: s3_store.clone(),
                    backend: Backend::S3 {
                        s3: s3_store,
                        bucket: s3.bucket.clone(),
                    },
                })
            }
        }
    }

    /// Where objects go, for logs (no secrets).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local { root } => format!("local directory {}", root.display()),
            Backend::S3 { bucket, .. } => format!("S3 bucket {bucket}"),
        }
    }

    /// Whether the store is a local directory (so `balagh` must serve signed URLs itself).
    pub fn is_local(&self) -> bool {
        matches!(self.backend, Backend::Local { .. })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put(&key_path(key)?, PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    /// The object's bytes, or `None` if there is no such object.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        match self.store.get(&key_path(key)?).await {
            Ok(result) => Ok(Some(result.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The object's size in bytes, or `None` if there is no such object.
    pub async fn size(&self, key: &str) -> Result<Option<u64>> {
        match self.store.head(&key_path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes an object; deleting a missing object is not an error (deletes are retried,
    /// and several replicas may collect the same garbage).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&key_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object whose key starts with `prefix` (a folder such as `uploads`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let prefix = key_path(prefix)?;
        self.store
            .list(Some(&prefix))
            .map_ok(|meta| ObjectInfo {
                key: meta.location.to_string(),
                size: meta.size,
            })
            .try_collect()
            .await
            .map_err(Into::into)
    }

    /// A presigned URL for `method` on the object, valid for `ttl`, when the store is S3;
    /// `None` for a local directory (use [`UrlSigner`] and serve the URL yourself).
    pub async fn presign(
        &self,
        method: http::Method,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<url::Url>> {
        match &self.backend {
            Backend::Local { .. } => Ok(None),
            Backend::S3 { s3, .. } => Ok(Some(s3.signed_url(method, &key_path(key)?, ttl).await?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "balagh-objects-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn local_directory_round_trip() {
        let root = scratch();
        let objects =
            Objects::open(&StorageConfig::Local(LocalConfig { root: root.clone() })).unwrap();
        assert!(objects.is_local());
        assert_eq!(objects.get("uploads/a").await.unwrap(), None);
        assert_eq!(objects.size("uploads/a").await.unwrap(), None);
        objects
            .put("uploads/a", Bytes::from_static(b"hello"))
            .await
            .unwrap();
        objects
            .put("renditions/b.jpg", Bytes::from_static(b"jpeg"))
            .await
            .unwrap();
        assert_eq!(
            objects.get("uploads/a").await.unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(objects.size("uploads/a").await.unwrap(), Some(5));
        assert!(root.join("uploads/a").is_file(), "stored under the root");
        let listed = objects.list("uploads").await.unwrap();
        assert_eq!(
            listed,
            vec![ObjectInfo {
                key: "uploads/a".into(),
                size: 5
            }]
        );
        assert_eq!(
            objects
                .presign(http::Method::PUT, "uploads/a", Duration::from_secs(60))
                .await
                .unwrap(),
            None,
            "a directory cannot presign"
        );
        objects.delete("uploads/a").await.unwrap();
        objects.delete("uploads/a").await.unwrap();
        assert_eq!(objects.get("uploads/a").await.unwrap(), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn keys_cannot_escape_the_root() {
        assert!(key_path("../etc/passwd").is_err());
        assert!(key_path("uploads/../../x").is_err());
        assert!(key_path("uploads/0190").is_ok());
    }

    #[tokio::test]
    async fn s3_presigns_path_style_urls_with_an_expiry() {
        let objects = Objects::open(&StorageConfig::S3(S3Config {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: "us-east-1".into(),
            bucket: "photos".into(),
            path_style: true,
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        }))
        .unwrap();
        assert!(!objects.is_local());
        let url = objects
            .presign(http::Method::PUT, "uploads/x", Duration::from_secs(900))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(url.path(), "/photos/uploads/x");
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(
            query.contains(&("X-Amz-Expires".into(), "900".into())),
            "{url}"
        );
        assert!(query.iter().any(|(k, _)| k == "X-Amz-Signature"), "{url}");
        assert!(!format!("{objects:?}").contains("wJalr"));
    }
}
