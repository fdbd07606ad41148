-- "Is it already reported?" reads open reports of a service in a few cells and a box around
-- the point. The index holds only open reports (its predicate is the query's status list,
-- written alike, so the planner proves it) and carries lat and lon, so reports of the cells
-- that fall outside the box are skipped from the index without reading their rows. Before,
-- an index partial on the same statuses but without the cell (reports_open_idx) could look
-- cheaper to the planner on a table without statistics, and a look-up scanned every open
-- report of the service.
DROP INDEX reports_nearby_idx;
CREATE INDEX reports_nearby_idx ON reports (cell, service_code, created_at, lat, lon)
    WHERE status IN ('new', 'unrouted', 'acknowledged', 'in_progress', 'paused', 'reopened');
