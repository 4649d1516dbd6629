//! A real `docker-registry` (Debian's distribution 2.8) started by a test inside one of its
//! network namespaces, optionally with htpasswd Basic auth or TLS; images are pushed to it
//! with `skopeo copy` from a test OCI layout.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::netns::Netns;
use super::oci_image::TestImage;

pub struct Registry {
    /// `host:port` as clients name it.
    pub host: String,
    pub storage: PathBuf,
    netns_name: String,
    credentials: Option<(String, String)>,
    tls: bool,
    child: Child,
    _dir: tempfile::TempDir,
}

/// How the registry is protected.
#[derive(Default)]
pub struct RegistryOptions {
    /// Basic auth with this user (htpasswd, bcrypt).
    pub basic_auth: Option<(String, String)>,
    /// Serve HTTPS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl Registry {
    /// A registry on `addr` inside `netns` (e.g. `127.0.0.1:5000`).
    pub fn start(netns: &Netns, addr: SocketAddr, options: RegistryOptions) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            storage.display()
        );
        if let Some((cert, key)) = &options.tls {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
        }
        if let Some((user, password)) = &options.basic_auth {
            let htpasswd = dir.path().join("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) is installed");
            assert!(out.status.success());
            std::fs::write(&htpasswd, out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: rkube-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = netns
            .cmd("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is installed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while netns.connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            host: addr.to_string(),
            storage,
            netns_name: netns.name.clone(),
            credentials: options.basic_auth,
            tls: options.tls.is_some(),
            child,
            _dir: dir,
        }
    }

    /// Pushes the layout's image (`--all`: an index with all its manifests) as
    /// `<host>/<repository_tag>` with skopeo, from inside the namespace.
    pub fn push(&self, image: &TestImage, repository_tag: &str) {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.netns_name,
            "skopeo",
            "copy",
            "--quiet",
            "--all",
        ]);
        cmd.arg("--dest-tls-verify=false");
        if let Some((user, password)) = &self.credentials {
            cmd.arg(format!("--dest-creds={user}:{password}"));
        }
        cmd.arg(format!("oci:{}:{}", image.layout.display(), image.ref_name));
        cmd.arg(format!("docker://{}/{repository_tag}", self.host));
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "skopeo push failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Where the registry keeps a blob's bytes (to corrupt them in tests).
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = &digest["sha256:".len()..];
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for `ip` signed by it (openssl), in `dir`:
/// returns (ca.crt, server.crt, server.key).
pub fn test_certificates(dir: &Path, ip: &str) -> (PathBuf, PathBuf, PathBuf) {
    let sh = |script: &str| {
        let out = Command::new("sh")
            .current_dir(dir)
            .args(["-c", script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rkube-test-ca \
        -keyout ca.key -out ca.crt 2>/dev/null",
    );
    sh(&format!(
        "openssl req -newkey rsa:2048 -nodes -subj /CN={ip} -keyout server.key -out server.csr 2>/dev/null && \
         printf 'subjectAltName=IP:{ip}\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth\\n' > ext && \
         openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
         -extfile ext -out server.crt 2>/dev/null"
    ));
    (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    )
}
