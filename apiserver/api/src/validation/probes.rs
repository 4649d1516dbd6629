//! Probes and lifecycle handlers (`validateProbe`, `validateHandler`).

use super::field::{forbidden, invalid, not_supported, required, Path};
use super::names::{is_http_header_name, is_valid_port_name, is_valid_port_num};
use super::util::{arr, int, s};
use crate::status::Cause;
use serde_json::Value;

pub fn validate_probe(c: &Value, key: &str, grace: Option<i64>, cpath: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(probe) = c.get(key).filter(|v| v.is_object()) else {
        return out;
    };
    let path = cpath.child(key);
    out.extend(validate_handler(probe, false, grace, &path));
    for f in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        let v = int(probe, f).unwrap_or(0);
        if v < 0 {
            out.push(invalid(
                &path.child(f),
                v,
                super::meta::IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
    if let Some(t) = int(probe, "terminationGracePeriodSeconds") {
        if t <= 0 {
            out.push(invalid(
                &path.child("terminationGracePeriodSeconds"),
                t,
                "must be greater than 0",
            ));
        }
    }
    let st = int(probe, "successThreshold").unwrap_or(0);
    if (key == "livenessProbe" || key == "startupProbe") && st != 1 {
        out.push(invalid(&path.child("successThreshold"), st, "must be 1"));
    }
    if key == "readinessProbe" {
        if let Some(t) = int(probe, "terminationGracePeriodSeconds") {
            out.push(invalid(
                &path.child("terminationGracePeriodSeconds"),
                t,
                "must not be set for readinessProbes",
            ));
        }
    }
    out
}

pub fn validate_lifecycle(l: &Value, grace: Option<i64>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for k in ["postStart", "preStop"] {
        if let Some(h) = l.get(k).filter(|v| v.is_object()) {
            out.extend(validate_handler(h, true, grace, &path.child(k)));
        }
    }
    if let Some(sig) = l.get("stopSignal").and_then(Value::as_str) {
        let _ = sig;
    }
    out
}

/// `validateHandler` for probes (`lifecycle` false) and lifecycle hooks.
pub fn validate_handler(h: &Value, lifecycle: bool, grace: Option<i64>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut n = 0;
    let kinds: &[&str] = if lifecycle {
        &["exec", "httpGet", "tcpSocket", "sleep"]
    } else {
        &["exec", "httpGet", "tcpSocket", "grpc"]
    };
    for &k in kinds {
        let Some(a) = h.get(k).filter(|v| !v.is_null()) else {
            continue;
        };
        let p = path.child(k);
        if n > 0 {
            out.push(forbidden(&p, "may not specify more than 1 handler type"));
            continue;
        }
        n += 1;
        match k {
            "exec" if arr(a, "command").is_empty() => {
                out.push(required(&p.child("command"), ""));
            }
            "httpGet" => {
                if s(a, "path").is_empty() {
                    out.push(required(&p.child("path"), ""));
                }
                out.extend(port_num_or_name(a.get("port"), &p.child("port")));
                let scheme = s(a, "scheme");
                if scheme != "HTTP" && scheme != "HTTPS" {
                    out.push(not_supported(
                        &p.child("scheme"),
                        scheme,
                        &["HTTP", "HTTPS"],
                    ));
                }
                for hd in arr(a, "httpHeaders") {
                    let name = s(hd, "name");
                    for m in is_http_header_name(name) {
                        out.push(invalid(&p.child("httpHeaders"), name, &m));
                    }
                }
            }
            "tcpSocket" => out.extend(port_num_or_name(a.get("port"), &p.child("port"))),
            "grpc" => {
                let port = int(a, "port").unwrap_or(0);
                for m in is_valid_port_num(port) {
                    out.push(invalid(&p.child("port"), port, &m));
                }
            }
            "sleep" => {
                let secs = int(a, "seconds").unwrap_or(0);
                if let Some(g) = grace {
                    if secs < 0 || secs > g {
                        out.push(invalid(
                            &p,
                            secs,
                            &format!("must be non-negative and less than terminationGracePeriodSeconds ({g})"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if n == 0 {
        out.push(required(path, "must specify a handler type"));
    }
    out
}

/// `ValidatePortNumOrName` for an IntOrString JSON value.
pub fn port_num_or_name(v: Option<&Value>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    match v {
        Some(Value::String(name)) => {
            for m in is_valid_port_name(name) {
                out.push(invalid(path, name.as_str(), &m));
            }
        }
        other => {
            let n = other.and_then(Value::as_i64).unwrap_or(0);
            for m in is_valid_port_num(n) {
                out.push(invalid(path, n, &m));
            }
        }
    }
    out
}
