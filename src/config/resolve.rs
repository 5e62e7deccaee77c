//! The one step of loading a job that asks the system (ADR 0039): whether its `user:` and
//! `group:` exist, and which block device each `io.max` entry names. Parsing before it is
//! pure ([`ParsedJob`]); this step takes the system as an argument ([`System`]), so tests
//! pass a fixed one, and its problems name the file, field and value as parsing's do.

use super::fields::Fields;
use super::io::{self, BlockDevices, SystemDevices};
use super::job::Job;
use super::job_parse::ParsedJob;
use super::problem::Problem;

/// The accounts of a machine, as resolution asks about them.
pub trait Accounts {
    /// Whether a user of this name exists.
    fn has_user(&self, name: &str) -> bool;

    /// Whether a group of this name exists.
    fn has_group(&self, name: &str) -> bool;
}

/// This machine's accounts, asked through NSS (`getpwnam_r`, `getgrnam_r`), so users from
/// LDAP or systemd-userdb count as they do for the run that switches to them. A lookup that
/// fails counts as no such account.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemAccounts;

impl Accounts for SystemAccounts {
    fn has_user(&self, name: &str) -> bool {
        matches!(nix::unistd::User::from_name(name), Ok(Some(_)))
    }

    fn has_group(&self, name: &str) -> bool {
        matches!(nix::unistd::Group::from_name(name), Ok(Some(_)))
    }
}

/// A fixed set of accounts, for tests: only the names listed exist.
#[derive(Debug, Clone, Default)]
pub struct FixedAccounts {
    /// The users that exist; every other name is unknown.
    pub users: Vec<String>,
    /// The groups that exist; every other name is unknown.
    pub groups: Vec<String>,
}

impl Accounts for FixedAccounts {
    fn has_user(&self, name: &str) -> bool {
        self.users.iter().any(|u| u == name)
    }

    fn has_group(&self, name: &str) -> bool {
        self.groups.iter().any(|g| g == name)
    }
}

/// Everything resolution asks of the system.
#[derive(Clone, Copy)]
pub struct System<'a> {
    /// Who `user:` and `group:` may name.
    pub accounts: &'a dyn Accounts,
    /// Which block devices `io.max` may name (a job's and a slot's).
    pub devices: &'a dyn BlockDevices,
}

impl System<'static> {
    /// This machine: NSS for accounts, `/dev` and `/sys/dev/block` for devices.
    pub const THIS_MACHINE: System<'static> = System {
        accounts: &SystemAccounts,
        devices: &SystemDevices,
    };
}

impl ParsedJob {
    /// Looks up the job's user, group and io devices on `system` and, when the text and
    /// the lookups are both clean, gives the job.
    ///
    /// # Errors
    /// The text's problems, then the lookups' (`field `user`: no such user on this
    /// machine`, a device that is not a block device), each naming the file.
    pub fn resolve(self, system: System<'_>) -> Result<Job, Vec<Problem>> {
        let ParsedJob { file, job, lookups } = self;
        let mut f = Fields::new(&file);
        if let Some(user) = &lookups.user {
            known(&mut f, "user", user, system.accounts.has_user(user));
        }
        if let Some(group) = &lookups.group {
            known(&mut f, "group", group, system.accounts.has_group(group));
        }
        let io = lookups
            .io
            .and_then(|spec| io::resolve(&mut f, "io", spec, system.devices));
        match job {
            Ok(mut job) if f.problems.is_empty() => {
                job.io = io;
                Ok(job)
            }
            Ok(_) => Err(f.problems),
            Err(mut problems) => {
                problems.extend(f.problems);
                Err(problems)
            }
        }
    }
}

/// A problem unless the system `has` the `user` or `group` (`field`) called `name`.
fn known(f: &mut Fields<'_>, field: &str, name: &str, has: bool) {
    if !has {
        f.problem(field, name, format!("no such {field} on this machine"));
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
