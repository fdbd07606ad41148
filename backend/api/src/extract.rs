//! Extractors that turn requests into checked values, or into problem responses.

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use balagh_domain::FieldError;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A JSON body: 415 unless `application/json`, 413 past the body limit, 400 if it is not
/// JSON, 422 naming the field when it is JSON of the wrong shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// The field a serde error is about: its path, or the name it quotes ("missing field `lat`").
fn serde_field(path: &str, message: &str) -> String {
    if !path.is_empty() && path != "." {
        return path.to_owned();
    }
    message
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| "body".to_owned())
}

/// Deserializes JSON, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = match parsed {
        Ok(value) => value,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    let message = inner.to_string();
                    // Drop serde's " at line 1 column 9" suffix: the field says where.
                    let message = message
                        .rsplit_once(" at line ")
                        .map_or(message.as_str(), |(m, _)| m)
                        .to_owned();
                    ApiError::Validation(vec![FieldError::new(
                        serde_field(&path, &message),
                        message,
                    )])
                }
                _ => ApiError::MalformedBody(format!("not valid JSON: {inner}")),
            });
        }
    };
    de.end()
        .map_err(|e| ApiError::MalformedBody(format!("not valid JSON: {e}")))?;
    Ok(value)
}

/// The whole body, within the body limit (413 past it).
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::MalformedBody(rejection.body_text())
        }
    })
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&read_body(req, state).await?).map(ApiJson)
    }
}

/// Query parameters: 400 naming the parameter when one is missing or malformed.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                ApiError::InvalidParameter(FieldError::new(serde_field(&path, &message), message))
            })
    }
}

/// A resident's registered device, proven by its bearer token. Staff and operator users
/// are refused (403): residents' endpoints are for residents.
#[derive(Debug, Clone, Copy)]
pub struct DeviceAuth(pub Uuid);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Device(id) => Ok(DeviceAuth(id)),
            Caller::User(_) => Err(ApiError::Forbidden),
            Caller::Anonymous => Err(ApiError::Unauthorized),
        }
    }
}

/// The raw `Accept-Language` header, negotiated against a jurisdiction's languages.
#[derive(Debug, Clone, Default)]
pub struct AcceptLanguage(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for AcceptLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(AcceptLanguage(
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        lat: f64,
        nested: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    fn field(bytes: &str) -> String {
        match parse_json::<Body>(bytes.as_bytes()).unwrap_err() {
            ApiError::Validation(e) => e[0].field.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn names_the_field() {
        assert_eq!(field("{}"), "lat");
        assert_eq!(field(r#"{"lat": "x"}"#), "lat");
        assert_eq!(field(r#"{"lat": 1, "lon": 2}"#), "lon");
        assert_eq!(field(r#"{"lat": 1, "nested": {"n": 300}}"#), "nested.n");
        assert!(matches!(
            parse_json::<Body>(b"{\"lat\": 1"),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b"{\"lat\": 1} trailing"),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b"{\"lat\": 1e999}"),
            Err(ApiError::MalformedBody(_) | ApiError::Validation(_))
        ));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(is_json(Some("application/merge-patch+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
}

/// An optional JSON body: nothing (or an empty body) is `None`; anything else must be JSON
/// of the right shape, as with [`ApiJson`].
#[derive(Debug)]
pub struct MaybeJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for MaybeJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeJson(None));
        }
        if !is_json(content_type.as_deref()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&bytes).map(|v| MaybeJson(Some(v)))
    }
}
