//! Starting a job's process: clean environment, `/dev/null` stdin, output into a pipe, and,
//! between fork and exec, entering the run's cgroup, a new session, and the job's user.
//!
//! The cgroup is entered in `pre_exec` by writing `0` to a `cgroup.procs` fd opened by the
//! parent, so the child is never moved after it started: nothing it allocates or forks is
//! charged anywhere else (see `docs/adr/0003-entering-the-cgroup-before-exec.md`). The
//! child also gets back the descriptor limit the daemon started with (ADR 0021).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::unistd::{Gid, Group, Uid, User};

use crate::config::Job;

/// `PATH` of a job's environment, as cron gives it (plus `/usr/local`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Who the job runs as, resolved in the parent (lookups allocate, so never after fork).
#[derive(Debug, Clone)]
pub struct Identity {
    pub uid: Uid,
    pub gid: Gid,
    /// Supplementary groups (`getgrouplist`).
    pub groups: Vec<Gid>,
    pub name: String,
    pub home: PathBuf,
    pub shell: PathBuf,
}

/// Why a job's identity could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("user `{0}` does not exist")]
    NoUser(String),
    #[error("group `{0}` does not exist")]
    NoGroup(String),
    #[error(
        "cannot run as user `{user}`: slotcron runs as uid {uid}, and only root can switch users"
    )]
    NotRoot { user: String, uid: u32 },
    #[error("looking up `{name}`: {source}")]
    Lookup { name: String, source: nix::Error },
}

impl Identity {
    /// Resolves `user`/`group` of a job; `None` when the job runs as slotcron's own user.
    ///
    /// # Errors
    /// The user or group does not exist, or slotcron is not root but another user is asked for.
    pub fn resolve(
        user: Option<&str>,
        group: Option<&str>,
    ) -> Result<Option<Identity>, IdentityError> {
        if user.is_none() && group.is_none() {
            return Ok(None);
        }
        let me = Uid::current();
        let account = match user {
            Some(name) => User::from_name(name)
                .map_err(|source| IdentityError::Lookup {
                    name: name.into(),
                    source,
                })?
                .ok_or_else(|| IdentityError::NoUser(name.into()))?,
            None => User::from_uid(me)
                .map_err(|source| IdentityError::Lookup {
                    name: me.to_string(),
                    source,
                })?
                .ok_or_else(|| IdentityError::NoUser(me.to_string()))?,
        };
        let gid = match group {
            Some(name) => {
                Group::from_name(name)
                    .map_err(|source| IdentityError::Lookup {
                        name: name.into(),
                        source,
                    })?
                    .ok_or_else(|| IdentityError::NoGroup(name.into()))?
                    .gid
            }
            None => account.gid,
        };
        if !me.is_root() && (account.uid != me || gid != nix::unistd::getgid()) {
            return Err(IdentityError::NotRoot {
                user: account.name,
                uid: me.as_raw(),
            });
        }
        let cname = CString::new(account.name.clone())
            .map_err(|_| IdentityError::NoUser(account.name.clone()))?;
        let groups = if me.is_root() {
            nix::unistd::getgrouplist(&cname, gid).map_err(|source| IdentityError::Lookup {
                name: account.name.clone(),
                source,
            })?
        } else {
            Vec::new()
        };
        Ok(Some(Identity {
            uid: account.uid,
            gid,
            groups,
            name: account.name,
            home: account.dir,
            shell: account.shell,
        }))
    }
}

/// Everything needed to start one run's process.
pub struct Launch<'a> {
    pub job: &'a Job,
    pub run_id: i64,
    /// The run's `cgroup.procs`, opened by the parent; `None` without enforcement.
    pub cgroup_procs: Option<&'a OwnedFd>,
    pub identity: Option<&'a Identity>,
    /// Write end of the output pipe, for stdout and stderr.
    pub output: &'a OwnedFd,
}

/// Starts the process. It leads a new session (so it and its children can be signalled as
/// a group, and a terminal's Ctrl-C does not reach it directly).
///
/// # Errors
/// The program cannot be executed (not found: `NotFound`; not executable:
/// `PermissionDenied`), or entering the cgroup or switching user fails in the child.
pub fn spawn(launch: &Launch<'_>) -> io::Result<std::process::Child> {
    let job = launch.job;
    let argv = job.command.argv();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::from(launch.output.try_clone()?))
        .stderr(Stdio::from(launch.output.try_clone()?));
    for (key, value) in environment(job, launch.run_id, launch.identity) {
        cmd.env(key, value);
    }
    cmd.current_dir(working_dir(job));

    let procs_fd = launch.cgroup_procs.map(AsRawFd::as_raw_fd);
    let ids = launch.identity.map(|id| {
        (
            id.uid.as_raw(),
            id.gid.as_raw(),
            id.groups.iter().map(|g| g.as_raw()).collect::<Vec<_>>(),
        )
    });
    // The descriptor limit the daemon was started with, not the one it raised itself to.
    let nofile = crate::descriptors::for_children();
    // SAFETY: between fork and exec only async-signal-safe calls are made: write(2),
    // setsid(2), setrlimit(2), setgroups(2), setgid(2), setuid(2), signal(2). Nothing
    // allocates or takes a lock; the group list was built in the parent.
    unsafe {
        cmd.pre_exec(move || {
            // The daemon ignores SIGXFSZ (`cli::daemon`); an ignored signal stays ignored
            // across exec, and jobs expect the default.
            libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
            if let Some(limit) = nofile {
                crate::descriptors::restore_in_child(limit)?;
            }
            if let Some(fd) = procs_fd
                && libc::write(fd, b"0".as_ptr().cast(), 1) != 1
            {
                return Err(io::Error::last_os_error());
            }
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if let Some((uid, gid, groups)) = &ids {
                if libc::getuid() == 0 && libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::setgid(*gid) != 0 || libc::setuid(*uid) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// The job's environment: what cron gives (`PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`),
/// `LANG` if slotcron has one, `SLOTCRON_JOB` and `SLOTCRON_RUN_ID`, then the job's `env`,
/// which wins. Nothing else of slotcron's environment leaks into jobs.
pub fn environment(job: &Job, run_id: i64, identity: Option<&Identity>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![("PATH".into(), DEFAULT_PATH.into())];
    let (name, home, shell) = match identity {
        Some(id) => (
            Some(id.name.clone()),
            Some(id.home.clone()),
            Some(id.shell.clone()),
        ),
        None => {
            let me = User::from_uid(Uid::current()).ok().flatten();
            (
                me.as_ref().map(|u| u.name.clone()),
                me.as_ref().map(|u| u.dir.clone()),
                None,
            )
        }
    };
    if let Some(name) = name {
        env.push(("USER".into(), name.clone()));
        env.push(("LOGNAME".into(), name));
    }
    if let Some(home) = home {
        env.push(("HOME".into(), home.display().to_string()));
    }
    let shell = shell
        .filter(|s| !s.as_os_str().is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    env.push(("SHELL".into(), shell.display().to_string()));
    if let Ok(lang) = std::env::var("LANG") {
        env.push(("LANG".into(), lang));
    }
    if let Some(tz) = &job.timezone {
        env.push(("TZ".into(), tz.name().to_owned()));
    }
    env.push(("SLOTCRON_JOB".into(), job.name.clone()));
    env.push(("SLOTCRON_RUN_ID".into(), run_id.to_string()));
    for (key, value) in &job.env {
        env.retain(|(k, _)| k != key);
        env.push((key.clone(), value.clone()));
    }
    env
}

/// `working_dir`, or else the folder of the job's file, so relative paths in a command
/// resolve the same way whoever starts the run.
pub fn working_dir(job: &Job) -> PathBuf {
    job.working_dir
        .clone()
        .or_else(|| job.file.parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}
