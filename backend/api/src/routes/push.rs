//! Residents' push registrations and report following; service notices (published by staff
//! or an operator, read by anyone); push deliveries for staff.

use crate::auth::principal::{AnyStaff, Caller, Staff, StaffAdmin};
use crate::extract::{AcceptLanguage, ApiJson, ApiQuery, DeviceAuth};
use crate::problem::{ApiError, ApiResult};
use crate::routes::webhooks::{DeliveriesParams, delivery_view, parse_state};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use balagh_app::notify::{
    notice_area, notice_fanout, notice_view, parse_service_codes, parse_texts, texts_json,
};
use balagh_domain::account::Scope;
use balagh_domain::notify::{AreaOfInterest, NoticeArea, NoticeKind, NoticeWindow, QuietHours};
use balagh_domain::{FieldError, GeoPoint, JurisdictionId, Language, OperatorId};
use balagh_store::{PushChannel, PushRegistration, StoredArea, StoredNotice, Ts};
use balagh_wire::{
    AreaOfInterestView, DeliveryView, FollowView, NewNoticeRequest, NoticeList, NoticeView,
    PushRegistrationRequest, PushRegistrationView, QuietHoursView, WebPushKeyView,
};
use base64::Engine;
use serde::Deserialize;
use uuid::Uuid;

/// Quiet hours are read in this zone unless the device names its own.
const DEFAULT_TIME_ZONE: &str = "Africa/Casablanca";

fn registration_view(r: &PushRegistration) -> PushRegistrationView {
    PushRegistrationView {
        channel: r.channel.kind().to_owned(),
        language: r.language.clone(),
        time_zone: r.time_zone.clone(),
        quiet_hours: r
            .quiet_hours
            .and_then(|(s, e)| QuietHours::from_minutes(s, e))
            .map(|q| QuietHoursView {
                start: q.start(),
                end: q.end(),
            }),
        areas: r
            .areas
            .iter()
            .map(|a| AreaOfInterestView {
                lat: a.lat,
                lon: a.lon,
                radius_m: a.radius_m,
            })
            .collect(),
        active: r.active,
        deactivated_reason: r.deactivated_reason.clone(),
        updated_at: r.updated_at.get(),
    }
}

/// base64url (padded or not) of exactly `len` bytes.
fn base64url(field: &str, raw: &str, len: usize) -> Result<(), FieldError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| FieldError::new(field, "must be base64url"))?;
    if bytes.len() != len {
        return Err(FieldError::new(field, format!("must encode {len} bytes")));
    }
    Ok(())
}

async fn parse_channel(
    state: &AppState,
    body: &PushRegistrationRequest,
) -> Result<PushChannel, FieldError> {
    match body.channel.as_str() {
        "fcm" => {
            if body.subscription.is_some() {
                return Err(FieldError::new(
                    "subscription",
                    "is for channel web_push; FCM needs a token",
                ));
            }
            let token = body
                .token
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| FieldError::new("token", "is required for channel fcm"))?;
            if token.len() > 4096 || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(FieldError::new(
                    "token",
                    "must be an FCM registration token",
                ));
            }
            Ok(PushChannel::Fcm {
                token: token.to_owned(),
            })
        }
        "web_push" => {
            if body.token.is_some() {
                return Err(FieldError::new(
                    "token",
                    "is for channel fcm; Web Push needs a subscription",
                ));
            }
            let s = body.subscription.as_ref().ok_or_else(|| {
                FieldError::new("subscription", "is required for channel web_push")
            })?;
            let endpoint = crate::routes::webhooks::check_outbound_url(
                state,
                "subscription.endpoint",
                &s.endpoint,
            )
            .await?;
            base64url("subscription.keys.p256dh", &s.keys.p256dh, 65)?;
            base64url("subscription.keys.auth", &s.keys.auth, 16)?;
            Ok(PushChannel::WebPush {
                endpoint,
                p256dh: s.keys.p256dh.trim_end_matches('=').to_owned(),
                auth: s.keys.auth.trim_end_matches('=').to_owned(),
            })
        }
        _ => Err(FieldError::new("channel", "must be fcm or web_push")),
    }
}

async fn parse_registration(
    state: &AppState,
    device: Uuid,
    body: &PushRegistrationRequest,
) -> Result<PushRegistration, ApiError> {
    let mut errors = Vec::new();
    let channel = parse_channel(state, body)
        .await
        .map_err(|e| errors.push(e))
        .ok();
    let language = Language::parse(&body.language)
        .filter(|l| l.code() == body.language)
        .ok_or_else(|| errors.push(FieldError::new("language", "must be fr, ar or en")))
        .ok();
    let time_zone = body
        .time_zone
        .clone()
        .unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned());
    if jiff::tz::TimeZone::get(&time_zone).is_err() {
        errors.push(FieldError::new(
            "time_zone",
            "must be an IANA time zone such as Africa/Casablanca",
        ));
    }
    let quiet_hours = body
        .quiet_hours
        .as_ref()
        .map(|q| QuietHours::parse(&q.start, &q.end))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let areas: Vec<(f64, f64, f64)> = body
        .areas
        .iter()
        .map(|a| (a.lat, a.lon, a.radius_m))
        .collect();
    let areas = AreaOfInterest::parse_list(&areas)
        .map_err(|e| errors.push(e))
        .ok();
    match (channel, language, areas) {
        (Some(channel), Some(language), Some(areas)) if errors.is_empty() => Ok(PushRegistration {
            device_id: device,
            channel,
            language: language.code().to_owned(),
            time_zone,
            quiet_hours: quiet_hours.map(|q| (q.start_minutes(), q.end_minutes())),
            areas: areas
                .iter()
                .map(|a| StoredArea {
                    lat: a.centre.lat(),
                    lon: a.centre.lon(),
                    radius_m: a.radius_m(),
                })
                .collect(),
            active: true,
            deactivated_reason: None,
            updated_at: Ts::now(),
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Registers (or replaces) this device's push channel, language, quiet hours and areas of
/// interest.
#[utoipa::path(put, path = "/api/v1/devices/me/push", tag = "push", request_body = PushRegistrationRequest,
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Registered", body = PushRegistrationView),
        (status = 401, description = "Missing or invalid token", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid registration", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_registration(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(body): ApiJson<PushRegistrationRequest>,
) -> ApiResult<Json<PushRegistrationView>> {
    let registration = parse_registration(&state, device, &body).await?;
    state.store().set_push_registration(&registration).await?;
    metrics::counter!("balagh_push_registrations_total", "channel" => registration.channel.kind())
        .increment(1);
    Ok(Json(registration_view(&registration)))
}

/// This device's push registration.
#[utoipa::path(get, path = "/api/v1/devices/me/push", tag = "push",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "The registration", body = PushRegistrationView),
        (status = 404, description = "Not registered for pushes", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_registration(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> ApiResult<Json<PushRegistrationView>> {
    let registration = state
        .store()
        .push_registration(device)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(registration_view(&registration)))
}

/// Stops all pushes to this device.
#[utoipa::path(delete, path = "/api/v1/devices/me/push", tag = "push",
    security(("device_token" = [])),
    responses(
        (status = 204, description = "Unregistered"),
        (status = 404, description = "Not registered for pushes", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_registration(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> ApiResult<StatusCode> {
    if state.store().delete_push_registration(device).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The VAPID public key browsers subscribe with (`applicationServerKey`).
#[utoipa::path(get, path = "/api/v1/push/web-push-key", tag = "push",
    responses((status = 200, description = "The key, or null when Web Push is off", body = WebPushKeyView)))]
pub async fn web_push_key(State(state): State<AppState>) -> Json<WebPushKeyView> {
    Json(WebPushKeyView {
        public_key: state.settings().web_push_public_key.clone(),
    })
}

/// Follows (or stops following) a report that exists.
async fn set_following(
    state: &AppState,
    device: Uuid,
    id: &str,
    following: bool,
) -> ApiResult<Json<FollowView>> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    let report_id = state
        .store()
        .report(id)
        .await?
        .map(|r| r.id)
        .ok_or(ApiError::NotFound)?;
    let store = state.store();
    if following {
        store.follow_report(report_id, device, Ts::now()).await?;
    } else {
        store.unfollow_report(report_id, device, Ts::now()).await?;
    }
    Ok(Json(FollowView {
        report_id,
        following,
    }))
}

/// Follows a report: this device gets a push on each public status change. Reporters and
/// "me too" supporters follow their reports already.
#[utoipa::path(put, path = "/api/v1/reports/{id}/follow", tag = "push",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Following", body = FollowView),
        (status = 404, description = "No such report", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn follow(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<FollowView>> {
    set_following(&state, device, &id, true).await
}

/// Stops following a report (also one this device reported or supported).
#[utoipa::path(delete, path = "/api/v1/reports/{id}/follow", tag = "push",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Not following", body = FollowView),
        (status = 404, description = "No such report", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn unfollow(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<FollowView>> {
    set_following(&state, device, &id, false).await
}

/// Who may publish notices: staff who change reports (any service of their commune), or an
/// operator's members (services of the groups their company holds contracts for).
enum Publisher {
    Staff {
        user: Uuid,
        jurisdiction: JurisdictionId,
    },
    Operator {
        user: Uuid,
        operator: OperatorId,
        jurisdiction: JurisdictionId,
    },
}

fn publisher(state: &AppState, caller: &Caller) -> ApiResult<Publisher> {
    use balagh_domain::account::Role::*;
    let Caller::User(user) = caller else {
        return Err(match caller {
            Caller::Anonymous => ApiError::Unauthorized,
            _ => ApiError::Forbidden,
        });
    };
    match (user.grant.role(), user.grant.scope()) {
        (StaffAdmin | StaffAgent, Scope::Jurisdiction(j)) => Ok(Publisher::Staff {
            user: user.id,
            jurisdiction: j.clone(),
        }),
        (OperatorManager | OperatorAgent, Scope::Operator(o)) => {
            let record = state
                .catalog()
                .operator(*o)
                .cloned()
                .ok_or(ApiError::Forbidden)?;
            Ok(Publisher::Operator {
                user: user.id,
                operator: *o,
                jurisdiction: record.jurisdiction,
            })
        }
        _ => Err(ApiError::Forbidden),
    }
}

impl Publisher {
    fn jurisdiction(&self) -> &JurisdictionId {
        match self {
            Publisher::Staff { jurisdiction, .. } | Publisher::Operator { jurisdiction, .. } => {
                jurisdiction
            }
        }
    }

    fn user(&self) -> Uuid {
        match self {
            Publisher::Staff { user, .. } | Publisher::Operator { user, .. } => *user,
        }
    }

    fn operator(&self) -> Option<OperatorId> {
        match self {
            Publisher::Operator { operator, .. } => Some(*operator),
            Publisher::Staff { .. } => None,
        }
    }

    /// Staff of the notice's commune, or the operator that published it.
    fn may_withdraw(&self, notice: &StoredNotice) -> bool {
        match self {
            Publisher::Staff { jurisdiction, .. } => {
                notice.jurisdiction_id == jurisdiction.as_str()
            }
            Publisher::Operator { operator, .. } => notice.operator_id == Some(operator.0),
        }
    }
}

/// An operator publishes only about services of its contracts (403 otherwise) and only
/// within the union of the zones of its contracts for each service's group (422 naming the
/// area otherwise): the west waste company cannot announce an interruption in the east.
fn operator_may_publish(
    catalog: &balagh_app::Catalog,
    operator: OperatorId,
    services: &[balagh_domain::Service],
    area: &NoticeArea,
    now: Ts,
) -> ApiResult<()> {
    let contracts: Vec<_> = catalog
        .router()
        .contracts()
        .iter()
        .filter(|c| c.operator == operator && c.is_valid_at(now.get()))
        .collect();
    for service in services {
        let zones: Vec<_> = contracts
            .iter()
            .filter(|c| c.group == service.group)
            .map(|c| &c.zone)
            .collect();
        if zones.is_empty() {
            tracing::info!(
                service = service.code.as_str(),
                "operator notice outside its contracts"
            );
            return Err(ApiError::Forbidden);
        }
        if !area.lies_within(zones) {
            return Err(FieldError::new(
                "area",
                format!(
                    "must lie within your contracts' zones for {}",
                    service.group.as_str()
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// Publishes a service notice. Devices whose areas of interest it reaches get a push.
#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", request_body = NewNoticeRequest,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Published", body = NoticeView),
        (status = 403, description = "Not staff or operator, or a service outside the operator's contracts", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid notice, or an operator's area outside its contracts' zones", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn publish_notice(
    State(state): State<AppState>,
    caller: Caller,
    AcceptLanguage(accept): AcceptLanguage,
    ApiJson(body): ApiJson<NewNoticeRequest>,
) -> ApiResult<(StatusCode, Json<NoticeView>)> {
    let publisher = publisher(&state, &caller)?;
    let catalog = state.catalog();
    let jurisdiction = catalog
        .jurisdiction(publisher.jurisdiction())
        .cloned()
        .ok_or(ApiError::Forbidden)?;
    let now = Ts::now();
    let mut errors = Vec::new();
    let kind = NoticeKind::parse(&body.kind)
        .map_err(|e| errors.push(e))
        .ok();
    let services = parse_service_codes(&state, &jurisdiction.id, &body.service_codes)
        .map_err(|e| errors.push(e))
        .ok();
    let area = serde_json::from_value::<geojson::Geometry>(body.area.clone())
        .map_err(|_| FieldError::new("area", "must be a GeoJSON geometry"))
        .and_then(|g| NoticeArea::parse(&g, body.radius_m))
        .map_err(|e| errors.push(e))
        .ok();
    let jiff = |t: time::OffsetDateTime| balagh_app::clocks::jiff(Ts::new(t));
    let window = NoticeWindow::parse(
        body.valid_from.map(jiff),
        jiff(body.valid_until),
        balagh_app::clocks::jiff(now),
    )
    .map_err(|e| errors.push(e))
    .ok();
    let texts = parse_texts(
        &body.texts,
        &jurisdiction.languages,
        jurisdiction.default_language,
    )
    .map_err(|e| errors.push(e))
    .ok();
    let (Some(kind), Some(services), Some(area), Some(window), Some(texts)) =
        (kind, services, area, window, texts)
    else {
        return Err(ApiError::Validation(errors));
    };
    if body.urgent && publisher.operator().is_some() {
        // Screens in the commune's reception areas are the commune's to take over.
        return Err(FieldError::new("urgent", "only commune staff publish urgent notices").into());
    }
    if let Some(operator) = publisher.operator() {
        operator_may_publish(&catalog, operator, &services, &area, now)?;
    } else if !area.touches(&jurisdiction.boundary) {
        // Staff publish anywhere in their commune, not beside it.
        return Err(FieldError::new("area", "must reach into the commune").into());
    }
    let (geometry, radius_m) = area.to_geojson();
    let notice = StoredNotice {
        id: Uuid::now_v7(),
        jurisdiction_id: jurisdiction.id.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        service_codes: services
            .iter()
            .map(|s| s.code.as_str().to_owned())
            .collect(),
        area: serde_json::to_value(&geometry).unwrap_or_default(),
        radius_m,
        bbox: area.bbox(),
        valid_from: balagh_app::clocks::ts(window.from),
        valid_until: balagh_app::clocks::ts(window.until),
        texts: texts_json(&texts),
        operator_id: publisher.operator().map(|o| o.0),
        published_by: publisher.user(),
        created_at: now,
        withdrawn_at: None,
        urgent: body.urgent,
    };
    state
        .store()
        .create_notice(&notice, &notice_fanout(&notice, now))
        .await?;
    metrics::counter!("balagh_notices_published_total", "kind" => kind.as_str()).increment(1);
    let language = Language::negotiate(
        accept.as_deref(),
        &jurisdiction.languages,
        jurisdiction.default_language,
    );
    Ok((
        StatusCode::CREATED,
        Json(notice_view(
            &notice,
            language,
            jurisdiction.default_language,
            None,
        )),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearParams {
    pub lat: f64,
    pub lon: f64,
    /// How far around the point to look, in metres (default 1000, at most 20,000).
    pub radius_m: Option<f64>,
    /// Only notices about this service.
    pub service_code: Option<String>,
}

/// Active service notices near a point, nearest first (public, no token).
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NearParams),
    responses(
        (status = 200, description = "Notices", body = NoticeList),
        (status = 400, description = "Bad point or radius", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn notices_near(
    State(state): State<AppState>,
    AcceptLanguage(accept): AcceptLanguage,
    ApiQuery(params): ApiQuery<NearParams>,
) -> ApiResult<Json<NoticeList>> {
    let radius = params.radius_m.unwrap_or(1000.0);
    if !radius.is_finite() || !(0.0..=20_000.0).contains(&radius) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "radius_m",
            "must be between 0 and 20000 metres",
        )));
    }
    let point = GeoPoint::parse(params.lat, params.lon).map_err(ApiError::InvalidParameter)?;
    let around = AreaOfInterest::parse(
        point.lat(),
        point.lon(),
        radius.max(AreaOfInterest::MIN_RADIUS_M),
    )
    .map_err(ApiError::InvalidParameter)?;
    let catalog = state.catalog();
    let jurisdiction = catalog
        .router()
        .jurisdiction_at(&point)
        .and_then(|j| catalog.jurisdiction(j))
        .or_else(|| catalog.jurisdictions().first());
    let (languages, fallback) = jurisdiction.map_or((Language::ALL.to_vec(), Language::Fr), |j| {
        (j.languages.clone(), j.default_language)
    });
    let language = Language::negotiate(accept.as_deref(), &languages, fallback);
    let candidates = state
        .stale_reads()
        .active_notices(&around.bbox(), Ts::now(), 500)
        .await?;
    let mut found: Vec<(f64, NoticeView)> = candidates
        .iter()
        .filter(|n| {
            params
                .service_code
                .as_deref()
                .is_none_or(|code| n.service_codes.iter().any(|c| c == code))
        })
        .filter_map(|n| {
            let distance = notice_area(n).ok()?.distance_m(&point);
            (distance <= radius)
                .then(|| (distance, notice_view(n, language, fallback, Some(distance))))
        })
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Json(NoticeList {
        notices: found.into_iter().map(|(_, v)| v).collect(),
    }))
}

/// One notice (public).
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "notices",
    params(("id" = Uuid, Path, description = "Notice id")),
    responses(
        (status = 200, description = "The notice", body = NoticeView),
        (status = 404, description = "No such notice", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_notice(
    State(state): State<AppState>,
    AcceptLanguage(accept): AcceptLanguage,
    Path(id): Path<String>,
) -> ApiResult<Json<NoticeView>> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let notice = state.store().notice(id).await?.ok_or(ApiError::NotFound)?;
    let catalog = state.catalog();
    let jurisdiction = JurisdictionId::parse("jurisdiction_id", &notice.jurisdiction_id)
        .ok()
        .and_then(|j| catalog.jurisdiction(&j).cloned());
    let (languages, fallback) = jurisdiction.map_or((Language::ALL.to_vec(), Language::Fr), |j| {
        (j.languages, j.default_language)
    });
    let language = Language::negotiate(accept.as_deref(), &languages, fallback);
    Ok(Json(notice_view(&notice, language, fallback, None)))
}

/// Ends a notice now (its publisher's operator, or staff of its commune).
#[utoipa::path(delete, path = "/api/v1/notices/{id}", tag = "notices",
    params(("id" = Uuid, Path, description = "Notice id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 404, description = "No such running notice of yours", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let publisher = publisher(&state, &caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let notice = state.store().notice(id).await?.ok_or(ApiError::NotFound)?;
    if !publisher.may_withdraw(&notice) {
        return Err(ApiError::NotFound);
    }
    if state.store().withdraw_notice(id, Ts::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Push deliveries (dead letters by default), newest first. Payloads name devices by id only.
#[utoipa::path(get, path = "/api/v1/staff/push/deliveries", tag = "staff", params(DeliveriesParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Deliveries", body = [DeliveryView])))]
pub async fn staff_push_deliveries(
    State(state): State<AppState>,
    Staff(caller, _): Staff<AnyStaff>,
    ApiQuery(params): ApiQuery<DeliveriesParams>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let wanted = parse_state(params.state.as_deref())?;
    let messages = state
        .store()
        .push_messages(caller.jurisdiction.as_str(), wanted, 200)
        .await?;
    Ok(Json(messages.into_iter().map(delivery_view).collect()))
}

/// Sends a dead-lettered push (or fan-out) again.
#[utoipa::path(post, path = "/api/v1/staff/push/deliveries/{id}/replay", tag = "staff",
    params(("id" = Uuid, Path, description = "Delivery id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 202, description = "Queued again"),
        (status = 404, description = "No such dead delivery", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn staff_push_replay(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffAdmin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let jurisdiction = caller.jurisdiction.as_str();
    if state
        .store()
        .replay_push(jurisdiction, id, Ts::now())
        .await?
    {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::NotFound)
    }
}
