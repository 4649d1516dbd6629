//! Driving `rkube images` from tests, and running what it unpacked: the layers mounted
//! with overlayfs (as the kubelet will) in a private mount namespace, busybox chrooted in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::netns::Netns;

pub fn rkube_images(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rkube"))
        .arg("images")
        .args(args)
        .arg("--root-dir")
        .arg(root)
        .output()
        .expect("running rkube images")
}

pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "rkube images failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn list(root: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(rkube_images(root, &["ls", "-o", "json"]))).unwrap()
}

pub fn layer_dirs(root: &Path, reference: &str) -> Vec<PathBuf> {
    let json: serde_json::Value =
        serde_json::from_str(&ok(rkube_images(root, &["inspect", reference]))).unwrap();
    json["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| PathBuf::from(l.as_str().unwrap()))
        .collect()
}

/// Mounts the layers as the kubelet will (overlayfs, lowerdir = top first) in a throwaway
/// mount namespace and runs `script` with busybox sh chrooted into the result.
pub fn run_in_rootfs(layers: &[PathBuf], scratch: &Path, script: &str) -> String {
    let lower: Vec<String> = layers
        .iter()
        .rev()
        .map(|l| l.display().to_string())
        .collect();
    for d in ["upper", "work", "merged"] {
        std::fs::create_dir_all(scratch.join(d)).unwrap();
    }
    let s = scratch.display();
    let mount = format!(
        "mount -t overlay overlay -o lowerdir={},upperdir={s}/upper,workdir={s}/work {s}/merged && \
         exec chroot {s}/merged /bin/sh -c \"$0\"",
        lower.join(":")
    );
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &mount,
            script,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "container script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `rkube images ARGS --root-dir ROOT` run inside `netns` (where the registry is).
pub fn rkube_images_in(netns: &Netns, root: &Path, args: &[&str]) -> Output {
    netns
        .cmd(env!("CARGO_BIN_EXE_rkube"))
        .arg("images")
        .args(args)
        .arg("--root-dir")
        .arg(root)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("running rkube images")
}
