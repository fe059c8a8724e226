//! Hostile and private test files, made in memory: a photo with GPS tags, a
//! PNG with text and EXIF chunks, an image bomb, a ZIP bomb, videos and HEIF
//! photos with a location built box by box; and the real videos and photos
//! of `fixtures/`. For tests only (the `testdata` feature).
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

/// Where the fixture videos and photos "were taken", as ISO 6709 text
/// (what `©xyz` and QuickTime's location key hold).
pub const ISO6709: &str = "+55.7558+037.6173+150.000/";
/// The device the fixture videos and photos name.
pub const DEVICE: &str = "Pixel 7";

/// A real file made by `fixtures/make.sh` (ffmpeg, exiftool, heif-enc):
/// `phone.mp4`, `iphone.mov`, `phone.webm`, `phone.mkv`, `iphone.heic`,
/// `photo.avif`, each with the location [`ISO6709`] and a device name.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// An ISO box: a 32-bit size, the type, the body.
pub fn bmff_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = u32::try_from(body.len() + 8).unwrap().to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// A full box: version and flags before the body.
pub fn full_box(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = vec![version];
    b.extend_from_slice(&flags.to_be_bytes()[1..]);
    b.extend_from_slice(body);
    bmff_box(kind, &b)
}

fn be32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A track's `trak`: `handler` (`vide`, `soun`, `meta`), one sample entry
/// of `entry` type, `sizes.len()` samples of one tick (of `timescale` a
/// second) each, `per_chunk` of them in each chunk at `chunks`, and the
/// track's own `udta` with a name.
fn trak(
    id: u32,
    handler: &[u8; 4],
    entry: &[u8; 4],
    sizes: &[u32],
    chunks: &[u32],
    per_chunk: u32,
    timescale: u32,
) -> Vec<u8> {
    let n = u32::try_from(sizes.len()).unwrap();
    let chunk_count = u32::try_from(chunks.len()).unwrap();
    let mut tkhd = vec![0u8; 8]; // creation, modification
    tkhd.extend_from_slice(&be32s(&[id, 0, n]));
    tkhd.extend_from_slice(&[0u8; 8 + 2 + 2 + 2 + 2]); // reserved, layer, group, volume, reserved
    tkhd.extend_from_slice(&be32s(&[0x1_0000, 0, 0, 0, 0x1_0000, 0, 0, 0, 0x4000_0000])); // matrix
    tkhd.extend_from_slice(&be32s(&[96 << 16, 64 << 16]));
    let mdhd = full_box(b"mdhd", 0, 0, &[be32s(&[0, 0, timescale, n]), vec![0x55, 0xC4, 0, 0]].concat());
    let hdlr = full_box(b"hdlr", 0, 0, &[vec![0; 4], handler.to_vec(), vec![0; 12], b"Handler\0".to_vec()].concat());
    let mut sample_entry = vec![0u8; 6];
    sample_entry.extend_from_slice(&1u16.to_be_bytes());
    if handler == b"vide" {
        // A visual sample entry: sizes, resolution, one frame per sample, depth.
        sample_entry.extend_from_slice(&[0; 16]);
        sample_entry.extend_from_slice(&[0, 96, 0, 64, 0, 0x48, 0, 0, 0, 0x48, 0, 0, 0, 0, 0, 0, 0, 1]);
        sample_entry.extend_from_slice(&[0; 32]);
        sample_entry.extend_from_slice(&[0, 0x18, 0xFF, 0xFF]);
    } else if handler == b"soun" {
        // An audio sample entry: version, vendor, 2 channels of 16 bits, 48 kHz.
        sample_entry.extend_from_slice(&[0; 8]);
        sample_entry.extend_from_slice(&[0, 2, 0, 16, 0, 0, 0, 0, 0xBB, 0x80, 0, 0]);
    } else {
        sample_entry.extend_from_slice(b"\0application/gps\0");
    }
    let stsd = full_box(b"stsd", 0, 0, &[be32s(&[1]), bmff_box(entry, &sample_entry)].concat());
    let stbl = bmff_box(
        b"stbl",
        &[
            stsd,
            full_box(b"stts", 0, 0, &be32s(&[1, n, 1])),
            full_box(b"stsc", 0, 0, &be32s(&[1, 1, per_chunk, 1])),
            full_box(b"stsz", 0, 0, &[be32s(&[0, n]), be32s(sizes)].concat()),
            full_box(b"stco", 0, 0, &[be32s(&[chunk_count]), be32s(chunks)].concat()),
        ]
        .concat(),
    );
    let dinf = bmff_box(b"dinf", &full_box(b"dref", 0, 0, &[be32s(&[1]), full_box(b"url ", 0, 1, &[])].concat()));
    let header = match handler {
        b"vide" => full_box(b"vmhd", 0, 1, &[0; 8]),
        b"soun" => full_box(b"smhd", 0, 0, &[0; 4]),
        _ => full_box(b"nmhd", 0, 0, &[]),
    };
    let minf = bmff_box(b"minf", &[header, dinf, stbl].concat());
    let udta = bmff_box(b"udta", &bmff_box(b"name", format!("{DEVICE} camera").as_bytes()));
    bmff_box(b"trak", &[full_box(b"tkhd", 0, 7, &tkhd), bmff_box(b"mdia", &[mdhd, hdlr, minf].concat()), udta].concat())
}

/// A phone video as an MP4 built box by box: a video track of ten samples
/// and a timed-metadata track whose two samples are GPS fixes; the location
/// and device in `moov/udta` (`©xyz`, `©mak`, `©mod`, `XMP_`, `loci`), in a
/// QuickTime `moov/meta` (keys `com.apple.quicktime.location.ISO6709`,
/// `…make`, `…model`), in a top-level XMP `uuid` box and in a vendor box.
/// `moov_first`: the movie header before the samples (a streamable file)
/// or after them (as phones write).
pub fn mp4_with_location(moov_first: bool) -> Vec<u8> {
    let ftyp = bmff_box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    let video: Vec<u32> = (0..10).map(|i| 100 + i).collect();
    let fix = format!("GPS {ISO6709} {DEVICE}");
    let gps = [u32::try_from(fix.len()).unwrap(); 2];
    let mut samples = mp4_video_samples();
    let video_len = samples.len() as u32;
    samples.extend_from_slice(fix.as_bytes());
    samples.extend_from_slice(fix.as_bytes());
    let mdat = bmff_box(b"mdat", &samples);
    let (udta, meta) = movie_location();
    let moov_at = |chunk: u32| {
        bmff_box(
            b"moov",
            &[
                mvhd(1000),
                trak(1, b"vide", b"xvid", &video, &[chunk], 10, 10),
                trak(2, b"meta", b"mett", &gps, &[chunk + video_len], 2, 10),
                udta.clone(),
                meta.clone(),
            ]
            .concat(),
        )
    };
    let mut uuid = b"\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac".to_vec();
    uuid.extend_from_slice(xmp().as_bytes());
    let uuid = bmff_box(b"uuid", &uuid);
    let vendor = bmff_box(b"sefd", format!("SEF location {ISO6709}").as_bytes());
    let moov_len = moov_at(0).len();
    if moov_first {
        let chunk = (ftyp.len() + moov_len + uuid.len() + 8) as u32;
        [ftyp, moov_at(chunk), uuid, mdat, vendor].concat()
    } else {
        let chunk = (ftyp.len() + uuid.len() + 8) as u32;
        [ftyp, uuid, mdat, moov_at(chunk), vendor].concat()
    }
}

fn xmp() -> String {
    format!(r#"<x:xmpmeta><rdf:Description exif:GPSLatitude="55,45.35N" tiff:Model="{DEVICE}"/></x:xmpmeta>"#)
}

/// A movie header of `duration` milliseconds.
fn mvhd(duration: u32) -> Vec<u8> {
    let body = [
        be32s(&[0, 0, 1000, duration, 0x1_0000]),
        vec![1, 0],
        vec![0; 10],
        be32s(&[0x1_0000, 0, 0, 0, 0x1_0000, 0, 0, 0, 0x4000_0000]),
        vec![0; 24],
        be32s(&[4]),
    ];
    full_box(b"mvhd", 0, 0, &body.concat())
}

/// A phone's `moov/udta` (`©xyz`, `©mak`, `©mod`, `XMP_`, `loci`) and
/// QuickTime `moov/meta` (location, make and model keys).
fn movie_location() -> (Vec<u8>, Vec<u8>) {
    let text = |kind: &[u8; 4], s: &str| {
        let mut b = u16::try_from(s.len()).unwrap().to_be_bytes().to_vec();
        b.extend_from_slice(&[0x55, 0xC4]);
        b.extend_from_slice(s.as_bytes());
        bmff_box(kind, &b)
    };
    let mut loci = vec![0x55, 0xC4];
    loci.extend_from_slice(b"Home\0\0");
    loci.extend_from_slice(&be32s(&[37 << 16, 55 << 16, 150 << 16]));
    loci.extend_from_slice(b"earth\0\0");
    let udta = [
        text(b"\xa9xyz", ISO6709),
        text(b"\xa9mak", "Google"),
        text(b"\xa9mod", DEVICE),
        bmff_box(b"XMP_", xmp().as_bytes()),
        full_box(b"loci", 0, 0, &loci),
    ];
    let keys = ["com.apple.quicktime.location.ISO6709", "com.apple.quicktime.make", "com.apple.quicktime.model"];
    let mut key_boxes = be32s(&[keys.len() as u32]);
    for k in keys {
        key_boxes.extend_from_slice(&bmff_box(b"mdta", k.as_bytes()));
    }
    let mut items = Vec::new();
    for (i, v) in [ISO6709, "Google", DEVICE].iter().enumerate() {
        let data = bmff_box(b"data", &[be32s(&[1, 0]), v.as_bytes().to_vec()].concat());
        items.extend_from_slice(&bmff_box(&(i as u32 + 1).to_be_bytes(), &data));
    }
    let meta = [
        full_box(b"hdlr", 0, 0, &[vec![0; 4], b"mdta".to_vec(), vec![0; 13]].concat()),
        full_box(b"keys", 0, 0, &key_boxes),
        bmff_box(b"ilst", &items),
    ];
    (bmff_box(b"udta", &udta.concat()), bmff_box(b"meta", &meta.concat()))
}

/// Fills `buf` with bytes that do not compress (xorshift), as coded video.
fn noise(buf: &mut [u8], seed: &mut u64) {
    for chunk in buf.chunks_mut(8) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        chunk.copy_from_slice(&seed.to_le_bytes()[..chunk.len()]);
    }
}

/// Writes a phone video of about `bytes` as MP4, streaming (the benchmark's
/// 100 MB file): `seconds` of 30 fps video, AAC-sized audio (47 frames a
/// second) and a GPS track (a fix a second), interleaved a chunk per
/// second, the movie header at the end as phones write it, with the
/// location in `udta` and `meta`.
pub fn write_long_mp4(w: &mut impl std::io::Write, seconds: u32, bytes: u64) -> std::io::Result<()> {
    let fix = format!("GPS {ISO6709} {DEVICE}");
    let (fps, aps) = (30u32, 47u32);
    let audio = |i: u32| 330 + (i % 5) * 4;
    let per_second = bytes / u64::from(seconds);
    let video_budget = per_second - u64::from((0..aps).map(audio).sum::<u32>()) - fix.len() as u64;
    // A keyframe a second, eight times a delta frame.
    let video = |i: u32| {
        let unit = video_budget / u64::from(fps + 7);
        (if i.is_multiple_of(fps) { unit * 8 } else { unit } + u64::from(i % 3)) as u32
    };
    let ftyp = bmff_box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    let total: u64 = (0..seconds)
        .map(|s| {
            (0..fps).map(|f| u64::from(video(s * fps + f))).sum::<u64>()
                + (0..aps).map(|a| u64::from(audio(s * aps + a))).sum::<u64>()
                + fix.len() as u64
        })
        .sum();
    w.write_all(&ftyp)?;
    w.write_all(&u32::try_from(total + 8).unwrap().to_be_bytes())?;
    w.write_all(b"mdat")?;
    let mut at = (ftyp.len() + 8) as u32;
    let (mut vchunks, mut achunks, mut gchunks) = (Vec::new(), Vec::new(), Vec::new());
    let mut buf = vec![0u8; 1 << 20];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for s in 0..seconds {
        let mut emit = |n: u64, w: &mut dyn std::io::Write| -> std::io::Result<()> {
            let mut left = n as usize;
            while left > 0 {
                let k = left.min(buf.len());
                noise(&mut buf[..k], &mut seed);
                w.write_all(&buf[..k])?;
                left -= k;
            }
            Ok(())
        };
        vchunks.push(at);
        let v: u64 = (0..fps).map(|f| u64::from(video(s * fps + f))).sum();
        emit(v, w)?;
        at += v as u32;
        achunks.push(at);
        let a: u64 = (0..aps).map(|i| u64::from(audio(s * aps + i))).sum();
        emit(a, w)?;
        at += a as u32;
        gchunks.push(at);
        w.write_all(fix.as_bytes())?;
        at += fix.len() as u32;
    }
    let video_sizes: Vec<u32> = (0..seconds * fps).map(video).collect();
    let audio_sizes: Vec<u32> = (0..seconds * aps).map(audio).collect();
    let gps_sizes = vec![fix.len() as u32; seconds as usize];
    let (udta, meta) = movie_location();
    let moov = [
        mvhd(seconds * 1000),
        trak(1, b"vide", b"xvid", &video_sizes, &vchunks, fps, fps),
        trak(2, b"soun", b"xaud", &audio_sizes, &achunks, aps, aps),
        trak(3, b"meta", b"mett", &gps_sizes, &gchunks, 1, 1),
        udta,
        meta,
    ];
    w.write_all(&bmff_box(b"moov", &moov.concat()))
}

/// Writes a WebM of about `bytes`, streaming: `seconds` one-second clusters
/// of 30 video frames (VP8 in name, noise in fact) and 50 audio frames, with
/// the location and device in tags and the segment info.
pub fn write_long_webm(w: &mut impl std::io::Write, seconds: u32, bytes: u64) -> std::io::Result<()> {
    let header = ebml(
        0x1A45_DFA3,
        &[ebml_uint(0x4286, 1), ebml(0x4282, b"webm"), ebml_uint(0x4287, 4), ebml_uint(0x4285, 2)].concat(),
    );
    let info = ebml(
        0x1549_A966,
        &[
            ebml_uint(0x2A_D7B1, 1_000_000),
            ebml(0x4D80, DEVICE.as_bytes()),
            ebml(0x5741, DEVICE.as_bytes()),
            ebml(0x4489, &f64::from(seconds * 1000).to_be_bytes()),
        ]
        .concat(),
    );
    let track = |n: u64, kind: u64, codec: &[u8], settings: Vec<u8>| {
        ebml(
            0xAE,
            &[ebml_uint(0xD7, n), ebml_uint(0x73C5, n), ebml_uint(0x83, kind), ebml(0x86, codec), settings].concat(),
        )
    };
    let tracks = ebml(
        0x1654_AE6B,
        &[
            track(1, 1, b"V_VP8", ebml(0xE0, &[ebml_uint(0xB0, 1920), ebml_uint(0xBA, 1080)].concat())),
            track(2, 2, b"A_OPUS", ebml(0xE1, &[ebml_uint(0x9F, 2), ebml(0xB5, &48_000f64.to_be_bytes())].concat())),
        ]
        .concat(),
    );
    let tags = ebml(
        0x1254_C367,
        &ebml(0x7373, &ebml(0x67C8, &[ebml(0x45A3, b"LOCATION"), ebml(0x4487, ISO6709.as_bytes())].concat())),
    );
    // The segment's size: unknown, as a recorder writes it.
    w.write_all(&header)?;
    w.write_all(&[0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])?;
    w.write_all(&info)?;
    w.write_all(&tracks)?;
    let frame = (bytes / u64::from(seconds) - 50 * 200) / 30;
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut data = vec![0u8; frame as usize];
    for s in 0..seconds {
        let mut cluster = ebml_uint(0xE7, u64::from(s) * 1000);
        for f in 0..30u16 {
            noise(&mut data, &mut seed);
            let block =
                [vec![0x81], (f * 33).to_be_bytes().to_vec(), vec![if f == 0 { 0x80 } else { 0 }], data.clone()]
                    .concat();
            cluster.extend_from_slice(&ebml(0xA3, &block));
        }
        for a in 0..50u16 {
            let block = [vec![0x82], (a * 20).to_be_bytes().to_vec(), vec![0x80], vec![a as u8; 200]].concat();
            cluster.extend_from_slice(&ebml(0xA3, &block));
        }
        w.write_all(&ebml(0x1F43_B675, &cluster))?;
    }
    w.write_all(&tags)
}

/// The bytes of the fixture video's video track (what must survive cleaning).
pub fn mp4_video_samples() -> Vec<u8> {
    (0..10u32).flat_map(|i| std::iter::repeat_n(i as u8 + 1, 100 + i as usize)).collect()
}

/// A HEIF photo built box by box (`avif`: an AVIF): a primary image item,
/// an `Exif` item (GPS, make "Canon") in `mdat` with a property association
/// and an XMP `mime` item in `idat`, both described by `iref` as about the
/// image.
pub fn heif_with_exif(avif: bool) -> Vec<u8> {
    let (brand, coding) = if avif { (b"avif", b"av01") } else { (b"heic", b"hvc1") };
    let ftyp = bmff_box(b"ftyp", &[&brand[..], b"\0\0\0\0mif1", brand, b"miaf"].concat());
    let image = vec![0x42u8; 300];
    let mut exif = vec![0, 0, 0, 6];
    exif.extend_from_slice(b"Exif\0\0");
    exif.extend_from_slice(&exif_with_gps());
    let xmp =
        format!(r#"<x:xmpmeta><rdf:Description exif:GPSLatitude="55,45.35N" tiff:Model="{DEVICE}"/></x:xmpmeta>"#);
    let infe = |id: u16, kind: &[u8; 4], extra: &[u8]| {
        let mut b = id.to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(kind);
        b.extend_from_slice(b"\0");
        b.extend_from_slice(extra);
        full_box(b"infe", 2, 0, &b)
    };
    let iinf = full_box(
        b"iinf",
        0,
        0,
        &[
            3u16.to_be_bytes().to_vec(),
            infe(1, coding, b""),
            infe(2, b"Exif", b""),
            infe(3, b"mime", b"application/rdf+xml\0"),
        ]
        .concat(),
    );
    let iref = full_box(
        b"iref",
        0,
        0,
        &[bmff_box(b"cdsc", &[0, 2, 0, 1, 0, 1]), bmff_box(b"cdsc", &[0, 3, 0, 1, 0, 1])].concat(),
    );
    let ispe = full_box(b"ispe", 0, 0, &be32s(&[64, 48]));
    let ipma = full_box(b"ipma", 0, 0, &[be32s(&[2]), vec![0, 1, 1, 0x81], vec![0, 2, 1, 0x01]].concat());
    let iprp = bmff_box(b"iprp", &[bmff_box(b"ipco", &ispe), ipma].concat());
    let hdlr = full_box(b"hdlr", 0, 0, &[vec![0; 4], b"pict".to_vec(), vec![0; 13]].concat());
    let pitm = full_box(b"pitm", 0, 0, &[0, 1]);
    let idat = bmff_box(b"idat", xmp.as_bytes());
    // iloc version 1: offset and length 4 bytes, no base offset, no index.
    let iloc_at = |image_at: u32| {
        let entry = |id: u16, method: u16, offset: u32, len: u32| {
            [id.to_be_bytes().to_vec(), method.to_be_bytes().to_vec(), vec![0, 0], vec![0, 1], be32s(&[offset, len])]
                .concat()
        };
        full_box(
            b"iloc",
            1,
            0,
            &[
                vec![0x44, 0x00],
                3u16.to_be_bytes().to_vec(),
                entry(1, 0, image_at, image.len() as u32),
                entry(2, 0, image_at + image.len() as u32, exif.len() as u32),
                entry(3, 1, 0, xmp.len() as u32),
            ]
            .concat(),
        )
    };
    let meta_at = |image_at| {
        full_box(
            b"meta",
            0,
            0,
            &[hdlr.clone(), pitm.clone(), iinf.clone(), iloc_at(image_at), iref.clone(), iprp.clone(), idat.clone()]
                .concat(),
        )
    };
    let image_at = (ftyp.len() + meta_at(0).len() + 8) as u32;
    let meta = meta_at(image_at);
    let mdat = bmff_box(b"mdat", &[image, exif].concat());
    [ftyp, meta, mdat].concat()
}

/// An EBML element: its id, an 8-byte size (or "unknown"), its data.
pub fn ebml(id: u32, data: &[u8]) -> Vec<u8> {
    let mut e: Vec<u8> = id.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
    e.push(0x01);
    e.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
    e.extend_from_slice(data);
    e
}

pub fn ebml_uint(id: u32, v: u64) -> Vec<u8> {
    ebml(id, &v.to_be_bytes())
}

/// A WebM built element by element: one VP8 track of ten frames; the
/// device named in the muxing and writing applications, the title and the
/// track's name (under CRC-32s), the location in `Tags`, a photo with GPS in
/// `Attachments`, and a seek head pointing at both. `unknown_sizes`: the
/// segment and the cluster have unknown sizes, as a live recording writes.
pub fn webm_with_tags(unknown_sizes: bool) -> Vec<u8> {
    let header = ebml(
        0x1A45_DFA3,
        &[ebml_uint(0x4286, 1), ebml(0x4282, b"webm"), ebml_uint(0x4287, 4), ebml_uint(0x4285, 2)].concat(),
    );
    let crc = ebml(0xBF, &[1, 2, 3, 4]);
    let info = ebml(
        0x1549_A966,
        &[
            crc.clone(),
            ebml_uint(0x2A_D7B1, 1_000_000),
            ebml(0x4D80, format!("{DEVICE} Recorder").as_bytes()),
            ebml(0x5741, DEVICE.as_bytes()),
            ebml(0x7BA9, format!("Trip {ISO6709}").as_bytes()),
            ebml(0x4489, &1000f64.to_be_bytes()),
        ]
        .concat(),
    );
    let video = ebml(0xE0, &[ebml_uint(0xB0, 96), ebml_uint(0xBA, 64)].concat());
    let entry = ebml(
        0xAE,
        &[
            crc,
            ebml_uint(0xD7, 1),
            ebml_uint(0x73C5, 42),
            ebml_uint(0x83, 1),
            ebml(0x86, b"V_VP8"),
            ebml(0x536E, format!("{DEVICE} camera").as_bytes()),
            video,
        ]
        .concat(),
    );
    let tracks = ebml(0x1654_AE6B, &entry);
    let mut cluster_body = ebml_uint(0xE7, 0);
    for i in 0..10u8 {
        let mut block = vec![0x81, 0, i * 10, 0x80];
        block.extend(std::iter::repeat_n(i + 1, 50 + usize::from(i)));
        cluster_body.extend_from_slice(&ebml(0xA3, &block));
    }
    let cluster = if unknown_sizes {
        [vec![0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], cluster_body].concat()
    } else {
        ebml(0x1F43_B675, &cluster_body)
    };
    let simple_tag = ebml(0x67C8, &[ebml(0x45A3, b"LOCATION"), ebml(0x4487, ISO6709.as_bytes())].concat());
    let tags = ebml(0x1254_C367, &ebml(0x7373, &[ebml(0x63C0, &[]), simple_tag].concat()));
    let file = ebml(
        0x61A7,
        &[
            ebml(0x466E, b"cover.jpg"),
            ebml(0x4660, b"image/jpeg"),
            ebml(0x465C, &jpeg_with_gps(8, 8)),
            ebml_uint(0x46AE, 7),
        ]
        .concat(),
    );
    let attachments = ebml(0x1941_A469, &file);
    let seek =
        |id: u32, at: usize| ebml(0x4DBB, &[ebml(0x53AB, &id.to_be_bytes()), ebml_uint(0x53AC, at as u64)].concat());
    let seek_len = seek(0, 0).len();
    let seek_head_len = 12 + 4 * seek_len;
    let info_at = seek_head_len;
    let tracks_at = info_at + info.len();
    let cluster_at = tracks_at + tracks.len();
    let tags_at = cluster_at + cluster.len();
    let attachments_at = tags_at + tags.len();
    let seek_head = ebml(
        0x114D_9B74,
        &[
            seek(0x1549_A966, info_at),
            seek(0x1654_AE6B, tracks_at),
            seek(0x1254_C367, tags_at),
            seek(0x1941_A469, attachments_at),
        ]
        .concat(),
    );
    assert_eq!(seek_head.len(), seek_head_len);
    let body = [seek_head, info, tracks, cluster, tags, attachments].concat();
    let segment = if unknown_sizes {
        [vec![0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], body].concat()
    } else {
        ebml(0x1853_8067, &body)
    };
    [header, segment].concat()
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
