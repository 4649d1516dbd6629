//! `pods/{name}/log`: streamed from the kubelet of the pod's node (its InternalIP and
//! `status.daemonEndpoints.kubeletEndpoint.Port`), like upstream's apiserver does.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http_body_util::{BodyExt, BodyStream, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rkube_api::status::{ApiError, Qualified};
use serde_json::Value;

use crate::proxy::kubelet_address;
use crate::registry::Registry;
use crate::respond::{self, Body};

/// The query parameters the kubelet's containerLogs endpoint takes.
const PASSED_ON: &[&str] = &[
    "follow",
    "previous",
    "timestamps",
    "tailLines",
    "sinceSeconds",
    "sinceTime",
    "limitBytes",
];

fn param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The container whose log is asked for: `container=`, else the pod's only container.
fn container<'a>(pod: &'a Value, name: &str, query: Option<&'a str>) -> Result<String, ApiError> {
    let names: Vec<&str> = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| pod["spec"][k].as_array())
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    match param(query, "container").filter(|c| !c.is_empty()) {
        Some(c) => {
            let c = percent_encoding::percent_decode_str(c)
                .decode_utf8_lossy()
                .into_owned();
            if names.contains(&c.as_str()) {
                Ok(c)
            } else {
                Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )))
            }
        }
        None => {
            let app: Vec<&str> = pod["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str())
                .collect();
            match app[..] {
                [only] => Ok(only.to_string()),
                _ => Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    app.join(" ")
                ))),
            }
        }
    }
}

pub async fn pod_log(
    registry: &Registry,
    pod: &Value,
    name: &str,
    query: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let node_name = pod["spec"]["nodeName"].as_str().unwrap_or("");
    if node_name.is_empty() {
        // A pod with no node has no logs yet: upstream answers 200 with an empty body.
        return Ok(respond::bytes_response(200, "text/plain", ""));
    }
    let container = container(pod, name, query)?;
    let nodes = rkube_api::resources::find("", "v1", "nodes")
        .ok_or_else(|| ApiError::internal("nodes are not served"))?;
    let (node, _) = registry
        .get_value(nodes, None, node_name)
        .await
        .map_err(|_| {
            ApiError::not_found(
                Qualified {
                    group: "",
                    resource: "nodes",
                },
                node_name,
            )
        })?;
    let (ip, port) = kubelet_address(&node).ok_or_else(|| {
        ApiError::internal(format!("node {node_name:?} has no address for its kubelet"))
    })?;
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or("default");
    let passed: Vec<String> = PASSED_ON
        .iter()
        .filter_map(|k| param(query, k).map(|v| format!("{k}={v}")))
        .collect();
    let host = if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip
    };
    let uri = format!(
        "http://{host}:{port}/containerLogs/{namespace}/{name}/{container}?{}",
        passed.join("&")
    );
    let uri: http::Uri = uri
        .parse()
        .map_err(|e| ApiError::internal(format!("kubelet address {uri:?}: {e}")))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<http_body_util::Empty<Bytes>>();
    let response = client
        .get(uri)
        .await
        .map_err(|e| ApiError::internal(format!("Get kubelet of node {node_name:?}: {e}")))?;
    let status = response.status().as_u16();
    if status != 200 {
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let message = String::from_utf8_lossy(&body).trim().to_string();
        return Err(if status == 404 {
            ApiError::not_found(
                Qualified {
                    group: "",
                    resource: "pods",
                },
                name,
            )
        } else {
            ApiError::bad_request(message)
        });
    }
    // Chunks go out as the kubelet sends them (kubectl logs -f); a broken stream ends it.
    let frames = BodyStream::new(response.into_body())
        .take_while(|frame| std::future::ready(frame.is_ok()))
        .filter_map(|frame| {
            std::future::ready(
                frame
                    .ok()
                    .and_then(|f| f.into_data().ok())
                    .map(|d| Ok::<_, Infallible>(Frame::data(d))),
            )
        });
    let mut out = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    out.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_the_container() {
        let one = json!({"spec": {"containers": [{"name": "a"}]}});
        assert_eq!(container(&one, "p", None).unwrap(), "a");
        assert_eq!(
            container(&one, "p", Some("container=a&follow=true")).unwrap(),
            "a"
        );
        assert!(container(&one, "p", Some("container=b")).is_err());
        let two = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let e = container(&two, "p", None).unwrap_err();
        assert_eq!(
            e.message,
            "a container name must be specified for pod p, choose one of: [a b]"
        );
    }
}
