//! Staff administrators manage the accounts of their commune and of its operators.

use crate::auth::password;
use crate::auth::principal::{Staff, StaffAdmin, StaffCaller};
use crate::extract::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::routes::accounts::user_view;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use balagh_domain::account::{Email, Grant, NewPassword, Role, Scope, User};
use balagh_domain::{FieldError, OperatorId};
use balagh_store::{Constraint, NewUser, StoreError, Ts, UserUpdate};
use balagh_wire::{NewUserRequest, UserUpdateRequest, UserView};
use uuid::Uuid;

/// Whether a user belongs to the admin's jurisdiction (its staff, or its operators' people).
fn in_jurisdiction(state: &AppState, admin: &StaffCaller, user: &User) -> bool {
    match user.grant.scope() {
        Scope::Jurisdiction(j) => j == &admin.jurisdiction,
        Scope::Operator(o) => state
            .catalog()
            .operator(*o)
            .is_some_and(|record| record.jurisdiction == admin.jurisdiction),
    }
}

/// Users of your commune and of its operators.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "accounts",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Users", body = [UserView]),
        (status = 403, description = "Not a staff administrator", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    Staff(admin, _): Staff<StaffAdmin>,
) -> ApiResult<Json<Vec<UserView>>> {
    let mut users = state
        .store()
        .users_in_scope(&Scope::Jurisdiction(admin.jurisdiction.clone()))
        .await?;
    let operators: Vec<OperatorId> = state
        .catalog()
        .operators_of(&admin.jurisdiction)
        .map(|r| r.operator.id)
        .collect();
    for operator in operators {
        users.extend(
            state
                .store()
                .users_in_scope(&Scope::Operator(operator))
                .await?,
        );
    }
    Ok(Json(users.iter().map(user_view).collect()))
}

/// Creates a staff user of your commune, or a user of one of its operators.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "accounts", request_body = NewUserRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 409, description = "E-mail already used", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    Staff(admin, _): Staff<StaffAdmin>,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let mut errors = Vec::new();
    let email = Email::parse(&body.email).map_err(|e| errors.push(e)).ok();
    let password = NewPassword::parse(&body.password)
        .map_err(|e| errors.push(e))
        .ok();
    let name = body.display_name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("display_name", "must be 1-200 characters"));
    }
    let grant = match Role::parse(&body.role) {
        None => {
            errors.push(FieldError::new(
                "role",
                "must be staff_admin, staff_agent, staff_analyst, operator_manager or operator_agent",
            ));
            None
        }
        Some(role) if role.is_staff() => {
            Grant::new(role, Scope::Jurisdiction(admin.jurisdiction.clone())).ok()
        }
        Some(role) => {
            let operator = body.operator_id.map(OperatorId).filter(|o| {
                state
                    .catalog()
                    .operator(*o)
                    .is_some_and(|r| r.jurisdiction == admin.jurisdiction)
            });
            match operator {
                Some(o) => Grant::new(role, Scope::Operator(o)).ok(),
                None => {
                    errors.push(FieldError::new(
                        "operator_id",
                        "must name an operator of your commune",
                    ));
                    None
                }
            }
        }
    };
    let (Some(email), Some(password), Some(grant)) = (email, password, grant) else {
        return Err(ApiError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let user = NewUser {
        id: Uuid::now_v7(),
        email,
        display_name: name,
        password_hash: password::hash(&password)
            .await
            .map_err(ApiError::Internal)?,
        grant,
        created_at: Ts::now(),
    };
    match state.store().create_user(&user).await {
        Ok(()) => {}
        Err(StoreError::Conflict(Constraint::UserEmail)) => {
            return Err(ApiError::Conflict("a user with this e-mail already exists"));
        }
        Err(e) => return Err(e.into()),
    }
    let created = state
        .store()
        .user(user.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(user_view(&created))))
}

/// Changes a user's name, password, or deactivates them (their sessions and tokens stop
/// working at once).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "accounts", request_body = UserUpdateRequest,
    params(("id" = Uuid, Path, description = "User id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 404, description = "No such user in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "You cannot deactivate yourself", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    Staff(admin, _): Staff<StaffAdmin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserUpdateRequest>,
) -> ApiResult<Json<UserView>> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let existing = state
        .store()
        .user(id)
        .await?
        .filter(|u| in_jurisdiction(&state, &admin, u))
        .ok_or(ApiError::NotFound)?;
    if existing.id == admin.user.id && body.active == Some(false) {
        return Err(ApiError::Conflict("you cannot deactivate yourself"));
    }
    let mut update = UserUpdate {
        active: body.active,
        ..UserUpdate::default()
    };
    if let Some(name) = &body.display_name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(FieldError::new("display_name", "must be 1-200 characters").into());
        }
        update.display_name = Some(name.to_owned());
    }
    if let Some(raw) = &body.password {
        let password = NewPassword::parse(raw)?;
        update.password_hash = Some(
            password::hash(&password)
                .await
                .map_err(ApiError::Internal)?,
        );
    }
    let updated = state
        .store()
        .update_user(id, &update)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(user_view(&updated)))
}
