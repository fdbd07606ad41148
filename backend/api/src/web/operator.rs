//! The operator agent's pages.

use super::form::WebForm;
use super::html::{esc, page};
use super::session::OperatorSession;
use crate::actions::{self, Extras};
use crate::auth::principal::{constant_time_eq, session_cookie};
use crate::auth::secrets;
use crate::catalog::Catalog;
use crate::problem::ApiError;
use crate::routes::accounts::{ClientAddress, start_session};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use balagh_domain::Language;
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::{Action, allowed_actions};
use balagh_store::{QueueQuery, StoredEvent, StoredReport, Ts};
use geo::BoundingRect;
use serde::Deserialize;
use std::fmt::Write;
use uuid::Uuid;

pub async fn home() -> Redirect {
    Redirect::to("/operator/queue")
}

fn login_form(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    format!(
        r#"<div class="card login"><h1>Connexion opérateur</h1>{error}
<form method="post" action="/operator/login">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Mot de passe</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Se connecter</button></p>
</form></div>"#
    )
}

pub async fn login_page() -> Response {
    page(StatusCode::OK, "Connexion", None, &login_form(None))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    WebForm(form): WebForm<LoginForm>,
) -> Response {
    match start_session(&state, &address, &form.email, &form.password).await {
        Ok(session) => match session.cookie(&state) {
            Ok(cookie) => {
                let mut response = Redirect::to("/operator/queue").into_response();
                response.headers_mut().insert(header::SET_COOKIE, cookie);
                response
            }
            Err(e) => e.into_response(),
        },
        Err(ApiError::BadCredentials) => page(
            StatusCode::UNAUTHORIZED,
            "Connexion",
            None,
            &login_form(Some("E-mail ou mot de passe incorrect.")),
        ),
        Err(ApiError::TooManyRequests {
            retry_after_seconds,
        }) => crate::web::with_retry_after(
            page(
                StatusCode::TOO_MANY_REQUESTS,
                "Connexion",
                None,
                &login_form(Some(&format!(
                    "Trop de tentatives : réessayez dans {} minutes.",
                    retry_after_seconds.div_ceil(60)
                ))),
            ),
            retry_after_seconds,
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf_token: String,
}

/// Ends the session (with its CSRF token, like every form that changes something).
pub async fn logout(
    State(state): State<AppState>,
    session: OperatorSession,
    parts: Parts,
    WebForm(form): WebForm<LogoutForm>,
) -> Response {
    if !constant_time_eq(form.csrf_token.as_bytes(), session.csrf_token.as_bytes()) {
        return ApiError::CsrfMismatch.into_response();
    }
    if let Some(cookie) = session_cookie(&parts) {
        let _ = state.store().delete_session(&secrets::hash(cookie)).await;
    }
    let mut response = Redirect::to("/operator/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("balagh_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

fn service_name(catalog: &Catalog, report: &StoredReport) -> String {
    catalog
        .service(&report.jurisdiction, &report.service_code)
        .map(|s| s.name.get(Language::Fr).to_owned())
        .unwrap_or_else(|| report.service_code.to_string())
}

fn local_time(catalog: &Catalog, report: &StoredReport, at: Ts) -> String {
    catalog
        .jurisdiction(&report.jurisdiction)
        .map(|j| j.local_time(at.get()))
        .unwrap_or_else(|| at.get().to_string())
}

pub async fn queue(State(state): State<AppState>, session: OperatorSession) -> Response {
    let tickets = match state
        .store()
        .ticket_queue(&QueueQuery {
            operator: session.operator,
            statuses: Vec::new(),
            service_codes: Vec::new(),
            contract: None,
            assignee: None,
            due_before: None,
            after: None,
            limit: 200,
        })
        .await
    {
        Ok(tickets) => tickets,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let catalog = state.catalog();
    let now = Ts::now();
    let mut rows = String::new();
    for t in &tickets {
        let overdue = t.due_at.is_some_and(|due| due < now);
        let _ = write!(
            rows,
            r#"<tr class="ticket{}"><td><a class="open" href="/operator/tickets/{}">{}</a></td><td>{}</td><td class="status"><span class="status">{}</span></td><td class="due">{}</td><td class="optional">{}</td></tr>"#,
            if overdue { " overdue" } else { "" },
            t.id,
            esc(t.reference.as_str()),
            esc(&service_name(&catalog, t)),
            esc(t.status.as_str()),
            t.due_at
                .map(|d| esc(&local_time(&catalog, t, d)))
                .unwrap_or_default(),
            esc(&local_time(&catalog, t, t.created_at)),
        );
    }
    if tickets.is_empty() {
        rows.push_str(r#"<tr class="empty"><td colspan="5">Aucun ticket ouvert.</td></tr>"#);
    }
    let body = format!(
        r#"<h1>File des tickets <small>({} ouverts, les plus urgents d'abord)</small></h1>
<table id="queue"><thead><tr><th scope="col">Référence</th><th scope="col">Service</th><th scope="col">Statut</th><th scope="col">Échéance</th><th scope="col" class="optional">Signalé le</th></tr></thead>
<tbody>{rows}</tbody></table>"#,
        tickets.len()
    );
    page(
        StatusCode::OK,
        "File des tickets",
        Some(session.viewer()),
        &body,
    )
}

/// The report's point inside its contract zone, as an inline SVG (no map tiles needed).
fn map_svg(catalog: &Catalog, report: &StoredReport) -> String {
    let zone = report.contract.and_then(|id| {
        catalog
            .router()
            .contracts()
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.zone.clone())
    });
    let (lon, lat) = (report.point.lon(), report.point.lat());
    let (mut min_x, mut min_y, mut max_x, mut max_y) =
        (lon - 0.005, lat - 0.005, lon + 0.005, lat + 0.005);
    if let Some(rect) = zone.as_ref().and_then(|z| z.bounding_rect()) {
        min_x = min_x.min(rect.min().x);
        min_y = min_y.min(rect.min().y);
        max_x = max_x.max(rect.max().x);
        max_y = max_y.max(rect.max().y);
    }
    // Equirectangular, scaled by cos(latitude) so the shapes are not stretched.
    let kx = lat.to_radians().cos();
    let width = 600.0;
    let height = (width * (max_y - min_y) / ((max_x - min_x) * kx)).clamp(150.0, 900.0);
    let x = |lon: f64| (lon - min_x) / (max_x - min_x) * width;
    let y = |lat: f64| (max_y - lat) / (max_y - min_y) * height;
    let mut shapes = String::new();
    if let Some(zone) = &zone {
        for polygon in &zone.0 {
            let points: Vec<String> = polygon
                .exterior()
                .coords()
                .map(|c| format!("{:.1},{:.1}", x(c.x), y(c.y)))
                .collect();
            let _ = write!(
                shapes,
                r##"<polygon points="{}" fill="#cfe3cf" stroke="#1a7f37" stroke-width="2"/>"##,
                points.join(" ")
            );
        }
    }
    format!(
        r##"<svg id="map" role="img" aria-label="Position du signalement dans la zone du contrat" viewBox="0 0 {width} {height:.0}" xmlns="http://www.w3.org/2000/svg">{shapes}<circle cx="{:.1}" cy="{:.1}" r="9" fill="#b42318" stroke="#fff" stroke-width="3"/></svg>"##,
        x(lon),
        y(lat)
    )
}

fn history_html(
    catalog: &Catalog,
    report: &StoredReport,
    events: &[StoredEvent],
    label_key: &[u8],
) -> String {
    let mut items = String::new();
    for e in events {
        let what = match e.data.get("action").and_then(|a| a.as_str()) {
            Some(action) => format!("{} : {action}", e.kind.as_str()),
            None => e.kind.as_str().to_owned(),
        };
        let note = ["note", "reason", "text"]
            .iter()
            .find_map(|k| e.data.get(*k).and_then(|v| v.as_str()))
            .map(|n| format!(" — « <bdi>{}</bdi> »", esc(n)))
            .unwrap_or_default();
        let _ = write!(
            items,
            "<li><time>{}</time> {}{note} <small>({})</small></li>",
            esc(&local_time(catalog, report, e.at)),
            esc(&what),
            esc(&crate::pseudonyms::actor_for_operator(label_key, report.id, &e.actor).shown()),
        );
    }
    format!(r#"<ol id="history">{items}</ol>"#)
}

fn ticket_page(
    state: &AppState,
    session: &OperatorSession,
    report: &StoredReport,
    events: &[StoredEvent],
    label_key: &[u8],
    error: Option<&str>,
) -> Response {
    let catalog = state.catalog();
    let allowed = allowed_actions(report.status);
    let hidden = |action: &str| {
        format!(
            r#"<input type="hidden" name="csrf_token" value="{}"><input type="hidden" name="version" value="{}"><input type="hidden" name="action" value="{action}">"#,
            esc(&session.csrf_token),
            report.version
        )
    };
    let mut forms = String::new();
    if allowed.contains(&Action::Acknowledge) {
        let _ = write!(
            forms,
            r#"<form id="acknowledge" class="action" method="post" action="/operator/tickets/{}/acknowledge">{}<button type="submit">Accuser réception</button></form>"#,
            report.id,
            hidden("acknowledge")
        );
    }
    if allowed.contains(&Action::Resolve) {
        let _ = write!(
            forms,
            r#"<form id="resolve" class="action" method="post" action="/operator/tickets/{}/resolve">{}<label for="note">Ce qui a été fait</label><textarea id="note" name="note" rows="3" required></textarea><p><button type="submit">Marquer résolu</button></p></form>"#,
            report.id,
            hidden("resolve")
        );
    }
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    let description = if report.description_hidden {
        "<em>Masqué par la modération</em>".to_owned()
    } else {
        format!("<bdi>{}</bdi>", esc(&report.description))
    };
    let body = format!(
        r#"<p><a href="/operator/queue">← File des tickets</a></p>
<h1>Ticket <span id="reference">{reference}</span></h1>{error}
<div class="grid">
<section class="card"><dl>
<dt>Statut</dt><dd><span id="status" class="status">{status}</span></dd>
<dt>Service</dt><dd>{service}</dd>
<dt>Description</dt><dd lang="">{description}</dd>
<dt>Signalé le</dt><dd>{created}</dd>
<dt>Échéance</dt><dd>{due}</dd>
<dt>Soutiens</dt><dd>{supporters}</dd>
<dt>Photo</dt><dd>Aucune photo</dd>
</dl>{forms}</section>
<section class="card">{map}<p><small>{lat:.5}, {lon:.5}</small></p></section>
</div>
<section class="card"><h2>Historique</h2>{history}</section>"#,
        reference = esc(report.reference.as_str()),
        status = esc(report.status.as_str()),
        service = esc(&service_name(&catalog, report)),
        created = esc(&local_time(&catalog, report, report.created_at)),
        due = report
            .due_at
            .map(|d| esc(&local_time(&catalog, report, d)))
            .unwrap_or_else(|| "—".to_owned()),
        supporters = report.supporters,
        map = map_svg(&catalog, report),
        lat = report.point.lat(),
        lon = report.point.lon(),
        history = history_html(&catalog, report, events, label_key),
    );
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    page(
        status,
        report.reference.as_str(),
        Some(session.viewer()),
        &body,
    )
}

async fn own_ticket(
    state: &AppState,
    session: &OperatorSession,
    id: &str,
) -> Result<StoredReport, Response> {
    let not_found = || {
        page(
            StatusCode::NOT_FOUND,
            "Introuvable",
            Some(session.viewer()),
            r#"<h1>Ticket introuvable</h1><p><a href="/operator/queue">← File des tickets</a></p>"#,
        )
    };
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    state
        .store()
        .report(id)
        .await
        .map_err(|e| ApiError::from(e).into_response())?
        .filter(|r| r.operator == Some(session.operator))
        .ok_or_else(not_found)
}

pub async fn ticket(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Response {
    let report = match own_ticket(&state, &session, &id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let events = state.store().report_events(report.id).await;
    match (events, state.resident_label_key().await) {
        (Ok(events), Ok(key)) => ticket_page(&state, &session, &report, &events, key, None),
        (Err(e), _) | (_, Err(e)) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf_token: String,
    version: i64,
    #[serde(default)]
    note: Option<String>,
}

pub async fn ticket_action(
    State(state): State<AppState>,
    session: OperatorSession,
    Path((id, action)): Path<(String, String)>,
    WebForm(form): WebForm<ActionForm>,
) -> Response {
    if !constant_time_eq(form.csrf_token.as_bytes(), session.csrf_token.as_bytes()) {
        return ApiError::CsrfMismatch.into_response();
    }
    let report = match own_ticket(&state, &session, &id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let action = match action.as_str() {
        "acknowledge" => Action::Acknowledge,
        "resolve" => Action::Resolve,
        _ => return ApiError::NotFound.into_response(),
    };
    let note = match actions::text("note", form.note.as_deref(), action == Action::Resolve) {
        Ok(note) => note,
        Err(_) => {
            return render_error(&state, &session, &report, "Décrivez ce qui a été fait.").await;
        }
    };
    let extras = Extras {
        note,
        ..Extras::default()
    };
    match actions::apply(
        &state,
        &report,
        form.version,
        Actor::User(session.user.id),
        action,
        extras,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/operator/tickets/{}", report.id)).into_response(),
        Err(ApiError::PreconditionFailed { .. }) => {
            render_error(
                &state,
                &session,
                &report,
                "Quelqu'un a modifié ce ticket entre-temps : voici son état actuel.",
            )
            .await
        }
        Err(ApiError::IllegalTransition { .. }) => {
            render_error(
                &state,
                &session,
                &report,
                "Cette action n'est plus possible dans ce statut.",
            )
            .await
        }
        Err(e) => e.into_response(),
    }
}

/// The ticket as it is now, with a message.
async fn render_error(
    state: &AppState,
    session: &OperatorSession,
    stale: &StoredReport,
    message: &str,
) -> Response {
    let current = match state.store().report(stale.id).await {
        Ok(Some(r)) => r,
        Ok(None) => return ApiError::NotFound.into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let events = state.store().report_events(current.id).await;
    match (events, state.resident_label_key().await) {
        (Ok(events), Ok(key)) => ticket_page(state, session, &current, &events, key, Some(message)),
        (Err(e), _) | (_, Err(e)) => ApiError::from(e).into_response(),
    }
}
