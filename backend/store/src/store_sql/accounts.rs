//! Staff and operator accounts: users, web sessions, API tokens, the attempt counters that
//! throttle logins, and the server's own keys.

use crate::{
    ApiTokenInfo, LoginAttempts, NewApiToken, NewSession, NewUser, Result, Sql, SqlBackend, SqlDb,
    ThrottlePolicy, Ts, UserRow, UserUpdate, UserWithRow, convert_all, scope_columns, user_columns,
};
use balagh_domain::account::{Email, Scope, User};
use sqlx::query::QueryAs;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> &'q [u8]: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (i32, Ts): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> UserWithRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ApiTokenInfo: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Creates an active user with their grant.
    pub async fn create_user(&self, user: &NewUser) -> Result<()> {
        let (jurisdiction, operator) = scope_columns(&user.grant);
        sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, role, \
             jurisdiction_id, operator_id, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8)",
        )
        .bind(user.id)
        .bind(user.email.as_str())
        .bind(user.display_name.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.grant.role().as_str())
        .bind(jurisdiction.as_deref())
        .bind(operator)
        .bind(user.created_at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// A user by id.
    pub async fn user(&self, id: Uuid) -> Result<Option<User>> {
        let sql = format!("SELECT {} FROM users WHERE id = $1", user_columns(""));
        sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(UserRow::into_domain)
            .transpose()
    }

    /// A user with the one more column its query selects as `extra`.
    async fn user_with(
        &self,
        query: QueryAs<'_, S::Db, UserWithRow, <S::Db as Database>::Arguments>,
    ) -> Result<Option<(User, String)>> {
        let row = query
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?;
        row.map(|r| Ok((r.user.into_domain()?, r.extra)))
            .transpose()
    }

    /// The user and their password hash, for login.
    pub async fn user_for_login(&self, email: &Email) -> Result<Option<(User, String)>> {
        let sql = format!(
            "SELECT {}, password_hash AS extra FROM users WHERE email = $1",
            user_columns("")
        );
        let query = sqlx::query_as::<_, UserWithRow>(sqlx::AssertSqlSafe(sql));
        self.user_with(query.bind(email.as_str())).await
    }

    /// Users with a grant in this scope, by email.
    pub async fn users_in_scope(&self, scope: &Scope) -> Result<Vec<User>> {
        let column = match scope {
            Scope::Jurisdiction(_) => "jurisdiction_id",
            Scope::Operator(_) => "operator_id",
        };
        let sql = format!(
            "SELECT {} FROM users WHERE {column} = $1 ORDER BY email",
            user_columns("")
        );
        let query = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql));
        let query = match scope {
            Scope::Jurisdiction(j) => query.bind(j.as_str()),
            Scope::Operator(o) => query.bind(o.0),
        };
        let rows = query.fetch_all(self.0.reader()).await.map_err(S::error)?;
        convert_all(rows, UserRow::into_domain)
    }

    /// Applies `update`; deactivating or setting a password also ends the user's sessions
    /// and API tokens, in the same transaction.
    pub async fn update_user(&self, id: Uuid, update: &UserUpdate) -> Result<Option<User>> {
        let mut q = QueryBuilder::<S::Db>::new("UPDATE users SET id = id");
        if let Some(name) = &update.display_name {
            q.push(", display_name = ").push_bind(name.as_str());
        }
        if let Some(grant) = &update.grant {
            let (jurisdiction, operator) = scope_columns(grant);
            q.push(", role = ")
                .push_bind(grant.role().as_str())
                .push(", jurisdiction_id = ")
                .push_bind(jurisdiction.as_deref())
                .push(", operator_id = ")
                .push_bind(operator);
        }
        if let Some(active) = update.active {
            q.push(", active = ").push_bind(active);
        }
        if let Some(hash) = &update.password_hash {
            q.push(", password_hash = ").push_bind(hash.as_str());
        }
        q.push(" WHERE id = ")
            .push_bind(id)
            .push(" RETURNING ")
            .push(user_columns(""));
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let row = q
            .build_query_as::<UserRow>()
            .fetch_optional(&mut *tx)
            .await
            .map_err(S::error)?;
        // Deactivation and a new password end every way in the user had: sessions
        // deleted, tokens revoked for good (reactivating revives none of them).
        if row.is_some() && (update.active == Some(false) || update.password_hash.is_some()) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(S::error)?;
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $2 \
                 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(Ts::now())
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        tx.commit().await.map_err(S::error)?;
        row.map(UserRow::into_domain).transpose()
    }

    /// Stores a web session (by its token's hash).
    pub async fn create_session(&self, s: &NewSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.token_hash.as_slice())
        .bind(s.user_id)
        .bind(s.csrf_token.as_str())
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// The active user of an unexpired session, and its CSRF token.
    pub async fn session_user(&self, token_hash: &[u8], now: Ts) -> Result<Option<(User, String)>> {
        let sql = format!(
            "SELECT {}, s.csrf_token AS extra FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
            user_columns("u.")
        );
        let query = sqlx::query_as::<_, UserWithRow>(sqlx::AssertSqlSafe(sql));
        self.user_with(query.bind(token_hash).bind(now)).await
    }

    /// Ends a web session.
    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(())
    }

    /// Stores an API token (by its hash).
    pub async fn create_api_token(&self, t: &NewApiToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(t.id)
        .bind(t.user_id)
        .bind(t.name.as_str())
        .bind(t.token_hash.as_slice())
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// The active user of an unexpired, unrevoked API token.
    pub async fn api_token_user(&self, token_hash: &[u8], now: Ts) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND t.revoked_at IS NULL \
             AND u.active",
            user_columns("u.")
        );
        sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(UserRow::into_domain)
            .transpose()
    }

    /// A user's API tokens, oldest first.
    pub async fn api_tokens(&self, user_id: Uuid) -> Result<Vec<ApiTokenInfo>> {
        sqlx::query_as::<_, ApiTokenInfo>(
            "SELECT id, name, created_at, expires_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(user_id)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)
    }

    /// Revokes one of the user's tokens; false if it is not theirs or already revoked.
    pub async fn revoke_api_token(&self, user_id: Uuid, token_id: Uuid, now: Ts) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 \
             WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(token_id)
        .bind(now)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }

    /// Counts one attempt for `key` in one statement; the attempts of its current window.
    pub async fn count_attempt(
        &self,
        key: &str,
        now: Ts,
        policy: &ThrottlePolicy,
    ) -> Result<LoginAttempts> {
        // One statement: concurrent attempts serialise on the row (PostgreSQL's
        // ON CONFLICT locks it; SQLite has one writer), each gets its own count.
        // The `failures` column counts attempts since this statement exists.
        let (count, started): (i32, Ts) = sqlx::query_as(
            "INSERT INTO login_throttle (key, failures, window_started_at) \
             VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_started_at <= $3 THEN 1 \
                        ELSE login_throttle.failures + 1 END, \
             window_started_at = CASE WHEN login_throttle.window_started_at <= $3 \
                        THEN $2 ELSE login_throttle.window_started_at END \
             RETURNING failures, window_started_at",
        )
        .bind(key)
        .bind(now)
        .bind(Ts::new(now.get() - policy.window))
        .fetch_one(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(LoginAttempts {
            count,
            window_ends: Ts::new(started.get() + policy.window),
        })
    }

    /// The server key called `name`, storing `fresh` if there is none yet.
    pub async fn server_key(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_keys (name, key_bytes) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        sqlx::query_scalar("SELECT key_bytes FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_one(self.0.writer())
            .await
            .map_err(S::error)
    }

    /// Gives one attempt back to `key`.
    pub async fn refund_attempt(&self, key: &str) -> Result<()> {
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1 \
             WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// Forgets the attempts of `key`.
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(())
    }
}
