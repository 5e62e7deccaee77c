-- slotcron history database, schema version 6: what each run read and wrote.
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released: add the next NNNN_*.sql. Same conventions as 0001.
--
-- `io.stat` of the run's cgroup, summed over its devices, read before the cgroup is
-- removed. NULL where the io controller is not enabled (not delegated, or no
-- enforcement) and for runs recorded before this version.

ALTER TABLE runs ADD COLUMN io_rbytes INTEGER CHECK (io_rbytes >= 0);
ALTER TABLE runs ADD COLUMN io_wbytes INTEGER CHECK (io_wbytes >= 0);
ALTER TABLE runs ADD COLUMN io_rios   INTEGER CHECK (io_rios >= 0);
ALTER TABLE runs ADD COLUMN io_wios   INTEGER CHECK (io_wios >= 0);

ALTER TABLE runs_archive ADD COLUMN io_rbytes INTEGER;
ALTER TABLE runs_archive ADD COLUMN io_wbytes INTEGER;
ALTER TABLE runs_archive ADD COLUMN io_rios   INTEGER;
ALTER TABLE runs_archive ADD COLUMN io_wios   INTEGER;
