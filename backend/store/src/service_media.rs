//! Per-service videos (short clips per language, Moroccan Sign Language included) and an
//! easy-to-read explanation per page language, set by staff and shown beside the service in
//! the resident app (issue 20). [`ServiceMediaStore`] is a supertrait of
//! [`Store`](crate::Store); its SQL is the functions of [`Sql`] below, which each backend
//! delegates to with [`impl_service_media_store!`](crate::impl_service_media_store).

use crate::{Result, SharedWrites, Sql};
use balagh_domain::JurisdictionId;
use serde::{Deserialize, Serialize};
use sqlx::{Database, Encode, Executor, FromRow, Type};
use std::collections::BTreeMap;

/// One video of a service: its language (a BCP 47 tag such as `fr`, `ary` or `xms`), an
/// `https` URL (checked by the API) and an optional title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceVideo {
    pub language: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// What a service carries besides its definition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceMedia {
    pub service_code: String,
    pub videos: Vec<ServiceVideo>,
    /// Easy-to-read text by page language (`fr`, `ar`, `en`).
    pub easy_read: BTreeMap<String, String>,
}

impl ServiceMedia {
    pub fn is_empty(&self) -> bool {
        self.videos.is_empty() && self.easy_read.is_empty()
    }
}

#[async_trait::async_trait]
pub trait ServiceMediaStore: Send + Sync {
    /// Replaces a service's videos and easy-to-read texts (nothing left: the row goes);
    /// bumps the catalogue revision.
    async fn set_service_media(
        &self,
        jurisdiction: &JurisdictionId,
        media: &ServiceMedia,
    ) -> Result<()>;
    /// Every service that carries any, of every jurisdiction (the catalogue loads them all
    /// at once), by jurisdiction then service code.
    async fn service_media(&self) -> Result<Vec<(JurisdictionId, ServiceMedia)>>;
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct ServiceMediaRow {
    pub jurisdiction_id: String,
    pub service_code: String,
    pub videos: String,
    pub easy_read: String,
}

impl ServiceMediaRow {
    /// The JSON columns `videos` and `easy_read` of `media`.
    pub fn columns(media: &ServiceMedia) -> Result<(String, String)> {
        let encode =
            |e: serde_json::Error| crate::StoreError::Corrupt(format!("service media: {e}"));
        Ok((
            serde_json::to_string(&media.videos).map_err(encode)?,
            serde_json::to_string(&media.easy_read).map_err(encode)?,
        ))
    }

    pub fn into_media(self) -> Result<(JurisdictionId, ServiceMedia)> {
        let corrupt = |e: serde_json::Error| {
            crate::StoreError::Corrupt(format!("service media of {}: {e}", self.service_code))
        };
        let jurisdiction = balagh_domain::Slug::parse("jurisdiction_id", &self.jurisdiction_id)
            .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
        let media = ServiceMedia {
            videos: serde_json::from_str(&self.videos).map_err(corrupt)?,
            easy_read: serde_json::from_str(&self.easy_read).map_err(corrupt)?,
            service_code: self.service_code,
        };
        Ok((jurisdiction, media))
    }
}

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> ServiceMediaRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Replaces a service's videos and easy-to-read texts (nothing left: the row goes), and
    /// bumps the catalogue revision: servers hold the media with the catalogue.
    pub async fn set_service_media(
        &self,
        jurisdiction: &JurisdictionId,
        media: &ServiceMedia,
    ) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        if media.is_empty() {
            sqlx::query(
                "DELETE FROM service_media WHERE jurisdiction_id = $1 AND service_code = $2",
            )
            .bind(jurisdiction.as_str())
            .bind(media.service_code.as_str())
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        } else {
            let (videos, easy_read) = ServiceMediaRow::columns(media)?;
            sqlx::query(
                "INSERT INTO service_media (jurisdiction_id, service_code, videos, easy_read) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (jurisdiction_id, service_code) DO UPDATE \
                 SET videos = excluded.videos, easy_read = excluded.easy_read",
            )
            .bind(jurisdiction.as_str())
            .bind(media.service_code.as_str())
            .bind(videos)
            .bind(easy_read)
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        S::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(())
    }

    /// Every service that carries any, of every jurisdiction, by jurisdiction then code.
    pub async fn service_media(&self) -> Result<Vec<(JurisdictionId, ServiceMedia)>> {
        let rows: Vec<ServiceMediaRow> = sqlx::query_as(
            "SELECT jurisdiction_id, service_code, videos, easy_read FROM service_media \
             ORDER BY jurisdiction_id, service_code",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        rows.into_iter().map(ServiceMediaRow::into_media).collect()
    }
}

/// `impl ServiceMediaStore for $store`, delegating to the functions of [`Sql`].
#[macro_export]
macro_rules! impl_service_media_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::JurisdictionId;
            use $crate::{Result, ServiceMedia, Sql};

            #[$crate::async_trait]
            impl $crate::ServiceMediaStore for $store {
                async fn set_service_media(
                    &self,
                    jurisdiction: &JurisdictionId,
                    media: &ServiceMedia,
                ) -> Result<()> {
                    Sql(self).set_service_media(jurisdiction, media).await
                }

                async fn service_media(&self) -> Result<Vec<(JurisdictionId, ServiceMedia)>> {
                    Sql(self).service_media().await
                }
            }
        };
    };
}
