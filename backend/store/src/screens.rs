//! Screens in the commune's reception areas (issue 21): registered by staff, each opened at
//! a secret URL whose token is stored only as its SHA-256. [`ScreenStore`] is a supertrait
//! of [`Store`](crate::Store); its SQL is the functions of [`Sql`] below, which each backend
//! delegates to with [`impl_screen_store!`](crate::impl_screen_store).

use crate::{Result, Sql, SqlBackend, SqlDb, Ts};
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
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

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> &'q [u8]: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> f64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q [String]>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> ScreenRow: FromRow<'r, <S::Db as Database>::Row>,
{
    pub async fn create_screen(&self, s: &NewScreen) -> Result<()> {
        sqlx::query(
            "INSERT INTO screens (id, jurisdiction_id, name, lat, lon, service_codes, \
             languages, orientation, token_hash, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(s.id)
        .bind(s.jurisdiction_id.as_str())
        .bind(s.settings.name.as_str())
        .bind(s.settings.lat)
        .bind(s.settings.lon)
        .bind(Json(s.settings.service_codes.as_slice()))
        .bind(Json(s.settings.languages.as_slice()))
        .bind(s.settings.orientation.as_str())
        .bind(s.token_hash.as_slice())
        .bind(s.created_by)
        .bind(s.created_at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// Screens of a jurisdiction, revoked ones included, oldest first.
    pub async fn screens(&self, jurisdiction: &str) -> Result<Vec<Screen>> {
        let sql = format!(
            "SELECT {SCREEN_COLUMNS} FROM screens WHERE jurisdiction_id = $1 \
             ORDER BY created_at, id"
        );
        Ok(sqlx::query_as::<_, ScreenRow>(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?
            .into_iter()
            .map(ScreenRow::into_domain)
            .collect())
    }

    /// One screen of a jurisdiction (revoked or not).
    pub async fn screen(&self, jurisdiction: &str, id: Uuid) -> Result<Option<Screen>> {
        self.screen_on(self.0.reader(), jurisdiction, id).await
    }

    async fn screen_on(
        &self,
        pool: &sqlx::Pool<S::Db>,
        jurisdiction: &str,
        id: Uuid,
    ) -> Result<Option<Screen>> {
        let sql =
            format!("SELECT {SCREEN_COLUMNS} FROM screens WHERE jurisdiction_id = $1 AND id = $2");
        Ok(sqlx::query_as::<_, ScreenRow>(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(S::error)?
            .map(ScreenRow::into_domain))
    }

    /// The unrevoked screen whose token has this hash.
    pub async fn screen_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Screen>> {
        // The writer: a screen revoked a moment ago must not show on a replica.
        let sql = format!(
            "SELECT {SCREEN_COLUMNS} FROM screens WHERE token_hash = $1 AND revoked_at IS NULL"
        );
        Ok(sqlx::query_as::<_, ScreenRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(self.0.writer())
            .await
            .map_err(S::error)?
            .map(ScreenRow::into_domain))
    }

    /// Replaces an unrevoked screen's settings; `None` if there is no such screen.
    pub async fn update_screen(
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
        .bind(jurisdiction)
        .bind(id)
        .bind(s.name.as_str())
        .bind(s.lat)
        .bind(s.lon)
        .bind(Json(s.service_codes.as_slice()))
        .bind(Json(s.languages.as_slice()))
        .bind(s.orientation.as_str())
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        if S::Db::rows_affected(&done) == 0 {
            return Ok(None);
        }
        self.screen_on(self.0.writer(), jurisdiction, id).await
    }

    /// Revokes a screen; false if already revoked or absent.
    pub async fn revoke_screen(&self, jurisdiction: &str, id: Uuid, at: Ts) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE screens SET revoked_at = $3, updated_at = $3 \
             WHERE jurisdiction_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(jurisdiction)
        .bind(id)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }

    /// Clears the urgent flag of a running notice; false if there is no such notice.
    pub async fn clear_notice_urgency(&self, jurisdiction: &str, id: Uuid, at: Ts) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE service_notices SET urgent = $4 WHERE jurisdiction_id = $1 \
             AND id = $2 AND urgent AND withdrawn_at IS NULL AND valid_until > $3",
        )
        .bind(jurisdiction)
        .bind(id)
        .bind(at)
        .bind(false)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }
}

/// `impl ScreenStore for $store`, delegating to the functions of [`Sql`].
#[macro_export]
macro_rules! impl_screen_store {
    ($store:ty) => {
        const _: () = {
            use uuid::Uuid;
            use $crate::{NewScreen, Result, Screen, ScreenSettings, Sql, Ts};

            #[$crate::async_trait]
            impl $crate::ScreenStore for $store {
                async fn create_screen(&self, screen: &NewScreen) -> Result<()> {
                    Sql(self).create_screen(screen).await
                }

                async fn screens(&self, jurisdiction: &str) -> Result<Vec<Screen>> {
                    Sql(self).screens(jurisdiction).await
                }

                async fn screen(&self, jurisdiction: &str, id: Uuid) -> Result<Option<Screen>> {
                    Sql(self).screen(jurisdiction, id).await
                }

                async fn screen_by_token_hash(&self, hash: &[u8]) -> Result<Option<Screen>> {
                    Sql(self).screen_by_token_hash(hash).await
                }

                async fn update_screen(
                    &self,
                    jurisdiction: &str,
                    id: Uuid,
                    settings: &ScreenSettings,
                    at: Ts,
                ) -> Result<Option<Screen>> {
                    Sql(self)
                        .update_screen(jurisdiction, id, settings, at)
                        .await
                }

                async fn revoke_screen(
                    &self,
                    jurisdiction: &str,
                    id: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    Sql(self).revoke_screen(jurisdiction, id, at).await
                }

                async fn clear_notice_urgency(
                    &self,
                    jurisdiction: &str,
                    id: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    Sql(self).clear_notice_urgency(jurisdiction, id, at).await
                }
            }
        };
    };
}
