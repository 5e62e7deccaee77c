//! Deciding, once at start, whether runs get kernel-enforced limits: builds the slot tree
//! when cgroup v2 is usable, else (in `auto` mode) says loudly that limits are off.

use std::sync::Arc;

use crate::cgroup::probe::{Resolved, RootSetting, Unusable};
use crate::cgroup::{self, CgroupFs, Hierarchy};
use crate::config::{CgroupRoot, EnforcementMode, Settings};

use super::limits::{global_limits, online_cpus, slot_limits};

/// Why runs are unconfined when the configuration says `enforcement: off`.
const OFF_REASON: &str = "enforcement is `off` in the configuration";

/// Why [`Enforcer::probe`] found no root to build the tree in.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// `enforcement: off`.
    #[error("{OFF_REASON}")]
    Off,
    /// cgroup v2 cannot be used from here, with how to fix it.
    #[error(transparent)]
    Unusable(#[from] Unusable),
}

impl ProbeError {
    /// Whether the reason is where this process runs rather than the machine or the
    /// configuration: with `cgroup.root: auto` an admin's shell is not delegated, and the
    /// daemon under systemd with `Delegate=yes` will be.
    pub fn is_where_it_runs(&self) -> bool {
        matches!(self, ProbeError::Unusable(Unusable::NotDelegated { .. }))
    }
}

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

    /// The running kernel, taking the cgroup this process starts in as delegated without
    /// looking for systemd's mark: `slotcron daemon --delegated`, for the user unit.
    /// systemd's user manager (252 and later alike) delegates with `Delegate=yes` but sets
    /// no `trusted.delegate` or `user.delegate` xattr, so the unit says it instead.
    pub fn kernel_delegated() -> CgroupEnv {
        CgroupEnv {
            is_delegated: Box::new(|_| true),
            ..CgroupEnv::kernel()
        }
    }
}

impl Enforcer {
    /// How runs are confined, for `slotcron status` and `GET /api/v1/slots`:
    /// `cgroup at <root>` (and which optional controllers are not delegated) or
    /// `none: <reason>`.
    pub fn describe(&self) -> String {
        match self {
            Enforcer::Cgroup(tree) => format!(
                "cgroup at {}{}",
                tree.root().display(),
                not_delegated(&tree.missing_optional())
            ),
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
        let resolved = resolve(settings, env).map_err(|e| e.to_string())?;
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

    /// Where the tree would be built, and which optional controllers it would lack,
    /// without writing anything: for `check` and `slots`.
    ///
    /// # Errors
    /// Why cgroups are unusable, with how to fix it.
    pub fn probe(settings: &Settings, env: &CgroupEnv) -> Result<Resolved, ProbeError> {
        if settings.enforcement == EnforcementMode::Off {
            return Err(ProbeError::Off);
        }
        Ok(resolve(settings, env)?)
    }
}

/// What `status` and `check` add when optional controllers are not delegated: empty, or
/// `; io not delegated (io limits not enforced, no io figures)`.
pub fn not_delegated(missing: &[&str]) -> String {
    if missing.is_empty() {
        return String::new();
    }
    let names = missing.join(" ");
    format!("; {names} not delegated ({names} limits not enforced, no {names} figures)")
}

/// The read-only probe: where the tree goes, and whether slotcron must first move itself
/// out of the root.
fn resolve(settings: &Settings, env: &CgroupEnv) -> Result<Resolved, Unusable> {
    let setting = match &settings.cgroup_root {
        CgroupRoot::Auto => RootSetting::Auto,
        CgroupRoot::Path(p) => RootSetting::Path(p.clone()),
    };
    let input = cgroup::probe::ProbeInput {
        mountinfo: &env.mountinfo,
        self_cgroup: &env.self_cgroup,
    };
    cgroup::probe::resolve(env.fs.as_ref(), &setting, &input, &*env.is_delegated)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cgroup::fake::FakeFs;

    fn described(delegated: &[&str]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let fake =
            Arc::new(FakeFs::new_root(dir.path(), &["cpu", "io", "memory", "pids"]).unwrap());
        let root = fake.add_delegated("slotcron.service", delegated).unwrap();
        let tree = Hierarchy::prepare(fake, &root, false, &Default::default(), &[]).unwrap();
        Enforcer::Cgroup(tree).describe()
    }

    #[test]
    fn status_says_when_io_is_not_delegated() {
        let without = described(&["cpu", "memory", "pids"]);
        assert!(
            without.ends_with("; io not delegated (io limits not enforced, no io figures)"),
            "{without}"
        );
        let with = described(&["cpu", "io", "memory", "pids"]);
        assert!(
            with.starts_with("cgroup at ") && !with.contains("not delegated"),
            "{with}"
        );
    }
}
