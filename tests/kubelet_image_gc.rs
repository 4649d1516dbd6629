//! Image garbage collection by a real kubelet whose root dir is a small tmpfs (mounted only
//! in the kubelet's own mount namespace): above the high threshold the unused images go,
//! least recently used first, down to the low threshold; the image of a running pod
//! stays; when not enough can be freed the Node gets FreeDiskSpaceFailed and then
//! ImageGCFailed events.

mod common;

use std::path::Path;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};
use common::oci_image::{build_layout, Compression, LayerSpec};
use serde_json::{json, Value};

/// An image of one layer holding `mib` MiB of random bytes (incompressible), as an OCI
/// archive.
fn filler_image(dir: &Path, name: &str, mib: usize) -> std::path::PathBuf {
    let staging = dir.join(format!("{name}-rootfs"));
    std::fs::create_dir_all(&staging).unwrap();
    let status = std::process::Command::new("dd")
        .args(["if=/dev/urandom", "bs=1M", "status=none"])
        .arg(format!("count={mib}"))
        .arg(format!("of={}", staging.join("filler").display()))
        .status()
        .unwrap();
    assert!(status.success());
    let layer = LayerSpec {
        dir: staging,
        compression: Compression::Gzip,
    };
    let image = build_layout(
        &dir.join(format!("{name}-layout")),
        &format!("{name}:1"),
        &[layer],
        &["/filler"],
    );
    image.oci_archive(&dir.join(format!("{name}.tar")))
}

fn run_in_kubelet_ns(cluster: &NodeCluster, script: &str) -> String {
    let out = cluster.kubelet.in_mount_ns(script);
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The references of the images in the kubelet's store.
fn stored_images(cluster: &NodeCluster) -> Vec<String> {
    let root = cluster.kubelet.root_dir();
    let listing = run_in_kubelet_ns(
        cluster,
        &format!(
            "{} images ls -o json --root-dir {}",
            env!("CARGO_BIN_EXE_rkube"),
            root.display()
        ),
    );
    let images: Value = serde_json::from_str(&listing).unwrap();
    let mut names: Vec<String> = images
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["references"].as_array().cloned().unwrap_or_default())
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Percent of the root dir's filesystem in use, as df counts it.
fn usage_percent(cluster: &NodeCluster) -> u64 {
    let root = cluster.kubelet.root_dir();
    let df = run_in_kubelet_ns(cluster, &format!("df --output=pcent {}", root.display()));
    df.lines()
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches('%')
        .parse()
        .unwrap()
}

/// The events about the node with this reason.
fn node_events(cluster: &NodeCluster, reason: &str) -> Vec<Value> {
    cluster.events(|e| e["involvedObject"]["kind"] == "Node" && e["reason"] == reason)
}

#[test]
fn unused_images_are_collected_under_disk_pressure_and_used_ones_stay() {
    let cluster = NodeCluster::start_on_tmpfs(
        &[
            "--image-gc-high-threshold=50",
            "--image-gc-low-threshold=40",
            "--minimum-image-ttl-duration=1s",
            "--image-gc-period=1s",
        ],
        "64m",
    );
    cluster.create_pod(
        "keeper",
        json!({"containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}),
    );
    cluster.wait_phase("keeper", "Running", 60);
    let busybox = "docker.io/library/busybox:kubelet".to_string();
    assert_eq!(stored_images(&cluster), std::slice::from_ref(&busybox));

    // Two unused images of 8 MiB (16 MiB each on disk: the blob and its unpacked layer),
    // the older first: usage passes 50 % and collection frees down to 40 %, which the
    // older one alone achieves.
    let work = tempfile::tempdir().unwrap();
    let root = cluster.kubelet.root_dir();
    let rkube = env!("CARGO_BIN_EXE_rkube");
    for name in ["older", "newer"] {
        let archive = filler_image(work.path(), name, 8);
        run_in_kubelet_ns(
            &cluster,
            &format!(
                "{rkube} images import {} --root-dir {}",
                archive.display(),
                root.display()
            ),
        );
        // Older than the minimum age by the time the newer one lands.
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    let (older, newer) = (
        "docker.io/library/older:1".to_string(),
        "docker.io/library/newer:1".to_string(),
    );
    eventually(60, "the older unused image collected", || {
        let images = stored_images(&cluster);
        (!images.contains(&older)).then_some(images)
    });
    assert_eq!(stored_images(&cluster), [busybox.clone(), newer.clone()]);
    let usage = usage_percent(&cluster);
    assert!(usage <= 40, "{usage}% used after collection");
    assert!(node_events(&cluster, "FreeDiskSpaceFailed").is_empty());

    // Fill the disk with what no image holds: collecting the newer image is not enough
    // (usage stays above 50 %, so the next round fails too), and the running pod's image
    // is never a candidate.
    run_in_kubelet_ns(
        &cluster,
        &format!(
            "dd if=/dev/zero of={}/junk bs=1M count=34 status=none",
            root.display()
        ),
    );
    let failed = eventually(60, "a FreeDiskSpaceFailed event", || {
        node_events(&cluster, "FreeDiskSpaceFailed")
            .first()
            .cloned()
    });
    let message = failed["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("Failed to garbage collect required amount of images. Attempted to free ")
            && message.ends_with(" bytes eligible to free."),
        "{message}"
    );
    assert_eq!(failed["type"], "Warning");
    assert_eq!(failed["involvedObject"]["name"], "node0");
    assert_eq!(failed["source"]["component"], "kubelet");
    let repeated = eventually(60, "an ImageGCFailed event", || {
        node_events(&cluster, "ImageGCFailed").first().cloned()
    });
    assert!(
        repeated["message"]
            .as_str()
            .unwrap()
            .starts_with("Failed to garbage collect required amount of images."),
        "{repeated}"
    );
    assert_eq!(stored_images(&cluster), [busybox]);
    assert_eq!(cluster.pod("keeper").unwrap()["status"]["phase"], "Running");
    let status = &cluster.pod("keeper").unwrap()["status"]["containerStatuses"][0];
    assert_eq!(status["restartCount"], 0, "{status}");
}
