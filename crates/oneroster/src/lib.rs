#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
//! Reads a OneRoster 1.1 or 1.2 CSV package — a folder or a `.zip` — into a
//! [`roster::import::Batch`], following the conventions in `docs/oneroster.md`.
//!
//! Everything wrong with a package is collected before giving up, so that one run
//! tells the administrator every file, line and column to fix (up to a cap).
//! Only the files Parta maps are opened: demographics, line items, results,
//! categories and resources are never read.

pub mod columns;
mod ids;
mod import;
mod manifest;
mod problem;
mod source;
mod table;
mod values;

pub use problem::Problem;

use problem::Report;
use roster::import::Batch;
use std::path::Path;

/// The OneRoster version a package declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1_1,
    V1_2,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        })
    }
}

/// A package read and checked row by row, ready for the storage layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub batch: Batch,
    pub version: Version,
    /// Things ignored on the way (unknown columns, enrollments of aides, …).
    pub warnings: Vec<Problem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the zip file cannot be read: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Every problem found, up to a cap; nothing of the package may be applied.
    #[error("{}", list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    let mut out = format!("the package has {} problem(s):", problems.len());
    for p in problems {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    out
}

/// Reads the package at `path`, a folder or a `.zip`. `progress` is called now and
/// then with the bytes read so far and the total to read.
pub fn read_package(path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Package, ReadError> {
    let mut source = source::Source::open(path)?;
    let mut report = Report::default();
    let plan = manifest::plan(&mut source, &mut report)?;
    let files: Vec<&str> = plan.modes.present().map(|(file, _)| file).collect();
    let refused = source.check_sizes(&files);
    if !refused.is_empty() {
        return Err(ReadError::Invalid(refused));
    }
    let total = files.iter().map(|f| source.size(f)).sum();
    let progress = source::Progress::new(progress, total);
    let importer = import::Importer::new(&mut source, progress, report, plan.version, plan.modes);
    let (batch, report) = importer.run()?;
    if report.has_errors() {
        return Err(ReadError::Invalid(report.errors));
    }
    Ok(Package { batch, version: plan.version, warnings: report.into_warnings() })
}
