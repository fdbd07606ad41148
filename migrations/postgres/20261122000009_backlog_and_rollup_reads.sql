-- Backlog ageing (staff dashboard) counts open reports by service, operator and age. Open
-- reports are a small share of a commune's history: this partial index answers from the
-- index alone, however many closed reports there are (1.4 s → tens of ms at 10 million).
-- The list is ReportStatus::OPEN, written as the query writes it.
CREATE INDEX reports_open_idx ON reports (jurisdiction_id, service_code, operator_id, created_at)
    WHERE status IN ('new', 'unrouted', 'acknowledged', 'in_progress', 'paused', 'reopened');

-- Roll-up figures are read by the thousand (a year of a commune's all-cells rows) and only
-- ever as whole values: `json` keeps their text as written, where `jsonb` rebuilds it (and
-- formats every number) on each read — most of such a query's time in PostgreSQL.
ALTER TABLE stats_rollups
    ALTER COLUMN new_by_channel TYPE json USING new_by_channel::json,
    ALTER COLUMN acknowledge TYPE json USING acknowledge::json,
    ALTER COLUMN resolve TYPE json USING resolve::json;
