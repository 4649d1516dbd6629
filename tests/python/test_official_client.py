"""The official Python client (`pip install kubernetes`) against a real `rkube apiserver`."""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from kubernetes import client, watch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("RKUBE_BIN", os.path.join(TARGET, "debug", "rkube"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def api():
    assert os.path.exists(BINARY), f"build the binary first: {BINARY}"
    port = free_port()
    data = tempfile.mkdtemp()
    proc = subprocess.Popen([BINARY, "apiserver", "--insecure-port", str(port), "--data-dir", data],
                            env={**os.environ, "RUST_LOG": "warn"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/readyz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    cfg = client.Configuration()
    cfg.host = url
    yield client.ApiClient(cfg)
    proc.kill()
    proc.wait()


def test_core_configmaps(api):
    core = client.CoreV1Api(api)
    assert "default" in [n.metadata.name for n in core.list_namespace().items]
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm", labels={"app": "py"}), data={"a": "1"})
    created = core.create_namespaced_config_map("default", cm)
    assert created.metadata.uid and created.metadata.resource_version
    listed = core.list_namespaced_config_map("default", label_selector="app=py")
    assert [c.metadata.name for c in listed.items] == ["py-cm"]
    patched = core.patch_namespaced_config_map("py-cm", "default", {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    patched.data["c"] = "3"
    replaced = core.replace_namespaced_config_map("py-cm", "default", patched)
    assert replaced.data["c"] == "3"
    stale = replaced
    stale.metadata.resource_version = created.metadata.resource_version
    with pytest.raises(client.exceptions.ApiException) as e:
        core.replace_namespaced_config_map("py-cm", "default", stale)
    assert e.value.status == 409
    core.delete_namespaced_config_map("py-cm", "default")
    with pytest.raises(client.exceptions.ApiException) as e:
        core.read_namespaced_config_map("py-cm", "default")
    assert e.value.status == 404


def test_watch_from_resource_version(api):
    core = client.CoreV1Api(api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w1")))
    core.patch_namespaced_config_map("w1", "default", {"data": {"x": "y"}})
    core.delete_namespaced_config_map("w1", "default")
    seen = []
    for ev in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=2):
        seen.append((ev["type"], ev["object"].metadata.name))
        if len(seen) == 3:
            break
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_apps_deployments(api):
    apps = client.AppsV1Api(api)
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx")]))))
    created = apps.create_namespaced_deployment("default", dep)
    assert created.metadata.generation == 1
    apps.patch_namespaced_deployment_scale("py-web", "default", {"spec": {"replicas": 5}})
    got = apps.read_namespaced_deployment("py-web", "default")
    assert got.spec.replicas == 5 and got.metadata.generation == 2
    assert [d.metadata.name for d in apps.list_deployment_for_all_namespaces().items] == ["py-web"]
    apps.delete_namespaced_deployment("py-web", "default")
    assert apps.list_namespaced_deployment("default").items == []
