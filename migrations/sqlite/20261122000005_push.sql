-- SQLite twin of migrations/postgres/20261122000005_push.sql.
-- Push notifications to residents and area service notices.

-- Where a device receives pushes: one channel per device (registering again replaces it).
CREATE TABLE push_registrations (
    device_id BLOB PRIMARY KEY REFERENCES devices (id),
    channel TEXT NOT NULL CHECK (channel IN ('fcm', 'web_push')),
    token TEXT NOT NULL, -- FCM registration token, or the Web Push endpoint URL
    p256dh TEXT, -- Web Push subscription keys (base64url)
    auth TEXT,
    language TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    quiet_start INTEGER, -- minutes after local midnight
    quiet_end INTEGER,
    areas TEXT NOT NULL, -- [{"lat", "lon", "radius_m"}], at most 3
    active INTEGER NOT NULL,
    deactivated_reason TEXT, -- why the push service refused the token
    updated_at INTEGER NOT NULL
);

-- The areas again, one row each with a bounding box, for "whose areas does this notice reach?"
CREATE TABLE push_areas (
    device_id BLOB NOT NULL REFERENCES push_registrations (device_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    radius_m REAL NOT NULL,
    min_lat REAL NOT NULL,
    max_lat REAL NOT NULL,
    min_lon REAL NOT NULL,
    max_lon REAL NOT NULL,
    CONSTRAINT push_areas_pkey PRIMARY KEY (device_id, position)
);
CREATE INDEX push_areas_box_idx ON push_areas (min_lat, max_lat);

-- A follower who unfollowed stays as a row with active = false, so that being the reporter
-- or a supporter does not bring them back.
ALTER TABLE report_followers ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

CREATE TABLE service_notices (
    id BLOB PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    kind TEXT NOT NULL
        CHECK (kind IN ('planned_interruption', 'collection_delay', 'diversion', 'other')),
    service_codes TEXT NOT NULL,
    area TEXT NOT NULL, -- GeoJSON geometry: (Multi)Polygon, or Point with radius_m
    radius_m REAL,
    min_lat REAL NOT NULL,
    max_lat REAL NOT NULL,
    min_lon REAL NOT NULL,
    max_lon REAL NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    texts TEXT NOT NULL, -- {"fr": {"title", "body"}, ...}
    operator_id BLOB REFERENCES operators (id), -- set when an operator published it
    published_by BLOB NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    withdrawn_at INTEGER
);
CREATE INDEX service_notices_active_idx ON service_notices (valid_until, valid_from);

-- Pushes are outbox rows too: one per device and event, never two (the dedupe key).
ALTER TABLE outbox ADD COLUMN device_id BLOB;
ALTER TABLE outbox ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX outbox_dedupe_key ON outbox (dedupe_key);
-- Claims are per topic: a burst of pushes must not slow the webhook workers' claims down.
DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (topic, next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_topic_state_idx ON outbox (topic, state, created_at);
