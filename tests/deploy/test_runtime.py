"""The binary, run exactly as each deployment file runs it: the image's ENV, WORKDIR,
ENTRYPOINT, CMD and HEALTHCHECK; the Compose services' and the Kubernetes pods'
environment and arguments; the systemd unit's ExecStartPre, ExecStart and environment.
No container engine runs here, so the data volume is a temporary directory and PostgreSQL is
the test server; everything else is the files' own values."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from deploylib import (
    DEPLOY,
    base_env,
    binary,
    compose_bind_mounts,
    free_port,
    fresh_database,
    http_request,
    kube_object,
    load_compose,
    parse_containerfile,
    parse_unit,
    pod_env,
    read_env_file,
    run,
    running,
    temp_dir,
    unit_values,
)

STOP_SECONDS = 10


def image_command(image, binary_path: Path) -> list[str]:
    """ENTRYPOINT + CMD, with the entrypoint resolved to the binary the image copies to
    /usr/local/bin (on the image's PATH)."""
    command = image.entrypoint + image.cmd
    assert command[0] == "balagh"
    return [str(binary_path)] + command[1:]


def image_env(image, volume: Path) -> dict[str, str]:
    """The image's ENV with its volume mounted at `volume`."""
    data = image.workdir.rstrip("/")
    return {k: v.replace(data, str(volume)) for k, v in image.env.items()}


def loopback(listen: str) -> tuple[str, str]:
    """The same listen setting on a free loopback port, and its base URL."""
    port = free_port()
    return f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"


def run_healthcheck(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    assert command[0] in ("bash", "sh"), "the check runs with a shell the image has"
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=10)


def test_image_serves_healthchecks_and_stops_cleanly():
    image = parse_containerfile()
    with temp_dir("balagh-volume-") as volume:
        env = base_env() | image_env(image, volume)
        # The image listens on 0.0.0.0:8080; here a free loopback port stands in for it.
        assert env["BALAGH_LISTEN"].endswith(":8080")
        env["BALAGH_LISTEN"], base = loopback(env["BALAGH_LISTEN"])
        log = volume.parent / f"{volume.name}.log"
        with running(image_command(image, binary()), env, volume, log, ready_base=base) as balagh:
            for path in ("/readyz", "/healthz"):
                status, _, body = http_request(base, "GET", path)
                assert status == 200, (path, body)
            # The image's own HEALTHCHECK command, as the engine would run it.
            check = run_healthcheck(image.healthcheck, env)
            assert check.returncode == 0, check.stderr
            assert balagh.terminate(STOP_SECONDS) == 0, balagh.log()
        # Everything the service wrote is in the volume.
        assert (volume / Path(image.env["BALAGH_DATABASE_URL"]).name).exists()
        assert (volume / Path(image.env["BALAGH_PHOTOS_DIR"]).name).is_dir()
        # A restart on the same volume (a new container, same data) serves again.
        with running(image_command(image, binary()), env, volume, log, ready_base=base) as balagh:
            assert balagh.terminate(STOP_SECONDS) == 0, balagh.log()
        log.unlink()


def test_image_healthcheck_fails_when_nothing_answers():
    image = parse_containerfile()
    env = base_env() | image.env
    env["BALAGH_LISTEN"] = f"127.0.0.1:{free_port()}"
    assert run_healthcheck(image.healthcheck, env).returncode != 0


@contextlib.contextmanager
def serve_and_stop(command, env, cwd: Path, base: str, probes=("/readyz", "/healthz"), stop=STOP_SECONDS):
    """Starts balagh, checks the probes answer 200, yields; then SIGTERM and exit 0."""
    log = cwd.parent / f"{cwd.name}.log"
    try:
        with running(command, env, cwd, log, ready_base=base) as balagh:
            for path in probes:
                status, _, body = http_request(base, "GET", path)
                assert status == 200, (path, body)
            yield balagh
            assert balagh.terminate(stop) == 0, balagh.log()
    finally:
        log.unlink(missing_ok=True)


def test_compose_services_run_with_their_environment():
    spec = load_compose(read_env_file(DEPLOY / "compose.env.example"))
    image = parse_containerfile()
    services = spec["services"]
    with fresh_database("balagh_deploy_compose") as (_, url), temp_dir("balagh-compose-") as cwd:
        def env_of(service):
            # The image's ENV with its volume at cwd, then the service's environment.
            env = base_env() | image_env(image, cwd) | services[service]["environment"]
            for target, source in compose_bind_mounts(services[service]).items():
                env = {k: v.replace(target, str(source)) for k, v in env.items()}
            # Only the database host differs: the test server stands in for `postgres`.
            assert env["BALAGH_DATABASE_URL"].startswith("postgres://balagh:")
            env["BALAGH_DATABASE_URL"] = url
            return env

        migrate = run([binary(), *services["migrate"]["command"]], env_of("migrate"), cwd)
        assert migrate.returncode == 0, migrate.stderr

        env = env_of("balagh")
        env["BALAGH_LISTEN"], base = loopback(env["BALAGH_LISTEN"])
        with serve_and_stop([binary(), *services["balagh"]["command"]], env, cwd, base):
            test = services["balagh"]["healthcheck"]["test"]
            assert test[0] == "CMD"
            check = run_healthcheck(test[1:], env)
            assert check.returncode == 0, check.stderr
        # read_only: true, and nothing lands in the image's volume either: with PostgreSQL
        # and S3 the replicas keep no state of their own.
        assert not any(cwd.iterdir()), list(cwd.iterdir())


def test_kubernetes_job_and_pods_run_with_their_environment():
    image = parse_containerfile()
    job = kube_object("Job", "balagh-migrate")["spec"]["template"]["spec"]
    deployment = kube_object("Deployment", "balagh")
    pod = deployment["spec"]["template"]["spec"]
    with fresh_database("balagh_deploy_k8s") as (_, url), temp_dir("balagh-k8s-") as tmp:
        workdir = tmp / "workdir"
        workdir.mkdir()

        def env_of(pod_spec):
            (container,) = pod_spec["containers"]
            env, files = pod_env(pod_spec, container)
            env = base_env() | image_env(image, workdir) | env
            for path, content in files.items():  # configMap volumes
                local = tmp / path.lstrip("/")
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_text(content)
                env = {k: v.replace(path, str(local)) for k, v in env.items()}
            env["BALAGH_DATABASE_URL"] = url  # the Secret's placeholder → the test server
            return container, env

        container, env = env_of(job)
        result = run([binary(), *container["args"]], env, workdir)
        assert result.returncode == 0, result.stderr

        container, env = env_of(pod)
        port = container["ports"][0]["containerPort"]
        assert env["BALAGH_LISTEN"].endswith(f":{port}")
        env["BALAGH_LISTEN"], base = loopback(env["BALAGH_LISTEN"])
        probes = [container[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe", "livenessProbe")]
        grace = pod["terminationGracePeriodSeconds"] - int(container["lifecycle"]["preStop"]["exec"]["command"][1])
        with serve_and_stop([binary(), *container["args"]], env, workdir, base, probes, min(grace, STOP_SECONDS)):
            status, _, body = http_request(base, "GET", "/readyz")
            assert b"postgres" in body
        # readOnlyRootFilesystem: nothing was written outside the mounted volumes.
        assert not any(workdir.iterdir()), list(workdir.iterdir())


def test_systemd_unit_runs_its_commands():
    unit = parse_unit(DEPLOY / "systemd" / "balagh.service")
    service = dict(unit["Service"])
    state_dir = f"/var/lib/{service['StateDirectory']}"
    with temp_dir("balagh-state-") as state:
        env = base_env()
        for assignment in unit_values(unit, "Service", "Environment"):
            key, value = assignment.split("=", 1)
            env[key] = value
        env |= read_env_file(DEPLOY / "systemd" / "balagh.env.example")
        env = {k: v.replace(state_dir, str(state)) for k, v in env.items()}
        env["BALAGH_LISTEN"], base = loopback(env["BALAGH_LISTEN"])
        cwd = Path(service["WorkingDirectory"].replace(state_dir, str(state)))

        def command(line):
            program, *args = line.split()
            assert program == "/usr/local/bin/balagh"
            return [binary(), *args]

        (pre,) = unit_values(unit, "Service", "ExecStartPre")
        result = run(command(pre), env, cwd)
        assert result.returncode == 0, result.stderr
        stop = int(service["TimeoutStopSec"].rstrip("s"))
        with serve_and_stop(command(service["ExecStart"]), env, cwd, base, stop=min(stop, STOP_SECONDS)):
            pass
        assert (state / "balagh.sqlite3").exists()


def test_scripts_are_executable():
    for name in ("backup.sh", "restore.sh"):
        assert os.access(DEPLOY / name, os.X_OK), name
