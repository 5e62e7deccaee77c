-- slotcron history database, schema version 6: the HTTP API's run lists.
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released: add 0007_*.sql.

-- `GET /api/v1/runs?status=oom_killed`: the newest runs of one status, a page at a time,
-- without walking a million rows backwards to find a rare status.
CREATE INDEX runs_status_id ON runs (status, id DESC);
