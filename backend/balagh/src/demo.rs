//! A commune's data package (settings, boundary, services, contract zones, SLA policies,
//! gazetteer, bus network): the Tétouan demo compiled into the binary so `balagh serve`
//! works from anywhere, or any commune's folder of the same files
//! (`balagh import-jurisdiction`). The demo geometry and companies are synthetic (and say so
//! in the files).

use balagh_domain::bus::{BusNetwork, GtfsFiles, parse_gtfs};
use balagh_domain::jurisdiction::JurisdictionSettings;
use balagh_domain::places::{Place, parse_places};
use balagh_domain::sla::{
    ClockKind, PauseReason, PenaltyRule, SlaPolicy, SlaPolicyId, Target, WarningThresholds,
};
use balagh_domain::zones::{ZoneFeature, parse_area};
use balagh_domain::{FieldError, Jurisdiction, Service};
use balagh_store::{Store, StoreError, Ts, ZoneImportSummary};
use geojson::GeoJson;

const JURISDICTION: &str = include_str!("../demo/tetouan/jurisdiction.json");
const BOUNDARY: &str = include_str!("../demo/tetouan/boundary.geojson");
const SERVICES: &str = include_str!("../demo/tetouan/services.json");
pub const ZONES: &str = include_str!("../demo/tetouan/zones.geojson");
const SLA: &str = include_str!("../demo/tetouan/sla.json");
/// The synthetic gazetteer and bus feed of the resident web app's map-free path.
pub const PLACES: &str = include_str!("../demo/tetouan/places.geojson");
const GTFS: GtfsFiles<'static> = GtfsFiles {
    routes: include_str!("../demo/tetouan/gtfs/routes.txt"),
    stops: include_str!("../demo/tetouan/gtfs/stops.txt"),
    trips: Some(include_str!("../demo/tetouan/gtfs/trips.txt")),
    stop_times: Some(include_str!("../demo/tetouan/gtfs/stop_times.txt")),
};

/// The files of a commune's package, as text. `sla.json`, `places.geojson` and `gtfs/` are
/// optional in a folder (a commune without buses has no feed).
#[derive(Debug, Clone, Copy)]
pub struct CommuneFiles<'a> {
    pub jurisdiction: &'a str,
    pub boundary: &'a str,
    pub services: &'a str,
    pub zones: &'a str,
    pub sla: Option<&'a str>,
    pub places: Option<&'a str>,
    pub gtfs: Option<GtfsFiles<'a>>,
}

/// The Tétouan demo package.
pub const TETOUAN: CommuneFiles<'static> = CommuneFiles {
    jurisdiction: JURISDICTION,
    boundary: BOUNDARY,
    services: SERVICES,
    zones: ZONES,
    sla: Some(SLA),
    places: Some(PLACES),
    gtfs: Some(GTFS),
};

#[derive(Debug)]
pub struct DemoData {
    /// The SLA policy of each service group (`sla.json`), given as version 1 to every
    /// contract of the commune that has none.
    sla: Option<String>,
    pub jurisdiction: Jurisdiction,
    pub services: Vec<Service>,
    pub zones: Vec<ZoneFeature>,
    pub places: Vec<Place>,
    pub bus: Option<BusNetwork>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo data is invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn features(text: &str) -> Result<Vec<geojson::Feature>, DemoError> {
    match text.parse::<GeoJson>() {
        Ok(GeoJson::FeatureCollection(fc)) => Ok(fc.features),
        Ok(_) => Err(DemoError::Invalid("expected a FeatureCollection".into())),
        Err(e) => Err(DemoError::Invalid(e.to_string())),
    }
}

fn invalid(e: FieldError) -> DemoError {
    DemoError::Invalid(e.to_string())
}

impl DemoData {
    /// The Tétouan demo.
    pub fn load() -> Result<Self, DemoError> {
        Self::from_files(TETOUAN)
    }

    /// A commune's folder: `jurisdiction.json`, `boundary.geojson`, `services.json`,
    /// `zones.geojson`, and optionally `sla.json`, `places.geojson`, `gtfs/`.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, DemoError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| DemoError::Invalid(format!("{}: {e}", dir.join(name).display())))
        };
        let optional = |name: &str| {
            let path = dir.join(name);
            path.exists().then(|| read(name)).transpose()
        };
        let (jurisdiction, boundary) = (read("jurisdiction.json")?, read("boundary.geojson")?);
        let (services, zones) = (read("services.json")?, read("zones.geojson")?);
        let (sla, places) = (optional("sla.json")?, optional("places.geojson")?);
        let gtfs = if dir.join("gtfs/routes.txt").exists() {
            Some([
                read("gtfs/routes.txt")?,
                read("gtfs/stops.txt")?,
                optional("gtfs/trips.txt")?.unwrap_or_default(),
                optional("gtfs/stop_times.txt")?.unwrap_or_default(),
            ])
        } else {
            None
        };
        Self::from_files(CommuneFiles {
            jurisdiction: &jurisdiction,
            boundary: &boundary,
            services: &services,
            zones: &zones,
            sla: sla.as_deref(),
            places: places.as_deref(),
            gtfs: gtfs
                .as_ref()
                .map(|[routes, stops, trips, stop_times]| GtfsFiles {
                    routes,
                    stops,
                    trips: (!trips.is_empty()).then_some(trips.as_str()),
                    stop_times: (!stop_times.is_empty()).then_some(stop_times.as_str()),
                }),
        })
    }

    pub fn from_files(files: CommuneFiles<'_>) -> Result<Self, DemoError> {
        let settings: JurisdictionSettings = serde_json::from_str(files.jurisdiction)
            .map_err(|e| DemoError::Invalid(format!("jurisdiction.json: {e}")))?;
        let boundary_feature = features(files.boundary)?
            .into_iter()
            .next()
            .ok_or_else(|| DemoError::Invalid("boundary has no feature".into()))?;
        let geometry = boundary_feature
            .geometry
            .ok_or_else(|| DemoError::Invalid("boundary has no geometry".into()))?;
        let jurisdiction = Jurisdiction::parse(settings, parse_area(&geometry).map_err(invalid)?)
            .map_err(invalid)?;
        #[derive(serde::Deserialize)]
        struct ServicesFile {
            services: Vec<Service>,
        }
        let services = serde_json::from_str::<ServicesFile>(files.services)
            .map_err(|e| DemoError::Invalid(format!("services.json: {e}")))?
            .services;
        let zones = features(files.zones)?
            .iter()
            .map(ZoneFeature::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let places = match files.places {
            Some(text) => parse_places(text).map_err(invalid)?,
            None => Vec::new(),
        };
        let bus = match files.gtfs {
            Some(gtfs) => Some(parse_gtfs(gtfs).map_err(invalid)?),
            None => None,
        };
        Ok(Self {
            sla: files.sla.map(str::to_owned),
            jurisdiction,
            services,
            zones,
            places,
            bus,
        })
    }

    /// Writes the demo data (idempotent: running it again updates the same rows).
    pub async fn seed(&self, store: &dyn Store) -> Result<ZoneImportSummary, DemoError> {
        store.upsert_jurisdiction(&self.jurisdiction).await?;
        store
            .upsert_services(&self.jurisdiction.id, &self.services)
            .await?;
        let summary = store
            .upsert_zones(&self.jurisdiction.id, &self.zones, &|_| {})
            .await?;
        self.seed_sla_policies(store).await?;
        store
            .upsert_places(&self.jurisdiction.id, &self.places)
            .await?;
        if let Some(bus) = &self.bus {
            store
                .replace_bus_network(&self.jurisdiction.id, bus)
                .await?;
        }
        Ok(summary)
    }

    /// Version 1 of a policy for every demo contract that has none yet, by service group.
    async fn seed_sla_policies(&self, store: &dyn Store) -> Result<(), DemoError> {
        #[derive(serde::Deserialize)]
        struct GroupPolicy {
            clock: ClockKind,
            targets: Vec<Target>,
            pause_reasons_that_stop_the_clock: Vec<PauseReason>,
            warning_thresholds: WarningThresholds,
            penalty: PenaltyRule,
        }
        let Some(sla) = &self.sla else {
            return Ok(());
        };
        let groups: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_str(sla).map_err(|e| DemoError::Invalid(format!("sla.json: {e}")))?;
        let existing: std::collections::HashSet<_> = store
            .sla_policies()
            .await?
            .into_iter()
            .map(|p| p.policy.contract)
            .collect();
        for contract in store.contracts().await? {
            if contract.jurisdiction != self.jurisdiction.id || existing.contains(&contract.id) {
                continue;
            }
            let Some(raw) = groups.get(contract.group.as_str()) else {
                continue;
            };
            let group: GroupPolicy = serde_json::from_value(raw.clone())
                .map_err(|e| DemoError::Invalid(format!("sla.json: {e}")))?;
            let policy = SlaPolicy {
                id: SlaPolicyId(contract.id.0),
                version: 1,
                contract: contract.id,
                effective_from: jiff::Timestamp::UNIX_EPOCH,
                clock: group.clock,
                targets: group.targets,
                pause_reasons_that_stop_the_clock: group.pause_reasons_that_stop_the_clock,
                warning_thresholds: group.warning_thresholds,
                penalty: group.penalty,
            };
            policy.validate().map_err(invalid)?;
            match store.add_sla_policy(&policy, Ts::now(), None).await {
                // Another process seeded it meanwhile.
                Err(StoreError::Conflict(_)) | Ok(()) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use balagh_domain::{GeoPoint, RouteOutcome, Router, ServiceGroup};
    use geo::{BoundingRect, Intersects};
    use rand::{Rng, SeedableRng};

    #[test]
    fn demo_data_is_complete_and_every_point_routes() {
        let demo = DemoData::load().unwrap();
        assert!(demo.services.len() >= 12);
        for group in ServiceGroup::BUILT_IN {
            assert!(demo.services.iter().any(|s| s.group == group), "{group:?}");
        }
        for s in &demo.services {
            assert!(s.name.ar.is_some() && s.name.en.is_some(), "{}", s.code);
        }
        let operators: std::collections::BTreeSet<_> =
            demo.zones.iter().map(|z| z.operator.clone()).collect();
        assert!(operators.len() >= 3);

        let contracts = demo
            .zones
            .iter()
            .enumerate()
            .map(|(i, z)| balagh_domain::Contract {
                id: balagh_domain::ContractId(uuid::Uuid::from_u128(i as u128)),
                jurisdiction: demo.jurisdiction.id.clone(),
                reference: z.contract_reference.clone(),
                operator: balagh_domain::OperatorId(uuid::Uuid::from_u128(100 + i as u128)),
                group: z.group.clone(),
                zone_name: z.zone_name.clone(),
                zone: z.zone.clone(),
                valid_from: z.valid_from,
                valid_until: z.valid_until,
            })
            .collect();
        let router = Router::new(std::slice::from_ref(&demo.jurisdiction), contracts);
        let bbox = demo.jurisdiction.boundary.bounding_rect().unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let now = time::OffsetDateTime::now_utc();
        let mut inside = 0;
        for _ in 0..5_000 {
            let p = GeoPoint::parse(
                rng.random_range(bbox.min().y..bbox.max().y),
                rng.random_range(bbox.min().x..bbox.max().x),
            )
            .unwrap();
            if !demo.jurisdiction.boundary.intersects(&p.to_geo()) {
                assert!(router.jurisdiction_at(&p).is_none());
                continue;
            }
            inside += 1;
            assert_eq!(router.jurisdiction_at(&p), Some(&demo.jurisdiction.id));
            for group in &ServiceGroup::BUILT_IN {
                assert!(
                    matches!(
                        router.route(&demo.jurisdiction.id, group, &p, now),
                        RouteOutcome::Routed { .. }
                    ),
                    "{p:?} {group:?} unrouted"
                );
            }
        }
        assert!(inside > 2_000, "{inside}");
    }
}
