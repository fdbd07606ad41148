-- SQLite twin of migrations/postgres/20261122000004_photos.sql: timestamps are integer
-- microseconds since the Unix epoch, UUIDs 16-byte blobs, booleans 0/1.
-- Photos (issue 5): upload slots handed to phones, and the photos made from confirmed
-- uploads. Only re-encoded, metadata-free renditions are kept, named by the SHA-256 of
-- their bytes (`renditions/<sha256>.jpg`); the original upload (`uploads/<slot id>`) is
-- deleted once processed, and of its EXIF position only the distance to the report's pin
-- is kept.

CREATE TABLE upload_slots (
    id BLOB PRIMARY KEY, -- also the id of the photo it becomes
    report_id BLOB REFERENCES reports (id), -- NULL: a draft, before the report exists
    uploader_kind TEXT NOT NULL CHECK (uploader_kind IN ('resident', 'operator', 'staff')),
    device_id BLOB REFERENCES devices (id),
    user_id BLOB REFERENCES users (id),
    operator_id BLOB REFERENCES operators (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('report', 'evidence')),
    -- processing: a confirm is working on it (a crashed one is collected like the rest)
    state TEXT NOT NULL CHECK (state IN ('pending', 'processing')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL -- end of its upload URL
);
-- Unconfirmed uploads are garbage-collected by age.
CREATE INDEX upload_slots_created_idx ON upload_slots (created_at);

CREATE TABLE photos (
    id BLOB PRIMARY KEY, -- the upload slot's id
    report_id BLOB REFERENCES reports (id), -- NULL: a draft photo not attached yet
    uploader_kind TEXT NOT NULL CHECK (uploader_kind IN ('resident', 'operator', 'staff')),
    device_id BLOB REFERENCES devices (id),
    user_id BLOB REFERENCES users (id),
    operator_id BLOB REFERENCES operators (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('report', 'evidence')),
    detected_type TEXT NOT NULL, -- what the upload really was: image/jpeg, image/png, image/webp
    width INTEGER NOT NULL, -- of the original, upright
    height INTEGER NOT NULL,
    large_sha256 TEXT NOT NULL,
    large_width INTEGER NOT NULL,
    large_height INTEGER NOT NULL,
    thumb_sha256 TEXT NOT NULL,
    thumb_width INTEGER NOT NULL,
    thumb_height INTEGER NOT NULL,
    -- Distance from the photo's EXIF position to the report's pin; far = over 1 km.
    gps_distance_m REAL,
    gps_far INTEGER NOT NULL DEFAULT 0,
    -- A draft's EXIF position, kept only until the draft is attached (then replaced by the
    -- distance) or collected.
    draft_gps_lat REAL,
    draft_gps_lon REAL,
    -- Moderation: the public sees only approved photos.
    approved INTEGER NOT NULL DEFAULT 0,
    moderated_by BLOB REFERENCES users (id),
    moderated_at INTEGER,
    created_at INTEGER NOT NULL,
    attached_at INTEGER
);
CREATE INDEX photos_report_idx ON photos (report_id, created_at);
CREATE INDEX photos_draft_idx ON photos (created_at) WHERE report_id IS NULL;
CREATE INDEX photos_large_idx ON photos (large_sha256);
CREATE INDEX photos_thumb_idx ON photos (thumb_sha256);
