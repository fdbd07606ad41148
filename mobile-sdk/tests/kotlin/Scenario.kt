// The resident's scenario through the generated Kotlin binding, on the JVM, against the real
// `balagh` binary: the same one the Python tests run. Exits non-zero on the first failed step.
//
// Run by mobile-sdk/run-tests.sh:
//   java -Djna.library.path=<dir of libbalagh_sdk_ffi.so> -cp <jar>:... ma.balagh.sdktest.ScenarioKt \
//     <path of the balagh binary>
package ma.balagh.sdktest

import kotlinx.coroutines.runBlocking
import ma.balagh.sdk.Area
import ma.balagh.sdk.BalaghClient
import ma.balagh.sdk.BalaghException
import ma.balagh.sdk.NewReport
import ma.balagh.sdk.PhotoSource
import ma.balagh.sdk.PushSettings
import ma.balagh.sdk.PushTarget
import ma.balagh.sdk.QueueState
import ma.balagh.sdk.QuietHours
import java.io.File
import java.nio.file.Files
import kotlin.system.exitProcess

const val LAT = 35.5750
const val LON = -5.4000
const val SERVICE = "waste_bin_overflow"

fun expect(condition: Boolean, what: () -> String) {
    if (!condition) throw AssertionError(what())
}

fun <T> expectEqual(expected: T, actual: T, what: String) =
    expect(expected == actual) { "$what: expected $expected, got $actual" }

/** Runs named steps in order, counting those that pass; the first failure ends the run. */
class Steps {
    var passed = 0
        private set

    suspend fun step(name: String, body: suspend () -> Unit) {
        val started = System.nanoTime()
        body()
        passed += 1
        println("   ok  $name (${(System.nanoTime() - started) / 1_000_000} ms)")
    }
}

fun newReport(n: Int, photos: List<PhotoSource> = listOf()) = NewReport(
    serviceCode = SERVICE,
    // A few metres apart, so they are three distinct problems.
    lat = LAT + n * 0.0001,
    lon = LON,
    accuracyM = 8.0,
    description = "Conteneur plein n°$n, sacs au sol",
    attributes = mapOf(),
    photos = photos,
)

/** What the steps share: the server, the resident's phone and what it learnt. */
class World(binary: String, val scratch: File) {
    val port = freePort()
    val server = Server(binary, File(scratch, "server"), port)
    val resident = BalaghClient("http://127.0.0.1:$port", File(scratch, "resident").path, "fr")
    lateinit var deviceId: String
    lateinit var localIds: List<String>
    lateinit var reportIds: List<String>
}

suspend fun registerAndCacheServices(steps: Steps, world: World) {
    val resident = world.resident
    steps.step("register once (the token stays in the SDK's store)") {
        world.server.start()
        expectEqual(null, resident.deviceId(), "device id before registering")
        world.deviceId = resident.registerDevice()
        expectEqual(world.deviceId, resident.registerDevice(), "second registration")
        expectEqual(world.deviceId, resident.deviceId(), "device id")
    }
    steps.step("services online, revalidated with the ETag, then from the cache offline") {
        val online = resident.services()
        expect(!online.offline) { "online catalog marked offline" }
        expectEqual("fr", online.language, "catalog language")
        expect(online.services.any { it.code == SERVICE }) { "$SERVICE missing from ${online.services.map { it.code }}" }
        val revalidated = resident.services()
        expectEqual(online.services, revalidated.services, "services after If-None-Match")
        world.server.stop()
        val offline = resident.services()
        expect(offline.offline) { "catalog without a server is not marked offline" }
        expectEqual(online.services, offline.services, "cached services")
    }
}

suspend fun queueOfflineAndFlush(steps: Steps, world: World) {
    val resident = world.resident
    val photo = phoneJpeg(240, 160, orientation = 6)
    steps.step("three reports queued while the server is down (one photo with EXIF GPS)") {
        expect(photo.contains(CAMERA_MODEL.toByteArray())) { "the fixture must carry EXIF" }
        val photoFile = File(world.scratch, "phone-photo.jpg").apply { writeBytes(photo) }
        world.localIds = (0 until 3).map { n ->
            val photos = if (n == 0) listOf(PhotoSource.File(photoFile.path)) else listOf()
            resident.submitReport(newReport(n, photos))
        }
        val queued = resident.queuedReports()
        expectEqual(world.localIds, queued.map { it.localId }, "queued local ids")
        expect(queued.all { it.state == QueueState.PENDING }) { "not all pending: ${queued.map { it.state }}" }
        expectEqual(listOf(1u, 0u, 0u), queued.map { it.photoCount }, "photo counts")
    }
    steps.step("a flush while offline fails softly and keeps all three") {
        val offline = resident.flush()
        expectEqual(0u to 3u, offline.sent to offline.pending, "sent, pending offline")
        expect(offline.error != null) { "no error reported for an offline flush" }
        try {
            resident.checkNearby(LAT, LON, SERVICE)
            throw AssertionError("checkNearby succeeded without a server")
        } catch (e: BalaghException.Network) {
            expect(e.reason.isNotEmpty()) { "Network without a reason" }
        }
    }
    steps.step("server started: flushed, exactly three reports in its database") {
        world.server.start()
        val online = resident.retryNow()
        expectEqual(Triple(3u, 0u, 0u), Triple(online.sent, online.pending, online.rejected), "sent, pending, rejected")
        expectEqual(3, world.server.reportCount(world.deviceId), "reports of this device in the server's database")
        world.reportIds = world.localIds.map { resident.queuedReport(it)?.reportId ?: error("$it has no report id") }
        expectEqual(3, world.reportIds.toSet().size, "distinct report ids")
    }
    steps.step("a second flush sends nothing") {
        val again = resident.flush()
        expectEqual(0u to 0u, again.sent to again.pending, "sent, pending on the second flush")
        expectEqual(3, world.server.reportCount(world.deviceId), "reports after the second flush")
    }
}

suspend fun myReportsAndPhoto(steps: Steps, world: World) {
    val resident = world.resident
    steps.step("my reports synced: status, history, local ids") {
        val mine = resident.syncMyReports()
        expectEqual(world.reportIds.toSet(), mine.map { it.id }.toSet(), "my report ids")
        for (report in mine) {
            expectEqual("new", report.status, "status of ${report.reference}")
            expect(report.reference.startsWith("TET-")) { "reference ${report.reference}" }
            expect(report.history.isNotEmpty()) { "no history for ${report.reference}" }
            expectEqual(world.localIds[world.reportIds.indexOf(report.id)], report.localId, "local id of ${report.id}")
        }
        expectEqual(mine.map { it.id }, resident.myReports().map { it.id }, "my reports offline copy")
    }
    steps.step("the photo on the server is upright, shrunk and without EXIF or GPS") {
        val report = resident.report(world.reportIds[0])
        expectEqual(1, report.photos.size, "photos of the first report")
        val photo = report.photos[0]
        // Orientation 6 applied on the phone: the 240x160 landscape became a 160x240 portrait.
        expectEqual(160u to 240u, photo.width to photo.height, "photo size")
        val served = httpGet(photo.url) ?: error("photo URL unreachable")
        expectEqual(200, served.statusCode(), "photo GET status")
        val jpeg = served.body()
        expect(jpeg.size > 2 && jpeg[0] == 0xFF.toByte() && jpeg[1] == 0xD8.toByte()) { "not a JPEG" }
        expect(!jpeg.contains("Exif".toByteArray())) { "EXIF left in the served photo" }
        expect(!jpeg.contains(CAMERA_MODEL.toByteArray())) { "camera model left in the served photo" }
        expectEqual(160 to 240, dimensions(jpeg), "decoded size")
    }
}

suspend fun followPushConfirm(steps: Steps, world: World) {
    val resident = world.resident
    val reportId = world.reportIds[0]
    steps.step("a neighbour sees the three nearby through the API, says me too, follows") {
        val neighbour = BalaghClient(world.server.baseUrl, File(world.scratch, "neighbour").path, "ar")
        val nearby = neighbour.checkNearby(LAT, LON, SERVICE)
        expectEqual(world.reportIds.toSet(), nearby.reports.map { it.id }.toSet(), "nearby report ids")
        val support = neighbour.support(reportId)
        expectEqual(1L to false, support.supporters to support.alreadySupported, "supporters, already")
        expect(neighbour.follow(reportId).following) { "neighbour not following" }
        expect(!neighbour.unfollow(reportId).following) { "neighbour still following" }
        neighbour.close()
    }
    steps.step("the resident follows and unfollows") {
        expect(resident.follow(reportId).following) { "not following after follow" }
        expect(!resident.unfollow(reportId).following) { "following after unfollow" }
    }
    steps.step("push registration follows the locale") {
        val registration = resident.registerPush(PushSettings(
            target = PushTarget.Fcm("fcm-token-of-this-phone"),
            timeZone = "Africa/Casablanca",
            quietHours = QuietHours(start = "22:00", end = "07:00"),
            areas = listOf(Area(lat = LAT, lon = LON, radiusM = 800.0)),
        ))
        expectEqual("fcm" to "fr", registration.channel to registration.language, "channel, language")
        expectEqual(QuietHours("22:00", "07:00"), registration.quietHours, "quiet hours")
        resident.setLocale("ar")
        expectEqual("ar", resident.locale(), "locale")
        expectEqual("ar", resident.pushRegistration()?.language, "push language after setLocale")
        resident.unregisterPush()
        expectEqual(null, resident.pushRegistration(), "push registration after unregistering")
    }
    steps.step("confirm: refused while new (409 problem), accepted once the operator resolved it") {
        try {
            resident.confirmFixed(reportId)
            throw AssertionError("confirming a new report succeeded")
        } catch (e: BalaghException.Rejected) {
            expectEqual(409.toUShort(), e.status, "status of the refusal")
            expect(e.problemType.startsWith("urn:balagh:problem:")) { "problem type ${e.problemType}" }
        }
        try {
            resident.rate(reportId, 6.toUByte(), null)
            throw AssertionError("six stars accepted")
        } catch (e: BalaghException.InvalidInput) {
            expect(e.reason.isNotEmpty()) { "InvalidInput without a reason" }
        }
        val operator = Operator.create(world.server)
        repeat(5) { if (resident.report(reportId).status != "resolved") operator.advance(reportId) }
        expectEqual("resolved", resident.syncMyReports().first { it.id == reportId }.status, "status after the fix")
        expectEqual("closed", resident.confirmFixed(reportId).status, "status after confirming")
    }
}

fun main(args: Array<String>) {
    val binary = File(args.getOrElse(0) { "target/debug/balagh" }).absolutePath
    val scratch = Files.createTempDirectory("balagh-sdk-kt-").toFile()
    val started = System.nanoTime()
    val steps = Steps()
    val world = World(binary, scratch)
    val failure = try {
        runBlocking {
            registerAndCacheServices(steps, world)
            queueOfflineAndFlush(steps, world)
            myReportsAndPhoto(steps, world)
            followPushConfirm(steps, world)
        }
        null
    } catch (e: Throwable) {
        e
    } finally {
        world.server.stop()
        world.resident.close()
    }
    val seconds = (System.nanoTime() - started) / 1e9
    if (failure != null) {
        println("   FAILED after ${steps.passed} steps: $failure")
        failure.printStackTrace()
        println("   server log: ${File(scratch, "server/server.log").takeIf { it.exists() }?.readText()}")
    }
    scratch.deleteRecursively()
    println("kotlin bindings: ${steps.passed} scenario steps passed, ${if (failure == null) 0 else 1} failed " +
        "(run ${"%.1f".format(seconds)} s)")
    exitProcess(if (failure == null) 0 else 1)
}
