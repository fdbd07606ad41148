//! Open311 GeoReport v2: the API keys of client systems, what their requests carried that
//! the reports table has no column for, and the reads behind the public Open311 feed.
//! [`Open311Store`] is a supertrait of [`Store`](crate::Store); its SQL is the functions of
//! [`Sql`] below, which each backend delegates to with
//! [`impl_open311_store!`](crate::impl_open311_store).

use crate::{
    EventRow, PHOTO_COLUMNS, PhotoRow, REPORT_COLUMNS, ReportRow, Result, Sql, SqlBackend, SqlDb,
    StoreError, StoredEvent, StoredPhoto, StoredReport, Ts, convert_all,
};
use balagh_domain::{JurisdictionId, ReportStatus};
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

/// An Open311 client's API key, as stored (the key itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Key {
    pub id: Uuid,
    pub jurisdiction: JurisdictionId,
    /// The client system, e.g. "FixMyStreet".
    pub name: String,
    /// The staff member who issued it (`None`: the command line).
    pub created_by: Option<Uuid>,
    pub created_at: Ts,
    pub revoked_at: Option<Ts>,
}

#[derive(Debug, Clone)]
pub struct NewOpen311Key {
    pub id: Uuid,
    pub jurisdiction: JurisdictionId,
    pub name: String,
    /// SHA-256 of the key.
    pub key_hash: Vec<u8>,
    pub created_by: Option<Uuid>,
    pub created_at: Ts,
}

/// What an Open311 request carried besides the report itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Submission {
    pub report_id: Uuid,
    /// The client whose key submitted it: the report's reporter.
    pub key_id: Uuid,
    /// `address_string` as sent (shown as `address`, except for sensitive services).
    pub address: Option<String>,
    /// `device_id` as sent (private).
    pub device_id: Option<String>,
    /// `jurisdiction_id` as sent.
    pub jurisdiction_param: Option<String>,
    /// External `media_url`s as sent (private: never shown, not vetted).
    pub media_urls: Vec<String>,
    pub received_at: Ts,
}

/// `GET requests`: which reports of a jurisdiction, newest first.
#[derive(Debug, Clone)]
pub struct Open311Query {
    pub jurisdiction: JurisdictionId,
    /// When either is non-empty, exactly these reports (public references, ids) and no other
    /// filter.
    pub references: Vec<String>,
    pub ids: Vec<Uuid>,
    /// Empty: every service.
    pub service_codes: Vec<String>,
    /// Empty: every status.
    pub statuses: Vec<ReportStatus>,
    /// Created in `[from, until)`.
    pub created_from: Ts,
    pub created_until: Ts,
    pub offset: u64,
    pub limit: u32,
}

/// `GET servicerequestupdates`: public status changes and comments of a jurisdiction's
/// reports in `[from, until)`, oldest first.
#[derive(Debug, Clone)]
pub struct Open311UpdatesQuery {
    pub jurisdiction: JurisdictionId,
    pub from: Ts,
    pub until: Ts,
    pub limit: u32,
}

#[async_trait::async_trait]
pub trait Open311Store: Send + Sync {
    async fn create_open311_key(&self, key: &NewOpen311Key) -> Result<()>;
    /// Keys of a jurisdiction (all of them with `None`), revoked ones included, oldest first.
    async fn open311_keys(&self, jurisdiction: Option<&JurisdictionId>) -> Result<Vec<Open311Key>>;
    /// The unrevoked key with this hash.
    async fn open311_key_by_hash(&self, key_hash: &[u8]) -> Result<Option<Open311Key>>;
    /// Revokes a key (of this jurisdiction, if given); false if there is no such active key.
    async fn revoke_open311_key(
        &self,
        jurisdiction: Option<&JurisdictionId>,
        id: Uuid,
        at: Ts,
    ) -> Result<bool>;
    async fn record_open311_submission(&self, submission: &Open311Submission) -> Result<()>;
    async fn open311_submission(&self, report_id: Uuid) -> Result<Option<Open311Submission>>;
    /// The addresses Open311 clients sent with these reports.
    async fn open311_addresses(&self, report_ids: &[Uuid]) -> Result<Vec<(Uuid, String)>>;
    async fn open311_requests(&self, query: &Open311Query) -> Result<Vec<crate::StoredReport>>;
    async fn reports_by_ids(&self, ids: &[Uuid]) -> Result<Vec<crate::StoredReport>>;
    /// Public status changes and comments of these reports, oldest first.
    async fn open311_notes(&self, report_ids: &[Uuid]) -> Result<Vec<crate::StoredEvent>>;
    async fn open311_updates(&self, query: &Open311UpdatesQuery)
    -> Result<Vec<crate::StoredEvent>>;
    /// Photos staff approved for the public, of these reports, oldest first.
    async fn approved_photos(&self, report_ids: &[Uuid]) -> Result<Vec<crate::StoredPhoto>>;
}

/// Event kinds the Open311 feed shows (public ones only); the same text as the predicate
/// of the partial index `report_events_open311_idx`, so that queries can use it.
#[doc(hidden)]
pub const OPEN311_EVENTS_SQL: &str = "public AND kind IN ('status_changed', 'comment')";

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct Open311KeyRow {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub name: String,
    pub created_by: Option<Uuid>,
    pub created_at: Ts,
    pub revoked_at: Option<Ts>,
}

#[doc(hidden)]
pub const OPEN311_KEY_COLUMNS: &str =
    "id, jurisdiction_id, name, created_by, created_at, revoked_at";

impl Open311KeyRow {
    pub fn into_domain(self) -> Result<Open311Key> {
        Ok(Open311Key {
            id: self.id,
            jurisdiction: balagh_domain::Slug::parse("jurisdiction_id", &self.jurisdiction_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            name: self.name,
            created_by: self.created_by,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct Open311SubmissionRow {
    pub report_id: Uuid,
    pub key_id: Uuid,
    pub address: Option<String>,
    pub device_id: Option<String>,
    pub jurisdiction_param: Option<String>,
    pub media_urls: sqlx::types::Json<Vec<String>>,
    pub received_at: Ts,
}

impl Open311SubmissionRow {
    pub fn into_domain(self) -> Open311Submission {
        Open311Submission {
            report_id: self.report_id,
            key_id: self.key_id,
            address: self.address,
            device_id: self.device_id,
            jurisdiction_param: self.jurisdiction_param,
            media_urls: self.media_urls.0,
            received_at: self.received_at,
        }
    }
}

/// `(?, ?, …)` binding each id.
fn push_ids<DB: Database>(q: &mut QueryBuilder<DB>, ids: &[Uuid])
where
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    list.push_unseparated(")");
}

/// `(?, ?, …)` binding each text.
fn push_texts<'v, DB: Database>(q: &mut QueryBuilder<DB>, values: impl Iterator<Item = &'v str>)
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    list.push_unseparated(")");
}

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> &'q [u8]: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q [String]>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> Open311KeyRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> Open311SubmissionRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid, String): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> ReportRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> EventRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> PhotoRow: FromRow<'r, <S::Db as Database>::Row>,
{
    pub async fn create_open311_key(&self, k: &NewOpen311Key) -> Result<()> {
        sqlx::query(
            "INSERT INTO open311_keys (id, jurisdiction_id, name, key_hash, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(k.id)
        .bind(k.jurisdiction.as_str())
        .bind(k.name.as_str())
        .bind(k.key_hash.as_slice())
        .bind(k.created_by)
        .bind(k.created_at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// Keys of a jurisdiction (all of them for `None`), oldest first.
    pub async fn open311_keys(
        &self,
        jurisdiction: Option<&JurisdictionId>,
    ) -> Result<Vec<Open311Key>> {
        let sql = format!(
            "SELECT {OPEN311_KEY_COLUMNS} FROM open311_keys \
             WHERE ($1 IS NULL OR jurisdiction_id = $1) ORDER BY created_at, id"
        );
        let rows = sqlx::query_as::<_, Open311KeyRow>(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction.map(|j| j.as_str()))
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        convert_all(rows, Open311KeyRow::into_domain)
    }

    /// The unrevoked key with this hash.
    pub async fn open311_key_by_hash(&self, key_hash: &[u8]) -> Result<Option<Open311Key>> {
        let sql = format!(
            "SELECT {OPEN311_KEY_COLUMNS} FROM open311_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        sqlx::query_as::<_, Open311KeyRow>(sqlx::AssertSqlSafe(sql))
            .bind(key_hash)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(Open311KeyRow::into_domain)
            .transpose()
    }

    pub async fn revoke_open311_key(
        &self,
        jurisdiction: Option<&JurisdictionId>,
        id: Uuid,
        at: Ts,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE open311_keys SET revoked_at = $1 WHERE id = $2 \
             AND revoked_at IS NULL AND ($3 IS NULL OR jurisdiction_id = $3)",
        )
        .bind(at)
        .bind(id)
        .bind(jurisdiction.map(|j| j.as_str()))
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }

    pub async fn record_open311_submission(&self, s: &Open311Submission) -> Result<()> {
        sqlx::query(
            "INSERT INTO open311_submissions (report_id, key_id, address, device_id, \
             jurisdiction_param, media_urls, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.report_id)
        .bind(s.key_id)
        .bind(s.address.as_deref())
        .bind(s.device_id.as_deref())
        .bind(s.jurisdiction_param.as_deref())
        .bind(Json(s.media_urls.as_slice()))
        .bind(s.received_at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    pub async fn open311_submission(&self, report_id: Uuid) -> Result<Option<Open311Submission>> {
        Ok(sqlx::query_as::<_, Open311SubmissionRow>(
            "SELECT report_id, key_id, address, device_id, jurisdiction_param, media_urls, \
             received_at FROM open311_submissions WHERE report_id = $1",
        )
        .bind(report_id)
        .fetch_optional(self.0.reader())
        .await
        .map_err(S::error)?
        .map(Open311SubmissionRow::into_domain))
    }

    /// The addresses Open311 clients gave for these reports.
    pub async fn open311_addresses(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<S::Db>::new(
            "SELECT report_id, address FROM open311_submissions \
             WHERE address IS NOT NULL AND report_id IN ",
        );
        push_ids(&mut q, ids);
        q.build_query_as()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// The reports an Open311 `GET requests` asks for, newest first.
    pub async fn open311_requests(&self, query: &Open311Query) -> Result<Vec<StoredReport>> {
        let mut q = QueryBuilder::<S::Db>::new(format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE jurisdiction_id = "
        ));
        q.push_bind(query.jurisdiction.as_str());
        if !query.references.is_empty() || !query.ids.is_empty() {
            q.push(" AND (");
            if !query.references.is_empty() {
                q.push("reference IN ");
                push_texts(&mut q, query.references.iter().map(String::as_str));
            }
            if !query.ids.is_empty() {
                if !query.references.is_empty() {
                    q.push(" OR ");
                }
                q.push("id IN ");
                push_ids(&mut q, &query.ids);
            }
            q.push(")");
        } else {
            // Every status is named when none is asked for, so that the
            // (jurisdiction, status, created_at) index serves the window.
            let statuses: &[ReportStatus] = if query.statuses.is_empty() {
                &ReportStatus::ALL
            } else {
                &query.statuses
            };
            q.push(" AND status IN ");
            push_texts(&mut q, statuses.iter().map(|s| s.as_str()));
            if !query.service_codes.is_empty() {
                q.push(" AND service_code IN ");
                push_texts(&mut q, query.service_codes.iter().map(String::as_str));
            }
            q.push(" AND created_at >= ")
                .push_bind(query.created_from)
                .push(" AND created_at < ")
                .push_bind(query.created_until);
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(query.limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
        self.reports_of(q).await
    }

    pub async fn reports_by_ids(&self, ids: &[Uuid]) -> Result<Vec<StoredReport>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<S::Db>::new(format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id IN "
        ));
        push_ids(&mut q, ids);
        self.reports_of(q).await
    }

    /// The public status changes and comments of these reports, oldest first.
    pub async fn open311_notes(&self, ids: &[Uuid]) -> Result<Vec<StoredEvent>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<S::Db>::new(format!(
            "SELECT id, report_id, kind, actor, public, data, at FROM report_events \
             WHERE {OPEN311_EVENTS_SQL} AND report_id IN "
        ));
        push_ids(&mut q, ids);
        q.push(" ORDER BY at, id");
        self.events_of(q).await
    }

    pub async fn open311_updates(&self, query: &Open311UpdatesQuery) -> Result<Vec<StoredEvent>> {
        let mut q = QueryBuilder::<S::Db>::new(
            "SELECT e.id, e.report_id, e.kind, e.actor, e.public, e.data, e.at \
             FROM report_events e JOIN reports r ON r.id = e.report_id \
             WHERE e.public AND e.kind IN ('status_changed', 'comment') AND e.at >= ",
        );
        q.push_bind(query.from)
            .push(" AND e.at < ")
            .push_bind(query.until)
            .push(" AND r.jurisdiction_id = ")
            .push_bind(query.jurisdiction.as_str())
            .push(" ORDER BY e.at, e.id LIMIT ")
            .push_bind(i64::from(query.limit));
        self.events_of(q).await
    }

    /// The photos staff approved of these reports, oldest first.
    pub async fn approved_photos(&self, ids: &[Uuid]) -> Result<Vec<StoredPhoto>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<S::Db>::new(format!(
            "SELECT {PHOTO_COLUMNS} FROM photos WHERE approved AND report_id IN "
        ));
        push_ids(&mut q, ids);
        q.push(" ORDER BY created_at, id");
        let rows: Vec<PhotoRow> = q
            .build_query_as()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        convert_all(rows, PhotoRow::into_domain)
    }

    async fn reports_of(&self, mut q: QueryBuilder<S::Db>) -> Result<Vec<StoredReport>> {
        let rows: Vec<ReportRow> = q
            .build_query_as()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        convert_all(rows, ReportRow::into_domain)
    }

    async fn events_of(&self, mut q: QueryBuilder<S::Db>) -> Result<Vec<StoredEvent>> {
        let rows: Vec<EventRow> = q
            .build_query_as()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        convert_all(rows, EventRow::into_domain)
    }
}

/// `impl Open311Store for $store`, delegating to the functions of [`Sql`].
#[macro_export]
macro_rules! impl_open311_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::JurisdictionId;
            use uuid::Uuid;
            use $crate::{
                NewOpen311Key, Open311Key, Open311Query, Open311Submission, Open311UpdatesQuery,
                Result, Sql, StoredEvent, StoredPhoto, StoredReport, Ts,
            };

            #[$crate::async_trait]
            impl $crate::Open311Store for $store {
                async fn create_open311_key(&self, key: &NewOpen311Key) -> Result<()> {
                    Sql(self).create_open311_key(key).await
                }

                async fn open311_keys(
                    &self,
                    jurisdiction: Option<&JurisdictionId>,
                ) -> Result<Vec<Open311Key>> {
                    Sql(self).open311_keys(jurisdiction).await
                }

                async fn open311_key_by_hash(&self, hash: &[u8]) -> Result<Option<Open311Key>> {
                    Sql(self).open311_key_by_hash(hash).await
                }

                async fn revoke_open311_key(
                    &self,
                    jurisdiction: Option<&JurisdictionId>,
                    id: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    Sql(self).revoke_open311_key(jurisdiction, id, at).await
                }

                async fn record_open311_submission(&self, s: &Open311Submission) -> Result<()> {
                    Sql(self).record_open311_submission(s).await
                }

                async fn open311_submission(
                    &self,
                    report_id: Uuid,
                ) -> Result<Option<Open311Submission>> {
                    Sql(self).open311_submission(report_id).await
                }

                async fn open311_addresses(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
                    Sql(self).open311_addresses(ids).await
                }

                async fn open311_requests(
                    &self,
                    query: &Open311Query,
                ) -> Result<Vec<StoredReport>> {
                    Sql(self).open311_requests(query).await
                }

                async fn reports_by_ids(&self, ids: &[Uuid]) -> Result<Vec<StoredReport>> {
                    Sql(self).reports_by_ids(ids).await
                }

                async fn open311_notes(&self, ids: &[Uuid]) -> Result<Vec<StoredEvent>> {
                    Sql(self).open311_notes(ids).await
                }

                async fn open311_updates(
                    &self,
                    query: &Open311UpdatesQuery,
                ) -> Result<Vec<StoredEvent>> {
                    Sql(self).open311_updates(query).await
                }

                async fn approved_photos(&self, ids: &[Uuid]) -> Result<Vec<StoredPhoto>> {
                    Sql(self).approved_photos(ids).await
                }
            }
        };
    };
}
