//! Screens in the commune's reception areas (issue 21): registered by staff, each opened at
//! a secret URL whose token is stored only as its SHA-256. [`ScreenStore`] is a supertrait
//! of [`Store`](crate::Store); both backends share its SQL through
//! [`impl_screen_store!`](crate::impl_screen_store).

use crate::{Result, Ts};
use uuid::Uuid;

/// A screen as stored (never its token).
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// Services it shows, in order.
    pub service_codes: Vec<String>,
    /// Languages it rotates through, in order (`fr`, `ar`, `en`).
    pub languages: Vec<String>,
    /// `landscape` or `portrait`.
    pub orientation: String,
    pub created_by: Option<Uuid>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub revoked_at: Option<Ts>,
}

/// What staff may change on a screen (everything but its token and history).
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenSettings {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub service_codes: Vec<String>,
    pub languages: Vec<String>,
    pub orientation: String,
}

#[derive(Debug, Clone)]
pub struct NewScreen {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub settings: ScreenSettings,
    /// SHA-256 of the secret token of its URL.
    pub token_hash: Vec<u8>,
    pub created_by: Option<Uuid>,
    pub created_at: Ts,
}

#[async_trait::async_trait]
pub trait ScreenStore: Send + Sync {
    async fn create_screen(&self, screen: &NewScreen) -> Result<()>;
    /// Screens of a jurisdiction, revoked ones included, oldest first.
    async fn screens(&self, jurisdiction: &str) -> Result<Vec<Screen>>;
    /// One screen of a jurisdiction (revoked or not).
    async fn screen(&self, jurisdiction: &str, id: Uuid) -> Result<Option<Screen>>;
    /// The unrevoked screen whose token has this hash.
    async fn screen_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Screen>>;
    /// Replaces an unrevoked screen's settings; `None` if there is no such screen.
    async fn update_screen(
        &self,
        jurisdiction: &str,
        id: Uuid,
        settings: &ScreenSettings,
        at: Ts,
    ) -> Result<Option<Screen>>;
    /// Revokes a screen: its URL answers 404 from then on. False if already revoked or
    /// absent.
    async fn revoke_screen(&self, jurisdiction: &str, id: Uuid, at: Ts) -> Result<bool>;
    /// Clears the urgent flag of a running notice of a jurisdiction (the screens let it
    /// go); false if there is no such urgent notice.
    async fn clear_notice_urgency(&self, jurisdiction: &str, id: Uuid, at: Ts) -> Result<bool>;
}

#[doc(hidden)]
pub const SCREEN_COLUMNS: &str = "id, jurisdiction_id, name, lat, lon, service_codes, languages, \
    orientation, created_by, created_at, updated_at, revoked_at";

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct ScreenRow {
    id: Uuid,
    jurisdiction_id: String,
    name: String,
    lat: f64,
    lon: f64,
    service_codes: sqlx::types::Json<Vec<String>>,
    languages: sqlx::types::Json<Vec<String>>,
    orientation: String,
    created_by: Option<Uuid>,
    created_at: Ts,
    updated_at: Ts,
    revoked_at: Option<Ts>,
}

impl ScreenRow {
    pub fn into_domain(self) -> Screen {
        Screen {
            id: self.id,
            jurisdiction_id: self.jurisdiction_id,
            name: self.name,
            lat: self.lat,
            lon: self.lon,
            service_codes: self.service_codes.0,
            languages: self.languages.0,
            orientation: self.orientation,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revoked_at: self.revoked_at,
        }
    }
}

/// `impl ScreenStore for $store` over `sqlx::Pool<$db>`, with the same inherent items as
/// [`impl_sql_store!`](crate::impl_sql_store) (`reader`, `writer`, `error`).
#[macro_export]
macro_rules! impl_screen_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx::{self, types::Json};
            use $crate::*;
            use uuid::Uuid;

            #[$crate::async_trait]
            impl ScreenStore for $store {
                async fn create_screen(&self, s: &NewScreen) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO screens (id, jurisdiction_id, name, lat, lon, \
                         service_codes, languages, orientation, token_hash, created_by, \
                         created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                    )
                    .bind(s.id)
                    .bind(s.jurisdiction_id.clone())
                    .bind(s.settings.name.clone())
                    .bind(s.settings.lat)
                    .bind(s.settings.lon)
                    .bind(Json(s.settings.service_codes.clone()))
                    .bind(Json(s.settings.languages.clone()))
                    .bind(s.settings.orientation.clone())
                    .bind(s.token_hash.clone())
                    .bind(s.created_by)
                    .bind(s.created_at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn screens(&self, jurisdiction: &str) -> Result<Vec<Screen>> {
                    let sql = format!(
                        "SELECT {SCREEN_COLUMNS} FROM screens WHERE jurisdiction_id = $1 \
                         ORDER BY created_at, id"
                    );
                    Ok(sqlx::query_as::<_, ScreenRow>(sqlx::AssertSqlSafe(sql))
                        .bind(jurisdiction.to_owned())
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .into_iter()
                        .map(ScreenRow::into_domain)
                        .collect())
                }

                async fn screen(&self, jurisdiction: &str, id: Uuid) -> Result<Option<Screen>> {
                    let sql = format!(
                        "SELECT {SCREEN_COLUMNS} FROM screens \
                         WHERE jurisdiction_id = $1 AND id = $2"
                    );
                    Ok(sqlx::query_as::<_, ScreenRow>(sqlx::AssertSqlSafe(sql))
                        .bind(jurisdiction.to_owned())
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)?
                        .map(ScreenRow::into_domain))
                }

                async fn screen_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Screen>> {
                    // The writer: a screen revoked a moment ago must not show on a replica.
                    let sql = format!(
                        "SELECT {SCREEN_COLUMNS} FROM screens \
                         WHERE token_hash = $1 AND revoked_at IS NULL"
                    );
                    Ok(sqlx::query_as::<_, ScreenRow>(sqlx::AssertSqlSafe(sql))
                        .bind(token_hash.to_vec())
                        .fetch_optional(self.writer())
                        .await
                        .map_err(<$store>::error)?
                        .map(ScreenRow::into_domain))
                }

                async fn update_screen(
                    &self,
                    jurisdiction: &str,
                    id: Uuid,
                    s: &ScreenSettings,
                    at: Ts,
                ) -> Result<Option<Screen>> {
                    let done = sqlx::query(
                        "UPDATE screens SET name = $3, lat = $4, lon = $5, service_codes = $6, \
                         languages = $7, orientation = $8, updated_at = $9 \
                         WHERE jurisdiction_id = $1 AND id = $2 AND revoked_at IS NULL",
                    )
                    .bind(jurisdiction.to_owned())
                    .bind(id)
                    .bind(s.name.clone())
                    .bind(s.lat)
                    .bind(s.lon)
                    .bind(Json(s.service_codes.clone()))
                    .bind(Json(s.languages.clone()))
                    .bind(s.orientation.clone())
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    if done.rows_affected() == 0 {
                        return Ok(None);
                    }
                    let sql = format!(
                        "SELECT {SCREEN_COLUMNS} FROM screens \
                         WHERE jurisdiction_id = $1 AND id = $2"
                    );
                    Ok(sqlx::query_as::<_, ScreenRow>(sqlx::AssertSqlSafe(sql))
                        .bind(jurisdiction.to_owned())
                        .bind(id)
                        .fetch_optional(self.writer())
                        .await
                        .map_err(<$store>::error)?
                        .map(ScreenRow::into_domain))
                }

                async fn revoke_screen(&self, jurisdiction: &str, id: Uuid, at: Ts) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE screens SET revoked_at = $3, updated_at = $3 \
                         WHERE jurisdiction_id = $1 AND id = $2 AND revoked_at IS NULL",
                    )
                    .bind(jurisdiction.to_owned())
                    .bind(id)
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn clear_notice_urgency(
                    &self,
                    jurisdiction: &str,
                    id: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE service_notices SET urgent = $4 WHERE jurisdiction_id = $1 \
                         AND id = $2 AND urgent AND withdrawn_at IS NULL AND valid_until > $3",
                    )
                    .bind(jurisdiction.to_owned())
                    .bind(id)
                    .bind(at)
                    .bind(false)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }
            }
        };
    };
}
