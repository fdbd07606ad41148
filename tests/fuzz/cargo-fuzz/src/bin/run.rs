//! A bounded random-mutation runner for the fuzz targets, for stable Rust (libFuzzer needs
//! nightly): each target gets seeds of valid input, mutated at random (bit flips, bytes and
//! dictionary tokens inserted, ranges deleted, duplicated or spliced from another seed) for
//! the given time. A panic is a finding: its input is saved under `artifacts/<target>/` and
//! the run exits non-zero. Without coverage feedback it finds less than libFuzzer would.
//!
//!   balagh-fuzz-run [SECONDS per target, default 30] [TARGET …]

use std::collections::BTreeMap;
use std::panic;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// xorshift64*: small, fast, reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "%",
    "%5B",
    "%5D",
    "[",
    "]",
    "[]",
    "[0]",
    "&",
    "=",
    "+",
    "%C3",
    "%FF",
    "%00",
    "\u{FEFF}",
    "é",
    "ع",
    "\u{202E}",
    "\0",
    ":",
    "-",
    ",",
    " ",
    "\t",
    "24:00",
    "23:59",
    "00:00",
    "NaN",
    "1e309",
    "-0",
    "9999999999",
    "{",
    "}",
    "\"",
    "\"coordinates\":",
    "[[",
    "]]",
    "\"type\":",
    "\"Polygon\"",
    "\"MultiPolygon\"",
    "\"Point\"",
    "\"GeometryCollection\"",
    "attribute[",
    "media_url",
    "@",
    ".",
    "RIFF",
    "WEBP",
    "ftyp",
    "heic",
    "mif1",
    "avif",
    "\u{FF}\u{D8}",
];

fn f64s(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn tagged(tag: u8, text: &str) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(text.as_bytes());
    v
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "open311_form" => [
            "service_code=light_out&lat=35.5785&long=-5.3684&description=caf%C3%A9+au+lait\
             &attribute%5Bbus_line%5D=5&attribute[stops][]=a&attribute[stops][1]=b\
             &media_url=http%3A%2F%2Fx&media_url[]=y&api_key=k&device_id=d&deviceid=e",
            "attribute[=x&attribute[]=1&attribute[a]b=2&attribute[a][x]=3",
            "description=&description=x&description=y",
            "a=%ZZ&%=&&=&+=+",
            "",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect(),
        "domain_parsers" => {
            let mut point = vec![3];
            point.extend(f64s(&[35.5785, -5.3684]));
            let mut accuracy = vec![4];
            accuracy.extend(f64s(&[12.5]));
            let mut area = vec![11];
            area.extend(f64s(&[35.57, -5.36, 500.0]));
            vec![
                tagged(0, "Lampadaire éteint devant l'école"),
                tagged(1, "light_out"),
                tagged(2, "0190c6c2-7d0e-7c4e-b1b2-5c1e7b0c9a11"),
                point,
                accuracy,
                tagged(5, "22:00|07:00"),
                tagged(5, "00:30|23:45"),
                tagged(6, r#"{"type":"Point","coordinates":[-5.3684,35.5785]}"#),
                tagged(
                    6,
                    r#"{"type":"Polygon","coordinates":[[[-5.37,35.57],[-5.36,35.57],[-5.36,35.58],[-5.37,35.57]]]}"#,
                ),
                tagged(
                    7,
                    r#"{"type":"MultiPolygon","coordinates":[[[[-5.37,35.57],[-5.36,35.57],[-5.36,35.58],[-5.37,35.57]]]]}"#,
                ),
                tagged(8, "agent@nadafa.ma"),
                tagged(9, "08:30-12:00,14:00-16:30"),
                tagged(10, "08:30-16:30"),
                area,
            ]
        }
        "photo_sniff" => vec![
            vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'],
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            b"RIFF\x24\0\0\0WEBPVP8 ".to_vec(),
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf".to_vec(),
            b"GIF89a\x01\0\x01\0".to_vec(),
            Vec::new(),
        ],
        "photo_process" => photo_seeds(),
        _ => Vec::new(),
    }
}

/// Small valid photos of each accepted format, made with the encoders the service uses.
fn photo_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let image = image::RgbImage::from_fn(24, 16, |x, y| {
        image::Rgb([(x * 10) as u8, (y * 15) as u8, 90])
    });
    for format in [
        image::ImageFormat::Jpeg,
        image::ImageFormat::Png,
        image::ImageFormat::WebP,
    ] {
        let mut out = std::io::Cursor::new(Vec::new());
        if image.write_to(&mut out, format).is_ok() {
            seeds.push(out.into_inner());
        }
    }
    seeds
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if rng.below(10) == 0 {
        let len = rng.below(300);
        return (0..len).map(|_| rng.next() as u8).collect();
    }
    let mut data = corpus[rng.below(corpus.len())].clone();
    for _ in 0..=rng.below(8) {
        match rng.below(8) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(data.len() + 1);
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                data.splice(i..i, token.iter().copied());
            }
            3 if !data.is_empty() => {
                let a = rng.below(data.len());
                let b = (a + rng.below(16)).min(data.len());
                data.drain(a..b);
            }
            4 if !data.is_empty() && data.len() < 4096 => {
                let a = rng.below(data.len());
                let b = (a + rng.below(32)).min(data.len());
                let copy = data[a..b].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, copy);
            }
            5 => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + rng.below(64)).min(other.len());
                    let at = rng.below(data.len() + 1);
                    data.splice(at..at, other[a..b].iter().copied());
                }
            }
            6 => data.truncate(rng.below(data.len() + 1)),
            _ => {
                let i = rng.below(data.len() + 1);
                data.insert(i, rng.next() as u8);
            }
        }
    }
    data
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(30);
    let only: Vec<String> = args.collect();
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| {
                info.payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
            })
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(format!("{location}: {message}"));
    }));
    let mut failed = false;
    for (name, target) in balagh_fuzz::TARGETS {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let corpus = seeds(name);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64 ^ std::process::id() as u64);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut runs: u64 = 0;
        let mut findings: BTreeMap<String, (usize, Vec<u8>)> = BTreeMap::new();
        for seed in &corpus {
            target(seed);
        }
        while Instant::now() < deadline {
            for _ in 0..256 {
                let input = mutate(&mut rng, &corpus);
                runs += 1;
                if panic::catch_unwind(|| target(&input)).is_err() {
                    let what = LAST_PANIC
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .take()
                        .unwrap_or_default();
                    let entry = findings.entry(what).or_insert((0, input.clone()));
                    entry.0 += 1;
                    if input.len() < entry.1.len() {
                        entry.1 = input;
                    }
                }
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "{name}: {runs} inputs in {elapsed:.0} s ({:.0}/s), {} distinct panics",
            runs as f64 / elapsed,
            findings.len()
        );
        for (i, (what, (count, input))) in findings.iter().enumerate() {
            failed = true;
            let dir = artifacts.join(name);
            std::fs::create_dir_all(&dir).expect("artifacts directory");
            let path = dir.join(format!("crash-{i}"));
            std::fs::write(&path, input).expect("write the input");
            println!(
                "  PANIC ×{count}: {what}\n    smallest input ({} bytes) in {}: {:?}",
                input.len(),
                path.display(),
                String::from_utf8_lossy(&input[..input.len().min(200)])
            );
        }
    }
    if failed {
        std::process::exit(1);
    }
}
