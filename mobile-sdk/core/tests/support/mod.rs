//! Test support: the real `balagh` binary on a free port with its own SQLite file, phone
//! photos with EXIF, and checks on what the server stored.

#![allow(dead_code)]

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, Rgb, RgbImage};
use std::io::Cursor;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A lat/lon inside Tétouan's demo contracts, and a demo service.
pub const LAT: f64 = 35.5750;
pub const LON: f64 = -5.4000;
pub const SERVICE: &str = "waste_bin_overflow";

/// A scratch directory, removed afterwards.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "balagh-sdk-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self, child: &str) -> PathBuf {
        self.0.join(child)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The workspace's `target/debug/balagh` (or `BALAGH_TEST_BINARY`), built if missing.
pub fn balagh_binary() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Ok(path) = std::env::var("BALAGH_TEST_BINARY") {
        // Relative to the current directory, else to the workspace; absolute either way,
        // since the server runs in its own directory.
        let path = PathBuf::from(path);
        let path = if path.exists() {
            path
        } else {
            workspace.join(path)
        };
        return std::path::absolute(path).unwrap();
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace.join("target"));
    let binary = target.join("debug/balagh");
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "balagh"])
            .current_dir(&workspace)
            .status()
            .expect("cargo build -p balagh");
        assert!(status.success(), "cargo build -p balagh failed");
    }
    binary
}

/// A free port on the loopback interface (free when asked, which is good enough here).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `balagh serve` with its data in `dir`.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub base_url: String,
    pub database: PathBuf,
}

impl Server {
    /// Starts `balagh serve` on `port` with `dir/balagh.sqlite3` and `dir/photos`, and
    /// waits until `/readyz` answers.
    pub fn start(dir: &Path, port: u16) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let database = dir.join("balagh.sqlite3");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .unwrap();
        let child = Command::new(balagh_binary())
            .arg("serve")
            .current_dir(dir)
            .env(
                "BALAGH_DATABASE_URL",
                format!("sqlite://{}", database.display()),
            )
            .env("BALAGH_LISTEN", format!("127.0.0.1:{port}"))
            .env("BALAGH_PHOTOS_DIR", dir.join("photos"))
            .env_remove("BALAGH_CONFIG")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start balagh");
        let server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            database,
        };
        server.wait_ready(dir);
        server
    }

    fn wait_ready(&self, dir: &Path) {
        let deadline = Instant::now() + Duration::from_secs(90);
        let url = format!("{}/readyz", self.base_url);
        while Instant::now() < deadline {
            if let Ok(response) = blocking_get(&url)
                && response.starts_with("HTTP/1.1 200")
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "balagh did not become ready: {}",
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
    }

    /// Stops it at once (SIGKILL), as a crash or a lost network would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare HTTP/1.1 GET on the loopback (no runtime needed), returning the raw answer.
fn blocking_get(url: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// Reports the server stores for a device, counted in its database.
pub async fn server_report_count(database: &Path, device: uuid::Uuid) -> i64 {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;
    let mut conn = SqliteConnectOptions::new()
        .filename(database)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    sqlx::query_scalar("SELECT count(*) FROM reports WHERE device_id = $1")
        .bind(device)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// Gradients plus noise, so it compresses like a photo.
pub fn photo_like(width: u32, height: u32) -> RgbImage {
    let mut state: u32 = 0x9E37_79B9;
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = i32::try_from(state % 24).unwrap() - 12;
        let channel =
            |base: u32| u8::try_from((i32::try_from(base).unwrap() + noise).clamp(0, 255)).unwrap();
        Rgb([
            channel(x * 255 / width),
            channel(y * 255 / height),
            channel((x + y) * 127 / (width + height) + 64),
        ])
    })
}

pub const CAMERA_MODEL: &str = "Pixel 8 Pro";

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

fn ascii(text: &str) -> Value {
    Value::Ascii(vec![text.as_bytes().to_vec()])
}

fn rationals(values: &[(u32, u32)]) -> Value {
    Value::Rational(
        values
            .iter()
            .map(|&(num, denom)| Rational { num, denom })
            .collect(),
    )
}

/// A JPEG as a phone writes it: EXIF with camera, orientation and the GPS position of
/// the resident's home right after SOI.
pub fn phone_jpeg(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let image = photo_like(width, height);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode(image.as_raw(), width, height, ExtendedColorType::Rgb8)
        .unwrap();
    let fields = [
        field(Tag::Make, ascii("Google")),
        field(Tag::Model, ascii(CAMERA_MODEL)),
        field(Tag::Orientation, Value::Short(vec![orientation])),
        field(Tag::GPSLatitudeRef, ascii("N")),
        field(Tag::GPSLatitude, rationals(&[(35, 1), (34, 1), (426, 10)])),
        field(Tag::GPSLongitudeRef, ascii("W")),
        field(Tag::GPSLongitude, rationals(&[(5, 1), (22, 1), (624, 100)])),
    ];
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff.into_inner());
    let length = u16::try_from(payload.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    assert!(has_exif(&out), "the fixture must carry EXIF");
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn has_exif(jpeg: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(jpeg))
        .is_ok()
}

/// Markers of the JPEG segments before the first scan.
pub fn header_markers(jpeg: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], [0xFF, 0xD8], "not a JPEG");
    let mut markers = Vec::new();
    let mut pos = 2;
    loop {
        assert_eq!(jpeg[pos], 0xFF, "lost sync at {pos}");
        let marker = jpeg[pos + 1];
        markers.push(marker);
        if marker == 0xDA {
            return markers;
        }
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
}

/// No EXIF, no GPS, no camera, no APP1…APP15 or comment segment.
pub fn assert_metadata_free(jpeg: &[u8]) {
    assert!(!has_exif(jpeg), "EXIF found");
    assert!(!contains(jpeg, b"Exif\0\0"), "EXIF identifier found");
    assert!(
        !contains(jpeg, CAMERA_MODEL.as_bytes()),
        "camera model found"
    );
    let metadata: Vec<u8> = header_markers(jpeg)
        .into_iter()
        .filter(|m| (0xE1..=0xEF).contains(m) || *m == 0xFE)
        .collect();
    assert!(metadata.is_empty(), "metadata segments {metadata:x?}");
}

pub fn dimensions(jpeg: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(jpeg).unwrap();
    (image.width(), image.height())
}
