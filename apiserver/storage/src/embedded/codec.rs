//! On-disk encoding shared by WAL segments and snapshots.
//!
//! Both file kinds are a sequence of *frames*:
//!
//! ```text
//! frame  := magic:u32 | payload_len:u32 | crc32(payload):u32 | payload
//! record := kind:u8 | rev:u64 | rev2:u64 | key_len:u32 | value_len:u32 | key | value
//! ```
//!
//! (all integers little endian; a payload is a sequence of records). A WAL frame holds
//! exactly one group-commit batch and is written with one `write` followed by one
//! `fdatasync`, so a crash can only ever tear the *last* frame of the last segment.

use std::fs::File;
use std::io::{self, BufReader, Read};

pub(crate) const FRAME_MAGIC: u32 = 0x3157_4b52; // "RKW1" read as little endian bytes
pub(crate) const FRAME_HEADER: usize = 12;
/// A frame never gets larger than this (the committer cuts batches well below it).
pub(crate) const MAX_FRAME_PAYLOAD: usize = 1 << 30;
pub(crate) const RECORD_HEADER: usize = 1 + 8 + 8 + 4 + 4;

/// What a record means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// WAL: `key` was set to `value` at revision `rev`.
    Put = 1,
    /// WAL: `key` was deleted at revision `rev`; `value` is the rendered tombstone.
    Delete = 2,
    /// Snapshot, first record: `rev` = revision of the snapshot, `rev2` = compacted rev.
    SnapshotHeader = 3,
    /// Snapshot: one live key, `rev` = mod revision, `rev2` = create revision.
    SnapshotEntry = 4,
    /// Snapshot, last record: `rev2` = number of entries.
    SnapshotEnd = 5,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Put,
            2 => Kind::Delete,
            3 => Kind::SnapshotHeader,
            4 => Kind::SnapshotEntry,
            5 => Kind::SnapshotEnd,
            _ => return None,
        })
    }
}

/// A decoded record borrowing from its frame payload.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub kind: Kind,
    pub rev: u64,
    pub rev2: u64,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// Builds frames into one buffer.
#[derive(Default)]
pub(crate) struct FrameBuf {
    pub buf: Vec<u8>,
    frame_start: Option<usize>,
}

impl FrameBuf {
    pub fn clear(&mut self) {
        self.buf.clear();
        self.frame_start = None;
    }

    pub fn begin_frame(&mut self) {
        debug_assert!(self.frame_start.is_none());
        self.frame_start = Some(self.buf.len());
        self.buf.extend_from_slice(&[0u8; FRAME_HEADER]);
    }

    /// Bytes of record payload in the open frame.
    pub fn frame_payload_len(&self) -> usize {
        self.frame_start
            .map_or(0, |s| self.buf.len() - s - FRAME_HEADER)
    }

    pub fn record(&mut self, kind: Kind, rev: u64, rev2: u64, key: &[u8], value: &[u8]) {
        debug_assert!(self.frame_start.is_some());
        self.buf.reserve(RECORD_HEADER + key.len() + value.len());
        self.buf.push(kind as u8);
        self.buf.extend_from_slice(&rev.to_le_bytes());
        self.buf.extend_from_slice(&rev2.to_le_bytes());
        self.buf
            .extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(value);
    }

    pub fn end_frame(&mut self) {
        let start = self
            .frame_start
            .take()
            .expect("end_frame without begin_frame");
        let payload = &self.buf[start + FRAME_HEADER..];
        let len = payload.len() as u32;
        let crc = crc32fast::hash(payload);
        self.buf[start..start + 4].copy_from_slice(&FRAME_MAGIC.to_le_bytes());
        self.buf[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
        self.buf[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Iterates the records of a frame payload whose CRC has been verified. A decoding error
/// here means the file was written by a buggy or foreign writer: it is reported, not
/// skipped.
pub(crate) struct Records<'a> {
    payload: &'a [u8],
    pos: usize,
}

pub(crate) fn records(payload: &[u8]) -> Records<'_> {
    Records { payload, pos: 0 }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let p = self.payload;
        if self.pos == p.len() {
            return None;
        }
        let at = self.pos;
        if p.len() - at < RECORD_HEADER {
            self.pos = p.len();
            return Some(Err(format!(
                "truncated record header at payload offset {at}"
            )));
        }
        let Some(kind) = Kind::from_u8(p[at]) else {
            self.pos = p.len();
            return Some(Err(format!(
                "unknown record kind {} at payload offset {at}",
                p[at]
            )));
        };
        let rev = u64_at(p, at + 1);
        let rev2 = u64_at(p, at + 9);
        let key_len = u32_at(p, at + 17) as usize;
        let value_len = u32_at(p, at + 21) as usize;
        let body = at + RECORD_HEADER;
        if p.len() - body < key_len + value_len {
            self.pos = p.len();
            return Some(Err(format!(
                "record at payload offset {at} overruns its frame"
            )));
        }
        self.pos = body + key_len + value_len;
        Some(Ok(Record {
            kind,
            rev,
            rev2,
            key: &p[body..body + key_len],
            value: &p[body + key_len..body + key_len + value_len],
        }))
    }
}

/// Why a frame could not be read.
#[derive(Debug)]
pub(crate) enum BadFrame {
    /// Fewer bytes than a frame header remain.
    ShortHeader,
    BadMagic,
    /// The declared payload runs past the end of the file (or is absurdly large).
    Overrun(u64),
    Crc,
}

impl std::fmt::Display for BadFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadFrame::ShortHeader => write!(f, "truncated frame header"),
            BadFrame::BadMagic => write!(f, "bad frame magic"),
            BadFrame::Overrun(len) => write!(f, "frame length {len} runs past the end of the file"),
            BadFrame::Crc => write!(f, "frame checksum mismatch"),
        }
    }
}

/// Reads frames sequentially through a large buffer (no per-record syscalls).
pub(crate) struct FrameReader {
    reader: BufReader<File>,
    /// Offset of the next frame.
    pub pos: u64,
    pub file_len: u64,
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn new(file: File) -> io::Result<FrameReader> {
        let file_len = file.metadata()?.len();
        Ok(FrameReader {
            reader: BufReader::with_capacity(1 << 20, file),
            pos: 0,
            file_len,
            buf: Vec::new(),
        })
    }

    /// The next frame's payload, `Ok(None)` at a clean end of file, `Ok(Some(Err))` for
    /// an invalid frame at `self.pos` (which is then left unchanged).
    #[allow(clippy::type_complexity)]
    pub fn next_frame(&mut self) -> io::Result<Option<Result<&[u8], BadFrame>>> {
        let remaining = self.file_len - self.pos;
        if remaining == 0 {
            return Ok(None);
        }
        if remaining < FRAME_HEADER as u64 {
            return Ok(Some(Err(BadFrame::ShortHeader)));
        }
        let mut header = [0u8; FRAME_HEADER];
        self.reader.read_exact(&mut header)?;
        if u32_at(&header, 0) != FRAME_MAGIC {
            return Ok(Some(Err(BadFrame::BadMagic)));
        }
        let len = u32_at(&header, 4) as u64;
        if len > remaining - FRAME_HEADER as u64 || len > MAX_FRAME_PAYLOAD as u64 {
            return Ok(Some(Err(BadFrame::Overrun(len))));
        }
        self.buf.resize(len as usize, 0);
        self.reader.read_exact(&mut self.buf)?;
        if crc32fast::hash(&self.buf) != u32_at(&header, 8) {
            return Ok(Some(Err(BadFrame::Crc)));
        }
        self.pos += FRAME_HEADER as u64 + len;
        Ok(Some(Ok(&self.buf)))
    }
}

/// Whether `tail` contains a complete, CRC-valid frame at any offset. Used to tell a
/// torn tail (garbage up to the end of the file) from corruption in the middle of the
/// log (an invalid frame followed by valid ones).
pub(crate) fn contains_valid_frame(tail: &[u8]) -> bool {
    let magic = FRAME_MAGIC.to_le_bytes();
    let mut i = 0;
    while i + FRAME_HEADER <= tail.len() {
        if tail[i..i + 4] == magic {
            let len = u32_at(tail, i + 4) as usize;
            let start = i + FRAME_HEADER;
            if len <= tail.len() - start
                && crc32fast::hash(&tail[start..start + len]) == u32_at(tail, i + 8)
            {
                return true;
            }
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_roundtrip() {
        let mut fb = FrameBuf::default();
        fb.begin_frame();
        fb.record(Kind::Put, 7, 0, b"/a", b"hello");
        fb.record(Kind::Delete, 8, 0, b"/b", b"");
        fb.end_frame();
        let buf = fb.buf.clone();
        assert_eq!(u32_at(&buf, 0), FRAME_MAGIC);
        let payload = &buf[FRAME_HEADER..];
        let recs: Vec<_> = records(payload).collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].kind, Kind::Put);
        assert_eq!(recs[0].rev, 7);
        assert_eq!(recs[0].key, b"/a");
        assert_eq!(recs[0].value, b"hello");
        assert_eq!(recs[1].kind, Kind::Delete);
        assert_eq!(recs[1].value, b"");
        assert!(contains_valid_frame(&buf));
        let mut garbage = vec![0xAAu8; 100];
        assert!(!contains_valid_frame(&garbage));
        garbage.extend_from_slice(&buf);
        assert!(contains_valid_frame(&garbage));
        assert!(!contains_valid_frame(&buf[..buf.len() - 1]));
    }
}
