//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}[/{version}]`, the
//! aggregated documents and the OpenAPI entry points.

use anyhow::{ensure, Context as _};
use serde_json::Value;

use super::{Ctx, Test};

/// Group-versions every Kubernetes 1.33 apiserver serves by default, with resources they
/// must list (those upstream's conformance tests look for in discovery).
pub const DEFAULT_GROUP_VERSIONS: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "validatingadmissionpolicies/status",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "validatingadmissionpolicybindings",
    ),
    ("apiextensions.k8s.io/v1", "customresourcedefinitions"),
    ("apiregistration.k8s.io/v1", "apiservices"),
    ("apps/v1", "deployments"),
    ("authentication.k8s.io/v1", "tokenreviews"),
    ("authorization.k8s.io/v1", "subjectaccessreviews"),
    ("autoscaling/v1", "horizontalpodautoscalers"),
    ("autoscaling/v2", "horizontalpodautoscalers"),
    ("batch/v1", "jobs"),
    ("certificates.k8s.io/v1", "certificatesigningrequests"),
    (
        "certificates.k8s.io/v1",
        "certificatesigningrequests/approval",
    ),
    (
        "certificates.k8s.io/v1",
        "certificatesigningrequests/status",
    ),
    ("coordination.k8s.io/v1", "leases"),
    ("discovery.k8s.io/v1", "endpointslices"),
    ("events.k8s.io/v1", "events"),
    ("flowcontrol.apiserver.k8s.io/v1", "flowschemas"),
    ("flowcontrol.apiserver.k8s.io/v1", "flowschemas/status"),
    (
        "flowcontrol.apiserver.k8s.io/v1",
        "prioritylevelconfigurations",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1",
        "prioritylevelconfigurations/status",
    ),
    ("networking.k8s.io/v1", "ingresses"),
    ("node.k8s.io/v1", "runtimeclasses"),
    ("policy/v1", "poddisruptionbudgets"),
    ("rbac.authorization.k8s.io/v1", "roles"),
    ("scheduling.k8s.io/v1", "priorityclasses"),
    ("storage.k8s.io/v1", "storageclasses"),
    ("storage.k8s.io/v1", "csidrivers"),
    ("storage.k8s.io/v1", "csinodes"),
    ("storage.k8s.io/v1", "csistoragecapacities"),
    ("storage.k8s.io/v1", "volumeattachments"),
    ("storage.k8s.io/v1", "volumeattachments/status"),
];

/// Group-versions whose resource lists are snapshotted (those of the documents).
const SNAPSHOTTED: &[&str] = &[
    "apps/v1",
    "batch/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "networking.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
];

const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("discovery", "version", "GET /version: major and minor are integers, gitVersion a v-prefixed version", |cx| Box::pin(version(cx))),
        Test::new("discovery", "api", "GET /api: an APIVersions listing v1 and the server's address", |cx| Box::pin(core_versions(cx))),
        Test::new("discovery", "api-v1", "GET /api/v1: the core APIResourceList with the documented resources, verbs and subresources", |cx| Box::pin(core_resources(cx))),
        Test::new("discovery", "apis", "GET /apis: an APIGroupList whose every group's preferredVersion is one of its versions", |cx| Box::pin(groups(cx))),
        Test::new("discovery", "group-versions", "GET /apis/{group} and /apis/{group}/{version} for every group: matching names and groupVersions, each listing a usable resource", |cx| Box::pin(group_versions(cx))),
        Test::new("discovery", "default-groups", "the group-versions a 1.33 apiserver serves by default are all in discovery, each with its main resource", |cx| Box::pin(default_groups(cx))),
        Test::new("discovery", "aggregated", "aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) for /api and /apis, negotiated by Accept, lists the same resources", |cx| Box::pin(aggregated(cx))),
        Test::new("discovery", "openapi", "GET /openapi/v2 (swagger 2.0 with core types) and /openapi/v3 (index of group-versions)", |cx| Box::pin(openapi(cx))),
        Test::new("discovery", "unknown-paths", "unknown groups, versions and resources answer 404", |cx| Box::pin(unknown_paths(cx))),
    ]
}

async fn version(cx: Ctx) -> anyhow::Result<()> {
    let v = cx.api.get_json("/version").await?;
    for field in ["major", "minor"] {
        let s = v[field].as_str().unwrap_or("");
        // Some distributions append "+" to the minor version.
        let digits = s.trim_end_matches('+');
        ensure!(
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()),
            "/version {field} is an integer: {v}"
        );
    }
    ensure!(
        v["gitVersion"].as_str().is_some_and(|g| g.starts_with('v')),
        "gitVersion is v-prefixed: {v}"
    );
    cx.snapshot("version", "GET /version", &v)
}

async fn core_versions(cx: Ctx) -> anyhow::Result<()> {
    let v = cx.api.get_json("/api").await?;
    ensure!(
        v["kind"] == "APIVersions",
        "GET /api is an APIVersions: {v}"
    );
    ensure!(
        v["versions"]
            .as_array()
            .is_some_and(|vs| vs.iter().any(|x| x == "v1")),
        "/api lists v1: {v}"
    );
    ensure!(
        v["serverAddressByClientCIDRs"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "/api gives serverAddressByClientCIDRs: {v}"
    );
    cx.snapshot("api", "GET /api", &v)
}

pub fn resource<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["resources"]
        .as_array()?
        .iter()
        .find(|r| r["name"] == name)
}

fn verbs(r: &Value) -> Vec<&str> {
    r["verbs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

async fn core_resources(cx: Ctx) -> anyhow::Result<()> {
    let v = cx.api.get_json("/api/v1").await?;
    ensure!(
        v["kind"] == "APIResourceList" && v["groupVersion"] == "v1",
        "GET /api/v1 is the v1 APIResourceList: {}",
        crate::client::excerpt(&v.to_string())
    );
    let crud = [
        "create", "delete", "get", "list", "patch", "update", "watch",
    ];
    for name in [
        "pods",
        "services",
        "replicationcontrollers",
        "namespaces",
        "nodes",
        "configmaps",
        "secrets",
        "endpoints",
        "events",
        "podtemplates",
        "serviceaccounts",
        "resourcequotas",
        "limitranges",
        "persistentvolumes",
        "persistentvolumeclaims",
    ] {
        let r = resource(&v, name).with_context(|| format!("/api/v1 lists {name}"))?;
        let have = verbs(r);
        for verb in crud {
            ensure!(have.contains(&verb), "{name} supports {verb}: {have:?}");
        }
        ensure!(
            r["kind"].as_str().is_some_and(|k| !k.is_empty()),
            "{name} has a kind"
        );
    }
    for sub in [
        "pods/status",
        "pods/log",
        "pods/exec",
        "pods/attach",
        "pods/portforward",
        "pods/proxy",
        "pods/binding",
        "pods/eviction",
        "nodes/proxy",
        "nodes/status",
        "services/proxy",
        "services/status",
        "replicationcontrollers/scale",
        "namespaces/finalize",
    ] {
        resource(&v, sub).with_context(|| format!("/api/v1 lists the {sub} subresource"))?;
    }
    cx.snapshot("api-v1", "GET /api/v1", &v)
}

async fn groups(cx: Ctx) -> anyhow::Result<()> {
    let v = cx.api.get_json("/apis").await?;
    ensure!(
        v["kind"] == "APIGroupList",
        "GET /apis is an APIGroupList: {v}"
    );
    let groups = v["groups"].as_array().context("/apis has groups")?;
    ensure!(!groups.is_empty(), "/apis lists groups");
    for g in groups {
        let name = g["name"].as_str().unwrap_or("?");
        let versions = g["versions"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        ensure!(!versions.is_empty(), "group {name} has versions");
        let preferred = &g["preferredVersion"];
        ensure!(
            versions.iter().any(|x| x == preferred),
            "group {name}: preferredVersion {preferred} is one of its versions"
        );
        for ver in versions {
            ensure!(
                ver["groupVersion"] == format!("{name}/{}", ver["version"].as_str().unwrap_or("")),
                "group {name}: groupVersion is group/version: {ver}"
            );
        }
    }
    cx.snapshot("apis", "GET /apis", &v)
}

async fn group_versions(cx: Ctx) -> anyhow::Result<()> {
    let list = cx.api.get_json("/apis").await?;
    for g in list["groups"].as_array().into_iter().flatten() {
        let name = g["name"].as_str().unwrap_or("");
        let group = cx.api.get_json(&format!("/apis/{name}")).await?;
        ensure!(
            group["kind"] == "APIGroup" && group["name"] == name,
            "GET /apis/{name} is its APIGroup: {group}"
        );
        for ver in g["versions"].as_array().into_iter().flatten() {
            let gv = ver["groupVersion"].as_str().unwrap_or("");
            let resources = cx.api.get_json(&format!("/apis/{gv}")).await?;
            ensure!(
                resources["kind"] == "APIResourceList" && resources["groupVersion"] == gv,
                "GET /apis/{gv} is its APIResourceList"
            );
            let usable = resources["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| {
                    r["name"].as_str().is_some_and(|n| !n.contains('/'))
                        && r["kind"].as_str().is_some_and(|k| !k.is_empty())
                        && !verbs(r).is_empty()
                });
            ensure!(usable, "/apis/{gv} lists a resource with a kind and verbs");
            if SNAPSHOTTED.contains(&gv) {
                cx.snapshot(
                    &gv.replace(['/', '.'], "-"),
                    &format!("GET /apis/{gv}"),
                    &resources,
                )?;
            }
        }
    }
    Ok(())
}

async fn default_groups(cx: Ctx) -> anyhow::Result<()> {
    let list = cx.api.get_json("/apis").await?;
    let served: Vec<&str> = list["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["versions"].as_array().into_iter().flatten())
        .filter_map(|v| v["groupVersion"].as_str())
        .collect();
    let mut missing: Vec<&str> = DEFAULT_GROUP_VERSIONS
        .iter()
        .map(|(gv, _)| *gv)
        .filter(|gv| !served.contains(gv))
        .collect();
    missing.dedup();
    ensure!(
        missing.is_empty(),
        "/apis lacks group-versions every 1.33 cluster serves: {missing:?}"
    );
    for (gv, main) in DEFAULT_GROUP_VERSIONS {
        let resources = cx.api.get_json(&format!("/apis/{gv}")).await?;
        resource(&resources, main).with_context(|| format!("/apis/{gv} lists {main}"))?;
    }
    Ok(())
}

async fn aggregated(cx: Ctx) -> anyhow::Result<()> {
    for (accept, version) in [(AGGREGATED_V2, "v2"), (AGGREGATED_V2BETA1, "v2beta1")] {
        for path in ["/api", "/apis"] {
            let reply = cx.api.get(path).accept(accept).send().await?;
            let doc = reply.expect(200)?;
            let content_type = reply.header("content-type").unwrap_or("");
            ensure!(
                content_type.contains("as=APIGroupDiscoveryList")
                    && content_type.contains(&format!("v={version}")),
                "GET {path} with Accept {accept} answers Content-Type {content_type:?}"
            );
            ensure!(
                doc["kind"] == "APIGroupDiscoveryList"
                    && doc["apiVersion"] == format!("apidiscovery.k8s.io/{version}"),
                "GET {path} ({version}) is an APIGroupDiscoveryList: {}",
                crate::client::excerpt(&doc.to_string())
            );
            let items = doc["items"]
                .as_array()
                .context("the discovery list has items")?;
            ensure!(!items.is_empty(), "aggregated {path} lists groups");
            if path == "/api" {
                let pods = items
                    .iter()
                    .flat_map(|g| g["versions"].as_array().into_iter().flatten())
                    .flat_map(|v| v["resources"].as_array().into_iter().flatten())
                    .find(|r| r["resource"] == "pods")
                    .context("aggregated /api lists pods")?;
                ensure!(
                    pods["responseKind"]["kind"] == "Pod" && pods["scope"] == "Namespaced",
                    "pods in aggregated discovery: {pods}"
                );
            } else {
                let plain = cx.api.get_json("/apis").await?;
                let names = |v: &Value, key: &str| -> Vec<String> {
                    let mut n: Vec<String> = v[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|g| g["metadata"]["name"].as_str().or(g["name"].as_str()))
                        .map(str::to_string)
                        .collect();
                    n.sort();
                    n
                };
                ensure!(
                    names(&doc, "items") == names(&plain, "groups"),
                    "aggregated /apis has the same groups as /apis"
                );
            }
            if version == "v2" {
                cx.snapshot(
                    &format!("aggregated{}", path.replace('/', "-")),
                    &format!("GET {path} (Accept: {accept})"),
                    &doc,
                )?;
            }
        }
    }
    Ok(())
}

async fn openapi(cx: Ctx) -> anyhow::Result<()> {
    let v2 = cx.api.get_json("/openapi/v2").await?;
    ensure!(v2["swagger"] == "2.0", "/openapi/v2 is swagger 2.0");
    ensure!(
        v2["definitions"]["io.k8s.api.core.v1.Pod"].is_object(),
        "/openapi/v2 defines io.k8s.api.core.v1.Pod"
    );
    ensure!(
        v2["paths"]["/api/v1/namespaces/{namespace}/pods"].is_object(),
        "/openapi/v2 has the pods path"
    );
    let v3 = cx.api.get_json("/openapi/v3").await?;
    let url = v3["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .context("/openapi/v3 indexes api/v1 with a serverRelativeURL")?;
    let doc = cx.api.get_json(url).await?;
    ensure!(
        doc["openapi"].as_str().is_some_and(|o| o.starts_with("3.")),
        "{url} is an OpenAPI 3 document"
    );
    ensure!(
        v3["paths"]["apis/apps/v1"].is_object(),
        "/openapi/v3 indexes apis/apps/v1"
    );
    Ok(())
}

async fn unknown_paths(cx: Ctx) -> anyhow::Result<()> {
    for path in [
        "/apis/rkube-conformance.example.com",
        "/apis/rkube-conformance.example.com/v1",
        "/apis/apps/v0",
        "/api/v0",
        "/apis/apps/v1/rkubeconformances",
        "/api/v1/rkubeconformances",
    ] {
        let r = cx.api.get(path).send().await?;
        ensure!(
            r.status == 404,
            "GET {path}: expected 404, got {}: {}",
            r.status,
            r.text()
        );
    }
    Ok(())
}
