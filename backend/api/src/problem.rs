//! One error type for the whole API, answered as RFC 9457 `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_app::AppError;
use balagh_domain::FieldError;
use balagh_objects::ObjectsError;
use balagh_store::StoreError;
use balagh_wire::{FieldProblem, Problem};

/// Everything a handler can fail with. Each variant has a stable problem `type`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more fields are wrong (422).
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    /// The body is not JSON, or not shaped as expected (400).
    #[error("malformed request body: {0}")]
    MalformedBody(String),
    /// A header or query parameter is missing or malformed (400).
    #[error("invalid request parameter")]
    InvalidParameter(FieldError),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A login whose e-mail or password is wrong (401).
    #[error("wrong e-mail or password")]
    BadCredentials,
    /// A device registration without the proof of work this server asks for (403).
    #[error("proof of work required")]
    ProofOfWorkRequired { bits: u8 },
    /// Something only a logged-in session may do, asked with an API token (403).
    #[error("a session is required")]
    SessionRequired,
    /// Known caller, not allowed (403).
    #[error("forbidden")]
    Forbidden,
    /// A cookie-authenticated change without the session's CSRF token (403).
    #[error("CSRF token missing or wrong")]
    CsrfMismatch,
    /// Too many attempts; retry after this many seconds (429).
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    /// The action is not allowed in the current status (409), with what is allowed.
    #[error("illegal transition: {message}")]
    IllegalTransition {
        message: String,
        allowed: Vec<String>,
    },
    /// A change without `If-Match` (428).
    #[error("If-Match required")]
    PreconditionRequired,
    /// `If-Match` names an older version (412); the current one is given.
    #[error("version mismatch")]
    PreconditionFailed { current_etag: String },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The point is outside every jurisdiction this deployment serves (422).
    #[error("outside the area served")]
    OutsideJurisdiction,
    /// The idempotency key was used before with a different request (422).
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// The request conflicts with the current state (409).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database is unreachable or overloaded (503, retry later).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A photo the pipeline refuses (413 too big, 415 HEIC or not an image, 422 bomb or
    /// corrupt), with a message for the app.
    #[error("photo refused: {0}")]
    Photo(balagh_media::PhotoError),
    /// A signed URL that was tampered with or has expired (403).
    #[error("signed URL refused: {0}")]
    SignedUrl(balagh_objects::UrlRefusal),
    /// A bug: logged with details, answered without them.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Storage failures answer as the use cases' do (one rule, in the app crate).
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        AppError::from(error).into()
    }
}

/// The use cases' errors answer as they did when the use cases lived here.
impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Validation(errors) => ApiError::Validation(errors),
            AppError::IllegalTransition { message, allowed } => {
                ApiError::IllegalTransition { message, allowed }
            }
            AppError::VersionMismatch { current } => ApiError::PreconditionFailed {
                current_etag: crate::params::etag(current),
            },
            AppError::NotFound => ApiError::NotFound,
            AppError::OutsideJurisdiction => ApiError::OutsideJurisdiction,
            AppError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            AppError::Conflict(detail) => ApiError::Conflict(detail),
            AppError::Photo(error) => ApiError::Photo(error),
            AppError::Unavailable(detail) => ApiError::Unavailable(detail),
            AppError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<ObjectsError> for ApiError {
    fn from(error: ObjectsError) -> Self {
        AppError::from(error).into()
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }
}

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECONDS: &str = "2";

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "The request has invalid fields",
            ),
            MalformedBody(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "The request body could not be read",
            ),
            InvalidParameter(_) => (
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "A header or query parameter is missing or invalid",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send the body as application/json",
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The request body is too large",
            ),
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "A valid bearer token is required",
            ),
            BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "bad-credentials",
                "Wrong e-mail or password",
            ),
            ProofOfWorkRequired { .. } => (
                StatusCode::FORBIDDEN,
                "proof-of-work-required",
                "Registering a device needs a proof of work (see the README for app builders)",
            ),
            SessionRequired => (
                StatusCode::FORBIDDEN,
                "session-required",
                "Log in (a web session) to do this: an API token cannot create API tokens",
            ),
            NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Your role does not allow this",
            ),
            CsrfMismatch => (
                StatusCode::FORBIDDEN,
                "csrf",
                "Missing or wrong CSRF token (send the session's token in X-CSRF-Token)",
            ),
            TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many attempts, retry later",
            ),
            IllegalTransition { .. } => (
                StatusCode::CONFLICT,
                "illegal-transition",
                "This action is not allowed in the report's current status",
            ),
            PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "if-match-required",
                "Send If-Match with the ETag you last read, so no change is lost",
            ),
            PreconditionFailed { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "version-mismatch",
                "Someone changed this since you read it: read it again",
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            OutsideJurisdiction => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "outside-jurisdiction",
                "This location is outside the area served",
            ),
            IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "This Idempotency-Key was already used for a different request",
            ),
            Conflict(_) => (
                StatusCode::CONFLICT,
                "conflict",
                "The request conflicts with the current state",
            ),
            Photo(error) => {
                use balagh_media::PhotoError as E;
                let (slug, title) = match error {
                    E::TooLarge { .. } => ("photo-too-large", "The photo is too large"),
                    E::Heic => (
                        "photo-heic",
                        "HEIC/HEIF is not accepted: send the photo as JPEG",
                    ),
                    E::Unsupported { .. } => {
                        ("photo-unsupported-type", "Not a JPEG, PNG or WebP photo")
                    }
                    E::TooManyPixels { .. } => {
                        ("photo-too-many-pixels", "The photo has too many pixels")
                    }
                    E::Corrupt(_) => ("photo-corrupt", "The photo data is truncated or corrupt"),
                    E::Encode(_) => ("internal", "Internal error"),
                };
                let status = StatusCode::from_u16(error.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, slug, title)
            }
            SignedUrl(_) => (
                StatusCode::FORBIDDEN,
                "signed-url-refused",
                "This URL is not valid (altered or expired): ask for a new one",
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "Temporarily unavailable, retry later",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.parts();
        let (detail, errors) = match self {
            ApiError::Validation(errors) => (
                Some(
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                errors.iter().map(field_problem).collect(),
            ),
            ApiError::InvalidParameter(e) => (Some(e.to_string()), vec![field_problem(e)]),
            ApiError::MalformedBody(detail) => (Some(detail.clone()), vec![]),
            ApiError::OutsideJurisdiction => (
                Some("lat/lon: the point is not inside any commune served here".into()),
                vec![FieldProblem {
                    field: "lat".into(),
                    message: "the point is outside the area served".into(),
                }],
            ),
            ApiError::Conflict(detail) => (Some((*detail).to_owned()), vec![]),
            ApiError::ProofOfWorkRequired { bits } => (
                Some(format!(
                    "send {}: <unix minute>:<nonce> such that SHA-256(\"balagh-device:<unix minute>:<nonce>\") starts with {bits} zero bits",
                    crate::abuse::PROOF_HEADER
                )),
                vec![],
            ),
            ApiError::Photo(balagh_media::PhotoError::Encode(_)) => (None, vec![]),
            ApiError::Photo(error) => (Some(error.to_string()), vec![]),
            ApiError::SignedUrl(refusal) => (Some(refusal.to_string()), vec![]),
            ApiError::IllegalTransition { message, allowed } => (
                Some(format!(
                    "{message}; allowed now: {}",
                    if allowed.is_empty() {
                        "nothing (final status)".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                )),
                vec![],
            ),
            _ => (None, vec![]),
        };
        Problem {
            kind: problem_type(slug),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

fn field_problem(e: &FieldError) -> FieldProblem {
    FieldProblem {
        field: e.field.clone(),
        message: e.message.clone(),
    }
}

/// Problem types are URNs: stable, and not tied to a host name.
pub fn problem_type(slug: &str) -> String {
    format!("urn:balagh:problem:{slug}")
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Serializes a problem with its content type.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).expect("problem serializes");
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
        body,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::Photo(error @ balagh_media::PhotoError::Encode(_)) => {
                tracing::error!(%error, "photo encoding failed");
            }
            ApiError::Unavailable(detail) => tracing::warn!(%detail, "database unavailable"),
            _ => {}
        }
        let mut response = problem_response(&self.problem());
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unavailable(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
            }
            ApiError::TooManyRequests {
                retry_after_seconds,
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            }
            ApiError::PreconditionFailed { current_etag } => {
                if let Ok(v) = HeaderValue::from_str(&current_etag) {
                    headers.insert(header::ETAG, v);
                }
            }
            _ => {}
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
