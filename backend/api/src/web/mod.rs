//! Server-rendered pages for operator agents: log in, the queue sorted by due time, a ticket
//! with its map position and history, acknowledge and resolve. No JavaScript; forms carry
//! the session's CSRF token; works on a modest laptop and a tablet.

mod html;
mod operator;
mod session;

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

const STYLESHEET: &str = include_str!("app.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", get(operator::home))
        .route("/operator/login", get(operator::login_page).post(operator::login))
        .route("/operator/logout", post(operator::logout))
        .route("/operator/queue", get(operator::queue))
        .route("/operator/tickets/{id}", get(operator::ticket))
        .route("/operator/tickets/{id}/{action}", post(operator::ticket_action))
        .route(
            "/operator/static/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET) }),
        )
        // Pages load nothing from elsewhere and run no script; they may not be framed.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
