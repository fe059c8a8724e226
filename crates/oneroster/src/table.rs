//! One CSV file of the package: delimiter detection, header matching, and rows
//! whose fields are read in place, without allocating.

use crate::source::{Counting, Progress, Source};
use crate::values::closest;
use crate::{Problem, ReadError, Report};
use std::collections::VecDeque;
use std::io::{self, Read};

/// The columns a file may have and those Parta cannot do without.
pub(crate) struct Spec {
    pub known: &'static [&'static str],
    pub required: &'static [&'static str],
}

/// A column as the reader uses it: where it is in this file (if present) and its
/// OneRoster name, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    index: Option<usize>,
    pub name: &'static str,
}

pub(crate) struct Columns {
    found: Vec<(&'static str, usize)>,
}

impl Columns {
    pub fn col(&self, name: &'static str) -> Col {
        let index = self.found.iter().find(|(n, _)| *n == name).map(|&(_, i)| i);
        Col { index, name }
    }
}

pub(crate) struct Table<'a> {
    file: &'static str,
    reader: csv::Reader<Lines<Box<dyn Read + 'a>>>,
    headers: Vec<String>,
    record: csv::ByteRecord,
}

fn io_in(file: &str, err: io::Error) -> ReadError {
    ReadError::Io(io::Error::new(err.kind(), format!("{file}: {err}")))
}

fn csv_error(file: &'static str, err: csv::Error, line: Option<u64>) -> Result<Problem, ReadError> {
    match err.into_kind() {
        csv::ErrorKind::Io(io) => Err(io_in(file, io)),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            Ok(Problem::new(file, line, None, format!("the row has {len} fields but the header has {expected_len}")))
        }
        other => Ok(Problem::new(file, line, None, format!("{other:?}"))),
    }
}

/// Finds the physical line a record starts on. The csv crate's own line count is
/// taken before it skips the `\n` of a CRLF line end or a blank line, so it is one
/// short in a file saved on Windows; this keeps the bytes the parser has not yet
/// passed and counts for itself.
pub(crate) struct Lines<R> {
    inner: R,
    /// Bytes from `base` on, as read by the parser.
    window: VecDeque<u8>,
    base: u64,
    newlines_before_base: u64,
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.extend(&buf[..n]);
        Ok(n)
    }
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Lines { inner, window: VecDeque::with_capacity(128 * 1024), base: 0, newlines_before_base: 0 }
    }

    /// The line of the record the parser reports at byte offset `byte`; offsets
    /// must not decrease from call to call.
    fn line_at(&mut self, byte: u64) -> u64 {
        let skip = usize::try_from(byte.saturating_sub(self.base)).unwrap_or(usize::MAX).min(self.window.len());
        let passed = self.window.drain(..skip).filter(|&b| b == b'\n').count();
        self.newlines_before_base += passed as u64;
        self.base += skip as u64;
        let mut leading = 0;
        for &b in &self.window {
            match b {
                b'\n' => leading += 1,
                b'\r' => {}
                _ => break,
            }
        }
        self.newlines_before_base + leading + 1
    }
}

/// The first line, or as much of it as a sane header can be.
fn read_header_line(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    const MAX_HEADER: usize = 64 * 1024;
    let mut prefix = Vec::with_capacity(8 * 1024);
    let mut chunk = [0u8; 8 * 1024];
    while !prefix.contains(&b'\n') && prefix.len() < MAX_HEADER {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => prefix.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(prefix)
}

/// A spreadsheet saved with Russian regional settings separates with `;`.
fn delimiter(prefix: &[u8]) -> u8 {
    let line = prefix.split(|&b| b == b'\n').next().unwrap_or(prefix);
    let count = |c: u8| line.iter().filter(|&&b| b == c).count();
    if count(b';') > count(b',') { b';' } else { b',' }
}

impl<'a> Table<'a> {
    /// Opens `file` and matches its header against `spec`; `Ok(None)` if the
    /// package lacks the file or its header is unusable (the problem is in
    /// `report`).
    pub fn open<'p>(
        source: &'a mut Source,
        progress: &'a mut Progress<'p>,
        file: &'static str,
        spec: &Spec,
        report: &mut Report,
    ) -> Result<Option<(Table<'a>, Columns)>, ReadError>
    where
        'p: 'a,
    {
        let Some(table) = Self::open_file(source, progress, file, report)? else {
            return Ok(None);
        };
        Ok(table.columns(spec, report).map(|columns| (table, columns)))
    }

    fn open_file<'p>(
        source: &'a mut Source,
        progress: &'a mut Progress<'p>,
        file: &'static str,
        report: &mut Report,
    ) -> Result<Option<Table<'a>>, ReadError>
    where
        'p: 'a,
    {
        let Some(inner) = source.open_file(file)? else {
            report.error(Problem::in_file(file, "the file is not in the package"));
            return Ok(None);
        };
        let mut counting = Counting { inner, progress };
        let prefix = read_header_line(&mut counting).map_err(|e| io_in(file, e))?;
        // Excel's "Unicode text" is UTF-16: every header would look unknown.
        if prefix.starts_with(&[0xff, 0xfe]) || prefix.starts_with(&[0xfe, 0xff]) {
            report.error(Problem::new(file, Some(1), None, "the file is UTF-16 text; save it as UTF-8"));
            return Ok(None);
        }
        let delimiter = delimiter(&prefix);
        let chained: Box<dyn Read + 'a> = Box::new(io::Cursor::new(prefix).chain(counting));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(false)
            .has_headers(true)
            .buffer_capacity(64 * 1024)
            .from_reader(Lines::new(chained));
        let raw_headers = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                report.error(csv_error(file, e, Some(1))?);
                return Ok(None);
            }
        };
        let mut headers = Vec::with_capacity(raw_headers.len());
        for (i, raw) in raw_headers.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(h) => headers.push(h.trim_start_matches('\u{feff}').trim().to_owned()),
                Err(_) => {
                    report.error(Problem::new(
                        file,
                        Some(1),
                        None,
                        format!("column {} of the header is not UTF-8 text; save the file as UTF-8", i + 1),
                    ));
                    return Ok(None);
                }
            }
        }
        if headers.iter().all(String::is_empty) {
            report.error(Problem::new(file, Some(1), None, "the file has no header line"));
            return Ok(None);
        }
        Ok(Some(Table { file, reader, headers, record: csv::ByteRecord::new() }))
    }

    /// Matches the header against `spec`. Missing required columns are errors
    /// (`None`); unknown columns are warnings, except the extension columns
    /// `metadata.*` and `ext_*`. `metadata.parta.*` is Parta's own namespace, so a
    /// name there that Parta does not know is a typo worth a warning.
    fn columns(&self, spec: &Spec, report: &mut Report) -> Option<Columns> {
        let file = self.file;
        let mut found: Vec<(&'static str, usize)> = Vec::new();
        let mut unknown: Vec<&str> = Vec::new();
        let mut ok = true;
        for (index, header) in self.headers.iter().enumerate() {
            if let Some(&name) = spec.known.iter().find(|k| k.eq_ignore_ascii_case(header)) {
                if found.iter().any(|(n, _)| *n == name) {
                    report.error(Problem::new(file, Some(1), Some(name), "the column appears twice"));
                    ok = false;
                } else {
                    found.push((name, index));
                }
            } else {
                unknown.push(header);
            }
        }
        let mut suggested: Vec<&str> = Vec::new();
        for &required in spec.required {
            if found.iter().any(|(n, _)| *n == required) {
                continue;
            }
            let mut message = format!("the required column {required} is missing");
            if let Some(near) = closest(required, unknown.iter().copied()) {
                message.push_str(&format!("; did you mean \"{near}\"?"));
                suggested.push(near);
            }
            report.error(Problem::new(file, Some(1), Some(required), message));
            ok = false;
        }
        for header in unknown {
            let lower = header.to_ascii_lowercase();
            let extension =
                (lower.starts_with("metadata.") && !lower.starts_with("metadata.parta.")) || lower.starts_with("ext_");
            if extension || suggested.contains(&header) {
                continue;
            }
            let message = if header.is_empty() {
                "a column without a name is ignored".to_owned()
            } else {
                let absent = spec.known.iter().copied().filter(|k| !found.iter().any(|(n, _)| n == k));
                match closest(header, absent) {
                    Some(near) => format!("unknown column \"{header}\" is ignored; did you mean {near}?"),
                    None => format!("unknown column \"{header}\" is ignored"),
                }
            };
            report.warn(Problem::new(file, Some(1), Some(header), message));
        }
        ok.then_some(Columns { found })
    }

    /// The next row with any content. Rows of the wrong length are reported and
    /// skipped; after too many problems the table reads as ended.
    pub fn next(&mut self, report: &mut Report) -> Result<Option<Fields<'_>>, ReadError> {
        loop {
            if report.is_full() {
                return Ok(None);
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return Ok(None),
                Ok(true) => {
                    // A spreadsheet leaves rows of bare delimiters below the data.
                    if self.record.iter().all(|f| f.trim_ascii().is_empty()) {
                        continue;
                    }
                    let byte = self.record.position().map_or(0, csv::Position::byte);
                    let line = self.reader.get_mut().line_at(byte);
                    return Ok(Some(Fields { record: &self.record, line, file: self.file }));
                }
                Err(e) => {
                    let line = e.position().map(|p| self.reader.get_mut().line_at(p.byte()));
                    report.error(csv_error(self.file, e, line)?);
                }
            }
        }
    }
}

/// One row, read in place.
pub(crate) struct Fields<'r> {
    record: &'r csv::ByteRecord,
    pub line: u64,
    pub file: &'static str,
}

impl<'r> Fields<'r> {
    pub fn problem(&self, col: Col, message: impl Into<String>) -> Problem {
        Problem::new(self.file, Some(self.line), Some(col.name), message)
    }

    /// The value as written; blank if the column is absent.
    pub fn raw(&self, col: Col) -> Result<&'r str, Problem> {
        let Some(bytes) = col.index.and_then(|i| self.record.get(i)) else {
            return Ok("");
        };
        std::str::from_utf8(bytes).map_err(|_| self.problem(col, "the value is not UTF-8 text; save the file as UTF-8"))
    }

    /// The value without surrounding spaces; blank if the column is absent.
    pub fn text(&self, col: Col) -> Result<&'r str, Problem> {
        self.raw(col).map(str::trim)
    }

    pub fn optional(&self, col: Col) -> Result<Option<&'r str>, Problem> {
        self.text(col).map(|v| (!v.is_empty()).then_some(v))
    }

    pub fn required(&self, col: Col) -> Result<&'r str, Problem> {
        match self.text(col)? {
            "" => Err(self.problem(col, "a value is required")),
            value => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semicolons_win_only_when_they_outnumber_commas() {
        assert_eq!(delimiter(b"a;b;c\n1,2;3"), b';');
        assert_eq!(delimiter(b"a,b;c\n"), b',');
        assert_eq!(delimiter(b"a\n"), b',');
    }

    fn lines_of(input: &str) -> Vec<u64> {
        let mut reader = csv::ReaderBuilder::new().from_reader(Lines::new(input.as_bytes()));
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let byte = record.position().unwrap().byte();
            lines.push(reader.get_mut().line_at(byte));
        }
        lines
    }

    #[test]
    fn record_lines_count_crlf_blank_lines_and_quoted_newlines() {
        assert_eq!(lines_of("h,i\na,b\nc,d\n"), [2, 3]);
        assert_eq!(lines_of("h,i\r\na,b\r\nc,d\r\n"), [2, 3]);
        assert_eq!(lines_of("h,i\r\n\r\na,b\r\n\nc,d"), [3, 5]);
        assert_eq!(lines_of("h,i\n\"multi\nline\",b\nc,d\n"), [2, 4]);
    }
}
