//! RFC 3339 timestamps as metav1.Time / metav1.MicroTime write and read them.

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats a UTC timestamp: `2024-01-02T03:04:05Z` (Time) or
/// `2024-01-02T03:04:05.000000Z` (MicroTime, `micro`).
pub(crate) fn format(seconds: i64, nanos: i32, micro: bool) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if micro {
        out.push_str(&format!(".{:06}", nanos.clamp(0, 999_999_999) / 1000));
    }
    out.push('Z');
    out
}

fn num(s: &str, range: std::ops::RangeInclusive<u32>) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected digits, got {s:?}"));
    }
    let v: u32 = s.parse().map_err(|_| format!("bad number {s:?}"))?;
    if !range.contains(&v) {
        return Err(format!("{v} out of range"));
    }
    Ok(v)
}

/// Parses an RFC 3339 timestamp (`Z` or `±hh:mm` offset, optional fraction)
/// into Unix seconds and nanoseconds.
pub(crate) fn parse(s: &str) -> Result<(i64, i32), String> {
    let err = |e: String| format!("invalid RFC 3339 time {s:?}: {e}");
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return Err(err("too short".into()));
    }
    let sep = |i: usize, c: &[u8]| {
        if c.contains(&b[i]) {
            Ok(())
        } else {
            Err(err(format!("expected {:?} at {i}", c[0] as char)))
        }
    };
    sep(4, b"-")?;
    sep(7, b"-")?;
    sep(10, b"Tt")?;
    sep(13, b":")?;
    sep(16, b":")?;
    let year = num(&s[0..4], 0..=9999).map_err(err)?;
    let month = num(&s[5..7], 1..=12).map_err(err)?;
    let day = num(&s[8..10], 1..=31).map_err(err)?;
    let hour = num(&s[11..13], 0..=23).map_err(err)?;
    let min = num(&s[14..16], 0..=59).map_err(err)?;
    let sec = num(&s[17..19], 0..=60).map_err(err)?;
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(err("empty fraction".into()));
        }
        for (i, c) in frac[..n].bytes().enumerate().take(9) {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[n..];
    }
    let offset: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            if rest.as_bytes()[3] != b':' {
                return Err(err("bad offset".into()));
            }
            let oh = num(&rest[1..3], 0..=23).map_err(err)?;
            let om = num(&rest[4..6], 0..=59).map_err(err)?;
            let o = i64::from(oh * 3600 + om * 60);
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return Err(err("bad zone".into())),
    };
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec) - offset;
    Ok((secs, nanos as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse() {
        assert_eq!(format(0, 0, false), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_704_164_645, 0, false), "2024-01-02T03:04:05Z");
        assert_eq!(
            format(1_704_164_645, 123_456_789, true),
            "2024-01-02T03:04:05.123456Z"
        );
        assert_eq!(format(-1, 0, false), "1969-12-31T23:59:59Z");
        assert_eq!(format(951_782_400, 0, false), "2000-02-29T00:00:00Z");
        assert_eq!(parse("2024-01-02T03:04:05Z").unwrap(), (1_704_164_645, 0));
        assert_eq!(
            parse("2024-01-02T03:04:05.5Z").unwrap(),
            (1_704_164_645, 500_000_000)
        );
        assert_eq!(
            parse("2024-01-02T05:04:05+02:00").unwrap(),
            (1_704_164_645, 0)
        );
        assert_eq!(parse("1969-12-31T23:59:59Z").unwrap(), (-1, 0));
        assert_eq!(parse("2000-02-29T00:00:00Z").unwrap(), (951_782_400, 0));
        for bad in [
            "2024-01-02",
            "2024-01-02 03:04:05Z",
            "2024-13-02T03:04:05Z",
            "2024-01-02T03:04:05",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
