-- SQLite twin of migrations/postgres/20261208300000_screens.sql.
ALTER TABLE service_notices ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;

CREATE TABLE screens (
    id BLOB PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    name TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    service_codes TEXT NOT NULL,
    languages TEXT NOT NULL,
    orientation TEXT NOT NULL CHECK (orientation IN ('landscape', 'portrait')),
    token_hash BLOB NOT NULL,
    created_by BLOB REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER,
    CONSTRAINT screens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX screens_jurisdiction_idx ON screens (jurisdiction_id, created_at);
