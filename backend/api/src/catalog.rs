//! An in-memory snapshot of what changes rarely: jurisdictions, services, operators and the
//! routing index. Requests read it without touching the database.

use balagh_domain::{Jurisdiction, JurisdictionId, OperatorId, Router, Service, ServiceCode};
use balagh_store::{OperatorRecord, Store, StoreError};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Catalog {
    revision: i64,
    jurisdictions: Vec<Jurisdiction>,
    services: HashMap<JurisdictionId, Vec<Service>>,
    operators: HashMap<OperatorId, OperatorRecord>,
    router: Router,
}

impl Catalog {
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        // Read the revision first: a change landing meanwhile triggers another reload.
        let revision = store.catalog_revision().await?;
        let jurisdictions = store.jurisdictions().await?;
        let mut services: HashMap<JurisdictionId, Vec<Service>> = HashMap::new();
        for (jurisdiction, service) in store.services().await? {
            services.entry(jurisdiction).or_default().push(service);
        }
        let operators = store
            .operators()
            .await?
            .into_iter()
            .map(|record| (record.operator.id, record))
            .collect();
        let router = Router::new(&jurisdictions, store.contracts().await?);
        Ok(Self {
            revision,
            jurisdictions,
            services,
            operators,
            router,
        })
    }

    pub fn revision(&self) -> i64 {
        self.revision
    }

    pub fn jurisdictions(&self) -> &[Jurisdiction] {
        &self.jurisdictions
    }

    pub fn jurisdiction(&self, id: &JurisdictionId) -> Option<&Jurisdiction> {
        self.jurisdictions.iter().find(|j| &j.id == id)
    }

    /// The jurisdiction named by a client, or the only/first one when none is named.
    pub fn jurisdiction_or_default(&self, id: Option<&str>) -> Option<&Jurisdiction> {
        match id {
            Some(id) => self.jurisdictions.iter().find(|j| j.id.as_str() == id),
            None => self.jurisdictions.first(),
        }
    }

    pub fn services(&self, jurisdiction: &JurisdictionId) -> &[Service] {
        self.services.get(jurisdiction).map_or(&[], Vec::as_slice)
    }

    pub fn service(&self, jurisdiction: &JurisdictionId, code: &ServiceCode) -> Option<&Service> {
        self.services(jurisdiction).iter().find(|s| &s.code == code)
    }

    pub fn operator(&self, id: OperatorId) -> Option<&OperatorRecord> {
        self.operators.get(&id)
    }

    /// Operators holding contracts in a jurisdiction.
    pub fn operators_of<'a>(
        &'a self,
        jurisdiction: &'a JurisdictionId,
    ) -> impl Iterator<Item = &'a OperatorRecord> + 'a {
        self.operators
            .values()
            .filter(move |r| &r.jurisdiction == jurisdiction)
    }

    pub fn router(&self) -> &Router {
        &self.router
    }
}
