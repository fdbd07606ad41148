// What the Kotlin scenario needs around the SDK: the real `balagh` binary on a free port with
// its own SQLite file, an operator agent on the web API, a phone photo carrying EXIF, and a
// look into the server's database. JDK only (java.net.http, javax.imageio, ProcessBuilder).
package ma.balagh.sdktest

import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.ByteBuffer
import java.time.Duration
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO

val http: HttpClient = HttpClient.newBuilder()
    .version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5))
    .build()

fun freePort(): Int = ServerSocket(0).use { it.localPort }

/** GET on the loopback; the body as bytes, or null when nothing answers. */
fun httpGet(url: String): HttpResponse<ByteArray>? = try {
    http.send(
        HttpRequest.newBuilder(URI(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofByteArray(),
    )
} catch (e: java.io.IOException) {
    null
}

/** `balagh serve` on `port` with `dir/balagh.sqlite3` and `dir/photos` (Tétouan demo data). */
class Server(private val binary: String, val dir: File, val port: Int) {
    val baseUrl = "http://127.0.0.1:$port"
    val database = File(dir, "balagh.sqlite3")
    private var process: Process? = null

    fun start() {
        dir.mkdirs()
        val builder = ProcessBuilder(binary, "serve").directory(dir)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.appendTo(File(dir, "server.log")))
        builder.environment().apply {
            put("BALAGH_DATABASE_URL", "sqlite://${database.path}")
            put("BALAGH_LISTEN", "127.0.0.1:$port")
            put("BALAGH_PHOTOS_DIR", File(dir, "photos").path)
            put("RUST_LOG", "warn")
            remove("BALAGH_CONFIG")
        }
        process = builder.start()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90)
        while (System.nanoTime() < deadline) {
            if (httpGet("$baseUrl/readyz")?.statusCode() == 200) return
            check(process!!.isAlive) { "balagh exited: ${File(dir, "server.log").readText()}" }
            Thread.sleep(100)
        }
        stop()
        error("balagh did not become ready: ${File(dir, "server.log").readText()}")
    }

    /** SIGKILL, as a lost network or a crash would look to the phone. */
    fun stop() {
        process?.let { it.destroyForcibly(); it.waitFor() }
        process = null
    }

    /** Reports the server stores for a device, counted in its database (sqlite3, read-only). */
    fun reportCount(deviceId: String): Int {
        require(Regex("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}").matches(deviceId)) { "device id $deviceId" }
        val hex = deviceId.replace("-", "").lowercase()
        val query = "SELECT count(*) FROM reports " +
            "WHERE lower(hex(device_id)) = '$hex' OR device_id = '$deviceId';"
        val sqlite = ProcessBuilder("sqlite3", "-readonly", database.path, query)
            .redirectErrorStream(true).start()
        val answer = sqlite.inputStream.bufferedReader().readText().trim()
        check(sqlite.waitFor() == 0) { "sqlite3 failed: $answer" }
        return answer.toInt()
    }

    /** Runs `balagh <args>` on this server's database, with `input` on standard input. */
    fun command(input: String, vararg args: String) {
        val builder = ProcessBuilder(binary, *args).directory(dir).redirectErrorStream(true)
        builder.environment()["BALAGH_DATABASE_URL"] = "sqlite://${database.path}"
        builder.environment().remove("BALAGH_CONFIG")
        val process = builder.start()
        process.outputStream.bufferedWriter().use { it.write(input + "\n") }
        val output = process.inputStream.bufferedReader().readText()
        check(process.waitFor() == 0) { "balagh ${args.joinToString(" ")}: $output" }
    }
}

/** An agent of the demo waste operator, logged in on the web API (cookie + CSRF token). */
class Operator private constructor(private val server: Server, private val cookie: String, private val csrf: String) {
    companion object {
        fun create(server: Server): Operator {
            val password = "a passphrase for the kotlin test"
            server.command(
                password, "create-user", "--email", "agent@nadafa.ma", "--name", "Agent",
                "--role", "operator_agent", "--operator", "nadafa-demo",
            )
            val login = http.send(
                HttpRequest.newBuilder(URI("${server.baseUrl}/api/v1/auth/login"))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                        """{"email":"agent@nadafa.ma","password":"$password"}""",
                    )).build(),
                HttpResponse.BodyHandlers.ofString(),
            )
            check(login.statusCode() == 200) { "login: ${login.statusCode()} ${login.body()}" }
            val cookie = login.headers().firstValue("set-cookie").orElseThrow().substringBefore(';')
            val csrf = Regex("\"csrf_token\"\\s*:\\s*\"([^\"]+)\"").find(login.body())
                ?.groupValues?.get(1) ?: error("no csrf_token in ${login.body()}")
            return Operator(server, cookie, csrf)
        }
    }

    /** One step forward on the ticket (resolve if allowed, else start / acknowledge / resume). */
    fun advance(reportId: String) {
        val url = "${server.baseUrl}/api/v1/operator/tickets/$reportId"
        val ticket = http.send(
            HttpRequest.newBuilder(URI(url)).header("cookie", cookie).build(),
            HttpResponse.BodyHandlers.ofString(),
        )
        check(ticket.statusCode() == 200) { "ticket: ${ticket.statusCode()} ${ticket.body()}" }
        val allowed = Regex("\"allowed_actions\"\\s*:\\s*\\[([^\\]]*)]").find(ticket.body())
            ?.groupValues?.get(1) ?: error("no allowed_actions in ${ticket.body()}")
        val action = listOf("resolve", "start", "acknowledge", "resume").firstOrNull { "\"$it\"" in allowed }
            ?: error("no way forward from ${ticket.body()}")
        val done = http.send(
            HttpRequest.newBuilder(URI("$url/actions/$action"))
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .header("if-match", ticket.headers().firstValue("etag").orElseThrow())
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""{"note":"Conteneur vidé et nettoyé"}"""))
                .build(),
            HttpResponse.BodyHandlers.ofString(),
        )
        check(done.statusCode() in 200..299) { "$action: ${done.statusCode()} ${done.body()}" }
    }
}

// ------------------------------------------------------------------------- a phone's photo

const val CAMERA_MODEL = "Pixel 8 Pro"

private class IfdEntry(val tag: Int, val type: Int, val count: Int, val value: ByteArray)

private fun ascii(tag: Int, text: String) =
    IfdEntry(tag, 2, text.length + 1, (text + "\u0000").toByteArray(Charsets.US_ASCII))

private fun short(tag: Int, value: Int) = IfdEntry(tag, 3, 1, byteArrayOf((value shr 8).toByte(), value.toByte()))

private fun long(tag: Int, value: Int) = IfdEntry(tag, 4, 1, ByteBuffer.allocate(4).putInt(value).array())

private fun rationals(tag: Int, vararg values: Pair<Int, Int>): IfdEntry {
    val bytes = ByteBuffer.allocate(8 * values.size)
    values.forEach { (numerator, denominator) -> bytes.putInt(numerator).putInt(denominator) }
    return IfdEntry(tag, 5, values.size, bytes.array())
}

/** A big-endian TIFF IFD starting at `start` (offset from the TIFF header), values after it. */
private fun ifd(start: Int, entries: List<IfdEntry>): ByteArray {
    val tableSize = 2 + 12 * entries.size + 4
    val table = ByteBuffer.allocate(tableSize).putShort(entries.size.toShort())
    val values = ByteArrayOutputStream()
    for (entry in entries.sortedBy { it.tag }) {
        table.putShort(entry.tag.toShort()).putShort(entry.type.toShort()).putInt(entry.count)
        if (entry.value.size <= 4) {
            table.put(entry.value.copyOf(4))
        } else {
            table.putInt(start + tableSize + values.size())
            values.write(entry.value)
            if (values.size() % 2 == 1) values.write(0)
        }
    }
    table.putInt(0)
    return table.array() + values.toByteArray()
}

/** EXIF as a phone writes it: camera, orientation, and the GPS position of the resident's home. */
private fun exifTiff(orientation: Int): ByteArray {
    val gps = listOf(
        ascii(0x0001, "N"), rationals(0x0002, 35 to 1, 34 to 1, 426 to 10),
        ascii(0x0003, "W"), rationals(0x0004, 5 to 1, 22 to 1, 624 to 100),
    )
    fun primary(gpsOffset: Int) = listOf(
        ascii(0x010F, "Google"), ascii(0x0110, CAMERA_MODEL),
        short(0x0112, orientation), long(0x8825, gpsOffset),
    )
    val gpsOffset = 8 + ifd(8, primary(0)).size
    val header = byteArrayOf('M'.code.toByte(), 'M'.code.toByte(), 0, 42, 0, 0, 0, 8)
    return header + ifd(8, primary(gpsOffset)) + ifd(gpsOffset, gps)
}

/** A JPEG photo (gradients and noise) with an EXIF APP1 segment right after SOI. */
fun phoneJpeg(width: Int, height: Int, orientation: Int): ByteArray {
    val image = BufferedImage(width, height, BufferedImage.TYPE_INT_RGB)
    val random = java.util.Random(7)
    for (y in 0 until height) for (x in 0 until width) {
        val noise = random.nextInt(24) - 12
        fun channel(base: Int) = (base + noise).coerceIn(0, 255)
        val rgb = (channel(x * 255 / width) shl 16) or (channel(y * 255 / height) shl 8) or
            channel((x + y) * 127 / (width + height) + 64)
        image.setRGB(x, y, rgb)
    }
    val encoded = ByteArrayOutputStream().also { check(ImageIO.write(image, "jpg", it)) }.toByteArray()
    val payload = "Exif\u0000\u0000".toByteArray(Charsets.US_ASCII) + exifTiff(orientation)
    val length = payload.size + 2
    val app1 = byteArrayOf(0xFF.toByte(), 0xE1.toByte(), (length shr 8).toByte(), length.toByte())
    return encoded.copyOfRange(0, 2) + app1 + payload + encoded.copyOfRange(2, encoded.size)
}

fun ByteArray.contains(needle: ByteArray): Boolean =
    (0..size - needle.size).any { start -> needle.indices.all { this[start + it] == needle[it] } }

/** Width and height of an encoded image, as the JDK decodes it. */
fun dimensions(encoded: ByteArray): Pair<Int, Int> {
    val image = ImageIO.read(encoded.inputStream()) ?: error("not an image the JDK can read")
    return image.width to image.height
}
