//! `parta-load`: the messenger's load generator. Talks only to loopback.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use loadgen::client::Dialect;
use loadgen::{calls, hostile, push, seed, vote, w1, w2};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "parta-load", about = "Load generator for Parta's messenger (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seeds a chat of linked members with messenger sessions into a running
    /// server's data directory, and prints one member's cookie.
    Seed {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 30)]
        members: usize,
        /// Members per chat (default: all in one chat).
        #[arg(long)]
        chat_size: Option<usize>,
        /// Writes every member as a line `person chat token` (the token is the
        /// `parta_messenger` cookie's value), so another load generator can
        /// drive the seeded chats without touching the database.
        #[arg(long)]
        sessions_out: Option<PathBuf>,
    },
    /// W1: one chat of M members, all connected, some sending.
    W1(W1Args),
    /// W2: N authenticated idle connections; the server's memory per connection.
    W2 {
        /// The server; several nodes of a cluster separated by commas (the
        /// connections are spread over them in turn).
        #[arg(long, value_delimiter = ',', required = true)]
        url: Vec<String>,
        /// The running server's data directory (its SQLite database is seeded).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Seed this database instead (the nodes' PostgreSQL).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long)]
        connections: usize,
        /// Members per chat of the seeded organisation.
        #[arg(long, default_value_t = 30)]
        chat_size: usize,
        /// Handshakes at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// The first source address; the next ones count up from it.
        #[arg(long, default_value = "127.0.0.2")]
        first_source: Ipv4Addr,
        /// Connections per source address (one has ~28,000 ephemeral ports).
        #[arg(long, default_value_t = 20_000)]
        per_source: usize,
        /// Seconds the connections stay idle before the "after" reading.
        #[arg(long, default_value_t = 5)]
        settle: u64,
        /// Give up connecting after this many seconds.
        #[arg(long, default_value_t = 900)]
        connect_deadline: u64,
        /// The server's process; several nodes' separated by commas.
        #[arg(long, value_delimiter = ',')]
        server_pid: Vec<u32>,
    },
    /// Calls: the SFU's capacity with synthetic WebRTC participants (one
    /// chat's call: V video publishers, A audio publishers taking turns to
    /// talk, everyone receiving every other camera and, on the SFU's 3 voice
    /// slots, whoever else speaks).
    Calls(CallsArgs),
    /// Hostile connections: N from one address that send nothing or trickle
    /// their headers (reopened whenever the server closes them) while
    /// another user, from another address, is served; that user's latency.
    /// Start the server with `trusted_proxies` that leave out the hostile
    /// address (`PARTA_CONNECTIONS_TRUSTED_PROXIES=127.0.0.1`): loopback is
    /// trusted, and so not capped, by default.
    Hostile(HostileArgs),
    /// A class votes: every member of a seeded chat votes once in a new poll,
    /// the votes due evenly within `--within` seconds, each member's socket
    /// receiving every vote's results; all votes must be counted.
    Vote {
        #[arg(long)]
        url: String,
        /// The running server's data directory (the chat is seeded there).
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 1000)]
        members: usize,
        #[arg(long, default_value_t = 2.0)]
        within: f64,
        #[arg(long)]
        anonymous: bool,
        /// No sockets: the votes alone, without the events' fan-out.
        #[arg(long)]
        no_sockets: bool,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Seconds the sockets may take to receive the last events.
        #[arg(long, default_value_t = 30)]
        drain: u64,
        /// The server's process, for its CPU.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// A message to a large chat whose members all have the messenger closed
    /// on two devices with Web Push: time until a push service on loopback
    /// has every push, and the server's CPU. Start the server with `parta
    /// demo` (demo mode lets loopback push services subscribe).
    Push {
        #[arg(long)]
        url: String,
        /// The running server's data directory (the chat is seeded there).
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 1000)]
        members: usize,
        /// Push subscriptions per member, each on its own messenger session.
        #[arg(long, default_value_t = 2)]
        devices: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Seconds the pushes may take to arrive, the grace period included.
        #[arg(long, default_value_t = 60)]
        within: u64,
        /// The server's process, for its CPU.
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

#[derive(clap::Args)]
struct W1Args {
    /// The server (`http://127.0.0.1:PORT`): Parta, or bare-ws (the
    /// machine's ceiling, `../shared/reference/bare-ws`) with `--bare`. Several nodes of a cluster separated by commas: the members
    /// are spread over them in turn.
    #[arg(long, value_delimiter = ',', required = true)]
    url: Vec<String>,
    /// Parta's data directory (the chat is seeded there). Not for `--bare`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Seed the chat in this database instead of the data directory's
    /// (PostgreSQL: `postgres://…`, the nodes' `database_url`).
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 30)]
    members: usize,
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Closed loop: unacknowledged sends per sender.
    #[arg(long, default_value_t = 4)]
    window: usize,
    /// Open loop instead: messages per second, all senders together.
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds after the senders stop for the last deliveries.
    #[arg(long, default_value_t = 5)]
    drain: u64,
    #[arg(long, default_value_t = 100)]
    text_bytes: usize,
    #[arg(long, default_value_t = 32)]
    connect_concurrency: usize,
    /// The server's process; several nodes' separated by commas.
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// `--url` is bare-ws.
    #[arg(long)]
    bare: bool,
    /// Also run the same workload against bare-ws here (`http://ADDR` of a
    /// running `bare`), right after Parta, and print the ratios.
    #[arg(long)]
    bare_url: Option<String>,
    #[arg(long)]
    bare_pid: Option<u32>,
}

#[derive(clap::Args)]
struct HostileArgs {
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 2000)]
    connections: usize,
    #[arg(long, value_enum, default_value = "mixed")]
    behaviour: hostile::Behaviour,
    #[arg(long, default_value = "127.0.0.2")]
    hostile_source: IpAddr,
    #[arg(long, default_value = "127.0.0.3")]
    user_source: IpAddr,
    /// The running server's data directory: the user is then a seeded
    /// messenger member asking for their chats, not `/healthz`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Milliseconds between the user's requests.
    #[arg(long, default_value_t = 50)]
    interval_ms: u64,
    /// Seconds for the hostile connections to open before the user starts.
    #[arg(long, default_value_t = 5)]
    ramp: u64,
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Milliseconds before a connection the server refused at once (over the
    /// per-address cap) tries again: 1,000 surplus connections retrying every
    /// 100 ms are a connect flood of 10,000 a second.
    #[arg(long, default_value_t = 1000)]
    retry_ms: u64,
}

#[derive(clap::Args)]
struct CallsArgs {
    /// Participants that send a microphone (20 ms Opus-sized frames, 50/s).
    #[arg(long, default_value_t = 30)]
    publishers_audio: usize,
    /// Participants that send a camera (VP8 at --video-kbps, 30 fps), the
    /// first ones (the teacher).
    #[arg(long, default_value_t = 1)]
    video: usize,
    /// Participants in the call, at least the publishers; every participant
    /// receives every other's camera and up to 3 voices at once.
    #[arg(long, default_value_t = 30)]
    subscribers: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds of media after the call settled, before measuring.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Seconds after the window for its last frames to arrive.
    #[arg(long, default_value_t = 2)]
    drain: u64,
    /// Grow the call (10, 20, 30, 40, 60, … participants: 1 camera, the rest
    /// microphones, --talkers of them talking) until loss passes 1 % or a CPU
    /// saturates; one line a step.
    #[arg(long)]
    sweep: bool,
    /// The sweep's sizes instead (comma-separated participants).
    #[arg(long, value_delimiter = ',')]
    steps: Option<Vec<usize>>,
    #[arg(long, default_value_t = 1500)]
    video_kbps: u32,
    /// Microphones speaking at once during the window, taking 2 s turns (the
    /// others send silence, which the SFU does not forward); at most 3, the
    /// SFU's voice slots. Before the window every microphone speaks, to open
    /// every slot. Default: the teacher and one student.
    #[arg(long, default_value_t = loadgen::pacing::DEFAULT_TALKERS)]
    talkers: usize,
    #[arg(long, default_value_t = 4)]
    join_concurrency: usize,
    /// This many more participants join and hang up once the call settled,
    /// before the window (the others take the offers that stop their tracks).
    #[arg(long, default_value_t = 0)]
    leavers: usize,
    /// Seconds to wait for every camera and voice slot to flow before measuring anyway.
    #[arg(long, default_value_t = 90)]
    settle_timeout: u64,
    /// A server already running (`http://127.0.0.1:PORT`) instead of starting one;
    /// needs --data and --server-pid.
    #[arg(long)]
    url: Option<String>,
    /// The data directory: the running server's with --url; otherwise the one
    /// to start `parta serve` in (default: a fresh temporary directory).
    #[arg(long)]
    data: Option<PathBuf>,
    #[arg(long)]
    server_pid: Option<u32>,
    /// The `parta` binary to start [default: `parta` next to this one].
    #[arg(long)]
    parta: Option<PathBuf>,
    /// A configuration file for the started server (`--config`).
    #[arg(long)]
    server_config: Option<PathBuf>,
    /// Pin the started server to these CPUs (`taskset -c`, e.g. `1`); pin
    /// this tool with `taskset -c 0 parta-load …` to keep them apart.
    #[arg(long)]
    server_cpus: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    raise_open_files_limit();
    match Cli::parse().command {
        Command::Seed { data, members, chat_size, sessions_out } => {
            let s = seed::seed_chats(&data, members, chat_size.unwrap_or(members)).await?;
            println!("org {}, chats {:?}, {} members", s.org, s.chats, s.members.len());
            if let Some(path) = sessions_out {
                std::fs::write(&path, seed::sessions_file(&s.members))
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("sessions of {} members written to {}", s.members.len(), path.display());
            }
            if let Some(m) = s.members.first() {
                println!("first member: person {}, cookie {}", m.person, m.cookie());
            }
            Ok(())
        }
        Command::W1(args) => run_w1(args).await,
        Command::Vote { url, data, members, within, anonymous, no_sockets, concurrency, drain, server_pid } => {
            let s = seed::seed(&data, members).await?;
            let config = vote::Config {
                within: Duration::from_secs_f64(within),
                anonymous,
                sockets: !no_sockets,
                connect_concurrency: concurrency,
                drain: Duration::from_secs(drain),
            };
            let report = vote::run(&url, &s.members, server_pid, &config).await?;
            print!("{report}");
            if report.counted != i64::try_from(report.accepted).unwrap_or(-1) || report.errors > 0 {
                bail!("{} votes accepted but {} counted, {} errors", report.accepted, report.counted, report.errors);
            }
            Ok(())
        }
        Command::Push { url, data, members, devices, concurrency, within, server_pid } => {
            let first = seed::seed(&data, members).await?.members;
            let mut all = vec![first];
            for _ in 1..devices {
                all.push(seed::another_device(&data, &all[0]).await?);
            }
            let config = push::Config { within: Duration::from_secs(within), concurrency };
            let report = push::run(&url, &all, server_pid, &config).await?;
            print!("{report}");
            if report.valid != report.expected {
                bail!("{} pushes due, {} arrived as sent", report.expected, report.valid);
            }
            Ok(())
        }
        Command::Hostile(args) => run_hostile(args).await,
        Command::Calls(args) => run_calls(args).await,
        Command::W2 {
            url,
            data,
            database_url,
            connections,
            chat_size,
            concurrency,
            first_source,
            per_source,
            settle,
            connect_deadline,
            server_pid,
        } => {
            let started = std::time::Instant::now();
            let s = match (database_url, data) {
                (Some(url), _) => seed::seed_url(&url, connections, chat_size).await,
                (None, Some(data)) => seed::seed_chats(&data, connections, chat_size).await,
                (None, None) => bail!("--data (the server's data directory) or --database-url is needed"),
            }
            .context("seeding")?;
            println!(
                "seeded {} members in {} chats of {chat_size} in {:.1} s",
                s.members.len(),
                s.chats.len(),
                started.elapsed().as_secs_f64()
            );
            let first = u32::from(first_source);
            let sources =
                (0..connections.div_ceil(per_source.max(1)) as u32).map(|k| Ipv4Addr::from(first + k)).collect();
            let config = w2::Config {
                urls: url,
                cookies: s.members.iter().map(seed::Member::cookie).collect(),
                concurrency,
                sources,
                per_source,
                settle: Duration::from_secs(settle),
                pids: server_pid,
                connect_deadline: Duration::from_secs(connect_deadline),
            };
            let r = w2::run(&config).await?;
            print_w2(&r);
            if r.failed > 0 {
                bail!("{} connections failed", r.failed);
            }
            Ok(())
        }
    }
}

/// Every connection of a workload is a file descriptor: the soft limit (often
/// 1,024) goes up to the hard one, and the figure is printed with the run.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => eprintln!("open-files limit: {limit}"),
        Err(e) => eprintln!("cannot raise the open-files limit: {e}"),
    }
}

async fn run_hostile(args: HostileArgs) -> Result<()> {
    let (user_path, user_cookie) = match &args.data {
        Some(data) => {
            let s = seed::seed(data, 1).await.context("seeding the user")?;
            let member = s.members.first().context("a seeded member")?;
            ("/api/messenger/chats".to_string(), Some(member.cookie()))
        }
        None => ("/healthz".to_string(), None),
    };
    let config = hostile::Config {
        url: args.url,
        connections: args.connections,
        behaviour: args.behaviour,
        hostile_source: args.hostile_source,
        user_source: args.user_source,
        user_path,
        user_cookie,
        user_interval: Duration::from_millis(args.interval_ms),
        ramp: Duration::from_secs(args.ramp),
        seconds: Duration::from_secs(args.seconds),
        connect_concurrency: args.connect_concurrency,
        retry_refused: Duration::from_millis(args.retry_ms),
    };
    let r = hostile::run(&config).await?;
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "hostile: {} connections ({:?}) from {}; opened {} in all, refused at once {}, closed later {} \
         (lived p50 {} ms, max {} ms), connect failures {}, open at the end {}",
        config.connections,
        config.behaviour,
        config.hostile_source,
        r.opened,
        r.refused,
        r.timed_out,
        r.lifetime_ms.quantile(0.5),
        r.lifetime_ms.max(),
        r.connect_failed,
        r.open_at_end,
    );
    let h = &r.user_latency;
    println!(
        "user {} ({}): {} served, {} failed; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        config.user_source,
        config.user_path,
        r.user_ok,
        r.user_failed,
        ms(h.quantile(0.5)),
        ms(h.quantile(0.99)),
        ms(h.max()),
    );
    if let Some(why) = &r.user_first_failure {
        println!("first failure: {why}");
    }
    if r.user_failed > 0 {
        bail!("the other user was not always served");
    }
    Ok(())
}

async fn run_w1(args: W1Args) -> Result<()> {
    let config = w1::Config {
        senders: args.senders,
        window: args.window,
        rate: args.rate,
        warmup: Duration::from_secs(args.warmup),
        seconds: Duration::from_secs(args.seconds),
        drain: Duration::from_secs(args.drain),
        text_bytes: args.text_bytes,
        connect_concurrency: args.connect_concurrency,
    };
    // A room of its own each run: bare-ws keeps a room's sequence for as long as it runs.
    let bare_target = |urls: Vec<String>, pids: Vec<u32>| w1::Target {
        label: "bare-ws".into(),
        dialect: Dialect::BareWs { room: format!("w1-{:08x}", rand::random::<u32>()) },
        urls,
        chat: 1,
        cookies: vec![None; args.members],
        base_seq: 0,
        pids,
    };
    let mut reports = Vec::new();
    if args.bare {
        reports.push(w1::run(&bare_target(args.url.clone(), args.server_pid.clone()), &config).await?);
    } else {
        let database = match (&args.database_url, &args.data) {
            (Some(url), _) => url.clone(),
            (None, Some(data)) => seed::database_url(data),
            (None, None) => bail!("--data (Parta's data directory) or --database-url is needed, or --bare"),
        };
        let s = seed::seed_url(&database, args.members, args.members).await.context("seeding the chat")?;
        let target = w1::Target {
            label: "parta".into(),
            dialect: Dialect::Parta,
            urls: args.url.clone(),
            chat: s.chat(),
            cookies: s.members.iter().map(|m| Some(m.cookie())).collect(),
            base_seq: 0,
            pids: args.server_pid.clone(),
        };
        reports.push(w1::run(&target, &config).await?);
        if let Some(url) = args.bare_url.clone() {
            reports.push(w1::run(&bare_target(vec![url], args.bare_pid.into_iter().collect()), &config).await?);
        }
    }
    print_w1(&config, &reports);
    // bare-ws has no history to resume from: only Parta must lose nothing.
    if reports.iter().any(|r| r.label == "parta" && (r.lost_messages > 0 || r.duplicated > 0)) {
        bail!("Parta lost or duplicated messages");
    }
    Ok(())
}

async fn run_calls(args: CallsArgs) -> Result<()> {
    let base = calls::Config {
        audio_publishers: args.publishers_audio,
        video_publishers: args.video,
        participants: args.subscribers,
        warmup: Duration::from_secs(args.warmup),
        seconds: Duration::from_secs(args.seconds),
        drain: Duration::from_secs(args.drain),
        settle_timeout: Duration::from_secs(args.settle_timeout),
        quiet: Duration::from_secs(2),
        join_concurrency: args.join_concurrency,
        video: loadgen::pacing::VideoPlan { bitrate: args.video_kbps * 1000, ..Default::default() },
        talkers: args.talkers,
    };
    // Before a server is started for nothing.
    base.check()?;
    let mut server = None;
    let target = match &args.url {
        Some(url) => calls::Target {
            url: url.clone(),
            data: args.data.clone().context("--data (the running server's data directory) is needed with --url")?,
            pid: args.server_pid,
        },
        None => {
            let binary = match &args.parta {
                Some(p) => p.clone(),
                None => std::env::current_exe()?.with_file_name("parta"),
            };
            let s = calls::Server::start(
                &binary,
                args.data.clone(),
                args.server_config.as_deref(),
                args.server_cpus.as_deref(),
            )?;
            println!("started {} serve at {} (pid {}, data {})", binary.display(), s.url, s.pid, s.data.display());
            let target = calls::Target { url: s.url.clone(), data: s.data.clone(), pid: Some(s.pid) };
            server = Some(s);
            target
        }
    };
    // This tool's cores (fewer under `taskset`) and the machine's.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let machine_cores = calls::machine_cpu().map(|m| m.cores).unwrap_or(cores);
    if !args.sweep {
        let r = calls::run_with_leavers(&target, &base, args.leavers).await?;
        print_calls(&base, &r, cores);
        drop(server);
        if r.failed > 0 {
            bail!("{} participants failed", r.failed);
        }
        return Ok(());
    }
    let steps = args.steps.clone().unwrap_or_else(|| calls::SWEEP.to_vec());
    println!(
        "\nCalls sweep: {} camera(s) at {} kbit/s, the other participants microphones, {} talking at a time; \
         {} s windows after {} s warm-up; {machine_cores} cores, this tool on {cores}",
        base.video_publishers, args.video_kbps, base.talkers, args.seconds, args.warmup
    );
    println!(
        "| participants | streams at once (audio + video) | streams with frames (live / expected) | packets/s | Mbit/s | \
         loss % (audio / video) | server CPU % | SFU thread % | generator CPU % | machine busy % (softirq) | \
         streams at once per core | UDP drops | SFU queue KiB | load avg | settled in |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in steps {
        let v = base.video_publishers.min(n);
        let config = calls::Config { audio_publishers: n - v, participants: n, ..base.clone() };
        let r = calls::run_with_leavers(&target, &config, args.leavers).await?;
        println!(
            "| {n} | {} | {} / {} | {:.0} | {:.1} | {:.2} ({:.2} / {:.2}) | {} | {} | {} | {} ({}) | {} | {} ({} at the SFU) | {} | {} | {:.1} s{} |",
            at_once(&r),
            r.streams_live,
            r.streams_expected,
            r.packets_per_s,
            r.mbit_per_s,
            r.loss_percent(),
            r.audio.loss_percent(),
            r.video.loss_percent(),
            pct(r.server_cpu),
            r.sfu_thread.as_ref().map(|(_, c)| format!("{c:.0}")).unwrap_or_else(|| "—".into()),
            pct(r.generator_cpu),
            pct(r.machine_busy),
            pct(r.machine_softirq),
            r.streams_per_core().map(|s| format!("{s:.0}")).unwrap_or_else(|| "—".into()),
            opt(r.udp_drops),
            opt(r.sfu_socket_drops),
            opt(r.sfu_queue_max_kib),
            r.load_average.clone().unwrap_or_default(),
            r.settle_seconds,
            if r.settled { "" } else { " (not settled)" },
        );
        print_notes(&r);
        if let Some(why) = calls::sweep_stop(&r, machine_cores, cores) {
            println!("sweep stopped after {n} participants: {why}");
            break;
        }
    }
    drop(server);
    Ok(())
}

/// "92.4 (62.4 + 30.0)": the streams forwarded at once, audio + video.
fn at_once(r: &calls::Report) -> String {
    format!("{:.1} ({:.1} + {:.1})", r.streams_at_once(), r.audio_at_once, r.video_at_once)
}

fn opt(v: Option<u64>) -> String {
    v.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|c| format!("{c:.0}")).unwrap_or_else(|| "—".into())
}

fn print_calls(config: &calls::Config, r: &calls::Report, cores: usize) {
    println!(
        "\nCalls: {} participants ({} video + {} audio publishers, {} talking at a time; everyone receives every \
         other camera and up to {} voices{}), {} s measured after {} s warm-up, {} s drain; {cores} cores for this tool",
        r.participants,
        r.video_publishers,
        r.audio_publishers,
        config.talkers.min(r.audio_publishers),
        loadgen::pacing::VOICE_SLOTS,
        if r.left > 0 { format!("; {} more joined and hung up before the window", r.left) } else { String::new() },
        config.seconds.as_secs(),
        config.warmup.as_secs(),
        config.drain.as_secs()
    );
    let q = |p: f64| format!("{:.1}", r.latency.quantile(p) as f64 / 1000.0);
    let rows: Vec<(&str, String)> = vec![
        ("connected / failed", format!("{} / {}", r.connected, r.failed)),
        (
            "settled (every camera and voice slot flowing, no offer for 2 s)",
            format!("{} in {:.1} s", if r.settled { "yes" } else { "NO" }, r.settle_seconds),
        ),
        ("join → connected p50 / max", format!("{:.2} / {:.2} s", r.join_p50_s, r.join_max_s)),
        ("call_offers answered", r.offers.to_string()),
        (
            "largest call_offer / call_answer frame",
            format!("{:.1} / {:.1} KiB", r.max_offer_bytes as f64 / 1024.0, r.max_answer_bytes as f64 / 1024.0),
        ),
        ("streams forwarded at once (audio + video)", at_once(r)),
        (
            "streams with frames in the window, live / expected (subscriber, publisher, kind)",
            format!("{} / {}", r.streams_live, r.streams_expected),
        ),
        ("forwarded RTP packets/s (received)", format!("{:.0}", r.packets_per_s)),
        ("forwarded frames/s (received)", format!("{:.0}", r.frames_per_s)),
        ("received Mbit/s", format!("{:.1}", r.mbit_per_s)),
        ("loss % (all)", format!("{:.3}", r.loss_percent())),
        ("silent audio frames forwarded (a voice's pauses)", r.silent_frames_forwarded.to_string()),
        (
            "loss % audio / video (frames)",
            format!(
                "{:.3} ({} of {}) / {:.3} ({} of {})",
                r.audio.loss_percent(),
                r.audio.expected - r.audio.received,
                r.audio.expected,
                r.video.loss_percent(),
                r.video.expected - r.video.received,
                r.video.expected
            ),
        ),
        (
            "worst stream loss %",
            r.worst_stream
                .map(|(l, s, p, k)| format!("{l:.2} (participant {s} receiving {p}'s {})", k.name()))
                .unwrap_or_else(|| "—".into()),
        ),
        ("frames received twice", r.duplicates.to_string()),
        ("frames received after a later one", r.out_of_order.to_string()),
        ("call_speaker frames received (loudest voice changed)", r.speaker_frames.to_string()),
        (
            "due → received p50 / p99 / max ms",
            format!("{} / {} / {}", q(0.5), q(0.99), r.latency.max() as f64 / 1000.0),
        ),
        (
            "keyframe requests / keyframes sent for them",
            format!("{} / {}", r.keyframe_requests, r.keyframes_on_request),
        ),
        ("server CPU % of a core", pct(r.server_cpu)),
        (
            "server SFU thread CPU %",
            r.sfu_thread.as_ref().map(|(n, c)| format!("{c:.0} ({n})")).unwrap_or_else(|| "—".into()),
        ),
        ("generator CPU % of a core", pct(r.generator_cpu)),
        (
            "streams forwarded at once per core",
            r.streams_per_core().map(|s| format!("{s:.0}")).unwrap_or_else(|| "—".into()),
        ),
        (
            "UDP receive-buffer drops: machine / SFU socket / participants' sockets",
            format!("{} / {} / {}", opt(r.udp_drops), opt(r.sfu_socket_drops), opt(r.participant_socket_drops)),
        ),
        (
            "machine CPU busy / of which softirq, % of a core",
            format!("{} / {}", pct(r.machine_busy), pct(r.machine_softirq)),
        ),
        ("SFU socket receive queue, fullest (KiB)", opt(r.sfu_queue_max_kib)),
        ("load average (1 min)", r.load_average.clone().unwrap_or_else(|| "—".into())),
    ];
    println!("| figure | value |\n|---|---|");
    for (name, value) in rows {
        println!("| {name} | {value} |");
    }
    print_notes(r);
}

fn print_notes(r: &calls::Report) {
    for (o, n) in &r.observations {
        println!("observed ({n} participants): {o}");
    }
    for (e, n) in &r.errors {
        println!("error ({n} participants): {e}");
    }
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "—".into())
}

fn print_w1(config: &w1::Config, reports: &[w1::Report]) {
    let Some(first) = reports.first() else { return };
    let mode = match config.rate {
        Some(r) => format!("open loop at {r} msgs/s"),
        None => format!("closed loop, window {}", config.window),
    };
    println!(
        "\nW1: {} members, {} senders, {mode}, {} B messages; {} s measured after {} s warm-up, {} s drain",
        first.members,
        first.senders,
        config.text_bytes,
        config.seconds.as_secs(),
        config.warmup.as_secs(),
        config.drain.as_secs()
    );
    type Row = (&'static str, fn(&w1::Report) -> String, Option<fn(&w1::Report) -> f64>);
    let rows: [Row; 18] = [
        ("accepted msgs/s", |r| format!("{:.0}", r.accepted_per_s), Some(|r| r.accepted_per_s)),
        ("deliveries/s", |r| format!("{:.0}", r.deliveries_per_s), Some(|r| r.deliveries_per_s)),
        ("latency p50 ms", |r| ms(r.latency.quantile(0.5)), Some(|r| r.latency.quantile(0.5) as f64)),
        ("latency p99 ms", |r| ms(r.latency.quantile(0.99)), Some(|r| r.latency.quantile(0.99) as f64)),
        ("latency max ms", |r| ms(r.latency.max()), None),
        (
            "ack p50 / p99 ms",
            |r| format!("{} / {}", ms(r.ack_latency.quantile(0.5)), ms(r.ack_latency.quantile(0.99))),
            None,
        ),
        ("acked (whole run)", |r| r.acked.to_string(), None),
        ("lost messages", |r| r.lost_messages.to_string(), None),
        ("lost deliveries", |r| r.lost_deliveries.to_string(), None),
        ("duplicated", |r| r.duplicated.to_string(), None),
        ("out of order", |r| r.out_of_order.to_string(), None),
        ("unacked at end", |r| r.unacked_at_end.to_string(), None),
        ("errors", |r| r.errors.to_string(), None),
        ("reconnects / resyncs", |r| format!("{} / {}", r.reconnects, r.resyncs), None),
        (
            "server CPU % of a core",
            |r| r.server_cpu_percent.map(|c| format!("{c:.0}")).unwrap_or_else(|| "—".into()),
            None,
        ),
        ("server RSS / peak MiB", |r| format!("{} / {}", mib(r.server_rss_kib), mib(r.server_hwm_kib)), None),
        ("generator CPU %", |r| r.generator_cpu_percent.map(|c| format!("{c:.0}")).unwrap_or_else(|| "—".into()), None),
        ("connect all (s)", |r| format!("{:.1}", r.connect_seconds), None),
    ];
    let ratio = reports.len() == 2;
    let mut header = String::from("| figure |");
    for r in reports {
        header.push_str(&format!(" {} |", r.label));
    }
    if ratio {
        header.push_str(" parta / bare-ws |");
    }
    println!("{header}");
    println!("|---|{}", "---|".repeat(reports.len() + usize::from(ratio)));
    for (name, show, value) in rows {
        let mut line = format!("| {name} |");
        for r in reports {
            line.push_str(&format!(" {} |", show(r)));
        }
        if ratio {
            match value {
                Some(v) if v(&reports[1]) > 0.0 => line.push_str(&format!(" {:.2} |", v(&reports[0]) / v(&reports[1]))),
                _ => line.push_str(" |"),
            }
        }
        println!("{line}");
    }
    for r in reports {
        if let Some(e) = &r.first_error {
            println!("{}: first error: {e}", r.label);
        }
        if !r.byes.is_empty() {
            println!("{}: bye frames: {:?}", r.label, r.byes);
        }
        if r.skipped > 0 {
            println!("{}: {} sends skipped (too many in flight)", r.label, r.skipped);
        }
    }
}

fn print_w2(r: &w2::Report) {
    println!("\nW2: {} idle connections", r.wanted);
    println!("| figure | value |\n|---|---|");
    println!("| connected / failed | {} / {} |", r.connected, r.failed);
    println!(
        "| connect time | {:.1} s ({:.0} connections/s) |",
        r.connect_seconds,
        r.connected as f64 / r.connect_seconds.max(0.001)
    );
    println!("| still open after the settle | {} |", r.alive);
    println!("| server RSS before | {} MiB |", mib(r.rss_before_kib));
    println!("| server RSS with all open | {} MiB (peak {} MiB) |", mib(r.rss_after_kib), mib(r.hwm_after_kib));
    println!("| server RSS after closing | {} MiB |", mib(r.rss_closed_kib));
    match r.bytes_per_connection() {
        Some(b) => println!("| per connection | {:.1} KiB |", b / 1024.0),
        None => println!("| per connection | — (give --server-pid) |"),
    }
    println!("| generator RSS | {} MiB |", mib(r.generator_rss_kib));
    if let Some(f) = &r.first_failure {
        println!("first failure: {f}");
    }
}
