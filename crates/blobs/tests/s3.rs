//! The blob store on a real S3-compatible server (moto, started by each test
//! on loopback; see `testkit::s3`): what the local-disk tests prove, over
//! signed HTTP requests, multipart uploads and ranged reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use blobs::{BlobError, Blobs, Staged};
use bytes::Bytes;
use futures_util::TryStreamExt;
use testkit::s3::S3Server;

async fn on_s3(test: &str) -> Option<(S3Server, Blobs, tempfile::TempDir)> {
    let server = S3Server::start(test).await?;
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::open(&server.config(), dir.path()).unwrap();
    Some((server, blobs, dir))
}

async fn staged(blobs: &Blobs, bytes: &[u8]) -> Staged {
    let mut staging = blobs.stage(bytes.len() as u64).unwrap();
    // In pieces, as a request body arrives.
    for piece in bytes.chunks(64 * 1024) {
        staging.write(piece).await.unwrap();
    }
    staging.finish().await.unwrap()
}

#[tokio::test]
async fn bytes_are_stored_read_in_ranges_and_deleted_on_s3() {
    let Some((_s3, blobs, _dir)) = on_s3("s3 put/get/delete").await else { return };
    let sha = blobs.put_bytes(Bytes::from_static(b"hello world")).await.unwrap();
    assert_eq!(sha, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    assert!(blobs.exists(&sha).await.unwrap());
    assert_eq!(&blobs.read(&sha).await.unwrap()[..], b"hello world");
    let whole: Vec<Bytes> = blobs.get(&sha).await.unwrap().try_collect().await.unwrap();
    assert_eq!(whole.concat(), b"hello world");
    let part: Vec<Bytes> = blobs.get_range(&sha, 6..11).await.unwrap().try_collect().await.unwrap();
    assert_eq!(part.concat(), b"world");

    blobs.delete(&sha).await.unwrap();
    assert!(!blobs.exists(&sha).await.unwrap());
    assert!(matches!(blobs.read(&sha).await, Err(BlobError::Store(object_store::Error::NotFound { .. }))));
    blobs.delete(&sha).await.unwrap();
}

#[tokio::test]
async fn a_staged_upload_larger_than_one_part_reaches_s3_whole() {
    let Some((s3, blobs, dir)) = on_s3("s3 staged upload").await else { return };
    // 11 MiB: two 5 MiB parts and a last, shorter one.
    let bytes: Vec<u8> = (0..11u32 << 20).map(|i| (i % 251) as u8).collect();
    let upload = staged(&blobs, &bytes).await;
    assert_eq!(upload.size, bytes.len() as u64);
    blobs.put_staged(&upload).await.unwrap();
    let sha = upload.sha256.clone();
    drop(upload);
    assert_eq!(std::fs::read_dir(dir.path().join("uploads")).unwrap().count(), 0, "nothing left in staging");

    // Another node's client, sharing nothing but the bucket, reads it back.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Blobs::open(&s3.config(), other_dir.path()).unwrap();
    assert!(other.read(&sha).await.unwrap() == bytes);
    let tail: Vec<Bytes> = other.get_range(&sha, (10 << 20)..(11 << 20)).await.unwrap().try_collect().await.unwrap();
    assert!(tail.concat() == bytes[10 << 20..]);
}

#[tokio::test]
async fn a_blob_already_in_the_bucket_is_not_uploaded_again() {
    let Some((_s3, blobs, _dir)) = on_s3("s3 no second upload").await else { return };
    let first = staged(&blobs, b"the class photo").await;
    blobs.put_staged(&first).await.unwrap();
    // A second upload claiming the same hash over other bytes: were it sent,
    // the bucket would hold them now.
    let mut second = staged(&blobs, b"something else").await;
    second.sha256.clone_from(&first.sha256);
    blobs.put_staged(&second).await.unwrap();
    assert_eq!(&blobs.read(&first.sha256).await.unwrap()[..], b"the class photo");
    assert_eq!(blobs.put_bytes(Bytes::from_static(b"the class photo")).await.unwrap(), first.sha256);
}
