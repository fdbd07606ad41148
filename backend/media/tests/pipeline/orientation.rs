//! Photos come out upright whatever way the phone was held.

use balagh_media::{PhotoLimits, RenditionKind, process, shrink_for_upload};
use image::{RgbImage, RgbaImage};

use crate::support::{exif_app1, grey_with_red_corner, insert_after_soi, jpeg, phone_exif_fields};

const STORED_WIDTH: u32 = 600;
const STORED_HEIGHT: u32 = 400;
const CORNER: u32 = 120;

/// A landscape-stored JPEG with a red stored top-left corner and the given EXIF orientation.
fn rotated_photo(orientation: u16) -> Vec<u8> {
    let pixels = grey_with_red_corner(STORED_WIDTH, STORED_HEIGHT, CORNER);
    insert_after_soi(
        &jpeg(&pixels),
        &[exif_app1(&phone_exif_fields(orientation))],
    )
}

fn decode(jpeg: &[u8]) -> RgbaImage {
    image::load_from_memory(jpeg).unwrap().to_rgba8()
}

fn is_red(image: &RgbaImage, x: u32, y: u32) -> bool {
    let [r, g, b, _] = image.get_pixel(x, y).0;
    r > 180 && g < 80 && b < 80
}

/// Which corner of `image` is red: "top-left", "top-right", "bottom-left" or "bottom-right".
fn red_corner(image: &RgbaImage) -> Vec<&'static str> {
    // Sample the middle of where a corner square scaled to this image would be.
    let inset = |side: u32| side / 20;
    let (width, height) = image.dimensions();
    let (left, top) = (inset(width), inset(height));
    let (right, bottom) = (width - 1 - inset(width), height - 1 - inset(height));
    [
        ("top-left", left, top),
        ("top-right", right, top),
        ("bottom-left", left, bottom),
        ("bottom-right", right, bottom),
    ]
    .into_iter()
    .filter(|&(_, x, y)| is_red(image, x, y))
    .map(|(name, _, _)| name)
    .collect()
}

fn check(orientation: u16, expected_corner: &str) {
    let photo = process(&rotated_photo(orientation), &PhotoLimits::default()).unwrap();
    // Upright, the stored landscape is a portrait.
    assert_eq!((photo.width, photo.height), (STORED_HEIGHT, STORED_WIDTH));

    let large = photo.rendition(RenditionKind::Large).unwrap();
    assert_eq!((large.width, large.height), (400, 600));
    let thumbnail = photo.rendition(RenditionKind::Thumbnail).unwrap();
    assert_eq!((thumbnail.width, thumbnail.height), (267, 400));

    for rendition in &photo.renditions {
        let decoded = decode(&rendition.bytes);
        assert_eq!(decoded.dimensions(), (rendition.width, rendition.height));
        assert_eq!(
            red_corner(&decoded),
            [expected_corner],
            "{:?}",
            rendition.kind
        );
    }
}

#[test]
fn orientation_6_turns_the_stored_top_left_to_the_top_right() {
    check(6, "top-right");
}

#[test]
fn orientation_8_turns_the_stored_top_left_to_the_bottom_left() {
    check(8, "bottom-left");
}

#[test]
fn orientation_1_leaves_the_photo_as_stored() {
    let photo = process(&rotated_photo(1), &PhotoLimits::default()).unwrap();
    assert_eq!((photo.width, photo.height), (STORED_WIDTH, STORED_HEIGHT));
    assert_eq!(
        red_corner(&decode(&photo.renditions[0].bytes)),
        ["top-left"]
    );
}

#[test]
fn shrink_for_upload_is_upright() {
    let shrunk = decode(&shrink_for_upload(&rotated_photo(6), 300).unwrap());
    assert_eq!(shrunk.dimensions(), (200, 300));
    assert_eq!(red_corner(&shrunk), ["top-right"]);
}

#[test]
fn the_fixture_itself_has_the_red_corner_top_left() {
    let stored: RgbImage = grey_with_red_corner(STORED_WIDTH, STORED_HEIGHT, CORNER);
    let decoded = image::DynamicImage::ImageRgb8(stored).to_rgba8();
    assert_eq!(red_corner(&decoded), ["top-left"]);
}
