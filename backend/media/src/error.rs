//! Why a photo was refused, and what the API should answer.

/// A photo the pipeline refuses, with a message safe to show the resident's app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// The upload is bigger than [`PhotoLimits::max_bytes`](crate::PhotoLimits::max_bytes).
    #[error("photo is {size} bytes, the limit is {max} bytes")]
    TooLarge {
        /// Size of the upload, in bytes.
        size: usize,
        /// The limit it exceeded, in bytes.
        max: usize,
    },

    /// HEIC/HEIF (the iPhone default): decoding it needs a patent-encumbered HEVC decoder,
    /// so the app must convert before sending.
    #[error(
        "HEIC/HEIF photos are not accepted: send the photo as JPEG \
         (convert it on the phone before uploading)"
    )]
    Heic,

    /// Not a JPEG, PNG or WebP (judged by the bytes, never by the name or declared type).
    #[error("{}", unsupported_message(*.detected))]
    Unsupported {
        /// MIME type recognised from the magic bytes, if any (e.g. `image/gif`).
        detected: Option<&'static str>,
    },

    /// The header declares more pixels (or a longer side) than the limits allow: refused
    /// before decoding, so a decompression bomb never gets its buffer.
    #[error("photo is {width}×{height} pixels, which is over the size limit")]
    TooManyPixels {
        /// Width declared by the file header.
        width: u32,
        /// Height declared by the file header.
        height: u32,
    },

    /// Truncated or malformed image data.
    #[error("photo data is corrupt: {0}")]
    Corrupt(String),

    /// Re-encoding failed. Not the sender's fault: only reachable with caller-chosen sizes
    /// the JPEG format cannot hold (a side over 65 535 px).
    #[error("could not encode the photo: {0}")]
    Encode(String),
}

impl PhotoError {
    /// The HTTP status the API should answer with.
    ///
    /// 413 for [`TooLarge`](Self::TooLarge); 415 for [`Heic`](Self::Heic) and
    /// [`Unsupported`](Self::Unsupported); 422 for [`TooManyPixels`](Self::TooManyPixels) and
    /// [`Corrupt`](Self::Corrupt); 500 for [`Encode`](Self::Encode).
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Heic | Self::Unsupported { .. } => 415,
            Self::TooManyPixels { .. } | Self::Corrupt(_) => 422,
            Self::Encode(_) => 500,
        }
    }

    /// A stable machine-readable code, so apps can branch without parsing the message
    /// (e.g. offer "convert to JPEG" on `photo_heic`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "photo_too_large",
            Self::Heic => "photo_heic",
            Self::Unsupported { .. } => "photo_unsupported_type",
            Self::TooManyPixels { .. } => "photo_too_many_pixels",
            Self::Corrupt(_) => "photo_corrupt",
            Self::Encode(_) => "photo_encode_failed",
        }
    }
}

fn unsupported_message(detected: Option<&'static str>) -> String {
    match detected {
        Some(mime) => format!("{mime} is not accepted: send a JPEG, PNG or WebP photo"),
        None => "not a recognised image: send a JPEG, PNG or WebP photo".to_owned(),
    }
}
