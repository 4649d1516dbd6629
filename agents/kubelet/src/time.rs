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

/// A duration as Go prints a `time.Duration` truncated to milliseconds (`523ms`,
/// `1.5s`, `2m3.25s`), the way upstream's events show pull times.
pub fn go_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (minutes, ms) = (ms / 60_000, ms % 60_000);
    let seconds = format!("{}.{:03}", ms / 1000, ms % 1000);
    let seconds = seconds.trim_end_matches('0').trim_end_matches('.');
    match minutes {
        0 => format!("{seconds}s"),
        m if m < 60 => format!("{m}m{seconds}s"),
        m => format!("{}h{}m{seconds}s", m / 60, m % 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_durations() {
        use std::time::Duration;
        let d = super::go_duration;
        assert_eq!(d(Duration::from_micros(523_900)), "523ms");
        assert_eq!(d(Duration::from_millis(1500)), "1.5s");
        assert_eq!(d(Duration::from_millis(2000)), "2s");
        assert_eq!(d(Duration::from_millis(123_250)), "2m3.25s");
        assert_eq!(d(Duration::from_secs(3600)), "1h0m0s");
    }

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
