//! Device registrations with their areas of interest, and report followers.

use super::{PushChannel, PushRegistration, REGISTRATION_COLUMNS, RegistrationRow, StoredArea};
use crate::writes::BULK_ROWS;
use crate::{NewDevice, Result, Sql, SqlBackend, SqlDb, Ts};
use balagh_domain::notify::AreaOfInterest;
use balagh_domain::notify::area::BoundingBox;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

fn registrations(rows: Vec<RegistrationRow>) -> Result<Vec<PushRegistration>> {
    rows.into_iter().map(RegistrationRow::into_domain).collect()
}

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> &'q [u8]: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<i32>: Encode<'q, S::Db>,
    for<'q> f64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q [StoredArea]>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> RegistrationRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (bool,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// `INSERT`s of the registrations and their areas (no transaction of its own).
    async fn insert_registrations(
        conn: &mut <S::Db as Database>::Connection,
        registrations: &[&PushRegistration],
        upsert: bool,
    ) -> Result<()> {
        if registrations.is_empty() {
            return Ok(());
        }
        let mut insert = QueryBuilder::<S::Db>::new(format!(
            "INSERT INTO push_registrations ({REGISTRATION_COLUMNS}) "
        ));
        insert.push_values(registrations, |mut b, r| {
            let (p256dh, auth) = match &r.channel {
                PushChannel::WebPush { p256dh, auth, .. } => {
                    (Some(p256dh.as_str()), Some(auth.as_str()))
                }
                PushChannel::Fcm { .. } => (None, None),
            };
            b.push_bind(r.device_id)
                .push_bind(r.channel.kind())
                .push_bind(r.channel.token())
                .push_bind(p256dh)
                .push_bind(auth)
                .push_bind(r.language.as_str())
                .push_bind(r.time_zone.as_str())
                .push_bind(r.quiet_hours.map(|q| i32::from(q.0)))
                .push_bind(r.quiet_hours.map(|q| i32::from(q.1)))
                .push_bind(Json(r.areas.as_slice()))
                .push_bind(r.active)
                .push_bind(r.deactivated_reason.as_deref())
                .push_bind(r.updated_at);
        });
        if upsert {
            insert.push(
                " ON CONFLICT (device_id) DO UPDATE SET channel = excluded.channel, \
                 token = excluded.token, p256dh = excluded.p256dh, auth = excluded.auth, \
                 language = excluded.language, time_zone = excluded.time_zone, \
                 quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, \
                 areas = excluded.areas, active = excluded.active, \
                 deactivated_reason = excluded.deactivated_reason, \
                 updated_at = excluded.updated_at",
            );
        }
        insert.build().execute(&mut *conn).await.map_err(S::error)?;
        Self::insert_areas(conn, registrations).await
    }

    /// The registrations' areas with their boxes (an area that no longer parses is skipped).
    async fn insert_areas(
        conn: &mut <S::Db as Database>::Connection,
        registrations: &[&PushRegistration],
    ) -> Result<()> {
        let areas: Vec<(Uuid, i32, StoredArea, BoundingBox)> = registrations
            .iter()
            .flat_map(|r| {
                r.areas.iter().enumerate().filter_map(|(i, a)| {
                    let parsed = AreaOfInterest::parse(a.lat, a.lon, a.radius_m).ok()?;
                    Some((r.device_id, i as i32, *a, parsed.bbox()))
                })
            })
            .collect();
        for chunk in areas.chunks(BULK_ROWS) {
            let mut insert = QueryBuilder::<S::Db>::new(
                "INSERT INTO push_areas (device_id, position, lat, lon, radius_m, \
                 min_lat, max_lat, min_lon, max_lon) ",
            );
            insert.push_values(chunk, |mut b, (device, position, a, bbox)| {
                b.push_bind(*device)
                    .push_bind(*position)
                    .push_bind(a.lat)
                    .push_bind(a.lon)
                    .push_bind(a.radius_m)
                    .push_bind(bbox.min_lat)
                    .push_bind(bbox.max_lat)
                    .push_bind(bbox.min_lon)
                    .push_bind(bbox.max_lon);
            });
            insert.build().execute(&mut *conn).await.map_err(S::error)?;
        }
        Ok(())
    }

    /// Creates or replaces a device's registration (and its areas), active again.
    pub async fn set_push_registration(&self, r: &PushRegistration) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query("DELETE FROM push_areas WHERE device_id = $1")
            .bind(r.device_id)
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        Self::insert_registrations(&mut *tx, &[r], true).await?;
        tx.commit().await.map_err(S::error)
    }

    /// A device's registration, active or not.
    pub async fn push_registration(&self, device: Uuid) -> Result<Option<PushRegistration>> {
        let sql =
            format!("SELECT {REGISTRATION_COLUMNS} FROM push_registrations WHERE device_id = $1");
        sqlx::query_as::<_, RegistrationRow>(sqlx::AssertSqlSafe(sql))
            .bind(device)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(RegistrationRow::into_domain)
            .transpose()
    }

    /// Removes a device's registration and areas; false if it had none.
    pub async fn delete_push_registration(&self, device: Uuid) -> Result<bool> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query("DELETE FROM push_areas WHERE device_id = $1")
            .bind(device)
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        let done = sqlx::query("DELETE FROM push_registrations WHERE device_id = $1")
            .bind(device)
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        tx.commit().await.map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }

    /// Stops pushes to a token declared gone, unless the device registered another since.
    pub async fn deactivate_push_registration(
        &self,
        device: Uuid,
        token: &str,
        reason: &str,
        at: Ts,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE push_registrations SET active = FALSE, deactivated_reason = $3, \
             updated_at = $4 WHERE device_id = $1 AND token = $2 AND active",
        )
        .bind(device)
        .bind(token)
        .bind(reason)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }

    /// Registrations of these devices (active or not).
    pub async fn push_registrations(&self, devices: &[Uuid]) -> Result<Vec<PushRegistration>> {
        let mut out = Vec::with_capacity(devices.len());
        for chunk in devices.chunks(BULK_ROWS) {
            let mut select = QueryBuilder::<S::Db>::new(format!(
                "SELECT {REGISTRATION_COLUMNS} FROM push_registrations WHERE device_id IN ("
            ));
            let mut ids = select.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            select.push(")");
            let rows = select
                .build_query_as::<RegistrationRow>()
                .fetch_all(self.0.reader())
                .await
                .map_err(S::error)?;
            out.extend(registrations(rows)?);
        }
        Ok(out)
    }

    /// Devices with an active registration and an area whose box overlaps `bbox`.
    pub async fn push_devices_in_box(&self, bbox: &BoundingBox) -> Result<Vec<Uuid>> {
        // One pass over the areas' box index; the registrations are read by id afterwards,
        // so a notice reaching every device costs one scan, not one per page.
        sqlx::query_scalar(
            "SELECT DISTINCT a.device_id FROM push_areas a \
             JOIN push_registrations r ON r.device_id = a.device_id \
             WHERE r.active AND a.min_lat <= $2 AND a.max_lat >= $1 \
             AND a.min_lon <= $4 AND a.max_lon >= $3",
        )
        .bind(bbox.min_lat)
        .bind(bbox.max_lat)
        .bind(bbox.min_lon)
        .bind(bbox.max_lon)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)
    }

    /// Active registrations of a report's reporter, supporters and followers, less those
    /// that unfollowed.
    pub async fn follower_registrations(&self, report_id: Uuid) -> Result<Vec<PushRegistration>> {
        let sql = format!(
            "SELECT {REGISTRATION_COLUMNS} FROM push_registrations WHERE active \
             AND device_id IN ( \
               SELECT device_id FROM reports WHERE id = $1 AND device_id IS NOT NULL \
               UNION SELECT device_id FROM report_supporters WHERE report_id = $1 \
               UNION SELECT device_id FROM report_followers \
                 WHERE report_id = $1 AND active) \
             AND device_id NOT IN (SELECT device_id FROM report_followers \
               WHERE report_id = $1 AND NOT active)"
        );
        let rows = sqlx::query_as::<_, RegistrationRow>(sqlx::AssertSqlSafe(sql))
            .bind(report_id)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        registrations(rows)
    }

    /// Stops following (also as reporter or supporter); false if not following.
    pub async fn unfollow_report(&self, report_id: Uuid, device: Uuid, at: Ts) -> Result<bool> {
        let following = self.is_following(report_id, device).await?;
        sqlx::query(
            "INSERT INTO report_followers (report_id, device_id, since, active) \
             VALUES ($1, $2, $3, FALSE) ON CONFLICT (report_id, device_id) \
             DO UPDATE SET active = FALSE, since = excluded.since",
        )
        .bind(report_id)
        .bind(device)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(following)
    }

    /// Whether the device follows the report: explicitly, else as reporter or supporter.
    pub async fn is_following(&self, report_id: Uuid, device: Uuid) -> Result<bool> {
        let explicit: Option<bool> = sqlx::query_scalar(
            "SELECT active FROM report_followers WHERE report_id = $1 AND device_id = $2",
        )
        .bind(report_id)
        .bind(device)
        .fetch_optional(self.0.writer())
        .await
        .map_err(S::error)?;
        if let Some(active) = explicit {
            return Ok(active);
        }
        let implicit: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM reports WHERE id = $1 AND device_id = $2) \
             + (SELECT COUNT(*) FROM report_supporters \
                WHERE report_id = $1 AND device_id = $2)",
        )
        .bind(report_id)
        .bind(device)
        .fetch_one(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(implicit > 0)
    }

    /// Inserts devices with their registrations in bulk (benchmarks and generators).
    pub async fn bulk_insert_push_devices(
        &self,
        devices: &[(NewDevice, PushRegistration)],
    ) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        for chunk in devices.chunks(BULK_ROWS / 2) {
            let mut insert =
                QueryBuilder::<S::Db>::new("INSERT INTO devices (id, token_hash, created_at) ");
            insert.push_values(chunk, |mut b, (d, _)| {
                b.push_bind(d.id)
                    .push_bind(d.token_hash.as_slice())
                    .push_bind(d.created_at);
            });
            insert.build().execute(&mut *tx).await.map_err(S::error)?;
            let regs: Vec<&PushRegistration> = chunk.iter().map(|(_, r)| r).collect();
            Self::insert_registrations(&mut *tx, &regs, false).await?;
        }
        tx.commit().await.map_err(S::error)
    }
}
