//! What the history keeps of old runs.

use serde::{Deserialize, Serialize};

/// What becomes of runs past the retention (`retention_mode` in `slotcron.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionMode {
    /// Deleted: the database stays bounded.
    Delete,
    /// Moved to `runs_archive`: the live tables stay bounded, the file does not.
    Archive,
}
