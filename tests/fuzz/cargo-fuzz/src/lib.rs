//! The fuzz targets' bodies: each takes arbitrary bytes, feeds them to a parser of
//! untrusted input, and checks what the parser promises (never a panic; what it accepts is
//! well-formed and parses again the same). Used by libFuzzer (`fuzz_targets/`) and by the
//! stable runner (`src/bin/run.rs`).

use balagh_api::open311::form::{AttributeInput, Params};
use balagh_domain::account::Email;
use balagh_domain::notify::{AreaOfInterest, NoticeArea, QuietHours};
use balagh_domain::sla::calendar::{DaySchedule, WorkingInterval};
use balagh_domain::{Accuracy, Description, GeoPoint, IdempotencyKey, ServiceCode};

/// A fuzz target: arbitrary bytes in, a panic on a finding.
pub type Target = fn(&[u8]);

/// The targets, by name.
pub const TARGETS: [(&str, Target); 4] = [
    ("open311_form", open311_form),
    ("domain_parsers", domain_parsers),
    ("photo_sniff", photo_sniff),
    ("photo_process", photo_process),
];

/// Open311 parameters (`application/x-www-form-urlencoded` bodies and query strings).
pub fn open311_form(data: &[u8]) {
    let params = Params::parse(data);
    for name in [
        "service_code",
        "lat",
        "long",
        "description",
        "api_key",
        "jurisdiction_id",
        "device_id",
        "email",
        "address_string",
    ] {
        if let Ok(Some(value)) = params.one(name) {
            assert!(
                !value.is_empty() && value == value.trim(),
                "{name}: {value:?}"
            );
        }
    }
    let _ = params.one_of(&["device_id", "deviceid"]);
    for value in params.many("media_url") {
        assert!(!value.is_empty() && value == value.trim());
    }
    if let Ok(attributes) = params.attributes() {
        for (code, input) in attributes {
            assert!(!code.is_empty());
            match input {
                AttributeInput::One(v) => assert!(!v.is_empty()),
                AttributeInput::Many(vs) => {
                    assert!(!vs.is_empty() && vs.iter().all(|v| !v.is_empty()));
                }
            }
        }
    }
}

fn f64_at(data: &[u8], at: usize) -> f64 {
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = data.get(at + i).copied().unwrap_or(0);
    }
    f64::from_le_bytes(bytes)
}

/// The domain's parsers of what residents, staff and operators send: the first byte picks
/// the parser, the rest is its input (text, or numbers as little-endian f64).
pub fn domain_parsers(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 12 {
        0 => {
            if let Ok(d) = Description::parse(&text) {
                assert_eq!(Description::parse(d.as_str()).as_ref(), Ok(&d), "{text:?}");
            }
        }
        1 => {
            if let Ok(c) = ServiceCode::parse(&text) {
                assert_eq!(ServiceCode::parse(c.as_str()).as_ref(), Ok(&c));
            }
        }
        2 => {
            if let Ok(k) = IdempotencyKey::parse(&text) {
                assert_eq!(IdempotencyKey::parse(k.as_str()).as_ref(), Ok(&k));
            }
        }
        3 => {
            let (lat, lon) = (f64_at(rest, 0), f64_at(rest, 8));
            if let Ok(p) = GeoPoint::parse(lat, lon) {
                assert!(p.lat().is_finite() && p.lon().is_finite());
                assert!((-90.0..=90.0).contains(&p.lat()) && (-180.0..=180.0).contains(&p.lon()));
            }
        }
        4 => {
            let _ = Accuracy::parse(f64_at(rest, 0));
        }
        5 => {
            let (start, end) = text.split_once('|').unwrap_or((&text, ""));
            if let Ok(q) = QuietHours::parse(start, end) {
                assert_eq!(
                    QuietHours::from_minutes(q.start_minutes(), q.end_minutes()),
                    Some(q)
                );
                // The end of quiet hours is after now and within a day (plus a clock change).
                let seconds = (f64_at(rest, 0).abs() % 4.0e9) as i64;
                let now = jiff::Timestamp::from_second(seconds).expect("in range");
                let zone = jiff::tz::TimeZone::get("Africa/Casablanca").expect("bundled zone");
                if let Some(resume) = q.resume_at(now, &zone) {
                    let wait = resume.as_second() - now.as_second();
                    assert!((0..=26 * 3600).contains(&wait), "{q:?} at {now}: {resume}");
                }
            }
        }
        6 => {
            if let Ok(geometry) = text.parse::<geojson::Geometry>() {
                let radius = (rest.len() % 3 == 0).then(|| f64_at(rest, 0));
                let _ = NoticeArea::parse(&geometry, radius);
            }
        }
        7 => {
            if let Ok(geometry) = text.parse::<geojson::Geometry>() {
                let _ = balagh_domain::zones::parse_area(&geometry);
            }
        }
        8 => {
            if let Ok(e) = Email::parse(&text) {
                assert_eq!(Email::parse(e.as_str()).as_ref(), Ok(&e));
            }
        }
        9 => {
            let _ = DaySchedule::parse(&text);
        }
        10 => {
            let _ = WorkingInterval::parse(&text);
        }
        _ => {
            let _ = AreaOfInterest::parse(f64_at(rest, 0), f64_at(rest, 8), f64_at(rest, 16));
        }
    }
}

/// Photo uploads: the format sniffing that decides what is decoded (and refuses HEIC).
pub fn photo_sniff(data: &[u8]) {
    match balagh_media::detect(data) {
        Ok(kind) => {
            let _ = kind;
            assert!(data.len() >= 3, "a format from {} bytes", data.len());
        }
        Err(error) => {
            let _ = error.http_status();
        }
    }
}

/// The whole photo pipeline on hostile bytes (truncated or lying headers, decompression
/// bombs), under small limits so one input stays cheap: a refusal, never a panic.
pub fn photo_process(data: &[u8]) {
    let limits = balagh_media::PhotoLimits {
        max_bytes: 64 * 1024,
        max_pixels: 256 * 256,
        max_dimension: 512,
    };
    if let Ok(photo) = balagh_media::process(data, &limits) {
        assert!(u64::from(photo.width) * u64::from(photo.height) <= limits.max_pixels);
        assert!(!photo.renditions.is_empty());
    }
}
