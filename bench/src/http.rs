//! A minimal HTTP/1.1 client over keep-alive `TcpStream`s: just enough to drive load at
//! an apiserver and at etcd's JSON gateway without the client costing much CPU (it
//! shares the machine with the server), and to read chunked watch streams.

use std::io;
use std::net::SocketAddr;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(usize),
    Chunked,
    /// Until the server closes the connection.
    Close,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The body, when asked to keep it.
    pub body: Vec<u8>,
    /// Body bytes received (kept or not).
    pub body_len: usize,
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
        })
    }

    /// Read more bytes into the buffer; EOF is an error. Cancel-safe.
    async fn fill(&mut self) -> io::Result<()> {
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(64 * 1024);
        }
        match self.stream.read_buf(&mut self.buf).await? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            _ => Ok(()),
        }
    }

    pub async fn send(&mut self, request: &[u8]) -> io::Result<()> {
        self.stream.write_all(request).await
    }

    /// Read a response's status line and headers.
    pub async fn read_head(&mut self) -> io::Result<(u16, Framing)> {
        loop {
            if !self.buf.is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut resp = httparse::Response::new(&mut headers);
                match resp.parse(&self.buf) {
                    Ok(httparse::Status::Complete(n)) => {
                        let status = resp.code.unwrap_or(0);
                        let framing = framing(status, resp.headers)?;
                        self.buf.advance(n);
                        return Ok((status, framing));
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => return Err(invalid(format!("bad response head: {e}"))),
                }
            }
            self.fill().await?;
        }
    }

    /// Read a whole body, handing each piece to `sink`; returns its length.
    pub async fn read_body(
        &mut self,
        framing: Framing,
        mut sink: impl FnMut(&[u8]),
    ) -> io::Result<usize> {
        let mut total = 0;
        match framing {
            Framing::Length(mut remaining) => {
                while remaining > 0 {
                    if self.buf.is_empty() {
                        self.fill().await?;
                    }
                    let take = remaining.min(self.buf.len());
                    sink(&self.buf[..take]);
                    self.buf.advance(take);
                    remaining -= take;
                    total += take;
                }
            }
            Framing::Chunked => {
                let mut dec = ChunkedDecoder::default();
                loop {
                    let n = dec.decode(&self.buf, |d| {
                        total += d.len();
                        sink(d)
                    })?;
                    self.buf.advance(n);
                    if dec.is_done() {
                        break;
                    }
                    self.fill().await?;
                }
            }
            Framing::Close => loop {
                total += self.buf.len();
                sink(&self.buf);
                self.buf.clear();
                match self.fill().await {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            },
        }
        Ok(total)
    }

    /// Send `request` and read the whole response, keeping the body if `keep_body`.
    pub async fn request(&mut self, request: &[u8], keep_body: bool) -> io::Result<Response> {
        self.send(request).await?;
        let (status, framing) = self.read_head().await?;
        let mut body = Vec::new();
        let body_len = self
            .read_body(framing, |d| {
                if keep_body {
                    body.extend_from_slice(d)
                }
            })
            .await?;
        Ok(Response {
            status,
            body,
            body_len,
        })
    }

    /// Decode whatever the chunked stream has next into `out` (waiting for at least one
    /// byte of body); `true` once the stream ended with its last chunk. Cancel-safe: a
    /// dropped call loses nothing, the decoder keeps its place.
    pub async fn read_chunked_some(
        &mut self,
        dec: &mut ChunkedDecoder,
        out: &mut Vec<u8>,
    ) -> io::Result<bool> {
        loop {
            let before = out.len();
            let n = dec.decode(&self.buf, |d| out.extend_from_slice(d))?;
            self.buf.advance(n);
            if dec.is_done() {
                return Ok(true);
            }
            if out.len() > before {
                return Ok(false);
            }
            self.fill().await?;
        }
    }
}

fn framing(status: u16, headers: &[httparse::Header<'_>]) -> io::Result<Framing> {
    if status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Framing::Length(0));
    }
    let mut length = None;
    for h in headers {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let v = std::str::from_utf8(h.value).unwrap_or("");
            if v.to_ascii_lowercase().contains("chunked") {
                return Ok(Framing::Chunked);
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| invalid("bad content-length"))?;
            length = Some(v);
        }
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ChunkState {
    /// Reading a chunk-size line.
    #[default]
    Size,
    /// This many data bytes of the current chunk are still to come.
    Data(usize),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines after the last (empty) chunk, up to an empty line.
    Trailers,
    Done,
}

/// Incremental decoder of `Transfer-Encoding: chunked` bodies.
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
}

/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

impl ChunkedDecoder {
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decode as much of `input` as possible, handing data to `sink`; returns how many
    /// bytes of `input` were consumed (the rest must be offered again, with more).
    pub fn decode(&mut self, input: &[u8], mut sink: impl FnMut(&[u8])) -> io::Result<usize> {
        let mut i = 0;
        loop {
            let rest = &input[i..];
            match self.state {
                ChunkState::Done => return Ok(i),
                ChunkState::Size => {
                    let Some(eol) = find_crlf(rest) else {
                        if rest.len() > MAX_LINE {
                            return Err(invalid("chunk-size line too long"));
                        }
                        return Ok(i);
                    };
                    let line = std::str::from_utf8(&rest[..eol])
                        .map_err(|_| invalid("chunk-size line is not text"))?;
                    let hex = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(hex, 16)
                        .map_err(|_| invalid(format!("bad chunk size {hex:?}")))?;
                    i += eol + 2;
                    self.state = if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(n) => {
                    if rest.is_empty() {
                        return Ok(i);
                    }
                    let take = n.min(rest.len());
                    sink(&rest[..take]);
                    i += take;
                    self.state = if take == n {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(n - take)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(i);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(invalid("chunk data not followed by CRLF"));
                    }
                    i += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    let Some(eol) = find_crlf(rest) else {
                        if rest.len() > MAX_LINE {
                            return Err(invalid("trailer line too long"));
                        }
                        return Ok(i);
                    };
                    i += eol + 2;
                    if eol == 0 {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    memchr::memmem::find(b, b"\r\n")
}

/// A GET request.
pub fn get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nUser-Agent: rkube-bench\r\n\r\n")
        .into_bytes()
}

/// A request with a body.
pub fn with_body(method: &str, host: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nUser-Agent: rkube-bench\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Percent-encode a query parameter value (everything but RFC 3986 unreserved).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut dec = ChunkedDecoder::default();
        let mut pending = Vec::new();
        let mut out = Vec::new();
        for p in pieces {
            pending.extend_from_slice(p);
            let n = dec.decode(&pending, |d| out.extend_from_slice(d)).unwrap();
            pending.drain(..n);
        }
        (out, dec.is_done())
    }

    #[test]
    fn chunked_whole_and_split_at_every_byte() {
        let wire: &[u8] = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(decode_all(&[wire]), (b"hello, world".to_vec(), true));
        for cut in 0..wire.len() {
            let (a, b) = wire.split_at(cut);
            assert_eq!(
                decode_all(&[a, b]),
                (b"hello, world".to_vec(), true),
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(decode_all(&bytes), (b"hello, world".to_vec(), true));
    }

    #[test]
    fn chunked_unfinished_and_invalid() {
        assert_eq!(
            decode_all(&[b"A\r\n0123456789\r\n3\r\nab"]),
            (b"0123456789ab".to_vec(), false)
        );
        let mut dec = ChunkedDecoder::default();
        assert!(dec.decode(b"zz\r\n", |_| {}).is_err());
        let mut dec = ChunkedDecoder::default();
        assert!(dec.decode(b"1\r\nabc", |_| {}).is_err());
        let mut dec = ChunkedDecoder::default();
        assert!(dec.decode(&[b'1'; MAX_LINE + 1], |_| {}).is_err());
        // Nothing is consumed after the end.
        let mut dec = ChunkedDecoder::default();
        assert_eq!(dec.decode(b"0\r\n\r\nHTTP/1.1", |_| {}).unwrap(), 5);
        assert!(dec.is_done());
    }

    #[test]
    fn response_framing() {
        let h = |name: &'static str, value: &'static [u8]| httparse::Header { name, value };
        assert_eq!(
            framing(200, &[h("Content-Length", b"12")]).unwrap(),
            Framing::Length(12)
        );
        assert_eq!(
            framing(
                200,
                &[
                    h("transfer-encoding", b"chunked"),
                    h("content-length", b"3")
                ]
            )
            .unwrap(),
            Framing::Chunked
        );
        assert_eq!(framing(204, &[]).unwrap(), Framing::Length(0));
        assert_eq!(framing(200, &[]).unwrap(), Framing::Close);
        assert!(framing(200, &[h("Content-Length", b"x")]).is_err());
    }

    #[test]
    fn requests_and_escaping() {
        let r = with_body("POST", "h:1", "/p", "application/json", b"{}");
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "POST /p HTTP/1.1\r\nHost: h:1\r\nAccept: application/json\r\nUser-Agent: rkube-bench\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
        assert!(String::from_utf8(get("h:1", "/readyz"))
            .unwrap()
            .starts_with("GET /readyz HTTP/1.1\r\nHost: h:1\r\n"));
        assert_eq!(query_escape("eyJh+b/c=="), "eyJh%2Bb%2Fc%3D%3D");
        assert_eq!(query_escape("a-b_c.d~"), "a-b_c.d~");
    }

    #[tokio::test]
    async fn conn_reads_length_and_chunked_responses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut seen = Vec::new();
            // Two pipelined answers, written in awkward pieces.
            while seen.windows(4).filter(|w| w == b"\r\n\r\n").count() < 2 {
                let n = s.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            for piece in [
                &b"HTTP/1.1 200 OK\r\nContent-Le"[..],
                b"ngth: 5\r\n\r\nhel",
                b"loHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
                b"c\r\n0\r\n\r\n",
            ] {
                s.write_all(piece).await.unwrap();
                s.flush().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        });
        let mut c = Conn::connect(addr).await.unwrap();
        c.send(&get("x", "/a")).await.unwrap();
        c.send(&get("x", "/b")).await.unwrap();
        let (status, fr) = c.read_head().await.unwrap();
        let mut body = Vec::new();
        c.read_body(fr, |d| body.extend_from_slice(d))
            .await
            .unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"hello"[..]));
        let (status, fr) = c.read_head().await.unwrap();
        assert_eq!((status, fr), (201, Framing::Chunked));
        let mut body = Vec::new();
        let n = c
            .read_body(fr, |d| body.extend_from_slice(d))
            .await
            .unwrap();
        assert_eq!((n, body.as_slice()), (3, &b"abc"[..]));
        server.await.unwrap();
    }
}
