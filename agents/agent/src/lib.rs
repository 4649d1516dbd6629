//! What every agent process (controller-manager, scheduler, and later the node agents)
//! shares: the API client built from `--kubeconfig` / `--master`, Go-style duration
//! flags, and leader election on a coordination.k8s.io/v1 Lease.

pub mod client;
pub mod duration;
pub mod leader;

pub use client::{ClientError, ClientFlags};
pub use leader::{LeaderElectionError, LeaderElectionFlags};
