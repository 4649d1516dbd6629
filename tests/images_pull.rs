//! `rkube images pull` against a real `docker-registry` started in a test network
//! namespace (nothing on the host's interfaces): plain HTTP on loopback, manifest lists,
//! digests verified, Basic auth, HTTPS through rustls with a CA from `certs.d`.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::image_store::{layer_dirs, list, ok, rkube_images_in, run_in_rootfs};
use common::netns::Netns;
use common::oci_image::{self, Compression, LayerSpec};
use common::registry::{test_certificates, Registry, RegistryOptions};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn failed(out: std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pulls_from_a_loopback_registry_and_runs_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kubelet");
    let netns = Netns::new("registry");
    let registry = Registry::start(&netns, addr("127.0.0.1:5000"), RegistryOptions::default());
    let image = oci_image::busybox_image(&tmp.path().join("src"), "busybox:1.36", "pulled");
    registry.push(&image, "test/busybox:1.36");

    let out = ok(rkube_images_in(
        &netns,
        &root,
        &["pull", "127.0.0.1:5000/test/busybox:1.36"],
    ));
    assert!(out.contains(&image.manifest_digest), "{out}");
    let images = list(&root);
    assert_eq!(images[0]["digest"], image.manifest_digest.as_str());
    assert_eq!(
        images[0]["references"],
        serde_json::json!([
            "127.0.0.1:5000/test/busybox:1.36",
            format!("127.0.0.1:5000/test/busybox@{}", image.manifest_digest)
        ])
    );
    let layers = layer_dirs(&root, "127.0.0.1:5000/test/busybox:1.36");
    assert_eq!(
        run_in_rootfs(&layers, &tmp.path().join("c"), "echo pulled"),
        "pulled\n"
    );

    // A second pull finds everything here and changes nothing.
    ok(rkube_images_in(
        &netns,
        &root,
        &["pull", "127.0.0.1:5000/test/busybox:1.36"],
    ));
    assert_eq!(list(&root).as_array().unwrap().len(), 1);

    // A tag the registry does not have.
    let err = failed(rkube_images_in(
        &netns,
        &root,
        &["pull", "127.0.0.1:5000/test/busybox:nope"],
    ));
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn resolves_a_manifest_list_for_linux_amd64() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let rootfs = tmp.path().join("rootfs");
    oci_image::busybox_rootfs(&rootfs);
    let layer = |dir: &Path| LayerSpec {
        dir: dir.to_path_buf(),
        compression: Compression::Gzip,
    };
    let amd64 =
        oci_image::build_layout_for("amd64", &layout, "x", &[layer(&rootfs)], &["echo", "amd64"]);
    let arm = tmp.path().join("arm-only");
    std::fs::create_dir_all(arm.join("etc")).unwrap();
    std::fs::write(arm.join("etc/arch"), "arm64\n").unwrap();
    let arm64 = oci_image::build_layout_for(
        "arm64",
        &layout,
        "x",
        &[layer(&rootfs), layer(&arm)],
        &["echo", "arm64"],
    );
    let index =
        oci_image::multi_platform_index(&layout, "multi", &[(&arm64, "arm64"), (&amd64, "amd64")]);
    let amd64_digest = amd64.manifest_digest.clone();
    let multi = oci_image::TestImage {
        ref_name: "multi".to_string(),
        manifest_digest: index.clone(),
        ..amd64
    };

    let netns = Netns::new("registry");
    let registry = Registry::start(&netns, addr("127.0.0.1:5000"), RegistryOptions::default());
    registry.push(&multi, "test/multi:v1");

    let root = tmp.path().join("kubelet");
    ok(rkube_images_in(
        &netns,
        &root,
        &["pull", "127.0.0.1:5000/test/multi:v1"],
    ));
    let images = list(&root);
    assert_eq!(images[0]["digest"], amd64_digest.as_str());
    assert_eq!(
        images[0]["config"]["cmd"],
        serde_json::json!(["echo", "amd64"])
    );
    // The list's digest names the image too, as Docker's repo digests do.
    let pinned = format!("127.0.0.1:5000/test/multi@{index}");
    assert_eq!(layer_dirs(&root, &pinned).len(), 1);
    assert!(!layer_dirs(&root, &pinned)[0].join("etc/arch").exists());

    // Pulled by the list's digest into another store: the same image.
    let other = tmp.path().join("kubelet2");
    ok(rkube_images_in(&netns, &other, &["pull", &pinned]));
    assert_eq!(list(&other)[0]["digest"], images[0]["digest"]);
}

#[test]
fn corrupted_blob_from_the_registry_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kubelet");
    let netns = Netns::new("registry");
    let registry = Registry::start(&netns, addr("127.0.0.1:5000"), RegistryOptions::default());
    let image = oci_image::busybox_image(&tmp.path().join("src"), "busybox:1", "x");
    registry.push(&image, "test/busybox:1");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            image
                .layout
                .join("blobs/sha256")
                .join(&image.manifest_digest[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let data = registry.blob_data(layer);
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[100] ^= 0x55;
    std::fs::write(&data, bytes).unwrap();

    let err = failed(rkube_images_in(
        &netns,
        &root,
        &["pull", "127.0.0.1:5000/test/busybox:1"],
    ));
    assert!(err.contains("digest mismatch"), "{err}");
    assert_eq!(list(&root), serde_json::json!([]));
    assert!(!root.join("images/blobs/sha256").join(&layer[7..]).exists());
    assert_eq!(
        std::fs::read_dir(root.join("images/tmp")).unwrap().count(),
        0,
        "temporary files left"
    );
}

#[test]
fn basic_auth_from_creds_or_a_docker_config() {
    let tmp = tempfile::tempdir().unwrap();
    let netns = Netns::new("registry");
    let registry = Registry::start(
        &netns,
        addr("127.0.0.1:5000"),
        RegistryOptions {
            basic_auth: Some(("alice".into(), "s3cret".into())),
            ..Default::default()
        },
    );
    let image = oci_image::busybox_image(&tmp.path().join("src"), "busybox:1", "x");
    registry.push(&image, "private/busybox:1");
    let reference = "127.0.0.1:5000/private/busybox:1";
    let root = tmp.path().join("kubelet");

    let err = failed(rkube_images_in(&netns, &root, &["pull", reference]));
    assert!(
        err.contains("refused access") && err.contains("401"),
        "{err}"
    );
    let err = failed(rkube_images_in(
        &netns,
        &root,
        &["pull", reference, "--creds", "alice:wrong"],
    ));
    assert!(err.contains("refused access"), "{err}");
    ok(rkube_images_in(
        &netns,
        &root,
        &["pull", reference, "--creds", "alice:s3cret"],
    ));
    assert_eq!(list(&root)[0]["digest"], image.manifest_digest.as_str());

    // The same credentials as a kubernetes.io/dockerconfigjson pull secret holds them.
    let config = tmp.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"auths": {"http://127.0.0.1:5000/v2/": {"auth": "YWxpY2U6czNjcmV0"}}}"#,
    )
    .unwrap();
    let other = tmp.path().join("kubelet2");
    ok(rkube_images_in(
        &netns,
        &other,
        &["pull", reference, "--auth-file", config.to_str().unwrap()],
    ));
    assert_eq!(list(&other)[0]["digest"], image.manifest_digest.as_str());
}

#[test]
fn https_with_a_trusted_ca_and_plain_http_only_when_insecure() {
    let tmp = tempfile::tempdir().unwrap();
    let netns = Netns::new("registry");
    // A non-loopback address, so that the default is HTTPS.
    netns.sh("ip addr add 10.99.0.1/32 dev lo");
    let (ca, cert, key) = test_certificates(tmp.path(), "10.99.0.1");
    let tls = Registry::start(
        &netns,
        addr("10.99.0.1:5443"),
        RegistryOptions {
            tls: Some((cert, key)),
            ..Default::default()
        },
    );
    let plain = Registry::start(&netns, addr("10.99.0.1:5000"), RegistryOptions::default());
    let image = oci_image::busybox_image(&tmp.path().join("src"), "busybox:1", "x");
    tls.push(&image, "test/busybox:1");
    plain.push(&image, "test/busybox:1");

    let root = tmp.path().join("kubelet");
    let err = failed(rkube_images_in(
        &netns,
        &root,
        &["pull", "10.99.0.1:5443/test/busybox:1"],
    ));
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    let certs = root.join("images/certs.d/10.99.0.1:5443");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&ca, certs.join("ca.crt")).unwrap();
    ok(rkube_images_in(
        &netns,
        &root,
        &["pull", "10.99.0.1:5443/test/busybox:1"],
    ));

    // Without --insecure-registry the plain-HTTP registry is spoken to in TLS, and fails.
    let other = tmp.path().join("kubelet2");
    failed(rkube_images_in(
        &netns,
        &other,
        &["pull", "10.99.0.1:5000/test/busybox:1"],
    ));
    ok(rkube_images_in(
        &netns,
        &other,
        &[
            "pull",
            "10.99.0.1:5000/test/busybox:1",
            "--insecure-registry",
            "10.99.0.1:5000",
        ],
    ));
    assert_eq!(list(&other)[0]["digest"], image.manifest_digest.as_str());
}

#[test]
fn bearer_tokens_from_the_registrys_token_server() {
    let tmp = tempfile::tempdir().unwrap();
    let netns = Netns::new("registry");
    let registry = Registry::start(
        &netns,
        addr("127.0.0.1:5000"),
        RegistryOptions {
            token_auth: Some((addr("127.0.0.1:5001"), "bob".into(), "t0ken-pass".into())),
            ..Default::default()
        },
    );
    let image = oci_image::busybox_image(&tmp.path().join("src"), "busybox:1", "x");
    registry.push(&image, "team/busybox:1");
    std::fs::write(&registry.token_log, "").unwrap();
    let reference = "127.0.0.1:5000/team/busybox:1";
    let root = tmp.path().join("kubelet");

    // Anonymous: the token server refuses, and so the registry does.
    let err = failed(rkube_images_in(&netns, &root, &["pull", reference]));
    assert!(err.contains("refused access"), "{err}");
    // With credentials: a token for exactly this repository, pull only.
    ok(rkube_images_in(
        &netns,
        &root,
        &["pull", reference, "--creds", "bob:t0ken-pass"],
    ));
    assert_eq!(list(&root)[0]["digest"], image.manifest_digest.as_str());
    let log = std::fs::read_to_string(&registry.token_log).unwrap();
    assert!(
        log.lines()
            .any(|l| l == "bob rkube-test-registry repository:team/busybox:pull"),
        "{log}"
    );
    assert!(
        log.lines()
            .all(|l| l.ends_with("repository:team/busybox:pull")),
        "{log}"
    );
}
