//! Logging in and out, the current user, and their API tokens.

use crate::auth::principal::{Caller, SignedIn};
use crate::auth::principal::{SESSION_COOKIE, session_cookie};
use crate::auth::{password, secrets};
use crate::extract::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use balagh_domain::FieldError;
use balagh_domain::account::{Email, NewPassword, Scope, User};
use balagh_store::{NewApiToken, NewSession, ThrottlePolicy, Ts};
use balagh_wire::{
    CreatedToken, LoginRequest, LoginResult, NewTokenRequest, PasswordChangeRequest, TokenView,
    UserView,
};
use std::net::SocketAddr;
use uuid::Uuid;

pub fn user_view(user: &User) -> UserView {
    let (jurisdiction_id, operator_id) = match user.grant.scope() {
        Scope::Jurisdiction(j) => (Some(j.to_string()), None),
        Scope::Operator(o) => (None, Some(o.0)),
    };
    UserView {
        id: user.id,
        email: user.email.as_str().to_owned(),
        display_name: user.display_name.clone(),
        role: user.grant.role().as_str().to_owned(),
        jurisdiction_id,
        operator_id,
        active: user.active,
    }
}

/// The client's address, for per-address login throttling.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The address a trusted proxy forwarded for (see `limits`), else the peer's.
        let address = match parts.extensions.get::<crate::limits::ClientIp>() {
            Some(client) => client.0.to_string(),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        };
        Ok(ClientAddress(address))
    }
}

/// Failed logins per address are allowed more often than per account (a shared network).
fn address_policy() -> ThrottlePolicy {
    ThrottlePolicy {
        max_failures: 20,
        ..ThrottlePolicy::default()
    }
}

fn retry_after(until: Ts) -> ApiError {
    let seconds = (until.get() - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .max(1);
    ApiError::TooManyRequests {
        retry_after_seconds: seconds as u64,
    }
}

/// Logs in with e-mail and password: sets the session cookie (HttpOnly, SameSite=Lax) and
/// returns the CSRF token to send with changes. Five attempts on an account without success
/// (or twenty failed ones from an address) within 15 minutes lock it until the 15 minutes
/// end (429 with `Retry-After`); attempts are counted before the password is checked.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResult),
        (status = 401, description = "Wrong e-mail or password", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let session = start_session(&state, &address, &body.email, &body.password).await?;
    let mut response = Json(LoginResult {
        user: user_view(&session.user),
        csrf_token: session.csrf_token.clone(),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session.cookie(&state)?);
    Ok(response)
}

/// A session just opened by a successful login.
#[derive(Debug)]
pub struct NewWebSession {
    pub user: User,
    pub token: String,
    pub csrf_token: String,
}

impl NewWebSession {
    /// The `Set-Cookie` value carrying it.
    pub fn cookie(&self, state: &AppState) -> ApiResult<HeaderValue> {
        let cookie = format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
            self.token,
            state.settings().session_lifetime.whole_seconds(),
            if state.settings().secure_cookies {
                "; Secure"
            } else {
                ""
            }
        );
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))
    }
}

/// Checks e-mail and password under the login throttles and opens a session. Shared by the
/// JSON API and the web login form.
pub async fn start_session(
    state: &AppState,
    address: &str,
    email_raw: &str,
    password_raw: &str,
) -> ApiResult<NewWebSession> {
    let store = state.store();
    let now = Ts::now();
    let email = Email::parse(email_raw).map_err(|_| ApiError::BadCredentials);
    let account_key = format!(
        "account:{}",
        email.as_ref().map_or(email_raw, |e| e.as_str())
    );
    let address_key = format!("address:{address}");
    // Counted before the password is looked at: attempts made at once each get their own
    // count, and no more than the policy allows ever reach the password check.
    let mut lock_on_failure = None;
    for (key, policy) in [
        (&account_key, ThrottlePolicy::default()),
        (&address_key, address_policy()),
    ] {
        let attempts = store.count_attempt(key, now, &policy).await?;
        if !attempts.allowed(&policy) {
            return Err(retry_after(attempts.window_ends));
        }
        if attempts.last_allowed(&policy) {
            lock_on_failure = Some(attempts.window_ends);
        }
    }
    let found = match &email {
        Ok(email) => store.user_for_login(email).await?,
        Err(_) => None,
    };
    let (user, hash) = match found {
        Some((user, hash)) if user.active => (Some(user), Some(hash)),
        _ => (None, None),
    };
    if !password::verify(password_raw, hash).await {
        metrics::counter!("balagh_login_failures_total").increment(1);
        // The failure that used the window's last check answers with the lock-out at once.
        return Err(lock_on_failure.map_or(ApiError::BadCredentials, retry_after));
    }
    let user = user.ok_or(ApiError::BadCredentials)?;
    store.clear_login_failures(&account_key).await?;
    store.refund_attempt(&address_key).await?;
    let token = secrets::generate(secrets::SESSION_PREFIX);
    let csrf_token = secrets::generate("");
    store
        .create_session(&NewSession {
            token_hash: secrets::hash(&token),
            user_id: user.id,
            csrf_token: csrf_token.clone(),
            created_at: now,
            expires_at: Ts::new(now.get() + state.settings().session_lifetime),
        })
        .await?;
    Ok(NewWebSession {
        user,
        token,
        csrf_token,
    })
}

/// Ends the session of the cookie sent. Needs the session's CSRF token (`X-CSRF-Token`) like
/// every change: otherwise any site could log a user out.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 403, description = "The session's CSRF token is missing or wrong", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(State(state): State<AppState>, parts: Parts) -> ApiResult<Response> {
    let mut parts = parts;
    // Resolving the caller checks the CSRF token of a live session (403 otherwise).
    let caller = Caller::from_request_parts(&mut parts, &state).await?;
    if let (Caller::User(_), Some(session)) = (&caller, session_cookie(&parts)) {
        state
            .store()
            .delete_session(&secrets::hash(session))
            .await?;
    }
    Ok(cleared_cookie(StatusCode::NO_CONTENT))
}

/// An answer that removes the session cookie.
fn cleared_cookie(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("balagh_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

/// Changes your password. Every session and API token of yours ends (this one included):
/// log in again with the new password.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "accounts", request_body = PasswordChangeRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Changed; every session and token ended"),
        (status = 401, description = "Wrong current password", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<PasswordChangeRequest>,
) -> ApiResult<Response> {
    let new_password = NewPassword::parse(&body.new_password)
        .map_err(|e| FieldError::new("new_password", e.message))?;
    let hash = state
        .store()
        .user_for_login(&user.email)
        .await?
        .map(|(_, hash)| hash);
    if !password::verify(&body.current_password, hash).await {
        return Err(ApiError::BadCredentials);
    }
    let update = balagh_store::UserUpdate {
        password_hash: Some(
            password::hash(&new_password)
                .await
                .map_err(ApiError::Internal)?,
        ),
        ..balagh_store::UserUpdate::default()
    };
    state
        .store()
        .update_user(user.id, &update)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(cleared_cookie(StatusCode::NO_CONTENT))
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Current user", body = UserView),
        (status = 401, description = "Not logged in", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(SignedIn(user): SignedIn) -> ApiResult<Json<UserView>> {
    Ok(Json(user_view(&user)))
}

fn token_view(t: &balagh_store::ApiTokenInfo) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name.clone(),
        created_at: t.created_at.get(),
        expires_at: t.expires_at.get(),
        revoked: t.revoked_at.is_some(),
    }
}

/// Your API tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "accounts",
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Tokens", body = [TokenView])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> ApiResult<Json<Vec<TokenView>>> {
    let tokens = state.store().api_tokens(user.id).await?;
    Ok(Json(tokens.iter().map(token_view).collect()))
}

/// Creates a personal or service API token (`Authorization: Bearer bat_…`), shown once.
/// Only from a logged-in session: a token cannot mint tokens (a leaked one would otherwise
/// renew itself for ever).
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "accounts", request_body = NewTokenRequest,
    security(("session" = [])),
    responses(
        (status = 201, description = "Created", body = CreatedToken),
        (status = 403, description = "Asked with an API token rather than a session", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<NewTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    // A signed-in caller with an Authorization header came in by API token (bearer
    // credentials are looked at before the session cookie).
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(ApiError::SessionRequired);
    }
    let name = body.name.trim();
    let mut errors = Vec::new();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "must be 1-100 characters"));
    }
    let days = body.expires_in_days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        errors.push(FieldError::new("expires_in_days", "must be 1-365"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = Ts::now();
    let secret = secrets::generate(secrets::API_TOKEN_PREFIX);
    let token = NewApiToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        name: name.to_owned(),
        token_hash: secrets::hash(&secret),
        created_at: now,
        expires_at: Ts::new(now.get() + time::Duration::days(days.into())),
    };
    state.store().create_api_token(&token).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            info: TokenView {
                id: token.id,
                name: token.name,
                created_at: token.created_at.get(),
                expires_at: token.expires_at.get(),
                revoked: false,
            },
            token: secret,
        }),
    ))
}

/// Revokes one of your tokens at once.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "accounts",
    params(("id" = Uuid, Path, description = "Token id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such active token of yours", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    if state
        .store()
        .revoke_api_token(user.id, id, Ts::now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
