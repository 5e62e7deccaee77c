-- slotcron history database: how long the pressure response held each run throttled and
-- frozen (issue 16, ADR 0040).
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released.
--
-- Milliseconds on the daemon's clock, written when the run ends (`Store::finish_run`):
-- `throttled_ms` is the time its `memory.high` was held below its usage, `frozen_ms` the
-- time its `cgroup.freeze` was 1 (a run frozen while throttled counts in both). Both NULL
-- when the response never acted on the run, and for runs recorded before this version.
ALTER TABLE runs ADD COLUMN throttled_ms INTEGER CHECK (throttled_ms >= 0);
ALTER TABLE runs ADD COLUMN frozen_ms INTEGER CHECK (frozen_ms >= 0);

ALTER TABLE runs_archive ADD COLUMN throttled_ms INTEGER;
ALTER TABLE runs_archive ADD COLUMN frozen_ms INTEGER;
