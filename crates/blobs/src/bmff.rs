//! ISO base media files — MP4, MOV, 3GP, M4A (a movie: `moov` and its
//! tracks) and HEIF, HEIC, AVIF (an image: items listed in a top-level
//! `meta`) — cleaned of location and device metadata without touching a
//! sample.
//!
//! Metadata is blanked in place, never cut out: a removed box becomes a
//! `free` box of the same size, full of zeros. Nothing after it moves, so the
//! chunk offsets (`stco`/`co64`), fragment offsets and HEIF item locations
//! (`iloc`) that point into `mdat` stay right without being rewritten, and a
//! 100 MB video costs a few kilobytes of writes instead of a copy. The price is
//! that the file keeps its length (the zeros of a phone video's metadata are a
//! few kilobytes).
//!
//! What goes:
//! - in the movie (`moov`, `trak`, `mdia`, `minf`, fragments): `udta` (with
//!   `©xyz`, `©mak`, `©mod`, `XMP_`), `meta` (QuickTime keys such as
//!   `com.apple.quicktime.location.ISO6709`, iTunes tags), `meco`, `loci`,
//!   every `uuid` box (XMP, Sony's PROF/USMT) except a fragment's own, every
//!   `©…` box, and any box the structure does not know (vendor boxes);
//! - at the top level: anything but the boxes a player reads (`ftyp`,
//!   `moov`, `mdat`, fragments, indexes, padding);
//! - the samples of timed-metadata tracks (handler `meta`, as GoPro's GPS
//!   and Apple's `mebx` tracks, or `camm`): zeroed, the track kept;
//! - in an image's `meta`: the `Exif`, `mime` (XMP) and `uri ` items — their
//!   entries in `iinf`, `iloc`, `iref` and `ipma`, the `meta` box padded back
//!   to its size with `free` — and their bytes, zeroed where they lie.
//!
//! A movie is read back with Mozilla's `mp4parse` before and after (with the
//! edits applied in memory): its tracks, timing and sample tables must be the
//! same, or the file is refused.

use crate::media::{MediaError, Stream, Summary};
use crate::patch::{Patch, Patches, Source, guarded};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek};

/// The most of a movie header (or one fragment's) read into memory. A
/// two-hour phone video's `moov` is a few megabytes.
pub const MAX_MOOV: u64 = 32 * 1024 * 1024;
/// The most of an image's `meta` read into memory.
pub const MAX_META: u64 = 16 * 1024 * 1024;
const MAX_DEPTH: usize = 16;

/// Adobe's XMP box (`uuid` BE7ACFCB-97A9-42E8-9C71-999491E3AFAC).
const XMP_UUID: [u8; 16] = *b"\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac";

fn malformed(what: &str) -> MediaError {
    MediaError::Malformed(what.to_string())
}

/// A box's header: its type, the header's length (with a 64-bit size and a
/// `uuid` type's 16 bytes) and the whole box's size.
#[derive(Debug, Clone, Copy)]
struct Header {
    kind: [u8; 4],
    len: u64,
    size: u64,
    /// The size was written in 64 bits.
    large: bool,
}

impl Header {
    /// Parses the header at the start of `bytes`; `room` is how many bytes
    /// the parent (or the file) has left from here, which a size of 0
    /// ("to the end") takes and no box may exceed.
    fn parse(bytes: &[u8], room: u64) -> Result<Header, MediaError> {
        let word = |at: usize| -> Option<[u8; 4]> { bytes.get(at..at + 4)?.try_into().ok() };
        let size32 = u32::from_be_bytes(word(0).ok_or_else(|| malformed("a box header is cut off"))?);
        let kind = word(4).ok_or_else(|| malformed("a box header is cut off"))?;
        let (mut len, size, large) = match size32 {
            0 => (8, room, false),
            1 => {
                let hi = word(8).ok_or_else(|| malformed("a box header is cut off"))?;
                let lo = word(12).ok_or_else(|| malformed("a box header is cut off"))?;
                (16, u64::from(u32::from_be_bytes(hi)) << 32 | u64::from(u32::from_be_bytes(lo)), true)
            }
            n => (8, u64::from(n), false),
        };
        if &kind == b"uuid" {
            len += 16;
        }
        if size < len || size > room {
            return Err(malformed("a box's size does not fit its parent"));
        }
        Ok(Header { kind, len, size, large })
    }

    /// The header of a `free` box of this box's size (what blanking writes).
    fn free(&self) -> Vec<u8> {
        match u32::try_from(self.size) {
            Ok(size) if !self.large => [&size.to_be_bytes()[..], b"free"].concat(),
            _ => [&1u32.to_be_bytes()[..], b"free", &self.size.to_be_bytes()[..]].concat(),
        }
    }
}

/// The box at `at` becomes `free`.
fn blank(patches: &mut Patches, at: u64, h: &Header) -> Result<(), MediaError> {
    push(patches, Patch { at, len: h.size, head: h.free() })
}

fn push(patches: &mut Patches, patch: Patch) -> Result<(), MediaError> {
    if patches.push(patch) { Ok(()) } else { Err(malformed("too many pieces of metadata")) }
}

/// What was found and what is to change.
pub(crate) struct Plan {
    pub patches: Patches,
    pub summary: Option<Summary>,
}

/// Plans the cleaning of the file behind `src` and checks the result.
pub(crate) fn plan<R: Read + Seek>(src: &mut Source<R>) -> Result<Plan, MediaError> {
    let len = src.len;
    let mut patches = Patches::default();
    // ftyp and every moov, as found: what mp4parse reads before and after.
    let mut header_boxes: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut movie = false;
    let mut image = false;
    let mut fragments = false;
    let mut needs_sample_tables = false;
    let mut pos = 0u64;
    while pos < len {
        let room = len - pos;
        if room < 8 {
            // Too short to be a box: padding or a trailer, never needed.
            push(&mut patches, Patch::zeros(pos, room))?;
            break;
        }
        let mut head = [0u8; 32];
        let n = room.min(32) as usize;
        src.read_at(pos, &mut head[..n]).map_err(io)?;
        let h = Header::parse(&head[..n], room)?;
        if pos == 0 && !matches!(&h.kind, b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free" | b"skip") {
            return Err(malformed("not an ISO media file"));
        }
        match &h.kind {
            b"ftyp" if pos == 0 => {
                let bytes = read_box(src, pos, &h, 4096)?;
                header_boxes.push((pos, bytes));
            }
            b"moov" | b"moof" => {
                let bytes = read_box(src, pos, &h, MAX_MOOV)?;
                let mut walk = Walk {
                    buf: &bytes,
                    base: pos,
                    file_len: len,
                    patches: &mut patches,
                    track: None,
                    unlocated: false,
                };
                let parent = if &h.kind == b"moov" { Parent::Moov } else { Parent::Moof };
                walk.children(h.len as usize, bytes.len(), parent, 1)?;
                needs_sample_tables |= walk.unlocated;
                if &h.kind == b"moov" {
                    movie = true;
                    header_boxes.push((pos, bytes));
                } else {
                    fragments = true;
                }
            }
            b"meta" => {
                let bytes = read_box(src, pos, &h, MAX_META)?;
                match image_meta(&bytes, &h)? {
                    ImageMeta::NotAnImage => blank(&mut patches, pos, &h)?,
                    ImageMeta::Clean => image = true,
                    ImageMeta::Cleaned { meta, extents } => {
                        image = true;
                        push(&mut patches, Patch { at: pos, len: h.size, head: meta })?;
                        for (at, n) in extents {
                            if at.checked_add(n).is_none_or(|end| end > len) {
                                return Err(malformed("an item lies outside the file"));
                            }
                            if at < pos + h.size && at + n > pos {
                                return Err(malformed("an item overlaps the box that lists it"));
                            }
                            push(&mut patches, Patch::zeros(at, n))?;
                        }
                    }
                }
            }
            b"mdat" | b"free" | b"skip" | b"wide" | b"styp" | b"sidx" | b"ssix" | b"prft" | b"emsg" | b"mfra" => {}
            _ => blank(&mut patches, pos, &h)?,
        }
        pos += h.size;
    }
    if needs_sample_tables && fragments {
        // Its samples are described fragment by fragment: not located here.
        return Err(malformed("timed metadata in a fragmented movie"));
    }
    if !movie && !image {
        return Err(malformed("neither a movie nor an image"));
    }
    let patches = patches.sorted();
    let summary = if movie { Some(verify(&header_boxes, &patches)?) } else { None };
    Ok(Plan { patches, summary })
}

fn io(e: std::io::Error) -> MediaError {
    MediaError::Io(e.to_string())
}

fn read_box<R: Read + Seek>(src: &mut Source<R>, at: u64, h: &Header, max: u64) -> Result<Vec<u8>, MediaError> {
    if h.size > max {
        return Err(malformed("a header box is larger than any real file's"));
    }
    src.read_vec(at, h.size).map_err(io)?.ok_or_else(|| malformed("a box runs past the end of the file"))
}

/// The movie as `mp4parse` reads it, before and after: the same, or refused.
fn verify(header_boxes: &[(u64, Vec<u8>)], patches: &Patches) -> Result<Summary, MediaError> {
    let mut before = Vec::new();
    let mut after = Vec::new();
    for (at, bytes) in header_boxes {
        before.extend_from_slice(bytes);
        let mut patched = bytes.clone();
        patches.apply_to(&mut patched, *at);
        after.extend_from_slice(&patched);
    }
    let read = |bytes: &[u8]| mp4parse::read_mp4(&mut std::io::Cursor::new(bytes)).map_err(|e| format!("{e:?}"));
    let original = guarded("the movie does not parse", || read(&before))?;
    let cleaned = guarded("the cleaned movie does not parse", || read(&after))?;
    let (a, b) = (summarize(&original), summarize(&cleaned));
    if a != b || cleaned.userdata.is_some() {
        return Err(malformed("cleaning would change the movie's streams"));
    }
    Ok(b)
}

/// Streams, duration and frame counts, and a digest of everything mp4parse
/// read about the tracks (timing, edit lists, sample tables, codecs).
pub(crate) fn summarize(ctx: &mp4parse::MediaContext) -> Summary {
    let mut digest = DigestWriter(Sha256::new());
    let _ = std::fmt::Write::write_fmt(&mut digest, format_args!("{:?}{:?}{:?}", ctx.timescale, ctx.tracks, ctx.mvex));
    let mut duration_ms = 0u64;
    let streams = ctx
        .tracks
        .iter()
        .map(|t| {
            if let (Some(d), Some(s)) = (t.duration, t.timescale)
                && s.0 > 0
            {
                duration_ms = duration_ms.max((u128::from(d.0) * 1000 / u128::from(s.0)) as u64);
            }
            let codec = match t.stsd.as_ref().and_then(|s| s.descriptions.first()) {
                Some(mp4parse::SampleEntry::Video(v)) => format!("{:?}", v.codec_type),
                Some(mp4parse::SampleEntry::Audio(a)) => format!("{:?}", a.codec_type),
                _ => "unknown".into(),
            };
            let frames = t.stsz.as_ref().map_or(0, |s| {
                if s.sample_size == 0 {
                    s.sample_sizes.len() as u64
                } else {
                    t.stts.as_ref().map_or(0, |stts| stts.samples.iter().map(|x| u64::from(x.sample_count)).sum())
                }
            });
            let kind = match t.track_type {
                mp4parse::TrackType::Video | mp4parse::TrackType::AuxiliaryVideo => "video",
                mp4parse::TrackType::Audio => "audio",
                mp4parse::TrackType::Picture => "picture",
                mp4parse::TrackType::Metadata => "metadata",
                mp4parse::TrackType::Unknown => "other",
            };
            Stream { kind, codec, frames }
        })
        .collect();
    Summary { duration_ms, streams, digest: hex::encode(digest.0.finalize()) }
}

/// Hashes formatted text without holding it: a movie's sample tables print
/// to many megabytes.
struct DigestWriter(Sha256);

impl std::fmt::Write for DigestWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// Which box the children being walked belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Moov,
    Trak,
    Mdia,
    Minf,
    Stbl,
    Moof,
    Traf,
}

enum Action {
    Keep,
    Blank,
    Descend(Parent),
}

/// The sample tables of the track being walked, and its handler.
#[derive(Debug, Default, Clone, Copy)]
struct TrackTables {
    handler: [u8; 4],
    stsc: Option<(usize, usize)>,
    stsz: Option<(usize, usize)>,
    stz2: Option<(usize, usize)>,
    stco: Option<(usize, usize)>,
    co64: Option<(usize, usize)>,
}

/// A `moov` or `moof` in memory, walked for what to blank.
struct Walk<'a> {
    buf: &'a [u8],
    /// The file offset of `buf[0]`.
    base: u64,
    file_len: u64,
    patches: &'a mut Patches,
    track: Option<TrackTables>,
    /// A timed-metadata track whose samples are not in its sample tables.
    unlocated: bool,
}

impl Walk<'_> {
    fn children(&mut self, start: usize, end: usize, parent: Parent, depth: usize) -> Result<(), MediaError> {
        if depth > MAX_DEPTH {
            return Err(malformed("boxes nested too deep"));
        }
        let mut i = start;
        while i < end {
            let room = (end - i) as u64;
            if room < 8 {
                // QuickTime may end a list with a zero word; anything else is not a box.
                if self.buf[i..end].iter().any(|&b| b != 0) {
                    return Err(malformed("bytes that are not a box"));
                }
                break;
            }
            let h = Header::parse(&self.buf[i..end], room)?;
            let body = i + h.len as usize..i + h.size as usize;
            match action(parent, &h, &self.buf[i..body.end])? {
                Action::Keep => {}
                Action::Blank => blank(self.patches, self.base + i as u64, &h)?,
                Action::Descend(child) => {
                    if child == Parent::Trak {
                        self.track = Some(TrackTables::default());
                    }
                    self.children(body.start, body.end, child, depth + 1)?;
                    if child == Parent::Trak {
                        self.finish_track()?;
                    }
                }
            }
            if let Some(t) = self.track.as_mut() {
                let range = Some((body.start, body.end));
                match (&h.kind, parent) {
                    (b"hdlr", Parent::Mdia) => {
                        t.handler = self
                            .buf
                            .get(body.start + 8..body.start + 12)
                            .and_then(|s| s.try_into().ok())
                            .unwrap_or_default();
                    }
                    (b"stsc", Parent::Stbl) => t.stsc = range,
                    (b"stsz", Parent::Stbl) => t.stsz = range,
                    (b"stz2", Parent::Stbl) => t.stz2 = range,
                    (b"stco", Parent::Stbl) => t.stco = range,
                    (b"co64", Parent::Stbl) => t.co64 = range,
                    _ => {}
                }
            }
            i = body.end;
        }
        Ok(())
    }

    /// Zeroes a timed-metadata track's samples: GPS logs live there.
    fn finish_track(&mut self) -> Result<(), MediaError> {
        let Some(t) = self.track.take() else { return Ok(()) };
        if !matches!(&t.handler, b"meta" | b"camm") {
            return Ok(());
        }
        let chunks = chunk_extents(self.buf, &t)?;
        self.unlocated |= chunks.is_empty();
        for (at, n) in chunks {
            if at.checked_add(n).is_none_or(|end| end > self.file_len) {
                return Err(malformed("a metadata sample lies outside the file"));
            }
            push(self.patches, Patch::zeros(at, n))?;
        }
        Ok(())
    }
}

/// What to do with a box found in `parent`.
fn action(parent: Parent, h: &Header, bytes: &[u8]) -> Result<Action, MediaError> {
    use Action::{Blank, Descend, Keep};
    let kind = &h.kind;
    match kind {
        b"moov" | b"moof" => return Err(malformed("a movie box inside another")),
        b"cmov" => return Err(malformed("a compressed movie header")),
        b"udta" | b"meta" | b"meco" | b"XMP_" | b"loci" => return Ok(Blank),
        [0xA9, ..] => return Ok(Blank),
        b"uuid" => {
            let xmp = bytes.get(8..24) == Some(&XMP_UUID[..]) || bytes.get(16..32) == Some(&XMP_UUID[..]);
            // A fragment's own uuid boxes (PIFF encryption and timing) stay.
            return Ok(if parent == Parent::Traf && !xmp { Keep } else { Blank });
        }
        b"free" | b"skip" | b"wide" => return Ok(Keep),
        _ => {}
    }
    Ok(match parent {
        Parent::Moov => match kind {
            b"trak" => Descend(Parent::Trak),
            b"mvhd" | b"iods" | b"pssh" | b"mvex" | b"prfl" | b"clip" | b"ctab" => Keep,
            _ => Blank,
        },
        Parent::Trak => match kind {
            b"mdia" => Descend(Parent::Mdia),
            b"tkhd" | b"edts" | b"tref" | b"tapt" | b"trgr" | b"load" | b"imap" | b"matt" | b"clip" | b"txas" => Keep,
            _ => Blank,
        },
        Parent::Mdia => match kind {
            b"minf" => Descend(Parent::Minf),
            b"mdhd" | b"hdlr" | b"elng" => Keep,
            _ => Blank,
        },
        Parent::Minf => match kind {
            b"stbl" => Descend(Parent::Stbl),
            b"vmhd" | b"smhd" | b"hmhd" | b"nmhd" | b"sthd" | b"gmhd" | b"dinf" | b"hdlr" => Keep,
            _ => Blank,
        },
        Parent::Moof => match kind {
            b"traf" => Descend(Parent::Traf),
            b"mfhd" | b"pssh" => Keep,
            _ => Blank,
        },
        // Sample tables and fragment tables: many kinds, all structural.
        Parent::Stbl | Parent::Traf => Keep,
    })
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// Big-endian unsigned of `size` bytes (0, 1, 2, 4 or 8).
fn be_n(b: &[u8], at: usize, size: usize) -> Option<u64> {
    match size {
        0 => Some(0),
        1 => b.get(at).map(|&x| u64::from(x)),
        2 => be16(b, at).map(u64::from),
        4 => be32(b, at).map(u64::from),
        8 => be64(b, at),
        _ => None,
    }
}

/// Where each chunk of a track lies in the file: its offset and the sum of
/// its samples' sizes. Loops are bounded by the tables' own lengths.
fn chunk_extents(buf: &[u8], t: &TrackTables) -> Result<Vec<(u64, u64)>, MediaError> {
    let bad = || malformed("a metadata track's sample tables are damaged");
    let table = |r: Option<(usize, usize)>| r.map(|(a, b)| &buf[a..b]);
    let offsets: Vec<u64> = match (table(t.stco), table(t.co64)) {
        (Some(b), _) => {
            let n = be32(b, 4).ok_or_else(bad)? as usize;
            (0..n.min(b.len().saturating_sub(8) / 4))
                .map(|i| be32(b, 8 + 4 * i).map(u64::from))
                .collect::<Option<_>>()
                .ok_or_else(bad)?
        }
        (None, Some(b)) => {
            let n = be32(b, 4).ok_or_else(bad)? as usize;
            (0..n.min(b.len().saturating_sub(8) / 8))
                .map(|i| be64(b, 8 + 8 * i))
                .collect::<Option<_>>()
                .ok_or_else(bad)?
        }
        (None, None) => return Ok(Vec::new()),
    };
    let stsc = table(t.stsc).ok_or_else(bad)?;
    let runs = (be32(stsc, 4).ok_or_else(bad)? as usize).min(stsc.len().saturating_sub(8) / 12);
    let run = |i: usize| -> Option<(u64, u64)> {
        Some((u64::from(be32(stsc, 8 + 12 * i)?), u64::from(be32(stsc, 12 + 12 * i)?)))
    };
    // Sizes: (uniform size, count) or a table read on demand.
    let (uniform, count, field_bits, sizes) = match (table(t.stsz), table(t.stz2)) {
        (Some(b), _) => (be32(b, 4).ok_or_else(bad)?, be32(b, 8).ok_or_else(bad)?, 32, &b[12.min(b.len())..]),
        (None, Some(b)) => (0, be32(b, 8).ok_or_else(bad)?, *b.get(7).ok_or_else(bad)?, &b[12.min(b.len())..]),
        (None, None) => return Err(bad()),
    };
    let size_of = |i: u64| -> Option<u64> {
        let i = usize::try_from(i).ok()?;
        match field_bits {
            32 => be32(sizes, 4 * i).map(u64::from),
            16 => be16(sizes, 2 * i).map(u64::from),
            8 => sizes.get(i).map(|&x| u64::from(x)),
            4 => sizes.get(i / 2).map(|&x| u64::from(if i % 2 == 0 { x >> 4 } else { x & 0x0F })),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(offsets.len());
    let mut sample = 0u64;
    let total = u64::from(count);
    let mut r = 0usize;
    for (c, &offset) in offsets.iter().enumerate() {
        if sample >= total {
            break;
        }
        let chunk_number = c as u64 + 1;
        while r + 1 < runs && run(r + 1).ok_or_else(bad)?.0 <= chunk_number {
            r += 1;
        }
        let per_chunk = if runs == 0 { 0 } else { run(r).ok_or_else(bad)?.1 };
        let n = per_chunk.min(total - sample);
        let bytes = if uniform != 0 {
            n * u64::from(uniform)
        } else {
            (sample..sample + n).try_fold(0u64, |sum, i| size_of(i).map(|s| sum + s)).ok_or_else(bad)?
        };
        sample += n;
        out.push((offset, bytes));
    }
    Ok(out)
}

/// What a top-level `meta` is and becomes.
enum ImageMeta {
    /// Not an image's (its handler is not `pict`): blanked like any other.
    NotAnImage,
    /// An image's, with no metadata item.
    Clean,
    /// An image's without its metadata items: the new box (the same size)
    /// and the file extents of the removed items' bytes, to zero.
    Cleaned { meta: Vec<u8>, extents: Vec<(u64, u64)> },
}

fn image_meta(meta: &[u8], h: &Header) -> Result<ImageMeta, MediaError> {
    let body_start = h.len as usize + 4; // version and flags
    if meta.len() < body_start {
        return Ok(ImageMeta::NotAnImage);
    }
    // A meta box that is not a full box (QuickTime's) is no image's.
    let Ok(children) = boxes_in(meta, body_start, meta.len()) else { return Ok(ImageMeta::NotAnImage) };
    let find = |kind: &[u8; 4]| children.iter().find(|(h, _)| &h.kind == kind).map(|(_, r)| r.clone());
    let handler = find(b"hdlr").and_then(|r| meta.get(r.start + 8..r.start + 12));
    if handler != Some(&b"pict"[..]) {
        return Ok(ImageMeta::NotAnImage);
    }
    let iinf = find(b"iinf").ok_or_else(|| malformed("an image without items"))?;
    let (kept_infe, removed) = items(meta, iinf)?;
    if removed.is_empty() {
        return Ok(ImageMeta::Clean);
    }
    if let Some(pitm) = find(b"pitm") {
        let v = *meta.get(pitm.start).ok_or_else(|| malformed("pitm"))?;
        let primary = if v == 0 { be16(meta, pitm.start + 4).map(u32::from) } else { be32(meta, pitm.start + 4) };
        if primary.is_some_and(|p| removed.contains(&p)) {
            return Err(malformed("the primary item is metadata"));
        }
    }
    let mut extents = Vec::new();
    let mut idat_zeros = Vec::new();
    let mut out = meta[..body_start].to_vec();
    let mut idat_at = None;
    for (ch, range) in &children {
        let start = range.start - ch.len as usize;
        match &ch.kind {
            b"iinf" => {
                let mut body = meta.get(range.start..range.start + 4).ok_or_else(|| malformed("iinf"))?.to_vec();
                let version = body[0];
                if version == 0 {
                    body.extend_from_slice(&u16::try_from(kept_infe.len()).unwrap_or(u16::MAX).to_be_bytes());
                } else {
                    body.extend_from_slice(&(kept_infe.len() as u32).to_be_bytes());
                }
                for r in &kept_infe {
                    body.extend_from_slice(&meta[r.clone()]);
                }
                out.extend_from_slice(&boxed(b"iinf", &body));
            }
            b"iloc" => {
                let iloc = iloc_without(meta, range.clone(), &removed)?;
                extents.extend(iloc.in_file);
                idat_zeros.extend(iloc.in_idat);
                out.extend_from_slice(&boxed(b"iloc", &iloc.body));
            }
            b"iref" => out.extend_from_slice(&boxed(b"iref", &iref_without(meta, range.clone(), &removed)?)),
            b"iprp" => {
                let mut body = Vec::new();
                for (p, r) in boxes_in(meta, range.start, range.end)? {
                    if &p.kind == b"ipma" {
                        body.extend_from_slice(&boxed(b"ipma", &ipma_without(meta, r, &removed)?));
                    } else {
                        body.extend_from_slice(&meta[r.start - p.len as usize..r.end]);
                    }
                }
                out.extend_from_slice(&boxed(b"iprp", &body));
            }
            b"idat" => {
                idat_at = Some(out.len() + ch.len as usize);
                out.extend_from_slice(&meta[start..range.end]);
            }
            _ => out.extend_from_slice(&meta[start..range.end]),
        }
    }
    for (offset, n) in idat_zeros {
        let at = idat_at.ok_or_else(|| malformed("an item in a missing idat"))?;
        let end = u64::try_from(at)
            .ok()
            .and_then(|a| a.checked_add(offset)?.checked_add(n))
            .filter(|&e| e <= out.len() as u64);
        let end = end.ok_or_else(|| malformed("an item outside its idat"))? as usize;
        out[end - n as usize..end].fill(0);
    }
    let shrink = meta.len().checked_sub(out.len()).ok_or_else(|| malformed("the cleaned meta grew"))?;
    if shrink > 0 {
        if shrink < 8 {
            return Err(malformed("no room for padding"));
        }
        out.extend_from_slice(&(shrink as u32).to_be_bytes());
        out.extend_from_slice(b"free");
        out.resize(meta.len(), 0);
    }
    // The meta box keeps its own header: its size is unchanged.
    Ok(ImageMeta::Cleaned { meta: out, extents })
}

/// `kind` around `body`, with a 32-bit size.
fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// The boxes between `start` and `end`, with their bodies' ranges.
fn boxes_in(buf: &[u8], start: usize, end: usize) -> Result<Vec<(Header, std::ops::Range<usize>)>, MediaError> {
    if start > end {
        return Err(malformed("a box too short for its fields"));
    }
    let mut out = Vec::new();
    let mut i = start;
    while i + 8 <= end {
        let h = Header::parse(&buf[i..end], (end - i) as u64)?;
        out.push((h, i + h.len as usize..i + h.size as usize));
        i += h.size as usize;
    }
    if buf[i..end].iter().any(|&b| b != 0) {
        return Err(malformed("bytes that are not a box"));
    }
    Ok(out)
}

/// The `infe` boxes to keep (their full ranges) and the ids of the items to
/// remove: EXIF, XMP and other `mime` items, URIs, and the old item entries
/// (versions 0 and 1) that carry no item type.
fn items(meta: &[u8], iinf: std::ops::Range<usize>) -> Result<(Vec<std::ops::Range<usize>>, Vec<u32>), MediaError> {
    let version = *meta.get(iinf.start).ok_or_else(|| malformed("iinf"))?;
    let first = iinf.start + if version == 0 { 6 } else { 8 };
    if first > iinf.end {
        return Err(malformed("iinf"));
    }
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for (h, r) in boxes_in(meta, first, iinf.end)? {
        if &h.kind != b"infe" {
            continue;
        }
        let v = *meta.get(r.start).ok_or_else(|| malformed("infe"))?;
        let (id, kind) = match v {
            0 | 1 => (be16(meta, r.start + 4).map(u32::from), None),
            2 => (be16(meta, r.start + 4).map(u32::from), meta.get(r.start + 8..r.start + 12)),
            _ => (be32(meta, r.start + 4), meta.get(r.start + 10..r.start + 14)),
        };
        let id = id.ok_or_else(|| malformed("infe"))?;
        let metadata = match kind {
            None => true,
            Some(k) => matches!(k, b"Exif" | b"mime" | b"uri "),
        };
        if metadata {
            removed.push(id);
        } else {
            kept.push(r.start - h.len as usize..r.end);
        }
    }
    Ok((kept, removed))
}

/// An `iloc` body without the removed items, and where their bytes were.
struct IlocWithout {
    body: Vec<u8>,
    /// (offset, length) in the file.
    in_file: Vec<(u64, u64)>,
    /// (offset, length) in the `idat` box's data.
    in_idat: Vec<(u64, u64)>,
}

fn iloc_without(meta: &[u8], r: std::ops::Range<usize>, removed: &[u32]) -> Result<IlocWithout, MediaError> {
    let bad = || malformed("iloc");
    let b = &meta[r];
    let version = *b.first().ok_or_else(bad)?;
    if version > 2 {
        return Err(bad());
    }
    let sizes = *b.get(4).ok_or_else(bad)?;
    let more = *b.get(5).ok_or_else(bad)?;
    let (offset_size, length_size) = (usize::from(sizes >> 4), usize::from(sizes & 0xF));
    let base_size = usize::from(more >> 4);
    let index_size = if version == 0 { 0 } else { usize::from(more & 0xF) };
    if [offset_size, length_size, base_size, index_size].iter().any(|s| ![0, 4, 8].contains(s)) {
        return Err(bad());
    }
    let (count, mut i) = if version < 2 {
        (u64::from(be16(b, 6).ok_or_else(bad)?), 8)
    } else {
        (u64::from(be32(b, 6).ok_or_else(bad)?), 10)
    };
    let id_size = if version < 2 { 2 } else { 4 };
    let extent_size = index_size + offset_size + length_size;
    let mut kept = Vec::new();
    let mut kept_count = 0u32;
    let mut file = Vec::new();
    let mut idat = Vec::new();
    for _ in 0..count {
        let start = i;
        let id = be_n(b, i, id_size).ok_or_else(bad)? as u32;
        i += id_size;
        let method = if version == 0 {
            0
        } else {
            let m = be16(b, i).ok_or_else(bad)? & 0xF;
            i += 2;
            m
        };
        let dref = be16(b, i).ok_or_else(bad)?;
        i += 2;
        let base = be_n(b, i, base_size).ok_or_else(bad)?;
        i += base_size;
        let extents = usize::from(be16(b, i).ok_or_else(bad)?);
        i += 2;
        let end = extents
            .checked_mul(extent_size)
            .and_then(|n| n.checked_add(i))
            .filter(|&e| e <= b.len())
            .ok_or_else(bad)?;
        if removed.contains(&id) {
            if extent_size > 0 && dref == 0 {
                for e in 0..extents {
                    let at = i + e * extent_size + index_size;
                    let offset = be_n(b, at, offset_size).ok_or_else(bad)?;
                    let len = be_n(b, at + offset_size, length_size).ok_or_else(bad)?;
                    if len == 0 {
                        return Err(malformed("a metadata item without a length"));
                    }
                    let start = base.checked_add(offset).ok_or_else(bad)?;
                    match method {
                        0 => file.push((start, len)),
                        1 => idat.push((start, len)),
                        _ => return Err(malformed("a metadata item built from other items")),
                    }
                }
            } else if extents > 0 && dref == 0 {
                return Err(malformed("a metadata item without a length"));
            }
        } else {
            kept.extend_from_slice(&b[start..end]);
            kept_count += 1;
        }
        i = end;
    }
    let mut body = b[..6].to_vec();
    if version < 2 {
        body.extend_from_slice(&u16::try_from(kept_count).map_err(|_| bad())?.to_be_bytes());
    } else {
        body.extend_from_slice(&kept_count.to_be_bytes());
    }
    body.extend_from_slice(&kept);
    Ok(IlocWithout { body, in_file: file, in_idat: idat })
}

/// `iref` without references from or to the removed items.
fn iref_without(meta: &[u8], r: std::ops::Range<usize>, removed: &[u32]) -> Result<Vec<u8>, MediaError> {
    let bad = || malformed("iref");
    let version = *meta.get(r.start).ok_or_else(bad)?;
    let id_size = if version == 0 { 2 } else { 4 };
    let mut body = meta.get(r.start..r.start + 4).filter(|_| r.start + 4 <= r.end).ok_or_else(bad)?.to_vec();
    for (h, refs) in boxes_in(meta, r.start + 4, r.end)? {
        let b = &meta[refs];
        let from = be_n(b, 0, id_size).ok_or_else(bad)? as u32;
        let n = usize::from(be16(b, id_size).ok_or_else(bad)?);
        let to: Vec<u32> = (0..n)
            .map(|k| be_n(b, id_size + 2 + k * id_size, id_size).map(|x| x as u32))
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        let to: Vec<u32> = to.into_iter().filter(|t| !removed.contains(t)).collect();
        if removed.contains(&from) || to.is_empty() {
            continue;
        }
        let mut entry = Vec::new();
        let put = |v: &mut Vec<u8>, x: u32| {
            if id_size == 2 {
                v.extend_from_slice(&(x as u16).to_be_bytes())
            } else {
                v.extend_from_slice(&x.to_be_bytes())
            }
        };
        put(&mut entry, from);
        entry.extend_from_slice(&(to.len() as u16).to_be_bytes());
        for t in to {
            put(&mut entry, t);
        }
        body.extend_from_slice(&boxed(&h.kind, &entry));
    }
    Ok(body)
}

/// `ipma` without the removed items' property associations.
fn ipma_without(meta: &[u8], r: std::ops::Range<usize>, removed: &[u32]) -> Result<Vec<u8>, MediaError> {
    let bad = || malformed("ipma");
    let b = &meta[r];
    let version = *b.first().ok_or_else(bad)?;
    let wide = b.get(3).ok_or_else(bad)? & 1 == 1;
    let count = be32(b, 4).ok_or_else(bad)?;
    let id_size = if version < 1 { 2 } else { 4 };
    let mut i = 8;
    let mut kept = Vec::new();
    let mut kept_count = 0u32;
    for _ in 0..count {
        let start = i;
        let id = be_n(b, i, id_size).ok_or_else(bad)? as u32;
        let n = usize::from(*b.get(i + id_size).ok_or_else(bad)?);
        i = i + id_size + 1 + n * if wide { 2 } else { 1 };
        if i > b.len() {
            return Err(bad());
        }
        if !removed.contains(&id) {
            kept.extend_from_slice(&b[start..i]);
            kept_count += 1;
        }
    }
    let mut body = b[..4].to_vec();
    body.extend_from_slice(&kept_count.to_be_bytes());
    body.extend_from_slice(&kept);
    Ok(body)
}
