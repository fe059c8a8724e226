//! What an upload is, decided from its bytes (never from the client's name
//! or type), and what it becomes before anyone else sees it.
//!
//! An image (JPEG, PNG, GIF, WebP) has its metadata stripped (EXIF, GPS,
//! XMP, IPTC, comments, anything after the end of the image) with only the
//! orientation kept, and gets a thumbnail — decoded under limits, so an
//! image that announces 100 megapixels is refused before a byte of it is
//! decompressed.
//!
//! A video or a HEIF/HEIC/AVIF photo is cleaned in its staging file
//! ([`clean_in_place`]): ISO media files (MP4, MOV, 3GP, M4A, HEIF, HEIC,
//! AVIF) by `bmff`, Matroska and WebM by `matroska`. Both blank what they
//! remove in place, so a 100 MB video is never held in memory and its
//! frames are never rewritten. Nothing here decodes a video or a HEIC/AVIF
//! image: no pure-Rust decoder for H.264, HEVC or (kept well enough) AV1
//! exists, so they get no server-made preview; browsers show them.

pub use image::ImageFormat;
use image::{DynamicImage, ImageReader, Limits};
use std::io::{Cursor, Read, Seek, Write};

/// An image with more pixels than this is refused (a 12 MP photo has 12;
/// 10,000 × 10,000 has 100).
pub const MAX_PIXELS: u64 = 64_000_000;
/// The most memory decoding one image may take.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// A thumbnail fits in this square.
pub const THUMBNAIL: u32 = 320;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Shown inline, with a thumbnail: JPEG, PNG, GIF, WebP that decode.
    Image,
    /// Anything else: always downloaded.
    File,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::File => "file",
        }
    }
}

/// What the first bytes of an upload say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub mime: String,
    /// Set for the image formats Parta previews.
    pub image: Option<ImageFormat>,
    /// Set for the containers Parta cleans in place.
    pub container: Option<Container>,
}

/// Containers whose metadata [`clean_in_place`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// ISO base media: MP4, MOV, 3GP, M4A, HEIF, HEIC, AVIF.
    IsoBmff,
    /// Matroska and WebM.
    Matroska,
}

/// Sniffs the content type from the first bytes (see [`crate::HEAD`]).
pub fn sniff(head: &[u8]) -> Sniffed {
    let inferred = infer::get(head);
    let refused = inferred.is_some_and(|t| is_unstrippable_photo(t.mime_type()));
    if !refused && let Some((mime, container)) = sniff_container(head) {
        return Sniffed { mime: mime.into(), image: None, container };
    }
    let Some(t) = inferred else {
        let mime = if is_transport_stream(head) {
            "video/mp2t"
        } else if looks_like_text(head) {
            "text/plain"
        } else {
            "application/octet-stream"
        };
        return Sniffed { mime: mime.into(), image: None, container: None };
    };
    let image = match t.mime_type() {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    };
    Sniffed { mime: t.mime_type().to_string(), image, container: None }
}

/// An ISO media file (by its first box, and its brand for the type) or a
/// Matroska one (by its EBML signature, WebM by its doc type). Canon's CR3
/// RAW is an ISO file too, but a photo Parta refuses: no container.
fn sniff_container(head: &[u8]) -> Option<(&'static str, Option<Container>)> {
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        let webm = head[..head.len().min(64)].windows(4).any(|w| w == b"webm");
        return Some((if webm { "video/webm" } else { "video/x-matroska" }, Some(Container::Matroska)));
    }
    let first = head.get(4..8)?;
    if matches!(first, b"moov" | b"mdat" | b"wide") {
        return Some(("video/quicktime", Some(Container::IsoBmff)));
    }
    if first != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes(head.get(0..4)?.try_into().ok()?) as usize;
    let major = head.get(8..12)?;
    let compatible: Vec<&[u8]> = head.get(16..size.min(head.len()))?.chunks_exact(4).collect();
    let has = |brand: &[u8]| major == brand || compatible.contains(&brand);
    let mime = match major {
        b"crx " => return Some(("image/x-canon-cr3", None)),
        b"qt  " => "video/quicktime",
        b"avif" | b"avis" => "image/avif",
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => "image/heic",
        b"mif1" | b"msf1" | b"miaf" if has(b"avif") || has(b"avis") => "image/avif",
        b"mif1" | b"msf1" | b"miaf" if has(b"heic") || has(b"heix") || has(b"hevc") => "image/heic",
        b"mif1" | b"msf1" | b"miaf" => "image/heif",
        [b'3', b'g', b'2', _] => "video/3gpp2",
        [b'3', b'g', _, _] => "video/3gpp",
        b"M4A " | b"M4B " | b"M4P " => "audio/mp4",
        b"M4V " | b"M4VH" | b"M4VP" => "video/x-m4v",
        _ => "video/mp4",
    };
    Some((mime, Some(Container::IsoBmff)))
}

/// MPEG transport streams (camcorders' .MTS/.M2TS): sync bytes every 188
/// bytes, or every 192 after a 4-byte timecode.
fn is_transport_stream(head: &[u8]) -> bool {
    let synced = |first: usize, step: usize| (0..3).all(|k| head.get(first + k * step) == Some(&0x47));
    synced(0, 188) || synced(4, 192)
}

fn looks_like_text(head: &[u8]) -> bool {
    !head.contains(&0)
        && match std::str::from_utf8(head) {
            Ok(_) => true,
            // The head may end inside a character.
            Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
        }
}

/// Photo formats that can carry EXIF and GPS but whose metadata Parta cannot
/// strip (TIFF, camera RAW, JPEG XL, JPEG 2000, Photoshop): refused, so a
/// child's location never leaves in one. Phones take JPEG, HEIC or AVIF.
pub fn is_unstrippable_photo(mime: &str) -> bool {
    matches!(
        mime,
        "image/tiff"
            | "image/jp2"
            | "image/x-canon-cr2"
            | "image/x-canon-cr3"
            | "image/x-nikon-nef"
            | "image/x-sony-arw"
            | "image/x-adobe-dng"
            | "image/jxl"
            | "image/vnd.ms-photo"
            | "image/vnd.adobe.photoshop"
    )
}

/// Video containers that can carry a location (in their own metadata or
/// inside the stream, as camcorders and dash cameras write it) that Parta
/// cannot remove: AVI, WMV/ASF, FLV, MPEG program and transport streams.
/// Phones record MP4, MOV or 3GP, which are cleaned.
pub fn is_unstrippable_video(mime: &str) -> bool {
    matches!(mime, "video/x-msvideo" | "video/x-ms-wmv" | "video/x-flv" | "video/mpeg" | "video/mp2t")
}

/// Media a browser may play or show itself (videos, audio, and the photos
/// Parta cleans without decoding): served inline, never as a page.
pub fn is_media(mime: &str) -> bool {
    (mime.starts_with("video/")
        || mime.starts_with("audio/")
        || matches!(mime, "image/heic" | "image/heif" | "image/avif"))
        && !is_active(mime)
}

/// Types a browser could run or render as a page: never served inline, and
/// served as `application/octet-stream`.
pub fn is_active(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.contains("html")
        || m.contains("xml")
        || m.contains("svg")
        || m.contains("javascript")
        || m.contains("ecmascript")
        || m == "text/css"
        || m == "application/pdf"
        || m == "application/x-shockwave-flash"
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the image is {width}×{height}: more than {max} pixels")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    /// Its structure cannot be walked, or cleaning it could not be shown to
    /// leave its streams as they were: refused, never shared uncleaned.
    #[error("the file is damaged or cannot be cleaned: {0}")]
    Malformed(String),
    #[error("reading the file: {0}")]
    Io(String),
}

/// A video's streams as its container reader sees them: equal before and
/// after cleaning, or the file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The longest stream's duration.
    pub duration_ms: u64,
    pub streams: Vec<Stream>,
    /// A SHA-256 of everything the reader parsed about the streams: timing,
    /// sample tables or every frame's timestamp and size, codecs.
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// `video`, `audio`, `metadata`, `subtitle`, `picture` or `other`.
    pub kind: &'static str,
    pub codec: String,
    /// Samples (frames) in the stream.
    pub frames: u64,
}

/// What cleaning a container did.
#[derive(Debug, Clone)]
pub struct Cleaned {
    /// The movie's streams (`None` for a still image).
    pub summary: Option<Summary>,
    /// Boxes or elements blanked, and bytes overwritten.
    pub changes: usize,
    pub bytes_blanked: u64,
}

/// [`clean_in_place`] on a file on disk (an upload's staging file).
pub fn clean_file(path: &std::path::Path, container: Container) -> Result<Cleaned, MediaError> {
    let mut file =
        std::fs::OpenOptions::new().read(true).write(true).open(path).map_err(|e| MediaError::Io(e.to_string()))?;
    clean_in_place(&mut file, container)
}

/// Removes a container's location and device metadata in place (the file
/// keeps its length; see `bmff` and `matroska` for what goes). The file is
/// only written once the whole plan is made and checked: a refused file is
/// left as it was.
pub fn clean_in_place<F: Read + Write + Seek>(file: &mut F, container: Container) -> Result<Cleaned, MediaError> {
    let io = |e: std::io::Error| MediaError::Io(e.to_string());
    let mut src = crate::patch::Source::new(&mut *file).map_err(io)?;
    let (patches, summary) = match container {
        Container::IsoBmff => {
            let plan = crate::bmff::plan(&mut src)?;
            (plan.patches, plan.summary)
        }
        Container::Matroska => {
            let (patches, summary) = crate::matroska::plan(&mut src)?;
            (patches, Some(summary))
        }
    };
    drop(src);
    patches.apply(file).map_err(io)?;
    Ok(Cleaned { summary, changes: patches.len(), bytes_blanked: patches.blanked() })
}

/// An image made safe to share.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The image without its metadata (only the orientation kept).
    pub bytes: Vec<u8>,
    /// As displayed (after the orientation).
    pub width: u32,
    pub height: u32,
    /// A JPEG within [`THUMBNAIL`]², or `None` when the image would not
    /// decode (it is then shared as a plain file, still stripped).
    pub thumbnail: Option<Vec<u8>>,
}

/// Strips an image's metadata and makes its thumbnail. Refuses an image
/// whose header announces more than [`MAX_PIXELS`], or whose structure
/// cannot be walked (then its metadata could not be removed).
pub fn process_image(bytes: &[u8], format: ImageFormat) -> Result<Processed, MediaError> {
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| MediaError::Malformed(e.to_string()))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(MediaError::TooManyPixels { width: w, height: h, max: MAX_PIXELS });
    }
    let orientation = if format == ImageFormat::Jpeg { orientation(bytes) } else { None };
    let stripped = strip(bytes, format, orientation).ok_or_else(|| MediaError::Malformed("bad structure".into()))?;
    let turned = matches!(orientation, Some(5..=8));
    let (width, height) = if turned { (h, w) } else { (w, h) };
    let thumbnail = match decode(&stripped, format) {
        Ok(img) => Some(thumbnail(img, orientation)),
        Err(e) => {
            tracing::debug!(error = %e, "image does not decode: shared without a preview");
            None
        }
    };
    Ok(Processed { bytes: stripped, width, height, thumbnail })
}

fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, image::ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(32_768);
    limits.max_image_height = Some(32_768);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode()
}

fn thumbnail(img: DynamicImage, orientation: Option<u16>) -> Vec<u8> {
    let mut small =
        if img.width() > THUMBNAIL || img.height() > THUMBNAIL { img.thumbnail(THUMBNAIL, THUMBNAIL) } else { img };
    if let Some(o) = orientation.and_then(|o| image::metadata::Orientation::from_exif(o as u8)) {
        small.apply_orientation(o);
    }
    // JPEG has no alpha: transparent parts go white, not black.
    let rgba = small.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(src[3]);
        for c in 0..3 {
            dst[c] = ((u16::from(src[c]) * a + 255 * (255 - a)) / 255) as u8;
        }
    }
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
    // Encoding an RGB buffer to memory fails only on an empty image.
    if let Err(e) = rgb.write_with_encoder(encoder) {
        tracing::warn!(error = %e, "thumbnail encoding failed");
    }
    out
}

/// The EXIF orientation (1–8) of a JPEG, if it has one.
pub fn orientation(bytes: &[u8]) -> Option<u16> {
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).ok()?;
    let field = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?;
    let o = field.value.get_uint(0)?;
    u16::try_from(o).ok().filter(|o| (1..=8).contains(o))
}

/// The image with its metadata removed, or `None` when its structure cannot
/// be walked. Pixels are never re-encoded.
pub fn strip(bytes: &[u8], format: ImageFormat, orientation: Option<u16>) -> Option<Vec<u8>> {
    match format {
        ImageFormat::Jpeg => strip_jpeg(bytes, orientation),
        ImageFormat::Png => strip_png(bytes),
        ImageFormat::WebP => strip_webp(bytes),
        ImageFormat::Gif => strip_gif(bytes),
        _ => None,
    }
}

/// Keeps the segments a decoder needs (and JFIF, the ICC colour profile and
/// Adobe's colour transform); drops APP1 (EXIF, XMP), the other APPn, COM,
/// and everything after EOI (where phones put a second, un-stripped JPEG).
fn strip_jpeg(data: &[u8], orientation: Option<u16>) -> Option<Vec<u8>> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    let mut wrote_orientation = false;
    loop {
        if *data.get(i)? != 0xFF {
            return None;
        }
        let marker = *data.get(i + 1)?;
        match marker {
            0xFF => {
                i += 1;
                continue;
            }
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&data[i..i + 2]);
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*data.get(i + 2)?, *data.get(i + 3)?]));
        let end = i + 2 + len;
        if len < 2 || end > data.len() {
            return None;
        }
        let payload = &data[i + 4..end];
        let keep = match marker {
            0xE0 => payload.starts_with(b"JFIF\0") || payload.starts_with(b"JFXX\0"),
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
            0xEE => payload.starts_with(b"Adobe"),
            0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
            _ => true,
        };
        if !wrote_orientation && marker != 0xE0 {
            if let Some(o) = orientation.filter(|o| *o != 1) {
                out.extend_from_slice(&orientation_exif(o));
            }
            wrote_orientation = true;
        }
        if keep {
            out.extend_from_slice(&data[i..end]);
        }
        i = end;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is not a
            // stuffed 0xFF00 or a restart marker.
            let start = i;
            loop {
                let b = *data.get(i)?;
                let next = *data.get(i + 1)?;
                if b == 0xFF && next != 0x00 && !(0xD0..=0xD7).contains(&next) {
                    break;
                }
                i += 1;
            }
            out.extend_from_slice(&data[start..i]);
        }
    }
}

/// An APP1 segment whose EXIF holds one tag: the orientation.
fn orientation_exif(o: u16) -> Vec<u8> {
    let mut s = vec![0xFF, 0xE1, 0x00, 34];
    s.extend_from_slice(b"Exif\0\0");
    s.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian TIFF, IFD0 at 8
    s.extend_from_slice(&1u16.to_be_bytes()); // one entry
    s.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    s.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    s.extend_from_slice(&1u32.to_be_bytes());
    s.extend_from_slice(&o.to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    s
}

/// Chunks a PNG needs to look the same; text, EXIF, time and unknown
/// chunks are dropped, and nothing after IEND is kept.
const PNG_KEEP: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD",
    b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCv", b"cLLi",
];

fn strip_png(data: &[u8]) -> Option<Vec<u8>> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !data.starts_with(SIGNATURE) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(SIGNATURE);
    let mut i = SIGNATURE.len();
    loop {
        let len = u32::from_be_bytes(data.get(i..i + 4)?.try_into().ok()?) as usize;
        let kind: &[u8] = data.get(i + 4..i + 8)?;
        let end = i.checked_add(12)?.checked_add(len)?;
        let chunk = data.get(i..end)?;
        if PNG_KEEP.iter().any(|k| &k[..] == kind) {
            out.extend_from_slice(chunk);
        }
        if kind == b"IEND" {
            return Some(out);
        }
        i = end;
    }
}

/// Drops the EXIF and XMP chunks of a WebP and their flags in VP8X.
fn strip_webp(data: &[u8]) -> Option<Vec<u8>> {
    if data.get(0..4)? != b"RIFF" || data.get(8..12)? != b"WEBP" {
        return None;
    }
    let riff_end = (u32::from_le_bytes(data.get(4..8)?.try_into().ok()?) as usize).checked_add(8)?.min(data.len());
    let mut body = Vec::with_capacity(data.len());
    body.extend_from_slice(b"WEBP");
    let mut i = 12;
    while i + 8 <= riff_end {
        let kind = data.get(i..i + 4)?;
        let len = u32::from_le_bytes(data.get(i + 4..i + 8)?.try_into().ok()?) as usize;
        let end = i.checked_add(8)?.checked_add(len)?.checked_add(len % 2)?;
        let chunk = data.get(i..end.min(data.len()))?;
        match kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut c = chunk.to_vec();
                if let Some(flags) = c.get_mut(8) {
                    *flags &= !0x0C;
                }
                body.extend_from_slice(&c);
            }
            _ => body.extend_from_slice(chunk),
        }
        i = end;
    }
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::try_from(body.len()).ok()?.to_le_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

/// Drops a GIF's comments and application extensions (where XMP lives),
/// keeping NETSCAPE2.0 (looping), and anything after its trailer.
fn strip_gif(data: &[u8]) -> Option<Vec<u8>> {
    if !(data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a")) {
        return None;
    }
    let flags = *data.get(10)?;
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 * (1 << ((flags & 0x07) + 1));
    }
    let mut out = data.get(..i)?.to_vec();
    // The sub-blocks starting at `from`: returns where they end.
    let blocks_end = |mut j: usize| -> Option<usize> {
        loop {
            let n = usize::from(*data.get(j)?);
            j += 1 + n;
            if n == 0 {
                return Some(j);
            }
        }
    };
    loop {
        match *data.get(i)? {
            0x3B => {
                out.push(0x3B);
                return Some(out);
            }
            0x21 => {
                let label = *data.get(i + 1)?;
                let end = blocks_end(i + 2)?;
                let keep = match label {
                    0xFE => false,
                    0xFF => data.get(i + 3..i + 14) == Some(b"NETSCAPE2.0"),
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(data.get(i..end)?);
                }
                i = end;
            }
            0x2C => {
                let flags = *data.get(i + 9)?;
                let mut j = i + 10;
                if flags & 0x80 != 0 {
                    j += 3 * (1 << ((flags & 0x07) + 1));
                }
                let end = blocks_end(j + 1)?;
                out.extend_from_slice(data.get(i..end)?);
                i = end;
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn gps_fields(bytes: &[u8]) -> Vec<String> {
        match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
            Ok(exif) => exif
                .fields()
                .filter(|f| f.ifd_num == exif::In::PRIMARY && format!("{}", f.tag).starts_with("GPS"))
                .map(|f| f.tag.to_string())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    #[test]
    fn gps_tags_are_gone_after_stripping_and_the_orientation_stays() {
        let photo = testdata::jpeg_with_gps(64, 48);
        let before = gps_fields(&photo);
        assert!(before.contains(&"GPSLatitude".to_string()), "the fixture has GPS: {before:?}");
        assert!(photo.windows(11).any(|w| w == b"GPSLatitude"), "and XMP with GPS");
        let out = process_image(&photo, ImageFormat::Jpeg).unwrap();
        assert!(gps_fields(&out.bytes).is_empty(), "no GPS tag after stripping");
        let exif = exif::Reader::new().read_from_container(&mut Cursor::new(&out.bytes)).unwrap();
        let tags: Vec<String> = exif.fields().map(|f| f.tag.to_string()).collect();
        assert_eq!(tags, ["Orientation"], "only the orientation is left");
        assert!(!out.bytes.windows(3).any(|w| w == b"GPS"), "no GPS anywhere in the bytes (XMP, the trailer)");
        assert!(!out.bytes.windows(5).any(|w| w == b"Canon"), "no maker data");
        assert_eq!(orientation(&out.bytes), Some(6));
        assert_eq!((out.width, out.height), (48, 64), "orientation 6 turns it");
        // The pixels are untouched: it decodes to the same image.
        let a = image::load_from_memory(&photo).unwrap().to_rgb8();
        let b = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
        assert_eq!(a, b);
        let thumb = image::load_from_memory(out.thumbnail.as_ref().unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (48, 64));
    }

    #[test]
    fn png_text_and_exif_chunks_and_trailers_are_dropped() {
        let png = testdata::png_with_metadata(10, 10);
        assert!(png.windows(4).any(|w| w == b"eXIf") && png.windows(4).any(|w| w == b"tEXt"));
        let out = process_image(&png, ImageFormat::Png).unwrap();
        for chunk in [&b"eXIf"[..], b"tEXt", b"iTXt", b"zTXt", b"tIME", b"GPS"] {
            assert!(!out.bytes.windows(chunk.len()).any(|w| w == chunk), "{:?} is gone", chunk);
        }
        assert!(out.bytes.ends_with(b"IEND\xaeB`\x82"), "nothing after IEND");
        assert_eq!(image::load_from_memory(&out.bytes).unwrap().to_rgba8().dimensions(), (10, 10));
        assert!(out.thumbnail.is_some());
    }

    #[test]
    fn an_image_announcing_ten_thousand_squared_pixels_is_refused_before_decoding() {
        let bomb = testdata::png_bomb(10_000, 10_000);
        assert!(bomb.len() < 200_000);
        assert_eq!(
            process_image(&bomb, ImageFormat::Png).unwrap_err(),
            MediaError::TooManyPixels { width: 10_000, height: 10_000, max: MAX_PIXELS }
        );
    }

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(b"<!DOCTYPE html><html><script>alert(1)</script>").mime, "text/html");
        assert_eq!(sniff(b"<!DOCTYPE html>").image, None);
        assert_eq!(sniff(&testdata::zip_bomb()).mime, "application/zip");
        assert_eq!(sniff(&testdata::jpeg_with_gps(8, 8)).image, Some(ImageFormat::Jpeg));
        assert_eq!(sniff(b"%PDF-1.7\n").mime, "application/pdf");
        assert_eq!(sniff("Привет, это текст".as_bytes()).mime, "text/plain");
        assert_eq!(sniff(&[0, 1, 2, 3, 0xFF]).mime, "application/octet-stream");
        assert!(is_active("text/html") && is_active("image/svg+xml") && is_active("application/pdf"));
        assert!(!is_active("image/jpeg"));
        // HEIC and AVIF (ISO media files by their brands) are cleaned, not refused.
        let heic = sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic");
        assert_eq!((heic.mime.as_str(), heic.container), ("image/heic", Some(Container::IsoBmff)));
        let avif = sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif");
        assert_eq!(avif.mime, "image/avif");
        assert_eq!(sniff(b"\0\0\0\x14ftyp3gp5\0\0\0\0isom").mime, "video/3gpp");
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0\0\0qt  ").mime, "video/quicktime");
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm").container, Some(Container::Matroska));
        assert!(!is_unstrippable_photo("image/heic") && !is_unstrippable_photo("image/avif"));
        // TIFF and camera RAW still are refused; so are videos that cannot be cleaned.
        assert!(is_unstrippable_photo(&sniff(b"II*\0\x08\0\0\0\0\0\0\0").mime));
        let cr3 = sniff(b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom");
        assert!(is_unstrippable_photo(&cr3.mime) && cr3.container.is_none(), "{cr3:?}");
        assert!(is_unstrippable_video(&sniff(b"RIFF\0\0\0\0AVI LIST").mime));
        let ts: Vec<u8> = (0..600).map(|i| if i % 188 == 0 { 0x47 } else { 0 }).collect();
        assert!(is_unstrippable_video(&sniff(&ts).mime));
        assert!(!is_unstrippable_photo("image/jpeg") && !is_unstrippable_photo("application/zip"));
        assert!(
            is_media("video/mp4") && is_media("image/heic") && !is_media("image/svg+xml") && !is_media("text/html")
        );
    }

    #[test]
    fn a_damaged_jpeg_is_refused_rather_than_shared_with_its_metadata() {
        let photo = testdata::jpeg_with_gps(16, 16);
        let cut = &photo[..40];
        assert!(matches!(process_image(cut, ImageFormat::Jpeg), Err(MediaError::Malformed(_))));
    }

    #[test]
    fn gif_comments_are_dropped() {
        let mut gif = Vec::new();
        let img = image::RgbaImage::from_pixel(4, 4, image::Rgba([255, 0, 0, 255]));
        image::DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut gif), ImageFormat::Gif).unwrap();
        // Insert a comment extension before the trailer.
        let trailer = gif.pop().unwrap();
        gif.extend_from_slice(&[0x21, 0xFE, 3, b'G', b'P', b'S', 0]);
        gif.push(trailer);
        let out = strip(&gif, ImageFormat::Gif, None).unwrap();
        assert!(!out.windows(3).any(|w| w == b"GPS"));
        assert_eq!(image::load_from_memory(&out).unwrap().dimensions_of(), (4, 4));
    }

    trait Dims {
        fn dimensions_of(&self) -> (u32, u32);
    }
    impl Dims for DynamicImage {
        fn dimensions_of(&self) -> (u32, u32) {
            (self.width(), self.height())
        }
    }

    // Fuzzing: images of every format Parta strips, damaged at random, and
    // bytes that are no image. `PROPTEST_CASES=100000` runs it longer.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        fn encoded(format: ImageFormat) -> Vec<u8> {
            let img = image::RgbaImage::from_fn(6, 5, |x, y| image::Rgba([x as u8 * 40, y as u8 * 50, 90, 200]));
            let mut out = Vec::new();
            image::DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut out), format).unwrap();
            out
        }

        /// One image per format, each carrying metadata where its format can.
        fn seeds() -> &'static [(ImageFormat, Vec<u8>)] {
            static SEEDS: OnceLock<Vec<(ImageFormat, Vec<u8>)>> = OnceLock::new();
            SEEDS.get_or_init(|| {
                let mut gif = encoded(ImageFormat::Gif);
                let trailer = gif.pop().unwrap_or(0x3B);
                gif.extend_from_slice(&[0x21, 0xFE, 3, b'G', b'P', b'S', 0, trailer]);
                vec![
                    (ImageFormat::Jpeg, testdata::jpeg_with_gps(12, 9)),
                    (ImageFormat::Png, testdata::png_with_metadata(6, 5)),
                    (ImageFormat::Gif, gif),
                    (ImageFormat::WebP, encoded(ImageFormat::WebP)),
                ]
            })
        }

        /// A seed with bytes cut out, repeated, replaced, or its tail cut off.
        fn damaged() -> impl Strategy<Value = (ImageFormat, Vec<u8>)> {
            let edits = prop::collection::vec(any::<(usize, u8, u8)>(), 1..8);
            (0..seeds().len(), edits).prop_map(|(seed, edits)| {
                let (format, bytes) = &seeds()[seed];
                let mut bytes = bytes.clone();
                testdata::damage(&mut bytes, &edits);
                (*format, bytes)
            })
        }

        fn format() -> impl Strategy<Value = ImageFormat> {
            prop::sample::select(vec![ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Gif, ImageFormat::WebP])
        }

        #[test]
        fn every_seed_is_an_image_that_strips() {
            for (format, bytes) in seeds() {
                assert!(process_image(bytes, *format).is_ok_and(|out| out.thumbnail.is_some()), "{format:?}");
            }
        }

        proptest! {
            #[test]
            fn a_damaged_image_is_refused_or_comes_out_stripped(input in damaged()) {
                let (format, bytes) = input;
                let _ = sniff(&bytes);
                if let Ok(out) = process_image(&bytes, format) {
                    prop_assert!(gps_fields(&out.bytes).is_empty(), "no GPS tag survives");
                    // Stripping what was stripped changes nothing.
                    let again = strip(&out.bytes, format, orientation(&out.bytes));
                    prop_assert_eq!(again.as_deref(), Some(&out.bytes[..]));
                }
            }

            #[test]
            fn bytes_that_are_no_image_never_panic(format in format(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
                let _ = sniff(&bytes);
                let _ = strip(&bytes, format, Some(6));
                let _ = process_image(&bytes, format);
            }
        }
    }
}
