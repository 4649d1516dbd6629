//! HTTP/1.1 on a kept-alive connection, and watch streams read event by event, for the
//! tests that need more than `common::raw` (many writes, or a response that stays open).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// Upper bound on any single read: a stalled server fails the test instead of hanging it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Kubectl's Accept header for `kubectl get`.
pub const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

pub struct Response {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response {} is not JSON ({e}): {}",
                self.code,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

fn connect(port: u16) -> BufReader<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the apiserver");
    s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    BufReader::new(s)
}

fn send(
    r: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let s = r.get_mut();
    s.write_all(req.as_bytes()).expect("send request");
    s.write_all(body).expect("send body");
}

fn read_line(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    let n = r.read_line(&mut line).expect("read from the apiserver");
    assert!(n > 0, "the apiserver closed the connection mid-response");
    line.trim_end_matches(['\r', '\n']).to_string()
}

fn read_head(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let status = read_line(r);
    let code = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"));
    let mut headers = Vec::new();
    loop {
        let line = read_line(r);
        if line.is_empty() {
            return (code, headers);
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

/// One chunk of a chunked body; None after the last one.
fn read_chunk(r: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let size_line = read_line(r);
    let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
        .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
    if size == 0 {
        // Trailers (none expected) end with an empty line.
        while !read_line(r).is_empty() {}
        return None;
    }
    let mut data = vec![0; size];
    r.read_exact(&mut data).expect("read chunk");
    let end = read_line(r);
    assert!(end.is_empty(), "chunk not followed by CRLF");
    Some(data)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    header(headers, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
}

/// A kept-alive connection for many requests in a row.
pub struct Conn {
    port: u16,
    r: BufReader<TcpStream>,
}

impl Conn {
    pub fn new(port: u16) -> Conn {
        Conn {
            port,
            r: connect(port),
        }
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        send(&mut self.r, method, path, headers, body);
        let (code, headers) = read_head(&mut self.r);
        let mut body = Vec::new();
        if is_chunked(&headers) {
            while let Some(c) = read_chunk(&mut self.r) {
                body.extend_from_slice(&c);
            }
        } else if let Some(n) = header(&headers, "content-length") {
            body = vec![0; n.parse().expect("content-length")];
            self.r.read_exact(&mut body).expect("read body");
        } else {
            self.r.read_to_end(&mut body).expect("read body");
            self.r = connect(self.port);
        }
        if header(&headers, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            self.r = connect(self.port);
        }
        Response {
            code,
            headers,
            body,
        }
    }

    /// A JSON request (merge patch for PATCH); a null body sends nothing.
    pub fn json(&mut self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let ct = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap()
        };
        let resp = self.request(method, path, &[("Content-Type", ct)], &bytes);
        let v = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        (resp.code, v)
    }

    pub fn get(&mut self, path: &str) -> Value {
        let (code, v) = self.json("GET", path, &Value::Null);
        assert_eq!(code, 200, "GET {path}: {v}");
        v
    }

    /// Create and expect 201; returns the created object.
    pub fn create(&mut self, path: &str, body: &Value) -> Value {
        let (code, v) = self.json("POST", path, body);
        assert_eq!(code, 201, "POST {path} {body}: {v}");
        v
    }
}

/// A watch response read one event at a time.
pub struct Watch {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    r: BufReader<TcpStream>,
    chunked: bool,
    pending: Vec<u8>,
    done: bool,
}

impl Watch {
    pub fn open(port: u16, path: &str) -> Watch {
        Watch::open_with(port, path, &[])
    }

    pub fn open_with(port: u16, path: &str, headers: &[(&str, &str)]) -> Watch {
        let mut r = connect(port);
        send(&mut r, "GET", path, headers, b"");
        let (code, headers) = read_head(&mut r);
        let chunked = is_chunked(&headers);
        let mut w = Watch {
            code,
            headers,
            r,
            chunked,
            pending: Vec::new(),
            done: false,
        };
        if !chunked {
            // A plain answer (an error Status): the whole body at once.
            match header(&w.headers, "content-length").map(|n| n.parse::<usize>().unwrap()) {
                Some(n) => {
                    w.pending = vec![0; n];
                    w.r.read_exact(&mut w.pending).expect("read body");
                }
                None => {
                    w.r.read_to_end(&mut w.pending).expect("read body");
                }
            }
            w.done = true;
        }
        w
    }

    /// The body of a non-streamed answer.
    pub fn body(&self) -> Value {
        assert!(!self.chunked, "the watch is a stream");
        serde_json::from_slice(&self.pending).unwrap_or(Value::Null)
    }

    /// The next event, or None once the server ends the stream.
    pub fn next_event(&mut self) -> Option<Value> {
        loop {
            if let Some(pos) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=pos).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(serde_json::from_slice(&line).unwrap_or_else(|e| {
                    panic!("bad watch line ({e}): {}", String::from_utf8_lossy(&line))
                }));
            }
            if self.done {
                if self.pending.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                let rest = std::mem::take(&mut self.pending);
                return Some(serde_json::from_slice(&rest).expect("trailing watch data"));
            }
            match read_chunk(&mut self.r) {
                Some(data) => self.pending.extend_from_slice(&data),
                None => self.done = true,
            }
        }
    }

    /// Exactly `n` events (fails if the stream ends first).
    pub fn take(&mut self, n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| {
                self.next_event()
                    .unwrap_or_else(|| panic!("watch ended after {i} of {n} events"))
            })
            .collect()
    }

    /// Everything until the server ends the stream.
    pub fn rest(&mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.next_event()).collect()
    }
}

/// `(type, metadata.name)` of a watch event.
pub fn summary(ev: &Value) -> (String, String) {
    (
        ev["type"].as_str().unwrap_or("").to_string(),
        ev.pointer("/object/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    )
}

pub fn rv_of(obj: &Value) -> String {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no resourceVersion in {obj}"))
        .to_string()
}
