//! Hostile and private test files, made in memory: a photo with GPS tags, a
//! PNG with text and EXIF chunks, an image bomb, a ZIP bomb. For tests only
//! (the `testdata` feature).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use image::{ImageFormat, RgbImage};
use std::io::Cursor;

/// Where the fixture photo "was taken": 55°45'21"N 37°37'03"E.
pub const LATITUDE: [(u32, u32); 3] = [(55, 1), (45, 1), (2100, 100)];

fn gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, ((x + y) % 256) as u8])
    })
}

/// A big-endian TIFF (EXIF) block: Make "Canon", Orientation 6, and a GPS IFD
/// with latitude and longitude.
pub fn exif_with_gps() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"MM\0\x2a");
    t.extend_from_slice(&8u32.to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    // IFD0 at 8: 3 entries → 42 bytes, then "Canon\0" at 50, the GPS IFD at 56.
    t.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut t, 0x010F, 2, 6, 50u32.to_be_bytes());
    entry(&mut t, 0x0112, 3, 1, [0, 6, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 56u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(b"Canon\0");
    // GPS IFD at 56: 4 entries → 54 bytes; rationals at 110 and 134.
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 110u32.to_be_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, 134u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    for (n, d) in LATITUDE.into_iter().chain([(37, 1), (37, 1), (300, 100)]) {
        t.extend_from_slice(&n.to_be_bytes());
        t.extend_from_slice(&d.to_be_bytes());
    }
    assert_eq!(t.len(), 158);
    t
}

fn app1(payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, 0xE1];
    s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// A JPEG photo as a phone writes it: EXIF with GPS, XMP with GPS, a comment,
/// and a second image with its own EXIF after the end of the first.
pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let mut plain = Vec::new();
    gradient(width, height).write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg).unwrap();
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&exif_with_gps());
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend_from_slice(br#"<x:xmpmeta><rdf:Description exif:GPSLatitude="55,45.35N"/></x:xmpmeta>"#);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&app1(&exif));
    out.extend_from_slice(&app1(&xmp));
    out.extend_from_slice(&[0xFF, 0xFE, 0, 12]);
    out.extend_from_slice(b"GPS note.!");
    out.extend_from_slice(&plain[2..]);
    // A multi-picture trailer: a second JPEG carrying the same EXIF.
    out.extend_from_slice(&[0xFF, 0xD8]);
    out.extend_from_slice(&app1(&exif));
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    c.extend_from_slice(&crc32(&body).to_be_bytes());
    c
}

/// A PNG with tEXt, iTXt, eXIf (GPS) and tIME chunks and a trailer after IEND.
pub fn png_with_metadata(width: u32, height: u32) -> Vec<u8> {
    let mut plain = Vec::new();
    gradient(width, height).write_to(&mut Cursor::new(&mut plain), ImageFormat::Png).unwrap();
    let iend = plain.len() - 12;
    let mut out = plain[..iend].to_vec();
    out.extend_from_slice(&png_chunk(b"tEXt", b"Comment\0GPS 55.75N 37.61E"));
    out.extend_from_slice(&png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>GPS</x:xmpmeta>"));
    out.extend_from_slice(&png_chunk(b"eXIf", &exif_with_gps()));
    out.extend_from_slice(&png_chunk(b"tIME", &[7, 234, 11, 28, 12, 0, 0]));
    out.extend_from_slice(&plain[iend..]);
    out.extend_from_slice(b"GPS trailer");
    out
}

/// A small PNG whose header announces `width` × `height` 8-bit grey pixels,
/// with the first rows' zeros compressed: what decompresses to gigabytes.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    out.extend_from_slice(&png_chunk(b"IHDR", &ihdr));
    let rows = vec![0u8; (width as usize + 1) * 100];
    out.extend_from_slice(&png_chunk(b"IDAT", &miniz_oxide::deflate::compress_to_vec_zlib(&rows, 6)));
    out.extend_from_slice(&png_chunk(b"IEND", &[]));
    out
}

/// A ZIP of one 20 MB file of zeros, 20 KB compressed (name it `.jpg`).
pub fn zip_bomb() -> Vec<u8> {
    let data = vec![0u8; 20 * 1024 * 1024];
    let packed = miniz_oxide::deflate::compress_to_vec(&data, 9);
    let crc = crc32(&data);
    let name = b"zeros.bin";
    let mut out = Vec::new();
    let header = |out: &mut Vec<u8>, central: bool| {
        out.extend_from_slice(if central { b"PK\x01\x02" } else { b"PK\x03\x04" });
        if central {
            out.extend_from_slice(&20u16.to_le_bytes());
        }
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&8u16.to_le_bytes()); // deflate
        out.extend_from_slice(&[0, 0, 0, 0]); // time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&u32::try_from(packed.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra
        if central {
            out.extend_from_slice(&[0; 8]); // comment, disk, attributes
            out.extend_from_slice(&[0; 4]); // external attributes
            out.extend_from_slice(&0u32.to_le_bytes()); // local header offset
        }
        out.extend_from_slice(name);
    };
    header(&mut out, false);
    out.extend_from_slice(&packed);
    let central_at = out.len();
    header(&mut out, true);
    let central_len = out.len() - central_at;
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&u32::try_from(central_len).unwrap().to_le_bytes());
    out.extend_from_slice(&u32::try_from(central_at).unwrap().to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A photo-sized JPEG (`width` × `height`, with GPS), for timing thumbnails.
pub fn big_photo(width: u32, height: u32) -> Vec<u8> {
    jpeg_with_gps(width, height)
}

/// `bytes` damaged by `edits`, for fuzzing what parses them: each edit cuts
/// out the byte at its position (taken modulo the length), repeats it, cuts
/// the tail off there, or replaces it with its byte.
pub fn damage(bytes: &mut Vec<u8>, edits: &[(usize, u8, u8)]) {
    for &(at, edit, byte) in edits {
        if bytes.is_empty() {
            return;
        }
        let i = at % bytes.len();
        match edit % 4 {
            0 => drop(bytes.remove(i)),
            1 => bytes.insert(i, bytes[i]),
            2 => bytes.truncate(i.max(1)),
            _ => bytes[i] = byte,
        }
    }
}

#[cfg(test)]
mod tests {
    /// `PARTA_FIXTURE_OUT=path cargo test -p blobs -- --ignored write_browser_fixture`
    /// writes the browser tests' photo (tests/browser/fixtures/photo-gps.jpg).
    #[test]
    #[ignore]
    fn write_browser_fixture() {
        if let Ok(path) = std::env::var("PARTA_FIXTURE_OUT") {
            std::fs::write(path, super::jpeg_with_gps(800, 600)).unwrap();
        }
    }
}
