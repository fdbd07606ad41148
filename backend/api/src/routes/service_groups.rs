//! Service groups as data (issue 19): staff list, add and rename their commune's groups;
//! everything that shows a group (resident app, Open311, SMS, statistics) names it from here.

use crate::auth::principal::{AnyStaff, Staff, StaffAdmin};
use crate::extract::parse_json;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use balagh_app::catalogue::Catalog;
use balagh_domain::{FieldError, JurisdictionId, Language, ServiceGroup, ServiceGroupDefinition};
use balagh_wire::ServiceGroupView;

/// The group named in `language`: the commune's name in that language; for a built-in group
/// without one, the catalogue's words (`res-group-*`); else the French name (the bare code
/// if the group is unknown, which the foreign keys make impossible).
pub fn group_name(
    catalog: &Catalog,
    jurisdiction: &JurisdictionId,
    code: &str,
    language: Language,
) -> String {
    let group = catalog.group(jurisdiction, code);
    let own = group.and_then(|g| match language {
        Language::Fr => Some(g.name.fr.as_str()),
        Language::Ar => g.name.ar.as_deref(),
        Language::En => g.name.en.as_deref(),
    });
    if let Some(name) = own {
        return name.to_owned();
    }
    if ServiceGroup::parse(code).is_ok_and(|g| g.is_built_in()) {
        return balagh_i18n::Catalog::global().text(language, &format!("res-group-{code}"));
    }
    group.map_or_else(|| code.to_owned(), |g| g.name.fr.clone())
}

pub fn group_view(group: &ServiceGroupDefinition, language: Language) -> ServiceGroupView {
    ServiceGroupView {
        code: group.code.as_str().to_owned(),
        name: group.name_in(language).to_owned(),
        icon: group.icon.clone(),
        order: group.order,
    }
}

/// The service groups of your commune, in display order, with names in every language.
#[utoipa::path(get, path = "/api/v1/staff/service-groups", tag = "staff",
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Groups", body = [super::request_schemas::ServiceGroupRequest])))]
pub async fn list_groups(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
) -> Json<Vec<ServiceGroupDefinition>> {
    Json(state.catalog().groups(&staff.jurisdiction).to_vec())
}

/// Adds a service group (e.g. `parks`); services and contracts can then name it.
#[utoipa::path(post, path = "/api/v1/staff/service-groups", tag = "staff",
    request_body = super::request_schemas::ServiceGroupRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created", body = super::request_schemas::ServiceGroupRequest),
        (status = 409, description = "Your commune already has a group with this code", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid code, names, icon or order", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_group(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ServiceGroupDefinition>)> {
    let group: ServiceGroupDefinition = parse_json(&body)?;
    group.validate()?;
    let created = state
        .store()
        .create_service_group(&staff.jurisdiction, &group)
        .await?;
    if !created {
        return Err(ApiError::Conflict(
            "your commune already has a service group with this code",
        ));
    }
    state.refresh_catalog().await?;
    Ok((StatusCode::CREATED, Json(group)))
}

/// Renames, re-icons or reorders a service group (its code stays: services and contracts
/// refer to it).
#[utoipa::path(put, path = "/api/v1/staff/service-groups/{code}", tag = "staff",
    request_body = super::request_schemas::ServiceGroupRequest,
    params(("code" = String, Path, description = "Group code")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Stored", body = super::request_schemas::ServiceGroupRequest),
        (status = 404, description = "No such group in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid names, icon or order", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_group(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    Path(code): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ServiceGroupDefinition>> {
    let group: ServiceGroupDefinition = parse_json(&body)?;
    if group.code.as_str() != code {
        return Err(FieldError::new("code", "must match the code in the path").into());
    }
    group.validate()?;
    let updated = state
        .store()
        .update_service_group(&staff.jurisdiction, &group)
        .await?;
    if !updated {
        return Err(ApiError::NotFound);
    }
    state.refresh_catalog().await?;
    Ok(Json(group))
}

/// 422 unless the jurisdiction has the group (services and contracts must name one).
pub fn require_group(
    catalog: &Catalog,
    jurisdiction: &JurisdictionId,
    code: &str,
    field: &str,
) -> Result<(), FieldError> {
    if catalog.group(jurisdiction, code).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = catalog
        .groups(jurisdiction)
        .iter()
        .map(|g| g.code.as_str())
        .collect();
    Err(FieldError::new(
        field,
        format!(
            "unknown service group {code}: one of {} (staff add groups with POST /api/v1/staff/service-groups)",
            known.join(", ")
        ),
    ))
}
