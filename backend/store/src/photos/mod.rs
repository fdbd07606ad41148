//! Photos: upload slots and the photos made from confirmed uploads. [`PhotoStore`] is a
//! supertrait of [`Store`](crate::Store); its SQL is the functions of [`Sql`](crate::Sql) in
//! `slots.rs` and `stored.rs`, which each backend delegates to with
//! [`impl_photo_store!`](crate::impl_photo_store).

use crate::{Result, StoreError, Ts};
use balagh_domain::{NewEvent, OperatorId};
use uuid::Uuid;

/// Who uploads a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uploader {
    /// A resident's device.
    Resident(Uuid),
    /// A member of an operator company.
    Operator { user: Uuid, operator: OperatorId },
    /// Commune staff.
    Staff(Uuid),
}

impl Uploader {
    pub fn kind(self) -> &'static str {
        match self {
            Uploader::Resident(_) => "resident",
            Uploader::Operator { .. } => "operator",
            Uploader::Staff(_) => "staff",
        }
    }

    pub fn device(self) -> Option<Uuid> {
        match self {
            Uploader::Resident(device) => Some(device),
            _ => None,
        }
    }

    pub fn user(self) -> Option<Uuid> {
        match self {
            Uploader::Operator { user, .. } | Uploader::Staff(user) => Some(user),
            Uploader::Resident(_) => None,
        }
    }

    pub fn operator(self) -> Option<OperatorId> {
        match self {
            Uploader::Operator { operator, .. } => Some(operator),
            _ => None,
        }
    }

    fn from_columns(
        kind: &str,
        device: Option<Uuid>,
        user: Option<Uuid>,
        operator: Option<Uuid>,
    ) -> Result<Self> {
        let corrupt = || StoreError::Corrupt(format!("photo uploader {kind}"));
        match kind {
            "resident" => device.map(Uploader::Resident).ok_or_else(corrupt),
            "operator" => match (user, operator) {
                (Some(user), Some(operator)) => Ok(Uploader::Operator {
                    user,
                    operator: OperatorId(operator),
                }),
                _ => Err(corrupt()),
            },
            "staff" => user.map(Uploader::Staff).ok_or_else(corrupt),
            _ => Err(corrupt()),
        }
    }
}

/// Why a photo was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoPurpose {
    /// Shows the problem (residents, staff).
    Report,
    /// Shows the resolution (operators).
    Evidence,
}

impl PhotoPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoPurpose::Report => "report",
            PhotoPurpose::Evidence => "evidence",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "report" => Some(PhotoPurpose::Report),
            "evidence" => Some(PhotoPurpose::Evidence),
            _ => None,
        }
    }
}

/// A place to upload one photo, for a report or for a draft (no report yet).
#[derive(Debug, Clone, PartialEq)]
pub struct UploadSlot {
    pub id: Uuid,
    pub report_id: Option<Uuid>,
    pub uploader: Uploader,
    pub purpose: PhotoPurpose,
    pub created_at: Ts,
    /// When its upload URL stops working.
    pub expires_at: Ts,
}

/// One rendition as stored: its content hash names the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRendition {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
}

impl StoredRendition {
    /// The object key of a rendition with this content hash.
    pub fn key_for(sha256: &str) -> String {
        format!("renditions/{sha256}.jpg")
    }

    pub fn key(&self) -> String {
        Self::key_for(&self.sha256)
    }
}

/// A processed photo.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPhoto {
    /// The upload slot's id.
    pub id: Uuid,
    /// `None` while a draft photo is not attached to a report.
    pub report_id: Option<Uuid>,
    pub uploader: Uploader,
    pub purpose: PhotoPurpose,
    /// MIME type the upload really was.
    pub detected_type: String,
    /// The original's size, upright.
    pub width: u32,
    pub height: u32,
    pub large: StoredRendition,
    pub thumbnail: StoredRendition,
    /// Metres between the photo's EXIF position and the report's pin.
    pub gps_distance_m: Option<f64>,
    /// Over 1 km from the pin: flagged to staff.
    pub gps_far: bool,
    /// A draft's EXIF position (lat, lon), kept only until it is attached.
    pub draft_gps: Option<(f64, f64)>,
    /// Staff approved it for the public.
    pub approved: bool,
    pub moderated_by: Option<Uuid>,
    pub moderated_at: Option<Ts>,
    pub created_at: Ts,
}

/// A confirmed upload, processed, to store in place of its slot.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub photo: StoredPhoto,
    /// Appended to the report's history in the same transaction (none for drafts).
    pub events: Vec<NewEvent>,
}

/// Attaching a draft photo to its report.
#[derive(Debug, Clone)]
pub struct PhotoAttachment {
    pub photo_id: Uuid,
    pub report_id: Uuid,
    /// Only the device that uploaded the draft may attach it.
    pub device: Uuid,
    pub gps_distance_m: Option<f64>,
    pub gps_far: bool,
    pub at: Ts,
    pub events: Vec<NewEvent>,
}

/// Staff approve (or hide) a photo for the public.
#[derive(Debug, Clone)]
pub struct PhotoModeration {
    pub photo_id: Uuid,
    pub approved: bool,
    pub by: Uuid,
    pub at: Ts,
    pub events: Vec<NewEvent>,
}

#[async_trait::async_trait]
pub trait PhotoStore: Send + Sync {
    async fn create_upload_slot(&self, slot: &UploadSlot) -> Result<()>;
    /// A slot not being processed nor confirmed.
    async fn upload_slot(&self, id: Uuid) -> Result<Option<UploadSlot>>;
    /// Reserves a pending slot for processing; `None` if it is gone or already being
    /// processed (a concurrent confirm, or the garbage collector got there first).
    async fn claim_upload_slot(&self, id: Uuid) -> Result<Option<UploadSlot>>;
    /// Puts a claimed slot back (the upload was refused: the app may upload again).
    async fn release_upload_slot(&self, id: Uuid) -> Result<()>;
    /// Stores the photo, its events, and removes its slot, in one transaction.
    async fn insert_photo(&self, photo: &NewPhoto) -> Result<()>;
    async fn photo(&self, id: Uuid) -> Result<Option<StoredPhoto>>;
    /// A report's photos, oldest first.
    async fn report_photos(&self, report_id: Uuid) -> Result<Vec<StoredPhoto>>;
    /// Attaches a draft of this device to a report; false if there is no such draft.
    async fn attach_photo(&self, attachment: &PhotoAttachment) -> Result<bool>;
    /// Sets the moderation flag; false if there is no such photo on a report.
    async fn moderate_photo(&self, moderation: &PhotoModeration) -> Result<bool>;
    /// Removes up to `limit` slots created before `before` (never confirmed) and returns
    /// their ids, so their uploads can be deleted. Each slot goes to one caller only.
    async fn take_stale_upload_slots(&self, before: Ts, limit: u32) -> Result<Vec<Uuid>>;
    /// Removes up to `limit` draft photos created before `before` that were never attached.
    async fn take_stale_drafts(&self, before: Ts, limit: u32) -> Result<Vec<StoredPhoto>>;
    /// Whether any photo still uses a rendition with this content hash.
    async fn rendition_in_use(&self, sha256: &str) -> Result<bool>;
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct SlotRow {
    pub id: Uuid,
    pub report_id: Option<Uuid>,
    pub uploader_kind: String,
    pub device_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub operator_id: Option<Uuid>,
    pub purpose: String,
    pub created_at: Ts,
    pub expires_at: Ts,
}

impl SlotRow {
    pub fn into_domain(self) -> Result<UploadSlot> {
        Ok(UploadSlot {
            id: self.id,
            report_id: self.report_id,
            uploader: Uploader::from_columns(
                &self.uploader_kind,
                self.device_id,
                self.user_id,
                self.operator_id,
            )?,
            purpose: PhotoPurpose::parse(&self.purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("photo purpose {}", self.purpose)))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

#[doc(hidden)]
pub const SLOT_COLUMNS: &str = "id, report_id, uploader_kind, device_id, user_id, operator_id, \
    purpose, created_at, expires_at";

#[doc(hidden)]
pub const PHOTO_COLUMNS: &str = "id, report_id, uploader_kind, device_id, user_id, \
    operator_id, purpose, detected_type, width, height, large_sha256, large_width, \
    large_height, thumb_sha256, thumb_width, thumb_height, gps_distance_m, gps_far, \
    draft_gps_lat, draft_gps_lon, approved, moderated_by, moderated_at, created_at";

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct PhotoRow {
    pub id: Uuid,
    pub report_id: Option<Uuid>,
    pub uploader_kind: String,
    pub device_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub operator_id: Option<Uuid>,
    pub purpose: String,
    pub detected_type: String,
    pub width: i32,
    pub height: i32,
    pub large_sha256: String,
    pub large_width: i32,
    pub large_height: i32,
    pub thumb_sha256: String,
    pub thumb_width: i32,
    pub thumb_height: i32,
    pub gps_distance_m: Option<f64>,
    pub gps_far: bool,
    pub draft_gps_lat: Option<f64>,
    pub draft_gps_lon: Option<f64>,
    pub approved: bool,
    pub moderated_by: Option<Uuid>,
    pub moderated_at: Option<Ts>,
    pub created_at: Ts,
}

fn dimension(value: i32) -> Result<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("photo dimension {value}")))
}

#[doc(hidden)]
pub fn stored_dimension(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl PhotoRow {
    pub fn into_domain(self) -> Result<StoredPhoto> {
        Ok(StoredPhoto {
            id: self.id,
            report_id: self.report_id,
            uploader: Uploader::from_columns(
                &self.uploader_kind,
                self.device_id,
                self.user_id,
                self.operator_id,
            )?,
            purpose: PhotoPurpose::parse(&self.purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("photo purpose {}", self.purpose)))?,
            detected_type: self.detected_type,
            width: dimension(self.width)?,
            height: dimension(self.height)?,
            large: StoredRendition {
                sha256: self.large_sha256,
                width: dimension(self.large_width)?,
                height: dimension(self.large_height)?,
            },
            thumbnail: StoredRendition {
                sha256: self.thumb_sha256,
                width: dimension(self.thumb_width)?,
                height: dimension(self.thumb_height)?,
            },
            gps_distance_m: self.gps_distance_m,
            gps_far: self.gps_far,
            draft_gps: self.draft_gps_lat.zip(self.draft_gps_lon),
            approved: self.approved,
            moderated_by: self.moderated_by,
            moderated_at: self.moderated_at,
            created_at: self.created_at,
        })
    }
}

// The SQL of the trait above: functions of [`Sql`](crate::Sql), by concern.
mod slots;
mod stored;

/// `impl PhotoStore for $store`, delegating to the functions of [`Sql`](crate::Sql).
#[macro_export]
macro_rules! impl_photo_store {
    ($store:ty) => {
        const _: () = {
            use uuid::Uuid;
            use $crate::{
                NewPhoto, PhotoAttachment, PhotoModeration, Result, Sql, StoredPhoto, Ts,
                UploadSlot,
            };

            #[$crate::async_trait]
            impl $crate::PhotoStore for $store {
                async fn create_upload_slot(&self, slot: &UploadSlot) -> Result<()> {
                    Sql(self).create_upload_slot(slot).await
                }

                async fn upload_slot(&self, id: Uuid) -> Result<Option<UploadSlot>> {
                    Sql(self).upload_slot(id).await
                }

                async fn claim_upload_slot(&self, id: Uuid) -> Result<Option<UploadSlot>> {
                    Sql(self).claim_upload_slot(id).await
                }

                async fn release_upload_slot(&self, id: Uuid) -> Result<()> {
                    Sql(self).release_upload_slot(id).await
                }

                async fn insert_photo(&self, photo: &NewPhoto) -> Result<()> {
                    Sql(self).insert_photo(photo).await
                }

                async fn photo(&self, id: Uuid) -> Result<Option<StoredPhoto>> {
                    Sql(self).photo(id).await
                }

                async fn report_photos(&self, report_id: Uuid) -> Result<Vec<StoredPhoto>> {
                    Sql(self).report_photos(report_id).await
                }

                async fn attach_photo(&self, attachment: &PhotoAttachment) -> Result<bool> {
                    Sql(self).attach_photo(attachment).await
                }

                async fn moderate_photo(&self, moderation: &PhotoModeration) -> Result<bool> {
                    Sql(self).moderate_photo(moderation).await
                }

                async fn take_stale_upload_slots(
                    &self,
                    before: Ts,
                    limit: u32,
                ) -> Result<Vec<Uuid>> {
                    Sql(self).take_stale_upload_slots(before, limit).await
                }

                async fn take_stale_drafts(
                    &self,
                    before: Ts,
                    limit: u32,
                ) -> Result<Vec<StoredPhoto>> {
                    Sql(self).take_stale_drafts(before, limit).await
                }

                async fn rendition_in_use(&self, sha256: &str) -> Result<bool> {
                    Sql(self).rendition_in_use(sha256).await
                }
            }
        };
    };
}
