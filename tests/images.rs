//! `rkube images`: archives built from busybox-static are imported by the real binary, and
//! the unpacked layers are checked on disk and by mounting them with overlayfs and running
//! the image's busybox inside (in a private mount namespace, removed with it).

mod common;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::image_store::{layer_dirs, list, ok, rkube_images, run_in_rootfs};
use common::oci_image::{self, Compression, LayerSpec, TestImage};

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Three layers (gzip, zstd, plain): the second deletes a file (whiteout) and replaces a
/// directory's content (opaque marker).
fn whiteout_image(dir: &Path) -> TestImage {
    let base = dir.join("base");
    oci_image::busybox_rootfs(&base);
    write(&base.join("etc/hello"), "from layer one\n");
    write(&base.join("dir/a"), "a\n");
    write(&base.join("dir/b"), "b\n");
    write(&base.join("etc/owned"), "owned\n");
    std::os::unix::fs::chown(base.join("etc/owned"), Some(1234), Some(5678)).unwrap();
    std::fs::set_permissions(
        base.join("etc/owned"),
        std::fs::Permissions::from_mode(0o4750),
    )
    .unwrap();
    std::fs::hard_link(base.join("bin/busybox"), base.join("bin/bb")).unwrap();

    let delete = dir.join("delete");
    write(&delete.join("etc/.wh.hello"), "");
    write(&delete.join("dir/.wh..wh..opq"), "");
    write(&delete.join("dir/c"), "c\n");

    let add = dir.join("add");
    write(&add.join("etc/added"), "from layer three\n");

    oci_image::build_layout(
        &dir.join("layout"),
        "busybox:whiteouts",
        &[
            LayerSpec {
                dir: base,
                compression: Compression::Gzip,
            },
            LayerSpec {
                dir: delete,
                compression: Compression::Zstd,
            },
            LayerSpec {
                dir: add,
                compression: Compression::None,
            },
        ],
        &["/bin/sh", "-c", "cat /etc/added"],
    )
}

fn xattr(path: &Path, name: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())",
        ])
        .arg(path)
        .arg(name)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn oci_archive_import_unpacks_layers_for_overlayfs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kubelet");
    let image = whiteout_image(tmp.path());
    let archive = image.oci_archive(&tmp.path().join("image.tar"));

    let out = ok(rkube_images(&root, &["import", archive.to_str().unwrap()]));
    assert!(out.contains("docker.io/library/busybox:whiteouts"), "{out}");
    assert!(out.contains(&image.manifest_digest), "{out}");

    let images = list(&root);
    assert_eq!(images.as_array().unwrap().len(), 1, "{images}");
    assert_eq!(
        images[0]["references"],
        serde_json::json!(["docker.io/library/busybox:whiteouts"])
    );
    assert_eq!(images[0]["digest"], image.manifest_digest.as_str());
    assert_eq!(images[0]["configDigest"], image.config_digest.as_str());
    assert_eq!(
        images[0]["config"]["cmd"],
        serde_json::json!(["/bin/sh", "-c", "cat /etc/added"])
    );

    // Layers are stored by diff_id, bottom first, each once.
    let layers = layer_dirs(&root, "busybox:whiteouts");
    let expected: Vec<PathBuf> = image
        .diff_ids
        .iter()
        .map(|d| {
            root.join("images/layers/sha256")
                .join(&d["sha256:".len()..])
        })
        .collect();
    assert_eq!(layers, expected);

    // Modes, ownership, hard links and symlinks survive.
    let owned = std::fs::metadata(layers[0].join("etc/owned")).unwrap();
    assert_eq!(
        (owned.uid(), owned.gid(), owned.mode() & 0o7777),
        (1234, 5678, 0o4750)
    );
    let bb = std::fs::metadata(layers[0].join("bin/bb")).unwrap();
    assert_eq!(
        bb.ino(),
        std::fs::metadata(layers[0].join("bin/busybox"))
            .unwrap()
            .ino()
    );
    assert_eq!(
        std::fs::read_link(layers[0].join("bin/sh")).unwrap(),
        Path::new("busybox")
    );

    // Whiteouts in overlayfs form.
    let whiteout = std::fs::symlink_metadata(layers[1].join("etc/hello")).unwrap();
    assert!(whiteout.file_type().is_char_device() && whiteout.rdev() == 0);
    assert!(!layers[1].join("etc/.wh.hello").exists());
    assert_eq!(xattr(&layers[1].join("dir"), "trusted.overlay.opaque"), "y");
    assert!(!layers[1].join("dir/.wh..wh..opq").exists());

    // And the kernel agrees: the merged view is the image's filesystem.
    let out = run_in_rootfs(
        &layers,
        &tmp.path().join("container"),
        "cat /etc/added; ls /dir; test -e /etc/hello || echo hello-deleted; id -u",
    );
    assert_eq!(out, "from layer three\nc\nhello-deleted\n0\n");
}

#[test]
fn docker_save_archive_import_shares_layers_with_the_same_image() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kubelet");
    let image = oci_image::busybox_image(
        &tmp.path().join("src"),
        "busybox:1.36",
        "hello from docker-archive",
    );
    let saved = image.docker_archive(
        &tmp.path().join("saved.tar"),
        "registry.local:5000/team/busybox:saved",
    );
    let oci = image.oci_archive(&tmp.path().join("oci.tar"));

    // `docker save … | rkube images import -`
    let piped = Command::new(env!("CARGO_BIN_EXE_rkube"))
        .args(["images", "import", "-", "--root-dir"])
        .arg(&root)
        .stdin(std::fs::File::open(&saved).unwrap())
        .output()
        .unwrap();
    ok(piped);
    ok(rkube_images(&root, &["import", oci.to_str().unwrap()]));

    let table = ok(rkube_images(&root, &["ls"]));
    assert!(
        table.contains("registry.local:5000/team/busybox:saved"),
        "{table}"
    );
    assert!(table.contains("docker.io/library/busybox:1.36"), "{table}");

    // Two manifests (docker schema 2 synthesized for the save, OCI for the layout) …
    let saved_layers = layer_dirs(&root, "registry.local:5000/team/busybox:saved");
    let oci_layers = layer_dirs(&root, "busybox:1.36");
    // … over one unpacked layer.
    assert_eq!(saved_layers, oci_layers);
    assert_eq!(
        std::fs::read_dir(root.join("images/layers/sha256"))
            .unwrap()
            .count(),
        1
    );

    let out = run_in_rootfs(
        &saved_layers,
        &tmp.path().join("c"),
        "echo hello from docker-archive",
    );
    assert_eq!(out, "hello from docker-archive\n");

    // Another name for the same image.
    ok(rkube_images(
        &root,
        &["tag", "busybox:1.36", "localhost/mine:v2"],
    ));
    assert_eq!(layer_dirs(&root, "localhost/mine:v2"), oci_layers);
    let table = ok(rkube_images(&root, &["ls"]));
    assert!(table.contains("localhost/mine:v2"), "{table}");

    // A layer deleted behind the store's back is unpacked again from its blob.
    std::fs::remove_dir_all(&saved_layers[0]).unwrap();
    assert_eq!(layer_dirs(&root, "busybox:1.36"), oci_layers);
    assert!(saved_layers[0].join("bin/busybox").is_file());

    // Removing one keeps the layer the other uses; removing both frees it.
    ok(rkube_images(
        &root,
        &["rm", "registry.local:5000/team/busybox:saved"],
    ));
    assert!(oci_layers[0].is_dir());
    ok(rkube_images(&root, &["rm", "busybox:1.36"]));
    assert!(!oci_layers[0].exists());
    assert_eq!(list(&root), serde_json::json!([]));
}

#[test]
fn tampered_blob_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kubelet");
    let image = oci_image::busybox_image(&tmp.path().join("src"), "busybox:tampered", "x");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            image
                .layout
                .join("blobs/sha256")
                .join(&image.manifest_digest["sha256:".len()..]),
        )
        .unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let blob = image
        .layout
        .join("blobs/sha256")
        .join(&layer["sha256:".len()..]);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let archive = image.oci_archive(&tmp.path().join("image.tar"));

    let out = rkube_images(&root, &["import", archive.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("digest mismatch"), "{stderr}");
    assert_eq!(list(&root), serde_json::json!([]));
    assert_eq!(
        std::fs::read_dir(root.join("images/layers/sha256"))
            .unwrap()
            .count(),
        0
    );
}

/// A tar with entries GNU tar would not write: made with Python's tarfile.
fn hostile_tar(path: &Path, script: &str) {
    let program = format!(
        "import tarfile, io, sys\nt = tarfile.open(sys.argv[1], 'w')\n\
         def add(name, data=b'', kind=tarfile.REGTYPE, link=''):\n    \
         i = tarfile.TarInfo(name); i.type = kind; i.linkname = link; i.size = len(data)\n    \
         t.addfile(i, io.BytesIO(data))\n{script}\nt.close()\n"
    );
    let status = Command::new("python3")
        .args(["-c", &program])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn layers_escaping_their_directory_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let cases = [
        (
            "dotdot",
            "add('../../../../outside/pwned', b'x')".to_string(),
        ),
        (
            "symlink",
            format!(
                "add('link', kind=tarfile.SYMTYPE, link='{}')\nadd('link/pwned', b'x')",
                outside.display()
            ),
        ),
        (
            "whiteout-through-symlink",
            format!(
                "add('link', kind=tarfile.SYMTYPE, link='{}')\nadd('link/.wh.victim')",
                outside.display()
            ),
        ),
    ];
    std::fs::write(outside.join("victim"), "keep me").unwrap();
    for (name, script) in cases {
        let root = tmp.path().join(format!("kubelet-{name}"));
        let tar = tmp.path().join(format!("{name}.tar"));
        hostile_tar(&tar, &script);
        let image = oci_image::build_layout(
            &tmp.path().join(format!("layout-{name}")),
            "evil:latest",
            &[LayerSpec {
                dir: tar,
                compression: Compression::Gzip,
            }],
            &["/x"],
        );
        let archive = image.oci_archive(&tmp.path().join(format!("{name}-image.tar")));
        let out = rkube_images(&root, &["import", archive.to_str().unwrap()]);
        assert!(
            !out.status.success(),
            "{name}: import of an escaping layer succeeded"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("escapes the layer directory")
                || stderr.contains("outside of destination"),
            "{name}: {stderr}"
        );
        assert!(
            !outside.join("pwned").exists(),
            "{name}: wrote outside the layer"
        );
        assert_eq!(
            std::fs::read_to_string(outside.join("victim")).unwrap(),
            "keep me",
            "{name}"
        );
        assert_eq!(list(&root), serde_json::json!([]), "{name}");
    }
}

#[test]
fn garbage_collection_removes_least_recently_used_images_not_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kubelet");
    let mut digests = Vec::new();
    for name in ["first", "second", "third"] {
        let image =
            oci_image::busybox_image(&tmp.path().join(name), &format!("gc/{name}:v1"), name);
        let archive = image.oci_archive(&tmp.path().join(format!("{name}.tar")));
        ok(rkube_images(&root, &["import", archive.to_str().unwrap()]));
        digests.push(image.manifest_digest);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let first_layers = layer_dirs(&root, "gc/first:v1");
    let gc = |args: &[&str]| {
        let mut all = vec!["gc", "--min-age-seconds", "0", "--in-use", "gc/first:v1"];
        all.extend_from_slice(args);
        ok(rkube_images(&root, &all))
    };

    // Nothing to free: nothing removed.
    let out = gc(&["--free", "0"]);
    assert!(!out.contains("removed"), "{out}");
    assert_eq!(list(&root).as_array().unwrap().len(), 3);

    // One byte: the least recently used image not in use goes, and only it.
    let out = gc(&["--free", "1"]);
    assert!(
        out.contains(&format!("removed docker.io/gc/second:v1 {}", digests[1])),
        "{out}"
    );
    let freed: u64 = out
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(freed > 0, "{out}");
    let left: Vec<String> = list(&root)
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["digest"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, vec![digests[2].clone(), digests[0].clone()]);

    // Everything it can: the image in use stays, whole and runnable.
    gc(&["--free", "100000000000"]);
    assert_eq!(list(&root)[0]["digest"], digests[0].as_str());
    assert_eq!(list(&root).as_array().unwrap().len(), 1);
    assert_eq!(layer_dirs(&root, "gc/first:v1"), first_layers);
    assert_eq!(
        run_in_rootfs(&first_layers, &tmp.path().join("c"), "echo still here"),
        "still here\n"
    );
    // Blobs left: the survivor's manifest, config and layer.
    assert_eq!(
        std::fs::read_dir(root.join("images/blobs/sha256"))
            .unwrap()
            .count(),
        3
    );
}

#[test]
fn images_for_another_platform_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kubelet");
    let rootfs = tmp.path().join("rootfs");
    oci_image::busybox_rootfs(&rootfs);
    let image = oci_image::build_layout_for(
        "arm64",
        &tmp.path().join("layout"),
        "busybox:arm64",
        &[LayerSpec {
            dir: rootfs,
            compression: Compression::Gzip,
        }],
        &["/bin/sh"],
    );
    let archive = image.oci_archive(&tmp.path().join("image.tar"));
    let out = rkube_images(&root, &["import", archive.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is for linux/arm64, this node runs linux/amd64"),
        "{stderr}"
    );
    assert_eq!(list(&root), serde_json::json!([]));
}
