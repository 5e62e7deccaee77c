//! Deciding, once at start, whether runs get kernel-enforced limits: builds the slot tree
//! when cgroup v2 is usable, else (in `auto` mode) says loudly that limits are off.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cgroup::probe::{Resolved, RootSetting};
use crate::cgroup::{self, CgroupFs, Hierarchy};
use crate::config::{CgroupRoot, EnforcementMode, Settings};

use super::limits::{global_limits, online_cpus, slot_limits};

/// Why runs are unconfined when the configuration says `enforcement: off`.
const OFF_REASON: &str = "enforcement is `off` in the configuration";

/// How this process will run jobs.
#[derive(Debug)]
pub enum Enforcer {
    /// Every run gets a cgroup below its slot in this tree.
    Cgroup(Hierarchy),
    /// Runs are not confined; `reason` says why (for the warning and `slotcron slots`).
    Unconfined { reason: String },
}

/// `enforcement: required` could not be met, or the tree could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cgroup enforcement is required but unavailable: {reason}")]
pub struct EnforcementError {
    pub reason: String,
}

/// Where the cgroup facts come from; the real kernel by default, a fake in tests.
pub struct CgroupEnv {
    pub fs: Arc<dyn CgroupFs>,
    /// `/proc/self/mountinfo` and `/proc/self/cgroup` contents.
    pub mountinfo: String,
    pub self_cgroup: String,
    /// Whether a cgroup directory is delegated to us (systemd's `trusted.delegate` xattr).
    pub is_delegated: Box<dyn Fn(&std::path::Path) -> bool + Send + Sync>,
}

impl CgroupEnv {
    /// The running kernel, read from `/proc/self`.
    pub fn kernel() -> CgroupEnv {
        let (mountinfo, self_cgroup) = cgroup::probe::read_probe_input().unwrap_or_default();
        CgroupEnv {
            fs: Arc::new(cgroup::KernelFs),
            mountinfo,
            self_cgroup,
            is_delegated: Box::new(cgroup::probe::delegated_xattr),
        }
    }
}

impl Enforcer {
    /// How runs are confined, for `slotcron status` and `GET /api/v1/slots`:
    /// `cgroup at <root>` or `none: <reason>`.
    pub fn describe(&self) -> String {
        match self {
            Enforcer::Cgroup(tree) => format!("cgroup at {}", tree.root().display()),
            Enforcer::Unconfined { reason } => format!("none: {reason}"),
        }
    }

    /// Probes (read-only), then builds the tree when usable.
    ///
    /// # Errors
    /// With `enforcement: required`, any reason cgroups cannot be used, with how to fix it.
    pub fn setup(settings: &Settings, env: &CgroupEnv) -> Result<Enforcer, EnforcementError> {
        if settings.enforcement == EnforcementMode::Off {
            return Ok(Enforcer::Unconfined {
                reason: OFF_REASON.into(),
            });
        }
        match Self::build(settings, env) {
            Ok(hierarchy) => Ok(Enforcer::Cgroup(hierarchy)),
            Err(reason) if settings.enforcement == EnforcementMode::Required => {
                Err(EnforcementError { reason })
            }
            Err(reason) => {
                tracing::warn!(
                    %reason,
                    "cgroup v2 enforcement unavailable: jobs run WITHOUT memory, CPU or process limits \
                     (set `enforcement: required` to refuse instead)"
                );
                Ok(Enforcer::Unconfined { reason })
            }
        }
    }

    fn build(settings: &Settings, env: &CgroupEnv) -> Result<Hierarchy, String> {
        let resolved = resolve(settings, env)?;
        let cpus = online_cpus();
        let slots: Vec<(String, cgroup::Limits)> = settings
            .slots
            .values()
            .map(|slot| (slot.name.clone(), slot_limits(slot, cpus)))
            .collect();
        Hierarchy::prepare(
            env.fs.clone(),
            &resolved.root,
            resolved.move_self,
            &global_limits(settings),
            &slots,
        )
        .map_err(|e| e.to_string())
    }

    /// Where the tree would be built, without writing anything: for `check` and `slots`.
    ///
    /// # Errors
    /// Why cgroups are unusable, with how to fix it.
    pub fn probe(settings: &Settings, env: &CgroupEnv) -> Result<PathBuf, String> {
        if settings.enforcement == EnforcementMode::Off {
            return Err(OFF_REASON.into());
        }
        resolve(settings, env).map(|resolved| resolved.root)
    }
}

/// The read-only probe: where the tree goes, and whether slotcron must first move itself
/// out of the root.
fn resolve(settings: &Settings, env: &CgroupEnv) -> Result<Resolved, String> {
    let setting = match &settings.cgroup_root {
        CgroupRoot::Auto => RootSetting::Auto,
        CgroupRoot::Path(p) => RootSetting::Path(p.clone()),
    };
    let input = cgroup::probe::ProbeInput {
        mountinfo: &env.mountinfo,
        self_cgroup: &env.self_cgroup,
    };
    cgroup::probe::resolve(env.fs.as_ref(), &setting, &input, &*env.is_delegated)
        .map_err(|e| e.to_string())
}
