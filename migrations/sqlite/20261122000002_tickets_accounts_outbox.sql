-- SQLite twin of migrations/postgres/20261122000002_tickets_accounts_outbox.sql.
-- Operator ticket queue, report lifecycle, accounts, and the outbox for webhooks.

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL, -- argon2id, PHC string
    role TEXT NOT NULL CHECK (role IN ('staff_admin', 'staff_agent', 'staff_analyst',
                                       'operator_manager', 'operator_agent')),
    jurisdiction_id TEXT REFERENCES jurisdictions (id),
    operator_id BLOB REFERENCES operators (id),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_scope_check CHECK (
        (role LIKE 'staff_%' AND jurisdiction_id IS NOT NULL AND operator_id IS NULL)
        OR (role LIKE 'operator_%' AND operator_id IS NOT NULL AND jurisdiction_id IS NULL))
);

-- Web sessions (cookie) and API tokens: only hashes are kept.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Failed logins per account and per client address, shared by all replicas.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until INTEGER
);

ALTER TABLE reports ADD COLUMN assignee_id BLOB REFERENCES users (id);
ALTER TABLE reports ADD COLUMN duplicate_of BLOB REFERENCES reports (id);
ALTER TABLE reports ADD COLUMN description_hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN due_at INTEGER;
ALTER TABLE reports ADD COLUMN resolved_at INTEGER;
ALTER TABLE reports ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5);
-- The staff member who entered a report for a resident at the counter or on the phone;
-- their Idempotency-Keys are unique per staff member, as residents' are per device.
ALTER TABLE reports ADD COLUMN created_by BLOB REFERENCES users (id);
CREATE UNIQUE INDEX reports_staff_idempotency_key ON reports (created_by, idempotency_key);
-- Name and phone of a resident who came to the counter or phoned: private.
ALTER TABLE reports ADD COLUMN contact TEXT;
CREATE INDEX reports_queue_idx ON reports (operator_id, due_at, id);
CREATE INDEX reports_triage_idx ON reports (jurisdiction_id, status, created_at);
CREATE INDEX reports_resolved_idx ON reports (resolved_at) WHERE status = 'resolved';

-- Devices that follow a report (its reporter, "me too" supporters, followers).
CREATE TABLE report_followers (
    report_id BLOB NOT NULL REFERENCES reports (id),
    device_id BLOB NOT NULL REFERENCES devices (id),
    since INTEGER NOT NULL,
    CONSTRAINT report_followers_pkey PRIMARY KEY (report_id, device_id)
);

CREATE TABLE operator_webhooks (
    operator_id BLOB PRIMARY KEY REFERENCES operators (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL, -- needed to sign; never returned after creation, never logged
    active INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
);

-- Side effects written in the same transaction as the change that causes them, delivered
-- at least once by workers that claim rows (one writer at a time on SQLite).
CREATE TABLE outbox (
    id BLOB PRIMARY KEY, -- also the webhook-id receivers use to drop repeats
    topic TEXT NOT NULL,
    operator_id BLOB REFERENCES operators (id),
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    first_attempt_at INTEGER,
    locked_until INTEGER,
    last_error TEXT,
    delivered_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_operator_idx ON outbox (operator_id, state, created_at);
