//! `balagh-photo-bench`: upload-confirm latency of photos over HTTP against the real
//! `balagh serve` (embedded SQLite, local-disk photo store), with a baseline from the same
//! run: a plain PUT of the same bytes to the same server (what any upload costs without
//! processing). Processing alone is measured by `cargo run --release -p balagh-media
//! --example process_bench`.

use balagh_bench::{Server, balagh_bin};
use clap::Parser;
use hdrhistogram::Histogram;
use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, Rgb, RgbImage};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "balagh-photo-bench",
    about = "Photo upload-confirm latency over HTTP"
)]
struct Args {
    /// The balagh binary [default: next to this one]
    #[arg(long)]
    balagh: Option<PathBuf>,
    /// Photos uploaded and confirmed.
    #[arg(long, default_value_t = 30)]
    photos: usize,
    /// Width × height of the JPEG (default 4000 × 3000: 12 MP).
    #[arg(long, default_value_t = 4000)]
    width: u32,
    #[arg(long, default_value_t = 3000)]
    height: u32,
    /// Concurrent clients.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
}

async fn start(bin: &Path) -> Server {
    let scratch = std::env::temp_dir().join(format!("balagh-photo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let database = format!("sqlite://{}", scratch.join("bench.sqlite3").display());
    let photos = scratch.join("photos");
    let mut server = Server::start(
        bin,
        &[],
        &[
            ("BALAGH_DATABASE_URL", database.as_str()),
            ("BALAGH_PHOTOS_STORAGE", "local"),
            ("BALAGH_PHOTOS_DIR", photos.to_str().expect("UTF-8 path")),
        ],
    )
    .await;
    server.scratch = Some(scratch);
    server
}

/// Gradients plus noise, so it compresses like a photo (≈ 2–4 MB at 12 MP).
fn photo_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut state: u32 = 0x9E37_79B9;
    let image = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as i64 - 12;
        let channel = |base: u64| (base as i64 + noise).clamp(0, 255) as u8;
        Rgb([
            channel(u64::from(x) * 255 / u64::from(width)),
            channel(u64::from(y) * 255 / u64::from(height)),
            channel(u64::from(x + y) * 127 / u64::from(width + height) + 64),
        ])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode(image.as_raw(), width, height, ExtendedColorType::Rgb8)
        .expect("encode");
    out
}

async fn post(client: &reqwest::Client, url: &str, token: &str, body: Option<Value>) -> Value {
    let mut request = client.post(url).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .json(&body)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

fn line(name: &str, histogram: &Histogram<u64>) {
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{name:<28} p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms",
        ms(0.5),
        ms(0.99),
        histogram.max() as f64 / 1000.0
    );
}

#[derive(Default)]
struct Timings {
    put: Vec<Duration>,
    slot_put_confirm: Vec<Duration>,
    confirm: Vec<Duration>,
}

async fn client_loop(
    base: String,
    token: String,
    report: String,
    bytes: Vec<u8>,
    n: usize,
) -> Timings {
    let client = reqwest::Client::new();
    let mut timings = Timings::default();
    for _ in 0..n {
        let started = Instant::now();
        let slot = post(
            &client,
            &format!("{base}/api/v1/reports/{report}/photos/uploads"),
            &token,
            None,
        )
        .await;
        let url = slot["upload_url"].as_str().expect("upload_url").to_owned();
        let put_started = Instant::now();
        let put = client
            .put(&url)
            .body(bytes.clone())
            .send()
            .await
            .expect("PUT");
        assert!(put.status().is_success(), "PUT {}", put.status());
        timings.put.push(put_started.elapsed());
        let confirm_started = Instant::now();
        post(
            &client,
            slot["confirm_url"].as_str().expect("confirm_url"),
            &token,
            None,
        )
        .await;
        timings.confirm.push(confirm_started.elapsed());
        timings.slot_put_confirm.push(started.elapsed());
    }
    timings
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = balagh_bin(args.balagh.clone());
    let bytes = photo_jpeg(args.width, args.height);
    println!(
        "photo: {} × {} JPEG, {:.1} MB; {} uploads, {} client(s)",
        args.width,
        args.height,
        bytes.len() as f64 / 1e6,
        args.photos,
        args.concurrency
    );
    let server = start(&bin).await;
    let client = reqwest::Client::new();
    let mut reports = Vec::new();
    for _ in 0..args.concurrency {
        let device = post(
            &client,
            &format!("{}/api/v1/devices", server.base),
            "",
            None,
        )
        .await;
        let token = device["token"].as_str().expect("token").to_owned();
        let report = post(
            &client,
            &format!("{}/api/v1/reports", server.base),
            &token,
            Some(json!({
                "service_code": "waste_bin_overflow",
                "lat": 35.5750, "lon": -5.4000,
                "description": "Benchmark report",
            })),
        )
        .await;
        reports.push((token, report["id"].as_str().expect("id").to_owned()));
    }
    let per_client = args.photos.div_ceil(args.concurrency);
    let started = Instant::now();
    let tasks: Vec<_> = reports
        .into_iter()
        .map(|(token, report)| {
            tokio::spawn(client_loop(
                server.base.clone(),
                token,
                report,
                bytes.clone(),
                per_client,
            ))
        })
        .collect();
    let mut put = Histogram::<u64>::new(3).expect("histogram");
    let mut confirm = put.clone();
    let mut total = put.clone();
    for task in tasks {
        let timings = task.await.expect("client");
        for (histogram, durations) in [
            (&mut put, &timings.put),
            (&mut confirm, &timings.confirm),
            (&mut total, &timings.slot_put_confirm),
        ] {
            for d in durations {
                let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
                histogram.record(micros).expect("in range");
            }
        }
    }
    let elapsed = started.elapsed();
    let done = total.len();
    line("PUT only (baseline)", &put);
    line("confirm (process + store)", &confirm);
    line("slot + PUT + confirm", &total);
    println!(
        "{done} photos in {:.1} s: {:.2} photos/s end to end; confirm p50 = {:.1} × the PUT p50",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        confirm.value_at_quantile(0.5) as f64 / put.value_at_quantile(0.5).max(1) as f64
    );
}
