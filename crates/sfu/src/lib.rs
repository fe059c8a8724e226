//! Parta's selective forwarding unit: every participant of a call sends its
//! media once to the SFU, which forwards it to everyone else in the call,
//! unchanged (no decoding, no mixing). Built on `str0m`, a sans-IO WebRTC
//! stack: an engine thread ([`engine`]) owns a UDP socket and the state of
//! every peer of its calls, and the async server talks to it through a
//! command channel and an event channel. There are `threads` engines; a call
//! lives in one.
//!
//! The server decides who may be in which call; the SFU only knows peers
//! ([`PeerKey`]: a call and a person) and does what it is told. A person has
//! one peer per call: joining again replaces the old one (a reconnect, a
//! second device). Each peer gets a new [`Generation`], so an event about a
//! replaced peer is recognisably stale.
//!
//! Signalling: the client offers once (`join`), with its own outgoing audio
//! and video. Whenever other participants' tracks appear or go, the SFU makes
//! the offer ([`SfuEvent::Offer`]) and the client answers ([`Sfu::answer`]),
//! so offers never cross.
//!
//! Cameras and screens are forwarded on an m-line each, offered to the others
//! from their first packet (a camera that is off costs nothing); microphones through
//! at most three voice slots per subscriber, whoever speaks ([`voices`]),
//! and the SFU tells who is speaking ([`SfuEvent::Speaker`]).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod engine;
mod peer;
mod udp;
mod voices;

/// The SFU's metrics, summed over its engine threads (recorded through the
/// `metrics` facade: free when the binary installs no recorder).
pub mod metrics {
    /// Calls with at least one participant on this node (gauge).
    pub const CALLS: &str = "parta_sfu_calls";
    /// Participants connected to this node's SFU (gauge).
    pub const PARTICIPANTS: &str = "parta_sfu_participants";
    /// RTP packets sent on to a subscriber (counter; one per subscriber).
    pub const PACKETS_FORWARDED: &str = "parta_sfu_packets_forwarded_total";
    /// RTP packets that never arrived from a publisher: gaps in its sequence
    /// numbers (counter).
    pub const PACKETS_LOST: &str = "parta_sfu_packets_lost_total";
    /// Datagrams the kernel refused to send (a full send buffer), as a
    /// network drops them (counter).
    pub const PACKETS_DROPPED: &str = "parta_sfu_packets_dropped_total";
}

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::{mpsc as tokio_mpsc, oneshot};

/// Where the SFU listens and what address it tells browsers to send to.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The UDP address to bind; port 0 picks a free one.
    pub udp_bind: SocketAddr,
    /// The address browsers reach the SFU at, when it differs from the bound
    /// one (a NAT, or binding 0.0.0.0). Required for an unspecified bind.
    pub advertise: Option<IpAddr>,
    /// Engine threads, each with a socket of its own: with a fixed port P
    /// they bind P, P+1, …; a call lives in one of them.
    pub threads: usize,
}

/// One participant's peer: the call and the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerKey {
    pub call: i64,
    pub person: i64,
}

/// Which incarnation of a peer: every join gets a new one.
pub type Generation = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub generation: Generation,
    /// The SDP answer to the client's offer.
    pub answer: String,
}

/// What the SFU tells the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuEvent {
    /// A renegotiation offer for this peer's client; its answer goes to
    /// [`Sfu::answer`].
    Offer { peer: PeerKey, generation: Generation, sdp: String },
    /// The peer is gone from the SFU: its network went silent or its state
    /// failed. The client should rejoin.
    Gone { peer: PeerKey, generation: Generation, reason: GoneReason },
    /// The call's loudest voice changed (`None`: nobody is speaking). Looked
    /// at four times a second.
    Speaker { call: i64, person: Option<i64> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneReason {
    /// ICE lost the client (no packets for several seconds).
    Disconnected,
    /// The peer's state failed (a protocol error or a bug): only this peer
    /// was dropped.
    Failed,
}

#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("cannot bind the media socket at {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("calls.advertise must be set when the media socket binds an unspecified address ({0})")]
    NoAdvertisedAddress(SocketAddr),
    #[error("calls.media_threads must be 1 or more")]
    NoThreads,
    #[error("no port after {0} for media thread {1}")]
    NoPortForThread(SocketAddr, usize),
    #[error("the session description is not valid: {0}")]
    InvalidSdp(String),
    #[error("the session description was refused: {0}")]
    Refused(String),
    #[error("no such peer (it left or was replaced)")]
    NoSuchPeer,
    #[error("the SFU has stopped")]
    Stopped,
}

pub(crate) enum Command {
    Join {
        peer: PeerKey,
        offer: str0m::change::SdpOffer,
        reply: oneshot::Sender<Result<Joined, SfuError>>,
    },
    Answer {
        peer: PeerKey,
        generation: Generation,
        answer: str0m::change::SdpAnswer,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    Leave {
        peer: PeerKey,
    },
    ForwardAudio {
        peer: PeerKey,
        on: bool,
    },
    CloseCall {
        call: i64,
    },
    /// Makes the peer's state panic, as a bug in it would.
    #[cfg(test)]
    Crash {
        peer: PeerKey,
    },
    Stop,
}

/// The handle the server holds. Dropping it stops the engine threads.
pub struct Sfu {
    /// A call's peers all live in one engine, `shards[call mod len]`.
    shards: Vec<Shard>,
}

/// One engine thread with its own socket.
struct Shard {
    commands: mpsc::Sender<Command>,
    /// Sends an empty datagram to the engine's socket, so a blocked wait for
    /// packets returns and the engine reads its commands at once.
    waker: UdpSocket,
    advertised: SocketAddr,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Sfu {
    /// Binds the sockets and starts the engine threads.
    pub fn start(config: SfuConfig) -> Result<(Sfu, tokio_mpsc::UnboundedReceiver<SfuEvent>), SfuError> {
        str0m::crypto::from_feature_flags().install_process_default();
        if config.threads == 0 {
            return Err(SfuError::NoThreads);
        }
        let (events, outbox) = tokio_mpsc::unbounded_channel();
        let shards = (0..config.threads)
            .map(|i| {
                // Port 0 picks a free port for each; a fixed one is the first of a range.
                let port = match config.udp_bind.port() {
                    0 => Some(0),
                    first => u16::try_from(i).ok().and_then(|i| first.checked_add(i)),
                };
                let Some(port) = port else { return Err(SfuError::NoPortForThread(config.udp_bind, i)) };
                Shard::start(SocketAddr::new(config.udp_bind.ip(), port), config.advertise, events.clone())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((Sfu { shards }, outbox))
    }

    /// The addresses browsers send media to (the candidates in the answers),
    /// one per engine thread.
    pub fn advertised(&self) -> Vec<SocketAddr> {
        self.shards.iter().map(|s| s.advertised).collect()
    }

    /// Adds (or replaces) the person's peer in the call from their offer.
    pub async fn join(&self, peer: PeerKey, offer: Offer) -> Result<Joined, SfuError> {
        let (reply, answer) = oneshot::channel();
        self.shard(peer.call).send(Command::Join { peer, offer: offer.0, reply })?;
        answer.await.map_err(|_| SfuError::Stopped)?
    }

    /// The client's answer to the SFU's latest offer for this peer.
    pub async fn answer(&self, peer: PeerKey, generation: Generation, answer_sdp: &str) -> Result<(), SfuError> {
        let answer =
            str0m::change::SdpAnswer::from_sdp_string(answer_sdp).map_err(|e| SfuError::InvalidSdp(e.to_string()))?;
        let (reply, done) = oneshot::channel();
        self.shard(peer.call).send(Command::Answer { peer, generation, answer, reply })?;
        done.await.map_err(|_| SfuError::Stopped)?
    }

    pub fn leave(&self, peer: PeerKey) {
        let _ = self.shard(peer.call).send(Command::Leave { peer });
    }

    /// While off, none of the peer's audio reaches anyone (a muted
    /// participant stays muted even if their client misbehaves).
    pub fn forward_audio(&self, peer: PeerKey, on: bool) {
        let _ = self.shard(peer.call).send(Command::ForwardAudio { peer, on });
    }

    /// Drops every peer of the call.
    pub fn close_call(&self, call: i64) {
        let _ = self.shard(call).send(Command::CloseCall { call });
    }

    fn shard(&self, call: i64) -> &Shard {
        let index = call.rem_euclid(self.shards.len() as i64) as usize;
        &self.shards[index]
    }
}

impl Shard {
    fn start(
        udp_bind: SocketAddr,
        advertise: Option<IpAddr>,
        events: tokio_mpsc::UnboundedSender<SfuEvent>,
    ) -> Result<Shard, SfuError> {
        let bind = |addr: SocketAddr| UdpSocket::bind(addr).map_err(|source| SfuError::Bind { addr, source });
        let socket = media_socket(udp_bind).map_err(|source| SfuError::Bind { addr: udp_bind, source })?;
        let local = socket.local_addr().map_err(|source| SfuError::Bind { addr: udp_bind, source })?;
        let ip = match advertise {
            Some(ip) => ip,
            None if local.ip().is_unspecified() => return Err(SfuError::NoAdvertisedAddress(local)),
            None => local.ip(),
        };
        let advertised = SocketAddr::new(ip, local.port());
        // The waker talks to the engine over loopback when the engine listens
        // on every address.
        let engine_addr = if local.ip().is_unspecified() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port())
        } else {
            local
        };
        let waker = bind(SocketAddr::new(engine_addr.ip(), 0))?;
        waker.connect(engine_addr).map_err(|source| SfuError::Bind { addr: engine_addr, source })?;
        let waker_addr = waker.local_addr().map_err(|source| SfuError::Bind { addr: engine_addr, source })?;

        let socket = udp::MediaSocket::new(socket).map_err(|source| SfuError::Bind { addr: local, source })?;
        let (commands, inbox) = mpsc::channel();
        let engine = engine::Engine::new(socket, advertised, waker_addr, inbox, events);
        let thread = std::thread::Builder::new()
            .name("parta-sfu".into())
            .spawn(move || engine.run())
            .map_err(|source| SfuError::Bind { addr: local, source })?;
        tracing::info!(%local, %advertised, "SFU listening for media");
        Ok(Shard { commands, waker, advertised, thread: Mutex::new(Some(thread)) })
    }

    fn send(&self, command: Command) -> Result<(), SfuError> {
        self.commands.send(command).map_err(|_| SfuError::Stopped)?;
        // A lost wake-up only delays the command to the engine's next timeout.
        let _ = self.waker.send(&[]);
        Ok(())
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        let _ = self.send(Command::Stop);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// Room for the packets of a call's every publisher while the engine polls
/// its peers: the default (about 200 KiB) overflowed in bursts of a class
/// call. The kernel caps it at `net.core.rmem_max` / `wmem_max`.
const SOCKET_BUFFER: usize = 8 << 20;

fn media_socket(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    for (what, set) in [
        ("receive", Socket::set_recv_buffer_size as fn(&Socket, usize) -> std::io::Result<()>),
        ("send", Socket::set_send_buffer_size),
    ] {
        if let Err(e) = set(&socket, SOCKET_BUFFER) {
            tracing::warn!(error = %e, "the SFU's {what} buffer keeps its default size");
        }
    }
    let granted = socket.recv_buffer_size().unwrap_or_default();
    if granted < SOCKET_BUFFER {
        tracing::info!(
            granted,
            wanted = SOCKET_BUFFER,
            "the SFU's receive buffer is capped by net.core.rmem_max; raise it for large calls"
        );
    }
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// A client's offer, parsed: the server checks it before it starts a call for it.
#[derive(Debug)]
pub struct Offer(str0m::change::SdpOffer);

impl Offer {
    pub fn parse(sdp: &str) -> Result<Offer, SfuError> {
        str0m::change::SdpOffer::from_sdp_string(sdp).map(Offer).map_err(|e| SfuError::InvalidSdp(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use str0m::media::{Direction, MediaKind};

    /// A browser's first offer: its microphone and camera.
    fn offer() -> Offer {
        let mut browser = str0m::Rtc::builder().build(Instant::now());
        let mut change = browser.sdp_api();
        change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        Offer::parse(&change.apply().unwrap().0.to_sdp_string()).unwrap()
    }

    fn loopback(threads: usize) -> SfuConfig {
        SfuConfig { udp_bind: "127.0.0.1:0".parse().unwrap(), advertise: None, threads }
    }

    /// The port of the host candidate in an answer.
    fn candidate_port(answer: &str) -> u16 {
        let line = answer.lines().find(|l| l.starts_with("a=candidate")).unwrap();
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields[5].parse().unwrap()
    }

    #[tokio::test]
    async fn calls_spread_over_the_media_threads_and_a_call_stays_in_one() {
        let (sfu, _events) = Sfu::start(loopback(2)).unwrap();
        let ports: Vec<u16> = sfu.advertised().iter().map(|a| a.port()).collect();
        assert_eq!(ports.len(), 2);
        assert_ne!(ports[0], ports[1], "a socket each");
        let mut seen = Vec::new();
        for (call, person) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
            let joined = sfu.join(PeerKey { call, person }, offer()).await.unwrap();
            seen.push(candidate_port(&joined.answer));
        }
        assert_eq!(seen[0], seen[1], "one call, one thread");
        assert_eq!(seen[2], seen[3]);
        assert_ne!(seen[0], seen[2], "two calls, two threads");
    }

    #[test]
    fn a_fixed_port_is_the_first_of_a_range() {
        // A free port whose next one is free too: another program may take
        // either between the probe and the start, so a few tries.
        for _ in 0..20 {
            let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
            let free = probe.local_addr().unwrap().port();
            drop(probe);
            let udp_bind = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), free);
            if let Ok((sfu, _events)) = Sfu::start(SfuConfig { udp_bind, ..loopback(2) }) {
                let ports: Vec<u16> = sfu.advertised().iter().map(|a| a.port()).collect();
                assert_eq!(ports, [free, free + 1]);
                return;
            }
        }
        panic!("no two free ports in a row");
    }

    #[tokio::test]
    async fn a_peer_whose_state_panics_is_dropped_alone_and_the_sfu_carries_on() {
        let (sfu, mut events) = Sfu::start(loopback(1)).unwrap();
        let (ann, bob) = (PeerKey { call: 1, person: 1 }, PeerKey { call: 1, person: 2 });
        sfu.join(ann, offer()).await.unwrap();
        let bob_joined = sfu.join(bob, offer()).await.unwrap();

        sfu.shard(ann.call).send(Command::Crash { peer: ann }).unwrap();
        let gone = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match events.recv().await {
                    Some(SfuEvent::Gone { peer, reason, .. }) => break (peer, reason),
                    Some(_) => {}
                    None => panic!("the SFU stopped"),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(gone, (ann, GoneReason::Failed), "the client is told to rejoin");

        // The engine thread lives on: Bob's peer is still there (an answer
        // nobody asked for is refused, not met with "no such peer")...
        let stray = str0m::Rtc::builder().build(Instant::now()).sdp_api().accept_offer(offer().0).unwrap();
        let refused = sfu.answer(bob, bob_joined.generation, &stray.to_sdp_string()).await;
        assert!(matches!(refused, Err(SfuError::Refused(_))), "{refused:?}");
        // ...and Ann can come back.
        let again = sfu.join(ann, offer()).await.unwrap();
        assert!(again.generation > bob_joined.generation);
        assert!(again.answer.contains("a=candidate"), "{}", again.answer);
    }
}
