-- slotcron history database: a run can end `requeued` (issue 16, ADR 0036).
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released.
--
-- The pressure response stops a run that declared `on_pressure: [requeue]` and queues it
-- again; its row ends `requeued`, not `killed` or `failed`. The status is guarded by a
-- CHECK on `runs`, and SQLite cannot change a CHECK in place. Rebuilding `runs` would
-- mean dropping a table that `events`, `alerts` and `runs.retry_of` refer to, with
-- foreign keys on; instead the CHECK's text is widened in the schema, the procedure
-- SQLite's documentation gives for changes that leave the stored rows valid ("ALTER
-- TABLE", section 7: every existing row still passes the wider CHECK).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''lost'', ''skipped'')', '''lost'', ''skipped'', ''requeued'')')
 WHERE type = 'table' AND name = 'runs';
PRAGMA writable_schema = RESET;
