//! The rkube apiserver: the Kubernetes REST API over the embedded store.

mod admission;
mod apiservices;
mod clock;
pub mod codec;
pub mod crd;
pub mod discovery;
mod fieldvalidation;
pub mod flags;
mod follow;
mod handler;
mod host_address;
mod patch;
mod podlog;
mod proxy;
pub mod query;
pub mod registry;
mod respond;
mod review;
pub mod router;
mod scale;
mod strategy;
mod watch;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rkube_storage::{EmbeddedOptions, EmbeddedStore, Storage as _};
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub use flags::ApiserverFlags;
pub use handler::ApiServer;

use registry::alloc::ServiceAllocator;
use registry::{Registry, WriteOptions};

/// The Kubernetes version rkube emulates.
pub const KUBE_VERSION: &str = "v1.33.0";

pub fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": format!("{KUBE_VERSION}+rkube"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": format!("linux/{}", if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" }),
    })
}

/// The legacy componentstatuses list: the apiserver answers for itself and its store.
pub fn component_statuses() -> Value {
    let healthy = json!([{"type": "Healthy", "status": "True", "message": "ok"}]);
    json!({
        "kind": "ComponentStatusList",
        "apiVersion": "v1",
        "metadata": {},
        "items": [{"kind": "ComponentStatus", "apiVersion": "v1", "metadata": {"name": "etcd-0"}, "conditions": healthy}],
    })
}

/// Give the OpenAPI documents the served resource table (once per process).
fn install_openapi() {
    let subresources: Vec<Vec<rkube_openapi::SubresourceSpec<'static>>> = rkube_api::RESOURCES
        .iter()
        .map(crd::openapi::subresources)
        .collect();
    let specs: Vec<rkube_openapi::ResourceSpec<'_>> = rkube_api::RESOURCES
        .iter()
        .zip(&subresources)
        .map(|(r, subs)| crd::openapi::spec(r, subs))
        .collect();
    rkube_openapi::install(&specs);
}

/// Open the store and build the server state, creating what a fresh cluster has.
pub async fn build(flags: &ApiserverFlags) -> anyhow::Result<Arc<ApiServer>> {
    flags.check().map_err(anyhow::Error::msg)?;
    let address = host_address::advertised(flags.advertise_address, flags.insecure_bind_address)?;
    install_openapi();
    std::fs::create_dir_all(&flags.data_dir)
        .with_context(|| format!("creating {}", flags.data_dir.display()))?;
    let options = EmbeddedOptions {
        fsync: !flags.unsafe_no_fsync,
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedStore::open(&flags.data_dir.join("store"), options)
        .with_context(|| format!("opening the store under {}", flags.data_dir.display()))?;
    let cidr = flags::Cidr::parse(&flags.service_cluster_ip_range).map_err(anyhow::Error::msg)?;
    let ports =
        flags::parse_port_range(&flags.service_node_port_range).map_err(anyhow::Error::msg)?;
    let mut admission = admission::Admission::from_flags(
        &flags.admission_control,
        &flags.enable_admission_plugins,
        &flags.disable_admission_plugins,
    )
    .map_err(anyhow::Error::msg)?;
    admission.allow_privileged = flags.allow_privileged;
    let registry = Arc::new(Registry::new(
        store,
        &flags.etcd_prefix,
        ServiceAllocator::new(cidr, ports),
        admission,
    ));
    let services = rkube_api::resources::find("", "v1", "services").expect("services are served");
    let listed = registry
        .store
        .list(&registry.list_prefix(services, None), None)
        .await?;
    for kv in &listed.items {
        if let Ok(v) = serde_json::from_slice::<Value>(&kv.value) {
            registry.services.record(&v);
        }
    }
    let port = if flags.secure_port != 0 {
        flags.secure_port
    } else {
        flags.insecure_port
    };
    let server = Arc::new(ApiServer {
        registry,
        server_address: format!("{address}:{port}"),
    });
    bootstrap(&server, address).await?;
    crd::load(&server.registry)
        .await
        .map_err(|e| anyhow::anyhow!("loading customresourcedefinitions: {}", e.message))?;
    crd::spawn(server.registry.clone());
    webhooks::load(&server.registry)
        .await
        .map_err(|e| anyhow::anyhow!("loading admission webhook configurations: {}", e.message))?;
    webhooks::spawn(server.registry.clone());
    keep_kubernetes_endpoints(server.clone(), address);
    apiservices::keep_in_step(server.clone());
    Ok(server)
}

/// The group-versions CustomResourceDefinitions serve, for their local APIServices
/// (kube-aggregator's CRD registration controller).
async fn crd_group_versions(server: &ApiServer) -> Vec<apiservices::LocalGroupVersion> {
    let mut out: Vec<apiservices::LocalGroupVersion> = Vec::new();
    for r in server.registry.crds.all() {
        let gv = apiservices::LocalGroupVersion {
            group: r.group.to_string(),
            version: r.version.to_string(),
            built_in: false,
        };
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

/// The namespaces and the `kubernetes` Service every cluster starts with.
async fn bootstrap(server: &ApiServer, address: std::net::IpAddr) -> anyhow::Result<()> {
    let reg = &server.registry;
    let namespaces =
        rkube_api::resources::find("", "v1", "namespaces").expect("namespaces are served");
    let opts = WriteOptions {
        field_manager: "kube-apiserver".into(),
        ..WriteOptions::default()
    };
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        if reg.get(namespaces, None, ns).await.is_err() {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            match reg.create(namespaces, None, obj, &opts).await {
                Ok(_) => {}
                Err(e) if e.code == 409 => {}
                Err(e) => anyhow::bail!("creating namespace {ns}: {e}"),
            }
        }
    }
    let services = rkube_api::resources::find("", "v1", "services").expect("services are served");
    if reg
        .get(services, Some("default"), "kubernetes")
        .await
        .is_err()
    {
        let ip = reg.services.first_ip().to_string();
        let port = server
            .server_address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(6443);
        let svc = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "sessionAffinity": "None",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]},
        });
        match reg.create(services, Some("default"), svc, &opts).await {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => anyhow::bail!("creating the kubernetes Service: {e}"),
        }
    }
    create_system_priority_classes(reg, &opts).await?;
    // One local APIService per served group-version, available from the start.
    apiservices::sync_local(reg, &crd_group_versions(server).await).await?;
    apiservices::sync_availability(reg).await?;
    // Endpoints may not name loopback addresses (validation refuses them, as upstream's
    // does); with no routable --advertise-address there is nothing to point at yet.
    if address.is_loopback() || address.is_unspecified() {
        tracing::info!("no routable --advertise-address: the kubernetes Service has no endpoints");
        return Ok(());
    }
    reconcile_kubernetes_endpoints(server, address).await
}

/// How often the `kubernetes` Service's endpoints are put back (upstream's
/// `--endpoint-reconciler-type=lease` default interval).
const ENDPOINT_RECONCILE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Keep the `kubernetes` Service's endpoints pointing at this apiserver while it runs:
/// a client that deletes or edits them sees them come back, as upstream's reconciler
/// does.
fn keep_kubernetes_endpoints(server: Arc<ApiServer>, address: std::net::IpAddr) {
    if address.is_loopback() || address.is_unspecified() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(ENDPOINT_RECONCILE_INTERVAL).await;
            if let Err(e) = reconcile_kubernetes_endpoints(&server, address).await {
                tracing::warn!("{e:#}");
            }
        }
    });
}

/// The built-in priority classes upstream's apiserver creates at start (its scheduling
/// post-start hook); the names with the `system-` prefix are reserved for them.
async fn create_system_priority_classes(reg: &Registry, opts: &WriteOptions) -> anyhow::Result<()> {
    let classes = rkube_api::resources::find("scheduling.k8s.io", "v1", "priorityclasses")
        .expect("priorityclasses are served");
    for (name, value, description) in rkube_api::validation::SYSTEM_PRIORITY_CLASSES {
        if reg.get(classes, None, name).await.is_ok() {
            continue;
        }
        let pc = json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, "description": description,
        });
        match reg.create(classes, None, pc, opts).await {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => anyhow::bail!("creating priority class {name}: {e}"),
        }
    }
    Ok(())
}

/// Point the `kubernetes` Service at this apiserver (upstream's endpoint reconciler):
/// its Endpoints and EndpointSlice list the advertised address and port.
async fn reconcile_kubernetes_endpoints(
    server: &ApiServer,
    address: std::net::IpAddr,
) -> anyhow::Result<()> {
    let reg = &server.registry;
    let port: u16 = server
        .server_address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(6443);
    let ip = address.to_string();
    let opts = WriteOptions {
        field_manager: "kube-apiserver".into(),
        ..WriteOptions::default()
    };
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": if address.is_ipv4() { "IPv4" } else { "IPv6" },
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    for (group, plural, desired) in [
        ("", "endpoints", endpoints),
        ("discovery.k8s.io", "endpointslices", slice),
    ] {
        let r = rkube_api::resources::in_group_version(group, "v1")
            .find(|r| r.plural == plural)
            .expect("served resource");
        let wanted = desired.clone();
        if let Ok((current, _)) = reg.get_value(r, Some("default"), "kubernetes").await {
            let mut defaulted = desired.clone();
            rkube_api::defaults::apply(r, &mut defaulted);
            let same = defaulted
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| *k != "metadata")
                .all(|(k, v)| current.get(k) == Some(v));
            if same {
                continue;
            }
        }
        let result = reg
            .guaranteed_update(
                r,
                Some("default"),
                "kubernetes",
                &WriteOptions {
                    apply: true,
                    ..opts.clone()
                },
                |current| {
                    let mut next = current.cloned().unwrap_or_else(|| wanted.clone());
                    for (k, v) in wanted.as_object().into_iter().flatten() {
                        if k != "metadata" {
                            next[k] = v.clone();
                        }
                    }
                    Ok(next)
                },
            )
            .await;
        if let Err(e) = result {
            anyhow::bail!("reconciling the kubernetes {plural}: {e}");
        }
    }
    Ok(())
}

/// Serve HTTP on `listener` until the process ends.
pub async fn serve(server: Arc<ApiServer>, listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (stream, _peer): (_, SocketAddr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let server = server.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let server = server.clone();
                async move { Ok::<_, std::convert::Infallible>(handler::handle(server, req).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("connection: {e}");
            }
        });
    }
}

/// `rkube apiserver`: build, bind the insecure port, serve.
pub async fn run(flags: ApiserverFlags) -> anyhow::Result<()> {
    let server = build(&flags).await?;
    let addr = SocketAddr::new(flags.insecure_bind_address, flags.insecure_port);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(
        "serving the insecure port on http://{}",
        listener.local_addr()?
    );
    serve(server, listener).await
}
