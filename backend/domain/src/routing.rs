//! Routing: which jurisdiction a point is in, and which operator's contract covers it.
//!
//! Zones are indexed in an R-tree of their bounding boxes; candidates are then checked
//! exactly (point in polygon, boundary included so a point on a shared edge still routes).

use crate::{
    Contract, ContractId, GeoPoint, Jurisdiction, JurisdictionId, OperatorId, ServiceGroup,
};
use geo::{BoundingRect, Intersects, MultiPolygon};
use rstar::{AABB, RTree, primitives::GeomWithData, primitives::Rectangle};
use std::collections::HashMap;
use time::OffsetDateTime;

type Indexed = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Where a report goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteOutcome {
    /// A contract valid at that time covers the point for that service group.
    Routed {
        contract: ContractId,
        operator: OperatorId,
    },
    /// Inside the jurisdiction, but no contract covers it: staff triage it.
    Unrouted,
}

/// An immutable index of jurisdictions and contract zones. Rebuilt (cheaply) whenever zones
/// change, then swapped in whole.
#[derive(Debug, Default)]
pub struct Router {
    jurisdictions: Vec<(JurisdictionId, MultiPolygon<f64>)>,
    jurisdiction_index: RTree<Indexed>,
    contracts: Vec<Contract>,
    zone_index: HashMap<(JurisdictionId, ServiceGroup), RTree<Indexed>>,
}

fn envelope(shape: &MultiPolygon<f64>) -> Option<Rectangle<[f64; 2]>> {
    let rect = shape.bounding_rect()?;
    Some(Rectangle::from_corners(
        [rect.min().x, rect.min().y],
        [rect.max().x, rect.max().y],
    ))
}

impl Router {
    pub fn new(jurisdictions: &[Jurisdiction], contracts: Vec<Contract>) -> Self {
        let jurisdiction_boxes = jurisdictions
            .iter()
            .enumerate()
            .filter_map(|(i, j)| envelope(&j.boundary).map(|r| GeomWithData::new(r, i)))
            .collect();
        let mut per_group: HashMap<(JurisdictionId, ServiceGroup), Vec<Indexed>> = HashMap::new();
        for (i, contract) in contracts.iter().enumerate() {
            if let Some(r) = envelope(&contract.zone) {
                per_group
                    .entry((contract.jurisdiction.clone(), contract.group.clone()))
                    .or_default()
                    .push(GeomWithData::new(r, i));
            }
        }
        Self {
            jurisdictions: jurisdictions
                .iter()
                .map(|j| (j.id.clone(), j.boundary.clone()))
                .collect(),
            jurisdiction_index: RTree::bulk_load(jurisdiction_boxes),
            contracts,
            zone_index: per_group
                .into_iter()
                .map(|(k, v)| (k, RTree::bulk_load(v)))
                .collect(),
        }
    }

    /// The jurisdiction whose boundary contains the point, if any.
    pub fn jurisdiction_at(&self, point: &GeoPoint) -> Option<&JurisdictionId> {
        let p = point.to_geo();
        self.jurisdiction_index
            .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
            .map(|hit| &self.jurisdictions[hit.data])
            .find(|(_, boundary)| boundary.intersects(&p))
            .map(|(id, _)| id)
    }

    /// The contract covering `point` for `group` at time `at`. When zones overlap, the
    /// contract that started last wins (it superseded the other), then the lowest id.
    pub fn route(
        &self,
        jurisdiction: &JurisdictionId,
        group: &ServiceGroup,
        point: &GeoPoint,
        at: OffsetDateTime,
    ) -> RouteOutcome {
        let p = point.to_geo();
        let Some(tree) = self.zone_index.get(&(jurisdiction.clone(), group.clone())) else {
            return RouteOutcome::Unrouted;
        };
        tree.locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
            .map(|hit| &self.contracts[hit.data])
            .filter(|c| c.is_valid_at(at) && c.zone.intersects(&p))
            .max_by(|a, b| {
                a.valid_from
                    .cmp(&b.valid_from)
                    .then_with(|| b.id.cmp(&a.id))
            })
            .map_or(RouteOutcome::Unrouted, |c| RouteOutcome::Routed {
                contract: c.id,
                operator: c.operator,
            })
    }

    pub fn contracts(&self) -> &[Contract] {
        &self.contracts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Slug;
    use geo::{Polygon, polygon};
    use time::macros::datetime;
    use uuid::Uuid;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        let p: Polygon<f64> =
            polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)];
        MultiPolygon(vec![p])
    }

    fn contract(
        n: u128,
        group: ServiceGroup,
        zone: MultiPolygon<f64>,
        from: OffsetDateTime,
    ) -> Contract {
        Contract {
            id: ContractId(Uuid::from_u128(n)),
            jurisdiction: Slug::parse("id", "town").unwrap(),
            reference: format!("C{n}"),
            operator: OperatorId(Uuid::from_u128(100 + n)),
            group,
            zone_name: format!("zone {n}"),
            zone,
            valid_from: from,
            valid_until: None,
        }
    }

    fn town() -> Jurisdiction {
        Jurisdiction {
            id: Slug::parse("id", "town").unwrap(),
            name: "Town".into(),
            boundary: square(0.0, 0.0, 2.0, 1.0),
            time_zone: "Africa/Casablanca".into(),
            languages: vec![crate::Language::Fr],
            default_language: crate::Language::Fr,
            reference_prefix: "TWN".into(),
            statistics: Default::default(),
            currency: Default::default(),
        }
    }

    #[test]
    fn routes_by_zone_group_and_validity() {
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let west = contract(1, ServiceGroup::WASTE, square(0.0, 0.0, 1.0, 1.0), t0);
        let mut east = contract(2, ServiceGroup::WASTE, square(1.0, 0.0, 2.0, 1.0), t0);
        east.valid_until = Some(datetime!(2026-06-01 0:00 UTC));
        let later = contract(
            3,
            ServiceGroup::WASTE,
            square(1.5, 0.0, 2.0, 1.0),
            datetime!(2026-03-01 0:00 UTC),
        );
        let router = Router::new(&[town()], vec![west, east, later]);
        let town = town().id;
        let at = |lon: f64| GeoPoint::parse(0.5, lon).unwrap();
        let op = |r: RouteOutcome| match r {
            RouteOutcome::Routed { operator, .. } => Some(operator.0.as_u128() - 100),
            RouteOutcome::Unrouted => None,
        };
        let april = datetime!(2026-04-01 0:00 UTC);
        assert_eq!(
            op(router.route(&town, &ServiceGroup::WASTE, &at(0.5), april)),
            Some(1)
        );
        assert_eq!(
            op(router.route(&town, &ServiceGroup::WASTE, &at(1.2), april)),
            Some(2)
        );
        // Overlap: the newer contract wins.
        assert_eq!(
            op(router.route(&town, &ServiceGroup::WASTE, &at(1.7), april)),
            Some(3)
        );
        // Before the newer contract started.
        assert_eq!(
            op(router.route(
                &town,
                &ServiceGroup::WASTE,
                &at(1.7),
                datetime!(2026-02-01 0:00 UTC)
            )),
            Some(2)
        );
        // After the east contract ended.
        assert_eq!(
            op(router.route(
                &town,
                &ServiceGroup::WASTE,
                &at(1.2),
                datetime!(2026-07-01 0:00 UTC)
            )),
            None
        );
        // A shared edge still routes.
        assert!(op(router.route(&town, &ServiceGroup::WASTE, &at(1.0), april)).is_some());
        // No lighting contract at all.
        assert_eq!(
            op(router.route(&town, &ServiceGroup::LIGHTING, &at(0.5), april)),
            None
        );
    }

    #[test]
    fn finds_the_jurisdiction() {
        let router = Router::new(&[town()], vec![]);
        assert_eq!(
            router
                .jurisdiction_at(&GeoPoint::parse(0.5, 1.5).unwrap())
                .map(|j| j.as_str()),
            Some("town")
        );
        assert!(
            router
                .jurisdiction_at(&GeoPoint::parse(1.5, 1.5).unwrap())
                .is_none()
        );
    }
}
