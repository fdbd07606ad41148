//! An in-memory snapshot of what changes rarely: jurisdictions, services, operators and the
//! routing index. Requests read it without touching the database.

use balagh_domain::sla::{BusinessCalendar, CalendarSpec, SlaPolicy, policy_in_force};
use balagh_domain::{
    ContractId, Jurisdiction, JurisdictionId, OperatorId, Router, Service, ServiceCode,
    ServiceGroupDefinition,
};
use balagh_store::{OperatorRecord, ServiceMedia, Store, StoreError, StoredPolicy};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Default)]
pub struct Catalog {
    revision: i64,
    jurisdictions: Vec<Jurisdiction>,
    services: HashMap<JurisdictionId, Vec<Service>>,
    /// Each jurisdiction's service groups, in display order.
    groups: HashMap<JurisdictionId, Vec<ServiceGroupDefinition>>,
    /// Each jurisdiction's service videos and easy-to-read texts, by service code (the
    /// service list is read on every app start: it must not cost a query).
    media: HashMap<JurisdictionId, BTreeMap<String, ServiceMedia>>,
    operators: HashMap<OperatorId, OperatorRecord>,
    router: Router,
    /// Each jurisdiction's calendar (the default one until staff set theirs).
    calendars: HashMap<JurisdictionId, (CalendarSpec, BusinessCalendar)>,
    /// Every version of each contract's SLA policy, oldest first.
    policies: HashMap<ContractId, Vec<StoredPolicy>>,
    /// The same versions, as the domain looks them up.
    policies_in_effect: HashMap<ContractId, Vec<SlaPolicy>>,
    /// Per contract, what it is measured against while it has no policy.
    fallback_policies: HashMap<ContractId, SlaPolicy>,
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
        let mut groups: HashMap<JurisdictionId, Vec<ServiceGroupDefinition>> = HashMap::new();
        for (jurisdiction, group) in store.service_groups().await? {
            groups.entry(jurisdiction).or_default().push(group);
        }
        let mut media: HashMap<JurisdictionId, BTreeMap<String, ServiceMedia>> = HashMap::new();
        for (jurisdiction, m) in store.service_media().await? {
            media
                .entry(jurisdiction)
                .or_default()
                .insert(m.service_code.clone(), m);
        }
        let operators = store
            .operators()
            .await?
            .into_iter()
            .map(|record| (record.operator.id, record))
            .collect();
        let contracts = store.contracts().await?;
        let fallback_policies = contracts
            .iter()
            .map(|c| (c.id, SlaPolicy::fallback(c.id)))
            .collect();
        let router = Router::new(&jurisdictions, contracts);
        let mut specs: HashMap<JurisdictionId, CalendarSpec> =
            store.sla_calendars().await?.into_iter().collect();
        let mut calendars = HashMap::new();
        for jurisdiction in &jurisdictions {
            let spec = specs
                .remove(&jurisdiction.id)
                .unwrap_or_else(CalendarSpec::moroccan_administration);
            match spec.build(jurisdiction.time_zone.as_str()) {
                Ok(calendar) => {
                    calendars.insert(jurisdiction.id.clone(), (spec, calendar));
                }
                // Specs are validated before they are stored; a time zone the bundled
                // database lost would be a bug worth a log line, not an outage.
                Err(e) => tracing::error!(jurisdiction = %jurisdiction.id, "calendar: {e}"),
            }
        }
        let mut policies: HashMap<ContractId, Vec<StoredPolicy>> = HashMap::new();
        for stored in store.sla_policies().await? {
            policies
                .entry(stored.policy.contract)
                .or_default()
                .push(stored);
        }
        let policies_in_effect = policies
            .iter()
            .map(|(contract, versions)| {
                (
                    *contract,
                    versions.iter().map(|v| v.policy.clone()).collect(),
                )
            })
            .collect();
        Ok(Self {
            revision,
            jurisdictions,
            services,
            groups,
            media,
            operators,
            router,
            calendars,
            policies,
            policies_in_effect,
            fallback_policies,
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

    /// The jurisdiction's service groups, in display order.
    pub fn groups(&self, jurisdiction: &JurisdictionId) -> &[ServiceGroupDefinition] {
        self.groups.get(jurisdiction).map_or(&[], Vec::as_slice)
    }

    /// The jurisdiction's service media, by service code.
    pub fn media(&self, jurisdiction: &JurisdictionId) -> &BTreeMap<String, ServiceMedia> {
        static NONE: BTreeMap<String, ServiceMedia> = BTreeMap::new();
        self.media.get(jurisdiction).unwrap_or(&NONE)
    }

    pub fn group(
        &self,
        jurisdiction: &JurisdictionId,
        code: &str,
    ) -> Option<&ServiceGroupDefinition> {
        self.groups(jurisdiction)
            .iter()
            .find(|g| g.code.as_str() == code)
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

    pub fn contract(&self, id: ContractId) -> Option<&balagh_domain::Contract> {
        self.router.contracts().iter().find(|c| c.id == id)
    }

    /// The jurisdiction's business calendar.
    pub fn sla_calendar(&self, jurisdiction: &JurisdictionId) -> Option<&BusinessCalendar> {
        self.calendars
            .get(jurisdiction)
            .map(|(_, calendar)| calendar)
    }

    /// The calendar as staff entered it (or the default).
    pub fn sla_calendar_spec(&self, jurisdiction: &JurisdictionId) -> Option<&CalendarSpec> {
        self.calendars.get(jurisdiction).map(|(spec, _)| spec)
    }

    /// Every version of a contract's policy, oldest first (empty: it has none).
    pub fn sla_policy_versions(&self, contract: ContractId) -> &[StoredPolicy] {
        self.policies.get(&contract).map_or(&[], Vec::as_slice)
    }

    /// The policy version a report created at `created` is measured against: the one in
    /// force then, else the fallback (also for reports older than the first version).
    pub fn sla_policy(&self, contract: ContractId, created: jiff::Timestamp) -> Option<&SlaPolicy> {
        self.policies_in_effect
            .get(&contract)
            .and_then(|versions| policy_in_force(versions, created))
            .or_else(|| self.fallback_policies.get(&contract))
    }
}
