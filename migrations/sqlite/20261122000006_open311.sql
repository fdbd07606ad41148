-- SQLite twin of migrations/postgres/20261122000006_open311.sql: timestamps are integer
-- microseconds since the Unix epoch, UUIDs 16-byte blobs, JSON text.
-- Open311 GeoReport v2 (issue 7): the API keys of client systems (FixMyStreet, a city's
-- 311 platform, …) and what their requests carried that the reports table has no column
-- for. Keys are stored hashed. The contact details of an Open311 request go to the
-- report's private `contact` column, like those taken at the counter.

CREATE TABLE open311_keys (
    id BLOB PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    name TEXT NOT NULL, -- the client system, e.g. "FixMyStreet"
    key_hash BLOB NOT NULL, -- SHA-256 of the key; the key itself is shown once
    created_by BLOB REFERENCES users (id), -- NULL: created with `balagh open311-key`
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    CONSTRAINT open311_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX open311_keys_jurisdiction_idx ON open311_keys (jurisdiction_id, created_at);

-- One row per report received through Open311: the client (its key is the reporter),
-- the address text it sent (shown as `address` unless the service is sensitive) and,
-- private, its device id and the external media URLs (never shown: `media_url` only
-- ever shows a photo of ours that staff approved).
CREATE TABLE open311_submissions (
    report_id BLOB PRIMARY KEY REFERENCES reports (id),
    key_id BLOB NOT NULL REFERENCES open311_keys (id),
    address TEXT,
    device_id TEXT,
    jurisdiction_param TEXT,
    media_urls TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX open311_submissions_key_idx ON open311_submissions (key_id, received_at);

-- `servicerequestupdates`: public status changes and comments by time. Partial, so other
-- events (the bulk of the history) do not pay for it.
CREATE INDEX report_events_open311_idx ON report_events (at)
    WHERE public AND kind IN ('status_changed', 'comment');
