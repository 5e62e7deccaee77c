//! slotcron: a job runner for one Linux machine in which the kernel, through cgroup v2
//! execution slots, keeps background jobs from taking the machine away from its users.
//!
//! The crate is a library with a thin binary on top (`src/main.rs`). Each module owns one
//! concern:
//! - [`model`]: the small vocabulary shared by every other module (run status, enforcement).
//! - [`cgroup`]: cgroup v2 slots: the tree, run cgroups, limits, kill/wait/stats, probing.

pub mod cgroup;
pub mod model;
