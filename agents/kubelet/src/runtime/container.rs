//! Starting a container: its image's layers under an overlayfs rootfs, its cgroup, its
//! shim; and noticing at once when it exits (the shim is our child: tokio reaps it on
//! SIGCHLD, no polling).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use super::sandbox::Sandbox;
use super::spec::{self, ImageRun};
use super::{Runtime, RuntimeError};
use crate::init::{ContainerConfig, ExitRecord};

/// A started container.
#[derive(Debug, Clone)]
pub struct RunningContainer {
    pub id: String,
    /// Its PID 1, as the node sees it.
    pub pid: u32,
    pub started_at: String,
    pub image_id: String,
    /// Its config (`config.json` in its state directory), which processes entered into
    /// it later take their identity from.
    pub config: std::path::PathBuf,
}

/// A container's end, as its worker hears of it.
#[derive(Debug, Clone)]
pub struct ContainerExit {
    pub name: String,
    pub id: String,
    pub record: ExitRecord,
    pub oom_killed: bool,
}

/// What the kubelet resolved for a container before starting it: its environment, its
/// `$(VAR)`-expanded command and args, and its volume mounts.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// The run number (the log file's name).
    pub run: u32,
    pub env: Vec<(String, String)>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub binds: Vec<crate::init::Bind>,
}

/// Why a container could not be started: the reason its status shows while it waits.
#[derive(Debug)]
pub struct StartError {
    pub reason: &'static str,
    pub message: String,
}

impl From<RuntimeError> for StartError {
    fn from(e: RuntimeError) -> StartError {
        StartError {
            reason: "CreateContainerError",
            message: e.to_string(),
        }
    }
}

/// `docker.io/library/busybox@sha256:…` for an image's first reference and digest.
fn image_id(image: &rkube_images::Image) -> String {
    let repo = image
        .references
        .first()
        .map(|r| match r.rfind(':') {
            Some(i) if !r[i..].contains('/') => r[..i].to_string(),
            _ => r.clone(),
        })
        .unwrap_or_default();
    if repo.is_empty() {
        image.digest.clone()
    } else {
        format!("{repo}@{}", image.digest)
    }
}

/// The container's image on the node, pulled as its imagePullPolicy says, with upstream's
/// events: `Pulled` (already present), or `Pulling` then `Pulled` / `Failed`.
async fn ensure_image(
    rt: &Runtime,
    pod: &Pod,
    c: &Container,
    auth: &rkube_images::RegistryAuth,
) -> Result<rkube_images::Image, StartError> {
    use rkube_images::PullPolicy;
    let reference = c.image.as_deref().unwrap_or("");
    let policy = PullPolicy::from_spec(c.image_pull_policy.as_deref(), reference);
    let events = rt.events.about(pod, Some(&c.name));
    let failed = |e: rkube_images::ImageError| StartError {
        reason: e.waiting_reason(),
        message: e.to_string(),
    };
    if policy != PullPolicy::Always {
        if let Some(image) = rt.images.lookup(reference).map_err(failed)? {
            events.normal(
                "Pulled",
                format!("Container image {reference:?} already present on machine"),
            );
            return Ok(image);
        }
        if policy == PullPolicy::Never {
            let message =
                format!("Container image {reference:?} is not present with pull policy of Never");
            events.warn("ErrImageNeverPull", message.clone());
            return Err(StartError {
                reason: "ErrImageNeverPull",
                message,
            });
        }
    }
    events.normal("Pulling", format!("Pulling image {reference:?}"));
    let began = std::time::Instant::now();
    match rt
        .images
        .pull(reference, auth, &rt.insecure_registries)
        .await
    {
        Ok(image) => {
            tracing::info!(image = reference, "pulled");
            // The store serializes pulls of one image: the time includes that wait.
            let took = crate::time::go_duration(began.elapsed());
            events.normal(
                "Pulled",
                format!(
                    "Successfully pulled image {reference:?} in {took} ({took} including waiting). Image size: {} bytes.",
                    image.size
                ),
            );
            Ok(image)
        }
        Err(e) => {
            events.warn("Failed", format!("Failed to pull image {reference:?}: {e}"));
            Err(failed(e))
        }
    }
}

/// Records that a container uses `image`, for image garbage collection (least recently
/// used first). The index is a synced file under a lock: written off the async threads,
/// and at most once a minute per image, so that a burst of pod starts does not queue on it.
fn mark_used(rt: &Arc<Runtime>, image: &rkube_images::Image) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if now_ms.saturating_sub(image.last_used_ms) < 60_000 {
        return;
    }
    let (rt, image) = (rt.clone(), image.clone());
    tokio::task::spawn_blocking(move || {
        if let Err(e) = rt.images.mark_used(&image) {
            tracing::warn!(image = image.digest, "recording the image's use: {e}");
        }
    });
}

pub async fn start(
    rt: &Arc<Runtime>,
    pod: &Pod,
    c: &Container,
    sandbox: &Sandbox,
    auth: &rkube_images::RegistryAuth,
    exits: mpsc::Sender<ContainerExit>,
    prepared: &Prepared,
) -> Result<RunningContainer, StartError> {
    let restart = prepared.run;
    let image = ensure_image(rt, pod, c, auth).await?;
    mark_used(rt, &image);
    let layers = rt.images.layer_dirs(&image).map_err(RuntimeError::from)?;
    let run = ImageRun {
        entrypoint: image.config.entrypoint.clone(),
        cmd: image.config.cmd.clone(),
        env: image.config.env.clone(),
        working_dir: image.config.working_dir.clone(),
        user: image.config.user.clone(),
    };
    spec::verify_run_as_non_root(pod, c, &run).map_err(|message| StartError {
        reason: "CreateContainerConfigError",
        message,
    })?;
    let capabilities = spec::capabilities(c).map_err(|message| StartError {
        reason: "CreateContainerError",
        message,
    })?;
    let meta = &pod.metadata;
    let (namespace, name, uid) = (
        meta.namespace.as_deref().unwrap_or("default"),
        meta.name.as_deref().unwrap_or(""),
        meta.uid.as_deref().unwrap_or(""),
    );
    let id = uuid_hex();
    let dir = state_dir(&sandbox.dir, &c.name, restart);
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["upper", "work", "rootfs"] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| RuntimeError::io(d.display(), e))?;
    }
    let log_dir = rt.pod_logs_dir(namespace, name, uid).join(&c.name);
    std::fs::create_dir_all(&log_dir).map_err(|e| RuntimeError::io(log_dir.display(), e))?;
    let log_path = log_dir.join(format!("{restart}.log"));
    let _ = std::fs::remove_file(&log_path);
    let cgroup = format!("{}/{id}", sandbox.cgroup);
    rt.cgroups
        .create(&cgroup, &spec::container_limits(c, sandbox.qos))
        .map_err(RuntimeError::from)?;

    let accounts = super::image_user::ImageAccounts::read(&layers);
    let identity =
        super::image_user::identity(pod, c, &run.user, &accounts).map_err(|message| {
            StartError {
                reason: "CreateContainerError",
                message,
            }
        })?;
    let config = ContainerConfig {
        namespaces: sandbox.namespaces(),
        layers,
        upper_dir: dir.join("upper"),
        work_dir: dir.join("work"),
        rootfs: dir.join("rootfs"),
        binds: sandbox
            .binds()
            .into_iter()
            .chain(prepared.binds.iter().cloned())
            .collect(),
        cgroup_procs: rt.cgroups.procs_files(&cgroup),
        // A privileged container may write its own cgroups, as containerd's may.
        cgroup_views: rt
            .cgroups
            .views(&cgroup)
            .into_iter()
            .map(|view| crate::init::Bind {
                readonly: !spec::privileged(c),
                ..view
            })
            .collect(),
        hostname: None,
        args: spec::command_line(&prepared.command, &prepared.args, &run),
        env: spec::with_home(
            spec::environment(&prepared.env, &run, &sandbox.hostname),
            &identity.home,
        ),
        working_dir: c.working_dir.clone().unwrap_or(run.working_dir.clone()),
        uid: identity.uid,
        gid: identity.gid,
        groups: identity.groups,
        readonly_rootfs: spec::readonly_rootfs(c),
        no_new_privs: spec::no_new_privs(c),
        privileged: spec::privileged(c),
        capabilities: Some(capabilities),
        log_path: log_path.clone(),
        exit_path: dir.join("exit.json"),
    };
    let config_path = dir.join(CONFIG_FILE);
    config
        .write(&config_path)
        .map_err(|e| RuntimeError::io(config_path.display(), e))?;

    // Like the pause process, the shim outlives a kubelet restart: its stderr goes to a
    // file of its own, never to the kubelet's.
    let shim_log = dir.join("shim.log");
    let shim_stderr =
        std::fs::File::create(&shim_log).map_err(|e| RuntimeError::io(shim_log.display(), e))?;
    let mut shim = tokio::process::Command::new(&rt.exe)
        .args(["container-init", "run"])
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(shim_stderr)
        .process_group(0)
        .spawn()
        .map_err(|e| RuntimeError::io("starting the container's shim", e))?;
    let started_at = crate::time::now_rfc3339();
    rt.set_live(&log_path, true);
    let mut line = String::new();
    if let Some(stdout) = shim.stdout.take() {
        let _ = tokio::io::BufReader::new(stdout).read_line(&mut line).await;
    }
    let pid: u32 = line.trim().parse().unwrap_or(0);
    let running = RunningContainer {
        id: id.clone(),
        pid,
        started_at,
        image_id: image_id(&image),
        config: config_path.clone(),
    };
    let record = ContainerRecord {
        id: id.clone(),
        name: c.name.clone(),
        pid,
        started_at: running.started_at.clone(),
        image_id: running.image_id.clone(),
        run: restart,
        log_path: log_path.clone(),
        pod_ooms: rt.cgroups.oom_kills(&sandbox.cgroup),
    };
    if let Err(e) = record.write(&dir) {
        tracing::warn!(
            container = c.name,
            "recording the container for a kubelet restart: {e}"
        );
    }
    let rkube = rt.exe.clone();
    let (rt, pod_cgroup) = (rt.clone(), sandbox.cgroup.clone());
    tokio::spawn(async move {
        let status = shim.wait().await;
        let code = status.ok().and_then(|s| s.code());
        finish(&rt, &pod_cgroup, &dir, record, code, exits).await;
    });
    if pid == 0 {
        return Err(StartError {
            reason: "RunContainerError",
            message: "the container's shim did not start it".into(),
        });
    }
    wait_for_exec(&rkube, pid).await;
    Ok(running)
}

/// Waits until the container's PID 1 has exec'd its command (it no longer runs the
/// `rkube` binary): before that it may not have pivoted into its rootfs yet, and a
/// postStart hook or exec probe entering its namespaces would land on the node's
/// filesystem. Gives up after a few seconds or when the process is gone.
async fn wait_for_exec(rkube: &std::path::Path, pid: u32) {
    use std::os::unix::fs::MetadataExt;
    let Ok(ours) = std::fs::metadata(rkube) else {
        return;
    };
    let exe = format!("/proc/{pid}/exe");
    for _ in 0..1000 {
        match std::fs::metadata(&exe) {
            Ok(m) if m.dev() == ours.dev() && m.ino() == ours.ino() => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            _ => return,
        }
    }
}

/// `<pod dir>/containers/<name>-<run>`: a container run's config, rootfs and records.
pub fn state_dir(pod_dir: &std::path::Path, name: &str, run: u32) -> std::path::PathBuf {
    pod_dir.join("containers").join(format!("{name}-{run}"))
}

/// What the kubelet knows of a started container, kept beside its config so that a
/// restarted kubelet can adopt it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub pid: u32,
    pub started_at: String,
    pub image_id: String,
    /// The run number (the log file's name).
    pub run: u32,
    pub log_path: std::path::PathBuf,
    /// The pod cgroup's OOM kill count when it started.
    pub pod_ooms: u64,
}

const RECORD_FILE: &str = "state.json";
/// The helper processes' [`ContainerConfig`], in the container's state directory.
pub const CONFIG_FILE: &str = "config.json";

/// `rkube container-init exec`: `argv` run inside the running container whose PID 1 is
/// `pid`, with the identity its `config` gives it (user, groups, capabilities,
/// no_new_privs, environment, working directory) and in its cgroups.
pub fn exec_command(
    rkube: &std::path::Path,
    config: &std::path::Path,
    pid: u32,
    argv: &[String],
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(rkube);
    command
        .args(["container-init", "exec", "--config"])
        .arg(config)
        .arg("--pid")
        .arg(pid.to_string())
        .arg("--")
        .args(argv)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

impl ContainerRecord {
    fn write(&self, dir: &std::path::Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(RECORD_FILE), bytes)
    }

    pub fn read(dir: &std::path::Path) -> Option<ContainerRecord> {
        serde_json::from_slice(&std::fs::read(dir.join(RECORD_FILE)).ok()?).ok()
    }

    /// The container as it runs, its state directory being `dir`.
    pub fn running(&self, dir: &std::path::Path) -> RunningContainer {
        RunningContainer {
            id: self.id.clone(),
            pid: self.pid,
            started_at: self.started_at.clone(),
            image_id: self.image_id.clone(),
            config: dir.join(CONFIG_FILE),
        }
    }
}

/// After a container's end (its shim gone, or its exit record written): reads how it
/// ended, removes its directory and cgroup, and tells its worker.
pub async fn finish(
    rt: &Runtime,
    pod_cgroup: &str,
    dir: &std::path::Path,
    record: ContainerRecord,
    shim_code: Option<i32>,
    exits: mpsc::Sender<ContainerExit>,
) {
    let cgroup = format!("{pod_cgroup}/{}", record.id);
    let exit = ExitRecord::read(&dir.join("exit.json")).unwrap_or_else(|| ExitRecord {
        exit_code: shim_code.unwrap_or(128).max(128),
        signal: None,
        started_at: String::new(),
        finished_at: crate::time::now_rfc3339(),
    });
    rt.set_live(&record.log_path, false);
    // The kernel counts the kill where the limit was hit: the container's cgroup or,
    // with equal limits, possibly the pod's.
    let oom_killed = exit.signal == Some(9)
        && (rt.cgroups.oom_kills(&cgroup) > 0
            || rt.cgroups.oom_kills(pod_cgroup) > record.pod_ooms);
    // The rootfs was mounted only in the container's own mount namespace, gone now.
    let _ = std::fs::remove_dir_all(dir);
    let name = record.name.clone();
    let _ = exits
        .send(ContainerExit {
            name: record.name,
            id: record.id,
            record: exit,
            oom_killed,
        })
        .await;
    // The container's PID namespace went with its PID 1; its cgroup is released once the
    // kernel has reaped the rest (the exit is reported first: that can take a while).
    if let Err(e) = rt
        .cgroups
        .remove_released(&cgroup, super::CGROUP_RELEASE)
        .await
    {
        tracing::warn!(container = name, "removing its cgroup: {e}");
    }
}

/// Sends `signal` to a container's PID 1 (its PID namespace dies with it).
pub fn signal(pid: u32, signal: nix::sys::signal::Signal) {
    if pid > 1 {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal);
    }
}

fn uuid_hex() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
