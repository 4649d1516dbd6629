//! The containers of pods that must really run. By default they are upstream's e2e
//! images (pause, and agnhost serving HTTP), which the nodes pull; with `--image` they
//! run an image already on the nodes with busybox in it, doing the same with `sleep`
//! and an `nc` loop, so a cluster without registry access can run these tests too.

use serde_json::{json, Value};

use super::proxy::AGNHOST;
use super::resources::IMAGE as PAUSE;
use super::Ctx;

/// The port the echo server answers on.
pub const ECHO_PORT: u16 = 8080;

/// What the `nc` loop runs for each connection: read the request line and headers, then
/// answer 200 with the `msg` query parameter (agnhost netexec's `/echo`), or `ok` for
/// any other path (its `/healthz`).
const ECHO_HANDLER: &str = r#"read -r method target rest
while read -r line; do [ "${#line}" -le 1 ] && break; done
case "$target" in *msg=*) msg=${target#*msg=}; msg=${msg%%&*};; *) msg=ok;; esac
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "${#msg}" "$msg"
"#;

/// A container that runs until deleted.
pub fn sleeper(cx: &Ctx, name: &str) -> Value {
    match &cx.image {
        None => json!({"name": name, "image": PAUSE}),
        Some(image) => json!({"name": name, "image": image, "command": ["sleep", "3600"]}),
    }
}

/// A container answering HTTP on [`ECHO_PORT`]: `/echo?msg=X` answers X (for every
/// method), other paths 200; Ready once it answers `/healthz`.
pub fn echo_server(cx: &Ctx, name: &str) -> Value {
    let mut container = match &cx.image {
        None => json!({"name": name, "image": AGNHOST,
                       "args": ["netexec", format!("--http-port={ECHO_PORT}")]}),
        Some(image) => {
            let script = format!(
                "mkdir -p /tmp && cat > /tmp/echo <<'EOF'\n{ECHO_HANDLER}EOF\n\
                 command -v nc >/dev/null && exec nc -ll -p {ECHO_PORT} -e sh /tmp/echo\n\
                 exec busybox nc -ll -p {ECHO_PORT} -e sh /tmp/echo"
            );
            json!({"name": name, "image": image, "command": ["sh", "-c", script]})
        }
    };
    container["ports"] = json!([{"name": "http", "containerPort": ECHO_PORT}]);
    container["readinessProbe"] = json!({"httpGet": {"path": "/healthz", "port": ECHO_PORT}});
    container
}
