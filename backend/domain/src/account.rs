//! People who log in: commune staff and operator staff, each with one role and one scope.

use crate::{FieldError, JurisdictionId, OperatorId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a user may do. Staff roles are scoped to a jurisdiction, operator roles to one
/// operator company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages services, operators, contracts, users.
    StaffAdmin,
    /// Triage, moderation, assisted reporting.
    StaffAgent,
    /// Read-only dashboards.
    StaffAnalyst,
    /// Runs an operator's queue and its integrations.
    OperatorManager,
    /// Works tickets.
    OperatorAgent,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::StaffAdmin,
        Role::StaffAgent,
        Role::StaffAnalyst,
        Role::OperatorManager,
        Role::OperatorAgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::StaffAdmin => "staff_admin",
            Role::StaffAgent => "staff_agent",
            Role::StaffAnalyst => "staff_analyst",
            Role::OperatorManager => "operator_manager",
            Role::OperatorAgent => "operator_agent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::StaffAdmin | Role::StaffAgent | Role::StaffAnalyst
        )
    }
}

/// Where a user's role applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Jurisdiction(JurisdictionId),
    Operator(OperatorId),
}

/// A role together with a scope that fits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    role: Role,
    scope: Scope,
}

impl Grant {
    pub fn new(role: Role, scope: Scope) -> Result<Self, FieldError> {
        match (&scope, role.is_staff()) {
            (Scope::Jurisdiction(_), true) | (Scope::Operator(_), false) => {
                Ok(Self { role, scope })
            }
            (Scope::Operator(_), true) => Err(FieldError::new(
                "jurisdiction_id",
                "staff roles belong to a jurisdiction",
            )),
            (Scope::Jurisdiction(_), false) => Err(FieldError::new(
                "operator_id",
                "operator roles belong to an operator",
            )),
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

/// A login e-mail address, lower-cased; loosely checked (a real one has a local part, an `@`
/// and a domain with a dot).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let ok = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if ok {
            Ok(Self(email))
        } else {
            Err(FieldError::new("email", "must be an e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 12–256 characters, not only one repeated character. (Length beats
/// composition rules; the hash is argon2id.)
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if !(12..=256).contains(&chars) {
            return Err(FieldError::new("password", "must be 12 to 256 characters"));
        }
        let mut distinct: Vec<char> = raw.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 4 {
            return Err(FieldError::new("password", "is too easy to guess"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

/// A user as the rest of the system sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: Email,
    pub display_name: String,
    pub grant: Grant,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Slug;

    #[test]
    fn grants_match_roles_to_scopes() {
        let tetouan = Scope::Jurisdiction(Slug::parse("id", "tetouan").unwrap());
        let operator = Scope::Operator(OperatorId(Uuid::nil()));
        assert!(Grant::new(Role::StaffAgent, tetouan.clone()).is_ok());
        assert!(Grant::new(Role::OperatorAgent, operator.clone()).is_ok());
        assert_eq!(
            Grant::new(Role::StaffAdmin, operator).unwrap_err().field,
            "jurisdiction_id"
        );
        assert_eq!(
            Grant::new(Role::OperatorManager, tetouan)
                .unwrap_err()
                .field,
            "operator_id"
        );
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(
            Email::parse(" Amina@Tetouan.MA ").unwrap().as_str(),
            "amina@tetouan.ma"
        );
        for bad in ["", "amina", "a@b", "a @b.ma", "@b.ma", "a@.ma", "a@b.ma."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("aaaaaaaaaaaaaaaa").is_err());
        let p = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
