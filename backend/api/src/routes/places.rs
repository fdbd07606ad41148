//! The gazetteer and the bus network, public: what the resident web app (and any store app)
//! offers instead of a map. Named places are searched by a prefix of any word of their
//! names, whatever the case, accents or Arabic vowel marks.

use crate::extract::ApiQuery;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use balagh_domain::places::fold;
use balagh_domain::{FieldError, Jurisdiction};
use serde::{Deserialize, Serialize};

/// At most this many places per search.
pub const MAX_PLACES: u32 = 10;
/// The longest query (characters).
const MAX_QUERY_CHARS: usize = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlacesQuery {
    /// Any text; matched against the start of each word of the names (fr and ar).
    pub q: String,
    /// `ar` answers with Arabic names where there are some.
    pub lang: Option<String>,
    pub jurisdiction_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlaceView {
    pub id: String,
    pub name: String,
    /// street, square, landmark, market, school, mosque or other
    pub kind: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlaceList {
    pub places: Vec<PlaceView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NetworkQuery {
    pub jurisdiction_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BusLineView {
    /// GTFS route_id
    pub id: String,
    /// The number on the bus
    pub short_name: String,
    pub long_name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BusLineList {
    pub lines: Vec<BusLineView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BusStopView {
    /// GTFS stop_id
    pub id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BusStopList {
    pub line_id: String,
    pub stops: Vec<BusStopView>,
}

fn jurisdiction(state: &AppState, id: Option<&str>) -> ApiResult<Jurisdiction> {
    state
        .catalog()
        .jurisdiction_or_default(id.filter(|s| !s.is_empty()))
        .cloned()
        .ok_or(ApiError::NotFound)
}

/// Named places whose names have a word starting with `q`.
#[utoipa::path(
    get, path = "/api/v1/places", tag = "places",
    params(PlacesQuery),
    responses(
        (status = 200, description = "At most 10 places, those whose name starts with q first", body = PlaceList),
        (status = 400, description = "q is empty or too long", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown jurisdiction", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search_places(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PlacesQuery>,
) -> ApiResult<Json<PlaceList>> {
    let folded = fold(&query.q);
    if folded.is_empty() || query.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "q",
            format!("must hold 1-{MAX_QUERY_CHARS} characters with a letter or digit"),
        )));
    }
    let jurisdiction = jurisdiction(&state, query.jurisdiction_id.as_deref())?;
    let places = state
        .store()
        .search_places(&jurisdiction.id, &folded, MAX_PLACES)
        .await?;
    let lang = query.lang.as_deref().unwrap_or("");
    Ok(Json(PlaceList {
        places: places
            .iter()
            .map(|p| PlaceView {
                id: p.id.clone(),
                name: p.name_in(lang).to_owned(),
                kind: p.kind.as_str().to_owned(),
                lat: p.point.lat(),
                lon: p.point.lon(),
            })
            .collect(),
    }))
}

/// Bus lines, by number.
#[utoipa::path(
    get, path = "/api/v1/bus-lines", tag = "places",
    params(NetworkQuery),
    responses(
        (status = 200, description = "Lines", body = BusLineList),
        (status = 404, description = "Unknown jurisdiction", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bus_lines(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<NetworkQuery>,
) -> ApiResult<Json<BusLineList>> {
    let jurisdiction = jurisdiction(&state, query.jurisdiction_id.as_deref())?;
    let lines = state.store().bus_lines(&jurisdiction.id).await?;
    Ok(Json(BusLineList {
        lines: lines
            .into_iter()
            .map(|l| BusLineView {
                id: l.id,
                short_name: l.short_name,
                long_name: l.long_name,
            })
            .collect(),
    }))
}

/// A line's stops in the order its buses serve them.
#[utoipa::path(
    get, path = "/api/v1/bus-lines/{id}/stops", tag = "places",
    params(("id" = String, Path, description = "The line's GTFS route_id"), NetworkQuery),
    responses(
        (status = 200, description = "Stops in order", body = BusStopList),
        (status = 404, description = "No such line", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bus_line_stops(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<NetworkQuery>,
) -> ApiResult<Json<BusStopList>> {
    let jurisdiction = jurisdiction(&state, query.jurisdiction_id.as_deref())?;
    let stops = state
        .store()
        .bus_line_stops(&jurisdiction.id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(BusStopList {
        line_id: id,
        stops: stops
            .into_iter()
            .map(|s| BusStopView {
                id: s.id,
                name: s.name,
                lat: s.point.lat(),
                lon: s.point.lon(),
            })
            .collect(),
    }))
}
