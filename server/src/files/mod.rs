//! Attachments' bytes: checked (`inspect`) and kept in an object store
//! through the `object_store` crate, a local directory by default or any
//! S3-compatible bucket (`config::FileStore`). The database holds what is
//! known about each file (`storage::attachments`); this holds the bytes.

mod inspect;

pub use inspect::{Checked, THUMBNAIL_SIDE, Thumbnail, inspect};

use crate::config::{FileLimits, FileStore, FilesConfig};
use bytes::Bytes;
use contract::error::ErrorCode;
use futures_util::TryStreamExt;
use object_store::{ObjectStore, PutPayload, path::Path};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Why an upload was refused; nothing of it is stored.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error(
        "files of this type cannot be shared here ({0}); send images (JPEG, PNG, WebP), PDF, plain text or office documents"
    )]
    Unsupported(String),
    #[error("the image is {width} × {height} pixels; at most {max} pixels are taken")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the file cannot be read: {0}")]
    Corrupt(String),
}

impl Refused {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::Empty | Self::Unsupported(_) => ErrorCode::UnsupportedType,
            Self::TooManyPixels { .. } | Self::Corrupt(_) => ErrorCode::BadFile,
        }
    }
}

/// Images decoded at once: each may take hundreds of megabytes and a core.
const DECODES_AT_ONCE: usize = 2;

#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
    limits: FileLimits,
    decoding: Arc<Semaphore>,
}

impl Files {
    /// Opens the configured store (creating a local directory).
    pub fn open(config: &FilesConfig) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match &config.store {
            FileStore::Local(dir) => {
                std::fs::create_dir_all(dir)?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
            }
            FileStore::S3(s3) => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some((id, secret)) = &s3.keys {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                let store = builder.build()?;
                if s3.prefix.is_empty() {
                    Arc::new(store)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(
                        store,
                        s3.prefix.as_str(),
                    ))
                }
            }
        };
        Ok(Self {
            store,
            limits: config.limits.clone(),
            decoding: Arc::new(Semaphore::new(DECODES_AT_ONCE)),
        })
    }

    pub fn limits(&self) -> &FileLimits {
        &self.limits
    }

    /// Checks an upload off the async threads, at most `DECODES_AT_ONCE`
    /// at a time.
    pub async fn check(&self, raw: Bytes) -> Result<Checked, Refused> {
        if raw.len() as u64 > self.limits.max_bytes {
            return Err(Refused::TooLarge {
                max: self.limits.max_bytes,
            });
        }
        let _permit = self.decoding.acquire().await;
        let limits = self.limits.clone();
        tokio::task::spawn_blocking(move || inspect(raw, &limits))
            .await
            .unwrap_or_else(|e| Err(Refused::Corrupt(format!("the check failed: {e}"))))
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> object_store::Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    pub async fn get(&self, key: &str) -> object_store::Result<Bytes> {
        self.store.get(&Path::from(key)).await?.bytes().await
    }

    /// Removes an object; one already gone is not an error.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    /// Every key in the store (tests count what is left behind).
    pub async fn keys(&self) -> object_store::Result<Vec<String>> {
        self.store
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
    }
}
