//! The forms of a ticket: its status actions, assignment and comments (urlencoded), and
//! the resolution with its evidence photo (multipart, from the tablet's camera). Each
//! calls the same functions as the API; the answer is the ticket page again (303), or the
//! ticket as it is now with what went wrong.

use super::ticket::show;
use crate::auth::principal::{OperatorCaller, constant_time_eq};
use crate::problem::ApiError;
use crate::routes::tickets::{action_texts, assign, comment_at, operator_action};
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::session::OperatorSession;
use crate::web::templates::Words;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use balagh_app::lifecycle::Extras;
use balagh_domain::Language;
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::Action;
use balagh_store::{PhotoPurpose, StoredReport, Uploader};
use balagh_wire::CommentRequest;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf_token: String,
    version: i64,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    public: Option<String>,
}

/// Where a form leads when it worked: the ticket, in the same language.
fn back_to(id: Uuid, language: Language) -> Response {
    Redirect::to(&format!("/operator/tickets/{id}?lang={}", language.code())).into_response()
}

/// The operator's ticket, or `None` (404 page).
async fn own(
    state: &AppState,
    session: &OperatorSession,
    id: &str,
) -> Result<Option<StoredReport>, ApiError> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    Ok(state
        .store()
        .report(id)
        .await?
        .filter(|r| r.operator == Some(session.operator)))
}

fn caller(session: &OperatorSession) -> OperatorCaller {
    OperatorCaller {
        user: session.user.clone(),
        operator: session.operator,
    }
}

/// What went wrong, in the agent's words (`None`: not the agent's to fix, answered as the
/// API would).
fn message(w: &Words, error: &ApiError) -> Option<(StatusCode, String)> {
    let field_message = |field: &str| match field {
        "note" => "op-error-note",
        "reason" => "op-error-reason",
        "agent_id" => "op-error-agent",
        _ => "op-error-comment",
    };
    match error {
        ApiError::PreconditionFailed { .. } => Some((StatusCode::CONFLICT, w.t("op-error-stale"))),
        ApiError::CsrfMismatch => Some((StatusCode::FORBIDDEN, w.t("op-error-csrf"))),
        ApiError::IllegalTransition { .. } => Some((StatusCode::CONFLICT, w.t("op-error-illegal"))),
        ApiError::Validation(errors) => {
            let field = errors.first().map(|e| e.field.as_str()).unwrap_or("");
            Some((StatusCode::UNPROCESSABLE_ENTITY, w.t(field_message(field))))
        }
        ApiError::Photo(_) | ApiError::UnsupportedMediaType | ApiError::PayloadTooLarge => {
            let problem = error.problem();
            let status =
                StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            Some((status, w.t1("op-error-photo", "why", problem.title)))
        }
        _ => None,
    }
}

/// The ticket page with the error, or the API's answer to it.
async fn failed(
    state: &AppState,
    session: &OperatorSession,
    language: Language,
    headers: &HeaderMap,
    id: Uuid,
    error: ApiError,
) -> Response {
    match message(&Words::new(language), &error) {
        Some(shown) => show(state, session, language, headers, id, Some(shown)).await,
        None => error.into_response(),
    }
}

pub async fn ticket_action(
    State(state): State<AppState>,
    session: OperatorSession,
    PageLanguage(language): PageLanguage,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    WebForm(form): WebForm<ActionForm>,
) -> Response {
    let report = match own(&state, &session, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return super::ticket::missing(
                &session,
                language,
                &"/operator/queue".parse().unwrap_or_default(),
            );
        }
        Err(e) => return e.into_response(),
    };
    if !constant_time_eq(form.csrf_token.as_bytes(), session.csrf_token.as_bytes()) {
        let error = ApiError::CsrfMismatch;
        return failed(&state, &session, language, &headers, report.id, error).await;
    }
    let done = match action.as_str() {
        "assign" => assign_form(&state, &session, &report, &form).await,
        "comment" => {
            let body = CommentRequest {
                text: form.text.clone().unwrap_or_default(),
                public: matches!(form.public.as_deref(), Some("1" | "on" | "true")),
            };
            comment_at(
                &state,
                &report,
                form.version,
                Actor::User(session.user.id),
                body,
            )
            .await
        }
        // A resolution comes with its photo through `resolve` (multipart).
        "resolve" => Err(ApiError::NotFound),
        raw => match operator_action(raw) {
            Some(action) => status_action(&state, &session, &report, action, &form).await,
            None => Err(ApiError::NotFound),
        },
    };
    match done {
        Ok(_) => back_to(report.id, language),
        Err(e) => failed(&state, &session, language, &headers, report.id, e).await,
    }
}

async fn status_action(
    state: &AppState,
    session: &OperatorSession,
    report: &StoredReport,
    action: Action,
    form: &ActionForm,
) -> Result<StoredReport, ApiError> {
    let (note, reason) = action_texts(action, form.note.as_deref(), form.reason.as_deref())?;
    let extras = Extras {
        note,
        reason,
        ..Extras::default()
    };
    Ok(balagh_app::lifecycle::apply(
        state,
        report,
        form.version,
        Actor::User(session.user.id),
        action,
        extras,
    )
    .await?)
}

async fn assign_form(
    state: &AppState,
    session: &OperatorSession,
    report: &StoredReport,
    form: &ActionForm,
) -> Result<StoredReport, ApiError> {
    let agent = match form.agent.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| {
            ApiError::from(balagh_domain::FieldError::new(
                "agent_id",
                "is not a user id",
            ))
        })?),
    };
    assign(state, &caller(session), report, form.version, agent).await
}

/// The fields of the resolution form.
#[derive(Debug, Default)]
struct ResolveForm {
    csrf_token: String,
    version: Option<i64>,
    note: Option<String>,
    photo: Option<bytes::Bytes>,
}

async fn read_resolve_form(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<ResolveForm, ApiError> {
    let mut multipart = multipart.map_err(|_| ApiError::UnsupportedMediaType)?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::MalformedBody(e.body_text())
        }
    };
    let mut form = ResolveForm::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or("") {
            "csrf_token" => form.csrf_token = field.text().await.map_err(unreadable)?,
            "version" => form.version = field.text().await.map_err(unreadable)?.trim().parse().ok(),
            "note" => form.note = Some(field.text().await.map_err(unreadable)?),
            "photo" => {
                let bytes = field.bytes().await.map_err(unreadable)?;
                // A file input left empty sends an empty part.
                form.photo = (!bytes.is_empty()).then_some(bytes);
            }
            _ => {}
        }
    }
    Ok(form)
}

/// Resolves the ticket with a note and, if one was taken, an evidence photo (processed
/// like every photo: checked, made upright, stripped of metadata).
pub async fn resolve(
    State(state): State<AppState>,
    session: OperatorSession,
    PageLanguage(language): PageLanguage,
    headers: HeaderMap,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let report = match own(&state, &session, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return super::ticket::missing(
                &session,
                language,
                &"/operator/queue".parse().unwrap_or_default(),
            );
        }
        Err(e) => return e.into_response(),
    };
    let form = match read_resolve_form(multipart).await {
        Ok(f) => f,
        Err(e) => return failed(&state, &session, language, &headers, report.id, e).await,
    };
    if !constant_time_eq(form.csrf_token.as_bytes(), session.csrf_token.as_bytes()) {
        let error = ApiError::CsrfMismatch;
        return failed(&state, &session, language, &headers, report.id, error).await;
    }
    match resolve_with_photo(&state, &session, report.clone(), form).await {
        Ok(_) => back_to(report.id, language),
        Err(e) => failed(&state, &session, language, &headers, report.id, e).await,
    }
}

async fn resolve_with_photo(
    state: &AppState,
    session: &OperatorSession,
    report: StoredReport,
    form: ResolveForm,
) -> Result<StoredReport, ApiError> {
    let version = form.version.ok_or(ApiError::PreconditionRequired)?;
    let (note, _) = action_texts(Action::Resolve, form.note.as_deref(), None)?;
    // Refuse a stale or impossible resolution before keeping any photo.
    balagh_domain::lifecycle::transition(report.status, Action::Resolve).map_err(|e| {
        ApiError::IllegalTransition {
            message: e.to_string(),
            allowed: Vec::new(),
        }
    })?;
    if version != report.version {
        return Err(ApiError::PreconditionFailed {
            current_etag: crate::params::etag(report.version),
        });
    }
    let (report, evidence_photo) = match form.photo {
        None => (report, None),
        Some(bytes) => {
            let processed = balagh_app::photos::process(state, bytes).await?;
            let uploader = Uploader::Operator {
                user: session.user.id,
                operator: session.operator,
            };
            let photo = balagh_app::photos::store_processed(
                state,
                Uuid::now_v7(),
                Some(&report),
                uploader,
                PhotoPurpose::Evidence,
                processed,
            )
            .await?;
            // The photo's event may have moved the report on: resolve what is there now.
            let now = state
                .store()
                .report(report.id)
                .await?
                .ok_or(ApiError::NotFound)?;
            (now, Some(photo.id.to_string()))
        }
    };
    let extras = Extras {
        note,
        evidence_photo,
        ..Extras::default()
    };
    let version = report.version;
    Ok(balagh_app::lifecycle::apply(
        state,
        &report,
        version,
        Actor::User(session.user.id),
        Action::Resolve,
        extras,
    )
    .await?)
}
