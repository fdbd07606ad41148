//! The service catalogue: services, their extra questions, and service groups.

use crate::ServiceVideoView;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A list value of a service attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttributeValueView {
    pub key: String,
    pub name: String,
}

/// An extra question a service asks when reporting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttributeView {
    pub code: String,
    /// `string`, `number`, `datetime`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: String,
    pub required: bool,
    pub description: String,
    #[serde(default)]
    pub values: Vec<AttributeValueView>,
    pub order: u32,
}

/// A service residents can report about, named in the negotiated language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceView {
    pub code: String,
    /// The service group's code (`waste`, `lighting`, `transport`, or one the commune
    /// added, such as `parks`).
    pub group: String,
    /// The group's name in the negotiated language.
    #[serde(default)]
    pub group_name: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeView>,
    /// Short videos explaining the service, per language (sign language included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<ServiceVideoView>,
    /// An easy-to-read explanation in the language of the answer, when staff wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read: Option<String>,
}

/// Answer to `GET /api/v1/services`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceList {
    pub jurisdiction_id: String,
    /// The language the names are in (`fr`, `ar` or `en`).
    pub language: String,
    pub services: Vec<ServiceView>,
    /// The jurisdiction's service groups in display order (those without services too).
    #[serde(default)]
    pub groups: Vec<ServiceGroupView>,
}

/// A service group, named in the negotiated language (or every language, for staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceGroupView {
    /// Slug: 1-32 characters of a-z, 0-9 or '_', starting with a letter.
    pub code: String,
    pub name: String,
    /// An icon key the apps know (`waste`, `lighting`, `transport`); a generic icon
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Display order, lowest first.
    pub order: u32,
}
