-- The SDK's own store on the phone (one SQLite file in the app's storage directory).

-- Device token, locale, push settings: small key/value facts.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- GET /api/v1/services per language, with the ETag it came with.
CREATE TABLE services_cache (
    language TEXT PRIMARY KEY,
    etag TEXT,
    body TEXT NOT NULL,
    fetched_at INTEGER NOT NULL -- Unix milliseconds
);

-- Reports waiting to be sent. The idempotency key is fixed when the resident submits, so a
-- resend after any failure (or a crash) gets the first report back, never a second one.
CREATE TABLE outbox (
    local_id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL, -- NewReportRequest JSON, photos filled in at send time
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    problem TEXT, -- the server's problem details (JSON) when rejected
    report_id TEXT,
    reference TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Photos of queued reports: the shrunk, metadata-free JPEG on disk, then the upload slot,
-- then the confirmed photo id (kept before the report is created, so nothing uploads twice).
CREATE TABLE outbox_photos (
    local_id TEXT NOT NULL REFERENCES outbox (local_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    file TEXT NOT NULL, -- relative to the storage directory
    slot_id TEXT,
    upload_url TEXT,
    confirm_url TEXT,
    slot_expires_at INTEGER,
    uploaded INTEGER NOT NULL DEFAULT 0,
    photo_id TEXT,
    refused TEXT, -- the server refused this photo (problem JSON): the report goes without it
    PRIMARY KEY (local_id, position)
);

-- The resident's reports as last seen (ReportView JSON), for offline reading.
CREATE TABLE my_reports (
    report_id TEXT PRIMARY KEY,
    local_id TEXT,
    reference TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    synced_at INTEGER NOT NULL
);

-- Reports this device follows (besides its own, which it follows anyway).
CREATE TABLE follows (
    report_id TEXT PRIMARY KEY,
    following INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
