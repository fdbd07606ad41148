//! The caller of a request, from a bearer token (device or API token) or a session cookie.

use super::secrets::{self, API_TOKEN_PREFIX, DEVICE_PREFIX};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};
use balagh_domain::JurisdictionId;
use balagh_domain::OperatorId;
use balagh_domain::account::{Role, Scope, User};
use balagh_store::Ts;
use uuid::Uuid;

/// Name of the web session cookie.
pub const SESSION_COOKIE: &str = "balagh_session";
/// Header carrying the session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    Device(Uuid),
    User(User),
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let caller = resolve(parts, state).await?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let now = Ts::now();
    if let Some(token) = bearer(parts) {
        // A presented credential that does not work is an error, not anonymity.
        let hash = secrets::hash(token);
        if token.starts_with(DEVICE_PREFIX) {
            return state
                .devices()
                .authenticate(state.store(), &hash)
                .await?
                .map(Caller::Device)
                .ok_or(ApiError::Unauthorized);
        }
        if token.starts_with(API_TOKEN_PREFIX) {
            return state
                .store()
                .api_token_user(&hash, now)
                .await?
                .map(Caller::User)
                .ok_or(ApiError::Unauthorized);
        }
        return Err(ApiError::Unauthorized);
    }
    if let Some(session) = session_cookie(parts) {
        let Some((user, csrf)) = state
            .store()
            .session_user(&secrets::hash(session), now)
            .await?
        else {
            return Ok(Caller::Anonymous);
        };
        // Cookies ride along with cross-site requests: changes also need the CSRF token,
        // which only pages of this site can read. HTML forms send it as a field and are
        // checked by their handlers; everything else sends the header.
        if is_state_changing(&parts.method) && !is_form(parts) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::CsrfMismatch);
            }
        }
        return Ok(Caller::User(user));
    }
    Ok(Caller::Anonymous)
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caller must be a user with one of `roles`: 401 for nobody, 403 for anyone else.
pub fn require_role<'a>(caller: &'a Caller, roles: &[Role]) -> Result<&'a User, ApiError> {
    match caller {
        Caller::User(user) if roles.contains(&user.grant.role()) => Ok(user),
        Caller::Anonymous => Err(ApiError::Unauthorized),
        _ => Err(ApiError::Forbidden),
    }
}

/// A commune staff member (any staff role) and their jurisdiction.
#[derive(Debug, Clone)]
pub struct StaffCaller {
    pub user: User,
    pub jurisdiction: JurisdictionId,
}

impl StaffCaller {
    /// Staff with one of `roles`.
    pub fn require(caller: &Caller, roles: &[Role]) -> Result<Self, ApiError> {
        let user = require_role(caller, roles)?;
        match user.grant.scope() {
            Scope::Jurisdiction(j) => Ok(Self {
                user: user.clone(),
                jurisdiction: j.clone(),
            }),
            Scope::Operator(_) => Err(ApiError::Forbidden),
        }
    }
}

/// A member of an operator company and their operator.
#[derive(Debug, Clone)]
pub struct OperatorCaller {
    pub user: User,
    pub operator: OperatorId,
}

impl OperatorCaller {
    pub fn require(caller: &Caller, roles: &[Role]) -> Result<Self, ApiError> {
        let user = require_role(caller, roles)?;
        match user.grant.scope() {
            Scope::Operator(o) => Ok(Self {
                user: user.clone(),
                operator: *o,
            }),
            Scope::Jurisdiction(_) => Err(ApiError::Forbidden),
        }
    }
}

/// Every staff role.
pub const STAFF: &[Role] = &[Role::StaffAdmin, Role::StaffAgent, Role::StaffAnalyst];
/// Staff roles that change reports.
pub const STAFF_WRITERS: &[Role] = &[Role::StaffAdmin, Role::StaffAgent];
/// Every operator role.
pub const OPERATOR: &[Role] = &[Role::OperatorManager, Role::OperatorAgent];

/// A set of roles allowed on an endpoint, as a type (so the check runs as an extractor,
/// before the body is even read: a caller without the role learns nothing from validation).
pub trait Roles: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

macro_rules! role_set {
    ($(#[$doc:meta])* $name:ident = $roles:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl Roles for $name {
            const ROLES: &'static [Role] = $roles;
        }
    };
}

role_set!(/// Every staff role.
    AnyStaff = STAFF);
role_set!(/// Staff who change reports.
    StaffWriter = STAFF_WRITERS);
role_set!(/// Staff administrators.
    StaffAdmin = &[Role::StaffAdmin]);
role_set!(/// Every operator role.
    AnyOperator = OPERATOR);
role_set!(/// Operator managers.
    OperatorManager = &[Role::OperatorManager]);
role_set!(/// Any logged-in user.
    AnyUser = &Role::ALL);

/// Extracts a staff caller with one of `R`'s roles (401 anonymous, 403 otherwise).
#[derive(Debug)]
pub struct Staff<R: Roles>(pub StaffCaller, pub std::marker::PhantomData<R>);

impl<R: Roles> FromRequestParts<AppState> for Staff<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        StaffCaller::require(&caller, R::ROLES).map(|c| Staff(c, std::marker::PhantomData))
    }
}

/// Extracts an operator caller with one of `R`'s roles (401 anonymous, 403 otherwise).
#[derive(Debug)]
pub struct Operator<R: Roles>(pub OperatorCaller, pub std::marker::PhantomData<R>);

impl<R: Roles> FromRequestParts<AppState> for Operator<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        OperatorCaller::require(&caller, R::ROLES).map(|c| Operator(c, std::marker::PhantomData))
    }
}

/// Extracts any logged-in user (401 otherwise, 403 for a device).
#[derive(Debug)]
pub struct SignedIn(pub User);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        require_role(&caller, AnyUser::ROLES).cloned().map(SignedIn)
    }
}
