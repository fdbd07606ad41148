"""Static checks of the deployment files: they parse, have the structure their engines
need, agree with one another, and name only settings the binary reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from deploylib import (
    BALAGH_VAR,
    DEPLOY,
    ROOT,
    base_env,
    binary,
    compose_bind_mounts,
    binary_env_names,
    compose_variables_used,
    file_config_keys,
    interpolate,
    kube_object,
    kube_objects,
    kubernetes_documents,
    load_compose,
    parse_containerfile,
    parse_unit,
    pod_env,
    read_env_file,
    run,
    temp_dir,
    unit_values,
)

TOOLS = Path(sys.executable).parent
COMPOSE_VARIABLES = read_env_file(DEPLOY / "compose.env.example")


def deploy_text_files() -> list[Path]:
    return sorted(
        p for p in DEPLOY.rglob("*")
        if p.is_file() and p.suffix not in {".png", ".jpg"}
    )


# --- settings cannot drift from the binary ---------------------------------------------------


def test_binary_settings_are_found():
    names = binary_env_names()
    assert {"BALAGH_DATABASE_URL", "BALAGH_LISTEN", "BALAGH_PHOTOS_S3_SECRET_ACCESS_KEY"} <= names
    assert {"listen", "database.max_connections", "photos.s3.bucket"} <= file_config_keys()


def test_every_variable_in_deploy_files_is_read_by_the_binary():
    known = binary_env_names()
    unknown = {}
    for path in deploy_text_files():
        for name in set(BALAGH_VAR.findall(path.read_text(errors="replace"))):
            if name not in known:
                unknown.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not unknown, f"variables the binary does not read (config.rs): {unknown}"


def test_configuration_reference_documents_every_setting():
    reference = (DEPLOY / "CONFIGURATION.md").read_text()
    missing_vars = sorted(n for n in binary_env_names() if f"`{n}`" not in reference)
    missing_keys = sorted(k for k in file_config_keys() if f"`{k}`" not in reference)
    assert not missing_vars and not missing_keys, (
        "deploy/CONFIGURATION.md lacks "
        f"variables {missing_vars} and file keys {missing_keys}"
    )


def test_example_toml_names_only_real_keys():
    def keys(table, prefix=""):
        for key, value in table.items():
            if isinstance(value, dict):
                yield from keys(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    # Commented-out keys count too: uncommenting one must work.
    text = (DEPLOY / "balagh.example.toml").read_text()
    uncommented = re.sub(r"^# ([a-z_0-9]+ = )", r"\1", text, flags=re.M)
    uncommented = uncommented.replace('"…"', '"x"')
    assert set(keys(tomllib.loads(uncommented))) <= file_config_keys()


def toml_files() -> list:
    files = [pytest.param("deploy/balagh.example.toml", (DEPLOY / "balagh.example.toml").read_text(),
                          id="balagh.example.toml")]
    for config_map in kube_objects("ConfigMap"):
        for key, content in config_map.get("data", {}).items():
            if key.endswith(".toml"):
                name = f"configmap-{config_map['metadata']['name']}-{key}"
                files.append(pytest.param(name, content, id=name))
    for path in sorted((DEPLOY / "compose").glob("*.toml")):
        name = f"compose-{path.name}"
        files.append(pytest.param(name, path.read_text(), id=name))
    return files


@pytest.mark.parametrize("name,content", toml_files())
def test_toml_files_are_accepted_by_the_binary(name, content):
    """The binary refuses unknown keys and bad values: let it judge each file."""
    with temp_dir("balagh-toml-") as tmp:
        config = tmp / "balagh.toml"
        config.write_text(content)
        result = run(
            [binary(), "migrate", "--config", config, "--database-url", f"sqlite://{tmp}/db.sqlite3"],
            base_env(), tmp,
        )
        assert result.returncode == 0, f"{name}: {result.stderr}"


# --- Containerfile ---------------------------------------------------------------------------


def test_containerfile_lints_clean():
    result = subprocess.run(
        [TOOLS / "hadolint", "--failure-threshold", "warning", DEPLOY / "Containerfile"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_containerfile_builds_balagh_in_stages():
    image = parse_containerfile()
    text = (DEPLOY / "Containerfile").read_text()
    rust_version = re.search(r'^rust-version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)[1]
    assert re.search(rf"^ARG RUST_VERSION={re.escape(rust_version)}$", text, re.M), \
        f"the builder must use the workspace's rust-version {rust_version}"
    assert any("rust:${RUST_VERSION}-bookworm" in s for s in image.stages)
    assert image.base.endswith("debian:bookworm-slim"), "runtime on the builder's Debian release"
    # Dependencies are cooked before the sources are copied: a source edit keeps that layer.
    cook = text.index("cargo chef cook --release --locked -p balagh")
    copy_sources = text.index("COPY . .", text.index("AS builder"))
    assert cook < copy_sources
    assert "cargo build --release --locked -p balagh" in text
    assert any("ca-certificates" in r for r in image.runs)


def test_containerfile_runtime_contract():
    image = parse_containerfile()
    assert image.entrypoint == ["balagh"] and image.cmd == ["serve"]
    assert any(c.split()[-1] in ("/usr/local/bin/balagh", "/usr/local/bin/") for c in image.copies)
    user = image.user.split(":")[0]
    assert user.isdigit() and int(user) != 0, "a numeric non-root USER (runAsNonRoot can check it)"
    assert image.env["BALAGH_LISTEN"] == "0.0.0.0:8080"
    assert image.expose == ["8080"]
    assert image.workdir in image.volumes, "the working directory is the data volume"
    data = image.workdir.rstrip("/") + "/"
    assert image.env["BALAGH_DATABASE_URL"].removeprefix("sqlite://").startswith(data)
    assert image.env["BALAGH_PHOTOS_DIR"].startswith(data)
    assert image.stopsignal == "SIGTERM"
    assert "/healthz" in " ".join(image.healthcheck)


# What debian:bookworm-slim has without installing anything (libc6, libgcc-s1).
BASE_IMAGE_LIBRARIES = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libgcc_s.so.1",
                        "libpthread.so.0", "libdl.so.2", "librt.so.1", "ld-linux-x86-64.so.2"}


@pytest.mark.skipif(shutil.which("ldd") is None, reason="ldd not installed")
def test_binary_needs_only_libraries_of_the_runtime_image():
    """A new C dependency (libssl, libpq…) must be installed in the runtime stage too."""
    result = subprocess.run(["ldd", binary()], capture_output=True, text=True, check=True)
    libraries = {Path(line.split()[0]).name for line in result.stdout.splitlines() if line.strip()}
    assert libraries <= BASE_IMAGE_LIBRARIES, \
        f"install these in the Containerfile's runtime stage: {sorted(libraries - BASE_IMAGE_LIBRARIES)}"


# --- Compose ---------------------------------------------------------------------------------


def compose() -> dict:
    return load_compose(COMPOSE_VARIABLES)


def serve_services(spec: dict) -> dict[str, dict]:
    return {
        name: s for name, s in spec["services"].items()
        if "image" in s and "balagh" in s["image"] and s.get("command", ["serve"])[0] == "serve"
    }


def test_compose_parses_and_validates():
    import compose_spec

    spec = compose()
    compose_spec.PyCompose.from_yaml(yaml.safe_dump(spec)).validate()


def test_compose_variables_come_from_the_example_env_file():
    text = (DEPLOY / "compose.yaml").read_text()
    used = compose_variables_used(text)
    with_default = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):-", text))
    assert used - with_default <= set(COMPOSE_VARIABLES), \
        f"set in deploy/compose.env.example: {sorted(used - with_default - set(COMPOSE_VARIABLES))}"
    # Missing secrets stop `docker compose` instead of starting with empty passwords.
    empty = {k: "" for k in COMPOSE_VARIABLES}
    with pytest.raises(ValueError, match="required variable"):
        load_compose(empty)


def test_compose_secrets_are_not_written_in_the_file():
    raw = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    env = raw["x-balagh-env"]
    for key in ("BALAGH_PHOTOS_S3_SECRET_ACCESS_KEY", "BALAGH_PHOTOS_URL_SIGNING_KEY"):
        assert env[key].startswith("${") and ":?" in env[key], key
    assert "${POSTGRES_PASSWORD:?" in env["BALAGH_DATABASE_URL"]


def test_compose_topology():
    spec = compose()
    services = spec["services"]
    assert services["postgres"]["image"].split("/")[-1].startswith("postgres:15")
    assert "healthcheck" in services["postgres"]

    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"] and migrate.get("restart") == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"

    replicas = serve_services(spec)
    assert sum(s.get("deploy", {}).get("replicas", 1) for s in replicas.values()) >= 2, \
        "two balagh serve replicas at least"
    for name, service in replicas.items():
        assert service["image"] == migrate["image"], f"{name} runs the image migrate ran"
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert "healthcheck" in service, name
        env = service["environment"]
        assert env["BALAGH_DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["BALAGH_DATABASE_URL"]
        assert env["BALAGH_PHOTOS_STORAGE"] == "s3"
        assert env["BALAGH_NO_DEMO"] == "true", "replicas must not race to load demo data"
        assert env["BALAGH_PHOTOS_URL_SIGNING_KEY"], "one signing key for all replicas"

    # The S3 store and the bucket the replicas use, created by a one-shot before they start.
    init = services["s3-init"]
    assert init.get("restart") == "no"
    assert "mb" in " ".join(init["command"])
    env = next(iter(replicas.values()))["environment"]
    assert init["environment"]["S3_BUCKET"] == env["BALAGH_PHOTOS_S3_BUCKET"]
    assert next(iter(replicas.values()))["depends_on"]["s3-init"]["condition"] == "service_completed_successfully"
    endpoint_host = re.match(r"https?://([^:/]+)", env["BALAGH_PHOTOS_S3_ENDPOINT"])[1]
    assert endpoint_host in services["s3"]["networks"]["default"]["aliases"] or endpoint_host == "s3"
    assert "healthcheck" in services["s3"]


def test_compose_config_file_is_mounted_where_balagh_config_points():
    for name, service in compose()["services"].items():
        env = service.get("environment", {})
        if "BALAGH_CONFIG" in env:
            mounted = compose_bind_mounts(service)
            assert env["BALAGH_CONFIG"] in mounted, name
            assert mounted[env["BALAGH_CONFIG"]].is_file(), name


def trusted_proxies(config_path_in_container: str, files: dict) -> list:
    import ipaddress

    config = tomllib.loads(files[config_path_in_container])
    return [ipaddress.ip_network(p, strict=False) for p in config["http"]["trusted_proxies"]]


def test_compose_replicas_trust_the_proxy_network():
    """nginx reaches the replicas from the Compose network: its X-Forwarded-For must be
    trusted (per-address rate limits and the login throttle), and it must write one."""
    import ipaddress

    spec = compose()
    subnets = [ipaddress.ip_network(c["subnet"]) for c in spec["networks"]["default"]["ipam"]["config"]]
    assert subnets, "an explicit subnet for the Compose network"
    for name, service in serve_services(spec).items():
        files = {t: s.read_text() for t, s in compose_bind_mounts(service).items()}
        trusted = trusted_proxies(service["environment"]["BALAGH_CONFIG"], files)
        for subnet in subnets:
            assert any(subnet.version == t.version and subnet.subnet_of(t) for t in trusted), \
                f"{name}: http.trusted_proxies {trusted} does not cover the network {subnet}"
    conf = (DEPLOY / spec["services"]["proxy"]["volumes"][0].split(":")[0]).read_text()
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", conf), \
        "the edge proxy writes the address it sees, not the client's own header"


def test_compose_proxy_reaches_the_replicas():
    spec = compose()
    proxy = spec["services"]["proxy"]
    mount = proxy["volumes"][0].split(":")[0]
    conf = (DEPLOY / mount).read_text()
    port = parse_containerfile().env["BALAGH_LISTEN"].rsplit(":", 1)[1]
    (replica,) = serve_services(spec)
    assert re.search(rf"server\s+{replica}:{port}\b", conf)
    assert "proxy_pass http://balagh;" in conf


# --- Kubernetes ------------------------------------------------------------------------------


def manifests() -> list[Path]:
    return sorted(p for p in (DEPLOY / "kubernetes").glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.mark.parametrize("version", ["1.28.0", None], ids=["k8s-1.28", "k8s-latest"])
def test_kubernetes_manifests_validate_against_the_api_schemas(version):
    args = [TOOLS / "kubernetes-validate", "--strict", "--quiet"]
    if version:
        args += ["-k", version]
    result = subprocess.run(args + manifests(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_objects_are_namespace_agnostic_and_named():
    for path, doc in kubernetes_documents():
        assert doc.get("apiVersion") and doc.get("kind"), path
        if doc["kind"] == "Kustomization":
            continue
        assert doc["metadata"].get("name"), path
        assert "namespace" not in doc["metadata"], f"{path}: set the namespace in kustomize"


def test_kustomization_lists_the_manifests():
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    for path in manifests():
        if ".example." in path.name:
            assert path.name not in listed, f"{path.name} holds placeholders: not applied by default"
        else:
            assert path.name in listed, f"{path.name} is missing from kustomization.yaml"
    assert all((DEPLOY / "kubernetes" / r).exists() for r in listed)
    image_names = {i["name"] for i in kustomization["images"]}
    for kind in ("Deployment", "Job"):
        for obj in kube_objects(kind):
            for c in obj["spec"]["template"]["spec"]["containers"]:
                assert c["image"] in image_names, f"{kind} image {c['image']} is not set by kustomize"


def pod_labels() -> dict:
    return kube_object("Deployment", "balagh")["spec"]["template"]["metadata"]["labels"]


def subset(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_deployment():
    deployment = kube_object("Deployment", "balagh")
    spec = deployment["spec"]
    assert subset(spec["selector"]["matchLabels"], pod_labels())
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["serve"]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}
    env, _ = pod_env(pod, container)
    listen_port = int(env.get("BALAGH_LISTEN", parse_containerfile().env["BALAGH_LISTEN"]).rsplit(":", 1)[1])
    assert port["http"] == listen_port, "the container port is the port balagh listens on"

    def probe(name):
        get = container[name]["httpGet"]
        assert get["port"] in ("http", listen_port), f"{name} on the container port"
        return get["path"]

    assert probe("readinessProbe") == "/readyz"
    assert probe("livenessProbe") == "/healthz"
    assert probe("startupProbe") == "/healthz"

    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(parse_containerfile().user.split(":")[0])
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]

    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep" and int(sleep[1]) > 0
    # preStop + the longest request (http.request_timeout_seconds, 30 s) fit in the grace.
    assert pod["terminationGracePeriodSeconds"] >= int(sleep[1]) + 30

    for constraint in pod["topologySpreadConstraints"]:
        assert subset(constraint["labelSelector"]["matchLabels"], pod_labels())
    # Several replicas: one shared photo store and one URL-signing key.
    assert env["BALAGH_PHOTOS_STORAGE"] == "s3" and env["BALAGH_PHOTOS_URL_SIGNING_KEY"]
    assert env["BALAGH_NO_DEMO"] == "true"


def test_config_file_is_mounted_where_balagh_config_points():
    for kind in ("Deployment", "Job"):
        for obj in kube_objects(kind):
            pod = obj["spec"]["template"]["spec"]
            for container in pod["containers"]:
                env, files = pod_env(pod, container)
                if "BALAGH_CONFIG" in env:
                    assert env["BALAGH_CONFIG"] in files, f"{kind} {obj['metadata']['name']}"


def test_pods_trust_the_ingress_controller():
    deployment = kube_object("Deployment", "balagh")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env, files = pod_env(pod, container)
    assert trusted_proxies(env["BALAGH_CONFIG"], files), \
        "http.trusted_proxies: the ingress controller's pod network"


def test_hpa_scales_the_deployment():
    hpa = kube_object("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == ("apps/v1", "Deployment", "balagh")
    assert hpa["spec"]["minReplicas"] >= 2
    assert any(m["resource"]["name"] == "cpu" for m in hpa["spec"]["metrics"])
    # The HPA owns the count: a replicas field in the Deployment would reset it on apply.
    assert "replicas" not in kube_object("Deployment", "balagh")["spec"]


def test_pdb_protects_the_deployment_pods():
    pdb = kube_object("PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    selector = pdb["spec"]["selector"]["matchLabels"]
    assert selector == kube_object("Deployment", "balagh")["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["minAvailable"] < kube_object("HorizontalPodAutoscaler")["spec"]["minReplicas"], \
        "a drain must be able to evict a pod"


def test_service_selects_the_pods():
    service = kube_object("Service", "balagh")
    assert subset(service["spec"]["selector"], pod_labels())
    # … and not the migration Job's pods.
    job_labels = kube_object("Job")["spec"]["template"]["metadata"]["labels"]
    assert not subset(service["spec"]["selector"], job_labels)
    (container,) = kube_object("Deployment", "balagh")["spec"]["template"]["spec"]["containers"]
    port_names = {p["name"] for p in container["ports"]} | {p["containerPort"] for p in container["ports"]}
    assert all(p["targetPort"] in port_names for p in service["spec"]["ports"])


def test_migration_job_runs_migrate_with_the_deployment_settings():
    job = kube_object("Job", "balagh-migrate")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["migrate"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    (serve,) = kube_object("Deployment", "balagh")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == serve["image"]
    assert container["envFrom"] == serve["envFrom"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_secret_example_holds_only_placeholders():
    (secret,) = kube_objects("Secret")
    assert all("CHANGE-ME" in v for v in secret["stringData"].values())
    for key in ("BALAGH_DATABASE_URL", "BALAGH_PHOTOS_S3_SECRET_ACCESS_KEY", "BALAGH_PHOTOS_URL_SIGNING_KEY"):
        assert key in secret["stringData"], f"{key} belongs in the Secret"
    config_env = {k for c in kube_objects("ConfigMap") for k in c.get("data", {})}
    assert not config_env & set(secret["stringData"]), "a setting is either secret or not"


def test_ingress_example_points_at_the_service():
    ingress = kube_object("Ingress")
    service = kube_object("Service", "balagh")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


# --- systemd ---------------------------------------------------------------------------------

UNIT = DEPLOY / "systemd" / "balagh.service"


def unit_with_real_binary(tmp: Path) -> Path:
    path = tmp / "balagh.service"
    path.write_text(UNIT.read_text().replace("/usr/local/bin/balagh", str(binary())))
    return path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_unit_verifies_and_is_hardened():
    with temp_dir("balagh-unit-") as tmp:
        path = unit_with_real_binary(tmp)
        result = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", path.name], cwd=tmp, capture_output=True, text=True
        )
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", path.name], cwd=tmp, capture_output=True, text=True
        )
        exposure = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
        assert exposure, result.stdout + result.stderr
        assert float(exposure[1]) <= 2.0, f"exposure {exposure[1]}: keep the unit's hardening"


def test_systemd_unit_contract():
    unit = parse_unit(UNIT)
    service = dict(unit["Service"])
    assert unit_values(unit, "Service", "ExecStartPre") == ["/usr/local/bin/balagh migrate"]
    assert service["ExecStart"] == "/usr/local/bin/balagh serve"
    assert service["Restart"] == "on-failure"
    assert service.get("DynamicUser") == "yes" or service.get("User") not in (None, "root")
    for directive, value in [
        ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
        ("ProtectHome", "yes"),
    ]:
        assert service.get(directive) == value, directive
    state = f"/var/lib/{service['StateDirectory']}/"
    env = dict(v.split("=", 1) for v in unit_values(unit, "Service", "Environment"))
    # ProtectSystem=strict: everything balagh writes is under its StateDirectory.
    assert env["BALAGH_DATABASE_URL"].removeprefix("sqlite://").startswith(state)
    assert env["BALAGH_PHOTOS_DIR"].startswith(state)
    assert service["WorkingDirectory"] + "/" == state
    env_file = read_env_file(DEPLOY / "systemd" / "balagh.env.example")
    for key in ("BALAGH_DATABASE_URL", "BALAGH_PHOTOS_DIR"):
        assert env_file[key].removeprefix("sqlite://").startswith(state), key
    assert service["EnvironmentFile"].lstrip("-") == "/etc/balagh/balagh.env"


# --- scripts ---------------------------------------------------------------------------------


def test_shell_scripts_pass_shellcheck():
    scripts = sorted(DEPLOY.glob("*.sh")) + sorted((ROOT / "tests" / "deploy").glob("*.sh"))
    assert scripts
    result = subprocess.run([TOOLS / "shellcheck", *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for script in scripts:
        assert "set -euo pipefail" in script.read_text(), script


def test_interpolation_matches_compose_rules():
    variables = {"A": "x", "EMPTY": ""}
    assert interpolate("${A}-${B:-d}-$$A-${EMPTY:-e}-${EMPTY-f}", variables) == "x-d-$A-e-"
    with pytest.raises(ValueError):
        interpolate("${B:?needed}", variables)
