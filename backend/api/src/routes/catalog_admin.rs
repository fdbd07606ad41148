//! Staff manage what residents can report about and who holds which contract: services,
//! operators, contracts and their zones. Every change reloads the routing index (other
//! replicas follow within seconds through the catalog revision).

use crate::auth::principal::{AnyStaff, Staff, StaffAdmin, StaffWriter};
use crate::extract::{ApiJson, parse_json};
use crate::problem::{ApiError, ApiResult};
use crate::routes::reports::{idempotency_key, submit};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use balagh_app::intake::Submitter;
use balagh_domain::zones::{ZoneFeature, area_to_geojson};
use balagh_domain::{AttributeType, Channel, FieldError, Service};
use balagh_wire::{
    AssistedReportRequest, ContractView, NewReportRequest, OperatorSummary, ZoneImportResult,
};
use serde_json::json;

async fn reload(state: &AppState) -> ApiResult<()> {
    state.refresh_catalog().await?;
    Ok(())
}

/// Enters a report for a resident at the counter or on the phone (channel `counter` or
/// `phone`); the contact details stay private. Same checks, routing and idempotency as the
/// app (`Idempotency-Key` per staff member).
#[utoipa::path(post, path = "/api/v1/staff/reports", tag = "staff", request_body = AssistedReportRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per submission")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created", body = balagh_wire::ReportView),
        (status = 422, description = "Invalid fields", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn assisted_report(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffWriter>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AssistedReportRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let channel = match body.channel.as_str() {
        "counter" => Channel::Counter,
        "phone" => Channel::Phone,
        _ => return Err(FieldError::new("channel", "must be counter or phone").into()),
    };
    let contact = assisted_contact(body.contact_name.as_deref(), body.contact_phone.as_deref())?;
    let contact = crate::sms::assisted_contact(
        &state,
        staff.jurisdiction.as_str(),
        contact,
        balagh_domain::Language::Fr,
    )
    .await?;
    let report = NewReportRequest {
        service_code: body.service_code,
        lat: body.lat,
        lon: body.lon,
        description: body.description,
        attributes: body.attributes,
        accuracy_m: body.accuracy_m,
        photos: None,
    };
    submit(
        &state,
        &report,
        key,
        Submitter {
            channel,
            device: None,
            staff: Some(staff.user.id),
            contact,
        },
    )
    .await
}

/// The private contact of a resident a report is entered for: name and phone, each at most
/// 200 characters without control characters; `None` when neither is given.
pub fn assisted_contact(
    name: Option<&str>,
    phone: Option<&str>,
) -> ApiResult<Option<serde_json::Value>> {
    let field = |field: &str, value: Option<&str>| -> ApiResult<Option<String>> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > 200 || v.chars().any(char::is_control) => {
                Err(FieldError::new(
                    field,
                    "must be at most 200 characters, no control characters",
                )
                .into())
            }
            other => Ok(other.map(str::to_owned)),
        }
    };
    let name = field("contact_name", name)?;
    let phone = field("contact_phone", phone)?;
    Ok((name.is_some() || phone.is_some()).then(|| json!({ "name": name, "phone": phone })))
}

/// Creates or updates a service (the body is the service: code, group, names and
/// descriptions in fr/ar/en, keywords, typed attributes, sensitive).
#[utoipa::path(put, path = "/api/v1/staff/services/{code}", tag = "staff",
    request_body = super::request_schemas::ServiceRequest,
    params(("code" = String, Path, description = "Service code")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Stored"),
        (status = 422, description = "Invalid service", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_service(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    Path(code): Path<String>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let service: Service = parse_json(&body)?;
    if service.code.as_str() != code {
        return Err(FieldError::new("code", "must match the code in the path").into());
    }
    super::service_groups::require_group(
        &state.catalog(),
        &staff.jurisdiction,
        service.group.as_str(),
        "group",
    )?;
    for (i, attribute) in service.attributes.iter().enumerate() {
        let is_list = matches!(
            attribute.datatype,
            AttributeType::Singlevaluelist | AttributeType::Multivaluelist
        );
        if is_list == attribute.values.is_empty() {
            return Err(FieldError::new(
                format!("attributes[{i}].values"),
                "list attributes need values; other types take none",
            )
            .into());
        }
    }
    state
        .store()
        .upsert_services(&staff.jurisdiction, std::slice::from_ref(&service))
        .await?;
    reload(&state).await?;
    Ok(Json(
        json!({ "code": service.code.as_str(), "stored": true }),
    ))
}

/// Imports contract zones (a GeoJSON FeatureCollection, as `balagh import-zones`): every
/// feature is checked first, and only a wholly valid collection is stored, in one
/// transaction. Up to 10 MB.
#[utoipa::path(post, path = "/api/v1/staff/zones", tag = "staff",
    request_body = super::request_schemas::ZoneCollectionRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Imported", body = ZoneImportResult),
        (status = 422, description = "Invalid features (all listed)", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_zones(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    body: Bytes,
) -> ApiResult<Json<ZoneImportResult>> {
    let collection: geojson::FeatureCollection = parse_json(&body)?;
    let catalog = state.catalog();
    let mut zones = Vec::with_capacity(collection.features.len());
    let mut errors = Vec::new();
    for (i, feature) in collection.features.iter().enumerate() {
        let checked = ZoneFeature::parse(feature).and_then(|zone| {
            super::service_groups::require_group(
                &catalog,
                &staff.jurisdiction,
                zone.group.as_str(),
                "properties.service_group",
            )
            .map(|()| zone)
        });
        match checked {
            Ok(zone) => zones.push(zone),
            Err(e) => errors.push(e.within(&format!("features[{i}]"))),
        }
    }
    if zones.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "features",
            "must contain at least one zone",
        ));
    }
    if !errors.is_empty() {
        errors.truncate(50);
        return Err(ApiError::Validation(errors));
    }
    let summary = state
        .store()
        .upsert_zones(&staff.jurisdiction, &zones, &|_| {})
        .await?;
    reload(&state).await?;
    Ok(Json(ZoneImportResult {
        operators: summary.operators,
        contracts: summary.contracts,
    }))
}

/// The operators holding contracts in your commune.
#[utoipa::path(get, path = "/api/v1/staff/operators", tag = "staff",
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Operators", body = [OperatorSummary])))]
pub async fn list_operators(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
) -> Json<Vec<OperatorSummary>> {
    let catalog = state.catalog();
    let mut operators: Vec<OperatorSummary> = catalog
        .operators_of(&staff.jurisdiction)
        .map(|r| OperatorSummary {
            id: r.operator.id.0,
            slug: r.operator.slug.to_string(),
            name: r.operator.name.clone(),
        })
        .collect();
    operators.sort_by(|a, b| a.slug.cmp(&b.slug));
    Json(operators)
}

/// The contracts of your commune with their zones.
#[utoipa::path(get, path = "/api/v1/staff/contracts", tag = "staff",
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Contracts", body = [ContractView])))]
pub async fn list_contracts(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
) -> Json<Vec<ContractView>> {
    let catalog = state.catalog();
    Json(
        catalog
            .router()
            .contracts()
            .iter()
            .filter(|c| c.jurisdiction == staff.jurisdiction)
            .map(|c| ContractView {
                id: c.id.0,
                reference: c.reference.clone(),
                operator_id: c.operator.0,
                service_group: c.group.as_str().to_owned(),
                zone_name: c.zone_name.clone(),
                zone: serde_json::to_value(area_to_geojson(&c.zone)).unwrap_or_default(),
                valid_from: c.valid_from,
                valid_until: c.valid_until,
            })
            .collect(),
    )
}
