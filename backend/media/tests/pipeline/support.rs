//! Fixture builders: every test image is generated here, none is committed.

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};

/// Gradients plus noise, so it compresses like a photo rather than a flat test card.
pub fn photo_like(width: u32, height: u32) -> RgbImage {
    let mut state: u32 = 0x9E37_79B9;
    RgbImage::from_fn(width, height, |x, y| {
        // xorshift32: deterministic noise without a random-number crate.
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

/// A flat grey image with a red square in its stored top-left corner.
pub fn grey_with_red_corner(width: u32, height: u32, corner: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        if x < corner && y < corner {
            Rgb([230, 20, 20])
        } else {
            Rgb([128, 128, 128])
        }
    })
}

pub fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

pub fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// Lossless WebP (the only kind the `image` crate encodes).
pub fn webp(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A JPEG marker segment: FF, marker, big-endian length (including itself), payload.
pub fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(payload.len() + 2).unwrap();
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splices segments right after SOI, where cameras put EXIF.
pub fn insert_after_soi(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
    let mut out = jpeg[..2].to_vec();
    for segment in segments {
        out.extend_from_slice(segment);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn rationals(values: &[(u32, u32)]) -> Value {
    Value::Rational(
        values
            .iter()
            .map(|&(num, denom)| Rational { num, denom })
            .collect(),
    )
}

fn ascii(text: &str) -> Value {
    Value::Ascii(vec![text.as_bytes().to_vec()])
}

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

pub const CAMERA_MAKE: &str = "Google";
pub const CAMERA_MODEL: &str = "Pixel 8 Pro";

/// What a phone writes: make, model, orientation, and 35° 34' 42.6" N, 5° 22' 6.24" W
/// (35.5785, −5.3684).
pub fn phone_exif_fields(orientation: u16) -> Vec<Field> {
    vec![
        field(Tag::Make, ascii(CAMERA_MAKE)),
        field(Tag::Model, ascii(CAMERA_MODEL)),
        field(Tag::Orientation, Value::Short(vec![orientation])),
        field(Tag::GPSLatitudeRef, ascii("N")),
        field(Tag::GPSLatitude, rationals(&[(35, 1), (34, 1), (426, 10)])),
        field(Tag::GPSLongitudeRef, ascii("W")),
        field(Tag::GPSLongitude, rationals(&[(5, 1), (22, 1), (624, 100)])),
    ]
}

/// An APP1 segment holding `Exif\0\0` and a TIFF structure with `fields`.
pub fn exif_app1(fields: &[Field]) -> Vec<u8> {
    let mut writer = Writer::new();
    for field in fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff.into_inner());
    segment(0xE1, &payload)
}

pub const XMP_NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/";

/// An APP1 XMP packet repeating the position, as editors and some phones write it.
pub fn xmp_app1() -> Vec<u8> {
    let mut payload = XMP_NAMESPACE.to_vec();
    payload.push(0);
    payload.extend_from_slice(
        br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="35,34.71N" exif:GPSLongitude="5,22.104W"/></rdf:RDF></x:xmpmeta>"#,
    );
    segment(0xE1, &payload)
}

/// A phone-style JPEG: EXIF (with GPS and camera) and XMP after SOI.
pub fn phone_jpeg(image: &RgbImage, orientation: u16) -> Vec<u8> {
    insert_after_soi(
        &jpeg(image),
        &[exif_app1(&phone_exif_fields(orientation)), xmp_app1()],
    )
}

/// Markers of the segments before the first scan (SOS), in order.
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
        let length = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        pos += 2 + length;
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut checked = kind.to_vec();
    checked.extend_from_slice(data);
    out.extend_from_slice(&crc32(&checked).to_be_bytes());
    out
}

/// A valid-looking PNG whose IHDR declares `width × height` RGB pixels, with a tiny
/// IDAT (one zlib stored block) instead of the gigabytes it would decode to.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let zeros = [0u8; 16];
    let mut idat = vec![0x78, 0x01, 0x01, 16, 0, !16, 0xFF];
    idat.extend_from_slice(&zeros);
    idat.extend_from_slice(&[0x00, 0x10, 0x00, 0x01]); // Adler-32 of 16 zero bytes
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"IDAT", &idat));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

/// An ISO-BMFF `ftyp` box as an iPhone writes it, and the start of the next box.
pub fn heic_header() -> Vec<u8> {
    let mut out = 24u32.to_be_bytes().to_vec();
    out.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    out.extend_from_slice(b"\0\0\0\x08meta");
    out
}
