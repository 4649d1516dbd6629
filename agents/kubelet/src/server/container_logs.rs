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
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        // Only complete lines now; a followed log picks up the rest.
        let complete = content.rfind('\n').map_or(0, |i| i + 1);
        let first = logs::render(&content[..complete], &options, since);
        let live = options.follow && !options.previous && self.rt.is_live(&file);
        if !live {
            return text(StatusCode::OK, first);
        }
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
            follow(file, complete as u64, follow_options, rt, tx).await;
        });
        streamed_text(rx)
    }
}

/// Sends the lines appended to `file` after `offset` until its container has exited and
/// everything it wrote was sent, or the client went away.
async fn follow(
    file: std::path::PathBuf,
    mut offset: u64,
    options: LogOptions,
    rt: Arc<Runtime>,
    tx: mpsc::Sender<Bytes>,
) {
    let mut pending = Vec::new();
    loop {
        let live = rt.is_live(&file);
        let mut chunk = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&file) {
            if f.seek(SeekFrom::Start(offset)).is_ok() {
                let _ = f.read_to_end(&mut chunk);
            }
        }
        offset += chunk.len() as u64;
        pending.extend_from_slice(&chunk);
        if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
            let lines: Vec<u8> = pending.drain(..=end).collect();
            let out = logs::render(&String::from_utf8_lossy(&lines), &options, None);
            if !out.is_empty() && tx.send(Bytes::from(out)).await.is_err() {
                return;
            }
        }
        if !live || tx.is_closed() {
            return;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
}
