//! Query and path parameters, validated: every handler gets typed values or an
//! [`ApiError`] that names the parameter and the value. A value that does not parse is a
//! 400 (`limit=abc`, `since=yesterday`); one that parses but is out of range is a 422
//! (`limit=0`, `status=bogus`). Parsing takes strings, so the tests feed strings.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::error::ApiError;
use crate::model::RunStatus;
use crate::store::{AlertState, MAX_PAGE};

/// A page's size unless `limit=` says otherwise.
pub const DEFAULT_LIMIT: u32 = 50;
/// A log tail's size unless `bytes=` says otherwise.
pub const DEFAULT_LOG_BYTES: u64 = 64 * 1024;
/// The largest log tail served.
pub const MAX_LOG_BYTES: u64 = 1024 * 1024;

/// The query string as `name -> value` (the last one wins when repeated).
pub type QueryMap = HashMap<String, String>;

/// An integer, or 400 naming `name`.
fn integer<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad_request(format!("`{name}` must be a whole number, got `{text}`"))
    })
}

/// `name`: a whole number from 1 to `max`, `default` when absent.
fn bounded(query: &QueryMap, name: &str, default: u64, max: u64) -> Result<u64, ApiError> {
    let Some(text) = query.get(name) else {
        return Ok(default);
    };
    let n: i64 = integer(name, text)?;
    if (1..=max as i64).contains(&n) {
        Ok(n as u64)
    } else {
        Err(ApiError::invalid(format!(
            "`{name}` must be 1 to {max}, got {n}"
        )))
    }
}

/// `limit`: 1 to [`MAX_PAGE`], default [`DEFAULT_LIMIT`].
pub fn limit(query: &QueryMap) -> Result<u32, ApiError> {
    // At most MAX_PAGE (a u32), so the cast keeps the value.
    bounded(query, "limit", DEFAULT_LIMIT.into(), MAX_PAGE.into()).map(|n| n as u32)
}

/// `before`: a run id.
pub fn before(query: &QueryMap) -> Result<Option<i64>, ApiError> {
    query
        .get("before")
        .map(|t| integer("before", t))
        .transpose()
}

/// `since`: an RFC 3339 time.
pub fn since(query: &QueryMap) -> Result<Option<DateTime<Utc>>, ApiError> {
    time(query, "since")
}

/// `from` (of `GET /plan`): an RFC 3339 time.
pub fn from(query: &QueryMap) -> Result<Option<DateTime<Utc>>, ApiError> {
    time(query, "from")
}

/// `name`: an RFC 3339 time, or 400 naming it.
fn time(query: &QueryMap, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    query
        .get(name)
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "`{name}` must be an RFC 3339 time such as 2026-01-31T12:00:00Z, got `{text}` ({e})"
                    ))
                })
        })
        .transpose()
}

/// `hours` (of `GET /plan`): 1 to [`MAX_HOURS`](crate::plan::MAX_HOURS), default
/// [`DEFAULT_HOURS`](crate::plan::DEFAULT_HOURS).
pub fn hours(query: &QueryMap) -> Result<u32, ApiError> {
    let (default, max) = (crate::plan::DEFAULT_HOURS, crate::plan::MAX_HOURS);
    // At most MAX_HOURS (a u32), so the cast keeps the value.
    bounded(query, "hours", default.into(), max.into()).map(|n| n as u32)
}

/// `status`: a run status word.
pub fn status(query: &QueryMap) -> Result<Option<RunStatus>, ApiError> {
    query
        .get("status")
        .map(|text| {
            text.parse().map_err(|_| {
                let words: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::invalid(format!(
                    "`status` must be one of {}, got `{text}`",
                    words.join(", ")
                ))
            })
        })
        .transpose()
}

/// Which alerts `GET /alerts` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFilter {
    /// Not resolved (acknowledged ones included), as `slotcron alerts` lists them.
    Open,
    /// Exactly this state.
    Only(AlertState),
    All,
}

/// `state`: `open` (default), `acknowledged`, `resolved` or `all`.
pub fn alert_state(query: &QueryMap) -> Result<AlertFilter, ApiError> {
    match query.get("state").map(String::as_str) {
        None | Some("open") => Ok(AlertFilter::Open),
        Some("acknowledged") => Ok(AlertFilter::Only(AlertState::Acknowledged)),
        Some("resolved") => Ok(AlertFilter::Only(AlertState::Resolved)),
        Some("all") => Ok(AlertFilter::All),
        Some(other) => Err(ApiError::invalid(format!(
            "`state` must be open, acknowledged, resolved or all, got `{other}`"
        ))),
    }
}

/// `bytes`: 1 to [`MAX_LOG_BYTES`], default [`DEFAULT_LOG_BYTES`].
pub fn log_bytes(query: &QueryMap) -> Result<u64, ApiError> {
    bounded(query, "bytes", DEFAULT_LOG_BYTES, MAX_LOG_BYTES)
}

/// `reveal_env`: `true` or `false` (default).
pub fn reveal_env(query: &QueryMap) -> Result<bool, ApiError> {
    flag(query, "reveal_env")
}

/// `name`: `true` or `false` (default), or 400 naming it.
pub fn flag(query: &QueryMap, name: &str) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{name}` must be true or false, got `{other}`"
        ))),
    }
}

/// A path's id (`/runs/{id}`, `/alerts/{id}`).
pub fn id(name: &str, text: &str) -> Result<i64, ApiError> {
    integer(name, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn q(pairs: &[(&str, &str)]) -> QueryMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn limits_default_parse_and_are_bounded() {
        assert_eq!(limit(&q(&[])).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(&q(&[("limit", "500")])).unwrap(), 500);
        let err = limit(&q(&[("limit", "abc")])).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("`abc`"), "{}", err.message);
        for bad in ["0", "501", "-3", "100000"] {
            let err = limit(&q(&[("limit", bad)])).unwrap_err();
            assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
    }

    #[test]
    fn since_status_and_state_are_checked() {
        let t = since(&q(&[("since", "2026-01-31T12:00:00+01:00")])).unwrap();
        assert_eq!(t.unwrap().to_rfc3339(), "2026-01-31T11:00:00+00:00");
        let err = since(&q(&[("since", "yesterday")])).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            status(&q(&[("status", "oom_killed")])).unwrap(),
            Some(RunStatus::OomKilled)
        );
        let err = status(&q(&[("status", "bogus")])).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.message.contains("oom_killed"), "{}", err.message);
        assert_eq!(alert_state(&q(&[])).unwrap(), AlertFilter::Open);
        assert_eq!(
            alert_state(&q(&[("state", "resolved")])).unwrap(),
            AlertFilter::Only(AlertState::Resolved)
        );
        assert_eq!(
            alert_state(&q(&[("state", "closed")])).unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(log_bytes(&q(&[])).unwrap(), DEFAULT_LOG_BYTES);
        assert_eq!(
            log_bytes(&q(&[("bytes", "2000000")])).unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(id("id", "x1").unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn the_plans_hours_from_and_flags_are_checked() {
        assert_eq!(hours(&q(&[])).unwrap(), 24);
        assert_eq!(hours(&q(&[("hours", "168")])).unwrap(), 168);
        assert_eq!(
            hours(&q(&[("hours", "169")])).unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let err = from(&q(&[("from", "tonight")])).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.starts_with("`from` must be"), "{}", err.message);
        assert!(flag(&q(&[("pessimistic", "true")]), "pessimistic").unwrap());
        let err = flag(&q(&[("catch_up", "yes")]), "catch_up").unwrap_err();
        assert_eq!(err.message, "`catch_up` must be true or false, got `yes`");
    }
}
