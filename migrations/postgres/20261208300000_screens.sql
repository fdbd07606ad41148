-- Screens in the commune's reception areas (issue 21): each opens a secret URL
-- `/screens/{token}`; only the token's SHA-256 is kept. An urgent service notice takes over
-- every screen near it until it ends or staff clear the flag.
ALTER TABLE service_notices ADD COLUMN urgent BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE screens (
    id UUID PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    name TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    service_codes JSONB NOT NULL, -- ["waste_bin_overflow", ...]
    languages JSONB NOT NULL, -- ["fr", "ar", "en"], in the order shown
    orientation TEXT NOT NULL CHECK (orientation IN ('landscape', 'portrait')),
    token_hash BYTEA NOT NULL,
    created_by UUID REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    CONSTRAINT screens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX screens_jurisdiction_idx ON screens (jurisdiction_id, created_at);
