//! Escalations delivered to the inboxes of managers and staff, and reading an inbox.

use crate::writes::SharedWrites;
use crate::{Escalation, Notification, Result, Sql, SqlDb, Ts};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> Notification: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Delivers an escalation to the inboxes of the operator's managers and the
    /// jurisdiction's staff admins and agents, once per user; how many were new.
    pub async fn deliver_escalation(&self, e: &Escalation) -> Result<u64> {
        let recipients: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM users WHERE active AND ( \
             (role = 'operator_manager' AND operator_id = $1) \
             OR (role IN ('staff_admin', 'staff_agent') AND jurisdiction_id = $2)) \
             ORDER BY id",
        )
        .bind(e.operator.map(|o| o.0))
        .bind(e.jurisdiction.as_str())
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        if recipients.is_empty() {
            return Ok(0);
        }
        let mut insert = QueryBuilder::<S::Db>::new(
            "INSERT INTO user_notifications (id, message_id, user_id, event_type, \
             report_id, payload, created_at) ",
        );
        insert.push_values(&recipients, |mut b, user| {
            b.push_bind(Uuid::now_v7())
                .push_bind(e.message_id)
                .push_bind(*user)
                .push_bind(e.event_type.as_str())
                .push_bind(e.report_id)
                .push_bind(Json(e.payload.clone()))
                .push_bind(e.at);
        });
        insert.push(" ON CONFLICT (message_id, user_id) DO NOTHING");
        let done = insert
            .build()
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done))
    }

    /// A user's notifications, newest first.
    pub async fn notifications(&self, user_id: Uuid, limit: u32) -> Result<Vec<Notification>> {
        sqlx::query_as(
            "SELECT id, event_type, report_id, payload, created_at, read_at \
             FROM user_notifications WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(i64::from(limit))
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)
    }
}
