-- The history (report_events, append-only) partitioned by calendar month (UTC) of `at`.
-- Years of history then cost vacuum and index upkeep only in the months being written, and
-- retention drops whole months (`HistoryStore::maintain_history`) instead of deleting rows.
-- A default partition catches an event whose month has no partition yet, so a write never
-- fails for want of one; `balagh_event_month` moves such rows when it creates the month.

CREATE TABLE report_events_by_month (
    id UUID NOT NULL, -- UUIDv7
    report_id UUID NOT NULL REFERENCES reports (id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    data JSONB NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    -- A partitioned table's keys include its partition column; ids are unique anyway.
    CONSTRAINT report_events_by_month_pkey PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE report_events_default PARTITION OF report_events_by_month DEFAULT;

INSERT INTO report_events_by_month (id, report_id, kind, actor, public, data, at)
    SELECT id, report_id, kind, actor, public, data, at FROM report_events;
DROP TABLE report_events;
ALTER TABLE report_events_by_month RENAME TO report_events;
ALTER TABLE report_events RENAME CONSTRAINT report_events_by_month_pkey TO report_events_pkey;

CREATE INDEX report_events_report_idx ON report_events (report_id, at);
CREATE INDEX report_events_open311_idx ON report_events (at)
    WHERE public AND kind IN ('status_changed', 'comment');
CREATE INDEX report_events_feedback_idx ON report_events (at) WHERE kind IN ('comment', 'rated');

-- Still append-only; only `balagh_event_month`, moving rows out of the default partition
-- into their month, may delete (it says so for its own transaction).
CREATE OR REPLACE FUNCTION report_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('balagh.moving_history', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'report_events is append-only';
END
$$;
CREATE TRIGGER report_events_append_only BEFORE UPDATE OR DELETE ON report_events
    FOR EACH ROW EXECUTE FUNCTION report_events_append_only();

-- Creates the partition of the month starting at `month_start` (UTC) unless it exists,
-- moving that month's rows out of the default partition. Returns whether it created one.
-- Replicas may call it at once: an advisory lock makes them take turns.
CREATE FUNCTION balagh_event_month(month_start TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    lo TIMESTAMPTZ := date_trunc('month', month_start, 'UTC');
    hi TIMESTAMPTZ := lo + interval '1 month';
    name TEXT := 'report_events_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('balagh_event_month'));
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE report_events INCLUDING DEFAULTS)', name);
    PERFORM set_config('balagh.moving_history', 'on', true);
    EXECUTE format(
        'WITH moved AS (DELETE FROM report_events_default WHERE at >= %L AND at < %L '
        'RETURNING id, report_id, kind, actor, public, data, at) '
        'INSERT INTO %I (id, report_id, kind, actor, public, data, at) SELECT * FROM moved',
        lo, hi, name);
    PERFORM set_config('balagh.moving_history', 'off', true);
    EXECUTE format('ALTER TABLE report_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        name, lo, hi);
    RETURN true;
END
$$;

-- The months the history already holds, and this one and the next three.
SELECT balagh_event_month(m)
FROM generate_series(
    date_trunc('month', LEAST(COALESCE((SELECT min(at) FROM report_events), now()), now()), 'UTC'),
    date_trunc('month', now(), 'UTC') + interval '3 months',
    interval '1 month'
) AS m
WHERE EXISTS (SELECT 1 FROM report_events WHERE at >= m AND at < m + interval '1 month')
   OR m >= date_trunc('month', now(), 'UTC');
