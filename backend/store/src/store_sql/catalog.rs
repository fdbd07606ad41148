//! The catalogue: jurisdictions, services, operators and contracts (zones). Every write
//! bumps the catalogue revision, so that every server reloads it.

use crate::{
    ContractRow, JurisdictionRow, OperatorRecord, OperatorRow, Progress, Result, ServiceRow,
    SharedWrites, Sql, StoreError, Ts, ZoneImportSummary, area_to_json, convert_all,
};
use balagh_domain::stats::StatisticsOverrides;
use balagh_domain::zones::ZoneFeature;
use balagh_domain::{Contract, Jurisdiction, JurisdictionId, Language, LocalizedText, Service};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q [Language]>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q StatisticsOverrides>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q LocalizedText>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q Service>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (i64,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> JurisdictionRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ServiceRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> OperatorRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ContractRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// The counter every catalogue change bumps.
    pub async fn catalog_revision(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT revision FROM catalog_revision WHERE id = 1")
            .fetch_one(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// Creates or updates a jurisdiction, with the built-in service groups it lacks.
    pub async fn upsert_jurisdiction(&self, j: &Jurisdiction) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query(
            "INSERT INTO jurisdictions (id, name, time_zone, languages, \
             default_language, reference_prefix, boundary, statistics, \
             currency_code, currency_exponent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             time_zone = excluded.time_zone, languages = excluded.languages, \
             default_language = excluded.default_language, \
             reference_prefix = excluded.reference_prefix, boundary = excluded.boundary, \
             statistics = excluded.statistics, currency_code = excluded.currency_code, \
             currency_exponent = excluded.currency_exponent",
        )
        .bind(j.id.as_str())
        .bind(j.name.as_str())
        .bind(j.time_zone.as_str())
        .bind(Json(j.languages.as_slice()))
        .bind(j.default_language.code())
        .bind(j.reference_prefix.as_str())
        .bind(Json(area_to_json(&j.boundary)))
        .bind(Json(&j.statistics))
        .bind(j.currency.code())
        .bind(i32::from(j.currency.exponent()))
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        // Every jurisdiction starts with the built-in groups (the migration
        // seeded those that existed before groups were data).
        for group in balagh_domain::ServiceGroupDefinition::built_in() {
            sqlx::query(
                "INSERT INTO service_groups (jurisdiction_id, code, name, icon, \
                 position) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (jurisdiction_id, code) DO NOTHING",
            )
            .bind(j.id.as_str())
            .bind(group.code.as_str())
            .bind(Json(&group.name))
            .bind(group.icon.as_deref())
            .bind(i32::try_from(group.order).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        S::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(S::error)
    }

    /// Every jurisdiction, by id.
    pub async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>> {
        let rows = sqlx::query_as::<_, JurisdictionRow>(
            "SELECT id, name, time_zone, languages, default_language, \
             reference_prefix, boundary, statistics, currency_code, \
             currency_exponent FROM jurisdictions ORDER BY id",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        convert_all(rows, JurisdictionRow::into_domain)
    }

    /// Creates or updates (and reactivates) a jurisdiction's services.
    pub async fn upsert_services(
        &self,
        jurisdiction: &JurisdictionId,
        services: &[Service],
    ) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        for service in services {
            sqlx::query(
                "INSERT INTO services (jurisdiction_id, code, service_group, \
                 definition, active) VALUES ($1, $2, $3, $4, TRUE) \
                 ON CONFLICT (jurisdiction_id, code) DO UPDATE SET \
                 service_group = excluded.service_group, \
                 definition = excluded.definition, active = TRUE",
            )
            .bind(jurisdiction.as_str())
            .bind(service.code.as_str())
            .bind(service.group.as_str())
            .bind(Json(service))
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        S::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(S::error)
    }

    /// Active services of every jurisdiction.
    pub async fn services(&self) -> Result<Vec<(JurisdictionId, Service)>> {
        let rows = sqlx::query_as::<_, ServiceRow>(
            "SELECT jurisdiction_id, definition FROM services WHERE active \
             ORDER BY jurisdiction_id, service_group, code",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        convert_all(rows, |row| {
            let j = balagh_domain::Slug::parse("jurisdiction_id", &row.jurisdiction_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((j, row.definition.0))
        })
    }

    /// Creates or updates operators and contracts from zone features, in one transaction.
    pub async fn upsert_zones(
        &self,
        jurisdiction: &JurisdictionId,
        zones: &[ZoneFeature],
        progress: Progress<'_>,
    ) -> Result<ZoneImportSummary> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let mut operators = std::collections::BTreeSet::new();
        for (done, zone) in zones.iter().enumerate() {
            let operator_id: Uuid = sqlx::query_scalar(
                "INSERT INTO operators (id, jurisdiction_id, slug, name) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (jurisdiction_id, slug) \
                 DO UPDATE SET name = excluded.name RETURNING id",
            )
            .bind(Uuid::now_v7())
            .bind(jurisdiction.as_str())
            .bind(zone.operator.as_str())
            .bind(zone.operator_name.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(S::error)?;
            operators.insert(operator_id);
            sqlx::query(
                "INSERT INTO contracts (id, jurisdiction_id, reference, operator_id, \
                 service_group, zone_name, zone, valid_from, valid_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (jurisdiction_id, reference) DO UPDATE SET \
                 operator_id = excluded.operator_id, \
                 service_group = excluded.service_group, \
                 zone_name = excluded.zone_name, zone = excluded.zone, \
                 valid_from = excluded.valid_from, valid_until = excluded.valid_until",
            )
            .bind(Uuid::now_v7())
            .bind(jurisdiction.as_str())
            .bind(zone.contract_reference.as_str())
            .bind(operator_id)
            .bind(zone.group.as_str())
            .bind(zone.zone_name.as_str())
            .bind(Json(area_to_json(&zone.zone)))
            .bind(Ts::new(zone.valid_from))
            .bind(zone.valid_until.map(Ts::new))
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
            progress(done + 1);
        }
        S::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(ZoneImportSummary {
            operators: operators.len(),
            contracts: zones.len(),
        })
    }

    /// Every operator, by jurisdiction and slug.
    pub async fn operators(&self) -> Result<Vec<OperatorRecord>> {
        let rows = sqlx::query_as::<_, OperatorRow>(
            "SELECT id, jurisdiction_id, slug, name FROM operators \
             ORDER BY jurisdiction_id, slug",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        convert_all(rows, OperatorRow::into_domain)
    }

    /// Every contract, by jurisdiction and reference.
    pub async fn contracts(&self) -> Result<Vec<Contract>> {
        let rows = sqlx::query_as::<_, ContractRow>(
            "SELECT id, jurisdiction_id, reference, operator_id, service_group, \
             zone_name, zone, valid_from, valid_until FROM contracts \
             ORDER BY jurisdiction_id, reference",
        )
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        convert_all(rows, ContractRow::into_domain)
    }
}
