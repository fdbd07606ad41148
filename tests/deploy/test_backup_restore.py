"""deploy/backup.sh and deploy/restore.sh, end to end: a report with a photo submitted
through the API, a backup taken while the service runs, a restore into a new database and
photo directory, `balagh migrate` applying nothing, and the restored service giving the
report and the same photo back to the same device token."""

from __future__ import annotations

import contextlib
import sqlite3
import struct
import subprocess
import uuid
import zlib
from pathlib import Path

import pytest

from deploylib import (
    DEPLOY,
    base_env,
    binary,
    free_port,
    fresh_database,
    http_json,
    http_request,
    psql,
    run,
    running,
    temp_dir,
)

# Inside the Tétouan demo boundary and its contract zones.
POINT = {"lat": 35.5750, "lon": -5.4000}


def png(width: int = 96, height: int = 64) -> bytes:
    """A small RGB PNG, made here (no image library needed)."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in ((x * 5) % 256, (y * 7) % 256, 140))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def submit_report_with_photo(base: str) -> dict:
    status, _, device = http_json(base, "POST", "/api/v1/devices")
    assert status in (200, 201), device
    token = device["token"]

    status, _, services = http_json(base, "GET", "/api/v1/services", headers={"Accept-Language": "fr"})
    assert status == 200, services
    service = next(
        s["code"] for s in services["services"]
        if s["group"] == "lighting" and not any(a["required"] for a in s["attributes"])
    )

    status, _, slot = http_json(base, "POST", "/api/v1/photos/uploads", token=token)
    assert status == 201, slot
    status, _, body = http_request(base, slot["method"], slot["upload_url"], png(),
                                   {"Content-Type": "image/png"})
    assert status == 204, body
    status, _, photo = http_json(base, "POST", slot["confirm_url"], token=token)
    assert status == 201, photo

    report_request = {
        "service_code": service, **POINT,
        "description": "Lampadaire éteint depuis trois jours (test de sauvegarde)",
        "photos": [photo["id"]],
    }
    status, _, report = http_json(base, "POST", "/api/v1/reports", report_request, token=token,
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, report
    return {"token": token, "report": report, "photo_id": photo["id"]}


def fetch_report(base: str, report_id: str, token: str) -> tuple[dict, bytes]:
    status, _, report = http_json(base, "GET", f"/api/v1/reports/{report_id}", token=token)
    assert status == 200, report
    (photo,) = report["photos"]
    status, _, jpeg = http_request(base, "GET", photo["large"]["url"])
    assert status == 200 and jpeg[:2] == b"\xff\xd8", (status, jpeg[:100])
    return report, jpeg


class Postgres:
    name = "postgres"

    @contextlib.contextmanager
    def databases(self, tmp: Path):
        with fresh_database("balagh_backup_test") as (_, source), fresh_database("balagh_backup_test") as (_, target):
            yield source, target

    def migrations(self, url: str) -> list:
        return psql("SELECT version, checksum FROM _sqlx_migrations ORDER BY version", url).splitlines()


class Sqlite:
    name = "sqlite"

    @contextlib.contextmanager
    def databases(self, tmp: Path):
        yield f"sqlite://{tmp}/source/balagh.sqlite3", f"sqlite://{tmp}/target/balagh.sqlite3"

    def migrations(self, url: str) -> list:
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as db:
            return db.execute("SELECT version, hex(checksum) FROM _sqlx_migrations ORDER BY version").fetchall()


@pytest.mark.parametrize("backend", [Postgres(), Sqlite()], ids=lambda b: b.name)
def test_backup_then_restore_into_a_new_database(backend):
    with temp_dir("balagh-backup-") as tmp, backend.databases(tmp) as (source, target):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        source_env = base_env() | {
            "BALAGH_LISTEN": f"127.0.0.1:{port}",
            "BALAGH_DATABASE_URL": source,
            "BALAGH_PHOTOS_STORAGE": "local",
            "BALAGH_PHOTOS_DIR": str(tmp / "photos-source"),
        }
        with running([binary(), "serve"], source_env, tmp, tmp / "source.log", ready_base=base) as balagh:
            submitted = submit_report_with_photo(base)
            report_id = submitted["report"]["id"]
            original, original_jpeg = fetch_report(base, report_id, submitted["token"])

            # Online backup: the service keeps running.
            backup = subprocess.run(
                ["bash", DEPLOY / "backup.sh", tmp / "backups"], env=source_env, cwd=tmp,
                capture_output=True, text=True, timeout=120,
            )
            assert backup.returncode == 0, backup.stderr
            assert balagh.terminate() == 0, balagh.log()

        backup_dir = Path(backup.stdout.strip().splitlines()[-1])
        expected = {"database.dump" if backend.name == "postgres" else "database.sqlite3",
                    "photos.tar.gz", "SHA256SUMS"}
        assert {p.name for p in backup_dir.iterdir()} == expected

        target_env = source_env | {
            "BALAGH_DATABASE_URL": target,
            "BALAGH_PHOTOS_DIR": str(tmp / "photos-target"),
            # The demo data must come back from the backup, not from a new seeding.
            "BALAGH_NO_DEMO": "true",
        }
        restore = subprocess.run(["bash", DEPLOY / "restore.sh", backup_dir], env=target_env, cwd=tmp,
                                 capture_output=True, text=True, timeout=120)
        assert restore.returncode == 0, restore.stderr
        # A second restore onto the now non-empty target is refused.
        again = subprocess.run(["bash", DEPLOY / "restore.sh", backup_dir], env=target_env, cwd=tmp,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode != 0

        # `balagh migrate` on the restored database applies nothing.
        before = backend.migrations(target)
        assert before and before == backend.migrations(source)
        migrate = run([binary(), "migrate"], target_env, tmp)
        assert migrate.returncode == 0, migrate.stderr
        assert backend.migrations(target) == before

        with running([binary(), "serve"], target_env, tmp, tmp / "target.log", ready_base=base) as balagh:
            restored, restored_jpeg = fetch_report(base, report_id, submitted["token"])
            for key in ("id", "reference", "service_code", "status", "description", "lat", "lon", "created_at"):
                assert restored[key] == original[key], key
            assert restored["photos"][0]["id"] == submitted["photo_id"]
            assert restored_jpeg == original_jpeg
            assert balagh.terminate() == 0, balagh.log()
