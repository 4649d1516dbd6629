//! etcd 3.4 as the baseline: the process, and its JSON gateway (grpc-gateway), where
//! keys and values travel base64-encoded: `POST /v3/kv/range {"key": b64}` and
//! `POST /v3/kv/put {"key": b64, "value": b64}`. (3.4 serves the gateway under both
//! `/v3/` and the older `/v3beta/`; 3.5 dropped `/v3beta/`, so `/v3/` is used.)

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::http;
use crate::procs::{free_port, Child};

pub const RANGE_PATH: &str = "/v3/kv/range";
pub const PUT_PATH: &str = "/v3/kv/put";

/// Body of a range (get) request for one key.
pub fn range_body(key: &[u8]) -> Vec<u8> {
    format!("{{\"key\":\"{}\"}}", B64.encode(key)).into_bytes()
}

/// Builds put bodies for many keys with one value, encoding the value once.
pub struct PutBodies {
    value_b64: String,
}

impl PutBodies {
    pub fn new(value: &[u8]) -> PutBodies {
        PutBodies {
            value_b64: B64.encode(value),
        }
    }

    pub fn body(&self, key: &[u8]) -> Vec<u8> {
        let key = B64.encode(key);
        let mut b = Vec::with_capacity(key.len() + self.value_b64.len() + 24);
        b.extend_from_slice(b"{\"key\":\"");
        b.extend_from_slice(key.as_bytes());
        b.extend_from_slice(b"\",\"value\":\"");
        b.extend_from_slice(self.value_b64.as_bytes());
        b.extend_from_slice(b"\"}");
        b
    }
}

/// The value of the first key in a range response (`None` if there is none).
pub fn range_value(response: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
    let v: serde_json::Value = serde_json::from_slice(response).context("range response")?;
    let Some(b64) = v.pointer("/kvs/0/value").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    Ok(Some(B64.decode(b64).context("range value")?))
}

/// A single-member etcd on 127.0.0.1 with its data in `dir`.
pub struct Etcd {
    pub child: Child,
    pub addr: SocketAddr,
    pub version: String,
}

/// `etcd --version`'s first line, or why it could not run.
pub fn version(binary: &Path) -> anyhow::Result<String> {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("").trim();
    // "etcd Version: 3.4.23" → "etcd 3.4.23"
    Ok(match first.split_once("Version:") {
        Some((_, v)) => format!("etcd {}", v.trim()),
        None => first.to_owned(),
    })
}

impl Etcd {
    pub async fn start(binary: &Path, dir: &Path) -> anyhow::Result<Etcd> {
        let version = version(binary)?;
        if !version.contains("3.4") {
            eprintln!("note: the baseline is meant to be etcd 3.4; found {version}");
        }
        let client = free_port()?;
        let peer = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], client));
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let mut cmd = Command::new(binary);
        cmd.arg("--name=rkube-bench")
            .arg("--data-dir")
            .arg(dir.join("etcd"))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=rkube-bench={peer_url}"))
            .arg("--logger=zap")
            .arg("--log-level=warn");
        let mut child = Child::spawn("etcd", cmd, &dir.join("etcd.log"))?;
        let start = Instant::now();
        // Ready once a range through the gateway answers.
        let request = http::with_body(
            "POST",
            &addr.to_string(),
            RANGE_PATH,
            "application/json",
            &range_body(b"/ready"),
        );
        loop {
            if let Ok(mut c) = http::Conn::connect(addr).await {
                if let Ok(r) = c.request(&request, true).await {
                    if r.status == 200 {
                        break;
                    }
                }
            }
            child.check_alive()?;
            if start.elapsed() > Duration::from_secs(30) {
                bail!("etcd was not ready on {addr} within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Etcd {
            child,
            addr,
            version,
        })
    }

    pub fn request(&self, path: &str, body: &[u8]) -> Vec<u8> {
        http::with_body(
            "POST",
            &self.addr.to_string(),
            path,
            "application/json",
            body,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_bodies_are_base64_json() {
        assert_eq!(
            String::from_utf8(range_body(b"/registry/pods/default/a")).unwrap(),
            r#"{"key":"L3JlZ2lzdHJ5L3BvZHMvZGVmYXVsdC9h"}"#
        );
        let put = PutBodies::new(b"{\"kind\":\"Pod\"}");
        let body = put.body(b"foo");
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            r#"{"key":"Zm9v","value":"eyJraW5kIjoiUG9kIn0="}"#
        );
        // What the gateway decodes.
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(B64.decode(v["key"].as_str().unwrap()).unwrap(), b"foo");
        assert_eq!(
            B64.decode(v["value"].as_str().unwrap()).unwrap(),
            b"{\"kind\":\"Pod\"}"
        );
    }

    #[test]
    fn range_responses_decode() {
        // As etcd 3.4.23's gateway answers.
        let hit = br#"{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"2","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}"#;
        assert_eq!(range_value(hit).unwrap(), Some(b"bar".to_vec()));
        let miss =
            br#"{"header":{"cluster_id":"1","member_id":"2","revision":"2","raft_term":"2"}}"#;
        assert_eq!(range_value(miss).unwrap(), None);
        assert!(range_value(b"not json").is_err());
        let request = String::from_utf8(http::with_body(
            "POST",
            "127.0.0.1:2379",
            RANGE_PATH,
            "application/json",
            &range_body(b"foo"),
        ))
        .unwrap();
        assert!(request.starts_with("POST /v3/kv/range HTTP/1.1\r\n"));
        assert!(request.ends_with("Content-Length: 14\r\n\r\n{\"key\":\"Zm9v\"}"));
    }
}
