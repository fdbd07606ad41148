//! The services residents can report about.

use crate::extract::{AcceptLanguage, ApiQuery};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_app::catalogue::Catalog;
use balagh_domain::{JurisdictionId, Language, Service};
use balagh_wire::{AttributeValueView, AttributeView, ServiceList, ServiceView};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// Jurisdiction id (e.g. `tetouan`); defaults to the first one served.
    pub jurisdiction_id: Option<String>,
}

/// Lists services with names in the language asked for by `Accept-Language` (fr, ar, en).
/// The answer carries an `ETag` (a hash of the body); send it back as `If-None-Match` to
/// get a bodiless 304 while nothing changed (the mobile SDK caches the list this way).
#[utoipa::path(
    get, path = "/api/v1/services", tag = "services",
    params(ServicesQuery, ("Accept-Language" = Option<String>, Header, description = "fr, ar or en"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "Services", body = ServiceList),
        (status = 304, description = "Not modified: the cached copy with this ETag is current"),
        (status = 404, description = "Unknown jurisdiction", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_services(
    State(state): State<AppState>,
    AcceptLanguage(accept): AcceptLanguage,
    ApiQuery(query): ApiQuery<ServicesQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let catalog = state.catalog();
    let jurisdiction = catalog
        .jurisdiction_or_default(query.jurisdiction_id.as_deref().filter(|s| !s.is_empty()))
        .ok_or(ApiError::NotFound)?;
    let language = Language::negotiate(
        accept.as_deref(),
        &jurisdiction.languages,
        jurisdiction.default_language,
    );
    let media = catalog.media(&jurisdiction.id);
    let list = ServiceList {
        jurisdiction_id: jurisdiction.id.to_string(),
        language: language.code().to_owned(),
        services: catalog
            .services(&jurisdiction.id)
            .iter()
            .map(|s| {
                let mut view = service_view(s, &catalog, &jurisdiction.id, language);
                super::service_media::decorate(&mut view, media, language);
                view
            })
            .collect(),
        groups: catalog
            .groups(&jurisdiction.id)
            .iter()
            .map(|g| super::service_groups::group_view(g, language))
            .collect(),
    };
    let body = serde_json::to_vec(&list)
        .map_err(|e| ApiError::Internal(format!("services do not serialize: {e}")))?;
    let digest = Sha256::digest(&body);
    let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let etag = HeaderValue::from_str(&format!("\"{tag}\""))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let matched = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .any(|v| v == "*" || v.as_bytes() == etag.as_bytes());
    let vary = HeaderValue::from_static("accept-language");
    if matched {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::VARY, vary)],
        )
            .into_response());
    }
    Ok((
        [
            (header::ETAG, etag),
            (header::VARY, vary),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        body,
    )
        .into_response())
}

pub fn service_view(
    service: &Service,
    catalog: &Catalog,
    jurisdiction: &JurisdictionId,
    language: Language,
) -> ServiceView {
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
        group_name: super::service_groups::group_name(
            catalog,
            jurisdiction,
            service.group.as_str(),
            language,
        ),
        name: service.name.get(language).to_owned(),
        description: service.description.get(language).to_owned(),
        keywords: service.keywords.clone(),
        attributes,
        videos: Vec::new(),
        easy_read: None,
    }
}
