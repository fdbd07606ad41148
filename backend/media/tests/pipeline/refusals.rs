//! What is refused, how fast, and with which status.

use std::time::{Duration, Instant};

use balagh_media::{PhotoError, PhotoLimits, process, shrink_for_upload};

use crate::support::{heic_header, jpeg, photo_like, png, png_bomb, webp};

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let bomb = png_bomb(100_000, 100_000);
    assert!(bomb.len() < 100, "the bomb is {} bytes", bomb.len());

    let started = Instant::now();
    let refused = process(&bomb, &PhotoLimits::default());
    // Decoding would need 30 GB: coming back at once, without an allocation failure, is
    // the proof that nothing was allocated for it.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        refused,
        Err(PhotoError::TooManyPixels {
            width: 100_000,
            height: 100_000
        })
    );
    assert_eq!(refused.unwrap_err().http_status(), 422);
}

#[test]
fn pixel_and_side_limits_apply_below_the_bomb_scale() {
    // 100 MP, each side within the default 20 000 px.
    assert_eq!(
        process(&png_bomb(10_000, 10_000), &PhotoLimits::default()),
        Err(PhotoError::TooManyPixels {
            width: 10_000,
            height: 10_000
        })
    );
    // A real photo against tight limits.
    let tight = PhotoLimits {
        max_pixels: 1_000,
        ..PhotoLimits::default()
    };
    assert_eq!(
        process(&jpeg(&photo_like(64, 48)), &tight),
        Err(PhotoError::TooManyPixels {
            width: 64,
            height: 48
        })
    );
    let narrow = PhotoLimits {
        max_dimension: 50,
        ..PhotoLimits::default()
    };
    assert!(matches!(
        process(&jpeg(&photo_like(64, 10)), &narrow),
        Err(PhotoError::TooManyPixels { .. })
    ));
}

#[test]
fn truncated_or_corrupt_data_is_corrupt() {
    let image = photo_like(96, 64);
    let full_jpeg = jpeg(&image);
    let full_png = png(&image);
    let full_webp = webp(&image);
    let cases = [
        (
            "jpeg cut in the scan",
            &full_jpeg[..full_jpeg.len() * 6 / 10],
        ),
        (
            "jpeg cut before the end marker",
            &full_jpeg[..full_jpeg.len() - 2],
        ),
        ("jpeg cut in the header", &full_jpeg[..40]),
        ("png cut in the data", &full_png[..full_png.len() / 2]),
        ("png cut in the header", &full_png[..20]),
        ("webp cut in the data", &full_webp[..full_webp.len() / 2]),
    ];
    for (what, bytes) in cases {
        let result = process(bytes, &PhotoLimits::default());
        assert!(
            matches!(result, Err(PhotoError::Corrupt(_))),
            "{what}: {result:?}"
        );
        assert_eq!(result.unwrap_err().http_status(), 422, "{what}");
    }
}

#[test]
fn garbage_after_the_end_marker_is_tolerated() {
    // Samsung and Apple append trailers (and extra MPF images) after the main image.
    let mut with_trailer = jpeg(&photo_like(64, 48));
    with_trailer.extend_from_slice(b"SEFH\0\0\0\0 trailer data");
    assert!(process(&with_trailer, &PhotoLimits::default()).is_ok());
}

#[test]
fn heic_is_refused_with_a_hint_to_send_jpeg() {
    let refused = process(&heic_header(), &PhotoLimits::default()).unwrap_err();
    assert_eq!(refused, PhotoError::Heic);
    assert_eq!(refused.http_status(), 415);
    assert_eq!(refused.code(), "photo_heic");
    assert!(refused.to_string().contains("JPEG"), "{refused}");
    assert_eq!(
        shrink_for_upload(&heic_header(), 2048),
        Err(PhotoError::Heic)
    );
}

#[test]
fn other_types_are_unsupported() {
    for bytes in [
        &b"GIF89a\x01\0\x01\0\x80\0\0"[..],
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n",
        b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
        b"",
    ] {
        let refused = process(bytes, &PhotoLimits::default()).unwrap_err();
        assert!(
            matches!(refused, PhotoError::Unsupported { .. }),
            "{refused:?}"
        );
        assert_eq!(refused.http_status(), 415);
    }
}

#[test]
fn over_the_byte_limit_is_too_large_before_anything_else() {
    let limits = PhotoLimits {
        max_bytes: 1_000,
        ..PhotoLimits::default()
    };
    let photo = jpeg(&photo_like(96, 64));
    assert!(photo.len() > 1_000);
    let refused = process(&photo, &limits).unwrap_err();
    assert_eq!(
        refused,
        PhotoError::TooLarge {
            size: photo.len(),
            max: 1_000
        }
    );
    assert_eq!(refused.http_status(), 413);
    // Checked first: even bytes that are not an image get 413, not 415.
    assert!(matches!(
        process(&[0u8; 2_000], &limits),
        Err(PhotoError::TooLarge { .. })
    ));
}
