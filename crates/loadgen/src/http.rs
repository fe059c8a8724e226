//! The few HTTP reads the tools need: health and JSON with a session cookie.

use crate::{Error, Result, loopback_addr};
use serde_json::Value;
use std::time::{Duration, Instant};

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build()?)
}

/// A client for many members' requests at once, each given `timeout`.
pub fn pooled(timeout: Duration) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(timeout).no_proxy().pool_max_idle_per_host(256).build()?)
}

/// The answer's JSON, or an error naming `what` with the status and body
/// when it is not a success.
pub async fn checked(res: reqwest::Response, what: &str) -> Result<Value> {
    let body = succeeded(res, what).await?;
    serde_json::from_str(&body).map_err(|e| Error::Protocol(format!("{what}: {e}")))
}

/// The answer's body (empty for a 204), or an error naming `what` with the
/// status and body when it is not a success.
pub async fn succeeded(res: reqwest::Response, what: &str) -> Result<String> {
    let status = res.status();
    let body = res.text().await?;
    if !status.is_success() {
        return Err(Error::Protocol(format!("{what}: {status}: {body}")));
    }
    Ok(body)
}

/// `GET {url}{path}` with the cookie; the answer's JSON, or an error with the
/// status and body when it is not 200.
pub async fn get_json(url: &str, path: &str, cookie: &str) -> Result<Value> {
    let addr = loopback_addr(url)?;
    let res = client()?.get(format!("http://{addr}{path}")).header("cookie", cookie).send().await?;
    checked(res, &format!("GET {path}")).await
}

/// Polls `/healthz` every 50 ms until it answers 200 or `within` passes.
pub async fn wait_healthy(url: &str, within: Duration) -> Result<()> {
    let addr = loopback_addr(url)?;
    let client = client()?;
    let start = Instant::now();
    while start.elapsed() < within {
        if let Ok(res) = client.get(format!("http://{addr}/healthz")).send().await
            && res.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Error::Timeout(format!("{url}/healthz did not answer within {within:?}")))
}
