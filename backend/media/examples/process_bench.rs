//! Throughput of the photo pipeline against a plain decode of the same 12 MP JPEG.
//!
//! ```sh
//! cargo run --release -p balagh-media --example process_bench [-- ITERATIONS]
//! ```
//!
//! Single-threaded, like one `spawn_blocking` task. Peak memory is the process's VmHWM,
//! which includes generating the input; it is printed after each phase so the pipeline's
//! own peak can be told apart.

use std::hint::black_box;
use std::time::{Duration, Instant};

use balagh_media::{PhotoLimits, process};
use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, Rgb, RgbImage};

const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;
const DEFAULT_ITERATIONS: u32 = 10;
/// What a phone camera writes.
const INPUT_QUALITY: u8 = 90;

fn main() {
    let iterations = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("ITERATIONS must be a positive integer"))
        .unwrap_or(DEFAULT_ITERATIONS)
        .max(1);

    let input = photo_like_jpeg();
    println!(
        "input: {WIDTH}x{HEIGHT} JPEG q{INPUT_QUALITY}, {:.2} MiB; {iterations} iterations each",
        mib(input.len())
    );
    println!("peak memory after generating: {:.0} MiB", peak_memory_mib());

    let decode = time(iterations, || {
        black_box(image::load_from_memory(black_box(&input)).expect("decode"));
    });
    let decode_memory = peak_memory_mib();

    let limits = PhotoLimits::default();
    let mut output_sizes = (0, 0);
    let pipeline = time(iterations, || {
        let photo = process(black_box(&input), &limits).expect("process");
        output_sizes = (
            photo.renditions[0].bytes.len(),
            photo.renditions[1].bytes.len(),
        );
        black_box(photo);
    });
    let pipeline_memory = peak_memory_mib();

    let rate = |per_image: Duration| 1.0 / per_image.as_secs_f64();
    println!(
        "decode only (image::load_from_memory): {:>6.2} images/s  ({:.1} ms/image)",
        rate(decode),
        decode.as_secs_f64() * 1e3
    );
    println!(
        "full pipeline (process):               {:>6.2} images/s  ({:.1} ms/image)",
        rate(pipeline),
        pipeline.as_secs_f64() * 1e3
    );
    println!(
        "ratio pipeline/decode (time per image): {:.2}",
        pipeline.as_secs_f64() / decode.as_secs_f64()
    );
    println!(
        "renditions: large {:.0} KiB, thumbnail {:.0} KiB",
        output_sizes.0 as f64 / 1024.0,
        output_sizes.1 as f64 / 1024.0
    );
    println!("peak memory (VmHWM) after decode runs:   {decode_memory:.0} MiB");
    println!("peak memory (VmHWM) after pipeline runs: {pipeline_memory:.0} MiB");
}

/// Mean time of one call over `iterations`, after one warm-up call.
fn time(iterations: u32, mut run: impl FnMut()) -> Duration {
    run();
    let started = Instant::now();
    for _ in 0..iterations {
        run();
    }
    started.elapsed() / iterations
}

/// Gradients, a few soft shapes and per-pixel noise, so it compresses like a photo
/// (a flat image would make both decode and encode unrealistically cheap).
fn photo_like_jpeg() -> Vec<u8> {
    let mut state: u32 = 0x2545_F491;
    let pixels = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 21) as f32 - 10.0;
        let (fx, fy) = (x as f32 / WIDTH as f32, y as f32 / HEIGHT as f32);
        // Sky-to-street gradient with some large-scale structure.
        let wave = ((fx * 23.0).sin() * (fy * 17.0).cos()) * 30.0;
        let channel = |value: f32| (value + wave + noise).clamp(0.0, 255.0) as u8;
        Rgb([
            channel(70.0 + 120.0 * fy),
            channel(110.0 + 60.0 * fx),
            channel(200.0 - 140.0 * fy),
        ])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, INPUT_QUALITY)
        .encode(pixels.as_raw(), WIDTH, HEIGHT, ExtendedColorType::Rgb8)
        .expect("encode input");
    out
}

/// VmHWM (peak resident set) from /proc/self/status, in MiB; 0 where unavailable.
fn peak_memory_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib / 1024.0)
        })
        .unwrap_or(0.0)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
