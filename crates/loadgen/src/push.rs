//! A message reaches a large chat whose every member has the messenger
//! closed on two devices (issue 19): each device holds a Web Push
//! subscription to a push service on loopback (`push::receiver`, which
//! decrypts as a browser does), every member chose «Все сообщения», and one
//! member writes. Measured: how long until the service has every push, and
//! the server's CPU meanwhile.

use crate::http::{checked, pooled, succeeded};
use crate::procstat::CpuMark;
use crate::seed::Member;
use crate::{Error, Result, loopback_addr};
use futures_util::StreamExt;
use push::receiver::PushReceiver;
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Config {
    /// How long the pushes may take to arrive, grace period included.
    pub within: Duration,
    pub concurrency: usize,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub members: usize,
    pub devices: usize,
    /// Pushes due: every device but the writer's own.
    pub expected: usize,
    pub received: usize,
    /// Received pushes that decrypted to this message's payload.
    pub valid: usize,
    /// From the send's answer to the first and the last push.
    pub first: Duration,
    pub last: Duration,
    /// Server CPU from the send's answer to the last push, in seconds.
    pub server_cpu_seconds: Option<f64>,
    pub server_cpu_percent: Option<f64>,
}

/// `devices[d][i]` is member `i`'s device `d`: every list has the same
/// members in the same order; the first member of the first list writes.
pub async fn run(url: &str, devices: &[Vec<Member>], pid: Option<u32>, config: &Config) -> Result<Report> {
    let writer = devices.first().and_then(|d| d.first()).ok_or_else(|| Error::Config("no members".into()))?;
    let chat = writer.chat;
    let base = format!("http://{}", loopback_addr(url)?);
    let http = pooled(Duration::from_secs(60))?;
    let service = PushReceiver::start().await?;
    let concurrency = config.concurrency.max(1);

    // Every device subscribes, as the messenger's «Уведомления» switch does.
    let all: Vec<(usize, &Member)> =
        devices.iter().enumerate().flat_map(|(d, list)| list.iter().map(move |m| (d, m))).collect();
    let subscribed: Vec<Result<()>> = futures_util::stream::iter(all.iter())
        .map(|(d, m)| {
            let body = service.subscribe(&format!("{}-{d}", m.person));
            let req = http.post(format!("{base}/api/push/subscriptions")).header("cookie", m.cookie()).json(&body);
            async move { succeeded(req.send().await?, "subscribing").await.map(|_| ()) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    subscribed.into_iter().collect::<Result<Vec<()>>>()?;
    // A chat this large notifies only mentions until its members choose more.
    let members = devices.first().map_or(&[][..], Vec::as_slice);
    let chosen: Vec<Result<()>> = futures_util::stream::iter(members.iter())
        .map(|m| {
            let req = http
                .put(format!("{base}/api/messenger/chats/{chat}/notifications"))
                .header("cookie", m.cookie())
                .json(&json!({ "level": "all" }));
            async move { succeeded(req.send().await?, "choosing «Все сообщения»").await.map(|_| ()) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    chosen.into_iter().collect::<Result<Vec<()>>>()?;

    let expected = all.iter().filter(|(_, m)| m.person != writer.person).count();
    let text = "Завтра уроки до 13:00: после — собрание в актовом зале.";
    let send = http
        .post(format!("{base}/api/messenger/chats/{chat}/messages"))
        .header("cookie", writer.cookie())
        .json(&json!({ "client_id": format!("push-{}", std::process::id()), "text": text }));
    let ack = checked(send.send().await?, "writing the message").await?;
    let sent = Instant::now();
    let cpu_start = pid.and_then(|p| CpuMark::now(&p.to_string()));
    let message = ack["message_id"].as_i64();
    let received = service.wait_for(expected, config.within).await.unwrap_or_else(|came| came);
    let cpu_end = pid.and_then(|p| CpuMark::now(&p.to_string()));
    let valid = received
        .iter()
        .filter(|r| r.vapid && r.payload["chat"].as_i64() == Some(chat) && r.payload["message"].as_i64() == message)
        .count();
    let since = |at: Option<Instant>| at.map_or(Duration::ZERO, |at| at.saturating_duration_since(sent));
    Ok(Report {
        members: members.len(),
        devices: all.len(),
        expected,
        received: received.len(),
        valid,
        first: since(received.iter().map(|r| r.at).min()),
        last: since(received.iter().map(|r| r.at).max()),
        server_cpu_seconds: cpu_start.zip(cpu_end).map(|(a, b)| b.cpu_seconds_since(&a)),
        server_cpu_percent: cpu_start.zip(cpu_end).map(|(a, b)| a.percent_until(&b)),
    })
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        writeln!(
            f,
            "push: one message to {} members on {} devices, all with the messenger closed",
            self.members, self.devices
        )?;
        writeln!(
            f,
            "  pushes: {} of {} received, {} decrypted to the message",
            self.received, self.expected, self.valid
        )?;
        writeln!(
            f,
            "  after the send's answer: first {:.0} ms (the grace period), last {:.0} ms; all pushed within {:.0} ms",
            ms(self.first),
            ms(self.last),
            ms(self.last.saturating_sub(self.first))
        )?;
        if let (Some(s), Some(p)) = (self.server_cpu_seconds, self.server_cpu_percent) {
            writeln!(f, "  server CPU from the answer to the last push: {s:.2} s ({p:.0} % of one core)")?;
        }
        Ok(())
    }
}
