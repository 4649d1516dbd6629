//! The image store as the kubelet calls it (the library, not the CLI): pull policies,
//! pull secrets, concurrent pulls of one image, waiting reasons — against a real
//! `docker-registry` in a network namespace, the async code running on a thread that
//! entered that namespace.

mod common;

use std::net::SocketAddr;
use std::os::fd::AsFd;

use common::netns::Netns;
use common::oci_image;
use common::registry::{Registry, RegistryOptions};
use rkube_images::{ImageError, ImageStore, PullPolicy, RegistryAuth};

/// Runs `body` on a current-thread runtime inside `netns` (sockets belong to the
/// namespace of the thread that opens them).
fn in_netns<T: Send>(netns: &Netns, body: impl std::future::Future<Output = T> + Send) -> T {
    let path = format!("/run/netns/{}", netns.name);
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(&path).unwrap();
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(body)
        })
        .join()
        .unwrap()
    })
}

#[test]
fn pull_policies_secrets_and_concurrent_pulls() {
    let tmp = tempfile::tempdir().unwrap();
    let netns = Netns::new("registry");
    let addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let registry = Registry::start(
        &netns,
        addr,
        RegistryOptions {
            basic_auth: Some(("carol".into(), "pw".into())),
            ..Default::default()
        },
    );
    let image = oci_image::busybox_image(&tmp.path().join("src"), "busybox:1", "x");
    registry.push(&image, "apps/busybox:1");
    let reference = "127.0.0.1:5000/apps/busybox:1";
    let store = ImageStore::open(&tmp.path().join("kubelet")).unwrap();

    // A dockerconfigjson pull secret, as the kubelet reads it from the API.
    let config = br#"{"auths": {"127.0.0.1:5000": {"username": "carol", "password": "pw"}}}"#;
    let secret = RegistryAuth::from_pull_secret("kubernetes.io/dockerconfigjson", |key| {
        (key == ".dockerconfigjson").then_some(config.as_slice())
    })
    .unwrap();
    let none = RegistryAuth::anonymous();

    in_netns(&netns, async {
        // Never, absent: ErrImageNeverPull, without asking the registry.
        let err = store
            .ensure_image(reference, PullPolicy::Never, &secret, &[])
            .await
            .unwrap_err();
        assert!(matches!(err, ImageError::NeverPull(_)), "{err}");
        assert_eq!(err.waiting_reason(), "ErrImageNeverPull");

        // Without the secret: refused by the registry.
        let err = store
            .ensure_image(reference, PullPolicy::IfNotPresent, &none, &[])
            .await
            .unwrap_err();
        assert!(
            matches!(err, ImageError::Unauthorized { status: 401, .. }),
            "{err}"
        );
        assert_eq!(err.waiting_reason(), "ErrImagePull");

        // Two pods starting at once on the image: both get it (one pull after the other,
        // the second finding the blobs already here).
        let (a, b) = tokio::join!(
            store.ensure_image(reference, PullPolicy::IfNotPresent, &secret, &[]),
            store.ensure_image(reference, PullPolicy::Always, &secret, &[]),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.image.digest, image.manifest_digest);
        assert_eq!(
            (&b.image.digest, &b.image.references),
            (&a.image.digest, &a.image.references)
        );
        assert!(a.pulled && b.pulled);
    });
    assert_eq!(
        std::fs::read_dir(store.dir().join("tmp")).unwrap().count(),
        0
    );

    // The registry gone, IfNotPresent and Never still find the image; Always fails.
    drop(registry);
    in_netns(&netns, async {
        for policy in [PullPolicy::IfNotPresent, PullPolicy::Never] {
            let ensured = store
                .ensure_image(reference, policy, &secret, &[])
                .await
                .unwrap();
            assert!(!ensured.pulled);
            assert_eq!(ensured.image.digest, image.manifest_digest);
        }
        let err = store
            .ensure_image(reference, PullPolicy::Always, &secret, &[])
            .await
            .unwrap_err();
        assert!(matches!(err, ImageError::Registry { .. }), "{err}");
    });

    // Lookups by every spelling the kubelet may see.
    let d = &image.manifest_digest;
    for spelling in [
        reference.to_string(),
        format!("127.0.0.1:5000/apps/busybox@{d}"),
        d.clone(),
    ] {
        let found = store
            .lookup(&spelling)
            .unwrap()
            .unwrap_or_else(|| panic!("{spelling}"));
        assert_eq!(&found.digest, d);
    }
    assert!(store
        .lookup("127.0.0.1:5000/apps/busybox:2")
        .unwrap()
        .is_none());
    let err = store.lookup("Not A Reference").unwrap_err();
    assert_eq!(err.waiting_reason(), "InvalidImageName");
    let layers = store
        .layer_dirs(&store.lookup(reference).unwrap().unwrap())
        .unwrap();
    assert!(layers[0].join("bin/busybox").is_file());
}
