//! Formats in, JPEG renditions out, at the right sizes.

use balagh_media::{
    DEFAULT_UPLOAD_MAX_SIDE, ImageKind, PhotoLimits, ProcessedPhoto, RenditionKind, process,
    shrink_for_upload,
};

use crate::support::{jpeg, photo_like, png, webp};

fn sizes(photo: &ProcessedPhoto) -> Vec<(RenditionKind, u32, u32)> {
    photo
        .renditions
        .iter()
        .map(|rendition| (rendition.kind, rendition.width, rendition.height))
        .collect()
}

fn assert_renditions_decode_as_jpeg(photo: &ProcessedPhoto) {
    for rendition in &photo.renditions {
        assert_eq!(
            image::guess_format(&rendition.bytes).unwrap(),
            image::ImageFormat::Jpeg
        );
        let decoded = image::load_from_memory(&rendition.bytes).unwrap();
        assert_eq!(decoded.width(), rendition.width);
        assert_eq!(decoded.height(), rendition.height);
    }
}

#[test]
fn png_bytes_are_processed_as_png_whatever_the_name() {
    // What a client uploading `photo.jpg` that is really a PNG sends: the bytes are all we see.
    let photo = process(&png(&photo_like(120, 80)), &PhotoLimits::default()).unwrap();
    assert_eq!(photo.detected, ImageKind::Png);
    assert_eq!((photo.width, photo.height), (120, 80));
    assert_renditions_decode_as_jpeg(&photo);
}

#[test]
fn webp_input_works() {
    let photo = process(&webp(&photo_like(120, 80)), &PhotoLimits::default()).unwrap();
    assert_eq!(photo.detected, ImageKind::WebP);
    assert_eq!(
        sizes(&photo),
        [
            (RenditionKind::Large, 120, 80),
            (RenditionKind::Thumbnail, 120, 80)
        ]
    );
    assert_renditions_decode_as_jpeg(&photo);
}

#[test]
fn a_small_photo_is_not_upscaled() {
    let photo = process(&jpeg(&photo_like(300, 200)), &PhotoLimits::default()).unwrap();
    assert_eq!(photo.detected, ImageKind::Jpeg);
    assert_eq!(
        sizes(&photo),
        [
            (RenditionKind::Large, 300, 200),
            (RenditionKind::Thumbnail, 300, 200)
        ]
    );
    // Same pixels, same bytes, same name: stored once.
    assert_eq!(photo.renditions[0].bytes, photo.renditions[1].bytes);
    assert_eq!(
        photo.renditions[0].sha256_hex,
        photo.renditions[1].sha256_hex
    );
    assert_renditions_decode_as_jpeg(&photo);
}

#[test]
fn a_medium_photo_keeps_its_size_and_gets_a_thumbnail() {
    let photo = process(&jpeg(&photo_like(1000, 500)), &PhotoLimits::default()).unwrap();
    assert_eq!(
        sizes(&photo),
        [
            (RenditionKind::Large, 1000, 500),
            (RenditionKind::Thumbnail, 400, 200)
        ]
    );
}

#[test]
fn a_wide_photo_is_fitted_into_2048() {
    // A panorama strip: wider than 2048 yet cheap to decode in a debug build.
    let photo = process(&png(&photo_like(2100, 100)), &PhotoLimits::default()).unwrap();
    assert_eq!((photo.width, photo.height), (2100, 100));
    assert_eq!(
        sizes(&photo),
        [
            (RenditionKind::Large, 2048, 98),
            (RenditionKind::Thumbnail, 400, 19)
        ]
    );
    assert_renditions_decode_as_jpeg(&photo);
}

#[test]
fn transparent_png_is_flattened_onto_white() {
    let transparent = image::RgbaImage::from_pixel(40, 30, image::Rgba([0, 0, 0, 0]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgba8(transparent)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    let photo = process(&bytes, &PhotoLimits::default()).unwrap();
    let decoded = image::load_from_memory(&photo.renditions[0].bytes)
        .unwrap()
        .to_rgb8();
    assert!(
        decoded
            .get_pixel(20, 15)
            .0
            .iter()
            .all(|&channel| channel > 250)
    );
}

#[test]
fn shrink_for_upload_fits_and_never_enlarges() {
    let shrunk = shrink_for_upload(&png(&photo_like(900, 300)), 600).unwrap();
    let decoded = image::load_from_memory(&shrunk).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (600, 200));
    assert_eq!(
        image::guess_format(&shrunk).unwrap(),
        image::ImageFormat::Jpeg
    );

    let small = shrink_for_upload(&jpeg(&photo_like(90, 60)), DEFAULT_UPLOAD_MAX_SIDE).unwrap();
    let decoded = image::load_from_memory(&small).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (90, 60));
}
