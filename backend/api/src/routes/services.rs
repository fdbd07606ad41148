//! The services residents can report about.

use crate::extract::{AcceptLanguage, ApiQuery};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use balagh_domain::{Language, Service};
use balagh_wire::{AttributeValueView, AttributeView, ServiceList, ServiceView};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ServicesQuery {
    /// Jurisdiction id (e.g. `tetouan`); defaults to the first one served.
    pub jurisdiction_id: Option<String>,
}

/// Lists services with names in the language asked for by `Accept-Language` (fr, ar, en).
#[utoipa::path(
    get, path = "/api/v1/services", tag = "services",
    params(ServicesQuery, ("Accept-Language" = Option<String>, Header, description = "fr, ar or en")),
    responses(
        (status = 200, description = "Services", body = ServiceList),
        (status = 404, description = "Unknown jurisdiction", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_services(
    State(state): State<AppState>,
    AcceptLanguage(accept): AcceptLanguage,
    ApiQuery(query): ApiQuery<ServicesQuery>,
) -> ApiResult<Json<ServiceList>> {
    let catalog = state.catalog();
    let jurisdiction = catalog
        .jurisdiction_or_default(query.jurisdiction_id.as_deref().filter(|s| !s.is_empty()))
        .ok_or(ApiError::NotFound)?;
    let language = Language::negotiate(
        accept.as_deref(),
        &jurisdiction.languages,
        jurisdiction.default_language,
    );
    Ok(Json(ServiceList {
        jurisdiction_id: jurisdiction.id.to_string(),
        language: language.code().to_owned(),
        services: catalog
            .services(&jurisdiction.id)
            .iter()
            .map(|s| service_view(s, language))
            .collect(),
    }))
}

pub fn service_view(service: &Service, language: Language) -> ServiceView {
    let mut attributes: Vec<AttributeView> = service
        .attributes
        .iter()
        .map(|a| AttributeView {
            code: a.code.clone(),
            datatype: serde_json::to_value(a.datatype)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            required: a.required,
            description: a.description.get(language).to_owned(),
            values: a
                .values
                .iter()
                .map(|v| AttributeValueView {
                    key: v.key.clone(),
                    name: v.name.get(language).to_owned(),
                })
                .collect(),
            order: a.order,
        })
        .collect();
    attributes.sort_by_key(|a| a.order);
    ServiceView {
        code: service.code.to_string(),
        group: service.group.as_str().to_owned(),
        name: service.name.get(language).to_owned(),
        description: service.description.get(language).to_owned(),
        keywords: service.keywords.clone(),
        attributes,
    }
}
