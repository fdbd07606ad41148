//! Staff and operator accounts of the commune: staff administrators list them, create one
//! (with a first password the person changes) and disable or enable one. The same handlers
//! as `/api/v1/admin/users`.

use super::see_other;
use super::{Area, Shell, StaffSession, admin, check_csrf, plain_assets, refusal, respond};
use crate::auth::principal::Staff;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::routes::admin::{create_user, list_users, update_user};
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_domain::OperatorId;
use balagh_wire::{NewUserRequest, UserUpdateRequest};
use serde::Deserialize;
use std::collections::HashMap;
use std::marker::PhantomData;
use uuid::Uuid;

/// The roles an administrator can give, in the order the form offers them.
const ROLES: [&str; 5] = [
    "staff_agent",
    "staff_analyst",
    "staff_admin",
    "operator_agent",
    "operator_manager",
];

#[derive(Debug)]
struct Row {
    id: String,
    name: String,
    email: String,
    role: String,
    organisation: String,
    active: bool,
    is_self: bool,
}

#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "staff/users.html")]
struct UsersPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    rows: Vec<Row>,
    roles: Vec<Choice>,
    operators: Vec<Choice>,
    values: HashMap<String, String>,
    error: Option<String>,
    done: Option<String>,
}

impl UsersPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }
}

fn role_word(w: Words, role: &str) -> String {
    w.t(&format!("staff-role-{}", role.replace('_', "-")))
}

async fn render(
    state: &AppState,
    session: &StaffSession,
    w: Words,
    values: HashMap<String, String>,
    error: Option<String>,
    done: Option<String>,
) -> Result<UsersPage, ApiError> {
    let staff = admin(session)?;
    let axum::Json(users) = list_users(State(state.clone()), Staff(staff, PhantomData)).await?;
    let catalog = state.catalog();
    let commune = catalog
        .jurisdiction(&session.jurisdiction)
        .map_or_else(|| session.jurisdiction.to_string(), |j| j.name.clone());
    let operator_name = |id: Uuid| {
        catalog
            .operator(OperatorId(id))
            .map_or_else(|| id.to_string(), |o| o.operator.name.clone())
    };
    let mut rows: Vec<Row> = users
        .into_iter()
        .map(|u| Row {
            id: u.id.to_string(),
            is_self: u.id == session.user.id,
            organisation: u.operator_id.map_or_else(|| commune.clone(), operator_name),
            role: role_word(w, &u.role),
            name: u.display_name,
            email: u.email,
            active: u.active,
        })
        .collect();
    rows.sort_by(|a, b| {
        (!a.active, &a.organisation, &a.name).cmp(&(!b.active, &b.organisation, &b.name))
    });
    let chosen = |name: &str| values.get(name).cloned().unwrap_or_default();
    let role = chosen("role");
    let roles = ROLES
        .iter()
        .map(|r| Choice {
            value: (*r).to_owned(),
            label: role_word(w, r),
            selected: role == *r,
        })
        .collect();
    let operator = chosen("operator_id");
    let mut operators: Vec<Choice> = catalog
        .operators_of(&session.jurisdiction)
        .map(|o| Choice {
            value: o.operator.id.0.to_string(),
            label: o.operator.name.clone(),
            selected: operator == o.operator.id.0.to_string(),
        })
        .collect();
    operators.sort_by(|a, b| a.label.cmp(&b.label));
    operators.dedup_by(|a, b| a.value == b.value);
    Ok(UsersPage {
        w,
        assets: plain_assets(),
        shell: Shell::new(session, w, Area::Users, "/staff/users"),
        lang: w.language.code(),
        rows,
        roles,
        operators,
        values,
        error,
        done,
    })
}

#[derive(Debug, Deserialize)]
pub struct UsersParams {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(params): Query<UsersParams>,
) -> Response {
    let w = Words::new(language);
    let done = params
        .done
        .filter(|d| ["created", "disabled", "enabled"].contains(&d.as_str()))
        .map(|d| w.t(&format!("staff-users-done-{d}")));
    match render(&state, &session, w, HashMap::new(), None, done).await {
        Ok(page) => respond(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

pub async fn create(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    WebForm(mut values): WebForm<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = check_csrf(&session, values.get("csrf_token").map_or("", |v| v)) {
        return refused.into_response();
    }
    let staff = match admin(&session) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let w = Words::new(language);
    let field = |name: &str| values.get(name).cloned().unwrap_or_default();
    let role = field("role");
    let body = NewUserRequest {
        email: field("email"),
        display_name: field("display_name"),
        password: field("password"),
        operator_id: if role.starts_with("operator_") {
            Uuid::parse_str(&field("operator_id")).ok()
        } else {
            None
        },
        role,
    };
    match create_user(
        State(state.clone()),
        Staff(staff, PhantomData),
        ApiJson(body),
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/staff/users?lang={}&done=created",
            language.code()
        )),
        Err(ApiError::Forbidden) => ApiError::Forbidden.into_response(),
        Err(e) => {
            // The password typed is never sent back.
            values.remove("password");
            let message = refusal(w, &e);
            match render(&state, &session, w, values, Some(message), None).await {
                Ok(page) => respond(StatusCode::UNPROCESSABLE_ENTITY, &page),
                Err(e) => e.into_response(),
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    csrf_token: String,
    active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path(id): Path<String>,
    WebForm(form): WebForm<ActiveForm>,
) -> Response {
    if let Err(refused) = check_csrf(&session, &form.csrf_token) {
        return refused.into_response();
    }
    let staff = match admin(&session) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let active = form.active == "true";
    let body = UserUpdateRequest {
        active: Some(active),
        ..UserUpdateRequest::default()
    };
    match update_user(
        State(state),
        Staff(staff, PhantomData),
        Path(id),
        ApiJson(body),
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/staff/users?lang={}&done={}",
            language.code(),
            if active { "enabled" } else { "disabled" }
        )),
        Err(e) => e.into_response(),
    }
}
