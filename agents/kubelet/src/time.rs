//! Timestamps as the API writes them.

/// Now as metav1.Time: RFC 3339, seconds precision, UTC.
pub fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Now as metav1.MicroTime: microseconds, UTC.
pub fn now_micro() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Now as the CRI log format writes it: RFC 3339 with nanoseconds.
pub fn now_rfc3339_nanos() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        let t: jiff::Timestamp = "2026-01-02T03:04:05.123456789Z".parse().unwrap();
        assert_eq!(super::rfc3339(t), "2026-01-02T03:04:05Z");
        assert_eq!(
            super::now_micro().len(),
            "2026-01-02T03:04:05.123456Z".len()
        );
    }
}
