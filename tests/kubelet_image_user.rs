//! Who a container runs as, checked from inside it: an image's USER given by name is
//! resolved in the image's /etc/passwd and /etc/group (with the user's supplementary
//! groups) as containerd resolves it; runAsNonRoot refuses such an image without a
//! runAsUser; HOME is the user's home directory there; supplementalGroups and fsGroup
//! are in the process's groups, and fsGroup owns the pod's volumes (setgid directories,
//! group access).

mod common;

use std::path::Path;
use std::process::Command;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};
use common::oci_image::{build_layout_with_config, busybox_rootfs, Compression, LayerSpec};
use serde_json::{json, Value};

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1500:1600::/home/app:/bin/sh\n";
const GROUP: &str = "root:x:0:\napp:x:1600:\nstaff:x:50:app,other\naudio:x:63:other\n";

/// Builds busybox plus a layer with /etc/passwd and /etc/group, its config's User
/// `user`, and imports it into the kubelet's store as `reference`.
fn import_image_with_user(cluster: &NodeCluster, work: &Path, reference: &str, user: &str) {
    let base = work.join("base");
    if !base.exists() {
        busybox_rootfs(&base);
        let etc = work.join("accounts/etc");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("passwd"), PASSWD).unwrap();
        std::fs::write(etc.join("group"), GROUP).unwrap();
    }
    let layout = work.join(reference.replace(':', "-"));
    let image = build_layout_with_config(
        &layout,
        reference,
        &[
            LayerSpec {
                dir: base,
                compression: Compression::Gzip,
            },
            LayerSpec {
                dir: work.join("accounts"),
                compression: Compression::None,
            },
        ],
        json!({"architecture": "amd64", "os": "linux",
               "config": {"Cmd": ["id"], "Env": ["PATH=/bin"], "User": user}}),
    );
    let archive = image.oci_archive(&work.join(format!("{}.tar", reference.replace(':', "-"))));
    let out = Command::new(env!("CARGO_BIN_EXE_rkube"))
        .args(["images", "import"])
        .arg(&archive)
        .arg("--root-dir")
        .arg(cluster.kubelet.root_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(
    cluster: &NodeCluster,
    name: &str,
    image: &str,
    script: &str,
    pod_security: Value,
) -> Vec<String> {
    cluster.create_pod(
        name,
        json!({"terminationGracePeriodSeconds": 0, "securityContext": pod_security,
               "containers": [{"name": "main", "image": image,
                               "command": ["sh", "-c", format!("{script}; echo --; sleep 3600")]}]}),
    );
    let pod = cluster.wait_phase(name, "Running", 60);
    cluster.printed(&pod)
}

#[test]
fn an_image_user_name_is_resolved_in_the_images_accounts() {
    let cluster = NodeCluster::start();
    let work = tempfile::tempdir().unwrap();
    import_image_with_user(&cluster, work.path(), "named:kubelet", "app");
    import_image_with_user(&cluster, work.path(), "uid-group:kubelet", "1500:audio");
    import_image_with_user(&cluster, work.path(), "ghost:kubelet", "ghost");
    // The user's own group from /etc/passwd, and staff, which lists it as a member.
    assert_eq!(
        run(
            &cluster,
            "named",
            "named:kubelet",
            "id; echo HOME=$HOME",
            json!({})
        ),
        [
            "uid=1500(app) gid=1600(app) groups=50(staff),1600(app)",
            "HOME=/home/app"
        ]
    );
    assert_eq!(
        run(&cluster, "uid-group", "uid-group:kubelet", "id", json!({})),
        ["uid=1500(app) gid=63(audio) groups=50(staff),63(audio)"]
    );
    // runAsUser wins over the image's user; its gid still comes from the image's passwd.
    assert_eq!(
        run(
            &cluster,
            "overridden",
            "named:kubelet",
            "id",
            json!({"runAsUser": 1500, "supplementalGroups": [4000]})
        ),
        ["uid=1500(app) gid=1600(app) groups=50(staff),1600(app),4000"]
    );
    // supplementalGroupsPolicy Strict: the image's memberships are left out.
    assert_eq!(
        run(
            &cluster,
            "strict",
            "named:kubelet",
            "id",
            json!({"supplementalGroupsPolicy": "Strict", "supplementalGroups": [4000]})
        ),
        ["uid=1500(app) gid=1600(app) groups=1600(app),4000"]
    );
    // A name the image does not have cannot start.
    cluster.create_pod(
        "ghost",
        json!({"terminationGracePeriodSeconds": 0, "containers": [{"name": "main", "image": "ghost:kubelet"}]}),
    );
    let waiting = eventually(30, "ghost waiting", || {
        let w = cluster.pod("ghost")?["status"]["containerStatuses"][0]["state"]["waiting"].clone();
        (w["reason"] == "CreateContainerError").then_some(w)
    });
    assert!(
        waiting["message"]
            .as_str()
            .unwrap()
            .contains("unable to find user ghost"),
        "{waiting}"
    );
}

#[test]
fn run_as_non_root_refuses_a_named_image_user_without_run_as_user() {
    let cluster = NodeCluster::start();
    let work = tempfile::tempdir().unwrap();
    import_image_with_user(&cluster, work.path(), "named:kubelet", "app");
    let pod = cluster.create_pod(
        "unverifiable",
        json!({"securityContext": {"runAsNonRoot": true}, "terminationGracePeriodSeconds": 0,
               "containers": [{"name": "main", "image": "named:kubelet", "command": ["sleep", "3600"]}]}),
    );
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    let waiting = eventually(30, "unverifiable waiting", || {
        let w = cluster.pod("unverifiable")?["status"]["containerStatuses"][0]["state"]["waiting"]
            .clone();
        (w["reason"] == "CreateContainerConfigError").then_some(w)
    });
    assert_eq!(
        waiting["message"],
        format!("container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: \"unverifiable_default({uid})\", container: main)")
    );
    // With a runAsUser the same image runs.
    assert_eq!(
        run(
            &cluster,
            "verified",
            "named:kubelet",
            "id -u",
            json!({"runAsNonRoot": true, "runAsUser": 1500})
        ),
        ["1500"]
    );
}

#[test]
fn supplemental_groups_and_fs_group_are_the_processes_groups_and_own_the_volumes() {
    let cluster = NodeCluster::start();
    let script = "id -u; id -g; id -G; stat -c '%g %A' /data; touch /data/new && stat -c 'new %g' /data/new; \
                  stat -L -c '%g %a' /info/name; stat -c '%g %A' /info/..data/";
    cluster.create_pod(
        "grouped",
        json!({"terminationGracePeriodSeconds": 0,
               "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "supplementalGroups": [4000], "fsGroup": 2000},
               "volumes": [{"name": "data", "emptyDir": {}},
                           {"name": "info", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}],
               "containers": [{"name": "main", "image": BUSYBOX,
                   "command": ["sh", "-c", format!("{script}; echo --; sleep 3600")],
                   "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "info", "mountPath": "/info"}]}]}),
    );
    let pod = cluster.wait_phase("grouped", "Running", 60);
    assert_eq!(
        cluster.printed(&pod),
        [
            "1000",
            "3000",
            "3000 2000 4000",
            "2000 drwxrwsrwx",
            "new 2000",
            "2000 644",
            "2000 drwxr-sr-x",
        ]
    );
    // Without fsGroup, neither groups nor ownership change.
    cluster.create_pod(
        "plain",
        json!({"terminationGracePeriodSeconds": 0, "securityContext": {"runAsUser": 1000},
               "volumes": [{"name": "data", "emptyDir": {}}],
               "containers": [{"name": "main", "image": BUSYBOX,
                   "command": ["sh", "-c", "id -G; stat -c '%g %A' /data; echo HOME=$HOME; echo --; sleep 3600"],
                   "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}),
    );
    let pod = cluster.wait_phase("plain", "Running", 60);
    // (busybox has no /etc/passwd: HOME is /, as runc sets it)
    assert_eq!(cluster.printed(&pod), ["0", "0 drwxrwxrwx", "HOME=/"]);
}
