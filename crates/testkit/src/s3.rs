//! An S3-compatible server of the test's own on a loopback port, with one
//! empty bucket: moto's `moto_server` (Python package `moto[server]`), which
//! speaks the S3 REST protocol — signed requests, multipart uploads, ranged
//! reads — without a disk or an account. The program is `PARTA_MOTO_SERVER`
//! when set (`.ci/run` installs it in a virtualenv), else `moto_server` on
//! the PATH. Without it the tests say so and pass, unless `PARTA_REQUIRE_S3`
//! is set, as `.ci/run` does.

#![allow(clippy::unwrap_used)]

use blobs::{BlobConfig, Secret};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct S3Server {
    pub port: u16,
    child: Child,
    /// Where the server writes its log, read back when it fails to start.
    _log: tempfile::NamedTempFile,
}

/// The bucket every test server starts with.
pub const BUCKET: &str = "parta-files";

/// moto starts in about half a second here; a cold start on a busy machine
/// (Python importing boto) takes several.
const START_TIMEOUT: Duration = Duration::from_secs(30);

impl S3Server {
    /// `None` (after saying why) when `moto_server` is not installed here.
    pub async fn start(test: &str) -> Option<S3Server> {
        let program = std::env::var("PARTA_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let spawned = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => return skip(test, &format!("{program}: {e}")),
        };
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            // A launcher that finds no moto (a pyenv shim) exits at once.
            if let Some(status) = child.try_wait().unwrap() {
                let mut said = String::new();
                log.reopen().unwrap().read_to_string(&mut said).unwrap();
                return skip(test, &format!("{program} exited ({status}): {said}"));
            }
            assert!(tokio::time::Instant::now() < deadline, "{program} did not start on port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let server = S3Server { port, child, _log: log };
        server.create_bucket().await;
        Some(server)
    }

    /// The `[files]` settings of a node that keeps its files here (moto
    /// accepts any credentials; the request is signed all the same).
    pub fn config(&self) -> BlobConfig {
        BlobConfig::S3 {
            bucket: BUCKET.into(),
            endpoint: Some(format!("http://127.0.0.1:{}", self.port)),
            region: "us-east-1".into(),
            access_key_id: "parta-test-key".into(),
            secret_access_key: Secret("parta-test-secret".into()),
            allow_http: true,
        }
    }

    /// moto takes a bucket's creation unsigned, so a plain request does,
    /// and the test needs no S3 client of its own for it.
    async fn create_bucket(&self) {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let request = format!(
            "PUT /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let response = String::from_utf8_lossy(&response);
        assert!(response.starts_with("HTTP/1.1 200"), "creating bucket {BUCKET}: {response}");
    }
}

fn skip(test: &str, why: &str) -> Option<S3Server> {
    assert!(std::env::var_os("PARTA_REQUIRE_S3").is_none(), "PARTA_REQUIRE_S3 is set but there is no S3 server: {why}");
    eprintln!("{test}: skipped, no S3 server ({why}); pip install 'moto[server]' or set PARTA_MOTO_SERVER");
    None
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
