-- Public statistics: roll-ups kept incrementally from per-report facts, the job's cursor and
-- lease, differential-privacy releases and their ε ledger.

-- What each report last contributed to the roll-ups (the domain's ReportFacts as JSON), so
-- a change takes exactly that contribution out and puts the new one in.
CREATE TABLE stats_report_facts (
    report_id UUID PRIMARY KEY REFERENCES reports (id),
    facts JSONB NOT NULL
);

-- One row per jurisdiction × service × operator × district × H3 cell (resolution 8) × local
-- day; `cell = 0` rows hold the same figures summed over every cell (what non-map queries
-- read). `key` is the canonical text of the key columns (NULLs cannot be in a primary key).
-- `day` is the Julian day number of the local date. Histograms are the domain's sparse form.
CREATE TABLE stats_rollups (
    key TEXT PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL,
    service_code TEXT NOT NULL,
    operator_id UUID,
    district TEXT,
    cell BIGINT NOT NULL,
    day INTEGER NOT NULL,
    new BIGINT NOT NULL,
    new_by_channel JSONB NOT NULL, -- counts in the order of Channel::ALL
    resolved BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    breached BIGINT NOT NULL,
    acknowledge JSONB NOT NULL,
    resolve JSONB NOT NULL,
    satisfaction_sum BIGINT NOT NULL,
    satisfaction_count BIGINT NOT NULL
);
CREATE INDEX stats_rollups_all_cells_idx ON stats_rollups (jurisdiction_id, day) WHERE cell = 0;
-- Map queries read the cell rows of a period: covering, so they never touch the heap.
CREATE INDEX stats_rollups_cells_idx ON stats_rollups (jurisdiction_id, day, cell, service_code, district, new)
    WHERE cell <> 0;

-- The roll-up job: its cursor over reports (updated_at, id), the replica holding the lease,
-- and a counter bumped by every ledger change (it serialises ε spending across replicas).
CREATE TABLE stats_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor_at TIMESTAMPTZ NOT NULL,
    cursor_id UUID NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    revision BIGINT NOT NULL,
    ledger_revision BIGINT NOT NULL
);
INSERT INTO stats_state (id, cursor_at, cursor_id, revision, ledger_revision)
    VALUES (1, '1970-01-01T00:00:00Z', '00000000-0000-0000-0000-000000000000', 0, 0);

-- Reports changed since the cursor, in order; reports created in a period (open data, DP).
CREATE INDEX reports_updated_idx ON reports (updated_at, id);
CREATE INDEX reports_created_idx ON reports (jurisdiction_id, created_at);
-- Comments and ratings received (engagement-3 feedback indicator).
CREATE INDEX report_events_feedback_idx ON report_events (at) WHERE kind IN ('comment', 'rated');

-- Differential privacy: every noisy release is stored and re-published as is (drawing new
-- noise for a repeat would let averages undo it), and the ε it spent is recorded against
-- each scope (jurisdiction × calendar month of the data) it covers.
CREATE TABLE stats_releases (
    release_id TEXT PRIMARY KEY,
    epsilon_micros BIGINT NOT NULL,
    body JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE stats_epsilon_ledger (
    scope TEXT NOT NULL,
    release_id TEXT NOT NULL REFERENCES stats_releases (release_id),
    epsilon_micros BIGINT NOT NULL,
    budget_micros BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT stats_epsilon_ledger_pkey PRIMARY KEY (scope, release_id)
);
