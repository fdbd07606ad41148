//! The database itself (a round trip, closing the pools) and the residents' devices.

use crate::{NewDevice, Result, Sql, SqlBackend, Ts};
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q [u8]: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// A round trip to the database (for readiness checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(self.0.reader())
            .await
            .map_err(S::error)?;
        Ok(())
    }

    /// Closes the pools; pending statements finish first.
    pub async fn close(&self) {
        self.0.writer().close().await;
        self.0.reader().close().await;
    }

    /// Registers a device (by its token's hash).
    pub async fn create_device(&self, device: &NewDevice) -> Result<()> {
        sqlx::query("INSERT INTO devices (id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(device.id)
            .bind(device.token_hash.as_slice())
            .bind(device.created_at)
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(())
    }

    /// The device holding this token (looked up by its hash).
    pub async fn device_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Uuid>> {
        sqlx::query_scalar("SELECT id FROM devices WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)
    }
}
