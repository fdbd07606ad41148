-- The gazetteer (issue 20): named places residents can pick instead of a pin, and bus
-- lines and stops from a GTFS feed. `search_key` holds the folded words of every name,
-- each preceded by a space (see balagh_domain::places::fold), for prefix searches.
CREATE TABLE places (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_ar TEXT,
    kind TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    search_key TEXT NOT NULL,
    CONSTRAINT places_pkey PRIMARY KEY (jurisdiction_id, id)
);

CREATE TABLE bus_lines (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    id TEXT NOT NULL,
    short_name TEXT NOT NULL,
    long_name TEXT NOT NULL,
    CONSTRAINT bus_lines_pkey PRIMARY KEY (jurisdiction_id, id)
);

CREATE TABLE bus_stops (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    CONSTRAINT bus_stops_pkey PRIMARY KEY (jurisdiction_id, id)
);

CREATE TABLE bus_line_stops (
    jurisdiction_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    stop_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    CONSTRAINT bus_line_stops_pkey PRIMARY KEY (jurisdiction_id, line_id, position),
    CONSTRAINT bus_line_stops_line_fkey FOREIGN KEY (jurisdiction_id, line_id)
        REFERENCES bus_lines (jurisdiction_id, id) ON DELETE CASCADE,
    CONSTRAINT bus_line_stops_stop_fkey FOREIGN KEY (jurisdiction_id, stop_id)
        REFERENCES bus_stops (jurisdiction_id, id) ON DELETE CASCADE
);
