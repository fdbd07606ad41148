use thiserror::Error;

/// A named database constraint that the API turns into a meaningful error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    ReportReference,
    ReportIdempotencyKey,
    ReportService,
    DeviceToken,
    Supporter,
    OperatorSlug,
    ContractReference,
    UserEmail,
    ApiToken,
    Follower,
    SlaPolicyVersion,
    SlaDispute,
    /// A constraint this code does not name (a bug if it reaches a user).
    Other(String),
}

/// Each constraint's PostgreSQL name and the `table.column` list SQLite reports for it.
const NAMES: &[(Constraint, &str, &str)] = &[
    (
        Constraint::ReportReference,
        "reports_reference_key",
        "reports.reference",
    ),
    (
        Constraint::ReportIdempotencyKey,
        "reports_idempotency_key",
        "reports.device_id, reports.idempotency_key",
    ),
    (Constraint::ReportService, "reports_service_fkey", ""),
    (
        Constraint::DeviceToken,
        "devices_token_hash_key",
        "devices.token_hash",
    ),
    (
        Constraint::Supporter,
        "report_supporters_pkey",
        "report_supporters.report_id, report_supporters.device_id",
    ),
    (
        Constraint::OperatorSlug,
        "operators_slug_key",
        "operators.jurisdiction_id, operators.slug",
    ),
    (
        Constraint::ContractReference,
        "contracts_reference_key",
        "contracts.jurisdiction_id, contracts.reference",
    ),
    (Constraint::UserEmail, "users_email_key", "users.email"),
    (
        Constraint::ApiToken,
        "api_tokens_token_hash_key",
        "api_tokens.token_hash",
    ),
    (
        Constraint::Follower,
        "report_followers_pkey",
        "report_followers.report_id, report_followers.device_id",
    ),
    (
        Constraint::SlaPolicyVersion,
        "sla_policies_pkey",
        "sla_policies.contract_id, sla_policies.version",
    ),
    (
        Constraint::SlaDispute,
        "sla_disputes_clock_key",
        "sla_disputes.report_id, sla_disputes.metric, sla_disputes.cycle",
    ),
];

impl Constraint {
    pub fn from_postgres(name: &str) -> Self {
        NAMES
            .iter()
            .find(|(_, pg, _)| *pg == name)
            .map_or_else(|| Constraint::Other(name.to_owned()), |(c, _, _)| c.clone())
    }

    /// SQLite names no constraint; its message lists the columns
    /// ("UNIQUE constraint failed: reports.reference").
    pub fn from_sqlite_message(message: &str) -> Self {
        let columns = message.rsplit_once(": ").map_or("", |(_, cols)| cols);
        NAMES
            .iter()
            .find(|(_, _, cols)| !cols.is_empty() && *cols == columns)
            .map_or_else(
                || Constraint::Other(message.to_owned()),
                |(c, _, _)| c.clone(),
            )
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("conflicts with an existing row ({0:?})")]
    Conflict(Constraint),
    #[error("refers to a row that does not exist")]
    MissingReference,
    /// A new report's draft photo is gone or was attached elsewhere: nothing was written.
    #[error("photo {0} is no longer an unattached draft of this device")]
    PhotoNotAttachable(uuid::Uuid),
    /// The database cannot be reached or is overloaded: retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl StoreError {
    /// Classifies a driver error; `constraint` names the violated constraint, if any.
    pub fn from_sqlx(
        error: sqlx::Error,
        constraint: impl Fn(&dyn sqlx::error::DatabaseError) -> Constraint,
    ) -> Self {
        use sqlx::error::ErrorKind;
        match &error {
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::Conflict(constraint(db.as_ref())),
                ErrorKind::ForeignKeyViolation => StoreError::MissingReference,
                _ if is_unavailable(db.as_ref()) => StoreError::Unavailable(error.to_string()),
                _ => StoreError::Database(error),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            // A proxy in front of PostgreSQL (HAProxy during a failover) accepts the TCP
            // connection and closes it, having no server to send it to: sqlx reads that end of
            // stream as an answer to its SSLRequest.
            sqlx::Error::Protocol(message) if message.contains("SSLRequest") => {
                StoreError::Unavailable(error.to_string())
            }
            _ => StoreError::Database(error),
        }
    }
}

/// A database error that says the server cannot serve right now (restarting, shutting down,
/// out of connections, the database closed to connections, the connection cut by an
/// administrator; SQLite busy or locked), rather than that the request or the code is wrong:
/// the client should retry (503), and the pool reconnects by itself.
fn is_unavailable(db: &dyn sqlx::error::DatabaseError) -> bool {
    use sqlx::error::DatabaseError as _;
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let code = pg.code();
        // 08: connection exception; 53: insufficient resources (too many connections, disk
        // full, out of memory); 57P01–57P05: administrator or crash shutdown, cannot connect
        // now, idle-session timeout; 55000 when the database does not accept connections
        // (`ALTER DATABASE … ALLOW_CONNECTIONS false`); 25006 when a write reaches a server
        // still in recovery (a standby being promoted after a failover, which the proxy in
        // front already calls the primary).
        return code.starts_with("08")
            || code == "25006"
            || code.starts_with("53")
            || code.starts_with("57P")
            || (code == "55000" && pg.message().contains("accepting connections"));
    }
    if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
        return sqlite
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 5 | 6));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways() {
        assert_eq!(
            Constraint::from_postgres("reports_reference_key"),
            Constraint::ReportReference
        );
        assert_eq!(
            Constraint::from_sqlite_message(
                "UNIQUE constraint failed: reports.device_id, reports.idempotency_key"
            ),
            Constraint::ReportIdempotencyKey
        );
        assert!(matches!(
            Constraint::from_postgres("nope"),
            Constraint::Other(_)
        ));
    }

    #[test]
    fn a_connection_a_proxy_closes_at_once_is_unavailable_other_protocol_errors_are_not() {
        let other = |_: &dyn sqlx::error::DatabaseError| Constraint::Other(String::new());
        let cut = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into());
        assert!(matches!(
            StoreError::from_sqlx(cut, other),
            StoreError::Unavailable(_)
        ));
        let garbled = sqlx::Error::Protocol("unknown message type: 'x'".into());
        assert!(matches!(
            StoreError::from_sqlx(garbled, other),
            StoreError::Database(_)
        ));
    }
}
