//! What the bytes really are, judged by their magic numbers only.
//!
//! The file name and the declared `Content-Type` come from the client and are ignored:
//! a PNG named `photo.jpg` is a PNG, and an executable named `photo.jpg` is refused.

use crate::PhotoError;

/// An accepted input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// JPEG (JFIF/EXIF), what almost every phone camera writes.
    Jpeg,
    /// PNG, typically screenshots.
    Png,
    /// WebP, lossy or lossless (animated ones are reduced to their first frame).
    WebP,
}

impl ImageKind {
    /// The MIME type of the format.
    #[must_use]
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    pub(crate) fn image_format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::WebP => image::ImageFormat::WebP,
        }
    }
}

impl std::fmt::Display for ImageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.mime_type())
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// HEIF brands whose image items are HEVC-coded (HEIC), or that name the generic HEIF
/// structure (`mif1`, `msf1`) which phones put first or among the compatible brands.
const HEIC_BRANDS: [&[u8; 4]; 10] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1",
];
/// AVIF shares the HEIF container (and usually lists `mif1` too) but is AV1: not HEIC.
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];

/// Identifies the format from the first bytes.
///
/// # Errors
/// [`PhotoError::Heic`] for HEIC/HEIF, [`PhotoError::Unsupported`] for anything else that is
/// not JPEG, PNG or WebP (including AVIF and empty input).
pub fn detect(bytes: &[u8]) -> Result<ImageKind, PhotoError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageKind::Jpeg);
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return Ok(ImageKind::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(ImageKind::WebP);
    }
    if is_heic(bytes) {
        return Err(PhotoError::Heic);
    }
    Err(PhotoError::Unsupported {
        // Only to make the refusal helpful ("image/gif is not accepted").
        detected: infer::get(bytes).map(|kind| kind.mime_type()),
    })
}

/// Reads the ISO-BMFF `ftyp` box: major brand at 8..12, compatible brands after 16.
fn is_heic(bytes: &[u8]) -> bool {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let box_len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let box_end = box_len.clamp(16, bytes.len());
    let major = &bytes[8..12];
    let compatible = bytes[16..box_end].chunks_exact(4);
    let brands = || std::iter::once(major).chain(compatible.clone());

    if brands().any(|brand| AVIF_BRANDS.iter().any(|avif| brand == *avif)) {
        return false;
    }
    brands().any(|brand| HEIC_BRANDS.iter().any(|heic| brand == *heic))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let len = 16 + 4 * compatible.len();
        let mut out = Vec::with_capacity(len + 8);
        out.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(major);
        out.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
        // The start of the next box, as in a real file.
        out.extend_from_slice(b"\0\0\0\x08meta");
        out
    }

    #[test]
    fn accepted_formats_by_magic() {
        assert_eq!(detect(b"\xFF\xD8\xFF\xE0rest"), Ok(ImageKind::Jpeg));
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"),
            Ok(ImageKind::Png)
        );
        assert_eq!(detect(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(ImageKind::WebP));
    }

    #[test]
    fn heic_family_is_heic() {
        for brand in [
            b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1",
        ] {
            assert_eq!(
                detect(&ftyp(brand, &[])),
                Err(PhotoError::Heic),
                "{brand:?}"
            );
        }
        // iPhone: major `heic`, compatible `mif1`, `heic`.
        assert_eq!(
            detect(&ftyp(b"heic", &[b"mif1", b"heic"])),
            Err(PhotoError::Heic)
        );
        // Some Android phones: major `mif1`, compatible `heic`.
        assert_eq!(detect(&ftyp(b"mif1", &[b"heic"])), Err(PhotoError::Heic));
    }

    #[test]
    fn avif_and_video_are_unsupported_not_heic() {
        for bytes in [
            ftyp(b"avif", &[b"mif1", b"miaf"]),
            ftyp(b"mif1", &[b"avif", b"miaf"]),
            ftyp(b"isom", &[b"iso2", b"mp41"]),
        ] {
            assert!(matches!(
                detect(&bytes),
                Err(PhotoError::Unsupported { .. })
            ));
        }
    }

    #[test]
    fn others_are_unsupported_and_named_when_known() {
        assert_eq!(
            detect(b"GIF89a\x01\0\x01\0\0\0\0"),
            Err(PhotoError::Unsupported {
                detected: Some("image/gif")
            })
        );
        assert_eq!(
            detect(b"%PDF-1.7\n"),
            Err(PhotoError::Unsupported {
                detected: Some("application/pdf")
            })
        );
        assert_eq!(detect(b""), Err(PhotoError::Unsupported { detected: None }));
        // A truncated JPEG signature is not a JPEG.
        assert!(matches!(
            detect(b"\xFF\xD8"),
            Err(PhotoError::Unsupported { .. })
        ));
    }
}
