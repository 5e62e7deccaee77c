//! `slotcron check`: every problem in the configuration and the job files, or a one-line
//! summary.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cgroup::probe::Resolved;
use crate::config::{self, EnforcementMode};
use crate::runner::{CgroupEnv, Enforcer, ProbeError, not_delegated};

pub fn check(config_path: Option<&Path>) -> Result<ExitCode> {
    let loaded = match config::load(config_path) {
        Ok(loaded) => loaded,
        Err(problems) => {
            for problem in &problems.0 {
                println!("{problem}");
            }
            println!("{} problem(s) in the configuration", problems.0.len());
            return Ok(ExitCode::FAILURE);
        }
    };
    let settings = &loaded.settings;
    let mut problems: Vec<String> = loaded
        .catalog
        .problems
        .iter()
        .map(ToString::to_string)
        .collect();
    let verdict = enforcement(
        settings.enforcement,
        Enforcer::probe(settings, &CgroupEnv::kernel()),
    );
    problems.extend(verdict.problem);
    for problem in &problems {
        println!("{problem}");
    }
    if let Some(note) = &verdict.note {
        println!("note: {note}");
    }
    let jobs = loaded.catalog.jobs.len();
    if problems.is_empty() {
        println!(
            "ok: {jobs} job(s) in {}, {} slot(s), config: {}, enforcement: {}",
            settings.jobs_dir.display(),
            settings.slots.len(),
            config::describe_source(settings),
            verdict.text,
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} problem(s); {jobs} job(s) loaded", problems.len());
        Ok(ExitCode::FAILURE)
    }
}

/// What `check` says about enforcement.
#[derive(Debug, PartialEq)]
struct Verdict {
    /// The summary line's `enforcement:` value.
    text: String,
    /// A problem of the configuration or the machine (exit 1).
    problem: Option<String>,
    /// Something about where `check` itself runs, for information (exit unaffected).
    note: Option<String>,
}

/// Judges the probe's answer under `mode`. A shell that is not delegated is where `check`
/// runs, not what the daemon will get under systemd with `Delegate=yes`: a note, never a
/// problem (docs/install.md). No cgroup2, a hybrid host or missing controllers stay
/// problems under `required`: the service would meet them too.
fn enforcement(mode: EnforcementMode, probe: Result<Resolved, ProbeError>) -> Verdict {
    let verdict = |text: String, problem: Option<String>, note: Option<String>| Verdict {
        text,
        problem,
        note,
    };
    match probe {
        Ok(resolved) => verdict(
            format!(
                "cgroup v2 at {}{}",
                resolved.root.display(),
                not_delegated(&resolved.missing_optional)
            ),
            None,
            None,
        ),
        Err(reason) if reason.is_where_it_runs() => verdict(
            match mode {
                EnforcementMode::Required => {
                    "required (from the delegated cgroup the daemon runs in)".into()
                }
                _ => "auto (limits where the daemon runs in a delegated cgroup, none elsewhere)"
                    .into(),
            },
            None,
            Some(format!(
                "this shell cannot enforce limits itself: {reason}. The daemon under \
                 systemd (Delegate=yes) gets its own delegated cgroup; `slotcron run` from \
                 this shell would {}.",
                if mode == EnforcementMode::Required {
                    "refuse"
                } else {
                    "run jobs without limits"
                }
            )),
        ),
        Err(reason) if mode == EnforcementMode::Required => verdict(
            "unavailable".into(),
            Some(format!(
                "enforcement is `required` but cgroup v2 is unusable: {reason}"
            )),
            None,
        ),
        Err(ProbeError::Off) => verdict("off".into(), None, None),
        Err(reason) => verdict(
            format!("none (jobs would run without limits: {reason})"),
            None,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::probe::Unusable;

    fn undelegated() -> Result<Resolved, ProbeError> {
        Err(ProbeError::Unusable(Unusable::NotDelegated {
            path: "/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope".into(),
        }))
    }

    #[test]
    fn an_undelegated_shell_is_a_note_about_where_check_runs_not_a_problem() {
        let v = enforcement(EnforcementMode::Required, undelegated());
        assert_eq!(v.problem, None);
        let note = v.note.expect("a note");
        assert!(note.starts_with("this shell cannot enforce limits itself: slotcron's own cgroup /sys/fs/cgroup/user.slice/user-0.slice/session-1.scope is not delegated"), "{note}");
        assert!(
            note.ends_with("`slotcron run` from this shell would refuse."),
            "{note}"
        );
        assert_eq!(
            v.text,
            "required (from the delegated cgroup the daemon runs in)"
        );
        let auto = enforcement(EnforcementMode::Auto, undelegated());
        assert_eq!(auto.problem, None);
        assert!(
            auto.note
                .unwrap()
                .ends_with("would run jobs without limits.")
        );
    }

    #[test]
    fn a_machine_without_usable_cgroup_v2_stays_a_problem_when_required() {
        let v = enforcement(
            EnforcementMode::Required,
            Err(ProbeError::Unusable(Unusable::NoCgroup2)),
        );
        assert_eq!(v.text, "unavailable");
        assert!(v.problem.unwrap().starts_with(
            "enforcement is `required` but cgroup v2 is unusable: no cgroup2 filesystem is mounted"
        ));
        assert_eq!(v.note, None);
        let off = enforcement(EnforcementMode::Off, Err(ProbeError::Off));
        assert_eq!(
            (off.text.as_str(), off.problem, off.note),
            ("off", None, None)
        );
        let resolved = |missing_optional| Resolved {
            root: "/sys/fs/cgroup/x".into(),
            move_self: false,
            missing_optional,
        };
        let ok = enforcement(EnforcementMode::Required, Ok(resolved(vec![])));
        assert_eq!(ok.text, "cgroup v2 at /sys/fs/cgroup/x");
        let no_io = enforcement(EnforcementMode::Required, Ok(resolved(vec!["io"])));
        assert_eq!(
            no_io.text,
            "cgroup v2 at /sys/fs/cgroup/x; io not delegated (io limits not enforced, no io figures)"
        );
    }
}
