//! The SDK's one error type: small on purpose, so apps can handle every case.

use balagh_wire::Problem;

/// What went wrong, in the few ways an app needs to tell apart.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SdkError {
    /// The server could not be reached, or answered that it is busy or failing (5xx, 429,
    /// 408). Nothing was lost: queued reports stay queued and are retried later.
    #[error("network: {0}")]
    Network(String),
    /// The server refused the request; its RFC 9457 problem details say why (a wrong field,
    /// an action the report's status does not allow, a report that is not yours…).
    #[error("rejected by the server ({}): {}", .0.status, .0.detail.as_deref().unwrap_or(&.0.title))]
    Rejected(Problem),
    /// The server does not know this device's token (its database was reset, or the device
    /// was removed).
    #[error("unauthorized: the server does not accept this device's token")]
    Unauthorized,
    /// The SDK's local store (SQLite file, queued photos) could not be read or written.
    #[error("storage: {0}")]
    Storage(String),
    /// The app passed something the SDK cannot use (an unreadable photo, a malformed URL,
    /// an unknown local id).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl SdkError {
    /// True when trying again later may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Network(_))
    }
}

impl From<sqlx::Error> for SdkError {
    fn from(error: sqlx::Error) -> Self {
        Self::Storage(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for SdkError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self::Storage(error.to_string())
    }
}

impl From<std::io::Error> for SdkError {
    fn from(error: std::io::Error) -> Self {
        Self::Storage(error.to_string())
    }
}

impl From<serde_json::Error> for SdkError {
    fn from(error: serde_json::Error) -> Self {
        Self::Storage(format!("stored JSON: {error}"))
    }
}

pub type Result<T, E = SdkError> = std::result::Result<T, E>;
