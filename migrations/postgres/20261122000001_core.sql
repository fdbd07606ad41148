-- Core schema: jurisdictions, services, operators, contracts, devices, reports and their events.
-- Constraint names are part of the API contract: balagh-store maps them to errors.

CREATE TABLE catalog_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO catalog_revision (id, revision) VALUES (1, 0);

CREATE TABLE jurisdictions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    languages JSONB NOT NULL,
    default_language TEXT NOT NULL,
    reference_prefix TEXT NOT NULL,
    boundary JSONB NOT NULL -- GeoJSON geometry, WGS84
);

CREATE TABLE services (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    code TEXT NOT NULL,
    service_group TEXT NOT NULL CHECK (service_group IN ('waste', 'lighting', 'transport')),
    definition JSONB NOT NULL, -- names, attributes, keywords: the domain's Service
    active BOOLEAN NOT NULL DEFAULT TRUE,
    CONSTRAINT services_pkey PRIMARY KEY (jurisdiction_id, code)
);

CREATE TABLE operators (
    id UUID PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    CONSTRAINT operators_slug_key UNIQUE (jurisdiction_id, slug)
);

CREATE TABLE contracts (
    id UUID PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    reference TEXT NOT NULL,
    operator_id UUID NOT NULL REFERENCES operators (id),
    service_group TEXT NOT NULL CHECK (service_group IN ('waste', 'lighting', 'transport')),
    zone_name TEXT NOT NULL,
    zone JSONB NOT NULL, -- GeoJSON geometry, WGS84
    valid_from TIMESTAMPTZ NOT NULL,
    valid_until TIMESTAMPTZ,
    CONSTRAINT contracts_reference_key UNIQUE (jurisdiction_id, reference)
);

CREATE TABLE devices (
    id UUID PRIMARY KEY,
    token_hash BYTEA NOT NULL, -- SHA-256 of the bearer token
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT devices_token_hash_key UNIQUE (token_hash)
);

CREATE TABLE reports (
    id UUID PRIMARY KEY, -- UUIDv7
    reference TEXT NOT NULL,
    jurisdiction_id TEXT NOT NULL,
    service_code TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION,
    cell BIGINT NOT NULL, -- H3 resolution 9 cell of the point
    description TEXT NOT NULL,
    attributes JSONB NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    operator_id UUID REFERENCES operators (id),
    contract_id UUID REFERENCES contracts (id),
    device_id UUID REFERENCES devices (id), -- the reporter: private
    idempotency_key TEXT,
    request_hash BYTEA,
    supporters BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT reports_reference_key UNIQUE (reference),
    CONSTRAINT reports_idempotency_key UNIQUE (device_id, idempotency_key),
    CONSTRAINT reports_service_fkey FOREIGN KEY (jurisdiction_id, service_code)
        REFERENCES services (jurisdiction_id, code)
);
-- "Is it already reported?": a handful of cells, one service, recent reports. The cell
-- leads, so that even without statistics (right after a bulk load) no plan can scan more
-- than those cells.
CREATE INDEX reports_nearby_idx ON reports (cell, service_code, created_at);

CREATE TABLE report_events (
    id UUID PRIMARY KEY, -- UUIDv7
    report_id UUID NOT NULL REFERENCES reports (id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    data JSONB NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX report_events_report_idx ON report_events (report_id, at);

CREATE TABLE report_supporters (
    report_id UUID NOT NULL REFERENCES reports (id),
    device_id UUID NOT NULL REFERENCES devices (id),
    at TIMESTAMPTZ NOT NULL,
    CONSTRAINT report_supporters_pkey PRIMARY KEY (report_id, device_id)
);

-- The history is the audit trail and the source of SLA clocks: it is never rewritten.
CREATE FUNCTION report_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'report_events is append-only';
END
$$;
CREATE TRIGGER report_events_append_only BEFORE UPDATE OR DELETE ON report_events
    FOR EACH ROW EXECUTE FUNCTION report_events_append_only();
