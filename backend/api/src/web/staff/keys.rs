//! API keys of Open311 clients (FixMyStreet and the like): staff administrators list them,
//! issue one (its secret is shown once, on the answer to the form) and revoke one. The
//! same handlers as `/api/v1/staff/open311-keys`.

use super::{Area, Shell, StaffSession, admin, check_csrf, plain_assets, refusal};
use super::{respond, see_other};
use crate::auth::principal::Staff;
use crate::extract::ApiJson;
use crate::open311::keys::{NewOpen311KeyRequest, Open311KeyView, create_key, list_keys};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::marker::PhantomData;

#[derive(Debug)]
struct Row {
    id: String,
    name: String,
    created: String,
    revoked: Option<String>,
}

/// A key just issued, shown this once.
#[derive(Debug)]
struct Issued {
    name: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "staff/keys.html")]
struct KeysPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    rows: Vec<Row>,
    issued: Option<Issued>,
    error: Option<String>,
    name: String,
    revoked: bool,
}

#[derive(Debug, Deserialize)]
pub struct KeysParams {
    done: Option<String>,
}

async fn render(
    state: &AppState,
    session: &StaffSession,
    w: Words,
    issued: Option<Issued>,
    error: Option<String>,
    name: String,
    revoked: bool,
) -> Result<KeysPage, ApiError> {
    let staff = admin(session)?;
    let axum::Json(keys) = list_keys(State(state.clone()), Staff(staff, PhantomData)).await?;
    let catalog = state.catalog();
    let local = |at: time::OffsetDateTime| {
        catalog
            .jurisdiction(&session.jurisdiction)
            .map_or_else(|| at.to_string(), |j| j.local_time(at))
    };
    let mut rows: Vec<Row> = keys
        .into_iter()
        .map(|k: Open311KeyView| Row {
            id: k.id.to_string(),
            name: k.name,
            created: local(k.created_at),
            revoked: k.revoked_at.map(local),
        })
        .collect();
    rows.sort_by_key(|r| r.revoked.is_some());
    Ok(KeysPage {
        w,
        assets: plain_assets(),
        shell: Shell::new(session, w, Area::Keys, "/staff/open311-keys"),
        lang: w.language.code(),
        rows,
        issued,
        error,
        name,
        revoked,
    })
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(params): Query<KeysParams>,
) -> Response {
    let w = Words::new(language);
    let revoked = params.done.as_deref() == Some("revoked");
    match render(&state, &session, w, None, None, String::new(), revoked).await {
        Ok(page) => respond(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    csrf_token: String,
    #[serde(default)]
    name: String,
}

/// Issues a key and answers with the page showing it once (no redirect: the secret is
/// not kept anywhere it could be shown again).
pub async fn create(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    WebForm(form): WebForm<CreateForm>,
) -> Response {
    if let Err(refused) = check_csrf(&session, &form.csrf_token) {
        return refused.into_response();
    }
    let staff = match admin(&session) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let w = Words::new(language);
    let body = NewOpen311KeyRequest {
        name: form.name.clone(),
    };
    let (status, issued, error, name) = match create_key(
        State(state.clone()),
        Staff(staff, PhantomData),
        ApiJson(body),
    )
    .await
    {
        Ok((_, axum::Json(created))) => (
            StatusCode::CREATED,
            Some(Issued {
                name: created.info.name,
                secret: created.key,
            }),
            None,
            String::new(),
        ),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(refusal(w, &e)),
            form.name,
        ),
    };
    match render(&state, &session, w, issued, error, name, false).await {
        Ok(page) => {
            let mut response = respond(status, &page);
            // The secret must not stay in a cache.
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf_token: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path(id): Path<String>,
    WebForm(form): WebForm<RevokeForm>,
) -> Response {
    if let Err(refused) = check_csrf(&session, &form.csrf_token) {
        return refused.into_response();
    }
    let staff = match admin(&session) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    match crate::open311::keys::revoke_key(State(state), Staff(staff, PhantomData), Path(id)).await
    {
        Ok(_) => see_other(&format!(
            "/staff/open311-keys?lang={}&done=revoked",
            language.code()
        )),
        Err(e) => e.into_response(),
    }
}
