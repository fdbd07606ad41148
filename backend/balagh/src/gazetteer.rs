//! `balagh import-places FILE.geojson` and `balagh import-gtfs FOLDER`: the gazetteer of
//! named places and the bus network the resident web app offers instead of a map. Each file
//! is checked whole before anything is written; re-importing the same file changes nothing
//! (places are updated by id, the bus network is replaced).

use balagh_domain::JurisdictionId;
use balagh_domain::bus::{BusNetwork, GtfsFiles, parse_gtfs};
use balagh_domain::places::{Place, parse_places};
use balagh_store::{BusImportSummary, Store};
use std::path::Path;

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads and checks a GeoJSON FeatureCollection of Point features.
pub fn read_places(path: &Path) -> Result<Vec<Place>, String> {
    let places = parse_places(&read(path)?)
        .map_err(|e| format!("{}: {e}; nothing was imported", path.display()))?;
    if places.is_empty() {
        return Err(format!("{}: the file has no features", path.display()));
    }
    Ok(places)
}

/// Reads and checks a GTFS folder: `routes.txt` and `stops.txt`, and `trips.txt` with
/// `stop_times.txt` when both are there (which stops each line serves).
pub fn read_gtfs(folder: &Path) -> Result<BusNetwork, String> {
    let optional = |name: &str| -> Result<Option<String>, String> {
        let path = folder.join(name);
        if path.exists() {
            read(&path).map(Some)
        } else {
            Ok(None)
        }
    };
    let routes = read(&folder.join("routes.txt"))?;
    let stops = read(&folder.join("stops.txt"))?;
    let trips = optional("trips.txt")?;
    let stop_times = optional("stop_times.txt")?;
    parse_gtfs(GtfsFiles {
        routes: &routes,
        stops: &stops,
        trips: trips.as_deref(),
        stop_times: stop_times.as_deref(),
    })
    .map_err(|e| format!("{}: {e}; nothing was imported", folder.display()))
}

async fn known(store: &dyn Store, jurisdiction: &JurisdictionId) -> Result<(), String> {
    let all = store.jurisdictions().await.map_err(|e| e.to_string())?;
    if all.iter().any(|j| &j.id == jurisdiction) {
        Ok(())
    } else {
        Err(format!(
            "no jurisdiction '{jurisdiction}' in the database (run `balagh seed-demo` or create it first)"
        ))
    }
}

pub async fn write_places(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    places: &[Place],
) -> Result<usize, String> {
    known(store, jurisdiction).await?;
    store
        .upsert_places(jurisdiction, places)
        .await
        .map_err(|e| e.to_string())
}

pub async fn write_gtfs(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    network: &BusNetwork,
) -> Result<BusImportSummary, String> {
    known(store, jurisdiction).await?;
    store
        .replace_bus_network(jurisdiction, network)
        .await
        .map_err(|e| e.to_string())
}
