-- SQLite twin of migrations/postgres/20261122000003_sla.sql.
-- SLA engine: business calendars, versioned policies, clocks derived from report histories,
-- alarms raised once, disputes, and the in-app notifications escalations are delivered to.

CREATE TABLE sla_calendars (
    jurisdiction_id TEXT PRIMARY KEY REFERENCES jurisdictions (id),
    definition TEXT NOT NULL, -- the domain's CalendarSpec; the time zone is the jurisdiction's
    updated_at INTEGER NOT NULL,
    updated_by BLOB REFERENCES users (id)
);

-- A new version never replaces an old one: reports stay measured by the version in force
-- when they were created.
CREATE TABLE sla_policies (
    contract_id BLOB NOT NULL REFERENCES contracts (id),
    version INTEGER NOT NULL CHECK (version >= 1),
    effective_from INTEGER NOT NULL,
    definition TEXT NOT NULL, -- the domain's SlaPolicy
    created_at INTEGER NOT NULL,
    created_by BLOB REFERENCES users (id),
    CONSTRAINT sla_policies_pkey PRIMARY KEY (contract_id, version)
);

-- One row per report, metric and cycle, recomputed from the history on every change (so a
-- calendar correction can be replayed). `next_check_at` is when the sweeper must look at it
-- again (the next threshold); its partial index makes a sweep cost what is due, not what is
-- open.
CREATE TABLE sla_clocks (
    report_id BLOB NOT NULL REFERENCES reports (id),
    metric TEXT NOT NULL CHECK (metric IN ('acknowledge', 'resolve', 'on_site')),
    cycle INTEGER NOT NULL,
    operator_id BLOB NOT NULL REFERENCES operators (id),
    contract_id BLOB NOT NULL REFERENCES contracts (id),
    policy_version INTEGER NOT NULL,
    clock TEXT NOT NULL CHECK (clock IN ('always', 'business_hours')),
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'met', 'breached')),
    started_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    met_at INTEGER,
    breached_at INTEGER,
    withdrawn_at INTEGER,
    target_ms INTEGER NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    overdue_ms INTEGER NOT NULL,
    report_created_at INTEGER NOT NULL,
    computed_at INTEGER NOT NULL,
    next_check_at INTEGER,
    locked_until INTEGER,
    CONSTRAINT sla_clocks_pkey PRIMARY KEY (report_id, metric, cycle)
);
CREATE INDEX sla_clocks_due_idx ON sla_clocks (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX sla_clocks_contract_idx ON sla_clocks (contract_id, report_created_at);
CREATE INDEX sla_clocks_operator_idx ON sla_clocks (operator_id, report_created_at);

-- Each warning and each breach is raised once, whichever replica sees it first.
CREATE TABLE sla_alarms (
    report_id BLOB NOT NULL REFERENCES reports (id),
    metric TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    percent INTEGER NOT NULL, -- 100: the breach
    raised_at INTEGER NOT NULL,
    CONSTRAINT sla_alarms_pkey PRIMARY KEY (report_id, metric, cycle, percent)
);

CREATE TABLE sla_disputes (
    id BLOB PRIMARY KEY,
    report_id BLOB NOT NULL REFERENCES reports (id),
    metric TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    operator_id BLOB NOT NULL REFERENCES operators (id),
    reason TEXT NOT NULL,
    opened_by BLOB NOT NULL REFERENCES users (id),
    opened_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected')),
    decided_by BLOB REFERENCES users (id),
    decided_at INTEGER,
    decision_note TEXT,
    CONSTRAINT sla_disputes_clock_key UNIQUE (report_id, metric, cycle)
);
CREATE INDEX sla_disputes_state_idx ON sla_disputes (state, opened_at);

-- Escalations delivered from the outbox to operator managers and staff, once per message
-- and user.
CREATE TABLE user_notifications (
    id BLOB PRIMARY KEY,
    message_id BLOB NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id),
    event_type TEXT NOT NULL,
    report_id BLOB REFERENCES reports (id),
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER,
    CONSTRAINT user_notifications_message_key UNIQUE (message_id, user_id)
);
CREATE INDEX user_notifications_user_idx ON user_notifications (user_id, created_at);
