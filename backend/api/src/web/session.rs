//! The logged-in operator of a page: from the session cookie, or a redirect to the login.

use crate::auth::principal::session_cookie;
use crate::auth::secrets;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use balagh_domain::OperatorId;
use balagh_domain::account::{Scope, User};
use balagh_store::Ts;

#[derive(Debug, Clone)]
pub struct OperatorSession {
    pub user: User,
    pub operator: OperatorId,
    /// Forms send it back; a change without it is refused.
    pub csrf_token: String,
}

impl FromRequestParts<AppState> for OperatorSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/operator/login").into_response();
        let cookie = session_cookie(parts).ok_or_else(to_login)?;
        let found = state
            .store()
            .session_user(&secrets::hash(cookie), Ts::now())
            .await
            .map_err(|e| crate::problem::ApiError::from(e).into_response())?;
        let (user, csrf_token) = found.ok_or_else(to_login)?;
        match user.grant.scope() {
            Scope::Operator(operator) => Ok(Self {
                operator: *operator,
                user,
                csrf_token,
            }),
            // Staff have their own pages; this queue is for operators.
            Scope::Jurisdiction(_) => Err(crate::problem::ApiError::Forbidden.into_response()),
        }
    }
}

/// Ends a page session (staff or operator) from its logout form: the form's CSRF token must
/// be the session's; the session is deleted, its cookie cleared, the browser sent to `login`.
pub async fn end_session(
    state: &AppState,
    parts: &Parts,
    form_token: &str,
    session_token: &str,
    login: &str,
) -> Response {
    use axum::http::{HeaderValue, header};
    if !crate::auth::principal::constant_time_eq(form_token.as_bytes(), session_token.as_bytes()) {
        return crate::problem::ApiError::CsrfMismatch.into_response();
    }
    if let Some(cookie) = session_cookie(parts) {
        let _ = state.store().delete_session(&secrets::hash(cookie)).await;
    }
    let mut response = Redirect::to(login).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("balagh_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}
