//! Cleaning videos and HEIF photos, proved with readers that are not the
//! cleaner's: `exiftool` (Debian's libimage-exiftool-perl, which `.ci/run`
//! installs) and the `nom-exif` crate look for the location and the device;
//! `mp4parse`, `matroska-demuxer` and `kamadak-exif` read what is left.
//! The real files in `fixtures/` were made by `fixtures/make.sh` (ffmpeg,
//! exiftool, heif-enc); the others are built byte by byte in `testdata`.

use crate::media::{self, Cleaned, Container, MediaError};
use crate::testdata::{self, DEVICE, ISO6709, fixture};
use proptest::prelude::*;
use std::io::Cursor;

fn clean(bytes: &[u8]) -> Result<(Vec<u8>, Cleaned), MediaError> {
    let container = media::sniff(bytes).container.expect("a container");
    let mut file = Cursor::new(bytes.to_vec());
    let cleaned = media::clean_in_place(&mut file, container)?;
    Ok((file.into_inner(), cleaned))
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Tags exiftool reads that name a place or a device (`None` where exiftool
/// is not installed outside CI; CI installs it and must run it).
fn exiftool_private_tags(bytes: &[u8]) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file");
    std::fs::write(&path, bytes).unwrap();
    let out = match std::process::Command::new("exiftool").args(["-j", "-a", "-G1", "-ee", "-b"]).arg(&path).output() {
        Ok(out) => out,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("exiftool not run ({e}): apt-get install libimage-exiftool-perl");
            return None;
        }
        Err(e) => panic!("CI must have exiftool: {e}"),
    };
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let private = ["gps", "location", "make", "model", "software", "attached", "xmp"];
    let tags = json[0]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| {
            let k = k.to_ascii_lowercase();
            private.iter().any(|p| k.contains(p)) && v.as_str() != Some("")
        })
        .map(|(k, v)| format!("{k}={}", v.to_string().chars().take(60).collect::<String>()))
        .collect();
    Some(tags)
}

fn nom_track(bytes: &[u8]) -> nom_exif::Result<nom_exif::TrackInfo> {
    nom_exif::MediaParser::new().parse_track(nom_exif::MediaSource::from_memory(bytes.to_vec())?)
}

/// What nom-exif finds of a video's location and device.
fn nom_exif_track(bytes: &[u8]) -> Vec<String> {
    match nom_track(bytes) {
        Ok(info) => [nom_exif::TrackInfoTag::GpsIso6709, nom_exif::TrackInfoTag::Make, nom_exif::TrackInfoTag::Model]
            .into_iter()
            .filter_map(|t| info.get(t).map(|v| format!("{t:?}={v}")))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn nom_exif_duration(bytes: &[u8]) -> Option<String> {
    let info = nom_track(bytes).ok()?;
    info.get(nom_exif::TrackInfoTag::DurationMs).map(|v| v.to_string())
}

/// The bytes of every sample of every audio and video track, as mp4parse
/// locates them.
fn mp4_samples(bytes: &[u8]) -> Vec<Vec<u8>> {
    let ctx = mp4parse::read_mp4(&mut Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for t in
        ctx.tracks.iter().filter(|t| matches!(t.track_type, mp4parse::TrackType::Video | mp4parse::TrackType::Audio))
    {
        let (stsc, stco, stsz) = (t.stsc.as_ref().unwrap(), t.stco.as_ref().unwrap(), t.stsz.as_ref().unwrap());
        let mut sample = 0usize;
        for (c, &offset) in stco.offsets.iter().enumerate() {
            let run = stsc.samples.iter().filter(|r| r.first_chunk as usize <= c + 1).last().unwrap();
            let mut at = offset as usize;
            for _ in 0..run.samples_per_chunk {
                let Some(&size) = stsz.sample_sizes.get(sample) else { break };
                out.push(bytes[at..at + size as usize].to_vec());
                at += size as usize;
                sample += 1;
            }
        }
    }
    out
}

/// Every frame's bytes, as matroska-demuxer reads them.
fn mkv_frames(bytes: &[u8]) -> Vec<(u64, u64, Vec<u8>)> {
    let mut mkv = matroska_demuxer::MatroskaFile::open(Cursor::new(bytes)).unwrap();
    let mut frame = matroska_demuxer::Frame::default();
    let mut out = Vec::new();
    while mkv.next_frame(&mut frame).unwrap() {
        out.push((frame.track, frame.timestamp, frame.data.clone()));
    }
    out
}

#[test]
fn phone_videos_lose_their_location_and_device_and_keep_every_frame() {
    for name in ["phone.mp4", "iphone.mov", "phone.webm", "phone.mkv"] {
        let original = fixture(name);
        let device = if name == "iphone.mov" { "iPhone 15 Pro" } else { DEVICE };
        assert!(contains(&original, device), "{name}: the fixture names its device");
        if let Some(before) = exiftool_private_tags(&original) {
            assert!(before.iter().any(|t| t.contains("GPS") || t.contains("Location")), "{name}: {before:?}");
        }
        let (cleaned, report) = clean(&original).unwrap();
        assert_eq!(cleaned.len(), original.len(), "{name}: nothing moves");
        assert!(!contains(&cleaned, device), "{name}: no device name left anywhere in the bytes");
        assert!(!contains(&cleaned, "55.7558") && !contains(&cleaned, "+55.75"), "{name}: no location text left");
        if let Some(after) = exiftool_private_tags(&cleaned) {
            assert!(after.is_empty(), "{name}: exiftool still finds {after:?}");
        }
        assert_eq!(nom_exif_track(&cleaned), Vec::<String>::new(), "{name}: nom-exif finds nothing");
        assert_eq!(nom_exif_duration(&cleaned), nom_exif_duration(&original), "{name}: the same duration");
        // The streams, read again from the cleaned bytes by the container readers.
        let summary = report.summary.unwrap();
        assert_eq!(
            summary.streams.iter().map(|s| s.frames).collect::<Vec<_>>()[..2],
            [15, 48 + u64::from(name == "phone.webm") * 3]
        );
        if name.ends_with(".mp4") || name.ends_with(".mov") {
            let again = crate::bmff::summarize(&mp4parse::read_mp4(&mut Cursor::new(&cleaned)).unwrap());
            assert_eq!(again, summary, "{name}");
            assert_eq!(mp4_samples(&cleaned), mp4_samples(&original), "{name}: every sample byte is the same");
        } else {
            assert_eq!(crate::matroska::summarize(Cursor::new(&cleaned)).unwrap(), summary, "{name}");
            assert_eq!(mkv_frames(&cleaned), mkv_frames(&original), "{name}: every frame is the same");
        }
    }
}

#[test]
fn heic_and_avif_photos_lose_their_exif_and_xmp_and_keep_their_image() {
    for name in ["iphone.heic", "photo.avif"] {
        let original = fixture(name);
        let exif = exif::Reader::new().read_from_container(&mut Cursor::new(&original)).unwrap();
        assert!(exif.fields().any(|f| f.tag == exif::Tag::GPSLatitude), "{name}: the fixture has GPS");
        let (cleaned, report) = clean(&original).unwrap();
        assert!(report.summary.is_none(), "a photo has no streams");
        assert_eq!(cleaned.len(), original.len());
        assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&cleaned)).is_err(), "{name}: no EXIF left");
        let exif = nom_exif::MediaSource::from_memory(cleaned.clone())
            .and_then(|m| nom_exif::MediaParser::new().parse_exif(m));
        assert!(exif.is_err(), "{name}: nom-exif finds no EXIF");
        assert!(!contains(&cleaned, "iPhone 15 Pro") && !contains(&cleaned, "GPSLatitude"), "{name}");
        if let Some(after) = exiftool_private_tags(&cleaned) {
            assert!(after.is_empty(), "{name}: exiftool still finds {after:?}");
        }
    }
    // An independent AVIF reader finds the same primary image.
    let original = fixture("photo.avif");
    let (cleaned, _) = clean(&original).unwrap();
    let read = |b: &[u8]| mp4parse::read_avif(&mut Cursor::new(b), mp4parse::ParseStrictness::Normal).unwrap();
    let (a, b) = (read(&original), read(&cleaned));
    assert_eq!(a.primary_item_coded_data().unwrap(), b.primary_item_coded_data().unwrap());
}

#[test]
fn every_box_of_a_built_mp4_that_names_a_place_goes_and_its_gps_track_is_zeroed() {
    for moov_first in [true, false] {
        let original = testdata::mp4_with_location(moov_first);
        assert!(contains(&original, ISO6709) && contains(&original, DEVICE));
        let (cleaned, report) = clean(&original).unwrap();
        assert_eq!(cleaned.len(), original.len());
        for gone in [ISO6709, DEVICE, "Google", "GPSLatitude", "com.apple.quicktime", "earth", "SEF"] {
            assert!(!contains(&cleaned, gone), "moov first {moov_first}: {gone} is gone");
        }
        let video = testdata::mp4_video_samples();
        let at = original.windows(video.len()).position(|w| w == video).unwrap();
        assert_eq!(&cleaned[at..at + video.len()], &video[..], "the video samples are untouched");
        let summary = report.summary.unwrap();
        let kinds: Vec<_> = summary.streams.iter().map(|s| (s.kind, s.frames)).collect();
        assert_eq!(kinds, [("video", 10), ("metadata", 2)], "both tracks stay, with their sample counts");
        assert_eq!(summary.duration_ms, 1000);
        if let Some(after) = exiftool_private_tags(&cleaned) {
            assert!(after.is_empty(), "exiftool still finds {after:?}");
        }
        // Cleaning again finds nothing more to change.
        let (twice, _) = clean(&cleaned).unwrap();
        assert_eq!(twice, cleaned);
    }
}

#[test]
fn a_built_heif_loses_its_exif_and_xmp_items_and_keeps_its_image_where_it_was() {
    for avif in [false, true] {
        let original = testdata::heif_with_exif(avif);
        assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&original)).is_ok());
        let (cleaned, _) = clean(&original).unwrap();
        assert_eq!(cleaned.len(), original.len());
        assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&cleaned)).is_err());
        for gone in ["Exif", "Canon", "GPSLatitude", DEVICE, "application/rdf+xml", "cdsc"] {
            assert!(!contains(&cleaned, gone), "avif {avif}: {gone} is gone");
        }
        let image = vec![0x42u8; 300];
        let at = original.windows(300).position(|w| w == image).unwrap();
        assert_eq!(&cleaned[at..at + 300], &image[..], "the image is where iloc says");
        assert!(contains(&cleaned, "iloc") && contains(&cleaned, "ispe") && contains(&cleaned, "free"));
        if avif {
            let read = mp4parse::read_avif(&mut Cursor::new(&cleaned), mp4parse::ParseStrictness::Permissive).unwrap();
            assert_eq!(read.primary_item_coded_data().unwrap(), &image[..]);
        }
        let (twice, _) = clean(&cleaned).unwrap();
        assert_eq!(twice, cleaned);
    }
}

#[test]
fn matroska_tags_attachments_names_and_stale_crcs_go_and_unknown_sizes_are_followed() {
    for unknown in [false, true] {
        let original = testdata::webm_with_tags(unknown);
        let (cleaned, report) = clean(&original).unwrap();
        assert_eq!(cleaned.len(), original.len());
        for gone in [ISO6709, DEVICE, "LOCATION", "cover.jpg", "Canon", "Trip"] {
            assert!(!contains(&cleaned, gone), "unknown sizes {unknown}: {gone} is gone");
        }
        assert!(!cleaned.windows(5).any(|w| w == [0xBF, 0x81, 1, 2, 3]), "no stale CRC-32");
        let summary = report.summary.unwrap();
        assert_eq!(summary.streams.len(), 1);
        assert_eq!(summary.streams[0].frames, 10);
        assert_eq!(mkv_frames(&cleaned), mkv_frames(&original));
        if let Some(after) = exiftool_private_tags(&cleaned) {
            assert!(after.is_empty(), "exiftool still finds {after:?}");
        }
        let (twice, _) = clean(&cleaned).unwrap();
        assert_eq!(twice, cleaned);
    }
}

fn refused(bytes: Vec<u8>) -> MediaError {
    let mut file = Cursor::new(bytes);
    media::clean_in_place(&mut file, Container::IsoBmff).unwrap_err()
}

#[test]
fn hostile_boxes_are_refused_without_reading_what_they_announce() {
    let ftyp = testdata::bmff_box(b"ftyp", b"isom\0\0\0\0isom");
    // A moov that announces 2 GB in a 1 MB file.
    let mut big = ftyp.clone();
    big.extend_from_slice(&0x8000_0000u32.to_be_bytes());
    big.extend_from_slice(b"moov");
    big.resize(1 << 20, 0);
    assert!(matches!(refused(big), MediaError::Malformed(_)));
    // The same with a 64-bit size.
    let mut large = ftyp.clone();
    large.extend_from_slice(&[0, 0, 0, 1]);
    large.extend_from_slice(b"moov");
    large.extend_from_slice(&u64::MAX.to_be_bytes());
    assert!(matches!(refused(large), MediaError::Malformed(_)));
    // A moov inside a moov, a moov larger than any real one, a truncated one.
    let nested = [ftyp.clone(), testdata::bmff_box(b"moov", &testdata::bmff_box(b"moov", &[]))].concat();
    assert!(matches!(refused(nested), MediaError::Malformed(_)));
    let mut huge = ftyp.clone();
    huge.extend_from_slice(&testdata::bmff_box(b"moov", &vec![0; 33 << 20]));
    assert!(matches!(refused(huge), MediaError::Malformed(_)));
    let video = testdata::mp4_with_location(true);
    assert!(matches!(refused(video[..video.len() / 2].to_vec()), MediaError::Malformed(_)));
    // A box smaller than its own header; a child larger than its parent.
    let tiny = [ftyp.clone(), vec![0, 0, 0, 4], b"moov".to_vec()].concat();
    assert!(matches!(refused(tiny), MediaError::Malformed(_)));
    let mut child = testdata::bmff_box(b"moov", &testdata::bmff_box(b"trak", &[0; 16]));
    child[11] = 200;
    assert!(matches!(refused([ftyp, child].concat()), MediaError::Malformed(_)));
    // An EXIF item whose extent is the meta box that lists it.
    let mut heif = testdata::heif_with_exif(false);
    let exif_entry = heif.windows(6).position(|w| w == [0, 2, 0, 0, 0, 0]).unwrap();
    heif[exif_entry + 8..exif_entry + 12].copy_from_slice(&40u32.to_be_bytes());
    assert!(matches!(refused(heif), MediaError::Malformed(_)));
    // Not an ISO file at all.
    assert!(matches!(refused(b"hello, world, this is text".to_vec()), MediaError::Malformed(_)));
}

#[test]
fn a_block_timestamp_that_overflows_the_matroska_reader_refuses_the_file() {
    let mut webm = testdata::webm_with_tags(false);
    // The first block's relative timestamp becomes -32768: matroska-demuxer
    // 0.8 negates it, which overflows (a panic where overflow is checked).
    let block = webm.windows(6).position(|w| w == [0x81, 0, 0, 0x80, 1, 1]).unwrap();
    webm[block + 1] = 0x80;
    let mut file = Cursor::new(webm.clone());
    assert!(matches!(media::clean_in_place(&mut file, Container::Matroska), Err(MediaError::Malformed(_))));
    assert_eq!(file.into_inner(), webm);
}

#[test]
fn a_refused_file_is_left_as_it_was() {
    let mut video = testdata::mp4_with_location(false);
    // A second, damaged movie header: the plan fails after the first moov.
    video.extend_from_slice(&testdata::bmff_box(b"moov", &[0, 0, 0, 9, b'x', b'x']));
    let mut file = Cursor::new(video.clone());
    assert!(media::clean_in_place(&mut file, Container::IsoBmff).is_err());
    assert_eq!(file.into_inner(), video);
}

/// Every file the cleaner is given: the real fixtures and the built ones.
fn samples() -> Vec<(Vec<u8>, Container)> {
    let mut out: Vec<(Vec<u8>, Container)> = ["phone.mp4", "iphone.mov", "iphone.heic", "photo.avif"]
        .into_iter()
        .map(|n| (fixture(n), Container::IsoBmff))
        .chain(["phone.webm", "phone.mkv"].into_iter().map(|n| (fixture(n), Container::Matroska)))
        .collect();
    out.push((testdata::mp4_with_location(true), Container::IsoBmff));
    out.push((testdata::mp4_with_location(false), Container::IsoBmff));
    out.push((testdata::heif_with_exif(false), Container::IsoBmff));
    out.push((testdata::webm_with_tags(true), Container::Matroska));
    out.push((testdata::webm_with_tags(false), Container::Matroska));
    out
}

/// Damage: bytes overwritten (a size, a type, anything), a 32-bit word set
/// to an extreme (0, 1, a few, 2^31, 2^32 − 1), or the file cut short.
#[derive(Debug, Clone)]
enum Damage {
    Byte(usize, u8),
    Word(usize, u32),
    Cut(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Damage::Byte(at, b)),
        (
            any::<usize>(),
            prop_oneof![Just(0u32), Just(1), Just(8), Just(9), Just(0x8000_0000), Just(u32::MAX), any::<u32>()]
        )
            .prop_map(|(at, w)| Damage::Word(at, w)),
        any::<usize>().prop_map(Damage::Cut),
    ]
}

fn damaged(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for d in damages {
        let n = bytes.len().max(1);
        match *d {
            Damage::Byte(at, b) => {
                if let Some(x) = bytes.get_mut(at % n) {
                    *x = b;
                }
            }
            Damage::Word(at, w) => {
                let at = at % n;
                let end = (at + 4).min(bytes.len());
                bytes[at..end].copy_from_slice(&w.to_be_bytes()[..end - at]);
            }
            Damage::Cut(at) => bytes.truncate(at % n),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Damaged videos and photos are cleaned or refused, never a panic and
    /// never a change in length; what is cleaned is clean (cleaning it again
    /// changes nothing), and what is refused is left as it was.
    #[test]
    fn damaged_files_are_cleaned_or_refused(which in 0usize..11, damages in prop::collection::vec(damage(), 1..4)) {
        let all = samples();
        let (bytes, container) = &all[which % all.len()];
        let input = damaged(bytes.clone(), &damages);
        let mut file = Cursor::new(input.clone());
        match media::clean_in_place(&mut file, *container) {
            Ok(_) => {
                let once = file.into_inner();
                prop_assert_eq!(once.len(), input.len());
                let mut again = Cursor::new(once.clone());
                media::clean_in_place(&mut again, *container).unwrap();
                prop_assert!(again.into_inner() == once, "cleaning twice changes nothing more");
            }
            Err(_) => prop_assert!(file.into_inner() == input, "a refused file is untouched"),
        }
    }
}
