//! `rkube conformance` flags.

use std::path::PathBuf;

/// Drive the Kubernetes REST API of a cluster (any cluster: it talks only through the
/// API), compare its answers with stored snapshots, and report coverage of upstream's
/// conformance behaviours. Every test runs in its own generated namespace, deleted
/// afterwards. Tests needing a component the cluster lacks (kubelet, controller-manager,
/// scheduler) are skipped with that component named. Exits 0 only when nothing failed.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(after_help = "Examples:\n  \
    rkube conformance --server http://127.0.0.1:8080\n  \
    rkube conformance --kubeconfig ~/.kube/config --focus '^watch/' --junit junit.xml\n  \
    rkube conformance --server http://127.0.0.1:8080 --record /tmp/snaps   # write a snapshot set\n\n\
    Snapshots are redacted JSON in insta's .snap layout. A set recorded from upstream\n\
    Kubernetes can be diffed against rkube's (conformance/snapshots) with diff -r.")]
pub struct ConformanceFlags {
    /// API server URL, e.g. http://127.0.0.1:8080 (no credentials).
    #[arg(long, value_name = "URL", conflicts_with = "kubeconfig")]
    pub server: Option<String>,

    /// Kubeconfig to reach the cluster (its current context). Without this or --server:
    /// $KUBECONFIG, ~/.kube/config, or the in-cluster service account.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Run only tests whose id (`area/name`) matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub focus: Option<String>,

    /// Leave out tests whose id (`area/name`) matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub skip: Option<String>,

    /// Write a JUnit XML report (one testcase per test) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write a JSON report (every test, its outcome, the coverage count) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// How many tests run at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub parallel: usize,

    /// Record: write every snapshot taken into DIR (created if missing) instead of
    /// comparing; snapshot checks then always pass.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,

    /// Compare with the snapshot set in DIR instead of the one built into this binary.
    #[arg(long, value_name = "DIR", conflicts_with = "record")]
    pub snapshots: Option<PathBuf>,

    /// An image present on every node, with busybox (`sh`, `sleep`, `nc`), for the pods
    /// that must run: they run it instead of upstream's pause and agnhost images, which
    /// the nodes must otherwise be able to pull.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,

    /// List the tests (id, needs, description) that --focus/--skip select, and exit.
    #[arg(long)]
    pub list: bool,
}
