//! Calendars and policy versions: what staff set, read back whole by the SLA engine.

use crate::writes::SharedWrites;
use crate::{Result, Sql, StoreError, StoredPolicy, Ts};
use balagh_domain::JurisdictionId;
use balagh_domain::sla::{CalendarSpec, SlaPolicy};
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

fn jurisdiction(raw: &str) -> Result<JurisdictionId> {
    balagh_domain::Slug::parse("jurisdiction_id", raw)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q CalendarSpec>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q SlaPolicy>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (String, Json<CalendarSpec>): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Json<SlaPolicy>, Ts, Option<Uuid>): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Every jurisdiction's calendar that staff have set.
    pub async fn sla_calendars(&self) -> Result<Vec<(JurisdictionId, CalendarSpec)>> {
        let rows: Vec<(String, Json<CalendarSpec>)> = sqlx::query_as(
            "SELECT jurisdiction_id, definition FROM sla_calendars ORDER BY jurisdiction_id",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        rows.into_iter()
            .map(|(j, spec)| Ok((jurisdiction(&j)?, spec.0)))
            .collect()
    }

    /// Sets a jurisdiction's calendar, bumping the catalog revision.
    pub async fn put_sla_calendar(
        &self,
        jurisdiction: &JurisdictionId,
        spec: &CalendarSpec,
        at: Ts,
        by: Option<Uuid>,
    ) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query(
            "INSERT INTO sla_calendars (jurisdiction_id, definition, updated_at, \
             updated_by) VALUES ($1, $2, $3, $4) ON CONFLICT (jurisdiction_id) \
             DO UPDATE SET definition = excluded.definition, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(jurisdiction.as_str())
        .bind(Json(spec))
        .bind(at)
        .bind(by)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        S::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(S::error)
    }

    /// Every version of every policy.
    pub async fn sla_policies(&self) -> Result<Vec<StoredPolicy>> {
        let rows: Vec<(Json<SlaPolicy>, Ts, Option<Uuid>)> = sqlx::query_as(
            "SELECT definition, created_at, created_by FROM sla_policies \
             ORDER BY contract_id, version",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(|(policy, created_at, created_by)| StoredPolicy {
                policy: policy.0,
                created_at,
                created_by,
            })
            .collect())
    }

    /// Adds a policy version, bumping the catalog revision; a taken version number is
    /// `Conflict(SlaPolicyVersion)`.
    pub async fn add_sla_policy(&self, policy: &SlaPolicy, at: Ts, by: Option<Uuid>) -> Result<()> {
        let effective_from = crate::sla::ts_from_jiff(policy.effective_from)?;
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query(
            "INSERT INTO sla_policies (contract_id, version, effective_from, \
             definition, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(policy.contract.0)
        .bind(policy.version as i32)
        .bind(effective_from)
        .bind(Json(policy))
        .bind(at)
        .bind(by)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        S::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(S::error)
    }
}
