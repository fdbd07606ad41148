//! From accepted bytes to pixels, with every check that must come first.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{ImageError, ImageReader, RgbImage};

use crate::metadata::{self, GpsPosition};
use crate::{ImageKind, PhotoError, PhotoLimits, header};

/// A decoded photo, still in its stored orientation, flattened to 8-bit RGB.
#[derive(Debug)]
pub(crate) struct SourcePhoto {
    pub kind: ImageKind,
    pub pixels: RgbImage,
    /// How to turn `pixels` upright. Applied to the (smaller) renditions, not here: rotating
    /// the full-size image would cost one more full-size buffer.
    pub orientation: Orientation,
    pub gps: Option<GpsPosition>,
}

impl SourcePhoto {
    /// Width and height once upright.
    pub fn upright_size(&self) -> (u32, u32) {
        let (width, height) = self.pixels.dimensions();
        if swaps_axes(self.orientation) {
            (height, width)
        } else {
            (width, height)
        }
    }
}

pub(crate) fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Size, type, declared dimensions, then EXIF, then the decode itself (with the decoder's
/// own limits as a second guard). Nothing proportional to the image size is allocated
/// before the declared dimensions have passed `limits`.
pub(crate) fn load(bytes: &[u8], limits: &PhotoLimits) -> Result<SourcePhoto, PhotoError> {
    limits.check_bytes(bytes.len())?;
    let kind = crate::detect::detect(bytes)?;
    let declared = header::read_dimensions(kind, bytes)?;
    limits.check_dimensions(declared.width, declared.height)?;

    let metadata = metadata::read(bytes);

    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.image_format());
    reader.limits(limits.decoder_limits(declared.width, declared.height));
    let image = reader.decode().map_err(|error| match error {
        ImageError::Limits(_) => PhotoError::TooManyPixels {
            width: declared.width,
            height: declared.height,
        },
        other => PhotoError::Corrupt(format!("{kind}: {other}")),
    })?;

    Ok(SourcePhoto {
        kind,
        pixels: crate::render::flatten_to_rgb(image),
        orientation: metadata.orientation,
        gps: metadata.gps,
    })
}
