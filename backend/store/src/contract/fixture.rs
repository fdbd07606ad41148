//! The catalogue the contract cases run on: the Tétouan demo's jurisdiction, services and
//! zones (the same files `balagh seed-demo` loads), read with the domain's parsers.

use crate::{NewReport, Store, Ts};
use balagh_domain::event::Actor;
use balagh_domain::event_data::creation_events;
use balagh_domain::jurisdiction::JurisdictionSettings;
use balagh_domain::zones::{ZoneFeature, parse_area};
use balagh_domain::{
    AttributeValues, Channel, Description, GeoPoint, Jurisdiction, Priority, PublicReference,
    ReportStatus, Service, ServiceCode,
};
use geojson::GeoJson;
use uuid::Uuid;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../balagh/demo/tetouan/");
const JURISDICTION: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../balagh/demo/tetouan/jurisdiction.json"
));
const BOUNDARY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../balagh/demo/tetouan/boundary.geojson"
));
const SERVICES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../balagh/demo/tetouan/services.json"
));
const ZONES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../balagh/demo/tetouan/zones.geojson"
));

/// A point inside the demo commune, west (lat, lon).
pub const WEST: (f64, f64) = (35.5750, -5.4000);
/// The service the cases report.
pub const SERVICE: &str = "waste_bin_overflow";

/// The demo catalogue.
#[derive(Debug)]
pub struct Catalogue {
    pub jurisdiction: Jurisdiction,
    pub services: Vec<Service>,
    pub zones: Vec<ZoneFeature>,
}

fn features(text: &str) -> Vec<geojson::Feature> {
    match text.parse::<GeoJson>() {
        Ok(GeoJson::FeatureCollection(fc)) => fc.features,
        other => panic!("{DEMO}: expected a FeatureCollection, got {other:?}"),
    }
}

impl Catalogue {
    pub fn load() -> Self {
        let settings: JurisdictionSettings = serde_json::from_str(JURISDICTION).unwrap();
        let boundary = features(BOUNDARY).remove(0).geometry.unwrap();
        let jurisdiction = Jurisdiction::parse(settings, parse_area(&boundary).unwrap()).unwrap();
        #[derive(serde::Deserialize)]
        struct ServicesFile {
            services: Vec<Service>,
        }
        let services = serde_json::from_str::<ServicesFile>(SERVICES)
            .unwrap()
            .services;
        let zones = features(ZONES)
            .iter()
            .map(|f| ZoneFeature::parse(f).unwrap())
            .collect();
        Self {
            jurisdiction,
            services,
            zones,
        }
    }

    /// Writes the catalogue (idempotent: again updates the same rows).
    pub async fn seed(&self, store: &dyn Store) {
        store.upsert_jurisdiction(&self.jurisdiction).await.unwrap();
        store
            .upsert_services(&self.jurisdiction.id, &self.services)
            .await
            .unwrap();
        store
            .upsert_zones(&self.jurisdiction.id, &self.zones, &|_| {})
            .await
            .unwrap();
    }

    /// An unrouted report of [`SERVICE`] at [`WEST`], with its creation events.
    pub fn report(&self, device: Option<Uuid>, key: Option<&str>, at: Ts) -> NewReport {
        let id = Uuid::now_v7();
        NewReport {
            id,
            reference: PublicReference::from_stored(format!("TET-{}", id.simple())),
            jurisdiction: self.jurisdiction.id.clone(),
            service_code: ServiceCode::parse(SERVICE).unwrap(),
            point: GeoPoint::parse(WEST.0, WEST.1).unwrap(),
            accuracy: None,
            description: Description::parse("Plein").unwrap(),
            attributes: AttributeValues::default(),
            channel: Channel::App,
            status: ReportStatus::Unrouted,
            priority: Priority::Normal,
            operator: None,
            contract: None,
            device,
            idempotency: key.map(|k| crate::Idempotency {
                key: balagh_domain::IdempotencyKey::parse(k).unwrap(),
                request_hash: vec![1, 2, 3],
            }),
            created_at: at,
            due_at: None,
            contact: None,
            created_by: None,
            outbox: Vec::new(),
            events: creation_events(Actor::System, None, None, Channel::App),
            clocks: Vec::new(),
            photos: Vec::new(),
            later_events: Vec::new(),
        }
    }
}
