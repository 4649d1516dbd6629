//! Total JSON accessors, timestamps and the formatting helpers upstream's printers use.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::selector::LabelSelector;

/// The value at `path`, if every step is an object with that key.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.as_object()?.get(*k))
}

/// A string field, "" when absent or not a string.
pub fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    at(v, path).and_then(Value::as_str).unwrap_or_default()
}

/// A string field that may be absent (Go `*string`).
pub fn opt_s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// An integer field, 0 when absent or not an integer.
pub fn int(v: &Value, path: &[&str]) -> i64 {
    opt_int(v, path).unwrap_or(0)
}

/// An integer field that may be absent (Go `*int32`).
pub fn opt_int(v: &Value, path: &[&str]) -> Option<i64> {
    let x = at(v, path)?;
    x.as_i64().or_else(|| x.as_u64().map(|u| u as i64))
}

pub fn boolean(v: &Value, path: &[&str]) -> bool {
    at(v, path).and_then(Value::as_bool).unwrap_or(false)
}

/// An array field, empty when absent or not an array.
pub fn arr<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// An object field.
pub fn obj<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    at(v, path).and_then(Value::as_object)
}

/// Present and not null (a Go pointer that is set).
pub fn present(v: &Value, path: &[&str]) -> bool {
    at(v, path).is_some_and(|x| !x.is_null())
}

/// Number of entries of a map or list field.
pub fn len_of(v: &Value, path: &[&str]) -> i64 {
    match at(v, path) {
        Some(Value::Object(m)) => m.len() as i64,
        Some(Value::Array(a)) => a.len() as i64,
        _ => 0,
    }
}

pub fn name(v: &Value) -> &str {
    s(v, &["metadata", "name"])
}

/// A point in time: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    pub secs: i64,
    pub nanos: u32,
}

/// Go's zero `time.Time`, 0001-01-01T00:00:00Z.
pub const ZERO_SECS: i64 = -62_135_596_800;

impl Time {
    pub fn is_zero(&self) -> bool {
        self.secs == ZERO_SECS && self.nanos == 0
    }

    fn as_nanos(&self) -> i128 {
        self.secs as i128 * 1_000_000_000 + self.nanos as i128
    }
}

pub fn from_system(t: SystemTime) -> Time {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Time {
            secs: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
        },
        Err(e) => {
            let d = e.duration();
            let mut secs = -(d.as_secs() as i64);
            let mut nanos = d.subsec_nanos();
            if nanos > 0 {
                secs -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            Time { secs, nanos }
        }
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |a, c| a * 10 + (c - b'0') as i64))
}

/// Parse an RFC 3339 timestamp (`2006-01-02T15:04:05[.frac](Z|±07:00)`).
pub fn parse_time(text: &str) -> Option<Time> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't') {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, sec) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &b[start..i.min(start + 9)];
        let mut n = digits(frac)? as u32;
        for _ in frac.len()..9 {
            n *= 10;
        }
        nanos = n;
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let o = digits(&b[i + 1..i + 3])? * 3600 + digits(&b[i + 4..i + 6])? * 60;
            if *c == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(Time {
        secs: days * 86_400 + h * 3600 + mi * 60 + sec - offset,
        nanos,
    })
}

/// A timestamp field; `None` when absent, null, unparseable or Go's zero time.
pub fn time_at(v: &Value, path: &[&str]) -> Option<Time> {
    opt_s(v, path).and_then(parse_time).filter(|t| !t.is_zero())
}

/// `time.RFC3339` in UTC, whole seconds (Go's zero time for `None`).
pub fn format_rfc3339(t: Option<Time>) -> String {
    let secs = t.map_or(ZERO_SECS, |t| t.secs);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// apimachinery's `duration.HumanDuration`, from nanoseconds.
pub fn human_duration(nanos: i128) -> String {
    const SEC: i128 = 1_000_000_000;
    let seconds = nanos / SEC;
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / (60 * SEC);
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / (3600 * SEC);
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        }
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        }
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// Duration between two times, as HumanDuration prints it.
pub fn human_between(from: Time, to: Time) -> String {
    human_duration(to.as_nanos() - from.as_nanos())
}

/// `translateTimestampSince`: `<unknown>` without a timestamp.
pub fn since(t: Option<Time>, now: Time) -> String {
    match t {
        Some(t) => human_between(t, now),
        None => "<unknown>".to_string(),
    }
}

/// The AGE cell: time since `metadata.creationTimestamp`.
pub fn age(v: &Value, now: Time) -> String {
    since(time_at(v, &["metadata", "creationTimestamp"]), now)
}

/// `labels.FormatLabels`: `k=v,...` sorted by key, `<none>` when empty.
pub fn format_labels(m: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<(&String, &str)> = m
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    let s: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s.join(",")
    }
}

/// `LabelSelectorAsSelector(sel).String()`; `Err` when the selector is invalid.
pub fn selector_string(v: Option<&Value>) -> Result<String, String> {
    LabelSelector::from_label_selector_json(v.unwrap_or(&Value::Null)).map(|s| s.to_string())
}

/// `metav1.FormatLabelSelector`: `<none>` when empty, `<error>` when invalid.
pub fn format_label_selector(v: Option<&Value>) -> String {
    match selector_string(v) {
        Ok(s) if s.is_empty() => "<none>".to_string(),
        Ok(s) => s,
        Err(_) => "<error>".to_string(),
    }
}

/// `layoutContainerCells`: container names and images, comma-joined.
pub fn containers(pod_spec: Option<&Value>) -> (String, String) {
    let list = pod_spec.map_or(&[][..], |p| arr(p, &["containers"]));
    let names: Vec<&str> = list.iter().map(|c| s(c, &["name"])).collect();
    let images: Vec<&str> = list.iter().map(|c| s(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// An IntOrString as Go's `String()` prints it.
pub fn int_or_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// A resource quantity as printed (the stored, already canonical string; "0" when unset).
pub fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// `net.JoinHostPort`.
pub fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `a,b,c + N more...` with at most `max` entries, `<unset>` when empty
/// (upstream's `listWithMoreString`).
pub fn list_with_more(list: &[String], count: usize, max: usize) -> String {
    let ret = list.join(",");
    if count > max {
        format!("{ret} + {} more...", count - max)
    } else if ret.is_empty() {
        "<unset>".to_string()
    } else {
        ret
    }
}
