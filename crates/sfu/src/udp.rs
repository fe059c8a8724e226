//! The engine's socket, read and written in batches: a syscall per packet
//! was a quarter of the SFU thread's time. Datagrams come in through
//! `recvmmsg` (and GRO, where the kernel coalesces), and a round's datagrams
//! go out together, those to one subscriber as one GSO send where their
//! sizes allow. `quinn-udp` makes the syscalls, so Parta has no `unsafe`.

use quinn_udp::{BATCH_SIZE, RecvMeta, Transmit, UdpSockRef, UdpSocketState};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use std::io::{self, ErrorKind, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::ops::Range;
use std::time::Duration;

/// Larger than any UDP payload WebRTC sends (it keeps under the path MTU).
const DATAGRAM: usize = 2048;
/// One GSO send carries at most this much: the kernel's limit for a UDP
/// datagram, which the segments travel in until they are cut.
const GSO_BYTES: usize = 64_000;

pub(crate) struct MediaSocket {
    socket: UdpSocket,
    state: UdpSocketState,
    /// Datagrams queued this round, in the order they were written, and
    /// where each one's bytes are in `bytes`.
    queued: Vec<(SocketAddr, Range<usize>)>,
    bytes: Vec<u8>,
    /// A GSO send being assembled.
    batch: Vec<u8>,
}

/// Where one batch of received datagrams is read into: apart from the
/// socket, so the engine can hand them to peers whose output goes to the
/// socket.
#[derive(Default)]
pub(crate) struct Inbox {
    /// Each room for what GRO may coalesce into one.
    buffers: [Vec<u8>; BATCH_SIZE],
    metas: [RecvMeta; BATCH_SIZE],
    filled: usize,
}

impl Inbox {
    /// The datagrams of the last [`MediaSocket::receive`], with their sources.
    pub fn datagrams(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> {
        self.metas.iter().zip(&self.buffers).take(self.filled).flat_map(|(meta, buffer)| {
            buffer[..meta.len].chunks(meta.stride.max(1)).map(move |datagram| (meta.addr, datagram))
        })
    }
}

/// What [`MediaSocket::send_queued`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    pub datagrams: usize,
    pub syscalls: usize,
    /// Refused by the kernel (a full send buffer drops a packet, as a
    /// network would).
    pub dropped: usize,
}

impl MediaSocket {
    /// Takes over a bound socket; from now on it does not block.
    pub fn new(socket: UdpSocket) -> io::Result<MediaSocket> {
        let state = UdpSocketState::new(UdpSockRef::from(&socket))?;
        Ok(MediaSocket { socket, state, queued: Vec::new(), bytes: Vec::new(), batch: Vec::new() })
    }

    /// An inbox with room for one batch, GRO's coalescing included.
    pub fn inbox(&self) -> Inbox {
        let room = DATAGRAM * self.state.gro_segments().max(1);
        Inbox { buffers: std::array::from_fn(|_| vec![0; room]), metas: [RecvMeta::default(); BATCH_SIZE], filled: 0 }
    }

    /// Waits until a datagram can be read or `timeout` passed (`None`: for
    /// ever).
    pub fn wait(&self, timeout: Option<Duration>) {
        let timeout = timeout.and_then(|t| Timespec::try_from(t).ok());
        let mut fds = [PollFd::new(&self.socket, PollFlags::IN)];
        // An interrupted or failed wait is a short one: the engine's loop
        // reads, finds nothing, and waits again.
        if let Err(e) = poll(&mut fds, timeout.as_ref()) {
            tracing::debug!(error = %e, "SFU socket wait failed");
        }
    }

    /// Reads the datagrams already waiting into `inbox`, at most one batch
    /// of buffers (each may hold several datagrams coalesced by GRO).
    /// Returns whether the batch was full: more may be waiting.
    pub fn receive(&mut self, inbox: &mut Inbox) -> bool {
        inbox.filled = 0;
        // On the stack: this runs every turn of the engine.
        let mut slices = inbox.buffers.each_mut().map(|b| IoSliceMut::new(b));
        match self.state.recv(UdpSockRef::from(&self.socket), &mut slices, &mut inbox.metas) {
            Ok(count) => {
                inbox.filled = count;
                count == inbox.metas.len()
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            // ICMP "port unreachable" from a client that went away surfaces
            // as a receive error on Linux; the peer's ICE times out. The
            // engine's next wait returns at once if datagrams are waiting.
            Err(e) => {
                tracing::debug!(error = %e, "SFU receive error");
                false
            }
        }
    }

    /// Keeps a datagram for the next [`MediaSocket::send_queued`].
    pub fn queue(&mut self, destination: SocketAddr, contents: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(contents);
        self.queued.push((destination, start..self.bytes.len()));
    }

    /// Sends every queued datagram: each destination's in the order they
    /// were queued, runs of equal size as one GSO send.
    pub fn send_queued(&mut self) -> Sent {
        let mut sent = Sent::default();
        if self.queued.is_empty() {
            return sent;
        }
        // Stable: a destination's datagrams keep their order.
        self.queued.sort_by_key(|(destination, _)| *destination);
        let max_segments = self.state.max_gso_segments().max(1);
        let mut i = 0;
        while i < self.queued.len() {
            let (destination, ref first) = self.queued[i];
            let size = first.len();
            // A run: same destination, same size (the last may be shorter),
            // within the kernel's limits for one send.
            let mut end = i + 1;
            while end < self.queued.len()
                && end - i < max_segments
                && (end - i + 1) * size <= GSO_BYTES
                && self.queued[end].0 == destination
                && self.queued[end - 1].1.len() == size
                && self.queued[end].1.len() <= size
            {
                end += 1;
            }
            let contents = if end - i == 1 {
                &self.bytes[first.clone()]
            } else {
                self.batch.clear();
                for (_, range) in &self.queued[i..end] {
                    self.batch.extend_from_slice(&self.bytes[range.clone()]);
                }
                &self.batch[..]
            };
            let transmit = Transmit {
                destination,
                ecn: None,
                contents,
                segment_size: (end - i > 1).then_some(size),
                src_ip: None,
            };
            sent.syscalls += 1;
            match self.state.try_send(UdpSockRef::from(&self.socket), &transmit) {
                Ok(()) => sent.datagrams += end - i,
                Err(e) => {
                    sent.dropped += end - i;
                    if e.kind() != ErrorKind::WouldBlock {
                        tracing::debug!(error = %e, %destination, "SFU send failed");
                    }
                }
            }
            i = end;
        }
        self.queued.clear();
        self.bytes.clear();
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn pair() -> (MediaSocket, UdpSocket) {
        let sfu = MediaSocket::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (sfu, client)
    }

    fn read_all(client: &UdpSocket, count: usize) -> Vec<Vec<u8>> {
        let mut buf = [0u8; DATAGRAM];
        (0..count)
            .map(|_| {
                let n = client.recv(&mut buf).unwrap();
                buf[..n].to_vec()
            })
            .collect()
    }

    #[test]
    fn a_rounds_datagrams_arrive_whole_and_in_order_for_each_destination() {
        let (mut sfu, ann) = pair();
        let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
        bob.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (to_ann, to_bob) = (ann.local_addr().unwrap(), bob.local_addr().unwrap());
        // A video frame's packets (equal sizes, a shorter last one) to each,
        // with voices to the other in between.
        let mut expected_ann = Vec::new();
        let mut expected_bob = Vec::new();
        for n in 0..12u8 {
            let size = if n == 11 { 300 } else { 1200 };
            let packet = vec![n; size];
            sfu.queue(to_ann, &packet);
            expected_ann.push(packet.clone());
            let voice = vec![100 + n; 90 + usize::from(n)];
            sfu.queue(to_bob, &voice);
            expected_bob.push(voice);
        }
        let sent = sfu.send_queued();
        assert_eq!(sent.datagrams, 24);
        assert_eq!(sent.dropped, 0);
        // Linux has GSO (and is what Parta ships for): the batching is checked, not assumed.
        #[cfg(target_os = "linux")]
        assert_eq!(sent.syscalls, 1 + 12, "Ann's frame in one send, Bob's voices (sizes differ) one each");
        assert_eq!(read_all(&ann, 12), expected_ann);
        assert_eq!(read_all(&bob, 12), expected_bob);
        assert_eq!(sfu.send_queued(), Sent::default(), "nothing is sent twice");
    }

    #[test]
    fn waiting_datagrams_are_read_in_one_batch_with_their_sources() {
        let (mut sfu, client) = pair();
        let to = sfu.socket.local_addr().unwrap();
        for n in 0..5u8 {
            client.send_to(&[n; 40], to).unwrap();
        }
        let mut inbox = sfu.inbox();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < 5 && Instant::now() < deadline {
            sfu.wait(Some(Duration::from_secs(1)));
            sfu.receive(&mut inbox);
            got.extend(inbox.datagrams().map(|(source, datagram)| (source, datagram.to_vec())));
        }
        let from = client.local_addr().unwrap();
        assert_eq!(got, (0..5u8).map(|n| (from, vec![n; 40])).collect::<Vec<_>>());
        assert!(!sfu.receive(&mut inbox), "an empty socket is not a full batch");
        assert_eq!(inbox.datagrams().count(), 0);
    }

    #[test]
    fn a_wait_with_nothing_to_read_ends_at_its_timeout() {
        let (sfu, _client) = pair();
        let start = Instant::now();
        sfu.wait(Some(Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(25));
    }
}
