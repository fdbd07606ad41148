//! Service groups per jurisdiction (issue 19): the built-in three and those a commune adds.
//! [`ServiceGroupStore`] is a supertrait of [`Store`](crate::Store); its SQL is the
//! functions of [`Sql`] below, which each backend delegates to with
//! [`impl_service_group_store!`](crate::impl_service_group_store).

use crate::{Result, SharedWrites, Sql, SqlDb};
use balagh_domain::{JurisdictionId, LocalizedText, ServiceGroup, ServiceGroupDefinition};
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};

#[async_trait::async_trait]
pub trait ServiceGroupStore: Send + Sync {
    /// Every group of every jurisdiction, in display order.
    async fn service_groups(&self) -> Result<Vec<(JurisdictionId, ServiceGroupDefinition)>>;
    /// Adds a group; `false` when the jurisdiction already has one with that code.
    async fn create_service_group(
        &self,
        jurisdiction: &JurisdictionId,
        group: &ServiceGroupDefinition,
    ) -> Result<bool>;
    /// Renames/reorders a group; `false` when there is no such group.
    async fn update_service_group(
        &self,
        jurisdiction: &JurisdictionId,
        group: &ServiceGroupDefinition,
    ) -> Result<bool>;
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct ServiceGroupRow {
    pub jurisdiction_id: String,
    pub code: String,
    pub name: sqlx::types::Json<LocalizedText>,
    pub icon: Option<String>,
    pub position: i32,
}

impl ServiceGroupRow {
    pub fn into_domain(self) -> Result<(JurisdictionId, ServiceGroupDefinition)> {
        let corrupt = |e: balagh_domain::FieldError| {
            crate::StoreError::Corrupt(format!("service group {}: {e}", self.code))
        };
        let jurisdiction = balagh_domain::Slug::parse("jurisdiction_id", &self.jurisdiction_id)
            .map_err(corrupt)?;
        let code = ServiceGroup::parse(&self.code).map_err(corrupt)?;
        Ok((
            jurisdiction,
            ServiceGroupDefinition {
                code,
                name: self.name.0,
                icon: self.icon,
                order: u32::try_from(self.position).unwrap_or(0),
            },
        ))
    }
}

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> Json<&'q LocalizedText>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> ServiceGroupRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Every group of every jurisdiction, in display order.
    pub async fn service_groups(&self) -> Result<Vec<(JurisdictionId, ServiceGroupDefinition)>> {
        let rows: Vec<ServiceGroupRow> = sqlx::query_as(
            "SELECT jurisdiction_id, code, name, icon, position FROM service_groups \
             ORDER BY jurisdiction_id, position, code",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        rows.into_iter().map(ServiceGroupRow::into_domain).collect()
    }

    /// Adds a group; `false` when the jurisdiction already has one with that code.
    pub async fn create_service_group(
        &self,
        jurisdiction: &JurisdictionId,
        group: &ServiceGroupDefinition,
    ) -> Result<bool> {
        let sql = "INSERT INTO service_groups (jurisdiction_id, code, name, icon, position) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (jurisdiction_id, code) DO NOTHING";
        Ok(self.write_group(sql, jurisdiction, group).await? > 0)
    }

    /// Renames/reorders a group; `false` when there is no such group.
    pub async fn update_service_group(
        &self,
        jurisdiction: &JurisdictionId,
        group: &ServiceGroupDefinition,
    ) -> Result<bool> {
        let sql = "UPDATE service_groups SET name = $3, icon = $4, position = $5 \
                   WHERE jurisdiction_id = $1 AND code = $2";
        Ok(self.write_group(sql, jurisdiction, group).await? > 0)
    }

    /// Writes a group (insert or update) and bumps the catalogue revision so every server
    /// reloads it; the number of rows written.
    async fn write_group(
        &self,
        sql: &'static str,
        jurisdiction: &JurisdictionId,
        group: &ServiceGroupDefinition,
    ) -> Result<u64> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let result = sqlx::query(sql)
            .bind(jurisdiction.as_str())
            .bind(group.code.as_str())
            .bind(Json(&group.name))
            .bind(group.icon.as_deref())
            .bind(i32::try_from(group.order).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        let written = S::Db::rows_affected(&result);
        if written > 0 {
            S::bump_catalog(&mut *tx).await?;
        }
        tx.commit().await.map_err(S::error)?;
        Ok(written)
    }
}

/// `impl ServiceGroupStore for $store`, delegating to the functions of [`Sql`].
#[macro_export]
macro_rules! impl_service_group_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::{JurisdictionId, ServiceGroupDefinition};
            use $crate::{Result, Sql};

            #[$crate::async_trait]
            impl $crate::ServiceGroupStore for $store {
                async fn service_groups(
                    &self,
                ) -> Result<Vec<(JurisdictionId, ServiceGroupDefinition)>> {
                    Sql(self).service_groups().await
                }

                async fn create_service_group(
                    &self,
                    jurisdiction: &JurisdictionId,
                    group: &ServiceGroupDefinition,
                ) -> Result<bool> {
                    Sql(self).create_service_group(jurisdiction, group).await
                }

                async fn update_service_group(
                    &self,
                    jurisdiction: &JurisdictionId,
                    group: &ServiceGroupDefinition,
                ) -> Result<bool> {
                    Sql(self).update_service_group(jurisdiction, group).await
                }
            }
        };
    };
}
