//! The SMS gateways staff configure.

use super::{SMS_GATEWAY_COLUMNS, SmsGateway};
use crate::{Result, Sql, SqlBackend, SqlDb, Ts};
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
    for<'r> SmsGateway: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Stores a new gateway.
    pub async fn create_sms_gateway(&self, g: &SmsGateway) -> Result<()> {
        let sql = format!(
            "INSERT INTO sms_gateways ({SMS_GATEWAY_COLUMNS}) VALUES ($1, $2, $3, \
             $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(g.id)
            .bind(g.jurisdiction_id.as_str())
            .bind(g.kind.as_str())
            .bind(g.name.as_str())
            .bind(g.secret.as_str())
            .bind(g.inbound_token.as_str())
            .bind(g.send_url.as_deref())
            .bind(g.send_username.as_deref())
            .bind(g.send_password.as_deref())
            .bind(g.public_number.as_deref())
            .bind(g.per_number_per_hour)
            .bind(g.per_gateway_per_hour)
            .bind(g.created_by)
            .bind(g.created_at)
            .bind(g.disabled_at)
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(())
    }

    /// Gateways of a jurisdiction, disabled ones included, oldest first.
    pub async fn sms_gateways(&self, jurisdiction: &str) -> Result<Vec<SmsGateway>> {
        let sql = format!(
            "SELECT {SMS_GATEWAY_COLUMNS} FROM sms_gateways \
             WHERE jurisdiction_id = $1 ORDER BY created_at, id"
        );
        sqlx::query_as::<_, SmsGateway>(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// One gateway, disabled or not.
    pub async fn sms_gateway(&self, id: Uuid) -> Result<Option<SmsGateway>> {
        let sql = format!("SELECT {SMS_GATEWAY_COLUMNS} FROM sms_gateways WHERE id = $1");
        sqlx::query_as::<_, SmsGateway>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.writer())
            .await
            .map_err(S::error)
    }

    /// The enabled gateway of this kind whose inbound URL ends with `token`.
    pub async fn sms_gateway_by_token(
        &self,
        kind: &str,
        token: &str,
    ) -> Result<Option<SmsGateway>> {
        // The writer: a gateway disabled a moment ago must not take messages.
        let sql = format!(
            "SELECT {SMS_GATEWAY_COLUMNS} FROM sms_gateways WHERE kind = $1 \
             AND inbound_token = $2 AND disabled_at IS NULL"
        );
        sqlx::query_as::<_, SmsGateway>(sqlx::AssertSqlSafe(sql))
            .bind(kind)
            .bind(token)
            .fetch_optional(self.0.writer())
            .await
            .map_err(S::error)
    }

    /// Disables a gateway of the jurisdiction; false if there is no such enabled gateway.
    pub async fn disable_sms_gateway(&self, jurisdiction: &str, id: Uuid, at: Ts) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sms_gateways SET disabled_at = $3 WHERE jurisdiction_id = $1 \
             AND id = $2 AND disabled_at IS NULL",
        )
        .bind(jurisdiction)
        .bind(id)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }
}
