//! Report photos: renditions, upload slots, attaching and moderation.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One rendition of a photo: an upright, metadata-free JPEG behind a short-lived URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RenditionView {
    /// Signed URL, valid until the photo's `urls_expire_at`.
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// A photo of a report (or a draft photo, before its report exists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhotoView {
    pub id: Uuid,
    /// Null for a draft not attached yet.
    pub report_id: Option<Uuid>,
    /// `report` (the problem) or `evidence` (the operator's resolution).
    pub purpose: String,
    /// `resident`, `operator` or `staff`.
    pub uploaded_by: String,
    /// Size of the original, upright.
    pub width: u32,
    pub height: u32,
    /// Longest side at most 2048 px.
    pub large: RenditionView,
    /// Longest side at most 400 px.
    pub thumbnail: RenditionView,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub urls_expire_at: OffsetDateTime,
    /// Approved by staff for the public.
    pub approved: bool,
    /// Staff only: metres between where the phone says the photo was taken and the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps_distance_m: Option<f64>,
    /// Staff only: taken more than 1 km from the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps_far: Option<bool>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// A report's photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhotoList {
    pub photos: Vec<PhotoView>,
}

/// Where to upload one photo: `PUT` the bytes to `upload_url` before `expires_at`, then
/// `POST` to `confirm_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UploadSlotView {
    /// Also the id of the photo it becomes.
    pub photo_id: Uuid,
    /// Always `PUT`.
    pub method: String,
    /// A presigned S3 URL, or a signed URL of this server (local storage).
    pub upload_url: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    pub confirm_url: String,
    /// Largest accepted photo, in bytes.
    pub max_bytes: u64,
}

/// Body of `POST /api/v1/reports/{id}/photos/attach`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttachPhotosRequest {
    /// Confirmed draft photos of this device.
    pub photo_ids: Vec<Uuid>,
}

/// Body of `POST /api/v1/staff/photos/{id}/moderation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhotoModerationRequest {
    /// True: the public may see it; false: hidden from the public again.
    pub approved: bool,
}
