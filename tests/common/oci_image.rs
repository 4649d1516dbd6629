//! Test images built from Debian's busybox-static, with no registry and no internet: layers
//! are real tars of staging directories (GNU tar, gzip, zstd), and the OCI image layout
//! around them is written here (the format is a few JSON files). `skopeo` turns a layout
//! into other forms (`docker-archive:`, `docker://` pushes).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Copy, Debug)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A layer: a staging directory to tar (or a ready tar file), and how to compress it.
pub struct LayerSpec {
    pub dir: PathBuf,
    pub compression: Compression,
}

/// An OCI image layout directory holding one image.
pub struct TestImage {
    pub layout: PathBuf,
    /// The `org.opencontainers.image.ref.name` of the image in `index.json`.
    pub ref_name: String,
    pub manifest_digest: String,
    pub config_digest: String,
    /// Uncompressed layer digests, bottom first.
    pub diff_ids: Vec<String>,
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn sha256_file(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    format!("sha256:{}", String::from_utf8_lossy(&out[..64]))
}

/// A root filesystem with `/bin/busybox` (Debian's static build) and applet symlinks.
pub fn busybox_rootfs(dir: &Path) {
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("busybox-static is installed");
    for applet in [
        "sh", "echo", "cat", "ls", "sleep", "id", "stat", "hostname", "env", "true",
    ] {
        std::os::unix::fs::symlink("busybox", dir.join("bin").join(applet)).unwrap();
    }
    for d in ["proc", "sys", "dev", "etc", "tmp"] {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
}

/// Writes `layers` (bottom first) and a config running `cmd` as an image into a new OCI
/// layout at `layout`, named `ref_name` in its index.
pub fn build_layout(
    layout: &Path,
    ref_name: &str,
    layers: &[LayerSpec],
    cmd: &[&str],
) -> TestImage {
    build_layout_for("amd64", layout, ref_name, layers, cmd)
}

/// [`build_layout`] for another architecture (`arm64`): the config says so.
pub fn build_layout_for(
    architecture: &str,
    layout: &Path,
    ref_name: &str,
    layers: &[LayerSpec],
    cmd: &[&str],
) -> TestImage {
    let config = serde_json::json!({
        "architecture": architecture,
        "os": "linux",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin"], "WorkingDir": "/"},
    });
    build_layout_with_config(layout, ref_name, layers, config)
}

/// Tars and compresses `layers` into `blobs`; their diff IDs and descriptors.
fn write_layers(
    work: &Path,
    blobs: &Path,
    layers: &[LayerSpec],
) -> (Vec<String>, Vec<serde_json::Value>) {
    let mut diff_ids = Vec::new();
    let mut descriptors = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let tar = work.join(format!("layer{i}.tar"));
        if layer.dir.is_file() {
            fs::copy(&layer.dir, &tar).unwrap();
        } else {
            run(Command::new("tar")
                .args(["--numeric-owner", "--xattrs", "-C"])
                .arg(&layer.dir)
                .arg("-cf")
                .arg(&tar)
                .arg("."));
        }
        diff_ids.push(sha256_file(&tar));
        let (blob, media_type) = match layer.compression {
            Compression::None => (tar.clone(), "application/vnd.oci.image.layer.v1.tar"),
            Compression::Gzip => {
                run(Command::new("gzip").args(["-n", "-k"]).arg(&tar));
                (
                    tar.with_extension("tar.gz"),
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                )
            }
            Compression::Zstd => {
                run(Command::new("zstd").args(["-q", "-k"]).arg(&tar));
                (
                    tar.with_extension("tar.zst"),
                    "application/vnd.oci.image.layer.v1.tar+zstd",
                )
            }
        };
        descriptors.push(put_blob(blobs, &fs::read(&blob).unwrap(), media_type));
    }
    (diff_ids, descriptors)
}

/// [`build_layout`] with the image config given (its `rootfs` is filled in): a `User`,
/// other `Env`…
pub fn build_layout_with_config(
    layout: &Path,
    ref_name: &str,
    layers: &[LayerSpec],
    mut config: serde_json::Value,
) -> TestImage {
    let blobs = layout.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let work = layout.with_extension("work");
    fs::create_dir_all(&work).unwrap();
    let (diff_ids, descriptors) = write_layers(&work, &blobs, layers);
    config["rootfs"] = serde_json::json!({"type": "layers", "diff_ids": diff_ids});
    let config = put_blob(
        &blobs,
        &serde_json::to_vec(&config).unwrap(),
        "application/vnd.oci.image.config.v1+json",
    );
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": descriptors,
    });
    let mut manifest_desc = put_blob(
        &blobs,
        &serde_json::to_vec(&manifest).unwrap(),
        "application/vnd.oci.image.manifest.v1+json",
    );
    manifest_desc["annotations"] =
        serde_json::json!({"org.opencontainers.image.ref.name": ref_name});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [manifest_desc]});
    fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    fs::remove_dir_all(&work).unwrap();
    TestImage {
        layout: layout.to_path_buf(),
        ref_name: ref_name.to_string(),
        manifest_digest: manifest_desc["digest"].as_str().unwrap().to_string(),
        config_digest: config["digest"].as_str().unwrap().to_string(),
        diff_ids,
    }
}

fn put_blob(blobs: &Path, bytes: &[u8], media_type: &str) -> serde_json::Value {
    let tmp = blobs.join("incoming");
    fs::write(&tmp, bytes).unwrap();
    let digest = sha256_file(&tmp);
    fs::rename(&tmp, blobs.join(&digest["sha256:".len()..])).unwrap();
    serde_json::json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

impl TestImage {
    /// The layout as a tar (what `skopeo copy … oci-archive:` writes).
    pub fn oci_archive(&self, path: &Path) -> PathBuf {
        run(Command::new("tar")
            .arg("-C")
            .arg(&self.layout)
            .arg("-cf")
            .arg(path)
            .arg("."));
        path.to_path_buf()
    }

    /// The image as a `docker save` archive tagged `tag`, converted by skopeo.
    pub fn docker_archive(&self, path: &Path, tag: &str) -> PathBuf {
        run(Command::new("skopeo").args([
            "copy",
            "--quiet",
            &format!("oci:{}:{}", self.layout.display(), self.ref_name),
            &format!("docker-archive:{}:{tag}", path.display()),
        ]));
        path.to_path_buf()
    }
}

/// Makes the layout's `index.json` name an image index (manifest list) of `images`, all
/// built into this same layout, each with its platform; returns the index's digest.
pub fn multi_platform_index(
    layout: &Path,
    ref_name: &str,
    images: &[(&TestImage, &str)],
) -> String {
    let manifests: Vec<serde_json::Value> = images
        .iter()
        .map(|(image, architecture)| {
            let path = layout
                .join("blobs/sha256")
                .join(&image.manifest_digest["sha256:".len()..]);
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": image.manifest_digest,
                "size": fs::metadata(path).unwrap().len(),
                "platform": {"architecture": architecture, "os": "linux"},
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let mut descriptor = put_blob(
        &layout.join("blobs/sha256"),
        &serde_json::to_vec(&index).unwrap(),
        "application/vnd.oci.image.index.v1+json",
    );
    descriptor["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": ref_name});
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [descriptor]});
    fs::write(layout.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    descriptor["digest"].as_str().unwrap().to_string()
}

/// A one-layer busybox image whose command prints `message`: the simplest runnable image.
pub fn busybox_image(dir: &Path, ref_name: &str, message: &str) -> TestImage {
    let rootfs = dir.join("rootfs");
    busybox_rootfs(&rootfs);
    build_layout(
        &dir.join("layout"),
        ref_name,
        &[LayerSpec {
            dir: rootfs,
            compression: Compression::Gzip,
        }],
        &["/bin/sh", "-c", &format!("echo {message}")],
    )
}

/// Builds [`busybox_image`] named `ref_name` under `work` and imports it with
/// `rkube images import` into the image store of a kubelet whose root dir is `root_dir`,
/// so that pods can run it with no registry.
pub fn import_busybox(work: &Path, root_dir: &Path, ref_name: &str, message: &str) {
    let image = busybox_image(&work.join("image"), ref_name, message);
    let archive = image.oci_archive(&work.join("busybox.tar"));
    let out = Command::new(env!("CARGO_BIN_EXE_rkube"))
        .args(["images", "import"])
        .arg(&archive)
        .arg("--root-dir")
        .arg(root_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rkube images import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
