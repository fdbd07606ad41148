//! Coarsening map cells: publish a resolution-8 H3 cell when it holds at least k reports,
//! otherwise fold it into its resolution-7 parent, otherwise into its district, otherwise
//! withhold it.
//!
//! Rows never overlap, so no published row can be subtracted from another: a resolution-7
//! row counts only the reports of its children that were *not* published on their own
//! ("the rest of this cell"), and a district row only the reports of cells not published at
//! either cell level ("the rest of this district"). A map draws a resolution-7 row as its
//! parent cell and a district row as the district, each labelled "rest of".
//!
//! The reports withheld in the end are not published anywhere. Publishing the grand total
//! next to the rows would give away their sum, so [`Coarsening::safe_total`] only returns it
//! when that sum is 0 or at least k.

use super::rollup::{DistrictId, Res8Cell};
use h3o::CellIndex;
use std::collections::BTreeMap;

/// The level a published row is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AreaLevel {
    /// A resolution-8 cell on its own.
    Res8,
    /// The rest of a resolution-7 cell.
    Res7,
    /// The rest of a district.
    District,
}

impl AreaLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Res8 => "h3_res8",
            AreaLevel::Res7 => "h3_res7",
            AreaLevel::District => "district",
        }
    }
}

/// Where a published row is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    Res8(Res8Cell),
    /// A resolution-7 cell (the rest of it).
    Res7(CellIndex),
    /// A district (the rest of it).
    District(DistrictId),
}

impl Area {
    pub fn level(&self) -> AreaLevel {
        match self {
            Area::Res8(_) => AreaLevel::Res8,
            Area::Res7(_) => AreaLevel::Res7,
            Area::District(_) => AreaLevel::District,
        }
    }

    /// The H3 cell to draw, for cell levels.
    pub fn cell(&self) -> Option<CellIndex> {
        match self {
            Area::Res8(cell) => Some(cell.cell()),
            Area::Res7(cell) => Some(*cell),
            Area::District(_) => None,
        }
    }
}

/// The count of one resolution-8 cell, with the district it lies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellCount {
    pub cell: Res8Cell,
    pub district: Option<DistrictId>,
    pub count: u64,
}

/// One published row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoarseRow {
    pub area: Area,
    pub count: u64,
}

impl CoarseRow {
    pub fn level(&self) -> AreaLevel {
        self.area.level()
    }
}

/// The result of [`coarsen`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coarsening {
    /// Published rows, by area (resolution-8 cells, then resolution-7 cells, then districts).
    pub rows: Vec<CoarseRow>,
    /// Reports in no published row.
    pub withheld: u64,
    /// Where each input cell went (`None`: withheld).
    placement: BTreeMap<Res8Cell, Option<Area>>,
    k: u64,
}

impl Coarsening {
    /// The published area a resolution-8 cell's reports are counted in, if any; record-level
    /// exports use it to coarsen each report's cell the same way.
    pub fn area_of(&self, cell: Res8Cell) -> Option<&Area> {
        self.placement.get(&cell).and_then(Option::as_ref)
    }

    /// The total of all input cells, when publishing it gives nothing away (nothing withheld,
    /// or at least k withheld).
    pub fn safe_total(&self) -> Option<u64> {
        (self.withheld == 0 || self.withheld >= self.k).then(|| {
            self.rows
                .iter()
                .fold(self.withheld, |s, r| s.saturating_add(r.count))
        })
    }
}

/// Coarsens cell counts for a threshold `k` (the service's, see
/// [`PublicationPolicy::k`](super::policy::PublicationPolicy::k)). Counts of the same cell
/// are added up; a cell listed in several districts (it straddles a boundary) belongs to
/// the one with most reports (ties: the first by name). Cells with no report are left out.
pub fn coarsen(cells: &[CellCount], k: u64) -> Coarsening {
    // Sum per cell, and per cell per district to choose its district.
    let mut per_cell: BTreeMap<Res8Cell, (u64, BTreeMap<Option<DistrictId>, u64>)> =
        BTreeMap::new();
    for c in cells {
        let (total, districts) = per_cell.entry(c.cell).or_default();
        *total = total.saturating_add(c.count);
        let d = districts.entry(c.district.clone()).or_default();
        *d = d.saturating_add(c.count);
    }
    let mut placement = BTreeMap::new();
    let mut rows = Vec::new();
    let mut small: Vec<(Res8Cell, Option<DistrictId>, u64)> = Vec::new();
    for (cell, (count, districts)) in per_cell {
        if count == 0 {
            continue;
        }
        if count >= k {
            rows.push(CoarseRow {
                area: Area::Res8(cell),
                count,
            });
            placement.insert(cell, Some(Area::Res8(cell)));
        } else {
            let district = districts
                .into_iter()
                .fold(
                    None::<(Option<DistrictId>, u64)>,
                    |best, (d, n)| match best {
                        Some((_, bn)) if bn >= n => best,
                        _ => Some((d, n)),
                    },
                )
                .and_then(|(d, _)| d);
            small.push((cell, district, count));
        }
    }

    // The rest of each resolution-7 cell.
    let mut by_parent: BTreeMap<CellIndex, Vec<(Res8Cell, Option<DistrictId>, u64)>> =
        BTreeMap::new();
    for entry in small {
        by_parent.entry(entry.0.parent7()).or_default().push(entry);
    }
    let mut leftover = Vec::new();
    for (parent, children) in by_parent {
        let count = children
            .iter()
            .fold(0u64, |s, (_, _, n)| s.saturating_add(*n));
        if count >= k {
            rows.push(CoarseRow {
                area: Area::Res7(parent),
                count,
            });
            for (cell, _, _) in children {
                placement.insert(cell, Some(Area::Res7(parent)));
            }
        } else {
            leftover.extend(children);
        }
    }

    // The rest of each district; what is left is withheld.
    let mut by_district: BTreeMap<Option<DistrictId>, Vec<(Res8Cell, u64)>> = BTreeMap::new();
    for (cell, district, count) in leftover {
        by_district.entry(district).or_default().push((cell, count));
    }
    let mut withheld = 0u64;
    for (district, members) in by_district {
        let count = members.iter().fold(0u64, |s, (_, n)| s.saturating_add(*n));
        match district {
            Some(d) if count >= k => {
                rows.push(CoarseRow {
                    area: Area::District(d.clone()),
                    count,
                });
                for (cell, _) in members {
                    placement.insert(cell, Some(Area::District(d.clone())));
                }
            }
            _ => {
                withheld = withheld.saturating_add(count);
                for (cell, _) in members {
                    placement.insert(cell, None);
                }
            }
        }
    }
    Coarsening {
        rows,
        withheld,
        placement,
        k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Slug;
    use crate::stats::rollup::tests::cell_at;
    use h3o::Resolution;
    use proptest::prelude::*;

    fn district(name: &str) -> Option<DistrictId> {
        Some(Slug::parse("district", name).unwrap())
    }

    /// Resolution-8 cells of one resolution-7 cell, and one far away.
    fn family() -> (Vec<Res8Cell>, Res8Cell) {
        let centre = cell_at(35.5785, -5.3684);
        let children: Vec<Res8Cell> = centre
            .parent7()
            .children(Resolution::Eight)
            .map(|c| Res8Cell::containing(c).unwrap())
            .collect();
        (children, cell_at(35.60, -5.33))
    }

    fn count(cell: Res8Cell, d: &str, n: u64) -> CellCount {
        CellCount {
            cell,
            district: district(d),
            count: n,
        }
    }

    #[test]
    fn falls_back_from_res8_to_res7_to_district() {
        let (kids, far) = family();
        assert_eq!(kids.len(), 7);
        assert_ne!(far.parent7(), kids[0].parent7());
        let input = vec![
            count(kids[0], "centre", 12), // res 8
            count(kids[1], "centre", 2),  // + kids[2] + kids[3] = 6: res 7
            count(kids[2], "centre", 3),
            count(kids[3], "centre", 1),
            count(far, "north", 4), // alone under k: district "north" has only 4: withheld
            count(kids[4], "centre", 0), // no report: left out
        ];
        let out = coarsen(&input, 5);
        assert_eq!(
            out.rows,
            vec![
                CoarseRow {
                    area: Area::Res8(kids[0]),
                    count: 12
                },
                CoarseRow {
                    area: Area::Res7(kids[0].parent7()),
                    count: 6
                },
            ]
        );
        assert_eq!(out.rows[1].level(), AreaLevel::Res7);
        assert_eq!(out.withheld, 4);
        assert_eq!(out.safe_total(), None);
        assert_eq!(out.area_of(kids[2]), Some(&Area::Res7(kids[0].parent7())));
        assert_eq!(out.area_of(far), None);
        assert_eq!(out.area_of(kids[4]), None);

        // With a second small cell in the north, the district row appears.
        let far2 = cell_at(35.61, -5.31);
        assert_ne!(far2.parent7(), far.parent7());
        let mut more = input.clone();
        more.push(count(far2, "north", 3));
        let out = coarsen(&more, 5);
        assert_eq!(
            out.rows.last(),
            Some(&CoarseRow {
                area: Area::District(district("north").unwrap()),
                count: 7
            })
        );
        assert_eq!(out.rows.last().unwrap().level().as_str(), "district");
        assert_eq!(out.withheld, 0);
        assert_eq!(out.safe_total(), Some(25));
    }

    #[test]
    fn duplicates_add_up_and_cells_without_district_are_withheld() {
        let (kids, _) = family();
        let out = coarsen(
            &[
                count(kids[0], "centre", 3),
                count(kids[0], "west", 4),
                CellCount {
                    cell: kids[5],
                    district: None,
                    count: 2,
                },
            ],
            5,
        );
        assert_eq!(
            out.rows,
            vec![CoarseRow {
                area: Area::Res8(kids[0]),
                count: 7
            }]
        );
        assert_eq!(out.withheld, 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn rows_are_at_least_k_and_everything_is_accounted_for(
            counts in prop::collection::vec((0usize..7, 0u64..9, 0usize..3), 0..20),
            k in 2u64..11,
        ) {
            let (kids, far) = family();
            let names = ["a", "b", "c"];
            let input: Vec<CellCount> = counts
                .iter()
                .map(|(i, n, d)| {
                    let cell = if *i == 6 { far } else { kids[*i] };
                    count(cell, names[*d], *n)
                })
                .collect();
            let out = coarsen(&input, k);
            let total: u64 = input.iter().map(|c| c.count).sum();
            prop_assert!(out.rows.iter().all(|r| r.count >= k));
            prop_assert_eq!(out.rows.iter().map(|r| r.count).sum::<u64>() + out.withheld, total);
            // Each published row's count is the sum of the cells placed in it.
            for row in &out.rows {
                let placed: u64 = input
                    .iter()
                    .filter(|c| out.area_of(c.cell) == Some(&row.area))
                    .map(|c| c.count)
                    .sum();
                prop_assert_eq!(placed, row.count);
            }
            if let Some(t) = out.safe_total() {
                prop_assert_eq!(t, total);
                prop_assert!(out.withheld == 0 || out.withheld >= k);
            }
        }
    }
}
