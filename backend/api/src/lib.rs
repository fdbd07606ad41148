//! Balagh's HTTP API: `/api/v1` for residents' apps, health and metrics for operations, and
//! the OpenAPI document with its docs page (assets served by the binary, no CDN).

pub mod abuse;
pub mod auth;
pub mod compression;
pub mod extract;
pub mod limits;
pub mod open311;
pub mod params;
pub mod problem;
mod problem_docs;
pub mod pseudonyms;
pub mod routes;
pub mod sms;
pub mod state;
mod telemetry;
mod web;
pub use web::screen::ScreensConfig;

pub use state::{ApiSettings, AppState};

use crate::problem::ApiError;
use crate::routes::{
    accounts, admin, catalog_admin, devices, health, reports, services, sla as sla_routes, staff,
    tickets, webhooks,
};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// Largest zone file accepted by `POST /api/v1/staff/zones`.
const ZONE_IMPORT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Where its interactive docs page is served.
pub const DOCS_PATH: &str = "/api/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Balagh API",
        description = "Report public-service problems (waste collection, street lighting, urban \
            transport) to the commune and the operator in charge. Errors are RFC 9457 problem \
            details (application/problem+json).",
        license(name = "AGPL-3.0-or-later"),
    ),
    modifiers(&DeviceTokenScheme),
    tags(
        (name = "devices", description = "Register a resident's device"),
        (name = "services", description = "What can be reported"),
        (name = "reports", description = "Submit and follow reports"),
        (name = "places", description = "Named places and bus lines and stops: locating a report without a map"),
        (name = "photos", description = "Photos of reports: upload, confirm, view, moderate"),
        (name = "accounts", description = "Log in, tokens, users"),
        (name = "operator", description = "An operator's ticket queue"),
        (name = "staff", description = "Commune staff: triage and moderation"),
        (name = "push", description = "Push notifications: device registration, following reports"),
        (name = "notices", description = "Service notices for an area: interruptions, delays, diversions"),
        (name = "sla", description = "SLA calendars, policies, disputes and penalty statements"),
        (name = "statistics", description = "Public statistics (anonymised, no login) and the staff dashboard's data"),
        (name = "open-data", description = "Open data: DCAT-AP catalogue, data dictionary, CSV / JSON / GeoJSON files"),
        (name = "open311", description = "API keys of Open311 GeoReport v2 clients (the endpoints themselves are under /open311/v2)"),
        (name = "sms", description = "SMS gateways of the commune (residents report and follow up by SMS)"),
        (name = "screens", description = "Screens in the commune's reception areas: registration by staff, the content each screen polls"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct DeviceTokenScheme;

impl Modify for DeviceTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("balagh_session"))),
        );
    }
}

/// The API's routes and their OpenAPI description, built together so they cannot disagree.
fn api_routes(photo_body_limit: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    // Photo uploads are larger than any JSON body: the multipart route gets its own limit
    // (the signed PUT route reads its body with the photo limit itself).
    let photo_uploads = OpenApiRouter::new()
        .routes(routes!(
            routes::photos::list_photos,
            routes::photos::upload_multipart
        ))
        .layer(DefaultBodyLimit::max(photo_body_limit));
    // Zone files are larger than any other body: the import route gets its own limit.
    let zone_import = OpenApiRouter::new()
        .routes(routes!(routes::catalog_admin::import_zones))
        .layer(DefaultBodyLimit::max(ZONE_IMPORT_MAX_BYTES));
    let routes = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(photo_uploads)
        .merge(zone_import)
        .routes(routes!(routes::photos::create_report_upload))
        .routes(routes!(routes::photos::create_draft_upload))
        .routes(routes!(routes::photos::put_upload))
        .routes(routes!(routes::photos::confirm_upload))
        .routes(routes!(routes::photos::attach_photos))
        .routes(routes!(routes::photos::public_photos))
        .routes(routes!(routes::photos::moderate_photo))
        .routes(routes!(routes::photos::photo_file))
        .routes(routes!(devices::register_device))
        .routes(routes!(services::list_services))
        .routes(routes!(routes::places::search_places))
        .routes(routes!(routes::places::bus_lines))
        .routes(routes!(routes::places::bus_line_stops))
        .routes(routes!(reports::create_report))
        .routes(routes!(reports::nearby_reports))
        .routes(routes!(reports::get_report))
        .routes(routes!(routes::my_reports::my_reports))
        .routes(routes!(routes::my_reports::reply_to_operator))
        .routes(routes!(reports::support_report))
        .routes(routes!(reports::confirm_report))
        .routes(routes!(reports::reopen_report))
        .routes(routes!(reports::rate_report))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::list_tokens, accounts::create_token))
        .routes(routes!(accounts::change_password))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::update_user))
        .routes(routes!(tickets::list_tickets))
        .routes(routes!(tickets::get_ticket))
        .routes(routes!(tickets::ticket_action))
        .routes(routes!(tickets::assign_ticket))
        .routes(routes!(tickets::comment_ticket))
        .routes(routes!(staff::triage, catalog_admin::assisted_report))
        .routes(routes!(catalog_admin::put_service))
        .routes(routes!(
            routes::service_groups::list_groups,
            routes::service_groups::create_group
        ))
        .routes(routes!(routes::service_groups::update_group))
        .routes(routes!(routes::service_media::put_media))
        .routes(routes!(catalog_admin::list_operators))
        .routes(routes!(catalog_admin::list_contracts))
        .routes(routes!(staff::get_report))
        .routes(routes!(staff::report_action))
        .routes(routes!(staff::moderate))
        .routes(routes!(staff::set_priority))
        .routes(routes!(staff::comment_report))
        .routes(routes!(webhooks::set_endpoint))
        .routes(routes!(webhooks::operator_deliveries))
        .routes(routes!(webhooks::operator_replay))
        .routes(routes!(webhooks::staff_deliveries))
        .routes(routes!(webhooks::staff_replay))
        .routes(routes!(sla_routes::get_calendar, sla_routes::put_calendar))
        .routes(routes!(sla_routes::list_policies, sla_routes::add_policy))
        .routes(routes!(sla_routes::recompute))
        .routes(routes!(sla_routes::open_dispute))
        .routes(routes!(sla_routes::operator_disputes))
        .routes(routes!(sla_routes::staff_disputes))
        .routes(routes!(sla_routes::decide_dispute))
        .routes(routes!(sla_routes::staff_statement))
        .routes(routes!(sla_routes::operator_statement))
        .routes(routes!(sla_routes::my_notifications))
        .routes(routes!(open311::keys::list_keys, open311::keys::create_key))
        .routes(routes!(open311::keys::revoke_key))
        .routes(routes!(
            routes::push::get_registration,
            routes::push::put_registration,
            routes::push::delete_registration
        ))
        .routes(routes!(routes::push::web_push_key))
        .routes(routes!(routes::push::follow, routes::push::unfollow))
        .routes(routes!(
            routes::push::notices_near,
            routes::push::publish_notice
        ))
        .routes(routes!(
            routes::push::get_notice,
            routes::push::withdraw_notice
        ))
        .routes(routes!(
            routes::screens::list_screens,
            routes::screens::create_screen
        ))
        .routes(routes!(
            routes::screens::update_screen,
            routes::screens::revoke_screen
        ))
        .routes(routes!(
            routes::sms_gateways::list_gateways,
            routes::sms_gateways::create_gateway
        ))
        .routes(routes!(routes::sms_gateways::disable_gateway))
        .routes(routes!(routes::screens::clear_urgency))
        .routes(routes!(routes::screens::screen_content))
        .routes(routes!(routes::push::staff_push_deliveries))
        .routes(routes!(routes::push::staff_push_replay))
        .routes(routes!(routes::stats::summary))
        .routes(routes!(routes::stats::services))
        .routes(routes!(routes::stats::operators))
        .routes(routes!(routes::stats::cells))
        .routes(routes!(routes::stats::indicators))
        .routes(routes!(routes::open_data::catalog))
        .routes(routes!(routes::open_data::dictionary_json))
        .routes(routes!(routes::open_data::dictionary_csv))
        .routes(routes!(routes::open_data::open_data_file))
        .routes(routes!(routes::stats::dashboard))
        .routes(routes!(routes::stats::privacy_ledger))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .split_for_parts();
    let (router, mut openapi) = routes;
    problem_docs::document_errors(&mut openapi);
    (router, openapi)
}

/// The OpenAPI document, e.g. for generating clients.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes(0).1
}

/// Room for the multipart envelope around a photo at the size limit.
const MULTIPART_OVERHEAD_BYTES: usize = 64 * 1024;

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    let settings = state.settings().clone();
    let (routes, openapi) = api_routes(settings.photos.limits.max_bytes + MULTIPART_OVERHEAD_BYTES);
    routes
        .merge(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, openapi))
        .merge(web::routes(
            settings.photos.limits.max_bytes + MULTIPART_OVERHEAD_BYTES,
        ))
        .merge(open311::routes())
        .merge(sms::inbound::routes())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        // Textual bodies gzipped for clients that accept it (assets come compressed already).
        .layer(axum::middleware::from_fn(compression::compress))
        // Limits before anything reads the body or the database; their 429s are counted.
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(limits::Limiter::new(&settings.rate_limits)),
            limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn(telemetry::record_metrics))
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            limits::time_limit,
        ))
        .layer(CatchPanicLayer::custom(telemetry::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            limits::HeaderPolicy {
                hsts: settings.secure_cookies,
            },
            limits::security_headers,
        ))
        .layer(axum::middleware::from_fn(limits::close_after_refusal))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(telemetry::trace_layer())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
