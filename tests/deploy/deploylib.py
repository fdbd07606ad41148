"""Helpers for the deployment checks: reading the deploy files the way their engines do,
and starting the real `balagh` binary with the settings they give it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
POSTGRES_URL = os.environ.get(
    "BALAGH_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


# --- the binary's own settings ------------------------------------------------------------


def binary_env_names() -> set[str]:
    """Environment variables the binary reads: clap `env = "…"` attributes and `…_ENV`
    constants in backend/balagh/src, plus RUST_LOG (the log filter)."""
    names = {"RUST_LOG"}
    for source in (ROOT / "backend" / "balagh" / "src").rglob("*.rs"):
        text = source.read_text()
        names.update(re.findall(r'\benv\s*=\s*"([A-Z][A-Z0-9_]*)"', text))
        names.update(re.findall(r'const\s+[A-Z0-9_]+\s*:\s*&str\s*=\s*"(BALAGH_[A-Z0-9_]+)"', text))
    return names


def file_config_keys() -> set[str]:
    """Dotted keys of the TOML file (`photos.s3.bucket`), from the `*FileConfig` structs of
    config.rs and its section modules (`*_config.rs`): a field whose type is another such
    struct is a section."""
    src = ROOT / "backend" / "balagh" / "src"
    text = "\n".join(
        p.read_text() for p in [src / "config.rs", *sorted(src.glob("*_config.rs"))]
    )
    structs: dict[str, list[tuple[str, str]]] = {}
    for name, body in re.findall(r"pub struct (\w*FileConfig)\s*\{(.*?)\n\}", text, re.S):
        structs[name] = re.findall(r"^\s*pub (\w+):\s*([^,]+),", body, re.M)

    def walk(struct: str, prefix: str) -> set[str]:
        keys: set[str] = set()
        for field_name, ty in structs.get(struct, []):
            ty = ty.strip()
            if ty in structs:
                keys |= walk(ty, f"{prefix}{field_name}.")
            else:
                keys.add(f"{prefix}{field_name}")
        return keys

    assert "FileConfig" in structs, "config.rs has no FileConfig struct"
    return walk("FileConfig", "")


BALAGH_VAR = re.compile(r"\bBALAGH_[A-Z0-9_]*[A-Z0-9]\b")


# --- Containerfile ---------------------------------------------------------------------------


@dataclass
class Image:
    """The runtime stage of deploy/Containerfile."""

    base: str
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None
    volumes: list[str] = field(default_factory=list)
    user: str | None = None
    expose: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    healthcheck_options: dict[str, str] = field(default_factory=dict)
    copies: list[str] = field(default_factory=list)
    stopsignal: str | None = None
    stages: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)


def containerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def _env_pairs(args: str) -> dict[str, str]:
    if "=" not in args.split()[0]:
        key, _, value = args.partition(" ")
        return {key: value.strip()}
    return dict(item.split("=", 1) for item in shlex.split(args))


def parse_containerfile(path: Path = DEPLOY / "Containerfile") -> Image:
    image: Image | None = None
    stages: list[str] = []
    for word, args in containerfile_instructions(path.read_text()):
        if word == "FROM":
            stages.append(args)
            image = Image(base=args.split()[0])
            continue
        if image is None:
            continue  # ARG before the first FROM
        if word == "ENV":
            image.env.update(_env_pairs(args))
        elif word == "WORKDIR":
            image.workdir = args
        elif word == "VOLUME":
            image.volumes += json.loads(args) if args.startswith("[") else args.split()
        elif word == "USER":
            image.user = args
        elif word == "EXPOSE":
            image.expose += args.split()
        elif word == "ENTRYPOINT":
            image.entrypoint = json.loads(args)
        elif word == "CMD":
            image.cmd = json.loads(args)
        elif word == "COPY":
            image.copies.append(args)
        elif word == "RUN":
            image.runs.append(args)
        elif word == "STOPSIGNAL":
            image.stopsignal = args
        elif word == "HEALTHCHECK":
            options, _, command = args.partition("CMD ")
            image.healthcheck = json.loads(command)
            image.healthcheck_options = dict(
                opt[2:].split("=", 1) for opt in options.split() if opt.startswith("--")
            )
    assert image is not None, "no FROM in the Containerfile"
    image.stages = stages
    return image


# --- Compose ---------------------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value, variables: dict[str, str], missing: set[str] | None = None):
    """Compose variable substitution: ${VAR}, ${VAR:-default}, ${VAR:?error}, $VAR, $$."""
    if isinstance(value, dict):
        return {interpolate(k, variables, missing): interpolate(v, variables, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables, missing) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3)
        current = variables.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":-", "-") and unset:
            return arg
        if op in (":?", "?") and unset:
            raise ValueError(f"required variable {name} is not set: {arg}")
        if current is None and missing is not None:
            missing.add(name)
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


def compose_variables_used(text: str) -> set[str]:
    return {m.group(1) or m.group(4) for m in _INTERPOLATION.finditer(text) if m.group(0) != "$$"}


def load_compose(variables: dict[str, str], file: str = "compose.yaml") -> dict:
    raw = yaml.safe_load((DEPLOY / file).read_text())
    return interpolate(raw, variables)


def compose_bind_mounts(service: dict) -> dict[str, Path]:
    """The files of deploy/ a Compose service mounts (short syntax `./src:/dst[:ro]`):
    container path → file on this machine."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts[target] = DEPLOY / source
    return mounts


# --- Kubernetes ------------------------------------------------------------------------------


def kubernetes_documents() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path, doc))
    return docs


def kube_objects(kind: str) -> list[dict]:
    return [doc for _, doc in kubernetes_documents() if doc.get("kind") == kind]


def kube_object(kind: str, name: str | None = None) -> dict:
    found = [d for d in kube_objects(kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pod_env(pod_spec: dict, container: dict) -> tuple[dict[str, str], dict[str, str]]:
    """The environment a container gets from envFrom/env (ConfigMaps and Secrets of the
    manifests), and the files its configMap volumes mount (path → content)."""
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in kube_objects("ConfigMap")}
    secrets_ = {s["metadata"]["name"]: s.get("stringData", {}) for s in kube_objects("Secret")}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]])
        if "secretRef" in source:
            env.update(secrets_[source["secretRef"]["name"]])
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", "")
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    files: dict[str, str] = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            for key, content in configmaps[volume["configMap"]["name"]].items():
                files[f"{mount['mountPath'].rstrip('/')}/{key}"] = content
    return env, files


# --- systemd ---------------------------------------------------------------------------------


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def unit_values(unit: dict, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


# --- running the binary ----------------------------------------------------------------------


def binary() -> Path:
    explicit = os.environ.get("BALAGH_TEST_BINARY")
    if explicit:
        # Relative to the repository (tests/run passes target/debug/balagh); the tests run
        # the binary from other working directories.
        path = Path(explicit)
        return path if path.is_absolute() else (ROOT / path).resolve()
    candidates = [ROOT / "target" / p / "balagh" for p in ("debug", "release")]
    existing = [c for c in candidates if c.exists()]
    assert existing, "build the binary first: cargo build -p balagh"
    return max(existing, key=lambda c: c.stat().st_mtime)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env() -> dict[str, str]:
    """A clean environment: nothing of the caller's BALAGH_* settings leaks in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BALAGH_") and k != "RUST_LOG"}


def http_request(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], bytes]:
    """`path` is a path under `base`, or a whole http:// URL (a signed URL)."""
    url = urllib.parse.urlsplit(path if "://" in path else base + path)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        target = url.path + (f"?{url.query}" if url.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def http_json(base, method, path, payload=None, token=None, headers=None):
    all_headers = dict(headers or {})
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        all_headers["Content-Type"] = "application/json"
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    status, response_headers, raw = http_request(base, method, path, body, all_headers)
    try:
        data = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        data = raw.decode(errors="replace")
    return status, response_headers, data


class Balagh:
    """One `balagh` process with a given argv, environment and working directory."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log: Path):
        self.args = [str(a) for a in args]
        self.env = env
        self.cwd = cwd
        self.log_path = log
        self.process: subprocess.Popen | None = None

    def start(self) -> "Balagh":
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.args, env=self.env, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self, base: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"balagh exited with {self.process.returncode}:\n{self.log()}")
            try:
                status, _, _ = http_request(base, "GET", "/readyz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"balagh not ready at {base} within {timeout} s:\n{self.log()}")

    def terminate(self, timeout: float = 10) -> int:
        """SIGTERM, then the exit code; fails if it takes longer than `timeout`."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"balagh did not stop within {timeout} s of SIGTERM:\n{self.log()}")
        self._log.close()
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def running(args, env, cwd, log, ready_base=None, timeout=60):
    """Starts balagh, waits for /readyz, yields it; on the way out kills it if a test left it
    running (a clean stop is the test's to check)."""
    process = Balagh(args, env, cwd, log).start()
    try:
        if ready_base:
            process.wait_ready(ready_base, timeout)
        yield process
    finally:
        process.kill()


def run(args, env, cwd, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )


# --- PostgreSQL ------------------------------------------------------------------------------


def database_url(name: str) -> str:
    parts = urllib.parse.urlsplit(POSTGRES_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def psql(sql: str, url: str = POSTGRES_URL) -> str:
    out = subprocess.run(
        ["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--tuples-only", "--no-align",
         "--dbname", url, "--command", sql],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return out.stdout.strip()


@contextlib.contextmanager
def fresh_database(prefix: str):
    """A new, empty PostgreSQL database, dropped afterwards whatever happens."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    psql(f'CREATE DATABASE "{name}"')
    try:
        yield name, database_url(name)
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def temp_dir(prefix: str):
    with tempfile.TemporaryDirectory(prefix=prefix) as path:
        yield Path(path)
