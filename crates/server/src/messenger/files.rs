//! Attachments over HTTP: uploads streamed into the blob store (membership
//! first, the limit enforced while the body streams, the type sniffed from
//! the bytes), downloads and thumbnails checked against membership on every
//! request, a chat's "Files" view, and the collector of unreferenced blobs.
//!
//! A non-member asking for a file gets 403 (the rest of the messenger says
//! 404): the file URL is shared in the chat, so its existence is no secret,
//! its bytes are.

use crate::AppState;
use crate::error::extract::{Path, Query};
use crate::error::{self as e, ApiError, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{self, Attachment, ChatFile};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blobs::media::{self, Kind};
use blobs::{BlobError, Blobs};
use futures_util::StreamExt;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use storage::{FileLookup, NewFile, Store, StoredFile};
use utoipa::IntoParams;

/// The default upload limit: 100 MB.
pub const DEFAULT_LIMIT: u64 = 100 * 1024 * 1024;
/// Attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// A pending upload no message took is deleted after this long.
pub const PENDING_GRACE: i64 = 24 * 3600;
/// A blob nothing references is deleted when untouched this long (an upload
/// of the same bytes in flight touches it first).
pub const BLOB_GRACE: i64 = 3600;
const MAX_NAME_CHARS: usize = 200;

/// The blob store and the upload limit the server was configured with.
pub struct Files {
    pub blobs: Blobs,
    default_limit: AtomicU64,
}

impl Files {
    pub fn new(blobs: Blobs, default_limit: u64) -> Arc<Files> {
        Arc::new(Files { blobs, default_limit: AtomicU64::new(default_limit) })
    }

    /// A store in memory with the default limit (a server given no storage).
    pub fn in_memory() -> Arc<Files> {
        Files::new(Blobs::in_memory(), DEFAULT_LIMIT)
    }

    pub fn default_limit(&self) -> u64 {
        self.default_limit.load(Ordering::Relaxed)
    }

    pub fn set_default_limit(&self, bytes: u64) {
        self.default_limit.store(bytes, Ordering::Relaxed);
    }

    /// Deletes pending uploads and unreferenced blobs older than the grace
    /// periods, rows first, then bytes. Returns how many blobs went.
    pub async fn collect(&self, store: &Store, now: i64, pending_grace: i64, blob_grace: i64) -> ApiResult<usize> {
        let garbage = store.collect_garbage(now - pending_grace, now - blob_grace).await?;
        for sha in &garbage.blobs {
            self.blobs.delete(sha).await.map_err(blob_error)?;
        }
        if garbage.pending_files > 0 || !garbage.blobs.is_empty() {
            tracing::info!(pending = garbage.pending_files, blobs = garbage.blobs.len(), "file garbage collected");
        }
        Ok(garbage.blobs.len())
    }
}

fn blob_error(e: BlobError) -> ApiError {
    match e {
        BlobError::TooLarge { .. } => e::FILE_TOO_LARGE,
        other => {
            tracing::error!(error = %other, "blob storage failure");
            e::INTERNAL
        }
    }
}

/// The file's name as shown and downloaded: the last path segment, without
/// control or bidi-override characters, trimmed, at most 200 characters.
pub fn clean_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
        })
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name (or the `X-File-Name` header, percent-encoded).
    pub name: Option<String>,
}

/// Uploads one file into a chat as the sender's pending attachment; a send
/// then names it in `attachments`. The body is the raw file.
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/files", tag = "messenger",
    params(("chat" = i64, Path), UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Attachment), (status = 400, body = e::ErrorBody), (status = 404, body = e::ErrorBody),
        (status = 413, body = e::ErrorBody), (status = 415, body = e::ErrorBody), (status = 422, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<Attachment>> {
    let from_header = headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
    let raw_name = q.name.or(from_header).unwrap_or_default();
    state.flood.admit(user.account_id, messenger::flood::Action::Write).await?;
    // Membership and the right to post, before a byte of the body is read.
    let slot = state.store.upload_slot(user.account_id, chat, state.now()).await?;
    let files = &state.files;
    let limit = slot.org_limit.and_then(|l| u64::try_from(l).ok()).unwrap_or_else(|| files.default_limit());
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(e::FILE_TOO_LARGE);
    }
    let mut staging = files.blobs.stage(limit).map_err(blob_error)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        // A client that went away: the staging file goes with `staging`.
        let chunk = chunk.map_err(|_| e::UPLOAD_INTERRUPTED)?;
        staging.write(&chunk).await.map_err(blob_error)?;
    }
    if staging.size() == 0 {
        return Err(e::FILE_EMPTY);
    }
    let mut staged = staging.finish().await.map_err(blob_error)?;
    let sniffed = media::sniff(&staged.head);
    if media::is_unstrippable_photo(&sniffed.mime) {
        return Err(e::PHOTO_FORMAT_UNSUPPORTED);
    }
    if media::is_unstrippable_video(&sniffed.mime) {
        return Err(e::VIDEO_FORMAT_UNSUPPORTED);
    }
    let name = clean_name(&raw_name).unwrap_or_else(|| default_name(&sniffed.mime));
    let now = state.now();
    let mut new = NewFile {
        chat_id: chat,
        account_id: user.account_id,
        sha256: staged.sha256.clone(),
        size: i64::try_from(staged.size).unwrap_or(i64::MAX),
        mime: sniffed.mime.clone(),
        kind: Kind::File.as_str().into(),
        name,
        width: None,
        height: None,
        thumbnail: None,
        now,
    };
    // What to store once the rows exist, in case the collector raced us.
    let mut rewritten: Option<bytes::Bytes> = None;
    if let Some(format) = sniffed.image {
        let original = staged.read_all().await.map_err(blob_error)?;
        let processed = tokio::task::spawn_blocking(move || media::process_image(&original, format))
            .await
            .map_err(|_| e::INTERNAL)?
            .map_err(|err| match err {
                media::MediaError::TooManyPixels { .. } => e::IMAGE_TOO_LARGE,
                media::MediaError::Malformed(_) => e::IMAGE_MALFORMED,
                media::MediaError::Io(_) => e::INTERNAL,
            })?;
        if let Some(thumb) = processed.thumbnail {
            let size = thumb.len() as i64;
            let sha = files.blobs.put_bytes(thumb.into()).await.map_err(blob_error)?;
            new.thumbnail = Some((sha, size));
            new.kind = Kind::Image.as_str().into();
            new.width = Some(i64::from(processed.width));
            new.height = Some(i64::from(processed.height));
        }
        let bytes = bytes::Bytes::from(processed.bytes);
        new.size = bytes.len() as i64;
        new.sha256 = files.blobs.put_bytes(bytes.clone()).await.map_err(blob_error)?;
        rewritten = Some(bytes);
    } else {
        if let Some(container) = sniffed.container {
            clean_container(&mut staged, container, &sniffed.mime).await?;
            new.sha256 = staged.sha256.clone();
            new.size = i64::try_from(staged.size).unwrap_or(i64::MAX);
        }
        files.blobs.put_staged(&staged).await.map_err(blob_error)?;
    }
    let attachment = state.store.add_file(&new).await?;
    let stored = new.size + new.thumbnail.as_ref().map_or(0, |(_, size)| *size);
    metrics::counter!(crate::metrics::FILE_BYTES_STORED).increment(u64::try_from(stored).unwrap_or(0));
    // The rows now hold the blob: the collector can no longer take it, but it
    // may have deleted the bytes just before. Putting again is a no-op when
    // they are there.
    match rewritten {
        Some(bytes) => drop(files.blobs.put_bytes(bytes).await.map_err(blob_error)?),
        None => files.blobs.put_staged(&staged).await.map_err(blob_error)?,
    }
    Ok(axum::Json(attachment.into()))
}

/// Removes a video's or a HEIF/HEIC/AVIF photo's location and device
/// metadata in its staging file (see `blobs::media`), which is then named by
/// the cleaned bytes. One that cannot be cleaned is refused.
async fn clean_container(staged: &mut blobs::Staged, container: media::Container, mime: &str) -> ApiResult<()> {
    let path = staged.path().to_path_buf();
    let started = std::time::Instant::now();
    let cleaned =
        tokio::task::spawn_blocking(move || media::clean_file(&path, container)).await.map_err(|_| e::INTERNAL)?;
    match cleaned {
        Ok(cleaned) if cleaned.changes == 0 => return Ok(()),
        Ok(cleaned) => tracing::debug!(
            mime,
            changes = cleaned.changes,
            bytes = cleaned.bytes_blanked,
            ms = started.elapsed().as_millis() as u64,
            "container metadata removed"
        ),
        Err(media::MediaError::Io(error)) => {
            tracing::error!(%error, "reading a staged upload failed");
            return Err(e::INTERNAL);
        }
        Err(error) => {
            tracing::info!(mime, %error, "an upload was refused: its metadata cannot be removed");
            return Err(if mime.starts_with("image/") { e::IMAGE_MALFORMED } else { e::VIDEO_MALFORMED });
        }
    }
    staged.rehash().await.map_err(blob_error)
}

fn default_name(mime: &str) -> String {
    let ext = match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "image/heif" => "heif",
        "image/avif" => "avif",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/3gpp" => "3gp",
        "video/webm" => "webm",
        "video/x-matroska" => "mkv",
        "audio/mp4" => "m4a",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    format!("file.{ext}")
}

async fn lookup(state: &AppState, user: &MessengerUser, id: i64) -> ApiResult<StoredFile> {
    match state.store.file_for(user.account_id, id).await? {
        FileLookup::Granted(file) => Ok(file),
        FileLookup::NotMember => Err(e::FILE_FORBIDDEN),
        FileLookup::Missing => Err(e::NOT_FOUND),
    }
}

/// Downloads a file (an image, a video or a HEIC/AVIF photo opens in the
/// browser; anything else is saved); one byte range is answered with 206.
#[utoipa::path(get, path = "/api/messenger/files/{file}", tag = "messenger", params(("file" = i64, Path)),
    responses((status = 200, content_type = "*/*", description = "The file, as its type sniffed from its bytes (active types as `application/octet-stream`)"),
        (status = 206, content_type = "*/*", description = "the requested byte range"),
        (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody),
        (status = 416, description = "a range past the end")),
    security(("messenger_session" = [])))]
pub async fn download(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let file = lookup(&state, &user, id).await?;
    let inline = (file.kind == "image" || media::is_media(&file.mime)) && !media::is_active(&file.mime);
    let content_type = if media::is_active(&file.mime) { "application/octet-stream" } else { file.mime.as_str() };
    serve(&state, &file.sha256, file.size, content_type, Some((&file.name, inline)), &headers).await
}

/// A JPEG preview of an image, at most 320 × 320.
#[utoipa::path(get, path = "/api/messenger/files/{file}/thumbnail", tag = "messenger", params(("file" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 403, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn thumbnail(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let file = lookup(&state, &user, id).await?;
    let Some(thumb) = file.thumb_sha256 else { return Err(e::NOT_FOUND) };
    serve(&state, &thumb, -1, "image/jpeg", None, &headers).await
}

pub(crate) async fn serve(
    state: &AppState,
    sha256: &str,
    size: i64,
    content_type: &str,
    name: Option<(&str, bool)>,
    request: &HeaderMap,
) -> ApiResult<Response> {
    // The bytes behind a hash never change: the hash is the validator, and
    // membership was checked before this point on every request.
    let etag = format!("\"{sha256}\"");
    let size = u64::try_from(size).ok();
    let mut response = if request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let range = size.and_then(|size| Some((byte_range(request.get(header::RANGE)?.to_str().ok()?, size)?, size)));
        let blobs = &state.files.blobs;
        let mut r = match range {
            None => {
                let mut r = Response::new(Body::from_stream(blobs.get(sha256).await.map_err(blob_error)?));
                if let Some(size) = size {
                    r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(size));
                }
                r
            }
            Some((Some(range), size)) => {
                let content_range = format!("bytes {}-{}/{size}", range.start, range.end - 1);
                let length = range.end - range.start;
                let mut r = Response::new(Body::from_stream(blobs.get_range(sha256, range).await.map_err(blob_error)?));
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
                r.headers_mut().insert(header::CONTENT_RANGE, header_value(&content_range));
                r
            }
            Some((None, size)) => {
                let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                r.headers_mut().insert(header::CONTENT_RANGE, header_value(&format!("bytes */{size}")));
                r
            }
        };
        r.headers_mut().insert(header::CONTENT_TYPE, header_value(content_type));
        r
    };
    let h = response.headers_mut();
    if size.is_some() {
        // Players fetch a video's index (often at its end) and seek by range.
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    h.insert(header::ETAG, header_value(&etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    let (name, inline) = name.unwrap_or(("preview.jpg", true));
    h.insert(header::CONTENT_DISPOSITION, header_value(&content_disposition(name, inline)));
    Ok(response)
}

/// A single byte range of a `Range` header (RFC 9110 §14.1.2): `None` when
/// the header is not one Parta answers (several ranges, another unit,
/// nonsense: the whole file is sent), `Some(None)` when it is unsatisfiable.
pub fn byte_range(header: &str, size: u64) -> Option<Option<std::ops::Range<u64>>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let range = match (first.trim(), last.trim()) {
        ("", "") => return None,
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            size.saturating_sub(n)..size
        }
        (first, last) => {
            let start: u64 = first.parse().ok()?;
            let end = if last.is_empty() { size } else { last.parse::<u64>().ok()?.saturating_add(1).min(size) };
            if end <= start && start < size {
                return None;
            }
            start..end
        }
    };
    Some((range.start < range.end).then_some(range))
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
pub fn content_disposition(name: &str, inline: bool) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    let disposition = if inline { "inline" } else { "attachment" };
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilesQuery {
    /// Files of messages before this sequence number (the next page).
    pub before: Option<i64>,
    /// 1–200; 100 by default.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A chat's "Files": the attachments of its messages, newest first.
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/files", tag = "messenger",
    params(("chat" = i64, Path), FilesQuery),
    responses((status = 200, body = Vec<ChatFile>), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn chat_files(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Query(q): Query<FilesQuery>,
) -> ApiResult<axum::Json<Vec<ChatFile>>> {
    let limit = e::bounded("limit", q.limit, 100, 1..=200)?;
    Ok(axum::Json(v1::list(state.store.chat_files(user.account_id, chat, q.before, limit).await?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_loses_its_path_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name("C:\\Users\\me\\Домашка.pdf").as_deref(), Some("Домашка.pdf"));
        assert_eq!(clean_name("a\u{0}b\r\n\u{7}c.txt").as_deref(), Some("abc.txt"));
        assert_eq!(clean_name("photo\u{202E}gpj.exe").as_deref(), Some("photogpj.exe"));
        assert_eq!(clean_name("..").as_deref(), None);
        assert_eq!(clean_name("../").as_deref(), None);
        assert_eq!(clean_name(".bashrc").as_deref(), Some("bashrc"));
        assert_eq!(clean_name(&"я".repeat(1000)).map(|n| n.chars().count()), Some(MAX_NAME_CHARS));
    }

    #[test]
    fn a_range_header_names_one_satisfiable_range_or_the_whole_file() {
        assert_eq!(byte_range("bytes=0-", 100), Some(Some(0..100)));
        assert_eq!(byte_range("bytes=10-19", 100), Some(Some(10..20)));
        assert_eq!(byte_range("bytes=90-500", 100), Some(Some(90..100)));
        assert_eq!(byte_range("bytes=-30", 100), Some(Some(70..100)));
        assert_eq!(byte_range("bytes=-300", 100), Some(Some(0..100)));
        assert_eq!(byte_range("bytes=100-", 100), Some(None), "past the end");
        assert_eq!(byte_range("bytes=-0", 100), Some(None));
        assert_eq!(byte_range("bytes=0-1,5-6", 100), None, "several ranges: the whole file");
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=20-10", 100), None, "nonsense is ignored");
        assert_eq!(byte_range("bytes=x-", 100), None);
    }

    #[test]
    fn a_disposition_carries_an_ascii_and_a_utf8_name() {
        let d = content_disposition("Разрешение \"на\" экскурсию.pdf", false);
        assert!(
            d.starts_with("attachment; filename=\"__________ ____ _________.pdf\"; filename*=UTF-8''%D0%A0"),
            "{d}"
        );
        assert!(
            d.ends_with("%22%D0%BD%D0%B0%22%20%D1%8D%D0%BA%D1%81%D0%BA%D1%83%D1%80%D1%81%D0%B8%D1%8E%2Epdf"),
            "{d}"
        );
        assert!(content_disposition("a.jpg", true).starts_with("inline;"));
    }
}
