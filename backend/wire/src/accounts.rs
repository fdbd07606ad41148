//! Staff and operator accounts: login, users, passwords, API tokens.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// A staff or operator user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// `staff_admin`, `staff_agent`, `staff_analyst`, `operator_manager` or `operator_agent`.
    pub role: String,
    /// Set for staff roles.
    pub jurisdiction_id: Option<String>,
    /// Set for operator roles.
    pub operator_id: Option<Uuid>,
    pub active: bool,
}

/// Answer to a login: the session cookie is set; send `csrf_token` as `X-CSRF-Token` on
/// every state-changing request made with the cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResult {
    pub user: UserView,
    pub csrf_token: String,
}

/// Body of `POST /api/v1/admin/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: String,
    /// For operator roles: the operator (of the admin's jurisdiction).
    #[serde(default)]
    pub operator_id: Option<Uuid>,
}

/// Body of `PATCH /api/v1/admin/users/{id}`: only the fields to change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdateRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub password: Option<String>,
}

/// Body of `PUT /api/v1/me/password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Body of `POST /api/v1/me/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What the token is for ("SAP integration").
    pub name: String,
    /// Lifetime in days, 1–365 (default 90).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// An API token as listed (the secret itself only in [`CreatedToken`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    pub revoked: bool,
}

/// A new API token: `token` is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenView,
    pub token: String,
}
