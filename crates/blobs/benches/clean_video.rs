//! Cleaning a 100 MB phone video, measured (BENCHMARKS.md, "Videos"): the
//! file is staged as an upload is (streamed into a temporary file), then
//! its metadata is blanked in place and it is hashed again — the work an
//! upload of a video adds. Two layouts: an MP4 with its movie header after
//! the samples (as phones write it) and a WebM of unknown size (as a
//! browser's recorder writes it), whose every frame the check reads twice.
//!
//! `cargo bench -p blobs --features testdata --bench clean_video -- [--mb 100] [--seconds 60] [--runs 3]`
//!
//! Peak memory is the growth of the resident set during the cleaning and
//! hashing: the kernel's high-water mark is reset first (`clear_refs` 5).
//! Only local files are touched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use blobs::Blobs;
use blobs::media::{self, Container};
use std::io::{BufWriter, Read};
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A line of /proc/self/status, in KiB.
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mb = arg("--mb", 100);
    let seconds = arg("--seconds", 60) as u32;
    let runs = arg("--runs", 3);
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::local_in(dir.path()).unwrap();
    let source = dir.path().join("source");
    type Writer = fn(&mut BufWriter<std::fs::File>, u32, u64) -> std::io::Result<()>;
    let layouts: [(&str, Container, Writer); 2] = [
        ("MP4, movie header at the end", Container::IsoBmff, blobs::testdata::write_long_mp4),
        ("WebM, unknown sizes", Container::Matroska, blobs::testdata::write_long_webm),
    ];
    for (name, container, write) in layouts {
        let mut w = BufWriter::new(std::fs::File::create(&source).unwrap());
        write(&mut w, seconds, mb * 1_000_000).unwrap();
        drop(w);
        let mut clean_times = Vec::new();
        let mut hash_times = Vec::new();
        let mut peaks = Vec::new();
        let mut report = None;
        for _ in 0..runs {
            // Staged as an upload: streamed in 1 MB chunks into a temporary file.
            let mut staging = blobs.stage(u64::MAX).unwrap();
            let mut file = std::fs::File::open(&source).unwrap();
            let mut chunk = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                staging.write(&chunk[..n]).await.unwrap();
            }
            drop(chunk);
            let mut staged = staging.finish().await.unwrap();
            std::fs::write("/proc/self/clear_refs", "5").unwrap();
            let before = status_kib("VmRSS:");
            let t = Instant::now();
            let cleaned = media::clean_file(staged.path(), container).unwrap();
            clean_times.push(t.elapsed());
            let t = Instant::now();
            staged.rehash().await.unwrap();
            hash_times.push(t.elapsed());
            peaks.push(status_kib("VmHWM:").saturating_sub(before));
            report = Some((cleaned, staged.size));
        }
        let (cleaned, size) = report.unwrap();
        let summary = cleaned.summary.unwrap();
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2].as_secs_f64() * 1000.0
        };
        println!(
            "{name}: {:.1} MB, {} s, streams {:?}",
            size as f64 / 1e6,
            summary.duration_ms / 1000,
            summary.streams.iter().map(|s| (s.kind, s.frames)).collect::<Vec<_>>()
        );
        println!(
            "  clean in place (plan, check with the container reader, write): median {:.0} ms; {} changes, {} bytes blanked",
            median(&mut clean_times),
            cleaned.changes,
            cleaned.bytes_blanked
        );
        println!("  hash again (SHA-256 of the cleaned file): median {:.0} ms", median(&mut hash_times));
        println!("  peak memory growth during both: max {} KiB", peaks.iter().max().unwrap());
    }
}
