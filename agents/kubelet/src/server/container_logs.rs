//! `/containerLogs/{ns}/{pod}/{container}` (follow, tailLines, sinceSeconds, timestamps,
//! previous, limitBytes): a container's CRI log file, rendered as `kubectl logs` shows it.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use kube::runtime::reflector::ObjectRef;
use tokio::sync::mpsc;

use super::{streamed_text, text, Body, KubeletServer};
use crate::logs::{self, LogOptions};
use crate::runtime::Runtime;

/// How often a followed log is checked for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

impl KubeletServer {
    pub(super) async fn container_logs(
        &self,
        ns: &str,
        name: &str,
        container: &str,
        query: Option<&str>,
    ) -> Response<Body> {
        let options = match LogOptions::parse(query) {
            Ok(o) => o,
            Err(e) => return text(StatusCode::BAD_REQUEST, e),
        };
        let Some(pod) = self.pods.get(&ObjectRef::new(name).within(ns)) else {
            return text(
                StatusCode::NOT_FOUND,
                format!("pod \"{ns}/{name}\" not found"),
            );
        };
        let known = pod
            .spec
            .iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .any(|c| c.name == container);
        if !known {
            return text(
                StatusCode::BAD_REQUEST,
                format!("container {container} is not valid for pod {name}"),
            );
        }
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        let dir = self.rt.pod_logs_dir(ns, name, uid).join(container);
        let Some(file) = logs::log_file(&dir, options.previous) else {
            let message = if options.previous {
                format!("previous terminated container \"{container}\" in pod \"{name}\" not found")
            } else {
                format!("container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating")
            };
            return text(StatusCode::BAD_REQUEST, message);
        };
        let since = options
            .since_seconds
            .map(|s| jiff::Timestamp::now() - jiff::SignedDuration::from_secs(s));
        // One open file for the first read and the follow, so that a rotation in between
        // loses nothing.
        let mut opened = std::fs::File::open(&file).ok();
        let mut content = String::new();
        if let Some(f) = opened.as_mut() {
            let mut bytes = Vec::new();
            let _ = f.read_to_end(&mut bytes);
            content = String::from_utf8_lossy(&bytes).into_owned();
        }
        // Only complete lines now; a followed log picks up the rest.
        let complete = content.rfind('\n').map_or(0, |i| i + 1);
        let first = logs::render(&content[..complete], &options, since);
        let live = options.follow && !options.previous && self.rt.is_live(&file);
        let Some(opened) = opened.filter(|_| live) else {
            return text(StatusCode::OK, first);
        };
        let (tx, rx) = mpsc::channel::<Bytes>(16);
        let rt = self.rt.clone();
        let follow_options = LogOptions {
            tail_lines: None,
            since_seconds: None,
            limit_bytes: None,
            ..options
        };
        tokio::spawn(async move {
            if tx.send(Bytes::from(first)).await.is_err() {
                return;
            }
            follow(file, opened, complete as u64, follow_options, rt, tx).await;
        });
        streamed_text(rx)
    }
}

/// Sends the lines appended to `file` after `offset` until its container has exited and
/// everything it wrote was sent, or the client went away. Follows the log across rotations:
/// once the path names a new file that the shim has written to, the shim writes nothing
/// more to the old one, so the old one is read to its end and the new one from its start.
async fn follow(
    path: std::path::PathBuf,
    mut file: std::fs::File,
    offset: u64,
    options: LogOptions,
    rt: Arc<Runtime>,
    tx: mpsc::Sender<Bytes>,
) {
    if file.seek(SeekFrom::Start(offset)).is_err() {
        return;
    }
    let mut pending = Vec::new();
    loop {
        let live = rt.is_live(&path);
        let successor = rotated_to(&path, &file);
        let mut chunk = Vec::new();
        let _ = file.read_to_end(&mut chunk);
        pending.extend_from_slice(&chunk);
        if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
            let lines: Vec<u8> = pending.drain(..=end).collect();
            let out = logs::render(&String::from_utf8_lossy(&lines), &options, None);
            if !out.is_empty() && tx.send(Bytes::from(out)).await.is_err() {
                return;
            }
        }
        if let Some(next) = successor {
            file = next;
            continue;
        }
        if !live || tx.is_closed() {
            return;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
}

/// The file now at `path` if it is not `current` and the shim has started writing to it.
fn rotated_to(path: &std::path::Path, current: &std::fs::File) -> Option<std::fs::File> {
    use std::os::unix::fs::MetadataExt;
    let ours = current.metadata().ok()?;
    let next = std::fs::File::open(path).ok()?;
    let theirs = next.metadata().ok()?;
    let same = (ours.dev(), ours.ino()) == (theirs.dev(), theirs.ino());
    (!same && theirs.len() > 0).then_some(next)
}
