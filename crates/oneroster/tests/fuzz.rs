#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Fuzzing the reader: the fixture packages damaged at random — bytes cut,
//! repeated or replaced, lines dropped or repeated, fields spliced in, the zip
//! itself damaged — never panic, and give a batch or problems that each name
//! a file of the package. `PROPTEST_CASES=100000` runs it longer.

use oneroster::{ReadError, read_package};
use proptest::prelude::*;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const FILES: [&str; 8] = [
    "manifest.csv",
    "orgs.csv",
    "academicSessions.csv",
    "courses.csv",
    "classes.csv",
    "users.csv",
    "roles.csv",
    "enrollments.csv",
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1_2")
}

#[derive(Debug, Clone)]
enum Edit {
    CutByte(prop::sample::Index),
    RepeatByte(prop::sample::Index),
    SetByte(prop::sample::Index, u8),
    DropLine(prop::sample::Index),
    RepeatLine(prop::sample::Index),
    /// A field spliced in at a byte: text that means something to a CSV
    /// reader or to OneRoster.
    Splice(prop::sample::Index, &'static str),
    CutTail(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let index = any::<prop::sample::Index>;
    let words = prop::sample::select(vec![
        ",",
        "\"",
        "\"\"",
        "\n",
        "\r\n",
        ";",
        "\u{feff}",
        "\u{0}",
        "\u{fffd}",
        "bulk",
        "delta",
        "absent",
        "student",
        "teacher",
        "parent",
        "guardian",
        "2026-13-45",
        "9999999999999999999999",
        "-1",
        "",
        "Й",
    ]);
    prop_oneof![
        index().prop_map(Edit::CutByte),
        index().prop_map(Edit::RepeatByte),
        (index(), any::<u8>()).prop_map(|(i, b)| Edit::SetByte(i, b)),
        index().prop_map(Edit::DropLine),
        index().prop_map(Edit::RepeatLine),
        (index(), words).prop_map(|(i, w)| Edit::Splice(i, w)),
        index().prop_map(Edit::CutTail),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    if bytes.is_empty() {
        return;
    }
    let lines = |bytes: &Vec<u8>| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                out.push((start, i + 1));
                start = i + 1;
            }
        }
        if start < bytes.len() {
            out.push((start, bytes.len()));
        }
        out
    };
    match edit {
        Edit::CutByte(i) => drop(bytes.remove(i.index(bytes.len()))),
        Edit::RepeatByte(i) => {
            let i = i.index(bytes.len());
            bytes.insert(i, bytes[i]);
        }
        Edit::SetByte(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        Edit::DropLine(i) => {
            let lines = lines(bytes);
            let (start, end) = lines[i.index(lines.len())];
            bytes.drain(start..end);
        }
        Edit::RepeatLine(i) => {
            let lines = lines(bytes);
            let (start, end) = lines[i.index(lines.len())];
            let line = bytes[start..end].to_vec();
            bytes.splice(end..end, line);
        }
        Edit::Splice(i, text) => {
            let i = i.index(bytes.len());
            bytes.splice(i..i, text.bytes());
        }
        Edit::CutTail(i) => bytes.truncate(i.index(bytes.len())),
    }
}

/// The fixture with one file damaged.
fn damaged_package() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    (prop::sample::select(FILES.to_vec()), prop::collection::vec(edit(), 1..6)).prop_map(|(damaged, edits)| {
        FILES
            .iter()
            .map(|file| {
                let mut bytes = fs::read(fixture().join(file)).unwrap();
                if *file == damaged {
                    for edit in &edits {
                        apply(&mut bytes, edit);
                    }
                }
                (*file, bytes)
            })
            .collect()
    })
}

/// A batch, or problems that each say which file of the package is wrong.
fn check(result: Result<oneroster::Package, ReadError>, zipped: bool) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(ReadError::Invalid(problems)) => {
            prop_assert!(!problems.is_empty());
            for p in &problems {
                // A damaged zip may name an entry by its damaged name.
                let named = if zipped { !p.file.is_empty() } else { FILES.contains(&p.file.as_str()) };
                prop_assert!(named, "a problem names a file of the package: {p}");
            }
            Ok(())
        }
        // Only a damaged zip may fail as a whole.
        Err(e @ (ReadError::Zip(_) | ReadError::Io(_))) => {
            prop_assert!(zipped, "a folder package fails with problems, not {e}");
            Ok(())
        }
    }
}

fn zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        out.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// In a module of its own, so that `cargo test fuzz` picks it.
mod fuzz {
    use super::*;

    proptest! {
        #[test]
        fn a_damaged_folder_package_gives_a_batch_or_problems_naming_files(files in damaged_package()) {
            let dir = tempfile::tempdir().unwrap();
            for (name, bytes) in &files {
                fs::write(dir.path().join(name), bytes).unwrap();
            }
            check(read_package(dir.path(), &mut |_, _| {}), false)?;
        }

        #[test]
        fn a_damaged_zip_gives_a_batch_problems_or_a_zip_error(
            files in damaged_package(),
            edits in prop::collection::vec(edit(), 0..3),
        ) {
            let mut bytes = zip(&files);
            for edit in &edits {
                apply(&mut bytes, edit);
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("roster.zip");
            fs::write(&path, bytes).unwrap();
            check(read_package(&path, &mut |_, _| {}), true)?;
        }
    }
}

#[test]
fn the_undamaged_fixture_reads() {
    assert!(read_package(&fixture(), &mut |_, _| {}).is_ok());
}
