//! `/logs/`: the node's log directory (`--node-logs-dir`, /var/log) as a file server, as
//! upstream's kubelet serves it: a directory answers an HTML listing, a file its content.
//! Nothing outside the directory is reachable: `..` segments and symlinks leading out
//! are refused.

use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::{Response, StatusCode};
use tokio::sync::mpsc;

use super::{respond, streamed_text, text, Body};

const CHUNK: usize = 64 * 1024;

/// Decodes `%XX` escapes; None for a malformed escape or a result that is not UTF-8.
pub(super) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where `rel` (the request path after `/logs`) points inside `root`, or None when it would
/// leave it.
pub fn resolve(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel = percent_decode(rel)?;
    let mut path = root.to_path_buf();
    for segment in rel.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if segment == ".." || segment.contains('\0') {
            return None;
        }
        path.push(segment);
    }
    let root = std::fs::canonicalize(root).ok()?;
    let real = std::fs::canonicalize(&path).ok()?;
    real.starts_with(&root).then_some(real)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn escape_href(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The listing Go's http.FileServer writes: one link per entry, directories with a `/`.
pub fn listing(dir: &Path) -> std::io::Result<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect();
    names.sort();
    let mut out = String::from(
        "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n",
    );
    for name in names {
        out.push_str(&format!(
            "<a href=\"{}\">{}</a>\n",
            escape_href(&name),
            escape_html(&name)
        ));
    }
    out.push_str("</pre>\n");
    Ok(out)
}

pub async fn serve(root: &Path, rel: &str) -> Response<Body> {
    let Some(path) = resolve(root, rel) else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    if path.is_dir() {
        if !rel.is_empty() && !rel.ends_with('/') {
            // As Go's FileServer: a directory's canonical URL ends with a slash.
            let mut r = text(StatusCode::MOVED_PERMANENTLY, "");
            let last = rel.rsplit('/').next().unwrap_or("");
            if let Ok(location) = http::HeaderValue::from_str(&format!("{last}/")) {
                r.headers_mut().insert(http::header::LOCATION, location);
            }
            return r;
        }
        return match listing(&path) {
            Ok(html) => respond(StatusCode::OK, "text/html; charset=utf-8", html),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
    }
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return text(StatusCode::FORBIDDEN, e.to_string()),
    };
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        loop {
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Bytes::from(buf)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    streamed_text(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_and_refuses_escapes() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("apt")).unwrap();
        std::fs::write(root.join("apt/history.log"), "h").unwrap();
        std::fs::write(root.join("a b.log"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("leak")).unwrap();
        let real = std::fs::canonicalize(root).unwrap();
        assert_eq!(resolve(root, "/"), Some(real.clone()));
        assert_eq!(resolve(root, ""), Some(real.clone()));
        assert_eq!(
            resolve(root, "/apt/history.log"),
            Some(real.join("apt/history.log"))
        );
        assert_eq!(resolve(root, "/a%20b.log"), Some(real.join("a b.log")));
        for bad in [
            "/../etc/passwd",
            "/apt/../../x",
            "/%2e%2e/x",
            "/leak",
            "/%zz",
            "/absent",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
        let html = listing(root).unwrap();
        assert!(html.contains("<a href=\"apt/\">apt/</a>\n"), "{html}");
        assert!(
            html.contains("<a href=\"a%20b.log\">a b.log</a>\n"),
            "{html}"
        );
        assert!(html.starts_with("<!doctype html>") && html.ends_with("</pre>\n"));
    }
}
