//! Photos of reports: upload slots (presigned S3 PUT, or this server's signed URL on local
//! disk), confirm, one-step multipart upload, drafts attached later, listing with
//! short-lived URLs, staff moderation, and serving renditions from the local directory.
//!
//! Who sees a report's photos: its reporter, the operator it is routed to, and staff of its
//! commune; for anyone else the report does not exist (404). The public sees only photos
//! staff approved. The original upload is never served.

use crate::auth::Caller;
use crate::auth::principal::{STAFF_WRITERS, Staff, StaffCaller, StaffWriter};
use crate::extract::{ApiJson, ApiQuery, DeviceAuth};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_app::photos::{self, file_path, upload_key, upload_path};
use balagh_domain::account::Scope;
use balagh_domain::event_data::{EventData, PhotoModerated};
use balagh_store::{PhotoModeration, PhotoPurpose, StoredPhoto, StoredReport, Ts, Uploader};
use balagh_wire::{
    AttachPhotosRequest, PhotoList, PhotoModerationRequest, PhotoView, UploadSlotView,
};
use serde::Deserialize;
use uuid::Uuid;

/// What a caller may do with one report's photos.
struct Access {
    report: StoredReport,
    /// Who they upload as, and why (None: they may only look).
    uploader: Option<(Uploader, PhotoPurpose)>,
    staff: bool,
}

fn parse_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// The reporter, the operator the report is routed to, or staff of its commune; anyone
/// else gets 404 (401 without credentials).
async fn access(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Access> {
    if matches!(caller, Caller::Anonymous) {
        return Err(ApiError::Unauthorized);
    }
    let id = parse_id(id)?;
    let report = state.store().report(id).await?.ok_or(ApiError::NotFound)?;
    let access = match caller {
        Caller::Anonymous => None,
        Caller::Device(device) => (report.device == Some(*device)).then_some((
            Some((Uploader::Resident(*device), PhotoPurpose::Report)),
            false,
        )),
        Caller::User(user) => match user.grant.scope() {
            Scope::Operator(operator) => (report.operator == Some(*operator)).then_some((
                Some((
                    Uploader::Operator {
                        user: user.id,
                        operator: *operator,
                    },
                    PhotoPurpose::Evidence,
                )),
                false,
            )),
            Scope::Jurisdiction(jurisdiction) => {
                (report.jurisdiction == *jurisdiction).then(|| {
                    let writer = STAFF_WRITERS.contains(&user.grant.role());
                    (
                        writer.then_some((Uploader::Staff(user.id), PhotoPurpose::Report)),
                        true,
                    )
                })
            }
        },
    };
    let (uploader, staff) = access.ok_or(ApiError::NotFound)?;
    Ok(Access {
        report,
        uploader,
        staff,
    })
}

fn uploader_or_forbidden(access: &Access) -> ApiResult<(Uploader, PhotoPurpose)> {
    access.uploader.ok_or(ApiError::Forbidden)
}

fn is_uploader(caller: &Caller, uploader: Uploader) -> bool {
    match (caller, uploader) {
        (Caller::Device(device), Uploader::Resident(by)) => *device == by,
        (Caller::User(user), Uploader::Operator { user: by, .. } | Uploader::Staff(by)) => {
            user.id == by
        }
        _ => false,
    }
}

fn is_staff(caller: &Caller) -> bool {
    matches!(caller, Caller::User(user) if matches!(user.grant.scope(), Scope::Jurisdiction(_)))
}

async fn one_view(
    state: &AppState,
    headers: &HeaderMap,
    photo: &StoredPhoto,
    staff: bool,
) -> ApiResult<PhotoView> {
    let mut views = photos::photo_views(
        state,
        &crate::params::base_url(state, headers),
        std::slice::from_ref(photo),
        staff,
    )
    .await?;
    views
        .pop()
        .ok_or_else(|| ApiError::Internal("no photo view".into()))
}

/// Asks for an upload URL for a photo of this report: its reporter (a photo of the
/// problem), the operator it is routed to (resolution evidence) or staff. `PUT` the photo
/// to `upload_url` (a presigned S3 URL, or this server's signed URL), then `POST` to
/// `confirm_url`. Uploads not confirmed within a day are deleted.
#[utoipa::path(post, path = "/api/v1/reports/{id}/photos/uploads", tag = "photos",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = []), ("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Where to upload", body = UploadSlotView),
        (status = 401, description = "No credentials", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "May look but not add (staff analyst)", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a report of yours", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_report_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<UploadSlotView>)> {
    let access = access(&state, &caller, &id).await?;
    let (uploader, purpose) = uploader_or_forbidden(&access)?;
    let slot = photos::create_slot(
        &state,
        &crate::params::base_url(&state, &headers),
        Some(access.report.id),
        uploader,
        purpose,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(slot)))
}

/// Asks for an upload URL for a draft photo, before the report exists: confirm it, then
/// name it in the report's `photos` (or attach it later). Drafts never attached are
/// deleted after a day.
#[utoipa::path(post, path = "/api/v1/photos/uploads", tag = "photos",
    security(("device_token" = [])),
    responses((status = 201, description = "Where to upload", body = UploadSlotView)))]
pub async fn create_draft_upload(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<UploadSlotView>)> {
    let slot = photos::create_slot(
        &state,
        &crate::params::base_url(&state, &headers),
        None,
        Uploader::Resident(device),
        PhotoPurpose::Report,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(slot)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedParams {
    /// Unix time after which the URL is refused.
    pub expires: i64,
    /// HMAC-SHA256 signature of the method, path and `expires`.
    pub sig: String,
}

fn check_signature(
    state: &AppState,
    method: &str,
    path: &str,
    params: &SignedParams,
) -> ApiResult<()> {
    if !state.photos().objects.is_local() {
        return Err(ApiError::NotFound);
    }
    state
        .photos()
        .signer
        .verify(
            method,
            path,
            params.expires,
            &params.sig,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        )
        .map_err(ApiError::SignedUrl)
}

/// Upload URL of the local photo directory (the S3 store has its own presigned URLs): the
/// photo's bytes as the body, any content type (the type is judged by the bytes).
#[utoipa::path(put, path = "/api/v1/uploads/{slot}", tag = "photos",
    params(("slot" = Uuid, Path, description = "Upload slot"), SignedParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "Stored; now confirm it"),
        (status = 403, description = "Signature altered or expired", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such open slot", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the size limit", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_upload(
    State(state): State<AppState>,
    Path(slot): Path<String>,
    ApiQuery(params): ApiQuery<SignedParams>,
    request: Request,
) -> ApiResult<StatusCode> {
    let slot = parse_id(&slot)?;
    check_signature(&state, "PUT", &upload_path(slot), &params)?;
    if state.store().upload_slot(slot).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let max = state.settings().photos.limits.max_bytes;
    let bytes = read_limited(request.into_body(), max).await?;
    state.photos().objects.put(&upload_key(slot), bytes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The whole body, refusing more than `max` bytes (413 with the photo limit).
async fn read_limited(body: Body, max: usize) -> ApiResult<bytes::Bytes> {
    match axum::body::to_bytes(body, max).await {
        Ok(bytes) => Ok(bytes),
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            if too_large {
                Err(ApiError::Photo(balagh_media::PhotoError::TooLarge {
                    size: max + 1,
                    max,
                }))
            } else {
                Err(ApiError::MalformedBody(format!(
                    "cannot read the upload: {error}"
                )))
            }
        }
    }
}

/// Confirms an upload: the photo is checked by its real type (JPEG, PNG, WebP; HEIC gets a
/// 415 asking for JPEG), its size and pixel count (decompression bombs are refused without
/// decoding), made upright, stripped of all metadata by re-encoding, and stored as a ≤ 2048
/// px rendition and a ≈ 400 px thumbnail. The original is deleted. Repeating a confirm
/// returns the same photo.
#[utoipa::path(post, path = "/api/v1/photos/uploads/{id}/confirm", tag = "photos",
    params(("id" = Uuid, Path, description = "Upload slot (= photo id)")),
    security(("device_token" = []), ("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "The photo", body = PhotoView),
        (status = 200, description = "Confirmed before: the same photo", body = PhotoView),
        (status = 404, description = "Not your upload", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing uploaded yet, or being processed", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the size limit", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 415, description = "HEIC (send JPEG) or not an image", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many pixels, truncated or corrupt", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if matches!(caller, Caller::Anonymous) {
        return Err(ApiError::Unauthorized);
    }
    let id = parse_id(&id)?;
    let staff = is_staff(&caller);
    if let Some(photo) = state.store().photo(id).await?
        && is_uploader(&caller, photo.uploader)
    {
        let view = one_view(&state, &headers, &photo, staff).await?;
        return Ok((StatusCode::OK, Json(view)).into_response());
    }
    let slot = state
        .store()
        .upload_slot(id)
        .await?
        .filter(|slot| is_uploader(&caller, slot.uploader))
        .ok_or(ApiError::NotFound)?;
    let report = match slot.report_id {
        Some(report_id) => {
            // Still allowed? (the ticket may have moved to another operator meanwhile)
            let access = access(&state, &caller, &report_id.to_string()).await?;
            uploader_or_forbidden(&access)?;
            Some(access.report)
        }
        None => None,
    };
    let photo = photos::confirm_slot(&state, slot, report.as_ref()).await?;
    let view = one_view(&state, &headers, &photo, staff).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Uploads a photo in one step (web form, Open311 clients): `multipart/form-data` with the
/// photo in a file field (e.g. `photo` or `media`). Same checks and processing as a confirm.
#[utoipa::path(post, path = "/api/v1/reports/{id}/photos", tag = "photos",
    params(("id" = Uuid, Path, description = "Report id")),
    request_body(content_type = "multipart/form-data", description = "One file field with the photo"),
    security(("device_token" = []), ("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "The photo", body = PhotoView),
        (status = 404, description = "Not a report of yours", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the size limit", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 415, description = "HEIC (send JPEG), not an image, or not multipart", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many pixels, truncated or corrupt", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload_multipart(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<PhotoView>)> {
    let access = access(&state, &caller, &id).await?;
    let (uploader, purpose) = uploader_or_forbidden(&access)?;
    let mut multipart = multipart.map_err(|_| ApiError::UnsupportedMediaType)?;
    let multipart_error = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::Photo(balagh_media::PhotoError::TooLarge {
                size: state.settings().photos.limits.max_bytes + 1,
                max: state.settings().photos.limits.max_bytes,
            })
        } else {
            ApiError::MalformedBody(error.body_text())
        }
    };
    let mut photo_bytes = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.file_name().is_some() || matches!(field.name(), Some("photo" | "media")) {
            photo_bytes = Some(field.bytes().await.map_err(multipart_error)?);
            break;
        }
    }
    let bytes = photo_bytes.ok_or_else(|| {
        ApiError::Validation(vec![balagh_domain::FieldError::new(
            "photo",
            "send the photo in a file field",
        )])
    })?;
    let processed = photos::process(&state, bytes).await?;
    let photo = photos::store_processed(
        &state,
        Uuid::now_v7(),
        Some(&access.report),
        uploader,
        purpose,
        processed,
    )
    .await?;
    let view = one_view(&state, &headers, &photo, access.staff).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A report's photos with short-lived URLs: for its reporter, its operator and staff
/// (staff also see how far from the pin each photo was taken, and the over-1-km flag).
#[utoipa::path(get, path = "/api/v1/reports/{id}/photos", tag = "photos",
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = []), ("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Photos, oldest first", body = PhotoList),
        (status = 404, description = "Not a report of yours", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_photos(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<PhotoList>> {
    let access = access(&state, &caller, &id).await?;
    let photos = state.store().report_photos(access.report.id).await?;
    Ok(Json(PhotoList {
        photos: photos::photo_views(
            &state,
            &crate::params::base_url(&state, &headers),
            &photos,
            access.staff,
        )
        .await?,
    }))
}

/// The photos of a report that staff approved for the public (a report of a sensitive
/// service has none).
#[utoipa::path(get, path = "/api/v1/public/reports/{id}/photos", tag = "photos",
    params(("id" = Uuid, Path, description = "Report id")),
    responses(
        (status = 200, description = "Approved photos", body = PhotoList),
        (status = 404, description = "No such report", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn public_photos(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<PhotoList>> {
    let id = parse_id(&id)?;
    let report = state.store().report(id).await?.ok_or(ApiError::NotFound)?;
    // The gate: a report of a service that is never listed publicly has no public photos.
    let catalog = state.catalog();
    let gate = balagh_app::publish::records::Records::new(&catalog, state.settings().stats.records);
    if !gate.lists_report(&report) {
        return Err(ApiError::NotFound);
    }
    let approved: Vec<StoredPhoto> = state
        .store()
        .report_photos(report.id)
        .await?
        .into_iter()
        .filter(|p| p.approved)
        .collect();
    Ok(Json(PhotoList {
        photos: photos::photo_views(
            &state,
            &crate::params::base_url(&state, &headers),
            &approved,
            false,
        )
        .await?,
    }))
}

/// Attaches confirmed draft photos of this device to its report.
#[utoipa::path(post, path = "/api/v1/reports/{id}/photos/attach", tag = "photos",
    request_body = AttachPhotosRequest,
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "The report's photos", body = PhotoList),
        (status = 404, description = "Not your report", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a draft photo of this device", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn attach_photos(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AttachPhotosRequest>,
) -> ApiResult<Json<PhotoList>> {
    let id = parse_id(&id)?;
    let report = state
        .store()
        .report(id)
        .await?
        .filter(|r| r.device == Some(device))
        .ok_or(ApiError::NotFound)?;
    let drafts = photos::check_drafts(&state, device, &body.photo_ids, |r| *r == report.id).await?;
    photos::attach_drafts(&state, &report, device, &drafts).await?;
    let photos = state.store().report_photos(report.id).await?;
    Ok(Json(PhotoList {
        photos: photos::photo_views(
            &state,
            &crate::params::base_url(&state, &headers),
            &photos,
            false,
        )
        .await?,
    }))
}

/// Approves a photo for the public, or hides it again.
#[utoipa::path(post, path = "/api/v1/staff/photos/{id}/moderation", tag = "staff",
    request_body = PhotoModerationRequest,
    params(("id" = Uuid, Path, description = "Photo id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "The photo", body = PhotoView),
        (status = 404, description = "No such photo in your commune", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn moderate_photo(
    State(state): State<AppState>,
    Staff(caller, _): Staff<StaffWriter>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PhotoModerationRequest>,
) -> ApiResult<Json<PhotoView>> {
    let id = parse_id(&id)?;
    let photo = moderate_photo_of(&state, &caller, id, body.approved).await?;
    Ok(Json(one_view(&state, &headers, &photo, true).await?))
}

/// Approves (or hides again) a photo of a report of the caller's commune, with its event;
/// the API and the staff pages share it.
pub async fn moderate_photo_of(
    state: &AppState,
    caller: &StaffCaller,
    id: Uuid,
    approved: bool,
) -> ApiResult<StoredPhoto> {
    let photo = state.store().photo(id).await?.ok_or(ApiError::NotFound)?;
    let report_id = photo.report_id.ok_or(ApiError::NotFound)?;
    let report = state
        .store()
        .report(report_id)
        .await?
        .filter(|r| r.jurisdiction == caller.jurisdiction)
        .ok_or(ApiError::NotFound)?;
    let at = Ts::now();
    let moderated = state
        .store()
        .moderate_photo(&PhotoModeration {
            photo_id: photo.id,
            approved,
            by: caller.user.id,
            at,
            events: vec![
                EventData::PhotoModerated(PhotoModerated {
                    photo_id: photo.id,
                    approved,
                })
                .event(balagh_domain::event::Actor::User(caller.user.id), false),
            ],
        })
        .await?;
    if !moderated {
        return Err(ApiError::NotFound);
    }
    let photo = state
        .store()
        .photo(photo.id)
        .await?
        .filter(|p| p.report_id == Some(report.id))
        .ok_or(ApiError::NotFound)?;
    Ok(photo)
}

/// A rendition from the local photo directory, behind a short-lived signed URL (the S3
/// store serves its own presigned URLs). Only renditions are ever served.
#[utoipa::path(get, path = "/api/v1/photo-files/{name}", tag = "photos",
    params(("name" = String, Path, description = "`<sha256>.jpg`"), SignedParams),
    responses(
        (status = 200, description = "The JPEG", content_type = "image/jpeg"),
        (status = 403, description = "Signature altered or expired", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rendition", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn photo_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<SignedParams>,
) -> ApiResult<Response> {
    let sha256 = name
        .strip_suffix(".jpg")
        .filter(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
        .ok_or(ApiError::NotFound)?;
    check_signature(&state, "GET", &file_path(sha256), &params)?;
    let bytes = state
        .photos()
        .objects
        .get(&balagh_store::StoredRendition::key_for(sha256))
        .await?
        .ok_or(ApiError::NotFound)?;
    let max_age = u64::try_from(params.expires - time::OffsetDateTime::now_utc().unix_timestamp())
        .unwrap_or(0);
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(balagh_media::RENDITION_CONTENT_TYPE),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("private, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    Ok(response)
}
