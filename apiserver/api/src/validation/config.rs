//! ConfigMaps, Secrets, Namespaces, ServiceAccounts, LimitRanges, ResourceQuotas,
//! PersistentVolumeClaims and PersistentVolumes.

use serde_json::Value;

use super::field::{forbidden, invalid, required, too_long, Path};
use super::meta::{validate_object_meta, validate_object_meta_update, FIELD_IMMUTABLE};
use super::names::{is_config_map_key, is_qualified_name, NameRule};
use super::util::{arr, boolean, obj, s};
use crate::status::Cause;

/// `core.MaxSecretSize`.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// Decoded length of a base64 string (the JSON form of `[]byte`).
pub fn base64_len(s: &str) -> usize {
    let t = s.trim_end_matches('=');
    t.len() * 3 / 4
}

/// `ValidateConfigMap`.
pub fn validate_config_map(cm: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(cm, true, NameRule::Subdomain);
    let mut total = 0usize;
    let binary = obj(cm, "binaryData");
    if let Some(data) = obj(cm, "data") {
        for (k, v) in data {
            let p = Path::new("data").key(k);
            for m in is_config_map_key(k) {
                out.push(invalid(&p, k.as_str(), &m));
            }
            if binary.is_some_and(|b| b.contains_key(k)) {
                out.push(invalid(
                    &p,
                    k.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
            total += v.as_str().map_or(0, str::len);
        }
    }
    if let Some(b) = binary {
        for (k, v) in b {
            for m in is_config_map_key(k) {
                out.push(invalid(&Path::new("binaryData").key(k), k.as_str(), &m));
            }
            total += v.as_str().map_or(0, base64_len);
        }
    }
    if total > MAX_SECRET_SIZE {
        out.push(too_long(&Path::new(""), MAX_SECRET_SIZE));
    }
    out
}

pub fn immutable_data_checks(new: &Value, old: &Value, fields: &[&str]) -> Vec<Cause> {
    let mut out = Vec::new();
    if boolean(old, "immutable") == Some(true) {
        if boolean(new, "immutable") != Some(true) {
            out.push(forbidden(
                &Path::new("immutable"),
                "field is immutable when `immutable` is set",
            ));
        }
        for f in fields {
            let n = new.get(*f).filter(|v| !v.is_null());
            let o = old.get(*f).filter(|v| !v.is_null());
            if n != o {
                out.push(forbidden(
                    &Path::new(f),
                    "field is immutable when `immutable` is set",
                ));
            }
        }
    }
    out
}

/// `ValidateConfigMapUpdate`.
pub fn validate_config_map_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    out.extend(immutable_data_checks(new, old, &["data", "binaryData"]));
    out.extend(validate_config_map(new));
    out
}

/// `ValidateSecret`.
pub fn validate_secret(secret: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(secret, true, NameRule::Subdomain);
    let dp = Path::new("data");
    let data = obj(secret, "data");
    let mut total = 0usize;
    if let Some(d) = data {
        for (k, v) in d {
            for m in is_config_map_key(k) {
                out.push(invalid(&dp.key(k), k.as_str(), &m));
            }
            total += v.as_str().map_or(0, base64_len);
        }
    }
    if total > MAX_SECRET_SIZE {
        out.push(too_long(&dp, MAX_SECRET_SIZE));
    }
    let has_key = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let key_len = |k: &str| {
        data.and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map_or(0, base64_len)
    };
    match s(secret, "type") {
        "kubernetes.io/service-account-token" => {
            let name = secret
                .get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name.is_empty() {
                out.push(required(
                    &Path::new("metadata.annotations").key("kubernetes.io/service-account.name"),
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson" => {
            let key = if s(secret, "type") == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            if !has_key(key) {
                out.push(required(&dp.key(key), ""));
            } else {
                let raw = data
                    .and_then(|d| d.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let decoded = base64_decode(raw).unwrap_or_default();
                match serde_json::from_slice::<Value>(&decoded) {
                    Ok(Value::Object(_)) => {}
                    Ok(other) => out.push(invalid(
                        &dp.key(key),
                        "<secret contents redacted>",
                        &format!(
                            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                            json_type_name(&other)
                        ),
                    )),
                    Err(e) => out.push(invalid(
                        &dp.key(key),
                        "<secret contents redacted>",
                        &go_json_syntax_error(&e, &decoded),
                    )),
                }
            }
        }
        "kubernetes.io/basic-auth" if !has_key("username") && !has_key("password") => {
            out.push(required(&dp.key("username"), ""));
            out.push(required(&dp.key("password"), ""));
        }
        "kubernetes.io/ssh-auth" if key_len("ssh-privatekey") == 0 => {
            out.push(required(&dp.key("ssh-privatekey"), ""));
        }
        "kubernetes.io/tls" => {
            if !has_key("tls.crt") {
                out.push(required(&dp.key("tls.crt"), ""));
            }
            if !has_key("tls.key") {
                out.push(required(&dp.key("tls.key"), ""));
            }
        }
        _ => {}
    }
    out
}

pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An approximation of Go's `encoding/json` syntax error text.
pub fn go_json_syntax_error(e: &serde_json::Error, input: &[u8]) -> String {
    if input.iter().all(u8::is_ascii_whitespace) || e.is_eof() {
        return "unexpected end of JSON input".to_string();
    }
    let col = e.column().saturating_sub(1);
    let offset: usize = input
        .split(|b| *b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        + col;
    let c = input.get(offset).copied().unwrap_or(b' ') as char;
    format!("invalid character '{c}' looking for beginning of value")
}

/// Standard base64 decoding (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\r' | b'\n' => continue,
            _ => return None,
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `ValidateSecretUpdate`.
pub fn validate_secret_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    let (nt, ot) = (s(new, "type"), s(old, "type"));
    if nt != ot {
        out.push(invalid(&Path::new("type"), nt, FIELD_IMMUTABLE));
    }
    out.extend(immutable_data_checks(new, old, &["data"]));
    out.extend(validate_secret(new));
    out
}

/// `ValidateNamespace`.
pub fn validate_namespace(ns: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(ns, false, NameRule::Label);
    let null = Value::Null;
    let spec = ns.get("spec").unwrap_or(&null);
    let fp = Path::new("spec.finalizers");
    for f in arr(spec, "finalizers") {
        let f = f.as_str().unwrap_or_default();
        for m in is_qualified_name(f) {
            out.push(invalid(&fp, f, &m));
        }
        if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            out.push(invalid(
                &fp,
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    out
}

/// `ValidateNamespaceStatusUpdate`.
pub fn validate_namespace_status(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    let deleting = new
        .get("metadata")
        .is_some_and(|m| !s(m, "deletionTimestamp").is_empty());
    let phase = new
        .get("status")
        .map(|st| s(st, "phase"))
        .unwrap_or_default();
    let p = Path::new("status.Phase");
    if !deleting && phase != "Active" {
        out.push(invalid(
            &p,
            phase,
            "may only be 'Active' if `deletionTimestamp` is empty",
        ));
    } else if deleting && phase != "Terminating" {
        out.push(invalid(
            &p,
            phase,
            "may only be 'Terminating' if `deletionTimestamp` is not empty",
        ));
    }
    out
}

/// `ValidateServiceAccount`.
pub fn validate_service_account(sa: &Value) -> Vec<Cause> {
    validate_object_meta(sa, true, NameRule::Subdomain)
}

/// Where Go's `base64.StdEncoding` decoding fails (`illegal base64 data at input byte N`),
/// or `None` when the text decodes.
pub fn base64_corrupt_at(src: &str) -> Option<usize> {
    let src = src.as_bytes();
    let val = |c: u8| -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let nl = |c: u8| c == b'\n' || c == b'\r';
    let mut si = 0usize;
    while si < src.len() {
        // decodeQuantum
        let mut j = 0usize;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return None;
                }
                return Some(si - j);
            }
            let c = src[si];
            si += 1;
            if val(c).is_some() {
                j += 1;
                continue;
            }
            if nl(c) {
                continue;
            }
            if c != b'=' {
                return Some(si - 1);
            }
            match j {
                0 | 1 => return Some(si - 1),
                2 => {
                    while si < src.len() && nl(src[si]) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Some(src.len());
                    }
                    if src[si] != b'=' {
                        return Some(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && nl(src[si]) {
                si += 1;
            }
            if si < src.len() {
                return Some(si);
            }
            return None;
        }
    }
    None
}
