//! Backup files: written whole beside their place and then renamed into it (a reader never
//! sees half a file), readable by their owner only (they hold password and token hashes), and
//! read back with every check made before anything is written anywhere.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{
    Backup, BackupError, FORMAT, FORMAT_VERSION, Header, Tables, check_schema, differs, take,
};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |error| BackupError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// Writes `backup` to `path`; returns its header as written (length and checksum filled in).
pub fn write(backup: &Backup, path: &Path) -> Result<Header, BackupError> {
    let body =
        serde_json::to_vec(&backup.tables).map_err(|e| BackupError::Unreadable(e.to_string()))?;
    let header = Header {
        body_bytes: body.len() as u64,
        body_sha256: hex::encode(Sha256::digest(&body)),
        ..backup.header.clone()
    };
    let mut bytes =
        serde_json::to_vec(&header).map_err(|e| BackupError::Unreadable(e.to_string()))?;
    bytes.push(b'\n');
    bytes.extend_from_slice(&body);
    let partial = path.with_extension("partial");
    write_private(&partial, &bytes).map_err(io(&partial))?;
    std::fs::rename(&partial, path).map_err(io(path))?;
    Ok(header)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Reads and checks the backup at `path`: its header, format version, length, checksum, tables
/// and their counts against the manifest.
pub fn read(path: &Path) -> Result<Backup, BackupError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let not_a_backup = || BackupError::NotABackup(path.display().to_string());
    let split = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(not_a_backup)?;
    let (line, body) = (&bytes[..split], &bytes[split + 1..]);
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|_| not_a_backup())?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(not_a_backup());
    }
    let version = value.get("formatVersion").and_then(|v| v.as_u64());
    match version.map(u32::try_from) {
        Some(Ok(FORMAT_VERSION)) => {}
        Some(Ok(found)) if found > FORMAT_VERSION => {
            return Err(BackupError::NewerFormat { found });
        }
        Some(Err(_)) => return Err(BackupError::NewerFormat { found: u32::MAX }),
        _ => return Err(not_a_backup()),
    }
    let header: Header = serde_json::from_value(value).map_err(|_| not_a_backup())?;
    let found = body.len() as u64;
    if found < header.body_bytes {
        return Err(BackupError::Truncated {
            stated: header.body_bytes,
            found,
        });
    }
    if found > header.body_bytes || hex::encode(Sha256::digest(body)) != header.body_sha256 {
        return Err(BackupError::Corrupt);
    }
    let tables: Tables =
        serde_json::from_slice(body).map_err(|e| BackupError::Unreadable(e.to_string()))?;
    let held = super::Manifest {
        tables: tables.counts(),
        newest_revision: tables.revisions.iter().map(|r| r.id).max(),
        ..header.manifest.clone()
    };
    if let Some(error) = differs(&header.manifest, &held) {
        return Err(error);
    }
    // Of another schema, no database of this release could take it: said before one is opened.
    check_schema(&header)?;
    Ok(Backup { header, tables })
}

/// The server's own backups: one every `every` into `dir` (made if missing), named by the UTC
/// time taken (`coverage-20261206T221500Z.backup`), keeping the newest `keep`. A failed one is
/// logged and the next is tried on time.
pub async fn schedule(db: sea_orm::DatabaseConnection, dir: PathBuf, every: Duration, keep: usize) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match once(&db, &dir, keep).await {
            Ok((path, header)) => tracing::info!(
                path = %path.display(),
                bytes = header.body_bytes,
                newest_revision = ?header.manifest.newest_revision,
                "backup taken"
            ),
            Err(err) => tracing::error!(%err, dir = %dir.display(), "backup failed"),
        }
    }
}

async fn once(
    db: &sea_orm::DatabaseConnection,
    dir: &Path,
    keep: usize,
) -> Result<(PathBuf, Header), BackupError> {
    let backup = take(db).await?;
    let name = backup
        .header
        .created_at
        .format("coverage-%Y%m%dT%H%M%SZ.backup");
    let path = dir.join(name.to_string());
    // Serialising, syncing and listing files is blocking work: off the async workers.
    let (dir, to) = (dir.to_owned(), path.clone());
    let done = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let header = write(&backup, &to)?;
        prune(&dir, &to, keep);
        Ok::<_, BackupError>(header)
    })
    .await;
    let header = done.map_err(|e| BackupError::Io {
        path: path.display().to_string(),
        error: std::io::Error::other(e),
    })??;
    Ok((path, header))
}

/// Keeps the newest `keep` of the server's backups in `dir` (by name, which is the time taken),
/// and always `written`, the one just taken, whatever the clock did; removes what an
/// interrupted write left (`.partial`).
fn prune(dir: &Path, written: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut ours = Vec::new();
    for path in entries.filter_map(|entry| entry.ok().map(|e| e.path())) {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.starts_with("coverage-") {
            continue;
        }
        if name.ends_with(".partial") {
            remove(&path);
        } else if name.ends_with(".backup") && path != written {
            ours.push(path);
        }
    }
    ours.sort();
    let old = ours.len().saturating_sub(keep.max(1) - 1);
    for stale in ours.iter().take(old) {
        remove(stale);
    }
}

fn remove(path: &Path) {
    if let Err(err) = std::fs::remove_file(path) {
        tracing::warn!(%err, path = %path.display(), "could not remove an old backup");
    }
}
