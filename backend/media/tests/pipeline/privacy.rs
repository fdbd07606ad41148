//! The resident's position and device never leave the pipeline inside a rendition.

use std::io::Cursor;

use balagh_media::{PhotoLimits, RenditionKind, process, shrink_for_upload};
use sha2::{Digest, Sha256};

use crate::support::{
    CAMERA_MODEL, XMP_NAMESPACE, contains, header_markers, phone_jpeg, photo_like,
};

/// No EXIF, XMP or any other APPn segment except the encoder's JFIF APP0.
fn assert_metadata_free(jpeg: &[u8]) {
    assert!(!contains(jpeg, b"Exif\0\0"), "EXIF identifier found");
    assert!(!contains(jpeg, &[0xFF, 0xE1]), "APP1 marker found");
    assert!(!contains(jpeg, XMP_NAMESPACE), "XMP found");
    assert!(
        !contains(jpeg, CAMERA_MODEL.as_bytes()),
        "camera model found"
    );
    let app_segments: Vec<u8> = header_markers(jpeg)
        .into_iter()
        .filter(|marker| (0xE1..=0xEF).contains(marker) || *marker == 0xFE)
        .collect();
    assert_eq!(
        app_segments,
        [] as [u8; 0],
        "metadata segments before the scan"
    );
    match exif::Reader::new().read_from_container(&mut Cursor::new(jpeg)) {
        Err(exif::Error::NotFound(_)) => {}
        Ok(exif) => panic!("kamadak-exif found {} fields", exif.fields().len()),
        Err(other) => panic!("kamadak-exif failed otherwise: {other}"),
    }
}

#[test]
fn gps_is_extracted_and_every_rendition_is_metadata_free() {
    let original = phone_jpeg(&photo_like(640, 480), 1);
    // The fixture really carries what we claim to strip.
    assert!(contains(&original, b"Exif\0\0") && contains(&original, CAMERA_MODEL.as_bytes()));

    let photo = process(&original, &PhotoLimits::default()).unwrap();

    let gps = photo.gps.expect("GPS position");
    assert!((gps.lat - 35.5785).abs() < 1e-6, "{gps:?}");
    assert!((gps.lon - -5.3684).abs() < 1e-6, "{gps:?}");
    assert_eq!(photo.renditions.len(), 2);
    for rendition in &photo.renditions {
        assert_metadata_free(&rendition.bytes);
        assert_ne!(
            rendition.bytes, original,
            "the original must never be returned"
        );
        assert_eq!(rendition.content_type, "image/jpeg");
        let digest = Sha256::digest(&rendition.bytes);
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(rendition.sha256_hex, hex);
    }
    let large = photo.rendition(RenditionKind::Large).unwrap();
    let thumbnail = photo.rendition(RenditionKind::Thumbnail).unwrap();
    assert_eq!((large.width, large.height), (640, 480));
    assert_eq!((thumbnail.width, thumbnail.height), (400, 300));
    assert_ne!(large.sha256_hex, thumbnail.sha256_hex);
}

#[test]
fn a_photo_without_exif_has_no_position() {
    let photo = process(
        &crate::support::jpeg(&photo_like(64, 48)),
        &PhotoLimits::default(),
    );
    assert_eq!(photo.unwrap().gps, None);
}

#[test]
fn shrink_for_upload_strips_metadata_too() {
    let original = phone_jpeg(&photo_like(640, 480), 1);
    let shrunk = shrink_for_upload(&original, 320).unwrap();
    assert_metadata_free(&shrunk);
    let decoded = image::load_from_memory(&shrunk).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
}
