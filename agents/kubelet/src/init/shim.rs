//! The container's shim: parent of the container's PID 1, owner of its log.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{unshare, CloneFlags};

use super::config::{ContainerConfig, ExitRecord};

pub fn run(config_path: &Path) -> Result<i32, String> {
    let config = ContainerConfig::read(config_path)?;
    // Children of this process start in a new PID namespace: the container is its PID 1.
    unshare(CloneFlags::CLONE_NEWPID).map_err(|e| format!("unshare(CLONE_NEWPID): {e}"))?;
    let mut log = LogFile::open(config.log_path.clone())
        .map_err(|e| format!("{}: {e}", config.log_path.display()))?;
    let exe = std::env::current_exe().map_err(|e| format!("finding rkube: {e}"))?;
    let started_at = crate::time::now_rfc3339();
    let mut child = Command::new(exe)
        .args(["container-init", "start"])
        .arg(config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the container: {e}"))?;
    // The kubelet reads the container's host PID from this line.
    println!("{}", child.id());
    // One thread only: a process that unshared its PID namespace cannot create threads.
    let streams: Vec<(File, &str)> = [
        child
            .stdout
            .take()
            .map(|s| (File::from(OwnedFd::from(s)), "stdout")),
        child
            .stderr
            .take()
            .map(|s| (File::from(OwnedFd::from(s)), "stderr")),
    ]
    .into_iter()
    .flatten()
    .collect();
    copy_streams(streams, &mut log);
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the container: {e}"))?;
    let record = ExitRecord {
        exit_code: status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
        signal: status.signal(),
        started_at,
        finished_at: crate::time::now_rfc3339(),
    };
    let bytes = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
    let tmp = config.exit_path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, &config.exit_path))
        .map_err(|e| format!("{}: {e}", config.exit_path.display()))?;
    Ok(0)
}

/// The container's log file. The kubelet rotates it by renaming it away and creating a
/// fresh file at the same path (upstream's ReopenContainerLog): before each entry the shim
/// checks that the path still names the file it holds, and reopens it if not. An entry
/// written just as the file is renamed lands at the end of the rotated file, so no line
/// is lost or split between the two.
struct LogFile {
    path: PathBuf,
    file: File,
    /// (device, inode) of `file`.
    identity: (u64, u64),
}

impl LogFile {
    fn open(path: PathBuf) -> std::io::Result<LogFile> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let meta = file.metadata()?;
        Ok(LogFile {
            path,
            file,
            identity: (meta.dev(), meta.ino()),
        })
    }

    /// Reopens the path if it no longer names the open file (rotated, or removed).
    fn follow_rotation(&mut self) {
        let current = std::fs::metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if current.ok() != Some(self.identity) {
            // Keep writing to the old file if the path cannot be opened again.
            if let Ok(reopened) = LogFile::open(self.path.clone()) {
                *self = reopened;
            }
        }
    }

    fn write_all(&mut self, entry: &[u8]) -> std::io::Result<()> {
        self.follow_rotation();
        self.file.write_all(entry)
    }
}

/// Longest line written as one log entry; longer ones are split into partial entries,
/// as the CRI log format does.
const MAX_LINE: usize = 16 * 1024;

/// Copies the streams into the log as CRI entries (`<RFC 3339 nano time> <stream> <F|P>
/// <text>`) until both reach end of file.
fn copy_streams(streams: Vec<(File, &str)>, log: &mut LogFile) {
    let mut open: Vec<(File, &str, Vec<u8>)> = streams
        .into_iter()
        .map(|(r, s)| (r, s, Vec::new()))
        .collect();
    let mut chunk = vec![0u8; 64 * 1024];
    while !open.is_empty() {
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd> = open
                .iter()
                .map(|(r, _, _)| PollFd::new(r.as_fd(), PollFlags::POLLIN))
                .collect();
            if poll(&mut fds, PollTimeout::NONE).is_err() {
                continue;
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect()
        };
        let mut closed = Vec::new();
        for (i, (reader, stream, pending)) in open.iter_mut().enumerate() {
            if !ready[i] {
                continue;
            }
            match reader.read(&mut chunk) {
                Ok(0) | Err(_) => {
                    if !pending.is_empty() {
                        write_entry(log, stream, pending, false);
                        pending.clear();
                    }
                    closed.push(i);
                }
                Ok(n) => {
                    pending.extend_from_slice(&chunk[..n]);
                    flush_lines(log, stream, pending);
                }
            }
        }
        for i in closed.into_iter().rev() {
            open.remove(i);
        }
    }
}

fn flush_lines(log: &mut LogFile, stream: &str, pending: &mut Vec<u8>) {
    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        write_entry(log, stream, &line[..line.len() - 1], true);
    }
    while pending.len() >= MAX_LINE {
        let part: Vec<u8> = pending.drain(..MAX_LINE).collect();
        write_entry(log, stream, &part, false);
    }
}

fn write_entry(log: &mut LogFile, stream: &str, text: &[u8], full: bool) {
    let mut entry = format!(
        "{} {stream} {} ",
        crate::time::now_rfc3339_nanos(),
        if full { 'F' } else { 'P' }
    )
    .into_bytes();
    entry.extend_from_slice(text);
    entry.push(b'\n');
    let _ = log.write_all(&entry);
}
