//! Size-based rotation of the running containers' log files, as upstream's container log
//! manager does it (`--container-log-max-size`, `--container-log-max-files`, checked every
//! `--container-log-monitor-interval`).
//!
//! A log above the size limit is renamed to `<log>.<UTC YYYYMMDD-hhmmss>` and a fresh empty
//! file takes its path; the container's shim notices the new file at its next write and
//! switches to it. The newest rotated file stays uncompressed (the shim may still finish an
//! entry in it, a follower may still be reading it); older ones are gzipped to `.gz`, and
//! the oldest removed so that a container keeps at most max-files files, its current one
//! included.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::Runtime;

const COMPRESSED: &str = ".gz";
const TEMPORARY: &str = ".tmp";

/// How big a container's log may grow and how many files of it are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    pub max_size: u64,
    pub max_files: usize,
}

/// Checks the logs of the running containers every `every`, forever.
pub async fn rotate_forever(rt: Arc<Runtime>, policy: RotationPolicy, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let logs: Vec<PathBuf> = rt
            .live_logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        let rotated = tokio::task::spawn_blocking(move || {
            for log in logs {
                if let Err(e) = rotate_if_needed(&log, policy, jiff::Timestamp::now()) {
                    tracing::warn!(log = %log.display(), "rotating the container log: {e}");
                }
            }
        });
        let _ = rotated.await;
    }
}

/// Rotates `log` if it has reached the size limit; returns the rotated file's path.
pub fn rotate_if_needed(
    log: &Path,
    policy: RotationPolicy,
    now: jiff::Timestamp,
) -> std::io::Result<Option<PathBuf>> {
    let size = match std::fs::metadata(log) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Lost between a rename and a new file (a kubelet killed in between): give the
            // shim its file back.
            create_empty(log)?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if size < policy.max_size {
        return Ok(None);
    }
    let rotated = rotated_name(log, now);
    if rotated.exists() {
        // Rotated already this second: a second rename would overwrite it. Next round.
        return Ok(None);
    }
    let kept = remove_leftovers(rotated_files(log)?)?;
    let kept = remove_excess(kept, policy.max_files)?;
    for file in kept.iter().filter(|f| !has_suffix(f, COMPRESSED)) {
        compress(file)?;
    }
    std::fs::rename(log, &rotated)?;
    create_empty(log)?;
    Ok(Some(rotated))
}

/// `<log>.<UTC time>`, upstream's `20060102-150405`.
fn rotated_name(log: &Path, now: jiff::Timestamp) -> PathBuf {
    let mut name = log.as_os_str().to_os_string();
    name.push(".");
    name.push(now.strftime("%Y%m%d-%H%M%S").to_string());
    PathBuf::from(name)
}

/// The new current file; the shim may have created it first (it reopens on a missing path).
fn create_empty(log: &Path) -> std::io::Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(log)
    {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

fn has_suffix(path: &Path, suffix: &str) -> bool {
    path.as_os_str()
        .to_str()
        .is_some_and(|p| p.ends_with(suffix))
}

/// The files `<log>.*`, oldest first (their names sort by time).
fn rotated_files(log: &Path) -> std::io::Result<Vec<PathBuf>> {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name().and_then(|n| n.to_str())) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .map(|e| e.path())
        .collect();
    files.sort();
    Ok(files)
}

/// Removes what an interrupted rotation left: temporary files, and uncompressed files
/// whose compressed copy is complete.
fn remove_leftovers(files: Vec<PathBuf>) -> std::io::Result<Vec<PathBuf>> {
    let mut kept = Vec::new();
    for file in &files {
        let mut compressed = file.as_os_str().to_os_string();
        compressed.push(COMPRESSED);
        let unused =
            has_suffix(file, TEMPORARY) || files.iter().any(|f| f.as_os_str() == compressed);
        if unused {
            remove(file)?;
        } else {
            kept.push(file.clone());
        }
    }
    Ok(kept)
}

/// Keeps the newest max-files − 2 rotated files: with the one rotated now and the new
/// current file, that makes max-files.
fn remove_excess(files: Vec<PathBuf>, max_files: usize) -> std::io::Result<Vec<PathBuf>> {
    let excess = files.len().saturating_sub(max_files.saturating_sub(2));
    for file in &files[..excess] {
        remove(file)?;
    }
    Ok(files[excess..].to_vec())
}

fn remove(file: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `file` → `file.gz` (through `file.gz.tmp`, so a `.gz` is always whole), then removes it.
fn compress(file: &Path) -> std::io::Result<()> {
    let mut target = file.as_os_str().to_os_string();
    target.push(COMPRESSED);
    let mut temporary = target.clone();
    temporary.push(TEMPORARY);
    let write = || -> std::io::Result<()> {
        let mut source = std::fs::File::open(file)?;
        let out = std::fs::File::create(&temporary)?;
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        std::io::copy(&mut source, &mut gz)?;
        gz.finish()?.flush()?;
        std::fs::rename(&temporary, &target)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    remove(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn rotates_compresses_and_keeps_at_most_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("0.log");
        let policy = RotationPolicy {
            max_size: 10,
            max_files: 3,
        };
        let at = |s: i64| jiff::Timestamp::from_second(1_700_000_000 + s).unwrap();
        std::fs::write(&log, "short\n").unwrap();
        assert_eq!(rotate_if_needed(&log, policy, at(0)).unwrap(), None);
        for (i, second) in [0, 1, 2, 3].into_iter().enumerate() {
            std::fs::write(&log, format!("entry number {i}\n")).unwrap();
            let rotated = rotate_if_needed(&log, policy, at(second)).unwrap().unwrap();
            assert_eq!(std::fs::read(&log).unwrap(), b"");
            assert!(rotated.exists());
            assert!(names(dir.path()).len() <= 3, "{:?}", names(dir.path()));
        }
        assert_eq!(
            names(dir.path()),
            ["0.log", "0.log.20231114-221322.gz", "0.log.20231114-221323"]
        );
        let mut text = String::new();
        let gz = std::fs::File::open(dir.path().join("0.log.20231114-221322.gz")).unwrap();
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "entry number 2\n");
        // Twice in one second: the second waits for the next round.
        std::fs::write(&log, "entry number 4\n").unwrap();
        assert_eq!(rotate_if_needed(&log, policy, at(3)).unwrap(), None);
    }

    #[test]
    fn cleans_up_after_an_interrupted_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("1.log");
        for name in [
            "1.log.20240101-000000",
            "1.log.20240101-000000.gz",
            "1.log.x.gz.tmp",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let policy = RotationPolicy {
            max_size: 1,
            max_files: 5,
        };
        // The current file went missing: it comes back empty.
        assert_eq!(
            rotate_if_needed(&log, policy, jiff::Timestamp::now()).unwrap(),
            None
        );
        assert!(log.exists());
        std::fs::write(&log, "more").unwrap();
        rotate_if_needed(&log, policy, jiff::Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(
            names(dir.path()),
            ["1.log", "1.log.19700101-000000", "1.log.20240101-000000.gz"]
        );
    }
}
