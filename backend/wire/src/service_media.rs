//! Per-service videos and easy-to-read text (issue 20).

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One video of a service, as residents see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceVideoView {
    /// BCP 47 tag of the video's language: `fr`, `ar`, `ary` (Darija), `en`, `zgh`
    /// (Amazigh), `xms` (Moroccan Sign Language), …
    pub language: String,
    /// The language's name in the language of the answer (the tag itself when unknown).
    pub language_name: String,
    /// `https` URL of the video file (played by the browser's `<video>`).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One video in `PUT /api/v1/staff/services/{code}/media`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceVideoRequest {
    /// BCP 47 tag; `sgn-MA` is stored as `xms` (Moroccan Sign Language).
    pub language: String,
    /// `https` only, at most 2000 characters.
    pub url: String,
    /// At most 200 characters.
    #[serde(default)]
    pub title: Option<String>,
}

/// Body of `PUT /api/v1/staff/services/{code}/media`: replaces what the service carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceMediaRequest {
    /// At most 12 videos.
    #[serde(default)]
    pub videos: Vec<ServiceVideoRequest>,
    /// Easy-to-read explanation by page language (`fr`, `ar`, `en`), at most 2000
    /// characters each.
    #[serde(default)]
    pub easy_read: BTreeMap<String, String>,
}

/// What a service carries, as stored (answer of the `PUT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceMediaView {
    pub service_code: String,
    pub videos: Vec<ServiceVideoView>,
    pub easy_read: BTreeMap<String, String>,
}
