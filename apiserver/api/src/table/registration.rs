//! Printers of admission webhook configurations (upstream's printers.go) and APIServices
//! (kube-aggregator's table convertor).

use serde_json::{json, Value};

use super::util::{age, arr, name, opt_s, Time};
use super::{col, name_col, Column, AGE};

pub const WEBHOOK_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Webhooks",
        "integer",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    AGE,
];

pub fn webhook_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(arr(v, &["webhooks"]).len()),
        json!(age(v, now)),
    ]
}

pub const API_SERVICE_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Service",
        "string",
        "The reference to the service that hosts this API endpoint.",
    ),
    col("Available", "string", "Whether this service is available."),
    AGE,
];

pub fn api_service_cells(v: &Value, now: Time) -> Vec<Value> {
    let service = match v.pointer("/spec/service").filter(|s| !s.is_null()) {
        Some(svc) => format!(
            "{}/{}",
            opt_s(svc, &["namespace"]).unwrap_or(""),
            opt_s(svc, &["name"]).unwrap_or("")
        ),
        None => "Local".to_string(),
    };
    let available = arr(v, &["status", "conditions"])
        .iter()
        .find(|c| c["type"] == "Available")
        .map_or_else(
            || "Unknown".to_string(),
            |c| {
                let status = opt_s(c, &["status"]).unwrap_or("");
                match opt_s(c, &["reason"]).filter(|r| !r.is_empty()) {
                    Some(reason) if status != "True" => format!("{status} ({reason})"),
                    _ => status.to_string(),
                }
            },
        );
    vec![
        json!(name(v)),
        json!(service),
        json!(available),
        json!(age(v, now)),
    ]
}
