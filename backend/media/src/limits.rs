//! How big a photo may be: in bytes on the wire, and in pixels once decoded.

use crate::PhotoError;

/// Limits applied before (and, as a second guard, during) decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Largest accepted upload, in bytes. Checked before anything else.
    pub max_bytes: usize,
    /// Largest accepted `width × height`, read from the header before decoding: the decoded
    /// RGB buffer is 3 bytes per pixel, so this bounds the memory one photo can take.
    pub max_pixels: u64,
    /// Longest accepted side, in pixels (either one).
    pub max_dimension: u32,
}

impl PhotoLimits {
    /// 15 MiB: a 50 MP phone JPEG at high quality stays under it.
    pub const DEFAULT_MAX_BYTES: usize = 15 * 1024 * 1024;
    /// 50 MP covers every current phone camera's full-resolution mode.
    pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;
    /// Leaves room for phone panoramas (about 16 000 px wide) within the pixel budget.
    pub const DEFAULT_MAX_DIMENSION: u32 = 20_000;

    /// Limits for [`shrink_for_upload`](crate::shrink_for_upload) on the phone: the original
    /// may be bigger than the server accepts (that is why it is shrunk), but the pixel limits
    /// stay, so a hostile file cannot exhaust the phone's memory either.
    #[must_use]
    pub fn on_device() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            ..Self::default()
        }
    }

    pub(crate) fn check_bytes(&self, size: usize) -> Result<(), PhotoError> {
        if size > self.max_bytes {
            return Err(PhotoError::TooLarge {
                size,
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    pub(crate) fn check_dimensions(&self, width: u32, height: u32) -> Result<(), PhotoError> {
        let pixels = u64::from(width) * u64::from(height);
        if width > self.max_dimension || height > self.max_dimension || pixels > self.max_pixels {
            return Err(PhotoError::TooManyPixels { width, height });
        }
        Ok(())
    }

    /// The same limits in the decoder's terms, should a decoder see other dimensions than
    /// our header reader did.
    ///
    /// The allocation budget is sized from the declared dimensions rather than the maximum,
    /// so that a small image cannot smuggle in a large compressed side chunk either (the PNG
    /// decoder inflates an `iCCP` profile up to this budget).
    pub(crate) fn decoder_limits(
        &self,
        declared_width: u32,
        declared_height: u32,
    ) -> image::Limits {
        // The widest layout the accepted formats decode to: 16-bit RGBA PNG.
        const WIDEST_PIXEL_BYTES: u64 = 8;
        // The decoders' own buffers, an ICC profile, XMP text.
        const DECODER_HEADROOM_BYTES: u64 = 32 * 1024 * 1024;

        let pixels = u64::from(declared_width) * u64::from(declared_height);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_dimension);
        limits.max_image_height = Some(self.max_dimension);
        limits.max_alloc = Some(
            pixels
                .min(self.max_pixels)
                .saturating_mul(WIDEST_PIXEL_BYTES)
                .saturating_add(DECODER_HEADROOM_BYTES),
        );
        limits
    }
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_pixels: Self::DEFAULT_MAX_PIXELS,
            max_dimension: Self::DEFAULT_MAX_DIMENSION,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_at_the_limit_pass_and_one_more_fails() {
        let limits = PhotoLimits::default();
        assert_eq!(limits.check_bytes(limits.max_bytes), Ok(()));
        assert_eq!(
            limits.check_bytes(limits.max_bytes + 1),
            Err(PhotoError::TooLarge {
                size: limits.max_bytes + 1,
                max: limits.max_bytes
            })
        );
    }

    #[test]
    fn pixels_and_each_side_are_limited() {
        let limits = PhotoLimits::default();
        assert_eq!(limits.check_dimensions(8160, 6120), Ok(()));
        assert_eq!(limits.check_dimensions(16_000, 3_000), Ok(()));
        for (width, height) in [
            (8_000, 8_000),
            (20_001, 10),
            (10, 20_001),
            (u32::MAX, u32::MAX),
        ] {
            assert_eq!(
                limits.check_dimensions(width, height),
                Err(PhotoError::TooManyPixels { width, height })
            );
        }
    }

    #[test]
    fn decoder_budget_follows_the_declared_size() {
        let limits = PhotoLimits::default();
        let small = limits.decoder_limits(100, 100);
        assert_eq!(small.max_image_width, Some(limits.max_dimension));
        assert_eq!(small.max_image_height, Some(limits.max_dimension));
        assert_eq!(small.max_alloc, Some(100 * 100 * 8 + 32 * 1024 * 1024));
        // Never more than the pixel limit allows, whatever is declared.
        let huge = limits.decoder_limits(u32::MAX, u32::MAX);
        assert_eq!(huge.max_alloc, Some(50_000_000 * 8 + 32 * 1024 * 1024));
    }
}
