//! `resource.Quantity` parsing, comparison and the canonical `String()` form, enough for
//! validation (requests ≤ limits, non-negative, integer resources) and QoS.

use serde_json::Value;

/// The message upstream's Quantity decoder reports for a malformed quantity.
pub const QUANTITY_REGEX_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// A quantity as an exact value `num / 10^scale` (scale may be negative never; kept ≥ 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    pub num: i128,
    pub scale: u32,
    pub format: Format,
}

fn pow10(n: u32) -> i128 {
    10i128.saturating_pow(n)
}

impl Quantity {
    pub fn parse(s: &str) -> Option<Quantity> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let (neg, rest) = match s.as_bytes()[0] {
            b'+' => (false, &s[1..]),
            b'-' => (true, &s[1..]),
            _ => (false, s),
        };
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(split);
        if number.is_empty() || number.matches('.').count() > 1 || number == "." {
            return None;
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        let mut num: i128 = if digits.is_empty() {
            0
        } else {
            digits.get(..digits.len().min(30))?.parse().ok()?
        };
        let mut scale = frac_part.len() as u32;
        let (format, mul_num, exp10): (Format, i128, i32) = match suffix {
            "" => (Format::DecimalSI, 1, 0),
            "n" => (Format::DecimalSI, 1, -9),
            "u" => (Format::DecimalSI, 1, -6),
            "m" => (Format::DecimalSI, 1, -3),
            "k" => (Format::DecimalSI, 1, 3),
            "M" => (Format::DecimalSI, 1, 6),
            "G" => (Format::DecimalSI, 1, 9),
            "T" => (Format::DecimalSI, 1, 12),
            "P" => (Format::DecimalSI, 1, 15),
            "E" => (Format::DecimalSI, 1, 18),
            "Ki" => (Format::BinarySI, 1 << 10, 0),
            "Mi" => (Format::BinarySI, 1 << 20, 0),
            "Gi" => (Format::BinarySI, 1 << 30, 0),
            "Ti" => (Format::BinarySI, 1 << 40, 0),
            "Pi" => (Format::BinarySI, 1 << 50, 0),
            "Ei" => (Format::BinarySI, 1 << 60, 0),
            e if e.starts_with('e') || e.starts_with('E') => {
                let n: i32 = e[1..].parse().ok()?;
                if e.len() == 1 {
                    return None;
                }
                (Format::DecimalExponent, 1, n)
            }
            _ => return None,
        };
        num = num.checked_mul(mul_num)?;
        if exp10 >= 0 {
            let e = exp10 as u32;
            // Fold the exponent into the scale first, then into the numerator.
            let fold = e.min(scale);
            scale -= fold;
            num = num.checked_mul(pow10(e - fold))?;
        } else {
            scale += (-exp10) as u32;
        }
        if neg {
            num = -num;
        }
        Some(Quantity { num, scale, format })
    }

    /// From a JSON value (quantities may be sent as numbers).
    pub fn from_json(v: &Value) -> Option<Quantity> {
        match v {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    fn cmp_key(&self, scale: u32) -> i128 {
        self.num.saturating_mul(pow10(scale - self.scale))
    }

    pub fn compare(&self, other: &Quantity) -> std::cmp::Ordering {
        let scale = self.scale.max(other.scale);
        self.cmp_key(scale).cmp(&other.cmp_key(scale))
    }

    pub fn is_zero(&self) -> bool {
        self.num == 0
    }

    pub fn is_negative(&self) -> bool {
        self.num < 0
    }

    pub fn sign(&self) -> i32 {
        self.num.signum() as i32
    }

    /// `MilliValue()`, rounded up like upstream.
    pub fn milli_value(&self) -> i128 {
        if self.scale <= 3 {
            self.num.saturating_mul(pow10(3 - self.scale))
        } else {
            let d = pow10(self.scale - 3);
            let q = self.num / d;
            if self.num % d != 0 && self.num > 0 {
                q + 1
            } else {
                q
            }
        }
    }

    /// `Value()` rounded up.
    pub fn value(&self) -> i128 {
        let d = pow10(self.scale);
        let q = self.num / d;
        if self.num % d != 0 && self.num > 0 {
            q + 1
        } else {
            q
        }
    }

    /// The sum, in this quantity's format (a zero takes the other's, as upstream's
    /// `Quantity.Add` does: `0 + 512Mi` prints `512Mi`).
    pub fn add(&self, other: &Quantity) -> Quantity {
        let scale = self.scale.max(other.scale);
        Quantity {
            num: self.cmp_key(scale).saturating_add(other.cmp_key(scale)),
            scale,
            format: if self.num == 0 {
                other.format
            } else {
                self.format
            },
        }
    }

    /// The canonical `String()` form.
    pub fn canonical(&self) -> String {
        if self.num == 0 {
            return "0".to_string();
        }
        let neg = self.num < 0;
        let sign = if neg { "-" } else { "" };
        let abs = self.num.unsigned_abs();
        // Normalise to an integer mantissa with a base-10 exponent.
        let mut m = abs;
        let mut e10: i32 = -(self.scale as i32);
        while m.is_multiple_of(10) && m != 0 {
            m /= 10;
            e10 += 1;
        }
        if self.format == Format::BinarySI && e10 >= 0 {
            // Exact integer: use the largest binary suffix that divides it.
            let v = m.saturating_mul(10u128.saturating_pow(e10 as u32));
            let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
            let mut v2 = v;
            let mut i = 0;
            while i < 6 && v2.is_multiple_of(1024) && v2 >= 1024 {
                v2 /= 1024;
                i += 1;
            }
            if i > 0 || v < 1024 {
                return format!("{sign}{v2}{}", suffixes[i]);
            }
        }
        // Decimal SI: choose the exponent (multiple of 3) ≤ e10, rounding up below nano.
        let suffix_for = |e: i32| match e {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => "",
        };
        if e10 < -9 {
            // Round up to nano.
            let drop = (-9 - e10) as u32;
            let d = 10u128.pow(drop.min(38));
            let q = m / d + u128::from(!m.is_multiple_of(d));
            return format!("{sign}{q}n");
        }
        let mut e = if e10 >= 0 {
            e10 - e10 % 3
        } else {
            -((-e10 + 2) / 3 * 3)
        };
        if e > 18 {
            e = 18;
        }
        let m = m.saturating_mul(10u128.saturating_pow((e10 - e) as u32));
        if self.format == Format::DecimalExponent && e != 0 {
            format!("{sign}{m}e{e}")
        } else {
            format!("{sign}{m}{}", suffix_for(e))
        }
    }
}

/// The canonical string of a JSON quantity, or its raw text when it does not parse.
pub fn canonical_json(v: &Value) -> String {
    match Quantity::from_json(v) {
        Some(q) => q.canonical(),
        None => match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        Quantity::parse(s).unwrap().canonical()
    }

    #[test]
    fn parses_and_canonicalises() {
        assert_eq!(c("1"), "1");
        assert_eq!(c("1000m"), "1");
        assert_eq!(c("0.5"), "500m");
        assert_eq!(c("100m"), "100m");
        assert_eq!(c("1Gi"), "1Gi");
        assert_eq!(c("1024Mi"), "1Gi");
        assert_eq!(c("128974848"), "128974848");
        assert_eq!(c("129e6"), "129e6");
        assert_eq!(c("129M"), "129M");
        assert_eq!(c("1.5Gi"), "1536Mi");
        assert!(Quantity::parse("abc").is_none());
        assert!(Quantity::parse("1.2.3").is_none());
        assert!(Quantity::parse("1Gb").is_none());
    }

    #[test]
    fn compares() {
        let a = Quantity::parse("500m").unwrap();
        let b = Quantity::parse("1").unwrap();
        assert_eq!(a.compare(&b), std::cmp::Ordering::Less);
        let g = Quantity::parse("1Gi").unwrap();
        let m = Quantity::parse("1024Mi").unwrap();
        assert_eq!(g.compare(&m), std::cmp::Ordering::Equal);
        assert_eq!(Quantity::parse("1.5").unwrap().milli_value(), 1500);
        assert!(Quantity::parse("-1").unwrap().is_negative());
    }
}
