//! The gazetteer and the bus network (issue 20): named places and GTFS lines and stops,
//! searched by the resident web app's map-free path. [`PlaceStore`] is a supertrait of
//! [`Store`](crate::Store); both backends share its SQL through
//! [`impl_place_store!`](crate::impl_place_store).

use crate::{Result, StoreError};
use balagh_domain::bus::{BusLine, BusNetwork, BusStop};
use balagh_domain::places::{Place, PlaceKind};
use balagh_domain::{GeoPoint, JurisdictionId};

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

/// `impl PlaceStore for $store` over `sqlx::Pool<$db>`, with the same inherent items as
/// [`impl_sql_store!`](crate::impl_sql_store) (`reader`, `writer`, `error`).
#[macro_export]
macro_rules! impl_place_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx;
            use $crate::*;
            use balagh_domain::bus::{BusLine, BusNetwork, BusStop};
            use balagh_domain::places::Place;
            use balagh_domain::JurisdictionId;

            #[$crate::async_trait]
            impl PlaceStore for $store {
                async fn upsert_places(
                    &self,
                    jurisdiction: &JurisdictionId,
                    places: &[Place],
                ) -> Result<usize> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    for p in places {
                        sqlx::query(
                            "INSERT INTO places (jurisdiction_id, id, name, name_ar, kind, lat, \
                             lon, search_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                             ON CONFLICT (jurisdiction_id, id) DO UPDATE SET name = excluded.name, \
                             name_ar = excluded.name_ar, kind = excluded.kind, lat = excluded.lat, \
                             lon = excluded.lon, search_key = excluded.search_key",
                        )
                        .bind(jurisdiction.as_str())
                        .bind(&p.id)
                        .bind(&p.name)
                        .bind(p.name_ar.clone())
                        .bind(p.kind.as_str())
                        .bind(p.point.lat())
                        .bind(p.point.lon())
                        .bind(p.search_key())
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(places.len())
                }

                async fn search_places(
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
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    convert_all(rows, PlaceRow::into_domain)
                }

                async fn replace_bus_network(
                    &self,
                    jurisdiction: &JurisdictionId,
                    network: &BusNetwork,
                ) -> Result<BusImportSummary> {
                    let j = jurisdiction.as_str();
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    for delete in [
                        "DELETE FROM bus_line_stops WHERE jurisdiction_id = $1",
                        "DELETE FROM bus_lines WHERE jurisdiction_id = $1",
                        "DELETE FROM bus_stops WHERE jurisdiction_id = $1",
                    ] {
                        sqlx::query(delete)
                            .bind(j)
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                    }
                    for l in &network.lines {
                        sqlx::query(
                            "INSERT INTO bus_lines (jurisdiction_id, id, short_name, long_name) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(j)
                        .bind(&l.id)
                        .bind(&l.short_name)
                        .bind(&l.long_name)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    for s in &network.stops {
                        sqlx::query(
                            "INSERT INTO bus_stops (jurisdiction_id, id, name, lat, lon) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(j)
                        .bind(&s.id)
                        .bind(&s.name)
                        .bind(s.point.lat())
                        .bind(s.point.lon())
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    for (line, stop, position) in &network.line_stops {
                        sqlx::query(
                            "INSERT INTO bus_line_stops (jurisdiction_id, line_id, stop_id, \
                             position) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(j)
                        .bind(line)
                        .bind(stop)
                        .bind(i64::from(*position))
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(BusImportSummary {
                        lines: network.lines.len(),
                        stops: network.stops.len(),
                    })
                }

                async fn bus_lines(&self, jurisdiction: &JurisdictionId) -> Result<Vec<BusLine>> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT id, short_name, long_name FROM bus_lines \
                         WHERE jurisdiction_id = $1 ORDER BY short_name, id",
                    )
                    .bind(jurisdiction.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, short_name, long_name)| BusLine {
                            id,
                            short_name,
                            long_name,
                        })
                        .collect())
                }

                async fn bus_line_stops(
                    &self,
                    jurisdiction: &JurisdictionId,
                    line_id: &str,
                ) -> Result<Option<Vec<BusStop>>> {
                    let exists: Option<(String,)> = sqlx::query_as(
                        "SELECT id FROM bus_lines WHERE jurisdiction_id = $1 AND id = $2",
                    )
                    .bind(jurisdiction.as_str())
                    .bind(line_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    if exists.is_none() {
                        return Ok(None);
                    }
                    let rows: Vec<BusStopRow> = sqlx::query_as(
                        "SELECT s.id, s.name, s.lat, s.lon FROM bus_line_stops ls \
                         JOIN bus_stops s ON s.jurisdiction_id = ls.jurisdiction_id \
                         AND s.id = ls.stop_id \
                         WHERE ls.jurisdiction_id = $1 AND ls.line_id = $2 ORDER BY ls.position",
                    )
                    .bind(jurisdiction.as_str())
                    .bind(line_id)
                    .fetch_all(self.reader())
                    .await
                    .map_err(<$store>::error)?;
                    convert_all(rows, BusStopRow::into_domain).map(Some)
                }
            }
        };
    };
}
