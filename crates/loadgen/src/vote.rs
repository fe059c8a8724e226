//! A class votes (issue 20): every member of one seeded chat votes once in a
//! poll, the votes spread evenly over a short window (open loop: each vote is
//! timed from the moment it was due, so a stalled server shows as latency),
//! over HTTP as the web client votes. Every member also holds a socket, as an
//! open messenger does, and receives the poll's `poll` events (the results so
//! far, a few a second). At the end the poll's results are read back: every
//! vote must be counted, and every socket's latest event must show them all.

use crate::client::Socket;
use crate::http::{checked, pooled};
use crate::procstat::CpuMark;
use crate::seed::Member;
use crate::stats::Histogram;
use crate::{Error, Result, loopback_addr};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Config {
    /// All votes are due within this window.
    pub within: Duration,
    pub anonymous: bool,
    /// Sockets receiving the events: `false` measures the votes alone.
    pub sockets: bool,
    pub connect_concurrency: usize,
    /// How long the sockets may take to receive the last events.
    pub drain: Duration,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub members: usize,
    pub within: Duration,
    pub anonymous: bool,
    pub sockets: bool,
    /// Votes answered 200.
    pub accepted: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Due → answered.
    pub ack: Histogram,
    /// From the first vote's due time to the last answer.
    pub seconds: f64,
    /// `voters` of the poll read back at the end.
    pub counted: i64,
    /// `poll` events received over all sockets.
    pub events: u64,
    /// Sockets whose events came to show every member's vote.
    pub sockets_complete: u64,
    /// From the last vote's answer until the last socket was complete.
    pub complete_after: Option<Duration>,
    pub server_cpu_percent: Option<f64>,
}

/// Members vote in a new poll of their chat (asked by the first of them).
pub async fn run(url: &str, members: &[Member], pid: Option<u32>, config: &Config) -> Result<Report> {
    let first = members.first().ok_or_else(|| Error::Config("no members".into()))?;
    let chat = first.chat;
    let base = format!("http://{}", loopback_addr(url)?);
    let http = pooled(Duration::from_secs(60))?;
    let body = json!({
        "client_id": format!("vote-{}", std::process::id()),
        "question": "Когда едем на экскурсию?",
        "options": ["В пятницу", "В субботу", "В воскресенье", "Не поеду"],
        "anonymous": config.anonymous,
    });
    let ack = http
        .post(format!("{base}/api/messenger/chats/{chat}/polls"))
        .header("cookie", first.cookie())
        .json(&body)
        .send()
        .await?;
    let ack = checked(ack, "creating the poll").await?;
    let message = ack["message_id"].as_i64().ok_or_else(|| Error::Protocol(format!("no message_id in {ack}")))?;
    let seq = ack["seq"].as_i64().unwrap_or(0);

    let events = Arc::new(AtomicU64::new(0));
    let complete = Arc::new(AtomicU64::new(0));
    let last_complete = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let everyone = i64::try_from(members.len()).unwrap_or(i64::MAX);
    let mut listeners = Vec::new();
    if config.sockets {
        let sockets: Vec<Result<Socket>> = futures_util::stream::iter(members.iter())
            .map(|m| async move {
                let mut socket = Socket::open(url, &m.cookie(), &[(chat, seq)]).await?;
                socket.until("ready", Duration::from_secs(60)).await?;
                Ok(socket)
            })
            .buffered(config.connect_concurrency.max(1))
            .collect()
            .await;
        for socket in sockets {
            let mut socket = socket?;
            let (events, complete, last_complete) = (events.clone(), complete.clone(), last_complete.clone());
            listeners.push(tokio::spawn(async move {
                // Counts `poll` events until this socket's results show everyone's vote.
                while let Ok(Some(frame)) = socket.next_json(Duration::from_secs(30)).await {
                    if frame["type"] == "event" && frame["event"]["kind"] == "poll" {
                        events.fetch_add(1, Ordering::Relaxed);
                        if frame["event"]["poll"]["voters"].as_i64() == Some(everyone) {
                            complete.fetch_add(1, Ordering::Relaxed);
                            *last_complete.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                                Some(Instant::now());
                            return;
                        }
                    }
                }
            }));
        }
    }

    let cpu_start = pid.and_then(|p| CpuMark::now(&p.to_string()));
    let start = Instant::now();
    let n = u32::try_from(members.len()).map_err(|_| Error::Config("too many members".into()))?;
    let votes: Vec<(std::result::Result<(), String>, u64, Instant)> =
        futures_util::stream::iter(members.iter().enumerate())
            .map(|(i, m)| {
                let http = http.clone();
                let url = format!("{base}/api/messenger/chats/{chat}/messages/{message}/vote");
                let due = start + config.within * u32::try_from(i).unwrap_or(0) / n;
                let choice = i64::try_from(i % 4).unwrap_or(0);
                let cookie = m.cookie();
                tokio::spawn(async move {
                    tokio::time::sleep_until(due).await;
                    let res = http.put(url).header("cookie", cookie).json(&json!({ "options": [choice] })).send().await;
                    let outcome = match res {
                        Ok(res) => checked(res, "voting").await.map(|_| ()).map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let done = Instant::now();
                    let micros = u64::try_from(done.duration_since(due).as_micros()).unwrap_or(u64::MAX);
                    (outcome, micros, done)
                })
            })
            .buffer_unordered(members.len().max(1))
            .map(|joined| joined.unwrap_or_else(|e| (Err(e.to_string()), 0, Instant::now())))
            .collect()
            .await;
    let cpu_end = pid.and_then(|p| CpuMark::now(&p.to_string()));
    let mut ack = Histogram::default();
    let (mut accepted, mut errors, mut first_error, mut last) = (0, 0, None, start);
    for (outcome, micros, done) in votes {
        last = last.max(done);
        match outcome {
            Ok(()) => {
                accepted += 1;
                ack.record(micros);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let seconds = last.duration_since(start).as_secs_f64();

    // The results as the asker reads them.
    let page =
        http.get(format!("{base}/api/messenger/chats/{chat}/messages")).header("cookie", first.cookie()).send().await?;
    let page = checked(page, "reading the poll back").await?;
    let counted = page["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == message))
        .and_then(|m| m["poll"]["voters"].as_i64())
        .unwrap_or(-1);

    let drain_until = Instant::now() + config.drain;
    while listeners.iter().any(|l| !l.is_finished()) && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let complete_after = (config.sockets && complete.load(Ordering::Relaxed) == members.len() as u64)
        .then(|| *last_complete.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
        .flatten()
        .map(|at| at.saturating_duration_since(last));
    for l in &listeners {
        l.abort();
    }
    Ok(Report {
        members: members.len(),
        within: config.within,
        anonymous: config.anonymous,
        sockets: config.sockets,
        accepted,
        errors,
        first_error,
        ack,
        seconds,
        counted,
        events: events.load(Ordering::Relaxed),
        sockets_complete: complete.load(Ordering::Relaxed),
        complete_after,
        server_cpu_percent: cpu_start.zip(cpu_end).map(|(a, b)| a.percent_until(&b)),
    })
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |micros: u64| micros as f64 / 1000.0;
        writeln!(
            f,
            "vote: {} members, votes due within {:.1} s, {} poll, sockets {}",
            self.members,
            self.within.as_secs_f64(),
            if self.anonymous { "anonymous" } else { "named" },
            if self.sockets { "on (the results' events to every member)" } else { "off" }
        )?;
        writeln!(
            f,
            "  votes: {} accepted, {} errors{}; last answer {:.2} s after the first was due",
            self.accepted,
            self.errors,
            self.first_error.as_ref().map_or(String::new(), |e| format!(" (first: {e})")),
            self.seconds
        )?;
        writeln!(f, "  counted in the poll: {} voters", self.counted)?;
        writeln!(
            f,
            "  vote acknowledgement (due → 200): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(self.ack.quantile(0.5)),
            ms(self.ack.quantile(0.99)),
            ms(self.ack.max())
        )?;
        if self.sockets {
            writeln!(
                f,
                "  poll events received: {} ({:.1} per member); {} of {} sockets came to show every vote{}",
                self.events,
                self.events as f64 / self.members.max(1) as f64,
                self.sockets_complete,
                self.members,
                self.complete_after.map_or(String::new(), |d| format!(
                    ", the last {:.0} ms after the last vote's answer",
                    d.as_secs_f64() * 1000.0
                ))
            )?;
        }
        if let Some(cpu) = self.server_cpu_percent {
            writeln!(f, "  server CPU while voting: {cpu:.0} % of one core")?;
        }
        Ok(())
    }
}
