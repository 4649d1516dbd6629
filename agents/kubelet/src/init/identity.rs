//! The container's identity, taken last before exec: its bounding set, user and groups,
//! capability sets and no_new_privs, its environment. The container's PID 1 and every
//! process entered into it later (exec probes, hooks, `/run`) go through these functions,
//! so they hold the same credentials.

use std::os::unix::process::CommandExt;
use std::process::Command;

use super::config::ContainerConfig;

/// Lowers this process to the container's credentials. Must run as root, before exec.
pub fn assume(config: &ContainerConfig) -> Result<(), String> {
    if let Some(caps) = config.capabilities {
        super::caps::limit_bounding_set(caps)?;
    }
    become_user(config.uid, config.gid, &config.groups)?;
    // A non-root user lost its capabilities with setuid (exec gives it only what is
    // ambient, nothing); root keeps the container's set.
    if let (Some(caps), 0) = (config.capabilities, config.uid) {
        super::caps::set(caps)?;
    }
    if config.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))?;
    }
    Ok(())
}

/// The primary group first, then the supplementary ones (the kernel sorts the list).
fn become_user(uid: u32, gid: u32, groups: &[u32]) -> Result<(), String> {
    use nix::unistd::{setgid, setgroups, setuid, Gid, Uid};
    let mut all = vec![Gid::from_raw(gid)];
    all.extend(
        groups
            .iter()
            .filter(|g| **g != gid)
            .map(|g| Gid::from_raw(*g)),
    );
    setgroups(&all).map_err(|e| format!("setgroups: {e}"))?;
    setgid(Gid::from_raw(gid)).map_err(|e| format!("setgid {gid}: {e}"))?;
    setuid(Uid::from_raw(uid)).map_err(|e| format!("setuid {uid}: {e}"))
}

/// The working directory inside the container ("/" when neither pod nor image names one).
pub fn working_dir(config: &ContainerConfig) -> &str {
    if config.working_dir.is_empty() {
        "/"
    } else {
        &config.working_dir
    }
}

/// Replaces this process with `argv` in the container's environment. Returns only on
/// failure, with the exit code a shell would give (127: not found, 126: not runnable).
pub fn exec(config: &ContainerConfig, argv: &[String]) -> Result<i32, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("no command: neither the container nor the image names one".into());
    };
    let mut command = Command::new(program);
    command.args(args).env_clear();
    for pair in &config.env {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        command.env(name, value);
    }
    let error = command.exec();
    eprintln!("rkube container-init: exec {program}: {error}");
    Ok(if error.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    })
}
