//! The HTTP requests the figure runners share: checked calls, namespaces, pod creates
//! against rkube and puts of the same bytes against etcd.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context as _};

use crate::etcd::{self, Etcd, PutBodies};
use crate::http::{self, Conn};
use crate::load::MakeRequest;
use crate::objects;

pub(super) const JSON: &str = "application/json";

/// One request, answer kept; fails unless the status is `want`.
pub(super) async fn call(
    conn: &mut Conn,
    request: &[u8],
    want: u16,
    what: &str,
) -> anyhow::Result<Vec<u8>> {
    let r = conn
        .request(request, true)
        .await
        .with_context(|| what.to_owned())?;
    if r.status != want {
        bail!(
            "{what}: status {} (wanted {want}): {}",
            r.status,
            String::from_utf8_lossy(&r.body[..r.body.len().min(500)])
        );
    }
    Ok(r.body)
}

pub(super) async fn create_namespace(addr: SocketAddr, name: &str) -> anyhow::Result<()> {
    let mut c = Conn::connect(addr).await?;
    let req = http::with_body(
        "POST",
        &addr.to_string(),
        "/api/v1/namespaces",
        JSON,
        &objects::namespace(name),
    );
    call(&mut c, &req, 201, &format!("creating namespace {name}")).await?;
    Ok(())
}

/// `conns` connections creating pods named `<prefix><seq>` in `namespace`.
pub(super) fn pod_creates(addr: SocketAddr, namespace: &str, prefix: &str) -> MakeRequest {
    let template = objects::pod();
    let (host, path, prefix) = (
        addr.to_string(),
        format!("/api/v1/namespaces/{namespace}/pods"),
        prefix.to_owned(),
    );
    Arc::new(move |seq| {
        let body = template.render(&format!("{prefix}{seq}"));
        http::with_body("POST", &host, &path, JSON, &body)
    })
}

pub(super) fn etcd_puts(etcd: &Etcd, value: &[u8], prefix: &str) -> MakeRequest {
    let bodies = PutBodies::new(value);
    let (host, prefix) = (etcd.addr.to_string(), prefix.to_owned());
    Arc::new(move |seq| {
        let body = bodies.body(format!("{prefix}{seq}").as_bytes());
        http::with_body("POST", &host, etcd::PUT_PATH, JSON, &body)
    })
}
