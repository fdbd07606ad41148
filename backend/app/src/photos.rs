//! Photos behind the API: upload URLs (presigned S3, or signed by this server for the local
//! directory), processing off the async runtime with bounded concurrency, storing
//! renditions by content hash, and short-lived URLs for whoever may see them.

use crate::App;
use crate::{AppError, AppResult};
use balagh_domain::event::Actor;
use balagh_domain::event_data::{EventData, PhotoAdded};
use balagh_domain::{FieldError, GeoPoint, NewEvent};
use balagh_media::{GpsPosition, ProcessedPhoto, RenditionKind};
use balagh_objects::{Objects, UrlSigner};
use balagh_store::{
    DraftAttachment, NewPhoto, PhotoAttachment, PhotoPurpose, StoredPhoto, StoredRendition,
    StoredReport, Ts, UploadSlot, Uploader,
};
use balagh_wire::{PhotoView, RenditionView, UploadSlotView};
use bytes::Bytes;
use uuid::Uuid;

/// Where this server takes uploads for the local directory: `PUT {UPLOADS_PATH}/{slot}`.
pub const UPLOADS_PATH: &str = "/api/v1/uploads";
/// Where it serves renditions from the local directory: `GET {FILES_PATH}/{sha256}.jpg`.
pub const FILES_PATH: &str = "/api/v1/photo-files";
/// A photo taken farther than this from the report's pin is flagged to staff.
pub const GPS_FAR_M: f64 = 1000.0;
/// Draft photos attached in one request at most.
pub const MAX_PHOTOS_PER_REQUEST: usize = 10;

/// The photo store and the key this server signs its own URLs with.
#[derive(Debug, Clone)]
pub struct PhotoStorage {
    pub objects: Objects,
    pub signer: UrlSigner,
}

/// The object key of an unprocessed upload.
pub fn upload_key(slot: Uuid) -> String {
    format!("uploads/{slot}")
}

/// The path of the local upload URL of a slot (what its signature covers).
pub fn upload_path(slot: Uuid) -> String {
    format!("{UPLOADS_PATH}/{slot}")
}

/// The path a local rendition is served at (what its signature covers).
pub fn file_path(sha256: &str) -> String {
    format!("{FILES_PATH}/{sha256}.jpg")
}

fn unix(at: Ts) -> i64 {
    at.get().unix_timestamp()
}

fn after(now: Ts, ttl: std::time::Duration) -> Ts {
    Ts::new(now.get() + time::Duration::try_from(ttl).unwrap_or(time::Duration::MINUTE))
}

/// Creates an upload slot and returns where to upload.
pub async fn create_slot(
    app: &App,
    base: &str,
    report_id: Option<Uuid>,
    uploader: Uploader,
    purpose: PhotoPurpose,
) -> AppResult<UploadSlotView> {
    let settings = &app.settings().photos;
    let now = Ts::now();
    let slot = UploadSlot {
        id: Uuid::now_v7(),
        report_id,
        uploader,
        purpose,
        created_at: now,
        expires_at: after(now, settings.upload_url_ttl),
    };
    app.store().create_upload_slot(&slot).await?;
    let storage = app.photos();
    let upload_url = match storage
        .objects
        .presign(
            http::Method::PUT,
            &upload_key(slot.id),
            settings.upload_url_ttl,
        )
        .await?
    {
        Some(url) => url.to_string(),
        None => format!(
            "{base}{}",
            storage
                .signer
                .signed_path("PUT", &upload_path(slot.id), unix(slot.expires_at))
        ),
    };
    Ok(UploadSlotView {
        photo_id: slot.id,
        method: "PUT".into(),
        upload_url,
        expires_at: slot.expires_at.get(),
        confirm_url: format!("{base}/api/v1/photos/uploads/{}/confirm", slot.id),
        max_bytes: settings.limits.max_bytes as u64,
    })
}

/// Runs the pipeline on a blocking thread, at most `max_concurrent` at once.
pub async fn process(app: &App, bytes: Bytes) -> AppResult<ProcessedPhoto> {
    let limits = app.settings().photos.limits;
    // Refuse oversized uploads before waiting for a processing slot.
    if bytes.len() > limits.max_bytes {
        return Err(AppError::Photo(balagh_media::PhotoError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        }));
    }
    let permit = app
        .processing()
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AppError::Unavailable("shutting down".into()))?;
    let started = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        balagh_media::process(&bytes, &limits)
    })
    .await
    .map_err(|e| AppError::Internal(format!("photo processing panicked: {e}")))?;
    metrics::histogram!("balagh_photo_processing_seconds").record(started.elapsed().as_secs_f64());
    metrics::counter!("balagh_photos_processed_total", "result" => match &result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    })
    .increment(1);
    result.map_err(AppError::Photo)
}

/// Distance from the photo's EXIF position to the pin, and whether it is over 1 km.
pub fn gps_distance(gps: GpsPosition, pin: &GeoPoint) -> (f64, bool) {
    let distance = gps.distance_m(GpsPosition {
        lat: pin.lat(),
        lon: pin.lon(),
    });
    let rounded = (distance * 10.0).round() / 10.0;
    (rounded, distance > GPS_FAR_M)
}

fn photo_added_data(photo: &StoredPhoto) -> PhotoAdded {
    PhotoAdded {
        photo_id: photo.id,
        purpose: photo.purpose.as_str().to_owned(),
        uploader: photo.uploader.kind().to_owned(),
    }
}

fn photo_added(photo: &StoredPhoto, actor: Actor) -> NewEvent {
    EventData::PhotoAdded(photo_added_data(photo)).event(actor, true)
}

pub fn actor_of(uploader: Uploader) -> Actor {
    match uploader {
        Uploader::Resident(device) => Actor::Device(device),
        Uploader::Operator { user, .. } | Uploader::Staff(user) => Actor::User(user),
    }
}

/// Stores the renditions (named by content hash) and the photo row with its event. Of the
/// EXIF position only the distance to the pin is kept; a draft keeps the position until
/// it is attached.
pub async fn store_processed(
    app: &App,
    id: Uuid,
    report: Option<&StoredReport>,
    uploader: Uploader,
    purpose: PhotoPurpose,
    processed: ProcessedPhoto,
) -> AppResult<StoredPhoto> {
    let objects = &app.photos().objects;
    let rendition = |kind| {
        processed
            .rendition(kind)
            .ok_or_else(|| AppError::Internal(format!("no {kind:?} rendition")))
    };
    let large = rendition(RenditionKind::Large)?;
    let thumbnail = rendition(RenditionKind::Thumbnail)?;
    objects
        .put(
            &StoredRendition::key_for(&large.sha256_hex),
            Bytes::from(large.bytes.clone()),
        )
        .await?;
    if thumbnail.sha256_hex != large.sha256_hex {
        objects
            .put(
                &StoredRendition::key_for(&thumbnail.sha256_hex),
                Bytes::from(thumbnail.bytes.clone()),
            )
            .await?;
    }
    let (gps_distance_m, gps_far, draft_gps) = match (processed.gps, report) {
        (Some(gps), Some(report)) => {
            let (distance, far) = gps_distance(gps, &report.point);
            (Some(distance), far, None)
        }
        (Some(gps), None) => (None, false, Some((gps.lat, gps.lon))),
        (None, _) => (None, false, None),
    };
    let photo = StoredPhoto {
        id,
        report_id: report.map(|r| r.id),
        uploader,
        purpose,
        detected_type: processed.detected.mime_type().to_owned(),
        width: processed.width,
        height: processed.height,
        large: StoredRendition {
            sha256: large.sha256_hex.clone(),
            width: large.width,
            height: large.height,
        },
        thumbnail: StoredRendition {
            sha256: thumbnail.sha256_hex.clone(),
            width: thumbnail.width,
            height: thumbnail.height,
        },
        gps_distance_m,
        gps_far,
        draft_gps,
        approved: false,
        moderated_by: None,
        moderated_at: None,
        created_at: Ts::now(),
    };
    let events = if report.is_some() {
        vec![photo_added(&photo, actor_of(uploader))]
    } else {
        Vec::new()
    };
    app.store()
        .insert_photo(&NewPhoto {
            photo: photo.clone(),
            events,
        })
        .await?;
    metrics::counter!("balagh_photos_stored_total", "uploader" => uploader.kind()).increment(1);
    Ok(photo)
}

/// Confirms an uploaded slot: fetches the upload, processes it, stores the photo, and
/// deletes the original. A refused upload is deleted and the slot stays open, so the app
/// can upload a converted photo to the same URL while it is valid.
pub async fn confirm_slot(
    app: &App,
    slot: UploadSlot,
    report: Option<&StoredReport>,
) -> AppResult<StoredPhoto> {
    let Some(slot) = app.store().claim_upload_slot(slot.id).await? else {
        return Err(AppError::Conflict("this upload is being processed already"));
    };
    let result = confirm_claimed(app, &slot, report).await;
    let objects = &app.photos().objects;
    match &result {
        Ok(_) => {
            if let Err(error) = objects.delete(&upload_key(slot.id)).await {
                // The garbage collector cannot find it any more (its slot is gone): log it.
                tracing::warn!(%error, slot = %slot.id, "cannot delete a processed original");
            }
        }
        Err(error) => {
            if matches!(error, AppError::Photo(_)) {
                let _ = objects.delete(&upload_key(slot.id)).await;
            }
            app.store().release_upload_slot(slot.id).await?;
        }
    }
    result
}

async fn confirm_claimed(
    app: &App,
    slot: &UploadSlot,
    report: Option<&StoredReport>,
) -> AppResult<StoredPhoto> {
    let objects = &app.photos().objects;
    let key = upload_key(slot.id);
    let max = app.settings().photos.limits.max_bytes;
    let size = objects.size(&key).await?.ok_or(AppError::Conflict(
        "nothing was uploaded to this slot yet: PUT the photo to its upload_url first",
    ))?;
    if size > max as u64 {
        return Err(AppError::Photo(balagh_media::PhotoError::TooLarge {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            max,
        }));
    }
    let bytes = objects.get(&key).await?.ok_or(AppError::Conflict(
        "nothing was uploaded to this slot yet: PUT the photo to its upload_url first",
    ))?;
    let processed = process(app, bytes).await?;
    store_processed(app, slot.id, report, slot.uploader, slot.purpose, processed).await
}

/// Checks that these are this device's draft photos, not attached to another report
/// (`replay_of`: a report they may already be attached to, for a repeated submission).
pub async fn check_drafts(
    app: &App,
    device: Uuid,
    ids: &[Uuid],
    replay_of: impl Fn(&Uuid) -> bool,
) -> AppResult<Vec<StoredPhoto>> {
    if ids.len() > MAX_PHOTOS_PER_REQUEST {
        return Err(
            FieldError::new("photos", format!("at most {MAX_PHOTOS_PER_REQUEST} photos")).into(),
        );
    }
    let mut drafts = Vec::with_capacity(ids.len());
    for id in ids {
        let photo = app.store().photo(*id).await?.filter(|p| {
            p.uploader == Uploader::Resident(device)
                && p.report_id.is_none_or(|report| replay_of(&report))
        });
        match photo {
            Some(photo) => drafts.push(photo),
            None => {
                return Err(FieldError::new(
                    "photos",
                    format!("{id} is not a confirmed draft photo of this device"),
                )
                .into());
            }
        }
    }
    Ok(drafts)
}

/// How far from the pin a draft was taken (its position is dropped once attached).
fn draft_distance(draft: &StoredPhoto, pin: &GeoPoint) -> (Option<f64>, bool) {
    match draft.draft_gps {
        Some((lat, lon)) => {
            let (distance, far) = gps_distance(GpsPosition { lat, lon }, pin);
            (Some(distance), far)
        }
        None => (None, false),
    }
}

/// Checked drafts made ready to attach to a new report in its own transaction
/// (`NewReport::photos`), their `photo_added` events, and how the `ticket.created` webhook
/// names them (as the events do). Drafts attached already (a replay) are left out.
#[derive(Debug)]
pub struct NewReportPhotos {
    pub attachments: Vec<DraftAttachment>,
    pub events: Vec<NewEvent>,
    pub named: Vec<serde_json::Value>,
}

pub fn new_report_photos(drafts: &[StoredPhoto], pin: &GeoPoint, device: Uuid) -> NewReportPhotos {
    let mut photos = NewReportPhotos {
        attachments: Vec::new(),
        events: Vec::new(),
        named: Vec::new(),
    };
    for draft in drafts.iter().filter(|d| d.report_id.is_none()) {
        let (gps_distance_m, gps_far) = draft_distance(draft, pin);
        photos.attachments.push(DraftAttachment {
            photo_id: draft.id,
            gps_distance_m,
            gps_far,
        });
        photos
            .events
            .push(photo_added(draft, Actor::Device(device)));
        photos
            .named
            .push(serde_json::to_value(photo_added_data(draft)).unwrap_or_default());
    }
    photos
}

/// Attaches checked drafts to an existing report (those not attached yet).
pub async fn attach_drafts(
    app: &App,
    report: &StoredReport,
    device: Uuid,
    drafts: &[StoredPhoto],
) -> AppResult<()> {
    for draft in drafts.iter().filter(|d| d.report_id.is_none()) {
        let (gps_distance_m, gps_far) = draft_distance(draft, &report.point);
        let mut attached = draft.clone();
        attached.report_id = Some(report.id);
        let done = app
            .store()
            .attach_photo(&PhotoAttachment {
                photo_id: draft.id,
                report_id: report.id,
                device,
                gps_distance_m,
                gps_far,
                at: Ts::now(),
                events: vec![photo_added(&attached, Actor::Device(device))],
            })
            .await?;
        if !done {
            return Err(attached_elsewhere(draft.id));
        }
    }
    Ok(())
}

/// A draft attached to another report between the check and the write.
pub fn attached_elsewhere(photo: Uuid) -> AppError {
    FieldError::new(
        "photos",
        format!("{photo} was attached elsewhere meanwhile"),
    )
    .into()
}

async fn rendition_view(
    app: &App,
    base: &str,
    rendition: &StoredRendition,
    expires: Ts,
) -> AppResult<RenditionView> {
    let storage = app.photos();
    let ttl = app.settings().photos.view_url_ttl;
    let url = match storage
        .objects
        .presign(http::Method::GET, &rendition.key(), ttl)
        .await?
    {
        Some(url) => url.to_string(),
        None => format!(
            "{base}{}",
            storage
                .signer
                .signed_path("GET", &file_path(&rendition.sha256), unix(expires))
        ),
    };
    Ok(RenditionView {
        url,
        width: rendition.width,
        height: rendition.height,
    })
}

/// Photos as JSON with fresh short-lived URLs. `staff` adds the GPS plausibility check.
pub async fn photo_views(
    app: &App,
    base: &str,
    photos: &[StoredPhoto],
    staff: bool,
) -> AppResult<Vec<PhotoView>> {
    let expires = after(Ts::now(), app.settings().photos.view_url_ttl);
    let mut views = Vec::with_capacity(photos.len());
    for photo in photos {
        views.push(PhotoView {
            id: photo.id,
            report_id: photo.report_id,
            purpose: photo.purpose.as_str().to_owned(),
            uploaded_by: photo.uploader.kind().to_owned(),
            width: photo.width,
            height: photo.height,
            large: rendition_view(app, base, &photo.large, expires).await?,
            thumbnail: rendition_view(app, base, &photo.thumbnail, expires).await?,
            urls_expire_at: expires.get(),
            approved: photo.approved,
            gps_distance_m: if staff { photo.gps_distance_m } else { None },
            gps_far: staff.then_some(photo.gps_far),
            created_at: photo.created_at.get(),
        });
    }
    Ok(views)
}
