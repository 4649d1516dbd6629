//! The pure half of leader election: given the Lease as read, what this candidate writes
//! (client-go's `tryAcquireOrRenew` decision, without the I/O).
//!
//! Expiry is judged on this process's clock from the moment it last *saw the record
//! change*, not from the record's renewTime: clocks of candidates need not agree.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

/// What this candidate last saw of the Lease, and when (its own monotonic clock).
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub spec: Option<LeaseSpec>,
    pub at: Option<Instant>,
}

impl Observed {
    /// Whether the record we last saw names us.
    pub fn is_holder(&self, identity: &str) -> bool {
        self.spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref())
            .is_some_and(|h| h == identity)
    }

    /// Remember `spec` if it differs from what we saw before (restarting the expiry clock).
    pub fn see(&mut self, spec: &LeaseSpec, now: Instant) {
        if self.spec.as_ref() != Some(spec) {
            self.spec = Some(spec.clone());
            self.at = Some(now);
        }
    }
}

/// The decision for one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// Write this spec (create, or update at the read resourceVersion).
    Write(LeaseSpec),
    /// Someone else holds an unexpired lease.
    HeldBy(String),
}

/// The record for an attempt at `now`, given the Lease's current spec (None: no Lease).
/// `observed` must already have seen `current`.
pub fn attempt(
    current: Option<&LeaseSpec>,
    observed: &Observed,
    identity: &str,
    lease_duration: Duration,
    now: Instant,
    now_micro: MicroTime,
) -> Attempt {
    let mut record = LeaseSpec {
        holder_identity: Some(identity.to_string()),
        lease_duration_seconds: Some(i32::try_from(lease_duration.as_secs()).unwrap_or(i32::MAX)),
        acquire_time: Some(now_micro.clone()),
        renew_time: Some(now_micro),
        lease_transitions: Some(0),
        ..LeaseSpec::default()
    };
    let Some(current) = current else {
        return Attempt::Write(record);
    };
    let holder = current.holder_identity.as_deref().unwrap_or("");
    let we_hold = observed.is_holder(identity);
    let unexpired = observed.at.is_some_and(|at| at + lease_duration > now);
    if !holder.is_empty() && !we_hold && unexpired {
        return Attempt::HeldBy(holder.to_string());
    }
    let transitions = current.lease_transitions.unwrap_or(0);
    if we_hold {
        record.acquire_time = current.acquire_time.clone();
        record.lease_transitions = Some(transitions);
    } else {
        record.lease_transitions = Some(transitions.saturating_add(1));
    }
    Attempt::Write(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    const LEASE: Duration = Duration::from_secs(15);

    fn micro(secs: i64) -> MicroTime {
        MicroTime(Timestamp::from_second(1_700_000_000 + secs).unwrap())
    }

    fn held_by(who: &str, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(who.into()),
            lease_duration_seconds: Some(15),
            acquire_time: Some(micro(0)),
            renew_time: Some(micro(1)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    fn write(a: Attempt) -> LeaseSpec {
        match a {
            Attempt::Write(spec) => spec,
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn no_lease_means_create_with_zero_transitions() {
        let t0 = Instant::now();
        let spec = write(attempt(
            None,
            &Observed::default(),
            "me",
            LEASE,
            t0,
            micro(5),
        ));
        assert_eq!(spec.holder_identity.as_deref(), Some("me"));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.lease_transitions, Some(0));
        assert_eq!(spec.acquire_time, Some(micro(5)));
        assert_eq!(spec.renew_time, Some(micro(5)));
    }

    #[test]
    fn another_holders_fresh_lease_is_respected_until_it_expires() {
        let t0 = Instant::now();
        let current = held_by("other", 3);
        let mut observed = Observed::default();
        observed.see(&current, t0);
        let later = t0 + Duration::from_secs(14);
        assert_eq!(
            attempt(Some(&current), &observed, "me", LEASE, later, micro(14)),
            Attempt::HeldBy("other".into())
        );
        // Seeing the same record again does not restart the clock.
        observed.see(&current, later);
        let expired = t0 + Duration::from_secs(16);
        let spec = write(attempt(
            Some(&current),
            &observed,
            "me",
            LEASE,
            expired,
            micro(16),
        ));
        assert_eq!(spec.holder_identity.as_deref(), Some("me"));
        assert_eq!(
            spec.lease_transitions,
            Some(4),
            "a takeover is a transition"
        );
        assert_eq!(spec.acquire_time, Some(micro(16)));
    }

    #[test]
    fn a_renewed_record_restarts_the_expiry_clock() {
        let t0 = Instant::now();
        let mut observed = Observed::default();
        observed.see(&held_by("other", 0), t0);
        let mut renewed = held_by("other", 0);
        renewed.renew_time = Some(micro(10));
        let t10 = t0 + Duration::from_secs(10);
        observed.see(&renewed, t10);
        let t20 = t0 + Duration::from_secs(20);
        assert_eq!(
            attempt(Some(&renewed), &observed, "me", LEASE, t20, micro(20)),
            Attempt::HeldBy("other".into())
        );
    }

    #[test]
    fn the_holder_renews_keeping_acquire_time_and_transitions() {
        let t0 = Instant::now();
        let current = held_by("me", 2);
        let mut observed = Observed::default();
        observed.see(&current, t0);
        let spec = write(attempt(
            Some(&current),
            &observed,
            "me",
            LEASE,
            t0,
            micro(9),
        ));
        assert_eq!(spec.acquire_time, Some(micro(0)));
        assert_eq!(spec.renew_time, Some(micro(9)));
        assert_eq!(spec.lease_transitions, Some(2));
    }

    #[test]
    fn a_released_lease_is_taken_at_once() {
        let t0 = Instant::now();
        let mut released = held_by("other", 1);
        released.holder_identity = None;
        let mut observed = Observed::default();
        observed.see(&released, t0);
        let spec = write(attempt(
            Some(&released),
            &observed,
            "me",
            LEASE,
            t0,
            micro(1),
        ));
        assert_eq!(spec.holder_identity.as_deref(), Some("me"));
        assert_eq!(spec.lease_transitions, Some(2));
    }
}
