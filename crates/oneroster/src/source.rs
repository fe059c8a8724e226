//! Where the package's files come from: a folder or a zip archive.

use crate::{Problem, ReadError};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Nothing a school region exports comes near this; a zip that claims more is
/// either broken or hostile.
const MAX_UNPACKED: u64 = 4 << 30;
/// Deflate tops out near 1000:1 on degenerate input; real CSV compresses 5–20:1.
const MAX_RATIO: u64 = 200;
/// Small entries may compress absurdly well (a file of one repeated row) and are harmless.
const RATIO_EXEMPT_BELOW: u64 = 1 << 20;

pub(crate) struct ZipEntry {
    index: usize,
    size: u64,
    compressed: u64,
}

pub(crate) enum Source {
    Folder(BTreeMap<String, (PathBuf, u64)>),
    Zip { archive: zip::ZipArchive<File>, entries: BTreeMap<String, ZipEntry> },
}

/// Files are looked up without regard to case: a package made on Windows may say
/// `Users.csv`.
fn key(name: &str) -> String {
    name.to_lowercase()
}

fn with_path(err: io::Error, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}

impl Source {
    pub fn open(path: &Path) -> Result<Source, ReadError> {
        let meta = fs::metadata(path).map_err(|e| with_path(e, path))?;
        if meta.is_dir() { Self::folder(path) } else { Self::zip(path) }
    }

    fn folder(path: &Path) -> Result<Source, ReadError> {
        let mut files = BTreeMap::new();
        let mut problems = Vec::new();
        for entry in fs::read_dir(path).map_err(|e| with_path(e, path))? {
            let entry = entry.map_err(|e| with_path(e, path))?;
            let file_path = entry.path();
            let meta = fs::metadata(&file_path).map_err(|e| with_path(e, &file_path))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            if files.insert(key(&name), (file_path, meta.len())).is_some() {
                problems.push(Problem::in_file(name, "two files differ only in the case of their names"));
            }
        }
        if problems.is_empty() { Ok(Source::Folder(files)) } else { Err(ReadError::Invalid(problems)) }
    }

    fn zip(path: &Path) -> Result<Source, ReadError> {
        let file = File::open(path).map_err(|e| with_path(e, path))?;
        let mut archive = zip::ZipArchive::new(file)?;
        let mut entries = BTreeMap::new();
        let mut problems = Vec::new();
        for index in 0..archive.len() {
            let entry = archive.by_index_raw(index)?;
            let name = entry.name().to_owned();
            // Parta never extracts to disk, but a package that tries to escape its
            // folder was crafted by someone: refuse all of it rather than guess.
            if leaves_folder(&name) || entry.enclosed_name().is_none() {
                problems.push(Problem::in_file(
                    name,
                    "the zip entry's name leaves the package folder (.. or an absolute path); the package is refused",
                ));
                continue;
            }
            if entry.is_dir() || name.contains(['/', '\\']) {
                continue;
            }
            let zip_entry = ZipEntry { index, size: entry.size(), compressed: entry.compressed_size() };
            if entries.insert(key(&name), zip_entry).is_some() {
                problems.push(Problem::in_file(name, "two zip entries differ only in the case of their names"));
            }
        }
        if problems.is_empty() { Ok(Source::Zip { archive, entries }) } else { Err(ReadError::Invalid(problems)) }
    }

    pub fn contains(&self, name: &str) -> bool {
        let key = key(name);
        match self {
            Source::Folder(files) => files.contains_key(&key),
            Source::Zip { entries, .. } => entries.contains_key(&key),
        }
    }

    /// The unpacked size of `name`, for progress.
    pub fn size(&self, name: &str) -> u64 {
        let key = key(name);
        match self {
            Source::Folder(files) => files.get(&key).map_or(0, |(_, size)| *size),
            Source::Zip { entries, .. } => entries.get(&key).map_or(0, |e| e.size),
        }
    }

    /// Refuses a zip whose files, as the archive declares them, unpack to too much.
    pub fn check_sizes(&self, names: &[&str]) -> Vec<Problem> {
        let Source::Zip { entries, .. } = self else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        let mut total: u64 = 0;
        for name in names {
            let Some(entry) = entries.get(&key(name)) else { continue };
            total = total.saturating_add(entry.size);
            if entry.size > RATIO_EXEMPT_BELOW && entry.size / entry.compressed.max(1) > MAX_RATIO {
                problems.push(Problem::in_file(
                    *name,
                    format!(
                        "unpacks from {} to {} bytes, more than any CSV file compresses; the package is refused",
                        entry.compressed, entry.size
                    ),
                ));
            }
        }
        if total > MAX_UNPACKED {
            problems.push(Problem::in_file(
                names.join(", "),
                format!("the files unpack to {total} bytes, more than the {MAX_UNPACKED} Parta accepts"),
            ));
        }
        problems
    }

    /// Opens `name` for reading; `None` if the package has no such file.
    pub fn open_file(&mut self, name: &str) -> Result<Option<Box<dyn Read + '_>>, ReadError> {
        let key = key(name);
        match self {
            Source::Folder(files) => {
                let Some((path, _)) = files.get(&key) else {
                    return Ok(None);
                };
                let file = File::open(path).map_err(|e| with_path(e, path))?;
                Ok(Some(Box::new(file)))
            }
            Source::Zip { archive, entries } => {
                let Some(entry) = entries.get(&key) else {
                    return Ok(None);
                };
                let remaining = entry.size;
                let file = match archive.by_index(entry.index) {
                    Ok(file) => file,
                    Err(zip::result::ZipError::UnsupportedArchive(why)) => {
                        return Err(ReadError::Invalid(vec![Problem::in_file(
                            name,
                            format!(
                                "the zip entry cannot be unpacked ({why}); zip the package again without a password, with ordinary (deflate) compression"
                            ),
                        )]));
                    }
                    Err(e) => return Err(e.into()),
                };
                Ok(Some(Box::new(Declared { inner: file, remaining })))
            }
        }
    }
}

fn leaves_folder(name: &str) -> bool {
    let bytes = name.as_bytes();
    name.starts_with(['/', '\\'])
        || (bytes.len() >= 2 && bytes[1] == b':')
        || name.contains('\0')
        || name.split(['/', '\\']).any(|part| part == "..")
}

/// Stops an entry from unpacking to more than its declared size, which the size
/// checks relied on.
struct Declared<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for Declared<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a zip entry unpacks to more than its declared size",
                )),
            };
        }
        let limit = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..limit])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Bytes read across all files, reported to the caller now and then.
pub(crate) struct Progress<'p> {
    callback: &'p mut dyn FnMut(u64, u64),
    done: u64,
    total: u64,
    reported: u64,
}

/// Often enough for a smooth bar, rarely enough to cost nothing.
const REPORT_EVERY: u64 = 256 * 1024;

impl<'p> Progress<'p> {
    pub fn new(callback: &'p mut dyn FnMut(u64, u64), total: u64) -> Self {
        callback(0, total);
        Progress { callback, done: 0, total, reported: 0 }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if self.done - self.reported >= REPORT_EVERY {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        self.reported = self.done;
        (self.callback)(self.done.min(self.total), self.total);
    }

    pub fn finish(&mut self) {
        (self.callback)(self.total, self.total);
    }
}

pub(crate) struct Counting<'a, 'p, R> {
    pub inner: R,
    pub progress: &'a mut Progress<'p>,
}

impl<R: Read> Read for Counting<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_folder_are_detected() {
        for name in ["../evil", "a/../../b", "/etc/passwd", "\\x", "C:\\x", "a\\..\\b"] {
            assert!(leaves_folder(name), "{name}");
        }
        for name in ["users.csv", "a/b.csv", "..users.csv"] {
            assert!(!leaves_folder(name), "{name}");
        }
    }

    #[test]
    fn an_entry_larger_than_declared_is_an_error() {
        let mut reader = Declared { inner: &b"abcdef"[..], remaining: 3 };
        let mut out = Vec::new();
        assert!(reader.read_to_end(&mut out).is_err());
        assert_eq!(out, b"abc");
    }
}
