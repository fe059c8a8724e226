//! `parta-load`: the messenger's load generator, and the pieces the crash test
//! reuses.
//!
//! - [`seed`] writes a benchmark organisation, chat(s), linked members and
//!   messenger sessions straight into a running server's SQLite database.
//! - [`client`] is a WebSocket client that can bind a chosen loopback source
//!   address (50,000 connections need more ephemeral ports than one address has);
//!   [`http`] reads JSON from the server.
//! - [`w1`] (one chat, M members, closed or open loop) and [`w2`] (N idle
//!   connections) are the workloads of the issue "Messenger core"; W1 also
//!   speaks the protocol of `bare-ws`, the machine's ceiling it is compared with
//!   ([`client::Dialect`]).
//! - [`hostile`] holds connections that send nothing or trickle their headers
//!   while another user's requests are timed.
//! - [`vote`] is a class voting in a poll at once (issue 20).
//! - [`calls`] measures the SFU with synthetic WebRTC participants
//!   ([`rtc_client`], on `str0m`; frame pacing and loss accounting in [`pacing`]).
//!
//! Every address it talks to is checked to be loopback (127.0.0.0/8 or ::1):
//! this tool never sends traffic off the machine.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod calls;
pub mod client;
pub mod frames;
pub mod hostile;
pub mod http;
pub mod pacing;
pub mod procstat;
pub mod push;
pub mod rtc_client;
pub mod seed;
pub mod stats;
pub mod vote;
pub mod w1;
pub mod w2;

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("websocket: {0}")]
    WebSocket(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0} is not a loopback address: parta-load only talks to this machine")]
    NotLoopback(String),
    #[error("bad url {0:?}: expected http://127.0.0.1:PORT")]
    BadUrl(String),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("timed out: {0}")]
    Timeout(String),
    /// A run this tool refuses to make (its figures would mean nothing).
    #[error("{0}")]
    Config(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `http://127.0.0.1:8080` (a trailing `/` or path is ignored) → the socket
/// address, refused unless it is loopback. `localhost` means 127.0.0.1.
pub fn loopback_addr(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("ws://"))
        .ok_or_else(|| Error::BadUrl(url.to_string()))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = match authority.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => authority.to_string(),
    };
    let addr: SocketAddr = authority.parse().map_err(|_| Error::BadUrl(url.to_string()))?;
    if !addr.ip().is_loopback() {
        return Err(Error::NotLoopback(addr.to_string()));
    }
    Ok(addr)
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(loopback_addr("http://127.0.0.1:8080").unwrap().port(), 8080);
        assert_eq!(loopback_addr("http://localhost:81/").unwrap().to_string(), "127.0.0.1:81");
        assert!(loopback_addr("http://127.0.0.9:1/x").is_ok());
        assert!(loopback_addr("http://[::1]:1").is_ok());
        assert!(matches!(loopback_addr("http://10.0.0.1:80"), Err(Error::NotLoopback(_))));
        assert!(matches!(loopback_addr("http://example.org:80"), Err(Error::BadUrl(_))));
        assert!(matches!(loopback_addr("https://127.0.0.1:80"), Err(Error::BadUrl(_))));
    }
}
