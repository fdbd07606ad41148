//! The gazetteer and the bus network (issue 20): named places and GTFS lines and stops,
//! searched by the resident web app's map-free path. [`PlaceStore`] is a supertrait of
//! [`Store`](crate::Store); its SQL is the functions of [`Sql`] below, which each backend
//! delegates to with [`impl_place_store!`](crate::impl_place_store).

use crate::{Result, Sql, SqlBackend, StoreError};
use balagh_domain::bus::{BusLine, BusNetwork, BusStop};
use balagh_domain::places::{Place, PlaceKind};
use balagh_domain::{GeoPoint, JurisdictionId};
use sqlx::{Database, Encode, Executor, FromRow, Type};

/// How many rows an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BusImportSummary {
    pub lines: usize,
    pub stops: usize,
}

#[async_trait::async_trait]
pub trait PlaceStore: Send + Sync {
    /// Creates or updates places by id, in one transaction (places absent from `places`
    /// stay). Returns how many were written.
    async fn upsert_places(&self, jurisdiction: &JurisdictionId, places: &[Place])
    -> Result<usize>;
    /// Places with a word starting with `folded_prefix` (already folded, not empty), those
    /// whose name starts with it first, then by name; at most `limit`.
    async fn search_places(
        &self,
        jurisdiction: &JurisdictionId,
        folded_prefix: &str,
        limit: u32,
    ) -> Result<Vec<Place>>;
    /// Replaces the jurisdiction's whole bus network, in one transaction.
    async fn replace_bus_network(
        &self,
        jurisdiction: &JurisdictionId,
        network: &BusNetwork,
    ) -> Result<BusImportSummary>;
    /// Lines ordered by short name.
    async fn bus_lines(&self, jurisdiction: &JurisdictionId) -> Result<Vec<BusLine>>;
    /// A line's stops in order; `None` when there is no such line.
    async fn bus_line_stops(
        &self,
        jurisdiction: &JurisdictionId,
        line_id: &str,
    ) -> Result<Option<Vec<BusStop>>>;
}

/// `%` and `_` are wildcards of LIKE; `!` is the escape character the queries declare.
#[doc(hidden)]
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct PlaceRow {
    pub id: String,
    pub name: String,
    pub name_ar: Option<String>,
    pub kind: String,
    pub lat: f64,
    pub lon: f64,
}

impl PlaceRow {
    pub fn into_domain(self) -> Result<Place> {
        let corrupt = |e: balagh_domain::FieldError| StoreError::Corrupt(format!("place: {e}"));
        Ok(Place {
            kind: PlaceKind::parse(&self.kind).map_err(corrupt)?,
            point: GeoPoint::parse(self.lat, self.lon).map_err(corrupt)?,
            id: self.id,
            name: self.name,
            name_ar: self.name_ar,
        })
    }
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct BusStopRow {
    pub id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

impl BusStopRow {
    pub fn into_domain(self) -> Result<BusStop> {
        Ok(BusStop {
            point: GeoPoint::parse(self.lat, self.lon)
                .map_err(|e| StoreError::Corrupt(format!("bus stop: {e}")))?,
            id: self.id,
            name: self.name,
        })
    }
}

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<String>: Encode<'q, S::Db>,
    for<'q> f64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> PlaceRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> BusStopRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String, String, String): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Creates or updates places by id, in one transaction; how many were written.
    pub async fn upsert_places(
        &self,
        jurisdiction: &JurisdictionId,
        places: &[Place],
    ) -> Result<usize> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        for p in places {
            sqlx::query(
                "INSERT INTO places (jurisdiction_id, id, name, name_ar, kind, lat, lon, \
                 search_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (jurisdiction_id, id) DO UPDATE SET name = excluded.name, \
                 name_ar = excluded.name_ar, kind = excluded.kind, lat = excluded.lat, \
                 lon = excluded.lon, search_key = excluded.search_key",
            )
            .bind(jurisdiction.as_str())
            .bind(p.id.as_str())
            .bind(p.name.as_str())
            .bind(p.name_ar.clone())
            .bind(p.kind.as_str())
            .bind(p.point.lat())
            .bind(p.point.lon())
            .bind(p.search_key())
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        tx.commit().await.map_err(S::error)?;
        Ok(places.len())
    }

    /// Places with a word starting with `folded_prefix`, those whose name starts with it
    /// first, then by name; at most `limit`.
    pub async fn search_places(
        &self,
        jurisdiction: &JurisdictionId,
        folded_prefix: &str,
        limit: u32,
    ) -> Result<Vec<Place>> {
        let escaped = like_escape(folded_prefix);
        let rows: Vec<PlaceRow> = sqlx::query_as(
            "SELECT id, name, name_ar, kind, lat, lon FROM places \
             WHERE jurisdiction_id = $1 AND search_key LIKE $2 ESCAPE '!' \
             ORDER BY CASE WHEN search_key LIKE $3 ESCAPE '!' THEN 0 ELSE 1 END, \
             name, id LIMIT $4",
        )
        .bind(jurisdiction.as_str())
        .bind(format!("% {escaped}%"))
        .bind(format!(" {escaped}%"))
        .bind(i64::from(limit))
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        rows.into_iter().map(PlaceRow::into_domain).collect()
    }

    /// Replaces the jurisdiction's whole bus network, in one transaction.
    pub async fn replace_bus_network(
        &self,
        jurisdiction: &JurisdictionId,
        network: &BusNetwork,
    ) -> Result<BusImportSummary> {
        let j = jurisdiction.as_str();
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        for delete in [
            "DELETE FROM bus_line_stops WHERE jurisdiction_id = $1",
            "DELETE FROM bus_lines WHERE jurisdiction_id = $1",
            "DELETE FROM bus_stops WHERE jurisdiction_id = $1",
        ] {
            let query = sqlx::query(delete).bind(j);
            query.execute(&mut *tx).await.map_err(S::error)?;
        }
        for l in &network.lines {
            sqlx::query(
                "INSERT INTO bus_lines (jurisdiction_id, id, short_name, long_name) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(j)
            .bind(l.id.as_str())
            .bind(l.short_name.as_str())
            .bind(l.long_name.as_str())
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        for s in &network.stops {
            sqlx::query(
                "INSERT INTO bus_stops (jurisdiction_id, id, name, lat, lon) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(j)
            .bind(s.id.as_str())
            .bind(s.name.as_str())
            .bind(s.point.lat())
            .bind(s.point.lon())
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        for (line, stop, position) in &network.line_stops {
            sqlx::query(
                "INSERT INTO bus_line_stops (jurisdiction_id, line_id, stop_id, position) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(j)
            .bind(line.as_str())
            .bind(stop.as_str())
            .bind(i64::from(*position))
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        }
        tx.commit().await.map_err(S::error)?;
        Ok(BusImportSummary {
            lines: network.lines.len(),
            stops: network.stops.len(),
        })
    }

    /// Lines ordered by short name.
    pub async fn bus_lines(&self, jurisdiction: &JurisdictionId) -> Result<Vec<BusLine>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, short_name, long_name FROM bus_lines \
             WHERE jurisdiction_id = $1 ORDER BY short_name, id",
        )
        .bind(jurisdiction.as_str())
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(|(id, short_name, long_name)| BusLine {
                id,
                short_name,
                long_name,
            })
            .collect())
    }

    /// A line's stops in order; `None` when there is no such line.
    pub async fn bus_line_stops(
        &self,
        jurisdiction: &JurisdictionId,
        line_id: &str,
    ) -> Result<Option<Vec<BusStop>>> {
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT id FROM bus_lines WHERE jurisdiction_id = $1 AND id = $2")
                .bind(jurisdiction.as_str())
                .bind(line_id)
                .fetch_optional(self.0.reader())
                .await
                .map_err(S::error)?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows: Vec<BusStopRow> = sqlx::query_as(
            "SELECT s.id, s.name, s.lat, s.lon FROM bus_line_stops ls \
             JOIN bus_stops s ON s.jurisdiction_id = ls.jurisdiction_id AND s.id = ls.stop_id \
             WHERE ls.jurisdiction_id = $1 AND ls.line_id = $2 ORDER BY ls.position",
        )
        .bind(jurisdiction.as_str())
        .bind(line_id)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        let stops: Result<Vec<BusStop>> = rows.into_iter().map(BusStopRow::into_domain).collect();
        stops.map(Some)
    }
}

/// `impl PlaceStore for $store`, delegating to the functions of [`Sql`].
#[macro_export]
macro_rules! impl_place_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::JurisdictionId;
            use balagh_domain::bus::{BusLine, BusNetwork, BusStop};
            use balagh_domain::places::Place;
            use $crate::{BusImportSummary, Result, Sql};

            #[$crate::async_trait]
            impl $crate::PlaceStore for $store {
                async fn upsert_places(
                    &self,
                    jurisdiction: &JurisdictionId,
                    places: &[Place],
                ) -> Result<usize> {
                    Sql(self).upsert_places(jurisdiction, places).await
                }

                async fn search_places(
                    &self,
                    jurisdiction: &JurisdictionId,
                    folded_prefix: &str,
                    limit: u32,
                ) -> Result<Vec<Place>> {
                    Sql(self)
                        .search_places(jurisdiction, folded_prefix, limit)
                        .await
                }

                async fn replace_bus_network(
                    &self,
                    jurisdiction: &JurisdictionId,
                    network: &BusNetwork,
                ) -> Result<BusImportSummary> {
                    Sql(self).replace_bus_network(jurisdiction, network).await
                }

                async fn bus_lines(&self, jurisdiction: &JurisdictionId) -> Result<Vec<BusLine>> {
                    Sql(self).bus_lines(jurisdiction).await
                }

                async fn bus_line_stops(
                    &self,
                    jurisdiction: &JurisdictionId,
                    line_id: &str,
                ) -> Result<Option<Vec<BusStop>>> {
                    Sql(self).bus_line_stops(jurisdiction, line_id).await
                }
            }
        };
    };
}
