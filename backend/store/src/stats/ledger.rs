//! The ε ledger: releases that spend privacy budget, recorded with one ledger line per scope
//! in the same transaction, and the lines read back.

use super::{LedgerLine, ReleaseOutcome, signed};
use crate::{Result, Sql, SqlBackend, Ts};
use balagh_domain::stats::{Epsilon, EpsilonLedger, LedgerEntry, LedgerError, ReleaseId, Spent};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};

type Conn<S> = <<S as SqlBackend>::Db as Database>::Connection;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (Json<Value>,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String, String, i64, i64): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Spends `epsilon` in every scope and stores the release, in one transaction; a
    /// release already stored is returned as it was.
    pub async fn record_release(
        &self,
        release_id: &ReleaseId,
        scopes: &[String],
        epsilon: Epsilon,
        budget: Epsilon,
        body: &Value,
        now: Ts,
    ) -> Result<ReleaseOutcome> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        // Serialises ε spending across replicas.
        sqlx::query("UPDATE stats_state SET ledger_revision = ledger_revision + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        let existing: Option<Json<Value>> =
            sqlx::query_scalar("SELECT body FROM stats_releases WHERE release_id = $1")
                .bind(release_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(S::error)?;
        if let Some(body) = existing {
            tx.rollback().await.map_err(S::error)?;
            return Ok(ReleaseOutcome::Existing(body.0));
        }
        for scope in scopes {
            if let Err(error) =
                Self::spend_in_scope(&mut tx, scope, release_id, epsilon, budget).await?
            {
                tx.rollback().await.map_err(S::error)?;
                return Ok(ReleaseOutcome::Refused(error));
            }
        }
        Self::insert_release(&mut tx, release_id, scopes, epsilon, budget, body, now).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(ReleaseOutcome::Recorded(body.clone()))
    }

    /// Whether the scope's ledger, replayed under today's budget, can spend `epsilon` for
    /// the release.
    async fn spend_in_scope(
        conn: &mut Conn<S>,
        scope: &str,
        release_id: &ReleaseId,
        epsilon: Epsilon,
        budget: Epsilon,
    ) -> Result<Result<(), LedgerError>> {
        let lines: Vec<(String, i64)> = sqlx::query_as(
            "SELECT release_id, epsilon_micros FROM stats_epsilon_ledger \
             WHERE scope = $1 ORDER BY created_at, release_id",
        )
        .bind(scope)
        .fetch_all(&mut *conn)
        .await
        .map_err(S::error)?;
        let entries = lines.into_iter().filter_map(|(release, micros)| {
            Some(LedgerEntry {
                release: ReleaseId::parse(&release).ok()?,
                epsilon: Epsilon::from_micros(u64::try_from(micros).ok()?).ok()?,
            })
        });
        // A ledger holding more than today's budget (the budget was lowered) refuses
        // everything.
        let mut ledger = match EpsilonLedger::from_entries(budget, entries) {
            Ok(ledger) => ledger,
            Err(error) => return Ok(Err(error)),
        };
        Ok(match ledger.spend(release_id.clone(), epsilon) {
            Ok(Spent::Recorded(_)) | Ok(Spent::AlreadyRecorded(_)) => Ok(()),
            Err(error) => Err(error),
        })
    }

    /// The release and its ledger line in each scope.
    async fn insert_release(
        conn: &mut Conn<S>,
        release_id: &ReleaseId,
        scopes: &[String],
        epsilon: Epsilon,
        budget: Epsilon,
        body: &Value,
        now: Ts,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO stats_releases (release_id, epsilon_micros, body, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(release_id.as_str())
        .bind(signed(epsilon.micros()))
        .bind(Json(body.clone()))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(S::error)?;
        for scope in scopes {
            sqlx::query(
                "INSERT INTO stats_epsilon_ledger (scope, release_id, epsilon_micros, \
                 budget_micros, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(scope.as_str())
            .bind(release_id.as_str())
            .bind(signed(epsilon.micros()))
            .bind(signed(budget.micros()))
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(S::error)?;
        }
        Ok(())
    }

    /// The ledger lines of scopes (all when empty).
    pub async fn epsilon_ledger(&self, scopes: &[String]) -> Result<Vec<LedgerLine>> {
        let mut q = QueryBuilder::<S::Db>::new(
            "SELECT scope, release_id, epsilon_micros, budget_micros \
             FROM stats_epsilon_ledger",
        );
        if !scopes.is_empty() {
            q.push(" WHERE scope IN (");
            let mut list = q.separated(", ");
            for s in scopes {
                list.push_bind(s.as_str());
            }
            q.push(")");
        }
        q.push(" ORDER BY scope, created_at, release_id");
        let rows: Vec<(String, String, i64, i64)> = q
            .build_query_as()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(
                |(scope, release_id, epsilon_micros, budget_micros)| LedgerLine {
                    scope,
                    release_id,
                    epsilon_micros,
                    budget_micros,
                },
            )
            .collect())
    }
}
