//! Photo processing for complaint reports: the photo is often the whole report, and the
//! biggest privacy risk in it (phones write the resident's GPS position and device into EXIF).
//!
//! [`process`] turns an uploaded photo into clean JPEG renditions:
//!
//! 1. `limits`: refuse uploads over [`PhotoLimits::max_bytes`] before looking at them.
//! 2. `detect`: identify JPEG, PNG or WebP by magic bytes (never by name or declared type);
//!    HEIC gets its own error ([`PhotoError::Heic`]) so the app can convert and retry.
//! 3. `header`: read the declared dimensions without decoding, and refuse images over the
//!    pixel limits before anything is allocated for them (decompression bombs).
//! 4. `metadata`: read the EXIF orientation and GPS position from the original.
//! 5. `decode`: decode with the decoder's own limits as a second guard.
//! 6. `render`: downscale, make upright, and re-encode from bare pixels, which strips every
//!    metadata block; each rendition is named by the SHA-256 of its bytes.
//!
//! Everything is synchronous and CPU-bound: call it from `spawn_blocking`. The original
//! bytes are never part of the output.

mod decode;
mod detect;
mod error;
mod header;
mod limits;
mod metadata;
mod render;

pub use detect::{ImageKind, detect};
pub use error::PhotoError;
pub use limits::PhotoLimits;
pub use metadata::GpsPosition;

/// MIME type of every rendition.
pub const RENDITION_CONTENT_TYPE: &str = "image/jpeg";

/// Default longest side for [`shrink_for_upload`], the same as [`RenditionKind::Large`].
pub const DEFAULT_UPLOAD_MAX_SIDE: u32 = RenditionKind::LARGE_MAX_SIDE;

/// Which rendition of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RenditionKind {
    /// For viewing the report: longest side at most 2048 px.
    Large,
    /// For lists and maps: longest side at most 400 px.
    Thumbnail,
}

impl RenditionKind {
    const LARGE_MAX_SIDE: u32 = 2048;
    const THUMBNAIL_MAX_SIDE: u32 = 400;

    /// Longest side of this rendition; smaller photos are kept at their size, not enlarged.
    #[must_use]
    pub fn max_side(self) -> u32 {
        match self {
            Self::Large => Self::LARGE_MAX_SIDE,
            Self::Thumbnail => Self::THUMBNAIL_MAX_SIDE,
        }
    }
}

/// One re-encoded, metadata-free, upright JPEG.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Which rendition this is.
    pub kind: RenditionKind,
    /// The JPEG file.
    pub bytes: Vec<u8>,
    /// Width in pixels (upright).
    pub width: u32,
    /// Height in pixels (upright).
    pub height: u32,
    /// Lowercase hex SHA-256 of `bytes`: the name to store it under.
    pub sha256_hex: String,
    /// Always [`RENDITION_CONTENT_TYPE`].
    pub content_type: &'static str,
}

// By hand, so logs show the size rather than megabytes of bytes.
impl std::fmt::Debug for Rendition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendition")
            .field("kind", &self.kind)
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("width", &self.width)
            .field("height", &self.height)
            .field("sha256_hex", &self.sha256_hex)
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// The result of [`process`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedPhoto {
    /// The format the upload really was.
    pub detected: ImageKind,
    /// Width of the original, upright.
    pub width: u32,
    /// Height of the original, upright.
    pub height: u32,
    /// Where the phone says the photo was taken, for comparing with the report's pin.
    /// Do not store it: it is the resident's position, not the problem's.
    pub gps: Option<GpsPosition>,
    /// [`RenditionKind::Large`] then [`RenditionKind::Thumbnail`].
    pub renditions: Vec<Rendition>,
}

impl ProcessedPhoto {
    /// The rendition of the given kind.
    #[must_use]
    pub fn rendition(&self, kind: RenditionKind) -> Option<&Rendition> {
        self.renditions
            .iter()
            .find(|rendition| rendition.kind == kind)
    }
}

/// Validates an uploaded photo and produces its renditions.
///
/// # Errors
/// See [`PhotoError`]; [`PhotoError::http_status`] gives the API's answer.
pub fn process(bytes: &[u8], limits: &PhotoLimits) -> Result<ProcessedPhoto, PhotoError> {
    let source = decode::load(bytes, limits)?;
    let (width, height) = source.upright_size();
    let orientation = source.orientation;

    let large = render::shrink_to_fit(source.pixels, RenditionKind::Large.max_side());
    let thumbnail = render::downscaled(&large, RenditionKind::Thumbnail.max_side());

    let large = rendition(RenditionKind::Large, render::upright(large, orientation))?;
    let thumbnail = match thumbnail {
        Some(pixels) => rendition(
            RenditionKind::Thumbnail,
            render::upright(pixels, orientation),
        )?,
        // Already small enough: the same pixels would encode to the same bytes.
        None => Rendition {
            kind: RenditionKind::Thumbnail,
            ..large.clone()
        },
    };

    Ok(ProcessedPhoto {
        detected: source.kind,
        width,
        height,
        gps: source.gps,
        renditions: vec![large, thumbnail],
    })
}

/// Shrinks a photo on the phone before upload: upright, longest side at most `max_side`
/// (use [`DEFAULT_UPLOAD_MAX_SIDE`]), JPEG, no metadata. The same code path as [`process`],
/// with [`PhotoLimits::on_device`].
///
/// # Errors
/// As [`process`]. HEIC is refused here too: convert it with the platform's own codec.
pub fn shrink_for_upload(bytes: &[u8], max_side: u32) -> Result<Vec<u8>, PhotoError> {
    let source = decode::load(bytes, &PhotoLimits::on_device())?;
    let pixels = render::shrink_to_fit(source.pixels, max_side.max(1));
    render::encode_jpeg(&render::upright(pixels, source.orientation))
}

fn rendition(kind: RenditionKind, pixels: image::RgbImage) -> Result<Rendition, PhotoError> {
    let bytes = render::encode_jpeg(&pixels)?;
    Ok(Rendition {
        kind,
        width: pixels.width(),
        height: pixels.height(),
        sha256_hex: render::sha256_hex(&bytes),
        bytes,
        content_type: RENDITION_CONTENT_TYPE,
    })
}
