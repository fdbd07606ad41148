//! `balagh import-zones FILE.geojson`: contract zones from a GeoJSON FeatureCollection.
//!
//! The file is streamed feature by feature (large files never sit in memory as text), every
//! feature is checked first, and only a wholly valid file is written, in one transaction:
//! a bad file changes nothing and says which features are wrong.

use balagh_domain::JurisdictionId;
use balagh_domain::zones::ZoneFeature;
use balagh_store::{Store, StoreError, ZoneImportSummary};
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many feature errors to list before giving up on a file.
const MAX_REPORTED_ERRORS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a GeoJSON FeatureCollection: {1}")]
    NotGeoJson(String, String),
    #[error("no jurisdiction '{0}' in the database (run `balagh seed-demo` or create it first)")]
    UnknownJurisdiction(String),
    #[error("{count} invalid feature(s), nothing was imported:\n{list}")]
    InvalidFeatures { count: usize, list: String },
    #[error("the file has no features")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts bytes read, for progress.
struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Prints progress lines at most every `every`, and always the last one.
#[derive(Debug)]
pub struct ProgressPrinter {
    last: Instant,
    every: Duration,
}

impl ProgressPrinter {
    pub fn new(every: Duration) -> Self {
        Self {
            last: Instant::now() - every,
            every,
        }
    }

    pub fn tick(&mut self, done: bool, line: impl FnOnce() -> String) {
        if done || self.last.elapsed() >= self.every {
            self.last = Instant::now();
            eprintln!("{}", line());
        }
    }
}

fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Reads and checks every feature of the file.
pub fn read_zones(path: &Path) -> Result<Vec<ZoneFeature>, ImportError> {
    let display = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ImportError::Read {
        path: display.clone(),
        source,
    })?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0).max(1);
    let read = Arc::new(AtomicU64::new(0));
    let reader = BufReader::with_capacity(
        1 << 16,
        CountingReader {
            inner: file,
            read: read.clone(),
        },
    );
    let mut zones = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut error_count = 0;
    let mut progress = ProgressPrinter::new(Duration::from_millis(500));
    for (index, feature) in geojson::FeatureReader::from_reader(reader)
        .features()
        .enumerate()
    {
        let feature =
            feature.map_err(|e| ImportError::NotGeoJson(display.clone(), e.to_string()))?;
        match ZoneFeature::parse(&feature) {
            Ok(zone) => zones.push(zone),
            Err(e) => {
                error_count += 1;
                if errors.len() < MAX_REPORTED_ERRORS {
                    errors.push(format!("  feature #{index}: {e}"));
                }
            }
        }
        let bytes = read.load(Ordering::Relaxed);
        progress.tick(false, || {
            format!(
                "reading {display}: {:.1} / {:.1} MiB ({:.0}%), {} features",
                mebibytes(bytes),
                mebibytes(total),
                100.0 * bytes as f64 / total as f64,
                index + 1
            )
        });
    }
    progress.tick(true, || {
        format!(
            "read {display}: {} features, {error_count} invalid",
            zones.len() + error_count
        )
    });
    if error_count > 0 {
        if error_count > errors.len() {
            errors.push(format!("  … and {} more", error_count - errors.len()));
        }
        return Err(ImportError::InvalidFeatures {
            count: error_count,
            list: errors.join("\n"),
        });
    }
    if zones.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(zones)
}

/// Writes checked zones for a jurisdiction that must already exist.
pub async fn write_zones(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    zones: &[ZoneFeature],
) -> Result<ZoneImportSummary, ImportError> {
    if !store
        .jurisdictions()
        .await?
        .iter()
        .any(|j| &j.id == jurisdiction)
    {
        return Err(ImportError::UnknownJurisdiction(jurisdiction.to_string()));
    }
    // The foreign key would refuse them too, but without saying which.
    let groups: std::collections::BTreeSet<String> = store
        .service_groups()
        .await?
        .into_iter()
        .filter(|(j, _)| j == jurisdiction)
        .map(|(_, g)| g.code.to_string())
        .collect();
    // Named per feature, like the file's other mistakes (the features are all valid here,
    // so their positions are the file's).
    let unknown: Vec<(usize, &str)> = zones
        .iter()
        .enumerate()
        .map(|(index, z)| (index, z.group.as_str()))
        .filter(|(_, g)| !groups.contains(*g))
        .collect();
    if !unknown.is_empty() {
        let list = unknown
            .iter()
            .take(MAX_REPORTED_ERRORS)
            .map(|(index, group)| {
                format!(
                    "  feature #{index}: service_group: no group '{group}' in {jurisdiction} \
                     (staff add groups with POST /api/v1/staff/service-groups)"
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        return Err(ImportError::InvalidFeatures {
            count: unknown.len(),
            list,
        });
    }
    let total = zones.len();
    let progress = std::sync::Mutex::new(ProgressPrinter::new(Duration::from_millis(500)));
    let report = |done: usize| {
        progress
            .lock()
            .expect("progress lock")
            .tick(done == total, || {
                format!("writing contracts: {done} / {total}")
            });
    };
    Ok(store.upsert_zones(jurisdiction, zones, &report).await?)
}
