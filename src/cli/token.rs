//! `slotcron token`: prints the HTTP API's token (`state_dir/api.token`, made by the
//! daemon on its first start), for `curl -H "Authorization: Bearer $(slotcron token)"` and
//! for pasting into the dashboard.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::context;

pub fn token(config: Option<&Path>) -> Result<ExitCode> {
    let settings = context::load_settings(config)?;
    let token = crate::http::token::read(&settings.state_dir).context(
        "reading the API token (the daemon makes it on its first start: is it running?)",
    )?;
    println!("{}", token.as_str());
    Ok(ExitCode::SUCCESS)
}
