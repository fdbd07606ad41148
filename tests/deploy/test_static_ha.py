"""Static checks of the highly available shape: deploy/compose-ha.yaml (etcd, three
Patroni members, HAProxy, the balagh replicas) with the files of deploy/ha/, and
deploy/kubernetes-ha/ (a CloudNativePG Cluster under the manifests of deploy/kubernetes)."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from deploylib import DEPLOY, compose_bind_mounts, load_compose, read_env_file

TOOLS = Path(sys.executable).parent
COMPOSE_VARIABLES = read_env_file(DEPLOY / "compose.env.example")
HA = DEPLOY / "ha"
KUBE_HA = DEPLOY / "kubernetes-ha"


def compose_ha() -> dict:
    return load_compose(COMPOSE_VARIABLES, "compose-ha.yaml")


def patroni_members(spec: dict) -> dict[str, dict]:
    return {
        name: s for name, s in spec["services"].items()
        if "PATRONI_NAME" in s.get("environment", {})
    }


def balagh_services(spec: dict) -> dict[str, dict]:
    return {
        name: s for name, s in spec["services"].items()
        if "balagh" in s.get("image", "") and "BALAGH_DATABASE_URL" in s.get("environment", {})
    }


def haproxy_listeners() -> dict[str, dict]:
    """`listen` sections of ha/haproxy.cfg: bind port, health check and servers."""
    listeners, current = {}, None
    for line in (HA / "haproxy.cfg").read_text().splitlines():
        words = line.split("#")[0].split()
        if not words:
            continue
        if words[0] == "listen":
            current = listeners.setdefault(words[1], {"servers": {}, "check": None})
        elif current is None:
            continue
        elif words[0] == "bind":
            current["port"] = int(words[1].rsplit(":", 1)[1])
        elif words[:2] == ["http-check", "send"]:
            current["check"] = words[words.index("uri") + 1]
        elif words[0] == "server":
            current["servers"][words[1]] = {
                "address": words[2],
                "check_port": int(words[words.index("port") + 1]) if "port" in words else None,
            }
    return listeners


# --- Compose ---------------------------------------------------------------------------------


def test_compose_ha_parses_and_validates():
    import compose_spec

    compose_spec.PyCompose.from_yaml(yaml.safe_dump(compose_ha())).validate()
    # Missing secrets stop `docker compose` instead of starting with empty passwords.
    with pytest.raises(ValueError, match="required variable"):
        load_compose({k: "" for k in COMPOSE_VARIABLES}, "compose-ha.yaml")


def test_patroni_members_form_one_synchronous_cluster_on_etcd():
    spec = compose_ha()
    members = patroni_members(spec)
    assert len(members) >= 3, "three Patroni members at least"
    config = yaml.safe_load((HA / "patroni.yml").read_text())
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True, "an acknowledged commit is on two members"
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"], "Patroni's timing rule"
    assert config["postgresql"]["bin_dir"] == "/usr/lib/postgresql/15/bin"
    etcd_host = config["etcd3"]["hosts"].split(":")[0]
    assert etcd_host in spec["services"], "etcd3.hosts names the etcd service"
    volumes = {v for s in members.values() for v in s["volumes"] if not v.startswith("./")}
    assert len(volumes) == len(members), "each member keeps its own data volume"
    for name, member in members.items():
        env = member["environment"]
        assert env["PATRONI_NAME"] == name
        assert env["PATRONI_RESTAPI_CONNECT_ADDRESS"] == f"{name}:8008"
        assert env["PATRONI_POSTGRESQL_CONNECT_ADDRESS"] == f"{name}:5432"
        assert env["PATRONI_SUPERUSER_PASSWORD"] and env["PATRONI_REPLICATION_PASSWORD"]
        mounts = compose_bind_mounts(member)
        assert mounts["/etc/patroni/patroni.yml"] == HA / "patroni.yml"
        assert member["depends_on"][etcd_host]["condition"] == "service_healthy"


def test_haproxy_sends_writes_to_the_leader_of_every_member():
    spec = compose_ha()
    members = patroni_members(spec)
    listeners = haproxy_listeners()
    primary = listeners["primary"]
    assert primary["check"] == "/primary", "Patroni answers 200 there on the leader only"
    assert set(primary["servers"]) == set(members)
    for name, server in primary["servers"].items():
        assert server["address"] == f"{name}:5432" and server["check_port"] == 8008, name
    assert listeners["replicas"]["check"] == "/replica"
    mounts = compose_bind_mounts(spec["services"]["haproxy"])
    assert mounts["/usr/local/etc/haproxy/haproxy.cfg"] == HA / "haproxy.cfg"
    assert "shutdown-sessions" in (HA / "haproxy.cfg").read_text(), \
        "connections to a member marked down are cut, not left hanging"

    # Every balagh container (migrations too) reaches the database through the leader port.
    services = balagh_services(spec)
    assert {"migrate", "balagh"} <= set(services)
    for name, service in services.items():
        url = urlparse(service["environment"]["BALAGH_DATABASE_URL"])
        assert (url.hostname, url.port) == ("haproxy", primary["port"]), name
    replicas = spec["services"]["balagh"]
    assert replicas["deploy"]["replicas"] >= 2
    assert replicas["environment"]["BALAGH_NO_DEMO"] == "true"
    assert replicas["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_bootstrap_creates_the_role_balagh_connects_as():
    spec = compose_ha()
    config = yaml.safe_load((HA / "patroni.yml").read_text())
    script = config["bootstrap"]["post_bootstrap"]
    containerfile = (HA / "Containerfile.patroni").read_text()
    assert re.search(rf"COPY .*post-bootstrap\.sh {re.escape(script)}$", containerfile, re.M)
    text = (HA / "post-bootstrap.sh").read_text()
    url = urlparse(spec["services"]["balagh"]["environment"]["BALAGH_DATABASE_URL"])
    assert f"CREATE ROLE {url.username} LOGIN" in text
    assert f"CREATE DATABASE {url.path.lstrip('/')} OWNER {url.username}" in text
    for member in patroni_members(spec).values():
        assert member["environment"]["APP_ROLE_PASSWORD"] == url.password


def test_patroni_image_lints_clean_and_runs_the_mounted_config():
    result = subprocess.run(
        [TOOLS / "hadolint", "--failure-threshold", "warning", HA / "Containerfile.patroni"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (HA / "Containerfile.patroni").read_text()
    assert re.search(r"^USER postgres$", text, re.M), "PostgreSQL refuses to run as root"
    assert 'CMD ["/etc/patroni/patroni.yml"]' in text
    assert "create_main_cluster = false" in text


def test_ha_scripts_pass_shellcheck():
    scripts = sorted(HA.glob("*.sh")) + [Path(__file__).resolve().parents[1] / "ha" / "setup.sh"]
    result = subprocess.run([TOOLS / "shellcheck", *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for script in scripts:
        assert "set -euo pipefail" in script.read_text(), script


# --- Kubernetes with CloudNativePG -----------------------------------------------------------


def kube_ha_documents() -> list[dict]:
    docs = []
    for path in sorted(KUBE_HA.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def base_object(kind: str, name: str) -> dict:
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == kind and doc["metadata"]["name"] == name:
                return doc
    raise AssertionError(f"no {kind} {name} in deploy/kubernetes")


def apply_json_patch(doc: dict, operations: list[dict]) -> dict:
    """The `add` operations of a JSON patch (RFC 6902), all kustomize is given here."""
    doc = copy.deepcopy(doc)
    for op in operations:
        assert op["op"] == "add", op
        *parents, last = [p for p in op["path"].split("/") if p]
        target = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        assert last not in target, f"{op['path']} exists already: add would replace it"
        target[last] = op["value"]
    return doc


def test_cnpg_cluster_is_three_synchronous_instances():
    (cluster,) = [d for d in kube_ha_documents() if d["kind"] == "Cluster"]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert "namespace" not in cluster["metadata"], "set the namespace in kustomize"
    spec = cluster["spec"]
    assert spec["instances"] == 3
    sync = spec["postgresql"]["synchronous"]
    assert sync["method"] in ("any", "first") and sync["number"] >= 1
    assert sync["dataDurability"] == "required", "never acknowledge a commit on one instance"
    assert spec["bootstrap"]["initdb"]["database"] == "balagh"
    assert re.search(r":15(\.|$)", spec["imageName"]), "PostgreSQL 15, as everywhere else"
    assert spec["affinity"]["podAntiAffinityType"] == "required", "one instance per node"


def test_kustomization_points_balagh_at_the_primary_service(tmp_path):
    kustomization = yaml.safe_load((KUBE_HA / "kustomization.yaml").read_text())
    assert "../kubernetes" in kustomization["resources"]
    (cluster,) = [d for d in kube_ha_documents() if d["kind"] == "Cluster"]
    assert "postgres-cluster.yaml" in kustomization["resources"]
    # CloudNativePG writes <cluster>-app with the URL of the owner role on <cluster>-rw.
    app_secret = f"{cluster['metadata']['name']}-app"
    patched = {}
    for patch in kustomization["patches"]:
        target = patch["target"]
        base = base_object(target["kind"], target["name"])
        result = apply_json_patch(base, yaml.safe_load(patch["patch"]))
        patched[target["kind"]] = result
        (container,) = result["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        ref = env["BALAGH_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == (app_secret, "uri"), target
    assert set(patched) == {"Deployment", "Job"}, "the pods and the migrations"
    # The patched objects are still valid Kubernetes objects.
    files = []
    for kind, doc in patched.items():
        path = tmp_path / f"{kind.lower()}.yaml"
        path.write_text(yaml.safe_dump(doc))
        files.append(path)
    result = subprocess.run(
        [TOOLS / "kubernetes-validate", "--strict", "--quiet", "-k", "1.28.0", *files],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
