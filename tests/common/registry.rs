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
    token_server: Option<Child>,
    /// Requests the token server answered: `user scope` a line (`-` for anonymous).
    pub token_log: PathBuf,
    _dir: tempfile::TempDir,
}

/// How the registry is protected.
#[derive(Default)]
pub struct RegistryOptions {
    /// Basic auth with this user (htpasswd, bcrypt).
    pub basic_auth: Option<(String, String)>,
    /// Serve HTTPS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Token auth: a token server on this address (in the same namespace) that hands
    /// signed JWTs to this user only, as Docker Hub's auth.docker.io does.
    pub token_auth: Option<(SocketAddr, String, String)>,
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
        let token_log = dir.path().join("token.log");
        let token_server = options.token_auth.as_ref().map(|(token_addr, user, password)| {
            let (token_cert, token_key) = token_signing_key(dir.path());
            config.push_str(&format!(
                "auth:\n  token:\n    realm: http://{token_addr}/token\n    service: rkube-test-registry\n    \
                 issuer: rkube-test-issuer\n    rootcertbundle: {}\n",
                token_cert.display()
            ));
            let script = dir.path().join("token_server.py");
            std::fs::write(&script, TOKEN_SERVER).unwrap();
            let child = netns
                .cmd("python3")
                .arg(&script)
                .arg(token_addr.ip().to_string())
                .arg(token_addr.port().to_string())
                .arg(&token_cert)
                .arg(&token_key)
                .arg(user)
                .arg(password)
                .arg(&token_log)
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            while netns.connect(*token_addr).is_err() {
                assert!(Instant::now() < deadline, "token server did not listen on {token_addr}");
                std::thread::sleep(Duration::from_millis(50));
            }
            child
        });
        let credentials = options.basic_auth.clone().or(options
            .token_auth
            .as_ref()
            .map(|(_, u, p)| (u.clone(), p.clone())));
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
            credentials,
            tls: options.tls.is_some(),
            child,
            token_server,
            token_log,
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
        for child in std::iter::once(&mut self.child).chain(self.token_server.as_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
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

/// A self-signed certificate and key the token server signs with (the registry trusts it
/// as its `rootcertbundle` and finds it in each token's `x5c` header).
fn token_signing_key(dir: &Path) -> (PathBuf, PathBuf) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=rkube-test-token-issuer",
            "-keyout",
            "token.key",
            "-out",
            "token.crt",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir.join("token.crt"), dir.join("token.key"))
}

/// The distribution token protocol's server side, small: Basic-authenticated GET
/// /token?service=…&scope=… answered with an RS256 JWT (signed by openssl) granting
/// the scopes asked for; anyone else gets 401.
const TOKEN_SERVER: &str = r#"
import base64, http.server, json, os, ssl, subprocess, sys, time, urllib.parse
host, port, cert, key, user, password, log = sys.argv[1:8]
der = ssl.PEM_cert_to_DER_cert(open(cert).read())
def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        given = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        who = user if given == expected else "-"
        scopes = [s for value in query.get("scope", []) for s in value.split(" ")]
        with open(log, "a") as f:
            f.write(f"{who} {query.get('service', [''])[0]} {' '.join(scopes)}\n")
        if url.path != "/token" or who == "-":
            self.send_response(401)
            self.end_headers()
            return
        access = []
        for scope in scopes:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "rkube-test-issuer", "sub": who, "aud": query["service"][0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
                  "access": access}
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                                   input=signing_input.encode(), capture_output=True, check=True).stdout
        body = json.dumps({"token": signing_input + "." + b64(signature)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((host, int(port)), Handler).serve_forever()
"#;
