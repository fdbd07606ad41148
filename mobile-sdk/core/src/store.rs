//! The local store: one SQLite file (`balagh-sdk.sqlite3`) in the app's storage directory,
//! through sqlx (the one SQLite the workspace links).

use crate::error::Result;
use balagh_wire::ReportView;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

pub(crate) const DATABASE_FILE: &str = "balagh-sdk.sqlite3";

pub(crate) const DEVICE_ID: &str = "device_id";
pub(crate) const DEVICE_TOKEN: &str = "device_token";
pub(crate) const LOCALE: &str = "locale";
pub(crate) const PUSH_SETTINGS: &str = "push_settings";
pub(crate) const PUSH_DIRTY: &str = "push_dirty";

#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: SqlitePool,
}

/// A queued report as stored.
#[derive(Debug, Clone)]
pub(crate) struct OutboxRow {
    pub local_id: String,
    pub idempotency_key: String,
    pub body: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub problem: Option<String>,
    pub report_id: Option<String>,
    pub reference: Option<String>,
    pub created_at: i64,
}

/// A photo of a queued report as stored.
#[derive(Debug, Clone)]
pub(crate) struct PhotoRow {
    pub position: i64,
    pub file: String,
    pub slot_id: Option<String>,
    pub upload_url: Option<String>,
    pub confirm_url: Option<String>,
    pub slot_expires_at: Option<i64>,
    pub uploaded: bool,
    pub photo_id: Option<String>,
    pub refused: Option<String>,
}

/// An upload slot the server handed out.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub id: String,
    pub upload_url: String,
    pub confirm_url: String,
    pub expires_at: i64,
}

const OUTBOX_COLUMNS: &str = "local_id, idempotency_key, body, state, attempts, next_attempt_at, \
     last_error, problem, report_id, reference, created_at";

fn outbox_row(row: &sqlx::sqlite::SqliteRow) -> OutboxRow {
    OutboxRow {
        local_id: row.get("local_id"),
        idempotency_key: row.get("idempotency_key"),
        body: row.get("body"),
        state: row.get("state"),
        attempts: row.get("attempts"),
        next_attempt_at: row.get("next_attempt_at"),
        last_error: row.get("last_error"),
        problem: row.get("problem"),
        report_id: row.get("report_id"),
        reference: row.get("reference"),
        created_at: row.get("created_at"),
    }
}

impl Store {
    pub(crate) async fn open(dir: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(dir.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A queued report must survive the app being killed right after submit.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // One connection: writes are tiny, and no two of them can then ever interleave.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    // --- settings ---

    pub(crate) async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn delete_setting(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores the device's id and token together.
    pub(crate) async fn set_device(&self, id: &str, token: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (key, value) in [(DEVICE_ID, id), (DEVICE_TOKEN, token)] {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // --- services ---

    pub(crate) async fn cached_services(
        &self,
        language: &str,
    ) -> Result<Option<(String, Option<String>)>> {
        let row = sqlx::query("SELECT body, etag FROM services_cache WHERE language = $1")
            .bind(language)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get("body"), r.get("etag"))))
    }

    pub(crate) async fn cache_services(
        &self,
        language: &str,
        body: &str,
        etag: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO services_cache (language, etag, body, fetched_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (language) DO UPDATE SET etag = excluded.etag, body = excluded.body, \
             fetched_at = excluded.fetched_at",
        )
        .bind(language)
        .bind(etag)
        .bind(body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // --- outbox ---

    pub(crate) async fn enqueue(
        &self,
        local_id: &str,
        idempotency_key: &str,
        body: &str,
        photo_files: &[String],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO outbox (local_id, idempotency_key, body, state, attempts, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
        )
        .bind(local_id)
        .bind(idempotency_key)
        .bind(body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (position, file) in photo_files.iter().enumerate() {
            sqlx::query("INSERT INTO outbox_photos (local_id, position, file) VALUES ($1, $2, $3)")
                .bind(local_id)
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .bind(file)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Pending reports due at `now`, oldest first.
    pub(crate) async fn due(&self, now: i64) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, created_at"
        )))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(outbox_row).collect())
    }

    pub(crate) async fn queued(&self, include_sent: bool) -> Result<Vec<OutboxRow>> {
        let filter = if include_sent {
            ""
        } else {
            "WHERE state <> 'sent'"
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox {filter} ORDER BY created_at"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(outbox_row).collect())
    }

    pub(crate) async fn queued_one(&self, local_id: &str) -> Result<Option<OutboxRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE local_id = $1"
        )))
        .bind(local_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(outbox_row))
    }

    pub(crate) async fn next_due_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn photos(&self, local_id: &str) -> Result<Vec<PhotoRow>> {
        let rows = sqlx::query(
            "SELECT position, file, slot_id, upload_url, confirm_url, slot_expires_at, uploaded, \
             photo_id, refused FROM outbox_photos WHERE local_id = $1 ORDER BY position",
        )
        .bind(local_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| PhotoRow {
                position: r.get("position"),
                file: r.get("file"),
                slot_id: r.get("slot_id"),
                upload_url: r.get("upload_url"),
                confirm_url: r.get("confirm_url"),
                slot_expires_at: r.get("slot_expires_at"),
                uploaded: r.get::<i64, _>("uploaded") != 0,
                photo_id: r.get("photo_id"),
                refused: r.get("refused"),
            })
            .collect())
    }

    pub(crate) async fn set_slot(
        &self,
        local_id: &str,
        position: i64,
        slot: Option<&Slot>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox_photos SET slot_id = $3, upload_url = $4, confirm_url = $5, \
             slot_expires_at = $6, uploaded = 0 WHERE local_id = $1 AND position = $2",
        )
        .bind(local_id)
        .bind(position)
        .bind(slot.map(|s| s.id.as_str()))
        .bind(slot.map(|s| s.upload_url.as_str()))
        .bind(slot.map(|s| s.confirm_url.as_str()))
        .bind(slot.map(|s| s.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets every slot and confirmed id of a report's photos: they upload again.
    pub(crate) async fn reset_photos(&self, local_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox_photos SET slot_id = NULL, upload_url = NULL, confirm_url = NULL, \
             slot_expires_at = NULL, uploaded = 0, photo_id = NULL WHERE local_id = $1",
        )
        .bind(local_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn set_uploaded(
        &self,
        local_id: &str,
        position: i64,
        uploaded: bool,
    ) -> Result<()> {
        sqlx::query("UPDATE outbox_photos SET uploaded = $3 WHERE local_id = $1 AND position = $2")
            .bind(local_id)
            .bind(position)
            .bind(i64::from(uploaded))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn set_photo_id(
        &self,
        local_id: &str,
        position: i64,
        photo_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox_photos SET photo_id = $3, uploaded = 1 WHERE local_id = $1 AND position = $2",
        )
        .bind(local_id)
        .bind(position)
        .bind(photo_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn set_photo_refused(
        &self,
        local_id: &str,
        position: i64,
        problem: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE outbox_photos SET refused = $3 WHERE local_id = $1 AND position = $2")
            .bind(local_id)
            .bind(position)
            .bind(problem)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn retry_later(
        &self,
        local_id: &str,
        attempts: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4 \
             WHERE local_id = $1 AND state = 'pending'",
        )
        .bind(local_id)
        .bind(attempts)
        .bind(next_attempt_at)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn reject(&self, local_id: &str, attempts: i64, problem: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'rejected', attempts = $2, problem = $3, \
             last_error = 'rejected by the server' WHERE local_id = $1",
        )
        .bind(local_id)
        .bind(attempts)
        .bind(problem)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a queued report sent and keeps the server's view of it, in one transaction.
    pub(crate) async fn mark_sent(
        &self,
        local_id: &str,
        attempts: i64,
        report: &ReportView,
        now: i64,
    ) -> Result<()> {
        let body = serde_json::to_string(report)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE outbox SET state = 'sent', attempts = $2, report_id = $3, reference = $4, \
             sent_at = $5, last_error = NULL WHERE local_id = $1",
        )
        .bind(local_id)
        .bind(attempts)
        .bind(report.id.to_string())
        .bind(&report.reference)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        upsert_report(&mut tx, report, Some(local_id), &body, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes every pending report due now (the network is back).
    pub(crate) async fn make_all_due(&self, now: i64) -> Result<()> {
        sqlx::query("UPDATE outbox SET next_attempt_at = $1 WHERE state = 'pending'")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn discard(&self, local_id: &str) -> Result<Vec<String>> {
        let files: Vec<String> =
            sqlx::query_scalar("SELECT file FROM outbox_photos WHERE local_id = $1")
                .bind(local_id)
                .fetch_all(&self.pool)
                .await?;
        sqlx::query("DELETE FROM outbox WHERE local_id = $1 AND state <> 'sent'")
            .bind(local_id)
            .execute(&self.pool)
            .await?;
        Ok(files)
    }

    // --- my reports ---

    pub(crate) async fn save_report(&self, report: &ReportView, now: i64) -> Result<()> {
        let body = serde_json::to_string(report)?;
        let mut tx = self.pool.begin().await?;
        upsert_report(&mut tx, report, None, &body, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn my_reports(&self) -> Result<Vec<(String, Option<String>)>> {
        let rows = sqlx::query("SELECT body, local_id FROM my_reports ORDER BY created_at DESC")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("body"), r.get("local_id")))
            .collect())
    }

    pub(crate) async fn my_report_ids(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT report_id FROM my_reports ORDER BY created_at DESC")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn set_following(
        &self,
        report_id: &str,
        following: bool,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO follows (report_id, following, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (report_id) DO UPDATE SET following = excluded.following, \
             updated_at = excluded.updated_at",
        )
        .bind(report_id)
        .bind(i64::from(following))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn followed(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT report_id FROM follows WHERE following = 1 ORDER BY updated_at DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn upsert_report(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    report: &ReportView,
    local_id: Option<&str>,
    body: &str,
    now: i64,
) -> Result<()> {
    let created_ms =
        i64::try_from(report.created_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(now);
    // A view without history (the answer to a POST) never replaces one with history.
    sqlx::query(
        "INSERT INTO my_reports (report_id, local_id, reference, body, created_at, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (report_id) DO UPDATE SET \
           local_id = coalesce(my_reports.local_id, excluded.local_id), \
           body = CASE WHEN json_extract(excluded.body, '$.history') IS NULL \
                        AND json_extract(my_reports.body, '$.history') IS NOT NULL \
                       THEN json_set(my_reports.body, '$.status', json_extract(excluded.body, '$.status'), \
                                     '$.supporters', json_extract(excluded.body, '$.supporters'), \
                                     '$.updated_at', json_extract(excluded.body, '$.updated_at')) \
                       ELSE excluded.body END, \
           synced_at = excluded.synced_at",
    )
    .bind(report.id.to_string())
    .bind(local_id)
    .bind(&report.reference)
    .bind(body)
    .bind(created_ms)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
