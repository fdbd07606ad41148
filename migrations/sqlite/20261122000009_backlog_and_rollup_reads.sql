-- SQLite twin of migrations/postgres/20261122000009_backlog_and_rollup_reads.sql.
-- Backlog ageing (staff dashboard) counts open reports by service, operator and age: a
-- partial index over open reports only (ReportStatus::OPEN, written as the query writes it).
CREATE INDEX reports_open_idx ON reports (jurisdiction_id, service_code, operator_id, created_at)
    WHERE status IN ('new', 'unrouted', 'acknowledged', 'in_progress', 'paused', 'reopened');
-- (PostgreSQL also turns the roll-ups' JSON columns from jsonb to json; SQLite stores text.)
