//! Users, their web sessions and API tokens, and login throttling.

use crate::{StoreError, Ts};
use balagh_domain::account::{Email, Grant, Role, Scope, User};
use balagh_domain::{OperatorId, Slug};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub email: Email,
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub grant: Grant,
    pub created_at: Ts,
}

/// Changes an administrator makes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub grant: Option<Grant>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub csrf_token: String,
    pub created_at: Ts,
    pub expires_at: Ts,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub created_at: Ts,
    pub expires_at: Ts,
}

/// An API token as listed to its owner (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiTokenInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: Ts,
    pub expires_at: Ts,
    pub revoked_at: Option<Ts>,
}

/// The columns of `users` every read selects, in [`UserRow`]'s order, qualified by a table
/// alias (`"u."`) or not (`""`).
pub fn user_columns(alias: &str) -> String {
    [
        "id",
        "email",
        "display_name",
        "role",
        "jurisdiction_id",
        "operator_id",
        "active",
    ]
    .iter()
    .map(|c| format!("{alias}{c}"))
    .collect::<Vec<_>>()
    .join(", ")
}

#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub jurisdiction_id: Option<String>,
    pub operator_id: Option<Uuid>,
    pub active: bool,
}

/// A user row with one more column (a password hash, a CSRF token).
#[derive(Debug, sqlx::FromRow)]
pub struct UserWithRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub extra: String,
}

impl UserRow {
    pub fn into_domain(self) -> Result<User, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("user {}: {what}", self.id));
        let role = Role::parse(&self.role).ok_or_else(|| corrupt("role"))?;
        let scope = match (&self.jurisdiction_id, self.operator_id) {
            (Some(j), None) => Scope::Jurisdiction(
                Slug::parse("jurisdiction_id", j).map_err(|_| corrupt("scope"))?,
            ),
            (None, Some(o)) => Scope::Operator(OperatorId(o)),
            _ => return Err(corrupt("scope")),
        };
        Ok(User {
            id: self.id,
            email: Email::parse(&self.email).map_err(|_| corrupt("email"))?,
            display_name: self.display_name,
            grant: Grant::new(role, scope).map_err(|_| corrupt("grant"))?,
            active: self.active,
        })
    }
}

/// The scope columns of a grant.
pub fn scope_columns(grant: &Grant) -> (Option<String>, Option<Uuid>) {
    match grant.scope() {
        Scope::Jurisdiction(j) => (Some(j.as_str().to_owned()), None),
        Scope::Operator(o) => (None, Some(o.0)),
    }
}

/// When login attempts for a key (an account or a client address) are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Attempts whose password is checked within one window; later ones are refused unseen
    /// until the window ends (a success clears an account's count).
    pub max_failures: i32,
    /// The window; it is also the lock-out: the count starts again when it ends.
    pub window: time::Duration,
}

/// The attempts counted for a key in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    /// Attempts in the window, the one just counted included.
    pub count: i32,
    /// When the window (and so any lock-out) ends.
    pub window_ends: Ts,
}

impl LoginAttempts {
    /// Whether this attempt may have its password checked.
    pub fn allowed(&self, policy: &ThrottlePolicy) -> bool {
        self.count <= policy.max_failures
    }

    /// Whether this attempt used the last check of the window (a failure then locks).
    pub fn last_allowed(&self, policy: &ThrottlePolicy) -> bool {
        self.count == policy.max_failures
    }
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: time::Duration::minutes(15),
        }
    }
}
