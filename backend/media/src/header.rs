//! Image dimensions read from the file header, without decoding a single pixel.
//!
//! This is what lets a decompression bomb (a few kilobytes declaring 100 000 × 100 000
//! pixels) be refused before the decoder allocates its output buffer. The parsers only
//! index into the input slice, so they allocate nothing whatever the header claims.

use crate::{ImageKind, PhotoError};

/// Width and height as the header declares them (before any EXIF orientation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dimensions {
    pub width: u32,
    pub height: u32,
}

/// Reads the declared dimensions of an image already identified as `kind`.
///
/// For JPEG it also checks that the compressed data is complete, because the JPEG decoder
/// silently pads a truncated scan with grey instead of failing.
pub(crate) fn read_dimensions(kind: ImageKind, bytes: &[u8]) -> Result<Dimensions, PhotoError> {
    let (width, height) = match kind {
        ImageKind::Jpeg => jpeg(bytes)?,
        ImageKind::Png => png(bytes)?,
        ImageKind::WebP => webp(bytes)?,
    };
    if width == 0 || height == 0 {
        return Err(corrupt(kind, "the header declares an empty image"));
    }
    Ok(Dimensions { width, height })
}

fn corrupt(kind: ImageKind, why: &str) -> PhotoError {
    PhotoError::Corrupt(format!("{kind}: {why}"))
}

fn truncated(kind: ImageKind) -> PhotoError {
    corrupt(kind, "the data ends inside the header")
}

fn u16_be(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u24_le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

fn u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Walks the marker segments after SOI up to the first scan (SOS), taking the size from the
/// frame header (SOFn). Segments are skipped by their length, so the thumbnail JPEG inside
/// an EXIF segment is never mistaken for the photo.
fn jpeg(bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
    const KIND: ImageKind = ImageKind::Jpeg;
    const SOS: u8 = 0xDA;
    const EOI: u8 = 0xD9;

    let mut size = None;
    let mut pos = 2; // after SOI
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            return Err(match bytes.get(pos) {
                None => truncated(KIND),
                Some(_) => corrupt(KIND, "expected a marker"),
            });
        }
        // A marker may be preceded by any number of 0xFF fill bytes.
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos).ok_or_else(|| truncated(KIND))?;
        pos += 1;
        match marker {
            // Stand-alone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            EOI => return Err(corrupt(KIND, "the file ends before any image data")),
            _ => {}
        }
        let length = usize::from(u16_be(bytes, pos).ok_or_else(|| truncated(KIND))?);
        let segment = length
            .checked_sub(2)
            .and_then(|body| bytes.get(pos + 2..pos + 2 + body))
            .ok_or_else(|| truncated(KIND))?;

        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = u16_be(segment, 1).ok_or_else(|| truncated(KIND))?;
            let width = u16_be(segment, 3).ok_or_else(|| truncated(KIND))?;
            size = Some((u32::from(width), u32::from(height)));
        }
        if marker == SOS {
            let size = size.ok_or_else(|| corrupt(KIND, "image data before the frame header"))?;
            // Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker,
            // so FF D9 after the first scan can only be the real end-of-image marker. Search
            // from the end: that is where it is in a complete file.
            let scan = &bytes[pos + length..];
            if !scan.windows(2).rev().any(|pair| pair == [0xFF, EOI]) {
                return Err(corrupt(KIND, "the image data is truncated"));
            }
            return Ok(size);
        }
        pos += length;
    }
}

/// The IHDR chunk must come first: signature (8), length (4), "IHDR" (4), width, height.
fn png(bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
    const KIND: ImageKind = ImageKind::Png;
    if bytes.len() < 24 {
        return Err(truncated(KIND));
    }
    if &bytes[12..16] != b"IHDR" {
        return Err(corrupt(KIND, "the first chunk is not IHDR"));
    }
    let width = u32_be(bytes, 16).ok_or_else(|| truncated(KIND))?;
    let height = u32_be(bytes, 20).ok_or_else(|| truncated(KIND))?;
    Ok((width, height))
}

/// The first chunk after the RIFF header (at 12) says which of the three WebP layouts this
/// is; each stores the size differently.
fn webp(bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
    const KIND: ImageKind = ImageKind::WebP;
    const DATA: usize = 20; // RIFF header (12) + chunk FourCC (4) + chunk size (4)

    let fourcc = bytes.get(12..16).ok_or_else(|| truncated(KIND))?;
    let size = match fourcc {
        // Lossy: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
        b"VP8 " => {
            if bytes
                .get(DATA + 3..DATA + 6)
                .ok_or_else(|| truncated(KIND))?
                != [0x9D, 0x01, 0x2A]
            {
                return Err(corrupt(KIND, "bad VP8 start code"));
            }
            let width = u16_le(bytes, DATA + 6).ok_or_else(|| truncated(KIND))? & 0x3FFF;
            let height = u16_le(bytes, DATA + 8).ok_or_else(|| truncated(KIND))? & 0x3FFF;
            (u32::from(width), u32::from(height))
        }
        // Lossless: signature 0x2F, then 14 bits width − 1 and 14 bits height − 1.
        b"VP8L" => {
            if bytes.get(DATA) != Some(&0x2F) {
                return Err(corrupt(KIND, "bad VP8L signature"));
            }
            let bits = u32_le(bytes, DATA + 1).ok_or_else(|| truncated(KIND))?;
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        // Extended: flags (4 bytes), then 24-bit canvas width − 1 and height − 1.
        b"VP8X" => {
            let width = u24_le(bytes, DATA + 4).ok_or_else(|| truncated(KIND))?;
            let height = u24_le(bytes, DATA + 7).ok_or_else(|| truncated(KIND))?;
            (width + 1, height + 1)
        }
        _ => return Err(corrupt(KIND, "unknown first chunk")),
    };
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(kind: ImageKind, bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
        read_dimensions(kind, bytes).map(|d| (d.width, d.height))
    }

    /// SOI, an APP1 holding a fake embedded thumbnail frame header, the real SOF0, SOS,
    /// two bytes of scan data, EOI.
    fn jpeg_skeleton(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        let thumb = [0xFF, 0xC0, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0];
        out.extend_from_slice(&[0xFF, 0xE1, 0, 2 + thumb.len() as u8]);
        out.extend_from_slice(&thumb);
        out.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&[1, 1, 0x11, 0]);
        out.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        out.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9]);
        out
    }

    #[test]
    fn jpeg_size_comes_from_the_frame_header_not_the_exif_thumbnail() {
        assert_eq!(
            dims(ImageKind::Jpeg, &jpeg_skeleton(4000, 3000)),
            Ok((4000, 3000))
        );
    }

    #[test]
    fn jpeg_bomb_header_is_read_without_decoding() {
        assert_eq!(
            dims(ImageKind::Jpeg, &jpeg_skeleton(65_535, 65_535)),
            Ok((65_535, 65_535))
        );
    }

    #[test]
    fn jpeg_without_end_marker_or_cut_in_header_is_corrupt() {
        let full = jpeg_skeleton(64, 48);
        for cut in [3, 10, 20, 30, full.len() - 2] {
            assert!(
                matches!(
                    dims(ImageKind::Jpeg, &full[..cut]),
                    Err(PhotoError::Corrupt(_))
                ),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn png_size_from_ihdr() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(dims(ImageKind::Png, &png), Ok((100_000, 7)));
        assert!(matches!(
            dims(ImageKind::Png, &png[..20]),
            Err(PhotoError::Corrupt(_))
        ));
    }

    #[test]
    fn webp_sizes_for_each_layout() {
        let riff = |chunk: &[u8; 4], data: &[u8]| {
            let mut out = b"RIFF\0\0\0\0WEBP".to_vec();
            out.extend_from_slice(chunk);
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(data);
            out
        };
        let lossy = riff(
            b"VP8 ",
            &[0, 0, 0, 0x9D, 0x01, 0x2A, 0x20, 0x03, 0x58, 0x02],
        );
        assert_eq!(dims(ImageKind::WebP, &lossy), Ok((800, 600)));

        let bits: u32 = (800 - 1) | ((600 - 1) << 14);
        let mut lossless = vec![0x2F];
        lossless.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(
            dims(ImageKind::WebP, &riff(b"VP8L", &lossless)),
            Ok((800, 600))
        );

        let extended = riff(b"VP8X", &[0, 0, 0, 0, 0x9F, 0x86, 0x01, 0x9F, 0x86, 0x01]);
        assert_eq!(dims(ImageKind::WebP, &extended), Ok((100_000, 100_000)));

        assert!(matches!(
            dims(ImageKind::WebP, &lossy[..25]),
            Err(PhotoError::Corrupt(_))
        ));
    }

    #[test]
    fn zero_sized_images_are_corrupt() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0; 8]);
        assert!(matches!(
            dims(ImageKind::Png, &png),
            Err(PhotoError::Corrupt(_))
        ));
    }
}
