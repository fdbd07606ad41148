//! How a use case fails. The HTTP crate maps each variant to its problem details; the
//! workers log them.

use balagh_domain::FieldError;
use balagh_objects::ObjectsError;
use balagh_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// One or more fields are wrong.
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    /// The action is not allowed in the current status, with what is allowed.
    #[error("illegal transition: {message}")]
    IllegalTransition {
        message: String,
        allowed: Vec<String>,
    },
    /// The change was made against an older version; the current one is given.
    #[error("version mismatch (current version {current})")]
    VersionMismatch { current: i64 },
    #[error("not found")]
    NotFound,
    /// The point is outside every jurisdiction this deployment serves.
    #[error("outside the area served")]
    OutsideJurisdiction,
    /// The idempotency key was used before with a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// The request conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A photo the pipeline refuses.
    #[error("photo refused: {0}")]
    Photo(balagh_media::PhotoError),
    /// The database or the photo storage is unreachable or overloaded (retry later).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(detail) => AppError::Unavailable(detail),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Validation(vec![error])
    }
}

impl From<ObjectsError> for AppError {
    fn from(error: ObjectsError) -> Self {
        match error {
            ObjectsError::Store(e) => AppError::Unavailable(format!("photo storage: {e}")),
            ObjectsError::Config(e) => AppError::Internal(e),
        }
    }
}
