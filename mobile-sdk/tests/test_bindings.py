"""The SDK through its generated UniFFI Python bindings, against a live `balagh` binary.

Run by mobile-sdk/run-tests.sh, which builds the library, generates the bindings into
target/sdk-python and sets BALAGH_BINARY and SDK_PYTHON_DIR. Standard library only.
"""

import asyncio
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zlib

sys.path.insert(0, os.environ.get("SDK_PYTHON_DIR", "target/sdk-python"))
import balagh_sdk_ffi as sdk  # noqa: E402

BINARY = os.path.abspath(os.environ.get("BALAGH_BINARY", "target/debug/balagh"))
LAT, LON, SERVICE = 35.5750, -5.4000, "waste_bin_overflow"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`balagh serve` on a port with its own SQLite file, Tétouan demo data."""

    def __init__(self, directory, port):
        os.makedirs(directory, exist_ok=True)
        self.base_url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            BALAGH_DATABASE_URL=f"sqlite://{directory}/balagh.sqlite3",
            BALAGH_LISTEN=f"127.0.0.1:{port}",
            BALAGH_PHOTOS_DIR=f"{directory}/photos",
            RUST_LOG="warn",
        )
        env.pop("BALAGH_CONFIG", None)
        self.log = open(os.path.join(directory, "server.log"), "ab")
        self.process = subprocess.Popen(
            [BINARY, "serve"], cwd=directory, env=env,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base_url + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("balagh did not become ready")

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.log.close()


def png_with_exif(width=96, height=64):
    """An RGB PNG with an eXIf chunk (orientation 6, camera model) in pure Python."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
        for y in range(height)
    )
    model = b"Pixel 8 Pro\x00"
    # Big-endian TIFF: Orientation (0x0112) = 6, Model (0x0110) = ASCII at offset 38.
    ifd = struct.pack(">H", 2)
    ifd += struct.pack(">HHII", 0x0110, 2, len(model), 8 + 2 + 2 * 12 + 4)
    ifd += struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
    ifd += struct.pack(">I", 0)
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + ifd + model
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"eXIf", tiff)
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def new_report(description, photos=(), service=SERVICE, lat=LAT):
    return sdk.NewReport(
        service_code=service, lat=lat, lon=LON, accuracy_m=10.0,
        description=description, attributes={}, photos=list(photos),
    )


class Bindings(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        # Starting the server blocks the loop on purpose; no slow-callback warnings.
        asyncio.get_running_loop().set_debug(False)

    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory(prefix="balagh-sdk-py-")
        self.port = free_port()
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
        self.scratch.cleanup()

    def path(self, name):
        return os.path.join(self.scratch.name, name)

    def client(self, name="app", locale="fr"):
        return sdk.BalaghClient(f"http://127.0.0.1:{self.port}", self.path(name), locale)

    async def test_reports_queued_offline_are_sent_once_with_a_clean_photo(self):
        client = self.client()
        photo = png_with_exif()
        self.assertIn(b"Pixel 8 Pro", photo)
        first = await client.submit_report(
            new_report("Conteneur plein", [sdk.PhotoSource.BYTES(photo)]))
        second = await client.submit_report(new_report("Sacs au sol", lat=LAT + 0.0002))
        queued = await client.queued_reports()
        self.assertEqual([q.local_id for q in queued], [first, second])
        self.assertTrue(all(q.state == sdk.QueueState.PENDING for q in queued))

        offline = await client.flush()
        self.assertEqual((offline.sent, offline.pending), (0, 2))
        self.assertIsNotNone(offline.error)
        with self.assertRaises(sdk.BalaghError.Network):
            await client.services()

        self.server = Server(self.path("server"), self.port)
        online = await client.retry_now()
        self.assertEqual((online.sent, online.pending, online.rejected), (2, 0, 0))
        again = await client.flush()
        self.assertEqual(again.sent, 0)

        mine = await client.sync_my_reports()
        self.assertEqual(len(mine), 2)
        sent = await client.queued_report(first)
        self.assertEqual(sent.state, sdk.QueueState.SENT)
        report = await client.report(sent.report_id)
        self.assertEqual(report.status, "new")
        self.assertTrue(report.reference.startswith("TET-"))
        self.assertGreaterEqual(len(report.history), 1)
        self.assertEqual(len(report.photos), 1)
        with urllib.request.urlopen(report.photos[0].url) as r:
            jpeg = r.read()
        self.assertEqual(jpeg[:2], b"\xff\xd8")
        self.assertNotIn(b"Exif", jpeg)
        self.assertNotIn(b"Pixel 8 Pro", jpeg)
        # Orientation 6 applied on the phone: the 96x64 PNG became a 64x96 portrait.
        self.assertEqual((report.photos[0].width, report.photos[0].height), (64, 96))

    async def test_services_nearby_me_too_follow_push_locale_notices(self):
        self.server = Server(self.path("server"), self.port)
        resident = self.client("resident")
        device = await resident.register_device()
        self.assertEqual(await resident.device_id(), device)

        catalog = await resident.services()
        self.assertEqual(catalog.language, "fr")
        self.assertFalse(catalog.offline)
        self.assertIn(SERVICE, [s.code for s in catalog.services])
        await resident.set_locale("ar")
        self.assertEqual(resident.locale(), "ar")
        self.assertEqual((await resident.services()).language, "ar")

        local_id = await resident.submit_report(new_report("Conteneur qui déborde"))
        self.assertEqual((await resident.flush()).sent, 1)
        report_id = (await resident.queued_report(local_id)).report_id

        neighbour = self.client("neighbour")
        nearby = await neighbour.check_nearby(LAT, LON, SERVICE)
        self.assertEqual([r.id for r in nearby.reports], [report_id])
        support = await neighbour.support(report_id)
        self.assertEqual((support.supporters, support.already_supported), (1, False))
        self.assertTrue((await neighbour.follow(report_id)).following)
        self.assertFalse((await neighbour.unfollow(report_id)).following)

        registration = await resident.register_push(sdk.PushSettings(
            target=sdk.PushTarget.FCM("fcm-token-of-this-phone"),
            time_zone="Africa/Casablanca",
            quiet_hours=sdk.QuietHours(start="22:00", end="07:00"),
            areas=[sdk.Area(lat=LAT, lon=LON, radius_m=800.0)],
        ))
        self.assertEqual((registration.channel, registration.language), ("fcm", "ar"))
        await resident.set_locale("en-GB")
        self.assertEqual((await resident.push_registration()).language, "en")
        await resident.unregister_push()
        self.assertIsNone(await resident.push_registration())

        self.assertEqual(await resident.notices_near(LAT, LON, 1500.0, SERVICE), [])

    async def test_the_background_sync_sends_what_is_submitted(self):
        self.server = Server(self.path("server"), self.port)
        client = self.client()
        await client.start_background_sync()
        await client.start_background_sync()  # idempotent
        local_id = await client.submit_report(new_report("Lampadaire clignotant"))
        for _ in range(100):
            queued = await client.queued_report(local_id)
            if queued.state == sdk.QueueState.SENT:
                break
            await asyncio.sleep(0.1)
        self.assertEqual(queued.state, sdk.QueueState.SENT)
        self.assertEqual(len(await client.my_reports()), 1)

    async def test_errors_carry_the_servers_problem_details(self):
        self.server = Server(self.path("server"), self.port)
        client = self.client()
        local_id = await client.submit_report(new_report("Lampadaire éteint"))
        await client.flush()
        report_id = (await client.queued_report(local_id)).report_id

        with self.assertRaises(sdk.BalaghError.Rejected) as refused:
            await client.confirm_fixed(report_id)
        self.assertEqual(refused.exception.status, 409)
        self.assertTrue(refused.exception.problem_type.startswith("urn:balagh:problem:"))

        with self.assertRaises(sdk.BalaghError.InvalidInput):
            await client.submit_report(new_report("x", [sdk.PhotoSource.BYTES(b"GIF89a")]))
        with self.assertRaises(sdk.BalaghError.InvalidInput):
            await client.rate(report_id, 6, None)

        wrong = await client.submit_report(new_report("Bus", service="no_such_service"))
        result = await client.flush()
        self.assertEqual(result.rejected, 1)
        queued = await client.queued_report(wrong)
        self.assertEqual(queued.state, sdk.QueueState.REJECTED)
        self.assertEqual(queued.problem.status, 422)
        self.assertIn("service_code", [e.field for e in queued.problem.field_errors])
        await client.discard_queued(wrong)
        self.assertEqual(await client.queued_reports(), [])

        # The server lost its database: the token is unknown there now.
        self.server.stop()
        self.server = Server(self.path("fresh"), self.port)
        with self.assertRaises(sdk.BalaghError.Unauthorized):
            await client.report(report_id)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Bindings)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"python bindings: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(0 if result.wasSuccessful() else 1)
