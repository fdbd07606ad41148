-- Operator ticket queue, report lifecycle, accounts, and the outbox for webhooks.

CREATE TABLE users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL, -- argon2id, PHC string
    role TEXT NOT NULL CHECK (role IN ('staff_admin', 'staff_agent', 'staff_analyst',
                                       'operator_manager', 'operator_agent')),
    jurisdiction_id TEXT REFERENCES jurisdictions (id),
    operator_id UUID REFERENCES operators (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_scope_check CHECK (
        (role LIKE 'staff_%' AND jurisdiction_id IS NOT NULL AND operator_id IS NULL)
        OR (role LIKE 'operator_%' AND operator_id IS NOT NULL AND jurisdiction_id IS NULL))
);

-- Web sessions (cookie) and API tokens: only hashes are kept.
CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Failed logins per account and per client address, shared by all replicas.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);

ALTER TABLE reports ADD COLUMN assignee_id UUID REFERENCES users (id);
ALTER TABLE reports ADD COLUMN duplicate_of UUID REFERENCES reports (id);
ALTER TABLE reports ADD COLUMN description_hidden BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE reports ADD COLUMN due_at TIMESTAMPTZ;
ALTER TABLE reports ADD COLUMN resolved_at TIMESTAMPTZ;
ALTER TABLE reports ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5);
-- The staff member who entered a report for a resident at the counter or on the phone;
-- their Idempotency-Keys are unique per staff member, as residents' are per device.
ALTER TABLE reports ADD COLUMN created_by UUID REFERENCES users (id);
CREATE UNIQUE INDEX reports_staff_idempotency_key ON reports (created_by, idempotency_key);
-- Name and phone of a resident who came to the counter or phoned: private.
ALTER TABLE reports ADD COLUMN contact JSONB;
CREATE INDEX reports_queue_idx ON reports (operator_id, due_at, id);
CREATE INDEX reports_triage_idx ON reports (jurisdiction_id, status, created_at);
CREATE INDEX reports_resolved_idx ON reports (resolved_at) WHERE status = 'resolved';

-- Devices that follow a report (its reporter, "me too" supporters, followers).
CREATE TABLE report_followers (
    report_id UUID NOT NULL REFERENCES reports (id),
    device_id UUID NOT NULL REFERENCES devices (id),
    since TIMESTAMPTZ NOT NULL,
    CONSTRAINT report_followers_pkey PRIMARY KEY (report_id, device_id)
);

CREATE TABLE operator_webhooks (
    operator_id UUID PRIMARY KEY REFERENCES operators (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL, -- needed to sign; never returned after creation, never logged
    active BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Side effects written in the same transaction as the change that causes them, delivered
-- at least once by workers that claim rows (FOR UPDATE SKIP LOCKED on PostgreSQL).
CREATE TABLE outbox (
    id UUID PRIMARY KEY, -- also the webhook-id receivers use to drop repeats
    topic TEXT NOT NULL,
    operator_id UUID REFERENCES operators (id),
    event_type TEXT NOT NULL,
    payload JSONB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    first_attempt_at TIMESTAMPTZ,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_operator_idx ON outbox (operator_id, state, created_at);
