//! Matroska and WebM cleaned of what can carry a location or a device name,
//! in place and without touching a frame.
//!
//! As with MP4, nothing moves: a removed element becomes a `Void` element
//! of the same length (zeros), so the seek head, the cues and every cluster
//! position stay right. What goes:
//! - `Tags` (where muxers write `LOCATION`, `RECORDING_LOCATION`, comments)
//!   and `Attachments` (a cover photo keeps its own EXIF), and the seek
//!   head's entries that point at them;
//! - any segment-level element Matroska does not define;
//! - the strings that name the software, device or file: the segment's
//!   title, muxing and writing applications and file names, each track's
//!   name — zeroed, which Matroska reads as empty (strings may be padded
//!   with zeros); a master element's CRC-32, no longer true, becomes `Void`.
//!
//! Every cluster's blocks are checked to fit, then `matroska-demuxer` reads
//! the file before and after (with the edits applied in memory): the same
//! tracks, and the same frames with the same timestamps and sizes, or the
//! file is refused.

use crate::media::{MediaError, Stream, Summary};
use crate::patch::{Overlay, Patch, Patches, Source, guarded};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek};

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_ID: u32 = 0x53AB;
const INFO: u32 = 0x1549_A966;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const CLUSTER: u32 = 0x1F43_B675;
const CUES: u32 = 0x1C53_BB6B;
const CHAPTERS: u32 = 0x1043_A770;
const TAGS: u32 = 0x1254_C367;
const ATTACHMENTS: u32 = 0x1941_A469;
const VOID: u32 = 0xEC;
const CRC32: u32 = 0xBF;
const BLOCK_GROUP: u32 = 0xA0;

/// Title, MuxingApp, WritingApp, SegmentFilename, PrevFilename,
/// NextFilename (in Info) and Name (in a TrackEntry).
const NAMING_STRINGS: [u32; 7] = [0x7BA9, 0x4D80, 0x5741, 0x7384, 0x3C_83AB, 0x3E_83BB, 0x536E];
/// What a cluster holds: its timestamp, positions, blocks.
const CLUSTER_CHILDREN: [u32; 9] = [0xE7, 0x5854, 0xA7, 0xAB, 0xA3, BLOCK_GROUP, 0xAF, VOID, CRC32];

fn malformed(what: &str) -> MediaError {
    MediaError::Malformed(what.to_string())
}

fn io(e: std::io::Error) -> MediaError {
    MediaError::Io(e.to_string())
}

/// An element's id, header length and data size (`None`: unknown).
#[derive(Debug, Clone, Copy)]
struct Element {
    id: u32,
    header: u64,
    size: Option<u64>,
}

/// Reads the element header at `at`, which must lie before `end`.
fn element<R: Read + Seek>(src: &mut Source<R>, at: u64, end: u64) -> Result<Element, MediaError> {
    let mut b = [0u8; 12];
    let n = (end - at).min(12) as usize;
    if !src.read_at(at, &mut b[..n]).map_err(io)? {
        return Err(malformed("an element is cut off"));
    }
    let cut = || malformed("an element header is cut off");
    let id_len = b[0].leading_zeros() as usize + 1;
    if id_len > 4 {
        return Err(malformed("an element id is invalid"));
    }
    let id = b.get(..id_len).filter(|_| id_len <= n).ok_or_else(cut)?.iter().fold(0u32, |v, &x| v << 8 | u32::from(x));
    let first = *b.get(id_len).filter(|_| id_len < n).ok_or_else(cut)?;
    let size_len = first.leading_zeros() as usize + 1;
    if size_len > 8 || id_len + size_len > n {
        return Err(malformed("an element size is invalid"));
    }
    let mut size = u64::from(first) & (0xFF >> size_len);
    for &x in &b[id_len + 1..id_len + size_len] {
        size = size << 8 | u64::from(x);
    }
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    Ok(Element { id, header: (id_len + size_len) as u64, size: (!unknown).then_some(size) })
}

/// A `Void` element of `len` bytes (at least 2) at `at`.
fn void(at: u64, len: u64) -> Patch {
    let head = if len >= 9 {
        let mut h = vec![0xEC, 0x01];
        h.extend_from_slice(&(len - 9).to_be_bytes()[1..]);
        h
    } else {
        vec![0xEC, 0x80 | (len.saturating_sub(2) as u8)]
    };
    Patch { at, len, head }
}

/// Plans the cleaning of the file behind `src` and checks the result.
pub(crate) fn plan<R: Read + Seek>(src: &mut Source<R>) -> Result<(Patches, Summary), MediaError> {
    let len = src.len;
    let mut walk = Walk { src, patches: Patches::default() };
    let mut pos = 0;
    while pos < len {
        if len - pos < 2 {
            walk.push(Patch::zeros(pos, len - pos))?;
            break;
        }
        let e = element(walk.src, pos, len)?;
        if pos == 0 && e.id != EBML {
            return Err(malformed("not a Matroska file"));
        }
        let data = pos + e.header;
        let end = match (e.id, e.size) {
            (SEGMENT, None) => len,
            (_, Some(size)) => data
                .checked_add(size)
                .filter(|&end| end <= len)
                .ok_or_else(|| malformed("an element runs past the end"))?,
            _ => return Err(malformed("an element of unknown size")),
        };
        match e.id {
            EBML | VOID => {}
            SEGMENT => walk.segment(data, end)?,
            // A trailer after the last segment: nothing a player reads.
            _ => walk.push(Patch::zeros(pos, len - pos))?,
        }
        pos = end;
    }
    let Walk { src, patches } = walk;
    let patches = patches.sorted();
    let raw = src.raw().map_err(io)?;
    let before = guarded("the video does not parse", || summarize(std::io::BufReader::new(&mut *raw)))?;
    let overlay = Overlay::new(raw, &patches).map_err(io)?;
    let after = guarded("the cleaned video does not parse", || summarize(std::io::BufReader::new(overlay)))?;
    if before != after {
        return Err(malformed("cleaning would change the video's streams"));
    }
    Ok((patches, after))
}

struct Walk<'a, R> {
    src: &'a mut Source<R>,
    patches: Patches,
}

impl<R: Read + Seek> Walk<'_, R> {
    fn push(&mut self, patch: Patch) -> Result<(), MediaError> {
        if self.patches.push(patch) { Ok(()) } else { Err(malformed("too many pieces of metadata")) }
    }

    /// The children of a master element between `start` and `end`: each
    /// must fit. An unknown size is allowed only for a cluster.
    fn children(&mut self, start: u64, end: u64) -> Result<Vec<(Element, u64, u64)>, MediaError> {
        let mut out = Vec::new();
        let mut i = start;
        while i < end {
            let e = element(self.src, i, end)?;
            let data = i + e.header;
            let size = e.size.ok_or_else(|| malformed("an element of unknown size"))?;
            let stop =
                data.checked_add(size).filter(|&s| s <= end).ok_or_else(|| malformed("an element does not fit"))?;
            out.push((e, i, stop));
            i = stop;
        }
        Ok(out)
    }

    fn segment(&mut self, start: u64, end: u64) -> Result<(), MediaError> {
        let mut i = start;
        while i < end {
            if end - i < 2 {
                return self.push(Patch::zeros(i, end - i));
            }
            let e = element(self.src, i, end)?;
            let data = i + e.header;
            let stop = match (e.id, e.size) {
                (CLUSTER, None) => self.cluster_end(data, end)?,
                (_, None) => return Err(malformed("an element of unknown size")),
                (_, Some(size)) => data
                    .checked_add(size)
                    .filter(|&s| s <= end)
                    .ok_or_else(|| malformed("an element runs past its segment"))?,
            };
            match e.id {
                TAGS | ATTACHMENTS => self.push(void(i, stop - i))?,
                INFO => drop(self.clear_strings(data, stop, &[])?),
                TRACKS => drop(self.clear_strings(data, stop, &[TRACK_ENTRY])?),
                SEEK_HEAD => self.seek_head(data, stop)?,
                CLUSTER => self.check_cluster(data, stop)?,
                CUES | CHAPTERS | VOID | CRC32 => {}
                _ => self.push(void(i, stop - i))?,
            }
            i = stop;
        }
        Ok(())
    }

    /// Where a cluster of unknown size ends: at the first element that
    /// cannot be its child, or the segment's end.
    fn cluster_end(&mut self, start: u64, end: u64) -> Result<u64, MediaError> {
        let mut i = start;
        while i < end {
            let e = element(self.src, i, end)?;
            if !CLUSTER_CHILDREN.contains(&e.id) {
                return Ok(i);
            }
            let size = e.size.ok_or_else(|| malformed("an element of unknown size"))?;
            i = (i + e.header)
                .checked_add(size)
                .filter(|&s| s <= end)
                .ok_or_else(|| malformed("a block does not fit"))?;
        }
        Ok(end)
    }

    /// Every block (and a block group's parts) fits its cluster, so the
    /// reader never meets a size larger than the file.
    fn check_cluster(&mut self, start: u64, end: u64) -> Result<(), MediaError> {
        for (e, at, stop) in self.children(start, end)? {
            if e.id == BLOCK_GROUP {
                self.children(at + e.header, stop)?;
            }
        }
        Ok(())
    }

    /// Zeroes the naming strings among a master's children (descending into
    /// `nested`); a CRC-32 of a master that changed becomes `Void`.
    fn clear_strings(&mut self, start: u64, end: u64, nested: &[u32]) -> Result<bool, MediaError> {
        let children = self.children(start, end)?;
        let mut changed = false;
        for &(e, at, stop) in &children {
            if NAMING_STRINGS.contains(&e.id) {
                let data = at + e.header;
                if data < stop {
                    self.push(Patch::zeros(data, stop - data))?;
                    changed = true;
                }
            } else if nested.contains(&e.id) {
                changed |= self.clear_strings(at + e.header, stop, &[])?;
            }
        }
        self.void_crc(&children, changed)?;
        Ok(changed)
    }

    fn void_crc(&mut self, children: &[(Element, u64, u64)], changed: bool) -> Result<(), MediaError> {
        if changed {
            for &(_, at, stop) in children.iter().filter(|(e, _, _)| e.id == CRC32) {
                self.push(void(at, stop - at))?;
            }
        }
        Ok(())
    }

    /// Drops the seek entries that point at the removed tags and attachments.
    fn seek_head(&mut self, start: u64, end: u64) -> Result<(), MediaError> {
        let children = self.children(start, end)?;
        let mut changed = false;
        for &(e, at, stop) in &children {
            if e.id != SEEK {
                continue;
            }
            for (f, fat, fstop) in self.children(at + e.header, stop)? {
                if f.id != SEEK_ID {
                    continue;
                }
                let data = fat + f.header;
                let target = self.src.read_vec(data, (fstop - data).min(8)).map_err(io)?.unwrap_or_default();
                let target = target.iter().fold(0u64, |v, &x| v << 8 | u64::from(x));
                if target == u64::from(TAGS) || target == u64::from(ATTACHMENTS) {
                    self.push(void(at, stop - at))?;
                    changed = true;
                }
            }
        }
        self.void_crc(&children, changed)
    }
}

/// Tracks, duration and every frame's track, timestamp and size, as
/// `matroska-demuxer` reads them.
pub(crate) fn summarize<R: Read + Seek>(reader: R) -> Result<Summary, matroska_demuxer::DemuxError> {
    let mut mkv = matroska_demuxer::MatroskaFile::open(reader)?;
    let mut digest = Sha256::new();
    let mut streams = Vec::new();
    let mut numbers = Vec::new();
    for t in mkv.tracks() {
        let kind = match t.track_type() {
            matroska_demuxer::TrackType::Video => "video",
            matroska_demuxer::TrackType::Audio => "audio",
            matroska_demuxer::TrackType::Subtitle => "subtitle",
            _ => "other",
        };
        let video = t.video().map(|v| (v.pixel_width(), v.pixel_height()));
        let audio = t.audio().map(|a| (a.channels(), a.sampling_frequency().to_bits()));
        digest.update(
            format!(
                "{:?}",
                (
                    t.track_number(),
                    t.track_uid(),
                    kind,
                    t.codec_id(),
                    t.codec_private(),
                    video,
                    audio,
                    t.default_duration()
                )
            )
            .as_bytes(),
        );
        numbers.push(t.track_number().get());
        streams.push(Stream { kind, codec: t.codec_id().to_string(), frames: 0 });
    }
    let scale = mkv.info().timestamp_scale().get();
    let duration_ms = mkv.info().duration().map_or(0, |d| (d * scale as f64 / 1e6) as u64);
    digest.update(format!("{scale} {:?}", mkv.info().duration().map(f64::to_bits)).as_bytes());
    let mut frame = matroska_demuxer::Frame::default();
    while mkv.next_frame(&mut frame)? {
        digest.update(format!("{} {} {} ", frame.track, frame.timestamp, frame.data.len()).as_bytes());
        if let Some(i) = numbers.iter().position(|&n| n == frame.track) {
            streams[i].frames += 1;
        }
    }
    Ok(Summary { duration_ms, streams, digest: hex::encode(digest.finalize()) })
}
