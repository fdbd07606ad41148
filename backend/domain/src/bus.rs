//! Bus lines and stops read from a GTFS feed (`routes.txt`, `stops.txt`, and, to know which
//! stops each line serves, `trips.txt` and `stop_times.txt`), so that a resident reporting
//! a transport problem can name the line and the stop instead of placing a pin.

use crate::{FieldError, GeoPoint};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub struct BusLine {
    /// GTFS `route_id`.
    pub id: String,
    /// `route_short_name` (the number on the bus), else the long name.
    pub short_name: String,
    pub long_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BusStop {
    /// GTFS `stop_id`.
    pub id: String,
    pub name: String,
    pub point: GeoPoint,
}

/// A whole feed: lines, stops, and each line's stops in the order a bus serves them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BusNetwork {
    pub lines: Vec<BusLine>,
    pub stops: Vec<BusStop>,
    /// (line id, stop id, position from 0).
    pub line_stops: Vec<(String, String, u32)>,
}

/// The files of a GTFS feed this reads (`trips` and `stop_times` may be absent: lines then
/// have no stops).
#[derive(Debug, Clone, Copy)]
pub struct GtfsFiles<'a> {
    pub routes: &'a str,
    pub stops: &'a str,
    pub trips: Option<&'a str>,
    pub stop_times: Option<&'a str>,
}

/// Rows of a CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF) as maps from
/// the header's column names.
fn csv_rows(file: &str, text: &str) -> Result<Vec<HashMap<String, String>>, FieldError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(FieldError::new(file, "a quoted field is not closed"));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    let mut records = records
        .into_iter()
        .filter(|r| !(r.len() == 1 && r[0].trim().is_empty()));
    let header: Vec<String> = records
        .next()
        .ok_or_else(|| FieldError::new(file, "is empty"))?
        .into_iter()
        .map(|h| h.trim().to_owned())
        .collect();
    Ok(records
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.into_iter().map(|v| v.trim().to_owned()))
                .collect()
        })
        .collect())
}

fn column<'a>(
    row: &'a HashMap<String, String>,
    file: &str,
    line: usize,
    name: &str,
) -> Result<&'a str, FieldError> {
    row.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FieldError::new(format!("{file}:{line}"), format!("{name} is missing")))
}

fn read_lines(text: &str) -> Result<Vec<BusLine>, FieldError> {
    let mut lines = Vec::new();
    for (i, row) in csv_rows("routes.txt", text)?.iter().enumerate() {
        let line = i + 2;
        let id = column(row, "routes.txt", line, "route_id")?.to_owned();
        let short = row.get("route_short_name").cloned().unwrap_or_default();
        let long = row.get("route_long_name").cloned().unwrap_or_default();
        if short.is_empty() && long.is_empty() {
            return Err(FieldError::new(
                format!("routes.txt:{line}"),
                "route_short_name or route_long_name is required",
            ));
        }
        lines.push(BusLine {
            id,
            short_name: if short.is_empty() {
                long.clone()
            } else {
                short
            },
            long_name: long,
        });
    }
    Ok(lines)
}

fn read_stops(text: &str) -> Result<Vec<BusStop>, FieldError> {
    let mut stops = Vec::new();
    for (i, row) in csv_rows("stops.txt", text)?.iter().enumerate() {
        let line = i + 2;
        // Stations and entrances (location_type 1-4) are not where a bus stops.
        if row
            .get("location_type")
            .is_some_and(|t| !t.is_empty() && t != "0")
        {
            continue;
        }
        let number = |name: &str| -> Result<f64, FieldError> {
            column(row, "stops.txt", line, name)?.parse().map_err(|_| {
                FieldError::new(
                    format!("stops.txt:{line}"),
                    format!("{name} must be a number"),
                )
            })
        };
        let point = GeoPoint::parse(number("stop_lat")?, number("stop_lon")?)
            .map_err(|e| e.within(&format!("stops.txt:{line}")))?;
        stops.push(BusStop {
            id: column(row, "stops.txt", line, "stop_id")?.to_owned(),
            name: column(row, "stops.txt", line, "stop_name")?.to_owned(),
            point,
        });
    }
    Ok(stops)
}

/// Each line's stops: those of its trip with the most stops, in `stop_sequence` order.
fn read_line_stops(
    trips: &str,
    stop_times: &str,
    lines: &HashSet<&str>,
    stops: &HashSet<&str>,
) -> Result<Vec<(String, String, u32)>, FieldError> {
    let mut trip_line = HashMap::new();
    for (i, row) in csv_rows("trips.txt", trips)?.iter().enumerate() {
        let route = column(row, "trips.txt", i + 2, "route_id")?;
        if !lines.contains(route) {
            return Err(FieldError::new(
                format!("trips.txt:{}", i + 2),
                format!("route_id {route} is not in routes.txt"),
            ));
        }
        let trip = column(row, "trips.txt", i + 2, "trip_id")?;
        trip_line.insert(trip.to_owned(), route.to_owned());
    }
    let mut by_trip: HashMap<String, Vec<(u32, String)>> = HashMap::new();
    for (i, row) in csv_rows("stop_times.txt", stop_times)?.iter().enumerate() {
        let line = i + 2;
        let trip = column(row, "stop_times.txt", line, "trip_id")?;
        let stop = column(row, "stop_times.txt", line, "stop_id")?;
        let sequence: u32 = column(row, "stop_times.txt", line, "stop_sequence")?
            .parse()
            .map_err(|_| {
                FieldError::new(
                    format!("stop_times.txt:{line}"),
                    "stop_sequence must be a whole number",
                )
            })?;
        if !trip_line.contains_key(trip) || !stops.contains(stop) {
            return Err(FieldError::new(
                format!("stop_times.txt:{line}"),
                "trip_id or stop_id is not in trips.txt or stops.txt",
            ));
        }
        by_trip
            .entry(trip.to_owned())
            .or_default()
            .push((sequence, stop.to_owned()));
    }
    let mut longest: HashMap<&str, &str> = HashMap::new();
    let mut trips_sorted: Vec<&String> = by_trip.keys().collect();
    trips_sorted.sort();
    for trip in trips_sorted {
        let line = trip_line[trip].as_str();
        let better = longest
            .get(line)
            .is_none_or(|best| by_trip[*best].len() < by_trip[trip].len());
        if better {
            longest.insert(line, trip);
        }
    }
    let mut out = Vec::new();
    let mut chosen: Vec<(&str, &str)> = longest.into_iter().collect();
    chosen.sort();
    for (line, trip) in chosen {
        let mut times = by_trip[trip].clone();
        times.sort();
        let mut seen = HashSet::new();
        for (_, stop) in times {
            if seen.insert(stop.clone()) {
                out.push((line.to_owned(), stop, seen.len() as u32 - 1));
            }
        }
    }
    Ok(out)
}

/// Reads and checks a feed; the first error names the file and line.
pub fn parse_gtfs(files: GtfsFiles<'_>) -> Result<BusNetwork, FieldError> {
    let lines = read_lines(files.routes)?;
    let stops = read_stops(files.stops)?;
    let line_ids: HashSet<&str> = lines.iter().map(|l| l.id.as_str()).collect();
    let stop_ids: HashSet<&str> = stops.iter().map(|s| s.id.as_str()).collect();
    if line_ids.len() != lines.len() || stop_ids.len() != stops.len() {
        return Err(FieldError::new(
            "gtfs",
            "a route_id or stop_id appears twice",
        ));
    }
    let line_stops = match (files.trips, files.stop_times) {
        (Some(trips), Some(times)) => read_line_stops(trips, times, &line_ids, &stop_ids)?,
        _ => Vec::new(),
    };
    Ok(BusNetwork {
        lines,
        stops,
        line_stops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_feed_gives_lines_with_their_stops_in_order() {
        let network = parse_gtfs(GtfsFiles {
            routes: "route_id,route_short_name,route_long_name,route_type\r\nL1,1,\"Centre - Martil, via M'diq\",3\r\n",
            stops: "stop_id,stop_name,stop_lat,stop_lon\nS1,Bab Okla,35.57,-5.37\nS2,\"Place \"\"Feddan\"\"\",35.571,-5.368\n",
            trips: Some("route_id,service_id,trip_id\nL1,W,T1\nL1,W,T2\n"),
            stop_times: Some("trip_id,stop_id,stop_sequence\nT1,S2,2\nT1,S1,1\nT2,S1,1\n"),
        })
        .unwrap();
        assert_eq!(network.lines[0].long_name, "Centre - Martil, via M'diq");
        assert_eq!(network.stops[1].name, "Place \"Feddan\"");
        assert_eq!(
            network.line_stops,
            vec![
                ("L1".to_owned(), "S1".to_owned(), 0),
                ("L1".to_owned(), "S2".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let error = parse_gtfs(GtfsFiles {
            routes: "route_id,route_short_name\nL1,1\n",
            stops: "stop_id,stop_name,stop_lat,stop_lon\nS1,A,95,-5.3\n",
            trips: None,
            stop_times: None,
        })
        .unwrap_err();
        assert_eq!(error.field, "stops.txt:2.lat");
    }
}
