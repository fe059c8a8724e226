//! Same-length edits to a file: the cleaners plan them while reading, check
//! the result through [`Overlay`] (the file as it will be, without writing),
//! and only then [`apply`] them in place. Nothing moves, so no offset inside
//! the file (chunk tables, item locations, seek heads, cues) needs rewriting.

use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes at `at..at + len` become `head` followed by zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Patch {
    pub at: u64,
    pub len: u64,
    pub head: Vec<u8>,
}

impl Patch {
    /// `len` zero bytes at `at`.
    pub fn zeros(at: u64, len: u64) -> Patch {
        Patch { at, len, head: Vec::new() }
    }

    fn end(&self) -> u64 {
        self.at + self.len
    }

    /// The byte this patch puts at `pos` (which it covers).
    fn byte_at(&self, pos: u64) -> u8 {
        let i = pos - self.at;
        usize::try_from(i).ok().and_then(|i| self.head.get(i)).copied().unwrap_or(0)
    }
}

/// A file's planned edits, in the order they apply (a later one wins where
/// two overlap, as when an item's extent lies inside a box being blanked).
#[derive(Debug, Default)]
pub(crate) struct Patches {
    list: Vec<Patch>,
}

/// A hostile file cannot make the plan itself unbounded: one patch per box
/// or chunk blanked, and no real video needs this many.
pub(crate) const MAX_PATCHES: usize = 1_000_000;

impl Patches {
    pub fn push(&mut self, patch: Patch) -> bool {
        if patch.len == 0 {
            return true;
        }
        if self.list.len() >= MAX_PATCHES {
            return false;
        }
        self.list.push(patch);
        true
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Bytes changed (counting overlaps twice).
    pub fn blanked(&self) -> u64 {
        self.list.iter().map(|p| p.len).sum()
    }

    /// Patches sorted by start, stably, so overlaps still apply in order.
    pub fn sorted(mut self) -> Patches {
        self.list.sort_by_key(|p| p.at);
        self
    }

    /// Applies the patches to `buf`, which holds the file's bytes from
    /// `base` on (a box read into memory).
    pub fn apply_to(&self, buf: &mut [u8], base: u64) {
        let end = base + buf.len() as u64;
        for p in self.list.iter().filter(|p| p.at < end && p.end() > base) {
            for pos in p.at.max(base)..p.end().min(end) {
                buf[(pos - base) as usize] = p.byte_at(pos);
            }
        }
    }

    /// Writes the patches into the file.
    pub fn apply<F: Write + Seek>(&self, file: &mut F) -> io::Result<()> {
        static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
        for p in &self.list {
            file.seek(SeekFrom::Start(p.at))?;
            let head = &p.head[..p.head.len().min(usize::try_from(p.len).unwrap_or(usize::MAX))];
            file.write_all(head)?;
            let mut left = p.len - head.len() as u64;
            while left > 0 {
                let n = left.min(ZEROS.len() as u64) as usize;
                file.write_all(&ZEROS[..n])?;
                left -= n as u64;
            }
        }
        file.flush()
    }
}

/// The file as it will read once the patches are applied.
pub(crate) struct Overlay<'a, R> {
    inner: R,
    patches: &'a Patches,
    pos: u64,
    len: u64,
}

impl<'a, R: Read + Seek> Overlay<'a, R> {
    pub fn new(mut inner: R, patches: &'a Patches) -> io::Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Overlay { inner, patches, pos: 0, len })
    }
}

impl<R: Read + Seek> Read for Overlay<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let base = self.pos;
        self.patches.apply_to(&mut buf[..n], base);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Overlay<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = self.inner.seek(SeekFrom::Start(target))?;
        Ok(self.pos)
    }
}

/// Runs a third-party container reader on untrusted bytes: its error, or a
/// panic of its own (an arithmetic overflow on a hostile field), refuses
/// the file instead of failing the upload's task. Nothing is written yet
/// when a reader runs, so there is no state to repair.
pub(crate) fn guarded<T, E: std::fmt::Display>(
    what: &str,
    read: impl FnOnce() -> Result<T, E>,
) -> Result<T, crate::media::MediaError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(crate::media::MediaError::Malformed(format!("{what}: {e}"))),
        Err(_) => Err(crate::media::MediaError::Malformed(format!("{what}: the reader gave up"))),
    }
}

/// Reads a file at given offsets through a buffer, so walking thousands of
/// small headers costs few system calls.
pub(crate) struct Source<R> {
    inner: io::BufReader<R>,
    pos: u64,
    pub len: u64,
}

impl<R: Read + Seek> Source<R> {
    pub fn new(mut inner: R) -> io::Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Source { inner: io::BufReader::with_capacity(64 * 1024, inner), pos: 0, len })
    }

    /// Fills `buf` from `at`; `false` when the file ends first.
    pub fn read_at(&mut self, at: u64, buf: &mut [u8]) -> io::Result<bool> {
        if at.checked_add(buf.len() as u64).is_none_or(|end| end > self.len) {
            return Ok(false);
        }
        match i64::try_from(at.wrapping_sub(self.pos)) {
            Ok(d) if at >= self.pos => self.inner.seek_relative(d)?,
            _ => {
                self.inner.seek(SeekFrom::Start(at))?;
            }
        }
        self.inner.read_exact(buf)?;
        self.pos = at + buf.len() as u64;
        Ok(true)
    }

    /// `len` bytes from `at`, allocated only once the file is known to hold them.
    pub fn read_vec(&mut self, at: u64, len: u64) -> io::Result<Option<Vec<u8>>> {
        if at.checked_add(len).is_none_or(|end| end > self.len) {
            return Ok(None);
        }
        let Ok(n) = usize::try_from(len) else { return Ok(None) };
        let mut buf = vec![0; n];
        Ok(self.read_at(at, &mut buf)?.then_some(buf))
    }

    /// The underlying reader, for a reader of its own (a container parser):
    /// the buffer is dropped and the next `read_at` seeks from scratch.
    pub fn raw(&mut self) -> io::Result<&mut R> {
        self.inner.seek(SeekFrom::Start(0))?;
        self.pos = u64::MAX;
        Ok(self.inner.get_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn the_overlay_reads_what_applying_writes_and_later_patches_win() {
        let original: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let mut patches = Patches::default();
        patches.push(Patch { at: 100, len: 50, head: b"free".to_vec() });
        patches.push(Patch::zeros(120, 10));
        patches.push(Patch { at: 9_990, len: 10, head: vec![7; 3] });
        patches.push(Patch::zeros(110, 5));
        let patches = patches.sorted();
        let mut written = Cursor::new(original.clone());
        patches.apply(&mut written).unwrap();
        let written = written.into_inner();
        assert_eq!(written.len(), original.len());
        assert_eq!(&written[100..104], b"free");
        assert!(written[104..150].iter().all(|&b| b == 0));
        assert_eq!(&written[9_990..10_000], &[7, 7, 7, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&written[..100], &original[..100]);

        let mut overlay = Overlay::new(Cursor::new(original), &patches).unwrap();
        let mut read = Vec::new();
        let mut chunk = [0u8; 37];
        loop {
            let n = overlay.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            read.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(read, written);
        overlay.seek(SeekFrom::Start(98)).unwrap();
        let mut six = [0u8; 6];
        overlay.read_exact(&mut six).unwrap();
        assert_eq!(&six, &[98, 99, b'f', b'r', b'e', b'e']);
    }

    #[test]
    fn a_source_reads_at_offsets_and_says_when_the_file_is_too_short() {
        let mut s = Source::new(Cursor::new((0..100u8).collect::<Vec<_>>())).unwrap();
        let mut four = [0u8; 4];
        assert!(s.read_at(50, &mut four).unwrap());
        assert_eq!(four, [50, 51, 52, 53]);
        assert!(s.read_at(10, &mut four).unwrap());
        assert_eq!(four, [10, 11, 12, 13]);
        assert!(!s.read_at(98, &mut four).unwrap());
        assert!(!s.read_at(u64::MAX - 1, &mut four).unwrap());
        assert_eq!(s.read_vec(96, 4).unwrap(), Some(vec![96, 97, 98, 99]));
        assert_eq!(s.read_vec(0, 2_000_000_000).unwrap(), None);
    }
}
