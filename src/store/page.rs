//! Listing runs newest first, filtered by job, status and start time: a page at a time for
//! the HTTP API ([`Store::run_page`]), with keyset pagination on the run id (`before`), so
//! page 1,000 costs what page 1 costs; [`Store::runs`] is the same query without a page
//! size's bound. Each filter combination is one SQL text, so SQLite can walk an index backwards
//! and stop after the page: `runs_job_id` for a job, the primary key otherwise. A status
//! filters as the walk goes (no index on status: see `docs/adr/0017-http-api.md`), so a
//! page of a rare status across all jobs reads further back.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;

use super::record::{RUN_COLUMNS, run_from_row, to_ms};
use super::{RunRecord, Store, StoreError};
use crate::model::RunStatus;

/// The largest page [`Store::run_page`] returns.
pub const MAX_PAGE: u32 = 500;

/// Which runs [`Store::run_page`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunQuery {
    /// Only this job's runs.
    pub job: Option<String>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Only runs started at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only runs whose id is below this one (the previous page's `next_before`).
    pub before: Option<i64>,
    /// At most this many runs, 1 to [`MAX_PAGE`].
    pub limit: u32,
}

/// One page of runs, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    /// The id of the last run returned when more runs match (pass it as `before` for the
    /// next page); `None` on the last page.
    pub next_before: Option<i64>,
}

impl Store {
    /// The newest runs matching `query`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a limit of 0 or above [`MAX_PAGE`]; [`StoreError::Sql`]
    /// if SQLite fails or a stored row does not convert.
    pub fn run_page(&self, query: &RunQuery) -> Result<RunPage, StoreError> {
        if query.limit == 0 || query.limit > MAX_PAGE {
            return Err(StoreError::invalid(
                "limit",
                format!("must be 1 to {MAX_PAGE}, got {}", query.limit),
            ));
        }
        // One more than asked: whether it comes back says if there is a next page.
        let mut runs = self.select_runs(
            "listing a page of runs",
            query.job.as_deref(),
            query.status,
            query.since,
            query.before,
            i64::from(query.limit) + 1,
        )?;
        let more = runs.len() > query.limit as usize;
        runs.truncate(query.limit as usize);
        let next_before = if more {
            runs.last().map(|r| r.id)
        } else {
            None
        };
        Ok(RunPage { runs, next_before })
    }

    /// The runs with these ids that exist, in no particular order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn runs_by_id(&self, ids: &[i64]) -> Result<Vec<RunRecord>, StoreError> {
        ids.iter()
            .filter_map(|&id| self.run(id).transpose())
            .collect()
    }

    /// The newest runs matching every filter given, at most `limit` (-1: all), as one SQL
    /// text per filter combination (see the module's header). Shared by [`Store::runs`].
    pub(super) fn select_runs(
        &self,
        op: &'static str,
        job: Option<&str>,
        status: Option<RunStatus>,
        since: Option<DateTime<Utc>>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let mut clauses = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let mut push = |clause: &str, value: Value| {
            values.push(value);
            clauses.push(clause.replace('?', &format!("?{}", values.len())));
        };
        if let Some(job) = job {
            push("job = ?", Value::Text(job.to_owned()));
        }
        if let Some(status) = status {
            push("status = ?", Value::Text(status.as_str().to_owned()));
        }
        if let Some(since) = since {
            push("started_at >= ?", Value::Integer(to_ms(since)));
        }
        if let Some(before) = before {
            push("id < ?", Value::Integer(before));
        }
        values.push(Value::Integer(limit));
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs {filter} ORDER BY id DESC LIMIT ?{}",
            values.len()
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(op))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), run_from_row)
            .map_err(StoreError::sql(op))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(op))
    }
}
