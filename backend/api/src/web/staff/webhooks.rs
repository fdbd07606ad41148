//! Operators' webhook health: per operator of the commune, its endpoint, the last delivery,
//! deliveries being retried with their last error, and dead letters with a retry button
//! (the same replay as `/api/v1/staff/operators/{id}/webhook/deliveries/{id}/replay`).

use super::{Area, Shell, StaffSession, check_csrf, plain_assets, respond, see_other, writer};
use crate::auth::principal::Staff;
use crate::problem::ApiError;
use crate::routes::webhooks::staff_replay;
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_store::{OutboxMessage, OutboxState, Ts};
use serde::Deserialize;
use std::marker::PhantomData;

/// Deliveries read per operator and state.
const LIMIT: u32 = 50;

#[derive(Debug)]
struct Delivery {
    id: String,
    event: String,
    created: String,
    attempts: i32,
    error: String,
}

#[derive(Debug)]
struct Health {
    id: String,
    name: String,
    endpoint: Option<String>,
    /// `ok`, `failing`, `dead` or `none` (no endpoint).
    state: &'static str,
    last_delivered: Option<String>,
    retrying: Vec<Delivery>,
    dead: Vec<Delivery>,
    /// The lists stopped at [`LIMIT`].
    more: bool,
}

#[derive(Template)]
#[template(path = "staff/webhooks.html")]
struct WebhooksPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    operators: Vec<Health>,
    done: bool,
}

#[derive(Debug, Deserialize)]
pub struct WebhooksParams {
    done: Option<String>,
}

fn delivery(local: &(dyn Fn(Ts) -> String + Sync), m: &OutboxMessage) -> Delivery {
    Delivery {
        id: m.id.to_string(),
        event: m.event_type.clone(),
        created: local(m.created_at),
        attempts: m.attempts,
        error: m.last_error.clone().unwrap_or_default(),
    }
}

async fn health(
    state: &AppState,
    local: &(dyn Fn(Ts) -> String + Sync),
    operator: balagh_domain::OperatorId,
    name: String,
) -> Result<Health, ApiError> {
    let store = state.store();
    let endpoint = store.webhook_endpoint(operator).await?.filter(|e| e.active);
    let dead = store
        .outbox_messages(operator, OutboxState::Dead, LIMIT)
        .await?;
    let pending = store
        .outbox_messages(operator, OutboxState::Pending, LIMIT)
        .await?;
    let delivered = store
        .outbox_messages(operator, OutboxState::Delivered, 1)
        .await?;
    let retrying: Vec<&OutboxMessage> = pending.iter().filter(|m| m.attempts > 0).collect();
    let state = match (&endpoint, dead.is_empty(), retrying.is_empty()) {
        (None, _, _) => "none",
        (Some(_), false, _) => "dead",
        (Some(_), true, false) => "failing",
        (Some(_), true, true) => "ok",
    };
    Ok(Health {
        id: operator.0.to_string(),
        name,
        state,
        // Without an endpoint, events are settled as delivered with nothing sent: no
        // delivery to show.
        last_delivered: delivered
            .first()
            .filter(|_| endpoint.is_some())
            .map(|m| local(m.delivered_at.unwrap_or(m.created_at))),
        endpoint: endpoint.map(|e| e.url),
        more: dead.len() as u32 >= LIMIT || pending.len() as u32 >= LIMIT,
        retrying: retrying.into_iter().map(|m| delivery(local, m)).collect(),
        dead: dead.iter().map(|m| delivery(local, m)).collect(),
    })
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(params): Query<WebhooksParams>,
) -> Response {
    if let Err(refused) = writer(&session) {
        return refused.into_response();
    }
    let w = Words::new(language);
    let catalog = state.catalog();
    let local = |at: Ts| {
        catalog
            .jurisdiction(&session.jurisdiction)
            .map_or_else(|| at.get().to_string(), |j| j.local_time(at.get()))
    };
    let mut operators: Vec<(balagh_domain::OperatorId, String)> = catalog
        .operators_of(&session.jurisdiction)
        .map(|o| (o.operator.id, o.operator.name.clone()))
        .collect();
    operators.sort_by(|a, b| a.1.cmp(&b.1));
    operators.dedup_by_key(|o| o.0);
    let mut shown = Vec::with_capacity(operators.len());
    for (id, name) in operators {
        match health(&state, &local, id, name).await {
            Ok(h) => shown.push(h),
            Err(e) => return e.into_response(),
        }
    }
    let page = WebhooksPage {
        w,
        assets: plain_assets(),
        shell: Shell::new(&session, w, Area::Webhooks, "/staff/webhooks"),
        lang: language.code(),
        operators: shown,
        done: params.done.is_some(),
    };
    respond(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct RetryForm {
    csrf_token: String,
}

pub async fn retry(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path((operator, id)): Path<(String, String)>,
    WebForm(form): WebForm<RetryForm>,
) -> Response {
    if let Err(refused) = check_csrf(&session, &form.csrf_token) {
        return refused.into_response();
    }
    let caller = match writer(&session) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    match staff_replay(
        State(state),
        Staff(caller, PhantomData),
        Path((operator, id)),
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/staff/webhooks?lang={}&done=retry",
            language.code()
        )),
        Err(e) => e.into_response(),
    }
}
