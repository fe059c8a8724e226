//! A NATS server of the test's own, on a loopback port, that the test may
//! stop and start again. The cluster tests need the `nats-server` program
//! (Debian's `nats-server` package); without it they say so and pass, unless
//! `PARTA_REQUIRE_NATS` is set, as `.ci/run` does.

#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NatsServer {
    pub port: u16,
    program: String,
    child: Option<Child>,
}

fn program() -> Option<String> {
    ["nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok())
        .map(String::from)
}

impl NatsServer {
    /// `None` (after saying why) when `nats-server` is not installed here.
    pub async fn start(test: &str) -> Option<NatsServer> {
        let Some(program) = program() else {
            assert!(
                std::env::var_os("PARTA_REQUIRE_NATS").is_none(),
                "PARTA_REQUIRE_NATS is set but nats-server is not installed"
            );
            eprintln!("{test}: skipped, nats-server is not installed (apt install nats-server)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = NatsServer { port, program, child: None };
        server.resume().await;
        Some(server)
    }

    /// What `nats_url` (`PARTA_NATS_URL`) takes.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and waits until it accepts.
    pub async fn resume(&mut self) {
        let child = Command::new(&self.program)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not start on port {}", self.port);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
