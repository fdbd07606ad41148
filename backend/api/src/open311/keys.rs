//! API keys of Open311 clients: issued and revoked by staff administrators (here, or with
//! `balagh open311-key`), stored as SHA-256 hashes, shown once.

use crate::auth::principal::{Staff, StaffAdmin};
use crate::auth::secrets;
use crate::extract::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use balagh_domain::{FieldError, JurisdictionId};
use balagh_store::{NewOpen311Key, Open311Key, Store, Ts};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Prefix of Open311 API keys, so that a leaked one is recognisable.
pub const KEY_PREFIX: &str = "o311_";

/// An Open311 client's key (never the key itself).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Open311KeyView {
    pub id: Uuid,
    pub jurisdiction_id: String,
    /// The client system, e.g. "FixMyStreet".
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
}

/// A key just issued: `key` is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedOpen311Key {
    #[serde(flatten)]
    pub info: Open311KeyView,
    /// The `api_key` the client sends with `POST requests`.
    pub key: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOpen311KeyRequest {
    /// The client system, 1–100 characters.
    pub name: String,
}

pub fn key_view(key: &Open311Key) -> Open311KeyView {
    Open311KeyView {
        id: key.id,
        jurisdiction_id: key.jurisdiction.to_string(),
        name: key.name.clone(),
        created_at: key.created_at.get(),
        revoked_at: key.revoked_at.map(Ts::get),
    }
}

/// Checks a client's name.
pub fn key_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "must be 1-100 characters, no control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Issues a key: returns it with the secret, which is not stored (only its hash is).
pub async fn issue_key(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    name: &str,
    created_by: Option<Uuid>,
) -> Result<(Open311Key, String), balagh_store::StoreError> {
    let secret = secrets::generate(KEY_PREFIX);
    let key = NewOpen311Key {
        id: Uuid::now_v7(),
        jurisdiction: jurisdiction.clone(),
        name: name.to_owned(),
        key_hash: secrets::hash(&secret),
        created_by,
        created_at: Ts::now(),
    };
    store.create_open311_key(&key).await?;
    Ok((
        Open311Key {
            id: key.id,
            jurisdiction: key.jurisdiction,
            name: key.name,
            created_by,
            created_at: key.created_at,
            revoked_at: None,
        },
        secret,
    ))
}

/// The Open311 clients' keys of your commune, revoked ones included.
#[utoipa::path(get, path = "/api/v1/staff/open311-keys", tag = "open311",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Keys (never the secrets)", body = [Open311KeyView]),
        (status = 403, description = "Not a staff administrator", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_keys(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
) -> ApiResult<Json<Vec<Open311KeyView>>> {
    let keys = state
        .store()
        .open311_keys(Some(&caller.jurisdiction))
        .await?;
    Ok(Json(keys.iter().map(key_view).collect()))
}

/// Issues an `api_key` for an Open311 client of your commune; the key is shown once.
#[utoipa::path(post, path = "/api/v1/staff/open311-keys", tag = "open311",
    request_body = NewOpen311KeyRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Issued", body = CreatedOpen311Key),
        (status = 403, description = "Not a staff administrator", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_key(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    ApiJson(body): ApiJson<NewOpen311KeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedOpen311Key>)> {
    let name = key_name(&body.name)?;
    let (key, secret) = issue_key(
        state.store(),
        &caller.jurisdiction,
        &name,
        Some(caller.user.id),
    )
    .await?;
    tracing::info!(key_id = %key.id, name = %key.name, "open311 key issued");
    Ok((
        StatusCode::CREATED,
        Json(CreatedOpen311Key {
            info: key_view(&key),
            key: secret,
        }),
    ))
}

/// Revokes an Open311 client's key at once: its `POST requests` get 403 from then on.
#[utoipa::path(delete, path = "/api/v1/staff/open311-keys/{id}", tag = "open311",
    params(("id" = Uuid, Path, description = "Key id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such active key in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    if state
        .store()
        .revoke_open311_key(Some(&caller.jurisdiction), id, Ts::now())
        .await?
    {
        tracing::info!(key_id = %id, "open311 key revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
