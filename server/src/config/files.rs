//! Where attachments are kept and how big they may be.

use super::{ConfigError, positive, var};
use std::path::{Path, PathBuf};

/// The object store attachments go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileStore {
    /// A directory on this machine (the default: `<data dir>/files`).
    Local(PathBuf),
    /// An S3-compatible bucket (`JOBCHAT_FILE_STORE=s3://bucket[/prefix]`).
    S3(S3Store),
}

/// An S3-compatible bucket and how to reach it: the usual `AWS_*`
/// variables (`AWS_ENDPOINT` for a store other than Amazon's, plain
/// `http://` allowed; `AWS_REGION`, default `us-east-1`;
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, else the instance's
/// role).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Store {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub keys: Option<(String, String)>,
}

/// Never prints the secret key.
impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "keys",
                &self.keys.as_ref().map(|(id, _)| (id, "<redacted>")),
            )
            .finish()
    }
}

impl FileStore {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            name: "JOBCHAT_FILE_STORE",
            reason: format!("{raw:?}: {reason}"),
        };
        if let Some(rest) = raw.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("no bucket"));
            }
            return Ok(Self::S3(S3Store {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint: var("AWS_ENDPOINT"),
                region: var("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
                keys: var("AWS_ACCESS_KEY_ID").zip(var("AWS_SECRET_ACCESS_KEY")),
            }));
        }
        let path = raw.strip_prefix("file://").unwrap_or(raw);
        if path.is_empty() {
            return Err(invalid("use a directory or s3://bucket"));
        }
        Ok(Self::Local(PathBuf::from(path)))
    }
}

/// Attachment limits (each a documented setting, README "Attachments").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileLimits {
    /// `JOBCHAT_FILE_MAX_BYTES` (10 MiB): one file.
    pub max_bytes: u64,
    /// `JOBCHAT_FILES_PER_MESSAGE` (10).
    pub per_message: u32,
    /// `JOBCHAT_FILE_BYTES_PER_CHAT_PER_DAY` (200 MiB): everything uploaded
    /// into one chat in 24 hours.
    pub bytes_per_chat_per_day: u64,
    /// `JOBCHAT_IMAGE_MAX_PIXELS` (40,000,000): an image with more is
    /// refused before it is decoded (a decompression bomb never is).
    pub max_pixels: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            per_message: 10,
            bytes_per_chat_per_day: 200 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilesConfig {
    pub store: FileStore,
    pub limits: FileLimits,
}

impl FilesConfig {
    pub(super) fn from_env(data_dir: &Path) -> Result<Self, ConfigError> {
        let store = match var("JOBCHAT_FILE_STORE") {
            Some(raw) => FileStore::parse(raw.trim())?,
            None => FileStore::Local(data_dir.join("files")),
        };
        let d = FileLimits::default();
        Ok(Self {
            store,
            limits: FileLimits {
                max_bytes: positive("JOBCHAT_FILE_MAX_BYTES")?.unwrap_or(d.max_bytes),
                per_message: positive("JOBCHAT_FILES_PER_MESSAGE")?
                    .map_or(d.per_message, |n| n.min(100) as u32),
                bytes_per_chat_per_day: positive("JOBCHAT_FILE_BYTES_PER_CHAT_PER_DAY")?
                    .unwrap_or(d.bytes_per_chat_per_day),
                max_pixels: positive("JOBCHAT_IMAGE_MAX_PIXELS")?.unwrap_or(d.max_pixels),
            },
        })
    }

    /// Local files in `dir`, default limits.
    pub fn for_tests(dir: &Path) -> Self {
        Self {
            store: FileStore::Local(dir.to_owned()),
            limits: FileLimits::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_parse() {
        let Ok(FileStore::S3(s3)) = FileStore::parse("s3://bucket/some/prefix/") else {
            panic!("an S3 store");
        };
        assert_eq!(
            (s3.bucket.as_str(), s3.prefix.as_str()),
            ("bucket", "some/prefix")
        );
        assert_eq!(
            FileStore::parse("/var/lib/jobchat/files").ok(),
            Some(FileStore::Local("/var/lib/jobchat/files".into()))
        );
        assert!(FileStore::parse("s3://").is_err());
        assert!(FileStore::parse("").is_err());
    }
}
