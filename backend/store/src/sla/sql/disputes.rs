//! Disputes on breached clocks, and the statement the monthly evidence is drawn from.

use crate::writes::SharedWrites;
use crate::{
    CLOCK_COLUMNS, DISPUTE_COLUMNS, Dispute, DisputeDecision, DisputeScope, DisputeState,
    NewDispute, Result, Sql, StatementClock, StatementScope, Ts,
};
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> Dispute: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> StatementClock: FromRow<'r, <S::Db as Database>::Row>,
{
    /// A dispute on a clock, with its event; a second one on the same clock is
    /// `Conflict(SlaDispute)`.
    pub async fn open_dispute(&self, d: &NewDispute) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query(
            "INSERT INTO sla_disputes (id, report_id, metric, cycle, operator_id, \
             reason, opened_by, opened_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open')",
        )
        .bind(d.id)
        .bind(d.report_id)
        .bind(d.metric.as_str())
        .bind(d.cycle)
        .bind(d.operator.0)
        .bind(d.reason.as_str())
        .bind(d.opened_by)
        .bind(d.at)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        let event = std::slice::from_ref(&d.event);
        S::insert_events(&mut *tx, d.report_id, d.at, event).await?;
        tx.commit().await.map_err(S::error)
    }

    /// A dispute by id.
    pub async fn dispute(&self, id: Uuid) -> Result<Option<Dispute>> {
        let sql = format!("SELECT {DISPUTE_COLUMNS} FROM sla_disputes WHERE id = $1");
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// The disputes of an operator or a jurisdiction, optionally in one state, oldest first.
    pub async fn disputes(
        &self,
        scope: &DisputeScope,
        state: Option<DisputeState>,
        limit: u32,
    ) -> Result<Vec<Dispute>> {
        let mut q = QueryBuilder::<S::Db>::new(format!(
            "SELECT {DISPUTE_COLUMNS} FROM sla_disputes WHERE "
        ));
        match scope {
            DisputeScope::Operator(o) => {
                q.push("operator_id = ").push_bind(o.0);
            }
            DisputeScope::Jurisdiction(j) => {
                q.push("operator_id IN (SELECT id FROM operators WHERE jurisdiction_id = ")
                    .push_bind(j.as_str())
                    .push(")");
            }
        }
        if let Some(state) = state {
            q.push(" AND state = ").push_bind(state.as_str());
        }
        q.push(" ORDER BY opened_at, id LIMIT ")
            .push_bind(i64::from(limit));
        q.build_query_as()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// Decides an open dispute and writes its event; `None` if there is no such open
    /// dispute.
    pub async fn decide_dispute(&self, d: &DisputeDecision) -> Result<Option<Dispute>> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let sql = format!(
            "UPDATE sla_disputes SET state = $2, decided_by = $3, decided_at = $4, \
             decision_note = $5 WHERE id = $1 AND state = 'open' \
             RETURNING {DISPUTE_COLUMNS}"
        );
        let decided: Option<Dispute> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(d.id)
            .bind(if d.accept { "accepted" } else { "rejected" })
            .bind(d.decided_by)
            .bind(d.at)
            .bind(d.note.as_deref())
            .fetch_optional(&mut *tx)
            .await
            .map_err(S::error)?;
        if let Some(dispute) = &decided {
            let event = std::slice::from_ref(&d.event);
            S::insert_events(&mut *tx, dispute.report_id, d.at, event).await?;
        }
        tx.commit().await.map_err(S::error)?;
        Ok(decided)
    }

    /// Clocks of reports created in `[from, until)`, with their evidence.
    pub async fn statement_clocks(
        &self,
        scope: StatementScope,
        from: Ts,
        until: Ts,
    ) -> Result<Vec<StatementClock>> {
        let (column, id) = match scope {
            StatementScope::Operator(o) => ("operator_id", o.0),
            StatementScope::Contract(c) => ("contract_id", c.0),
        };
        let columns = CLOCK_COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, r.reference, r.service_code, r.priority, \
             d.state AS dispute_state FROM sla_clocks c \
             JOIN reports r ON r.id = c.report_id \
             LEFT JOIN sla_disputes d ON d.report_id = c.report_id \
             AND d.metric = c.metric AND d.cycle = c.cycle \
             WHERE c.{column} = $1 AND c.report_created_at >= $2 \
             AND c.report_created_at < $3 \
             ORDER BY c.report_created_at, c.report_id, c.metric, c.cycle"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(from)
            .bind(until)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)
    }
}
