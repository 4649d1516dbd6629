//! `rkube scheduler` flags: kube-scheduler's names.

use clap::Args;
use rkube_agent::{ClientFlags, LeaderElectionFlags};

/// Flags of `rkube scheduler`.
#[derive(Debug, Clone, Args)]
pub struct SchedulerFlags {
    #[command(flatten)]
    pub client: ClientFlags,

    /// Leader election on the Lease kube-system/kube-scheduler.
    #[command(flatten)]
    pub leader_election: LeaderElectionFlags,
}
