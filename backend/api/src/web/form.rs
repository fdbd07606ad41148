//! Form bodies of the server-rendered pages. A form that cannot be read answers as the
//! client asked: an HTML error page to a browser (`Accept: text/html`), a problem+json
//! document to anything else — never axum's plain-text rejection.

use super::html::{esc, page};
use crate::problem::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// `axum::Form`, with errors in the format the client accepts.
#[derive(Debug)]
pub struct WebForm<T>(pub T);

impl<S, T> FromRequest<S> for WebForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let wants_html = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Self(value)),
            Err(rejection) => {
                let error = match rejection.status() {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::MalformedBody(rejection.body_text()),
                };
                Err(if wants_html {
                    error_page(&error)
                } else {
                    error.into_response()
                })
            }
        }
    }
}

/// The HTML page of a refused form: the problem's status and title, and what to do.
fn error_page(error: &ApiError) -> Response {
    let problem = error.problem();
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = format!(
        r#"<h1>Formulaire refusé</h1><p id="problem" data-type="{}">{}</p><p>Revenez à la page précédente, vérifiez le formulaire et envoyez-le de nouveau.</p>"#,
        esc(&problem.kind),
        esc(&problem.title),
    );
    page(status, "Formulaire refusé", None, &body)
}
