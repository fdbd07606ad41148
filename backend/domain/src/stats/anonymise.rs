//! Small-cell suppression for published tables: primary suppression under k, complementary
//! suppression so that no suppressed value can be worked out from what is published, and an
//! auditor that tries.
//!
//! # The table
//!
//! A [`CountTable`] is a two-way table of counts (rows × columns, e.g. districts × services)
//! published *with* its row totals, column totals and grand total. Every one of these is an
//! [`Entry`] and each can be published or suppressed.
//!
//! # Primary suppression: what k means
//!
//! A count `v` is sensitive when `1 ≤ v < k`: so few reports that a neighbour could guess
//! who sent them. `k` comes per cell from the caller (by service: 5 by default, 10 for
//! sensitive services, see [`PublicationPolicy`](super::policy::PublicationPolicy)); a row
//! or column total uses the largest `k` of its line and the grand total the largest of all,
//! because a total of 3 tells as much about 3 people as a cell of 3.
//!
//! **Zero is published as 0.** A zero says that nobody reported, which is about no one;
//! suppressing zeros would hide most of a sparse table for no protection. (It can reveal
//! that *all* reports of a line fell in one cell, a group disclosure we accept because
//! that cell is itself either ≥ k or suppressed.)
//!
//! # Complementary suppression: why this way
//!
//! The published totals are linear equations on the suppressed values, and counts are known
//! to be non-negative. Write the table with its totals as an `(m+1) × (n+1)` grid whose
//! totals are negated: then every row and every column of the grid sums to zero. The
//! suppressed entries are the unknowns; draw each one as an edge between its row and its
//! column. A suppressed value can change without changing anything published exactly when
//! it lies on a cycle of suppressed entries that can be walked with alternating +1/−1 steps
//! without taking any count below zero (a 0 cell can only go up, a 0 total only down in the
//! negated grid). So a value is *recoverable* iff no such cycle passes through it; over the
//! reals alone (ignoring signs) this is the classical rule "an edge that is a bridge of the
//! suppression graph is determined", of which "a line with exactly one unknown" is the
//! simplest case.
//!
//! [`suppress`] therefore repeats, until nothing is recoverable: take the first recoverable
//! suppressed entry and add the cheapest suppression that puts it on such a cycle: either
//! one more entry (typically the smallest other cell of its row or column, closing a cycle
//! through suppressions already made) or the three other corners of a rectangle. Cost is
//! measured first in totals suppressed (a total is suppressed only when no combination of
//! inner cells does, e.g. the only other entry of its line is the total; the grand total
//! counts double), then in zeros suppressed (as in τ-ARGUS, a hidden 0 is a poor
//! complement: it can only be thought larger, so it protects in one direction only), then
//! in the counts hidden. The rectangle through the row total, the
//! column total and the grand total always works, so the loop always ends; adding
//! suppressions never makes a protected value recoverable again, so it ends with *every*
//! suppressed entry, primary or complementary, unrecoverable. This is a greedy heuristic,
//! not an optimal (minimum-loss) suppression; it is exact in what it guarantees.
//!
//! The guarantee is that no suppressed value is *determined* by the published figures; the
//! range an attacker can narrow a value to is not bounded further (no "protection level" in
//! the τ-ARGUS sense).
//!
//! # Auditing
//!
//! - [`pinned`] decides, with the true values, which suppressed entries are determined by
//!   the published ones (the cycle test above): exact.
//! - [`recoverable`] is the attacker: from a [`PublishedTable`] alone it solves lines with
//!   a single unknown, lines whose unknowns must all be zero, and any unknown that is
//!   determined by summing the equations on one side of it (a bridge), to a fixpoint. It is
//!   sound (every value it finds is the true one) and, for tables without zeros, as strong
//!   as linear algebra.

use crate::FieldError;
use std::collections::{BTreeSet, VecDeque};

/// A published figure of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entry {
    Cell { row: usize, column: usize },
    RowTotal(usize),
    ColumnTotal(usize),
    GrandTotal,
}

/// A two-way table of counts with labelled rows and columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountTable {
    row_labels: Vec<String>,
    column_labels: Vec<String>,
    /// Row-major, `rows × columns`.
    counts: Vec<u64>,
}

fn check_labels(field: &str, labels: &[String]) -> Result<(), FieldError> {
    if labels.is_empty() {
        return Err(FieldError::new(field, "a table needs at least one"));
    }
    let distinct: BTreeSet<&String> = labels.iter().collect();
    if distinct.len() != labels.len() {
        return Err(FieldError::new(field, "labels must be distinct"));
    }
    Ok(())
}

impl CountTable {
    /// A table from its labels and its rows of counts (one count per column in each row).
    pub fn new(
        row_labels: Vec<String>,
        column_labels: Vec<String>,
        counts: Vec<Vec<u64>>,
    ) -> Result<Self, FieldError> {
        check_labels("rows", &row_labels)?;
        check_labels("columns", &column_labels)?;
        if counts.len() != row_labels.len()
            || counts.iter().any(|row| row.len() != column_labels.len())
        {
            return Err(FieldError::new(
                "counts",
                "must have one row per row label and one count per column label",
            ));
        }
        Ok(Self {
            row_labels,
            column_labels,
            counts: counts.into_iter().flatten().collect(),
        })
    }

    pub fn rows(&self) -> usize {
        self.row_labels.len()
    }

    pub fn columns(&self) -> usize {
        self.column_labels.len()
    }

    pub fn row_labels(&self) -> &[String] {
        &self.row_labels
    }

    pub fn column_labels(&self) -> &[String] {
        &self.column_labels
    }

    /// The value of an entry, totals included; `None` for an entry outside the table.
    pub fn get(&self, entry: Entry) -> Option<u64> {
        let sum = |it: &mut dyn Iterator<Item = u64>| it.fold(0u64, |s, v| s.saturating_add(v));
        let (m, n) = (self.rows(), self.columns());
        match entry {
            Entry::Cell { row, column } => {
                (row < m && column < n).then(|| self.counts[row * n + column])
            }
            Entry::RowTotal(row) => {
                (row < m).then(|| sum(&mut self.counts[row * n..(row + 1) * n].iter().copied()))
            }
            Entry::ColumnTotal(column) => {
                (column < n).then(|| sum(&mut (0..m).map(|row| self.counts[row * n + column])))
            }
            Entry::GrandTotal => Some(sum(&mut self.counts.iter().copied())),
        }
    }

    /// Every entry: the cells row by row, each row followed by its total, then the column
    /// totals and the grand total.
    pub fn entries(&self) -> Vec<Entry> {
        let g = self.grid();
        (0..=g.m)
            .flat_map(|r| (0..=g.n).map(move |c| (r, c)))
            .map(|(r, c)| g.entry(r, c))
            .collect()
    }

    fn grid(&self) -> Grid {
        Grid {
            m: self.rows(),
            n: self.columns(),
        }
    }
}

/// The table with its totals as an `(m+1) × (n+1)` grid: row `m` holds the column totals,
/// column `n` the row totals.
#[derive(Debug, Clone, Copy)]
struct Grid {
    m: usize,
    n: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cell,
    Margin,
    Grand,
}

impl Grid {
    fn entry(&self, r: usize, c: usize) -> Entry {
        match (r == self.m, c == self.n) {
            (false, false) => Entry::Cell { row: r, column: c },
            (false, true) => Entry::RowTotal(r),
            (true, false) => Entry::ColumnTotal(c),
            (true, true) => Entry::GrandTotal,
        }
    }

    /// Grid coordinates of an entry, if it is in the table.
    fn position(&self, entry: Entry) -> Option<(usize, usize)> {
        match entry {
            Entry::Cell { row, column } => {
                (row < self.m && column < self.n).then_some((row, column))
            }
            Entry::RowTotal(row) => (row < self.m).then_some((row, self.n)),
            Entry::ColumnTotal(column) => (column < self.n).then_some((self.m, column)),
            Entry::GrandTotal => Some((self.m, self.n)),
        }
    }

    fn kind(&self, r: usize, c: usize) -> Kind {
        match (r == self.m, c == self.n) {
            (false, false) => Kind::Cell,
            (true, true) => Kind::Grand,
            _ => Kind::Margin,
        }
    }

    fn row_node(&self, r: usize) -> usize {
        r
    }

    fn column_node(&self, c: usize) -> usize {
        self.m + 1 + c
    }

    fn nodes(&self) -> usize {
        self.m + self.n + 2
    }

    /// The lines of the grid: each row, then each column, as lists of positions.
    fn lines(&self) -> Vec<Vec<(usize, usize)>> {
        let rows = (0..=self.m).map(|r| (0..=self.n).map(|c| (r, c)).collect());
        let columns = (0..=self.n).map(|c| (0..=self.m).map(|r| (r, c)).collect());
        rows.chain(columns).collect()
    }
}

/// In the negated grid, a cell or the grand total is `≥ 0` and a margin `≤ 0`: whether the
/// entry, at its true value `v`, can take one step up or one step down.
fn steps(kind: Kind, v: u64) -> (bool, bool) {
    match kind {
        Kind::Cell | Kind::Grand => (true, v > 0),
        Kind::Margin => (v > 0, true),
    }
}

type Position = (usize, usize);

/// A step arc: from node, to node, the entry it moves.
type Arc = (usize, usize, Position);

/// The grid with its true values, for the exact audit and for choosing complements.
struct Audit {
    grid: Grid,
    values: Vec<u64>,
}

impl Audit {
    fn new(table: &CountTable) -> Self {
        let grid = table.grid();
        let values = (0..=grid.m)
            .flat_map(|r| (0..=grid.n).map(move |c| (r, c)))
            .map(|(r, c)| table.get(grid.entry(r, c)).unwrap_or(0))
            .collect();
        Self { grid, values }
    }

    fn value(&self, (r, c): Position) -> u64 {
        self.values[r * (self.grid.n + 1) + c]
    }

    fn steps(&self, p: Position) -> (bool, bool) {
        steps(self.grid.kind(p.0, p.1), self.value(p))
    }

    /// "Up" on entry `(r, c)` is the arc row → column, "down" the arc column → row.
    fn arcs(&self, p: Position) -> impl Iterator<Item = Arc> {
        let (up, down) = self.steps(p);
        let (row, column) = (self.grid.row_node(p.0), self.grid.column_node(p.1));
        [
            up.then_some((row, column, p)),
            down.then_some((column, row, p)),
        ]
        .into_iter()
        .flatten()
    }

    /// The directed graph of feasible ±1 steps of the suppressed entries, by node.
    fn graph<'a>(&self, suppressed: impl IntoIterator<Item = &'a Position>) -> Vec<Vec<Arc>> {
        let mut out = vec![Vec::new(); self.grid.nodes()];
        for p in suppressed {
            for arc in self.arcs(*p) {
                out[arc.0].push(arc);
            }
        }
        out
    }

    /// Whether suppressed entry `target` can change while everything published stays the
    /// same, in the graph plus the arcs of the `extra` entries.
    fn movable(&self, graph: &[Vec<Arc>], extra: &[Position], target: Position) -> bool {
        let extra: Vec<Arc> = extra.iter().flat_map(|p| self.arcs(*p)).collect();
        let (up, down) = self.steps(target);
        let (row, column) = (
            self.grid.row_node(target.0),
            self.grid.column_node(target.1),
        );
        (up && reaches(graph, &extra, column, row, target))
            || (down && reaches(graph, &extra, row, column, target))
    }

    /// Cost of suppressing an entry: totals first (the grand total double), then zeros (a
    /// suppressed 0 protects in one direction only: it can only be thought larger), then
    /// the counts hidden.
    fn cost(&self, p: Position) -> Cost {
        let v = self.value(p);
        let weight = match self.grid.kind(p.0, p.1) {
            Kind::Cell => 0,
            Kind::Margin => 1,
            Kind::Grand => 2,
        };
        (weight, u32::from(v == 0), v)
    }
}

fn reaches(graph: &[Vec<Arc>], extra: &[Arc], from: usize, to: usize, skip: Position) -> bool {
    let mut seen = vec![false; graph.len()];
    let mut queue = VecDeque::from([from]);
    seen[from] = true;
    while let Some(node) = queue.pop_front() {
        if node == to {
            return true;
        }
        let extra_here = extra.iter().filter(|arc| arc.0 == node);
        for &(_, next, entry) in graph[node].iter().chain(extra_here) {
            if entry != skip && !seen[next] {
                seen[next] = true;
                queue.push_back(next);
            }
        }
    }
    false
}

fn positions(grid: Grid, entries: &BTreeSet<Entry>) -> BTreeSet<Position> {
    entries.iter().filter_map(|e| grid.position(*e)).collect()
}

/// The suppressed entries whose true value is determined by the published ones and by
/// counts being non-negative. Exact; uses the true values.
pub fn pinned(table: &CountTable, suppressed: &BTreeSet<Entry>) -> BTreeSet<Entry> {
    let audit = Audit::new(table);
    let positions = positions(audit.grid, suppressed);
    let graph = audit.graph(&positions);
    positions
        .iter()
        .filter(|p| !audit.movable(&graph, &[], **p))
        .map(|&(r, c)| audit.grid.entry(r, c))
        .collect()
}

/// A table after suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    table: CountTable,
    primary: BTreeSet<Entry>,
    suppressed: BTreeSet<Entry>,
}

impl Suppression {
    /// Entries under their k.
    pub fn primary(&self) -> &BTreeSet<Entry> {
        &self.primary
    }

    /// All suppressed entries, primary and complementary.
    pub fn suppressed(&self) -> &BTreeSet<Entry> {
        &self.suppressed
    }

    /// Entries suppressed only to protect others.
    pub fn complementary(&self) -> impl Iterator<Item = Entry> + '_ {
        self.suppressed.difference(&self.primary).copied()
    }

    pub fn is_suppressed(&self, entry: Entry) -> bool {
        self.suppressed.contains(&entry)
    }

    /// What may be published: the value, or `None` where suppressed.
    pub fn get(&self, entry: Entry) -> Option<u64> {
        if self.is_suppressed(entry) {
            None
        } else {
            self.table.get(entry)
        }
    }

    /// The table as it may be published.
    pub fn published(&self) -> PublishedTable {
        let (m, n) = (self.table.rows(), self.table.columns());
        PublishedTable {
            row_labels: self.table.row_labels.clone(),
            column_labels: self.table.column_labels.clone(),
            cells: (0..m)
                .flat_map(|row| (0..n).map(move |column| Entry::Cell { row, column }))
                .map(|e| self.get(e))
                .collect(),
            row_totals: (0..m).map(|r| self.get(Entry::RowTotal(r))).collect(),
            column_totals: (0..n).map(|c| self.get(Entry::ColumnTotal(c))).collect(),
            grand_total: self.get(Entry::GrandTotal),
        }
    }
}

/// Totals, zeros and counts hidden, compared in that order.
type Cost = (u32, u32, u64);

/// The cheapest set of new suppressions that makes `target` movable.
fn cheapest_fix(
    audit: &Audit,
    suppressed: &BTreeSet<Position>,
    target: Position,
) -> Option<Vec<Position>> {
    let grid = audit.grid;
    let graph = audit.graph(suppressed);
    let total_cost = |extra: &[Position]| {
        extra.iter().fold((0u32, 0u32, 0u64), |(w, z, v), p| {
            let (pw, pz, pv) = audit.cost(*p);
            (w + pw, z + pz, v.saturating_add(pv))
        })
    };
    let mut best: Option<(Cost, Vec<Position>)> = None;
    let mut consider = |extra: Vec<Position>| {
        let c = total_cost(&extra);
        if best.as_ref().is_none_or(|(b, _)| c < *b) && audit.movable(&graph, &extra, target) {
            best = Some((c, extra));
        }
    };
    // One more entry, closing a cycle through suppressions already made.
    for r in 0..=grid.m {
        for c in 0..=grid.n {
            if !suppressed.contains(&(r, c)) {
                consider(vec![(r, c)]);
            }
        }
    }
    // The other corners of a rectangle through the target.
    let (tr, tc) = target;
    for r in (0..=grid.m).filter(|r| *r != tr) {
        for c in (0..=grid.n).filter(|c| *c != tc) {
            let extra: Vec<_> = [(r, tc), (r, c), (tr, c)]
                .into_iter()
                .filter(|p| !suppressed.contains(p))
                .collect();
            if extra.len() >= 2 {
                consider(extra);
            }
        }
    }
    best.map(|(_, extra)| extra)
}

/// Suppresses every count `1 ≤ v < k` (`k(row, column)` for cells; totals use the largest
/// `k` of their line, the grand total the largest of all), then complementary entries until
/// no suppressed value is determined by the published ones (see the module documentation).
pub fn suppress(table: &CountTable, k: impl Fn(usize, usize) -> u64) -> Suppression {
    let audit = Audit::new(table);
    let grid = audit.grid;
    let (m, n) = (grid.m, grid.n);
    let k_row = |r: usize| (0..n).map(|c| k(r, c)).max().unwrap_or(0);
    let k_column = |c: usize| (0..m).map(|r| k(r, c)).max().unwrap_or(0);
    let k_all = (0..m).map(k_row).max().unwrap_or(0);
    let sensitive = |entry: Entry, k: u64| {
        let v = table.get(entry).unwrap_or(0);
        (1..k).contains(&v)
    };

    let mut primary = BTreeSet::new();
    for r in 0..m {
        for c in 0..n {
            let e = Entry::Cell { row: r, column: c };
            if sensitive(e, k(r, c)) {
                primary.insert(e);
            }
        }
        if sensitive(Entry::RowTotal(r), k_row(r)) {
            primary.insert(Entry::RowTotal(r));
        }
    }
    for c in 0..n {
        if sensitive(Entry::ColumnTotal(c), k_column(c)) {
            primary.insert(Entry::ColumnTotal(c));
        }
    }
    if sensitive(Entry::GrandTotal, k_all) {
        primary.insert(Entry::GrandTotal);
    }

    let mut suppressed = positions(grid, &primary);
    loop {
        let graph = audit.graph(&suppressed);
        let Some(target) = suppressed
            .iter()
            .copied()
            .find(|p| !audit.movable(&graph, &[], *p))
        else {
            break;
        };
        match cheapest_fix(&audit, &suppressed, target) {
            Some(extra) => suppressed.extend(extra),
            None => {
                // Cannot happen (the rectangle through the totals always works); never
                // publish a recoverable value if it did.
                suppressed.extend((0..=m).flat_map(|r| (0..=n).map(move |c| (r, c))));
                break;
            }
        }
    }
    Suppression {
        table: table.clone(),
        primary,
        suppressed: suppressed
            .into_iter()
            .map(|(r, c)| grid.entry(r, c))
            .collect(),
    }
}

/// A table as published: each entry a count or `None` (suppressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTable {
    row_labels: Vec<String>,
    column_labels: Vec<String>,
    cells: Vec<Option<u64>>,
    row_totals: Vec<Option<u64>>,
    column_totals: Vec<Option<u64>>,
    grand_total: Option<u64>,
}

impl PublishedTable {
    /// A published table read back (e.g. from an open-data file) for auditing.
    pub fn new(
        row_labels: Vec<String>,
        column_labels: Vec<String>,
        cells: Vec<Vec<Option<u64>>>,
        row_totals: Vec<Option<u64>>,
        column_totals: Vec<Option<u64>>,
        grand_total: Option<u64>,
    ) -> Result<Self, FieldError> {
        check_labels("rows", &row_labels)?;
        check_labels("columns", &column_labels)?;
        let (m, n) = (row_labels.len(), column_labels.len());
        if cells.len() != m || cells.iter().any(|row| row.len() != n) {
            return Err(FieldError::new(
                "cells",
                "must have one row per row label and one entry per column label",
            ));
        }
        if row_totals.len() != m || column_totals.len() != n {
            return Err(FieldError::new("totals", "must have one total per line"));
        }
        Ok(Self {
            row_labels,
            column_labels,
            cells: cells.into_iter().flatten().collect(),
            row_totals,
            column_totals,
            grand_total,
        })
    }

    pub fn row_labels(&self) -> &[String] {
        &self.row_labels
    }

    pub fn column_labels(&self) -> &[String] {
        &self.column_labels
    }

    /// The published value of an entry; `None` if suppressed or outside the table.
    pub fn get(&self, entry: Entry) -> Option<u64> {
        let n = self.column_labels.len();
        match entry {
            Entry::Cell { row, column } if column < n => {
                self.cells.get(row * n + column).copied().flatten()
            }
            Entry::Cell { .. } => None,
            Entry::RowTotal(row) => self.row_totals.get(row).copied().flatten(),
            Entry::ColumnTotal(column) => self.column_totals.get(column).copied().flatten(),
            Entry::GrandTotal => self.grand_total,
        }
    }
}

/// The attacker: every suppressed entry whose value follows from the published ones, with
/// that value (see the module documentation for the reasoning it applies). Empty for a
/// safe publication.
pub fn recoverable(published: &PublishedTable) -> Vec<(Entry, i128)> {
    let grid = Grid {
        m: published.row_labels.len(),
        n: published.column_labels.len(),
    };
    let width = grid.n + 1;
    // Values in the negated grid: margins are negative so that every line sums to zero.
    let signed = |r: usize, c: usize, v: u64| -> i128 {
        match grid.kind(r, c) {
            Kind::Margin => -i128::from(v),
            _ => i128::from(v),
        }
    };
    let mut known: Vec<Option<i128>> = (0..=grid.m)
        .flat_map(|r| (0..=grid.n).map(move |c| (r, c)))
        .map(|(r, c)| published.get(grid.entry(r, c)).map(|v| signed(r, c, v)))
        .collect();
    let initially_unknown: Vec<bool> = known.iter().map(Option::is_none).collect();
    let lines = grid.lines();
    // Node ids: rows then columns (as in `Grid`), lines in the same order.
    let residual = |known: &[Option<i128>], line: &[(usize, usize)]| -> i128 {
        -line
            .iter()
            .filter_map(|&(r, c)| known[r * width + c])
            .sum::<i128>()
    };

    loop {
        let mut progress = false;

        // A line whose unknowns all have the same sign and must sum to zero: all zero.
        for line in &lines {
            let unknown: Vec<(usize, usize)> = line
                .iter()
                .copied()
                .filter(|&(r, c)| known[r * width + c].is_none())
                .collect();
            let Some(&first) = unknown.first() else {
                continue;
            };
            let positive = |p: (usize, usize)| grid.kind(p.0, p.1) != Kind::Margin;
            if residual(&known, line) == 0
                && unknown.iter().all(|p| positive(*p) == positive(first))
            {
                for (r, c) in unknown {
                    known[r * width + c] = Some(0);
                }
                progress = true;
            }
        }

        // An unknown that is a bridge of the unknowns' graph: sum the equations of the
        // lines on its side.
        let unknown: Vec<(usize, usize)> = (0..=grid.m)
            .flat_map(|r| (0..=grid.n).map(move |c| (r, c)))
            .filter(|&(r, c)| known[r * width + c].is_none())
            .collect();
        let mut adjacent = vec![Vec::new(); grid.nodes()];
        for &(r, c) in &unknown {
            adjacent[grid.row_node(r)].push((grid.column_node(c), (r, c)));
            adjacent[grid.column_node(c)].push((grid.row_node(r), (r, c)));
        }
        for &(r, c) in &unknown {
            let mut side = vec![false; grid.nodes()];
            let mut queue = VecDeque::from([grid.row_node(r)]);
            side[grid.row_node(r)] = true;
            while let Some(node) = queue.pop_front() {
                for &(next, entry) in &adjacent[node] {
                    if entry != (r, c) && !side[next] {
                        side[next] = true;
                        queue.push_back(next);
                    }
                }
            }
            if side[grid.column_node(c)] {
                continue; // on a cycle
            }
            let mut value = 0i128;
            for (node, line) in lines.iter().enumerate() {
                if side[node] {
                    let res = residual(&known, line);
                    value += if node <= grid.m { res } else { -res };
                }
            }
            known[r * width + c] = Some(value);
            progress = true;
            break; // residuals changed: start again
        }

        if !progress {
            break;
        }
    }

    (0..=grid.m)
        .flat_map(|r| (0..=grid.n).map(move |c| (r, c)))
        .filter(|&(r, c)| initially_unknown[r * width + c])
        .filter_map(|(r, c)| {
            let y = known[r * width + c]?;
            let v = if grid.kind(r, c) == Kind::Margin {
                -y
            } else {
                y
            };
            Some((grid.entry(r, c), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn labels(prefix: &str, count: usize) -> Vec<String> {
        (0..count).map(|i| format!("{prefix}{i}")).collect()
    }

    fn table(counts: Vec<Vec<u64>>) -> CountTable {
        let (m, n) = (counts.len(), counts[0].len());
        CountTable::new(labels("r", m), labels("c", n), counts).unwrap()
    }

    fn cell(row: usize, column: usize) -> Entry {
        Entry::Cell { row, column }
    }

    /// Every safety property of a suppression.
    fn assert_safe(t: &CountTable, s: &Suppression, k: impl Fn(usize, usize) -> u64) {
        for r in 0..t.rows() {
            for c in 0..t.columns() {
                let v = t.get(cell(r, c)).unwrap();
                if (1..k(r, c)).contains(&v) {
                    assert!(s.is_suppressed(cell(r, c)), "{r},{c} = {v} is under k");
                }
            }
        }
        assert!(s.primary().is_subset(s.suppressed()));
        assert_eq!(pinned(t, s.suppressed()), BTreeSet::new(), "pinned");
        assert_eq!(recoverable(&s.published()), vec![], "recovered");
        for e in t.entries() {
            let published = s.published().get(e);
            assert_eq!(published.is_none(), s.is_suppressed(e));
            if let Some(v) = published {
                assert_eq!(Some(v), t.get(e));
            }
        }
    }

    #[test]
    fn tables_are_well_formed() {
        assert!(CountTable::new(vec![], labels("c", 1), vec![]).is_err());
        assert!(CountTable::new(labels("r", 1), labels("c", 2), vec![vec![1]]).is_err());
        assert!(
            CountTable::new(
                vec!["a".into(), "a".into()],
                labels("c", 1),
                vec![vec![1], vec![2]]
            )
            .is_err()
        );
        let t = table(vec![vec![1, 2], vec![3, 4]]);
        assert_eq!(t.get(Entry::RowTotal(1)), Some(7));
        assert_eq!(t.get(Entry::ColumnTotal(0)), Some(4));
        assert_eq!(t.get(Entry::GrandTotal), Some(10));
        assert_eq!(t.get(cell(2, 0)), None);
        assert_eq!(t.entries().len(), 9);
    }

    #[test]
    fn a_safe_table_is_published_whole() {
        let t = table(vec![vec![5, 12], vec![0, 30]]);
        let s = suppress(&t, |_, _| 5);
        assert!(s.suppressed().is_empty());
        // Zero is published as 0.
        assert_eq!(s.get(cell(1, 0)), Some(0));
    }

    #[test]
    fn one_small_cell_gets_the_cheapest_rectangle() {
        let t = table(vec![vec![3, 20, 40], vec![9, 50, 60], vec![30, 8, 70]]);
        let s = suppress(&t, |_, _| 5);
        assert_eq!(s.primary(), &BTreeSet::from([cell(0, 0)]));
        // The rectangle hiding the fewest counts: 20 + 30 + 8 beats 20 + 9 + 50.
        assert_eq!(
            s.suppressed(),
            &BTreeSet::from([cell(0, 0), cell(0, 1), cell(2, 0), cell(2, 1)])
        );
        assert_eq!(s.get(Entry::GrandTotal), Some(290));
        assert_safe(&t, &s, |_, _| 5);
    }

    #[test]
    fn a_line_with_one_unknown_is_recovered() {
        let t = table(vec![vec![3, 20], vec![9, 50]]);
        let mut suppressed = BTreeSet::from([cell(0, 0)]);
        assert_eq!(pinned(&t, &suppressed), suppressed);
        suppressed.insert(cell(0, 1));
        // Row 0 no longer gives it away, but column 0 and column 1 do.
        assert_eq!(pinned(&t, &suppressed), suppressed);
        let published = Suppression {
            table: t.clone(),
            primary: BTreeSet::new(),
            suppressed: suppressed.clone(),
        }
        .published();
        assert_eq!(
            recoverable(&published),
            vec![(cell(0, 0), 3), (cell(0, 1), 20)]
        );
    }

    #[test]
    fn when_the_only_other_entry_is_the_total_the_total_goes() {
        // One column: each row total equals its cell.
        let t = table(vec![vec![3], vec![40], vec![25]]);
        let s = suppress(&t, |_, _| 5);
        // Row 0's total is under k too; row 2 (the smallest) pairs with it, and its only
        // other entry is its total.
        assert_eq!(
            s.suppressed(),
            &BTreeSet::from([
                cell(0, 0),
                Entry::RowTotal(0),
                cell(2, 0),
                Entry::RowTotal(2)
            ])
        );
        assert_eq!(s.get(Entry::GrandTotal), Some(68));
        assert_safe(&t, &s, |_, _| 5);
        // And a table whose grand total is itself under k.
        let t = table(vec![vec![1, 2], vec![0, 1]]);
        let s = suppress(&t, |_, _| 5);
        assert!(s.is_suppressed(Entry::GrandTotal));
        assert_safe(&t, &s, |_, _| 5);
    }

    #[test]
    fn k_depends_on_the_service() {
        // Column 1 is a sensitive service (k = 10).
        let k = |_: usize, c: usize| if c == 1 { 10 } else { 5 };
        let t = table(vec![vec![7, 7, 30], vec![40, 25, 50], vec![35, 30, 60]]);
        let s = suppress(&t, k);
        assert_eq!(s.primary(), &BTreeSet::from([cell(0, 1)]));
        assert_safe(&t, &s, k);
    }

    #[test]
    fn zeros_can_give_a_value_away() {
        // Cells (0,0)=3 and (1,0)=5 with zeros beside them: the cycle through them can only
        // be walked one way for each zero, so both are pinned although linear algebra
        // alone leaves them free.
        let t = table(vec![vec![3, 0, 10], vec![5, 0, 10]]);
        let suppressed = BTreeSet::from([cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1)]);
        assert_eq!(pinned(&t, &suppressed), suppressed);
        let published = Suppression {
            table: t.clone(),
            primary: BTreeSet::new(),
            suppressed,
        }
        .published();
        // Column 1's total is 0, so both its cells are 0, and then rows 0 and 1 give the rest.
        assert_eq!(
            recoverable(&published),
            vec![
                (cell(0, 0), 3),
                (cell(0, 1), 0),
                (cell(1, 0), 5),
                (cell(1, 1), 0)
            ]
        );
        // Suppression never leaves such a pattern.
        let s = suppress(&t, |_, _| 5);
        assert_safe(&t, &s, |_, _| 5);
    }

    #[test]
    fn a_bridge_between_two_cycles_is_recovered() {
        // Two suppressed rectangles joined by one suppressed cell (2,2): every line has at
        // least two unknowns, yet the joining cell is determined.
        let t = table(vec![
            vec![3, 4, 10, 10],
            vec![4, 3, 10, 10],
            vec![10, 6, 2, 10],
            vec![10, 10, 4, 3],
            vec![10, 10, 3, 4],
        ]);
        let suppressed = BTreeSet::from([
            cell(0, 0),
            cell(0, 1),
            cell(1, 0),
            cell(1, 1),
            cell(2, 1),
            cell(2, 2),
            cell(3, 2),
            cell(3, 3),
            cell(4, 2),
            cell(4, 3),
        ]);
        let published = Suppression {
            table: t.clone(),
            primary: BTreeSet::new(),
            suppressed: suppressed.clone(),
        }
        .published();
        let found = recoverable(&published);
        assert!(found.contains(&(cell(2, 1), 6)), "{found:?}");
        assert!(found.contains(&(cell(2, 2), 2)), "{found:?}");
        assert!(pinned(&t, &suppressed).contains(&cell(2, 2)));
    }

    /// The issue's scenario: seeded district × service counts, a few cells fall under k.
    #[test]
    fn seeded_scenario_with_cells_under_k() {
        let services = ["litter", "lighting", "bus", "driver-conduct"];
        let k = |_: usize, c: usize| if c == 3 { 10 } else { 5 };
        let mut rng = StdRng::seed_from_u64(2026);
        let mut counts: Vec<Vec<u64>> = (0..8)
            .map(|_| {
                vec![
                    rng.random_range(12..60),
                    rng.random_range(8..40),
                    rng.random_range(6..30),
                    rng.random_range(10..25),
                ]
            })
            .collect();
        // Cells under k: three in ordinary services, two in the sensitive one (under 10).
        counts[1][0] = 2;
        counts[4][1] = 1;
        counts[4][2] = 4;
        counts[6][3] = 7;
        counts[2][3] = 3;
        counts[5][2] = 0; // zero: published
        let t = CountTable::new(
            labels("district-", 8),
            services.iter().map(|s| s.to_string()).collect(),
            counts,
        )
        .unwrap();
        let s = suppress(&t, k);
        let small = [cell(1, 0), cell(4, 1), cell(4, 2), cell(6, 3), cell(2, 3)];
        assert_eq!(s.primary(), &BTreeSet::from(small));
        assert_safe(&t, &s, k);
        // No combination of published totals recovers them.
        let published = s.published();
        for e in small {
            assert_eq!(published.get(e), None);
        }
        assert!(recoverable(&published).is_empty());
        // Totals stay published where safe.
        assert_eq!(published.get(cell(5, 2)), Some(0));
        assert_eq!(published.get(Entry::GrandTotal), t.get(Entry::GrandTotal));
        for c in 0..4 {
            assert!(published.get(Entry::ColumnTotal(c)).is_some(), "column {c}");
        }
        for r in 0..8 {
            assert!(published.get(Entry::RowTotal(r)).is_some(), "row {r}");
        }
        // Only cells, no totals, were needed as complements, and few of them.
        assert!(s.complementary().all(|e| matches!(e, Entry::Cell { .. })));
        assert!(s.suppressed().len() <= 12, "{:?}", s.suppressed());
    }

    #[test]
    fn a_large_sparse_table_is_safe() {
        // 40 districts × 10 services, a fifth of the cells under 5, service 0 sensitive.
        let (m, n) = (40, 10);
        let mut rng = StdRng::seed_from_u64(7);
        let counts: Vec<Vec<u64>> = (0..m)
            .map(|_| {
                (0..n)
                    .map(|_| {
                        if rng.random_bool(0.2) {
                            rng.random_range(0..5)
                        } else {
                            rng.random_range(5..80)
                        }
                    })
                    .collect()
            })
            .collect();
        let t = CountTable::new(labels("r", m), labels("c", n), counts).unwrap();
        let k = |_: usize, c: usize| if c == 0 { 10 } else { 5 };
        let s = suppress(&t, k);
        assert_safe(&t, &s, k);
        assert!(s.get(Entry::GrandTotal).is_some());
    }

    fn arb_table(values: std::ops::Range<u64>) -> impl Strategy<Value = CountTable> {
        (1usize..6, 1usize..6).prop_flat_map(move |(m, n)| {
            prop::collection::vec(prop::collection::vec(values.clone(), n), m).prop_map(table)
        })
    }

    fn arb_mask(t: &CountTable, bits: u64) -> BTreeSet<Entry> {
        t.entries()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits >> (i % 64) & 1 == 1)
            .map(|(_, e)| e)
            .collect()
    }

    fn published_with(t: &CountTable, suppressed: BTreeSet<Entry>) -> PublishedTable {
        Suppression {
            table: t.clone(),
            primary: BTreeSet::new(),
            suppressed,
        }
        .published()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn suppression_leaves_nothing_recoverable(
            t in arb_table(0..14),
            sensitive in prop::collection::vec(any::<bool>(), 6),
        ) {
            let k = |_: usize, c: usize| if sensitive[c] { 10 } else { 5 };
            let s = suppress(&t, k);
            assert_safe(&t, &s, k);
        }

        #[test]
        fn the_attacker_is_never_wrong(t in arb_table(0..8), bits in any::<u64>()) {
            let mask = arb_mask(&t, bits);
            let found = recoverable(&published_with(&t, mask.clone()));
            let exact = pinned(&t, &mask);
            for (entry, value) in found {
                prop_assert_eq!(Some(value), t.get(entry).map(i128::from));
                prop_assert!(exact.contains(&entry));
            }
        }

        #[test]
        fn without_zeros_the_attacker_finds_every_pinned_value(t in arb_table(1..9), bits in any::<u64>()) {
            let mask = arb_mask(&t, bits);
            let found: BTreeSet<Entry> = recoverable(&published_with(&t, mask.clone()))
                .into_iter()
                .map(|(e, _)| e)
                .collect();
            prop_assert_eq!(found, pinned(&t, &mask));
        }
    }
}
