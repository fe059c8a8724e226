//! `parta backup` and `parta restore`: one tar archive holding a manifest,
//! the SQLite database (a `VACUUM INTO` copy, consistent while Parta keeps
//! writing) and the local files store. PostgreSQL and S3 have tools of their
//! own; for them the archive holds what Parta can copy and the command says
//! what else to run.
//!
//! The database is copied before the files. Files are stored before the row
//! that references them commits, so every file the copied database knows is
//! already on disk when the files are read — except one the collector deletes
//! in between (a file whose messages were all deleted over an hour before),
//! which `backup` reports as missing.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use storage::maintenance::{self, Schema};

const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "parta.db";
const FILES: &str = "files";
const FORMAT: u32 = 1;

/// The first entry of every archive: what it holds.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    parta_version: String,
    created_at: String,
    /// `sqlite` (the database is in the archive) or `postgresql` (it is not).
    database: String,
    /// The last migration of the copied database.
    schema_version: Option<i64>,
    /// Files in the archive (a local files store), and their bytes.
    files: u64,
    file_bytes: u64,
}

pub async fn backup(cfg: &Config, to: &Path) -> Result<()> {
    if to.exists() {
        bail!("{} already exists: choose a new file name (a backup never overwrites)", to.display());
    }
    let folder = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Built next to the archive, so the final rename cannot cross file systems.
    let work = tempfile::Builder::new()
        .prefix(".parta-backup-")
        .tempdir_in(&folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let sqlite = maintenance::sqlite_path(&cfg.database_url);
    let schema_version = match &sqlite {
        Some(path) => {
            let version = match maintenance::schema(&cfg.database_url, std::time::Duration::from_secs(10)).await? {
                Schema::Missing => bail!("there is no database at {}: nothing to back up", path.display()),
                Schema::Current { version } => Some(version),
                Schema::Behind { version, .. } => version,
                other => bail!("the database is not in a state to back up: {other:?} (run `parta doctor`)"),
            };
            maintenance::snapshot_sqlite(&cfg.database_url, &work.path().join(DATABASE))
                .await
                .context("cannot copy the SQLite database")?;
            version
        }
        None => None,
    };
    let files_dir = cfg.local_files_dir();
    let partial = work.path().join("archive.tar");
    let mut archive = tar::Builder::new(BufWriter::new(File::create(&partial)?));
    let mut files = Vec::new();
    if let Some(dir) = files_dir.as_deref().filter(|d| d.exists()) {
        collect_files(dir, dir, &mut files)?;
    }
    let mut manifest = Manifest {
        format: FORMAT,
        parta_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now().to_rfc3339(),
        database: if sqlite.is_some() { "sqlite" } else { "postgresql" }.into(),
        schema_version,
        files: 0,
        file_bytes: 0,
    };
    // The manifest goes first so `restore` knows what follows; its counts are
    // of the files listed now, and those the collector takes meanwhile are reported.
    manifest.files = files.len() as u64;
    manifest.file_bytes = files.iter().map(|(_, len)| len).sum();
    let json = serde_json::to_vec_pretty(&manifest)?;
    append_bytes(&mut archive, MANIFEST, &json)?;
    if sqlite.is_some() {
        archive.append_path_with_name(work.path().join(DATABASE), DATABASE)?;
    }
    let mut missing = 0;
    if let Some(dir) = &files_dir {
        for (relative, _) in &files {
            match File::open(dir.join(relative)) {
                Ok(mut file) => archive.append_file(Path::new(FILES).join(relative), &mut file)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing += 1,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.join(relative).display())),
            }
        }
    }
    let mut out = archive.into_inner()?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&partial, to).with_context(|| format!("cannot write {}", to.display()))?;
    println!(
        "backup written to {}: {}, {} files ({} MB)",
        to.display(),
        match schema_version {
            Some(v) => format!("the SQLite database at migration {v}"),
            None => "no database (PostgreSQL)".into(),
        },
        manifest.files - missing,
        manifest.file_bytes / 1_000_000
    );
    if missing > 0 {
        println!("{missing} files were deleted by the collector while the backup ran (no message refers to them)");
    }
    if sqlite.is_none() {
        println!(
            "PostgreSQL is backed up with its own tool, run alongside this archive:\n  \
             pg_dump --format=custom --file=parta.pgdump '{}'\n\
             and restored into an empty database with:\n  pg_restore --no-owner --dbname=URL parta.pgdump",
            crate::redact(&cfg.database_url)
        );
    }
    if let blobs::BlobConfig::S3 { bucket, .. } = &cfg.files {
        println!(
            "files are in the S3 bucket {bucket:?} and are not in this archive: keep them with the storage's \
             own versioning or replication (or `rclone sync`)"
        );
    }
    Ok(())
}

/// Every file under `dir` with its size, as a path relative to `root`.
/// object_store's half-written files (`name#n`) are left out.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, u64)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if kind.is_file() && !entry.file_name().to_string_lossy().contains('#') {
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push((path.strip_prefix(root)?.to_path_buf(), len));
        }
    }
    Ok(())
}

fn append_bytes<W: Write>(archive: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o640);
    header.set_mtime(chrono::Utc::now().timestamp().max(0) as u64);
    header.set_cksum();
    archive.append_data(&mut header, name, bytes)?;
    Ok(())
}

pub async fn restore(cfg: &Config, from: &Path) -> Result<()> {
    if is_non_empty_dir(&cfg.data_dir)? {
        bail!(
            "the data directory {} is not empty: restore only into an empty one (or a new path: --data DIR)",
            cfg.data_dir.display()
        );
    }
    let mut archive =
        tar::Archive::new(BufReader::new(File::open(from).with_context(|| format!("cannot open {}", from.display()))?));
    let mut entries = archive.entries()?;
    let manifest: Manifest = match entries.next() {
        Some(entry) => {
            let mut entry = entry?;
            if entry.path()?.as_ref() != Path::new(MANIFEST) {
                bail!("{} is not a Parta backup (it does not start with {MANIFEST})", from.display());
            }
            let mut json = Vec::new();
            entry.read_to_end(&mut json)?;
            serde_json::from_slice(&json).context("the backup's manifest is not readable")?
        }
        None => bail!("{} is empty", from.display()),
    };
    if manifest.format != FORMAT {
        bail!("this backup has format {} and this Parta reads format {FORMAT}", manifest.format);
    }
    let sqlite = maintenance::sqlite_path(&cfg.database_url);
    match (&sqlite, manifest.database.as_str()) {
        (Some(path), "sqlite") if path.exists() => {
            bail!("{} already exists: restore only into an empty place", path.display())
        }
        (None, "sqlite") => bail!(
            "this backup holds an SQLite database but database_url points at PostgreSQL: restore with the \
             default database_url (SQLite in the data directory)"
        ),
        _ => {}
    }
    let files_dir = cfg.local_files_dir();
    if manifest.files > 0 {
        match &files_dir {
            Some(dir) if is_non_empty_dir(dir)? => {
                bail!("the files folder {} is not empty: restore only into an empty one", dir.display())
            }
            Some(_) => {}
            None => bail!(
                "this backup holds {} files but [files] is S3: restore with a local files store, then copy \
                 the files folder into the bucket",
                manifest.files
            ),
        }
    }
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create the data directory {}", cfg.data_dir.display()))?;
    let mut restored_files = 0u64;
    for entry in entries {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path == Path::new(DATABASE) {
            let dest = sqlite.as_deref().context("an SQLite database in a backup for PostgreSQL")?;
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            entry.unpack(dest).with_context(|| format!("cannot write {}", dest.display()))?;
        } else if let (Ok(relative), Some(dir)) = (path.strip_prefix(FILES), &files_dir) {
            if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
                bail!("the backup holds an unsafe path {}", path.display());
            }
            let dest = dir.join(relative);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            entry.unpack(&dest).with_context(|| format!("cannot write {}", dest.display()))?;
            restored_files += 1;
        } else {
            bail!("the backup holds an unexpected entry {}", path.display());
        }
    }
    println!(
        "restored the backup of {} into {}: {}, {restored_files} files",
        manifest.created_at,
        cfg.data_dir.display(),
        match (manifest.database.as_str(), manifest.schema_version) {
            ("sqlite", Some(v)) => format!("the SQLite database at migration {v} (newer ones apply at the next start)"),
            _ => "no database: restore PostgreSQL with pg_restore".into(),
        }
    );
    println!("if Parta runs as another user, give it the data: chown -R parta:parta {}", cfg.data_dir.display());
    Ok(())
}

fn is_non_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}
