//! The web UI: plain ES modules and CSS compiled into the binary, so running
//! Parta needs no Node build and no files beside the executable.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

static WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web");

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { file("index.html") }))
        .route("/messenger", get(|| async { file("messenger.html") }))
        // At the root, so that its scope can be `/messenger` (a worker's
        // scope cannot be above the folder it is served from).
        .route("/sw.js", get(|| async { file("sw.js") }))
        .route("/manifest.webmanifest", get(|| async { file("manifest.webmanifest") }))
        .route("/assets/{*path}", get(|Path(path): Path<String>| async move { file(&path) }))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn file(path: &str) -> Response {
    let Some(f) = WEB.get_file(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
        // Assets are not fingerprinted: revalidate so an upgrade is seen at once.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
        ),
    ];
    (headers, f.contents()).into_response()
}
