//! How far a rolling update may go above and below `spec.replicas`: maxSurge and
//! maxUnavailable as integers or percentages, with upstream's rounding (surge up,
//! unavailable down) and its rule that both cannot be zero.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::queue::SyncError;

/// The apiserver's defaults, used when a field is missing.
const DEFAULT_BOUND: &str = "25%";

pub fn is_rolling(d: &Deployment) -> bool {
    let kind = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref()?.type_.as_deref());
    kind != Some("Recreate")
}

pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// An int, or a percentage of `total` rounded up or down.
pub fn scaled(value: &IntOrString, total: i32, round_up: bool) -> Result<i32, SyncError> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let percent: i64 = s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| SyncError::Other(format!("invalid value for IntOrString: {s:?}")))?;
            let product = percent * i64::from(total);
            let scaled = if round_up {
                product.div_euclid(100) + i64::from(product.rem_euclid(100) != 0)
            } else {
                product.div_euclid(100)
            };
            Ok(scaled.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
        }
    }
}

/// (surge, unavailable) for a rolling deployment; at least one is non-zero.
fn fenceposts(d: &Deployment) -> Result<(i32, i32), SyncError> {
    let rolling = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref()?.rolling_update.as_ref());
    let default = IntOrString::String(DEFAULT_BOUND.into());
    let surge_value = rolling
        .and_then(|r| r.max_surge.as_ref())
        .unwrap_or(&default);
    let unavailable_value = rolling
        .and_then(|r| r.max_unavailable.as_ref())
        .unwrap_or(&default);
    let desired = replicas(d);
    let surge = scaled(surge_value, desired, true)?;
    let unavailable = scaled(unavailable_value, desired, false)?;
    if surge == 0 && unavailable == 0 {
        // Neither may be zero, or the rollout could never move: allow one unavailable.
        return Ok((0, 1));
    }
    Ok((surge, unavailable))
}

pub fn max_surge(d: &Deployment) -> Result<i32, SyncError> {
    if !is_rolling(d) {
        return Ok(0);
    }
    Ok(fenceposts(d)?.0)
}

pub fn max_unavailable(d: &Deployment) -> Result<i32, SyncError> {
    if !is_rolling(d) || replicas(d) == 0 {
        return Ok(0);
    }
    Ok(fenceposts(d)?.1.min(replicas(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(s: &str) -> IntOrString {
        IntOrString::String(s.into())
    }

    #[test]
    fn percentages_round_like_upstream() {
        assert_eq!(scaled(&pct("25%"), 10, true).unwrap(), 3);
        assert_eq!(scaled(&pct("25%"), 10, false).unwrap(), 2);
        assert_eq!(scaled(&pct("25%"), 4, true).unwrap(), 1);
        assert_eq!(scaled(&pct("0%"), 4, true).unwrap(), 0);
        assert_eq!(scaled(&IntOrString::Int(2), 10, false).unwrap(), 2);
        assert!(scaled(&pct("abc"), 10, true).is_err());
        assert!(scaled(&pct("5"), 10, true).is_err());
    }

    #[test]
    fn both_zero_allows_one_unavailable() {
        let d: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "d"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"a": "b"}},
                "template": {},
                "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"}}
            }
        }))
        .unwrap();
        assert_eq!(max_surge(&d).unwrap(), 0);
        assert_eq!(max_unavailable(&d).unwrap(), 1);
    }
}
