//! The start time of a run's main process, recorded beside its pid so that crash recovery
//! can tell the run's process from another one that reused the pid (issue 11 item 6).

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

impl Store {
    /// Records a running run's spawned process in one write: its pid, the start time of
    /// that pid (see [`Store::set_run_pid_start`]; `None` leaves it unset), its cgroup and
    /// its log. The runner's one visit to history between a run's start and its end.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if `ticks` is above `i64::MAX`; [`StoreError::NoSuchRun`]
    /// or [`StoreError::NotRunning`] if the run is not running; [`StoreError::Sql`].
    pub fn set_run_started(
        &mut self,
        id: i64,
        pid: u32,
        ticks: Option<u64>,
        cgroup: Option<&str>,
        log_path: &str,
    ) -> Result<(), StoreError> {
        const OP: &str = "recording a run's process";
        let ticks = ticks
            .map(i64::try_from)
            .transpose()
            .map_err(|_| StoreError::invalid("pid_start", format!("{ticks:?} is too large")))?;
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        let changed = tx
            .prepare_cached(
                "UPDATE runs SET pid = ?2, pid_start = coalesce(?3, pid_start), \
                 cgroup = coalesce(?4, cgroup), log_path = ?5 \
                 WHERE id = ?1 AND status = 'running'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, pid, ticks, cgroup, log_path]))
            .map_err(StoreError::sql(OP))?;
        if changed == 0 {
            return Err(super::runs::not_running(&tx, id));
        }
        tx.commit().map_err(StoreError::sql(OP))
    }

    /// Records the start time of a running run's main process: field 22 of
    /// `/proc/<pid>/stat`, in clock ticks since boot.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if the run is not running or `ticks` is above `i64::MAX`;
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn set_run_pid_start(&mut self, id: i64, ticks: u64) -> Result<(), StoreError> {
        const OP: &str = "recording a run's process start time";
        let ticks = i64::try_from(ticks)
            .map_err(|_| StoreError::invalid("pid_start", format!("{ticks} is too large")))?;
        let changed = self
            .conn
            .prepare_cached("UPDATE runs SET pid_start = ?2 WHERE id = ?1 AND status = 'running'")
            .and_then(|mut stmt| stmt.execute(params![id, ticks]))
            .map_err(StoreError::sql(OP))?;
        if changed == 0 {
            return Err(StoreError::invalid(
                "pid_start",
                format!("run {id} is not running"),
            ));
        }
        Ok(())
    }

    /// The recorded start time of a run's main process (see [`Store::set_run_pid_start`]),
    /// `None` when the run has none (not spawned, or recorded before schema 9).
    ///
    /// # Errors
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn run_pid_start(&self, id: i64) -> Result<Option<u64>, StoreError> {
        const OP: &str = "reading a run's process start time";
        let ticks: Option<Option<i64>> = self
            .conn
            .query_row(
                "SELECT pid_start FROM runs WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )
            .optional()
            .map_err(StoreError::sql(OP))?;
        Ok(ticks.flatten().and_then(|t| u64::try_from(t).ok()))
    }
}
