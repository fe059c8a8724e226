//! Parta's file bytes: content-addressed blobs behind the `object_store`
//! crate, so one configuration line moves them from the local disk (the
//! default) to S3-compatible storage.
//!
//! An upload is first *staged*: streamed to a temporary file next to the
//! data directory while its SHA-256 is computed and its size counted against
//! the limit ([`Staging`]). Only a complete upload becomes a blob, stored
//! under its hash (`ab/cd/abcd…`), so two uploads of the same bytes are one
//! blob, and an interrupted one leaves nothing behind but a temporary file
//! that is deleted when it drops.
//!
//! Architecture invariant: knows bytes, never people. Who may read a blob is
//! decided by storage and the server before anything here is called; the
//! database, not the object store, says which blobs exist (a blob no file
//! row references is garbage, collected by its hash).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod bmff;
mod matroska;
pub mod media;
mod patch;
#[cfg(any(test, feature = "testdata"))]
pub mod testdata;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("staging file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("blob storage is misconfigured: {0}")]
    Config(String),
}

/// Where blobs live (`[files]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case", deny_unknown_fields)]
pub enum BlobConfig {
    /// A folder on this machine; `<data_dir>/files` when no path is given.
    Local {
        #[serde(default)]
        path: Option<PathBuf>,
    },
    /// An S3-compatible service (MinIO, Yandex Object Storage, AWS S3…).
    S3 {
        bucket: String,
        /// e.g. `https://storage.yandexcloud.net`; AWS when absent.
        endpoint: Option<String>,
        #[serde(default = "default_region")]
        region: String,
        access_key_id: String,
        secret_access_key: Secret,
        /// Allow a plain-HTTP endpoint (a MinIO on the same machine).
        #[serde(default)]
        allow_http: bool,
    },
}

/// The local store's folder in the data directory, unless `path` says otherwise.
const LOCAL_DIR: &str = "files";

impl BlobConfig {
    /// The folder of a local store (`<data_dir>/files` unless configured);
    /// `None` for S3.
    pub fn local_dir(&self, data_dir: &Path) -> Option<PathBuf> {
        match self {
            BlobConfig::Local { path } => Some(path.clone().unwrap_or_else(|| data_dir.join(LOCAL_DIR))),
            BlobConfig::S3 { .. } => None,
        }
    }
}

impl Default for BlobConfig {
    fn default() -> Self {
        BlobConfig::Local { path: None }
    }
}

fn default_region() -> String {
    "us-east-1".into()
}

/// A credential that never reaches a log.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The blob store and its staging folder. Cheap to clone.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    staging: PathBuf,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs").field("store", &self.store.to_string()).field("staging", &self.staging).finish()
    }
}

impl Blobs {
    /// Opens the configured store; `data_dir` holds the local store (unless
    /// configured elsewhere) and the staging folder either way.
    pub fn open(config: &BlobConfig, data_dir: &Path) -> Result<Blobs, BlobError> {
        let staging = data_dir.join("uploads");
        std::fs::create_dir_all(&staging)?;
        let store: Arc<dyn ObjectStore> = match config {
            BlobConfig::Local { path: None } => local(&data_dir.join(LOCAL_DIR))?,
            BlobConfig::Local { path: Some(path) } => local(path)?,
            BlobConfig::S3 { bucket, endpoint, region, access_key_id, secret_access_key, allow_http } => {
                let mut b = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(&secret_access_key.0)
                    .with_allow_http(*allow_http);
                if let Some(endpoint) = endpoint {
                    b = b.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
                }
                Arc::new(b.build()?)
            }
        };
        Ok(Blobs { store, staging })
    }

    /// Blobs in memory, staged in the system's temporary folder: a server
    /// that was given no storage (tests, embedding).
    pub fn in_memory() -> Blobs {
        Blobs { store: Arc::new(object_store::memory::InMemory::new()), staging: std::env::temp_dir() }
    }

    /// A local store in `dir` (tests).
    pub fn local_in(dir: &Path) -> Result<Blobs, BlobError> {
        Blobs::open(&BlobConfig::default(), dir)
    }

    /// Starts staging an upload of at most `limit` bytes.
    pub fn stage(&self, limit: u64) -> Result<Staging, BlobError> {
        let file = tempfile::Builder::new().prefix("upload-").tempfile_in(&self.staging)?;
        let (std_file, path) = file.into_parts();
        Ok(Staging {
            file: tokio::fs::File::from_std(std_file),
            path,
            hasher: Sha256::new(),
            size: 0,
            limit,
            head: Vec::with_capacity(HEAD),
        })
    }

    /// Stores a finished upload under its hash; a blob already there is kept.
    pub async fn put_staged(&self, staged: &Staged) -> Result<(), BlobError> {
        let key = key(&staged.sha256);
        if self.exists_at(&key).await? {
            return Ok(());
        }
        let upload = self.store.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        let mut file = tokio::fs::File::open(staged.path()).await?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(4).await?;
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        Ok(())
    }

    /// Stores bytes (a thumbnail, a re-written image); returns their hash.
    pub async fn put_bytes(&self, bytes: Bytes) -> Result<String, BlobError> {
        let sha = hex::encode(Sha256::digest(&bytes));
        let key = key(&sha);
        if !self.exists_at(&key).await? {
            self.store.put(&key, PutPayload::from_bytes(bytes)).await?;
        }
        Ok(sha)
    }

    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        self.exists_at(&key(sha256)).await
    }

    async fn exists_at(&self, key: &StorePath) -> Result<bool, BlobError> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The blob's bytes as a stream.
    pub async fn get(&self, sha256: &str) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let result = self.store.get(&key(sha256)).await?;
        Ok(result.into_stream().map_err(BlobError::from).boxed())
    }

    /// Bytes `range` of the blob as a stream (a video player's request).
    pub async fn get_range(
        &self,
        sha256: &str,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let options = object_store::GetOptions { range: Some(range.into()), ..Default::default() };
        let result = self.store.get_opts(&key(sha256), options).await?;
        Ok(result.into_stream().map_err(BlobError::from).boxed())
    }

    /// The whole blob in memory (thumbnails, small files in tests).
    pub async fn read(&self, sha256: &str) -> Result<Bytes, BlobError> {
        Ok(self.store.get(&key(sha256)).await?.bytes().await?)
    }

    /// Deletes a blob; one already gone is not an error.
    pub async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        match self.store.delete(&key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn local(dir: &Path) -> Result<Arc<dyn ObjectStore>, BlobError> {
    std::fs::create_dir_all(dir)?;
    Ok(Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true)))
}

/// `ab/cd/abcd…`: a folder never holds more than a few thousand blobs.
fn key(sha256: &str) -> StorePath {
    let prefix = |r: std::ops::Range<usize>| sha256.get(r).unwrap_or("00");
    StorePath::from(format!("{}/{}/{sha256}", prefix(0..2), prefix(2..4)))
}

/// Bytes kept from the start of an upload, for sniffing its type.
pub const HEAD: usize = 8192;
const CHUNK: usize = 5 * 1024 * 1024;

/// An upload being received. Dropped unfinished, its temporary file goes.
pub struct Staging {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    hasher: Sha256,
    size: u64,
    limit: u64,
    head: Vec<u8>,
}

impl Staging {
    /// Appends a chunk; refuses the one that crosses the limit, before it is
    /// written.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        let size = self.size + chunk.len() as u64;
        if size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        self.size = size;
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub async fn finish(mut self) -> Result<Staged, BlobError> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        Ok(Staged { sha256: hex::encode(self.hasher.finalize()), size: self.size, head: self.head, path: self.path })
    }
}

/// A complete upload, still in its temporary file.
pub struct Staged {
    pub sha256: String,
    pub size: u64,
    /// The first [`HEAD`] bytes.
    pub head: Vec<u8>,
    path: tempfile::TempPath,
}

impl Staged {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn read_all(&self) -> Result<Vec<u8>, BlobError> {
        Ok(tokio::fs::read(&self.path).await?)
    }

    /// Names the upload again after its file was changed in place (a video
    /// cleaned of its metadata): a blob is stored under the hash of what is
    /// stored, never of what was uploaded.
    pub async fn rehash(&mut self) -> Result<(), BlobError> {
        let mut file = tokio::fs::File::open(&self.path).await?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(HEAD);
        let mut size = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            if head.len() < HEAD {
                head.extend_from_slice(&buf[..n.min(HEAD - head.len())]);
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        self.sha256 = hex::encode(hasher.finalize());
        self.size = size;
        self.head = head;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_bytes_are_one_blob_under_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local_in(dir.path()).unwrap();
        let mut s = blobs.stage(1000).unwrap();
        s.write(b"hello ").await.unwrap();
        s.write(b"world").await.unwrap();
        let staged = s.finish().await.unwrap();
        assert_eq!(staged.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        blobs.put_staged(&staged).await.unwrap();
        blobs.put_staged(&staged).await.unwrap();
        assert_eq!(&blobs.read(&staged.sha256).await.unwrap()[..], b"hello world");
        let again = blobs.put_bytes(Bytes::from_static(b"hello world")).await.unwrap();
        assert_eq!(again, staged.sha256);
        let path = staged.path().to_path_buf();
        drop(staged);
        assert!(!path.exists(), "the staging file goes with the upload");
        blobs.delete(&again).await.unwrap();
        blobs.delete(&again).await.unwrap();
        assert!(!blobs.exists(&again).await.unwrap());
    }

    #[tokio::test]
    async fn a_video_cleaned_in_its_staging_file_is_stored_under_the_hash_of_what_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local_in(dir.path()).unwrap();
        let video = testdata::mp4_with_location(false);
        let mut s = blobs.stage(1 << 20).unwrap();
        s.write(&video).await.unwrap();
        let mut staged = s.finish().await.unwrap();
        let uploaded = staged.sha256.clone();
        let container = media::sniff(&staged.head).container.unwrap();
        media::clean_file(staged.path(), container).unwrap();
        staged.rehash().await.unwrap();
        let cleaned = std::fs::read(staged.path()).unwrap();
        assert_ne!(staged.sha256, uploaded);
        assert_eq!(staged.sha256, hex::encode(Sha256::digest(&cleaned)));
        assert_eq!((staged.size, &staged.head[..]), (video.len() as u64, &cleaned[..]));
        blobs.put_staged(&staged).await.unwrap();
        let mut part = Vec::new();
        let mut stream = blobs.get_range(&staged.sha256, 10..20).await.unwrap();
        while let Some(chunk) = stream.next().await {
            part.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(part, &cleaned[10..20]);
    }

    #[tokio::test]
    async fn an_upload_over_the_limit_is_refused_at_the_chunk_that_crosses_it() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local_in(dir.path()).unwrap();
        let mut s = blobs.stage(10).unwrap();
        s.write(b"0123456789").await.unwrap();
        assert!(matches!(s.write(b"x").await, Err(BlobError::TooLarge { limit: 10 })));
        assert_eq!(s.size(), 10);
        drop(s);
        let left = std::fs::read_dir(dir.path().join("uploads")).unwrap().count();
        assert_eq!(left, 0, "an interrupted upload leaves nothing");
    }

    #[test]
    fn an_s3_configuration_hides_its_secret() {
        let cfg: BlobConfig = toml_like();
        assert!(!format!("{cfg:?}").contains("very-secret"));
    }

    fn toml_like() -> BlobConfig {
        BlobConfig::S3 {
            bucket: "b".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: default_region(),
            access_key_id: "k".into(),
            secret_access_key: Secret("very-secret".into()),
            allow_http: true,
        }
    }
}
#[cfg(test)]
mod clean_tests;
