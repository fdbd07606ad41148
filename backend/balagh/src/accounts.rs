//! `balagh create-user`: accounts created from the command line (the first administrator).

use balagh_api::auth::password;
use balagh_domain::Slug;
use balagh_domain::account::{Email, Grant, NewPassword, Role, Scope, User};
use balagh_store::{Constraint, NewUser, Store, StoreError, Ts};
use uuid::Uuid;

#[derive(Debug)]
pub struct NewUserInput<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub jurisdiction: &'a str,
    pub operator: Option<&'a str>,
    pub password: &'a str,
}

pub async fn create_user(store: &dyn Store, input: NewUserInput<'_>) -> Result<User, String> {
    let email = Email::parse(input.email).map_err(|e| e.to_string())?;
    let password = NewPassword::parse(input.password).map_err(|e| e.to_string())?;
    let role = Role::parse(input.role).ok_or_else(|| {
        "--role must be staff_admin, staff_agent, staff_analyst, operator_manager or operator_agent"
            .to_owned()
    })?;
    let jurisdiction =
        Slug::parse("--jurisdiction", input.jurisdiction).map_err(|e| e.to_string())?;
    if !store
        .jurisdictions()
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .any(|j| j.id == jurisdiction)
    {
        return Err(format!(
            "no jurisdiction '{jurisdiction}' (run `balagh seed-demo` first?)"
        ));
    }
    let scope = if role.is_staff() {
        Scope::Jurisdiction(jurisdiction.clone())
    } else {
        let slug = input
            .operator
            .ok_or("operator roles need --operator SLUG")?;
        let record = store
            .operators()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|r| r.operator.slug.as_str() == slug && r.jurisdiction == jurisdiction)
            .ok_or_else(|| format!("no operator '{slug}' in {jurisdiction}"))?;
        Scope::Operator(record.operator.id)
    };
    let grant = Grant::new(role, scope).map_err(|e| e.to_string())?;
    let id = Uuid::now_v7();
    let new_user = NewUser {
        id,
        email,
        display_name: input.name.trim().to_owned(),
        password_hash: password::hash(&password).await?,
        grant,
        created_at: Ts::now(),
    };
    match store.create_user(&new_user).await {
        Ok(()) => {}
        Err(StoreError::Conflict(Constraint::UserEmail)) => {
            return Err(format!("a user with e-mail {} already exists", input.email));
        }
        Err(e) => return Err(e.to_string()),
    }
    store
        .user(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the new user vanished".to_owned())
}
