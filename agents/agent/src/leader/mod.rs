//! Leader election on a coordination.k8s.io/v1 Lease, client-go's semantics: acquire by
//! writing our identity into an expired (or missing, or released) Lease, renew it every
//! retry period, and give up leadership when no renewal succeeded within the renew
//! deadline — the caller then exits, as upstream's components do ("leaderelection lost"),
//! so a stale leader never keeps acting. Every write carries the read resourceVersion:
//! two candidates racing for the same Lease cannot both win.

mod record;

use std::future::Future;
use std::time::{Duration, Instant};

use clap::Args;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use rand::Rng;

use crate::duration::parse_duration;
pub use record::{attempt, Attempt, Observed};

/// Upstream's leader-election flags (component-base `LeaderElectionConfiguration`).
#[derive(Debug, Clone, Args)]
pub struct LeaderElectionFlags {
    /// Start a leader election client and gain leadership before executing the main loop.
    /// Enable this when running replicated components for high availability.
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub leader_elect: bool,

    /// The duration that non-leader candidates will wait after observing a leadership
    /// renewal until attempting to acquire leadership of a led but unrenewed leader slot.
    #[arg(long, default_value = "15s", value_parser = parse_duration, value_name = "duration")]
    pub leader_elect_lease_duration: Duration,

    /// The interval between attempts by the acting leader to renew a leadership slot
    /// before it stops leading. Must be less than the lease duration.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "duration")]
    pub leader_elect_renew_deadline: Duration,

    /// The duration the clients should wait between attempting acquisition and renewal of
    /// a leadership.
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "duration")]
    pub leader_elect_retry_period: Duration,

    /// The type of resource object that is used for locking during leader election.
    /// Supported option: 'leases'.
    #[arg(long, default_value = "leases", value_name = "string")]
    pub leader_elect_resource_lock: String,

    /// The name of resource object that is used for locking during leader election
    /// (default: the component's own name, kube-controller-manager or kube-scheduler).
    #[arg(long, value_name = "string")]
    pub leader_elect_resource_name: Option<String>,

    /// The namespace of resource object that is used for locking during leader election.
    #[arg(long, default_value = "kube-system", value_name = "string")]
    pub leader_elect_resource_namespace: String,
}

/// client-go's JitterFactor: renewDeadline must exceed retryPeriod times this.
const JITTER_FACTOR: f64 = 1.2;

/// Why leader election could not start, or why this process stopped leading.
#[derive(Debug, thiserror::Error)]
pub enum LeaderElectionError {
    #[error("{0}")]
    Config(String),
    #[error("leaderelection lost: the Lease {0} was not renewed within the renew deadline")]
    Lost(String),
}

/// Where the lock lives and how long it lasts.
#[derive(Debug, Clone)]
pub struct ElectionConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl LeaderElectionFlags {
    /// The validated configuration, with `default_name` as the Lease's name unless
    /// `--leader-elect-resource-name` says otherwise; the identity is upstream's
    /// `hostname_uuid`.
    pub fn config(&self, default_name: &str) -> Result<ElectionConfig, LeaderElectionError> {
        let bad = |m: &str| Err(LeaderElectionError::Config(m.to_string()));
        if self.leader_elect_resource_lock != "leases" {
            return bad("--leader-elect-resource-lock: only \"leases\" is supported");
        }
        let (lease, renew, retry) = (
            self.leader_elect_lease_duration,
            self.leader_elect_renew_deadline,
            self.leader_elect_retry_period,
        );
        if lease.is_zero() || renew.is_zero() || retry.is_zero() {
            return bad("leader election durations must be greater than zero");
        }
        if lease <= renew {
            return bad("leaseDuration must be greater than renewDeadline");
        }
        if renew.as_secs_f64() <= JITTER_FACTOR * retry.as_secs_f64() {
            return bad("renewDeadline must be greater than retryPeriod*JitterFactor");
        }
        let host = hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "localhost".into());
        Ok(ElectionConfig {
            namespace: self.leader_elect_resource_namespace.clone(),
            name: self
                .leader_elect_resource_name
                .clone()
                .unwrap_or_else(|| default_name.to_string()),
            identity: format!("{host}_{}", uuid::Uuid::new_v4()),
            lease_duration: lease,
            renew_deadline: renew,
            retry_period: retry,
        })
    }
}

/// Run `work` — at once with `--leader-elect=false`, else once this process leads the
/// Lease `default_name` (or `--leader-elect-resource-name`). Returns `work`'s output, or
/// `Lost` when a renewal failed past the renew deadline (the caller should exit).
pub async fn run_when_leader<T>(
    client: kube::Client,
    flags: &LeaderElectionFlags,
    default_name: &str,
    work: impl Future<Output = T>,
) -> Result<T, LeaderElectionError> {
    if !flags.leader_elect {
        return Ok(work.await);
    }
    let config = flags.config(default_name)?;
    let mut elector = Elector::new(client, config);
    elector.acquire().await;
    tokio::select! {
        output = work => Ok(output),
        lost = elector.keep_renewing() => Err(lost),
    }
}

/// One candidate for one Lease.
pub struct Elector {
    api: Api<Lease>,
    config: ElectionConfig,
    observed: Observed,
}

impl Elector {
    pub fn new(client: kube::Client, config: ElectionConfig) -> Elector {
        Elector {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: Observed::default(),
        }
    }

    fn lease_key(&self) -> String {
        format!("{}/{}", self.config.namespace, self.config.name)
    }

    /// Try every retry period (jittered, like client-go) until we hold the Lease.
    pub async fn acquire(&mut self) {
        tracing::info!(
            identity = %self.config.identity,
            "attempting to acquire leader lease {}...",
            self.lease_key()
        );
        loop {
            if self.try_acquire_or_renew().await {
                tracing::info!(
                    identity = %self.config.identity,
                    "successfully acquired lease {}",
                    self.lease_key()
                );
                return;
            }
            let jitter = rand::thread_rng().gen_range(0.0..JITTER_FACTOR);
            tokio::time::sleep(self.config.retry_period.mul_f64(1.0 + jitter)).await;
        }
    }

    /// Renew every retry period; returns (with the error to exit on) once no renewal
    /// succeeded for a whole renew deadline.
    pub async fn keep_renewing(&mut self) -> LeaderElectionError {
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            let deadline = Instant::now() + self.config.renew_deadline;
            loop {
                let remaining = deadline.saturating_duration_since(Instant::now());
                let renewed = tokio::time::timeout(remaining, self.try_acquire_or_renew()).await;
                if renewed == Ok(true) {
                    break;
                }
                if Instant::now() + self.config.retry_period >= deadline {
                    tracing::error!(lease = %self.lease_key(), "failed to renew lease: timed out");
                    return LeaderElectionError::Lost(self.lease_key());
                }
                tokio::time::sleep(self.config.retry_period).await;
            }
        }
    }

    /// One read and at most one write; true when we hold the Lease afterwards.
    async fn try_acquire_or_renew(&mut self) -> bool {
        let now = Instant::now();
        let now_micro = MicroTime(Timestamp::now());
        let current = match self.api.get_opt(&self.config.name).await {
            Ok(current) => current,
            Err(e) => {
                tracing::warn!(lease = %self.lease_key(), "error retrieving lease: {e}");
                return false;
            }
        };
        let current_spec = current.as_ref().map(|l| l.spec.clone().unwrap_or_default());
        if let Some(spec) = &current_spec {
            self.observed.see(spec, now);
        }
        let spec = match attempt(
            current_spec.as_ref(),
            &self.observed,
            &self.config.identity,
            self.config.lease_duration,
            now,
            now_micro,
        ) {
            Attempt::Write(spec) => spec,
            Attempt::HeldBy(holder) => {
                tracing::debug!(lease = %self.lease_key(), %holder, "lease is held and has not yet expired");
                return false;
            }
        };
        let written = match current {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.config.name.clone()),
                        namespace: Some(self.config.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(spec.clone()),
                };
                self.api.create(&PostParams::default(), &lease).await
            }
            Some(mut lease) => {
                // The read resourceVersion stays in metadata: a concurrent writer wins,
                // we get a 409 and try again next period.
                lease.spec = Some(spec.clone());
                self.api
                    .replace(&self.config.name, &PostParams::default(), &lease)
                    .await
            }
        };
        match written {
            Ok(_) => {
                self.observed.spec = Some(spec);
                self.observed.at = Some(now);
                true
            }
            Err(e) => {
                tracing::warn!(lease = %self.lease_key(), "failed to write lease: {e}");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: LeaderElectionFlags,
    }

    fn parse(args: &[&str]) -> LeaderElectionFlags {
        let mut argv = vec!["agent"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().flags
    }

    #[test]
    fn upstream_defaults() {
        let flags = parse(&[]);
        assert!(flags.leader_elect);
        let config = flags.config("kube-scheduler").unwrap();
        assert_eq!(config.name, "kube-scheduler");
        assert_eq!(config.namespace, "kube-system");
        assert_eq!(config.lease_duration, Duration::from_secs(15));
        assert_eq!(config.renew_deadline, Duration::from_secs(10));
        assert_eq!(config.retry_period, Duration::from_secs(2));
        let (host, id) = config.identity.rsplit_once('_').unwrap();
        assert!(!host.is_empty());
        assert_eq!(id.len(), 36, "{id}");
    }

    #[test]
    fn flags_override_and_false_disables() {
        let flags = parse(&[
            "--leader-elect=false",
            "--leader-elect-resource-name=mine",
            "--leader-elect-lease-duration=4s",
            "--leader-elect-renew-deadline=3s",
            "--leader-elect-retry-period=500ms",
        ]);
        assert!(!flags.leader_elect);
        let config = flags.config("kube-scheduler").unwrap();
        assert_eq!(config.name, "mine");
        assert_eq!(config.retry_period, Duration::from_millis(500));
    }

    #[test]
    fn inconsistent_durations_are_refused() {
        let err = parse(&["--leader-elect-renew-deadline=20s"])
            .config("x")
            .unwrap_err();
        assert!(
            err.to_string().contains("leaseDuration must be greater"),
            "{err}"
        );
        let err = parse(&["--leader-elect-retry-period=9s"])
            .config("x")
            .unwrap_err();
        assert!(err.to_string().contains("JitterFactor"), "{err}");
        let err = parse(&["--leader-elect-resource-lock=endpoints"])
            .config("x")
            .unwrap_err();
        assert!(err.to_string().contains("leases"), "{err}");
    }
}
