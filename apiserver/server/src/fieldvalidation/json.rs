//! A JSON decoder that finds what upstream's strict decoding (sigs.k8s.io/json
//! with `DisallowUnknownFields` and `DisallowDuplicateFields`) reports, in the
//! order it reports it, and builds the value a Go struct would hold: unknown
//! fields dropped, a repeated struct field decoded into what the first one left.
//!
//! It refuses (`None`) whatever serde_json refuses (control characters in
//! strings, lone surrogates, nesting past serde_json's recursion limit, bad
//! escapes and numbers), so a body it accepts needs no other parse; on anything
//! it refuses serde_json gives the error. Nothing here panics.

use serde_json::{Map, Number, Value};

use super::schema::{Kind, Shape};
use super::Problems;

/// serde_json refuses a 128th nested array or object: the deepest container
/// accepted here is at depth 126 (the top-level value is at depth 0).
const MAX_CONTAINER_DEPTH: usize = 126;

/// Decode `body` as the type `kind`.
pub(crate) fn decode(body: &[u8], kind: Kind) -> Option<(Value, Problems)> {
    let mut d = Decoder {
        b: body,
        i: 0,
        path: String::new(),
        problems: Problems::default(),
    };
    let v = d.value(kind, 0)?;
    d.ws();
    if d.i != d.b.len() {
        return None;
    }
    Some((v, d.problems))
}

struct Decoder<'a> {
    b: &'a [u8],
    i: usize,
    /// The strict field stack: `spec.containers[0]`.
    path: String,
    problems: Problems,
}

impl Decoder<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn value(&mut self, kind: Kind, depth: usize) -> Option<Value> {
        self.ws();
        match self.peek()? {
            b'{' | b'[' if depth > MAX_CONTAINER_DEPTH => None,
            b'{' => self.object(kind, depth),
            b'[' => self.array(kind, depth),
            b'"' => self.string().map(Value::String),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            _ => self.number(),
        }
    }

    fn literal(&mut self, text: &[u8], v: Value) -> Option<Value> {
        if self.b.get(self.i..self.i + text.len())? == text {
            self.i += text.len();
            Some(v)
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
            self.i += 1;
        }
        let text = self.b.get(start..self.i).filter(|t| !t.is_empty())?;
        serde_json::from_slice::<Number>(text)
            .ok()
            .map(Value::Number)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.b.get(self.i..self.i + 4)?;
        // `from_str_radix` would also take a sign.
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let n = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        self.i += 4;
        Some(n)
    }

    /// A string at `"`, unescaped.
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            // Copy the run up to the next quote, escape or control character at once.
            let rest = self.b.get(self.i..)?;
            let run = rest
                .iter()
                .position(|c| *c == b'"' || *c == b'\\' || *c < 0x20)
                .unwrap_or(rest.len());
            out.extend_from_slice(&rest[..run]);
            self.i += run;
            let c = self.peek()?;
            self.i += 1;
            if c == b'"' {
                break;
            }
            if c != b'\\' {
                // A control character: serde_json (and Go) refuse it unescaped.
                return None;
            }
            let e = self.peek()?;
            self.i += 1;
            let ch = match e {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode_escape()?,
                _ => return None,
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        String::from_utf8(out).ok()
    }

    /// After `\u`: one code point, a surrogate pair as one character; a lone
    /// surrogate is refused, as serde_json refuses it.
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        let cp = match hi {
            0xD800..=0xDBFF => {
                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                    return None;
                }
                self.i += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return None;
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return None,
            _ => hi,
        };
        char::from_u32(cp)
    }

    /// Ends a member or element: `,` (more follow) or `close` (done).
    fn next_or_close(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let c = self.peek()?;
        self.i += 1;
        match c {
            b',' => Some(true),
            c if c == close => Some(false),
            _ => None,
        }
    }

    fn object(&mut self, kind: Kind, depth: usize) -> Option<Value> {
        self.i += 1;
        let shape = kind.shape();
        let checked = shape.checks_objects();
        let mut out = Map::new();
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(Value::Object(out));
        }
        loop {
            self.ws();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            match shape.field(&key) {
                None => {
                    self.problems.unknown(&self.path, &key);
                    self.value(Kind::Opaque, depth + 1)?;
                }
                Some(field) => {
                    // Every known key is in `out` once decoded: being there is having been seen.
                    if checked && out.contains_key(&key) {
                        self.problems.duplicate(&self.path, &key);
                    }
                    let len = self.path.len();
                    if checked {
                        super::push_key(&mut self.path, &key);
                    }
                    let v = self.value(field, depth + 1)?;
                    self.path.truncate(len);
                    match out.get_mut(&key) {
                        // A repeated struct field decodes into the first one's value.
                        Some(old) if matches!(shape, Shape::Struct(_)) => go_merge(old, v, field),
                        Some(old) => *old = v,
                        None => {
                            out.insert(key, v);
                        }
                    }
                }
            }
            if !self.next_or_close(b'}')? {
                break;
            }
        }
        Some(Value::Object(out))
    }

    fn array(&mut self, kind: Kind, depth: usize) -> Option<Value> {
        self.i += 1;
        let shape = kind.shape();
        let checked = shape.checks_arrays();
        let item = shape.item();
        let mut out = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(Value::Array(out));
        }
        loop {
            let len = self.path.len();
            if checked {
                super::push_index(&mut self.path, out.len());
            }
            let v = self.value(item, depth + 1)?;
            self.path.truncate(len);
            out.push(v);
            if !self.next_or_close(b']')? {
                break;
            }
        }
        Some(Value::Array(out))
    }
}

/// Go's decoding of a repeated field into the value the first one left: struct
/// fields merge, map entries are replaced one by one, slice items merge by index
/// and the slice takes the new length; anything else is replaced.
pub(crate) fn go_merge(old: &mut Value, new: Value, kind: Kind) {
    let shape = kind.shape();
    match (shape, old, new) {
        (Shape::Struct(_), Value::Object(o), Value::Object(n)) => {
            for (k, v) in n {
                let field = shape.field(&k).unwrap_or(Kind::Opaque);
                match o.get_mut(&k) {
                    Some(ov) => go_merge(ov, v, field),
                    None => {
                        o.insert(k, v);
                    }
                }
            }
        }
        (Shape::Map(_), Value::Object(o), Value::Object(n)) => {
            for (k, v) in n {
                o.insert(k, v);
            }
        }
        (Shape::List(item), Value::Array(o), Value::Array(n)) => {
            let len = n.len();
            for (i, v) in n.into_iter().enumerate() {
                match o.get_mut(i) {
                    Some(ov) => go_merge(ov, v, item),
                    None => o.push(v),
                }
            }
            o.truncate(len);
        }
        (_, old, new) => *old = new,
    }
}
