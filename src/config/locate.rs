//! Which `slotcron.yaml` a command reads, and where an unset `state_dir` goes.
//!
//! The order (`docs/adr/0029-debian-package-and-user-service.md`):
//! 1. `--config FILE` or `$SLOTCRON_CONFIG` (the file must exist);
//! 2. for a user other than root, `$XDG_CONFIG_HOME/slotcron/slotcron.yaml` (default
//!    `~/.config/slotcron/slotcron.yaml`) if it exists: the rootless user service's file,
//!    so that user's commands find their own daemon without `--config`;
//! 3. `/etc/slotcron/slotcron.yaml` if it exists: the system service's file;
//! 4. no file: the built-in defaults (`./jobs.d`, state in `./.slotcron`).
//!
//! Root skips step 2: an admin's `sudo slotcron ...` keeps meaning the system service even
//! when `sudo` kept the admin's `$HOME`.
//!
//! The user's file (found in step 2, or named explicitly, as the user unit does) keeps its
//! state in `$XDG_STATE_HOME/slotcron` (default `~/.local/state/slotcron`) unless it sets
//! `state_dir`. Lookup is split from the process's environment ([`UserDirs::from_env`]),
//! so the tests pass their own.

use std::path::{Path, PathBuf};

use super::settings::DEFAULT_CONFIG_PATH;

/// The folder under `$XDG_CONFIG_HOME` and `$XDG_STATE_HOME` that belongs to slotcron.
pub const APP_DIR: &str = "slotcron";
/// The configuration's file name, in `/etc/slotcron` and in the user's folder alike.
pub const CONFIG_FILE: &str = "slotcron.yaml";

/// The XDG folders of the user running the command; `None` for root, or when neither the
/// XDG variable nor `$HOME` says where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDirs {
    /// `$XDG_CONFIG_HOME/slotcron/slotcron.yaml`.
    pub config_file: PathBuf,
    /// `$XDG_STATE_HOME/slotcron`.
    pub state_dir: PathBuf,
}

impl UserDirs {
    /// The folders from `euid`, `$XDG_CONFIG_HOME`, `$XDG_STATE_HOME` and `$HOME` as `var`
    /// reports them. Relative XDG values are ignored, as the XDG specification says.
    pub fn from_vars(euid: u32, var: &dyn Fn(&str) -> Option<String>) -> Option<UserDirs> {
        if euid == 0 {
            return None;
        }
        let home = var("HOME").filter(|h| Path::new(h).is_absolute());
        let base = |name: &str, fallback: &str| -> Option<PathBuf> {
            var(name)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .or_else(|| home.as_ref().map(|h| Path::new(h).join(fallback)))
        };
        Some(UserDirs {
            config_file: base("XDG_CONFIG_HOME", ".config")?
                .join(APP_DIR)
                .join(CONFIG_FILE),
            state_dir: base("XDG_STATE_HOME", ".local/state")?.join(APP_DIR),
        })
    }

    /// The folders of this process's user.
    pub fn from_env() -> Option<UserDirs> {
        UserDirs::from_vars(nix::unistd::geteuid().as_raw(), &|name| {
            std::env::var(name).ok()
        })
    }
}

/// The file to read, and what its unset `state_dir` becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// Read this file; an unset `state_dir` is `<its folder>/.slotcron`, or `state_dir`
    /// when `Some` (the user's own file).
    File {
        path: PathBuf,
        state_dir: Option<PathBuf>,
    },
    /// No file: the built-in defaults.
    Builtin,
}

/// Decides which file to read (see the module documentation for the order).
pub fn locate(
    explicit: Option<&Path>,
    user: Option<&UserDirs>,
    exists: &dyn Fn(&Path) -> bool,
) -> Located {
    let user_state = |path: &Path| {
        user.filter(|u| u.config_file == path)
            .map(|u| u.state_dir.clone())
    };
    if let Some(path) = explicit {
        return Located::File {
            path: path.to_path_buf(),
            state_dir: user_state(path),
        };
    }
    if let Some(u) = user.filter(|u| exists(&u.config_file)) {
        return Located::File {
            path: u.config_file.clone(),
            state_dir: Some(u.state_dir.clone()),
        };
    }
    let system = Path::new(DEFAULT_CONFIG_PATH);
    if exists(system) {
        return Located::File {
            path: system.to_path_buf(),
            state_dir: None,
        };
    }
    Located::Builtin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn user_dirs_follow_xdg_then_home_and_root_has_none() {
        let home_only = UserDirs::from_vars(1000, &vars(&[("HOME", "/home/ann")])).unwrap();
        assert_eq!(
            home_only.config_file,
            Path::new("/home/ann/.config/slotcron/slotcron.yaml")
        );
        assert_eq!(
            home_only.state_dir,
            Path::new("/home/ann/.local/state/slotcron")
        );
        let xdg = UserDirs::from_vars(
            1000,
            &vars(&[
                ("HOME", "/home/ann"),
                ("XDG_CONFIG_HOME", "/cfg"),
                ("XDG_STATE_HOME", "/st"),
            ]),
        )
        .unwrap();
        assert_eq!(xdg.config_file, Path::new("/cfg/slotcron/slotcron.yaml"));
        assert_eq!(xdg.state_dir, Path::new("/st/slotcron"));
        let relative = UserDirs::from_vars(
            1000,
            &vars(&[("HOME", "/home/ann"), ("XDG_STATE_HOME", "rel")]),
        )
        .unwrap();
        assert_eq!(
            relative.state_dir,
            Path::new("/home/ann/.local/state/slotcron"),
            "a relative XDG value is ignored"
        );
        assert_eq!(UserDirs::from_vars(0, &vars(&[("HOME", "/root")])), None);
        assert_eq!(UserDirs::from_vars(1000, &vars(&[])), None);
    }

    #[test]
    fn lookup_order_is_explicit_user_system_builtin() {
        let user = UserDirs {
            config_file: PathBuf::from("/home/ann/.config/slotcron/slotcron.yaml"),
            state_dir: PathBuf::from("/home/ann/.local/state/slotcron"),
        };
        let all = |_: &Path| true;
        let system_only = |p: &Path| p == Path::new(DEFAULT_CONFIG_PATH);
        let none = |_: &Path| false;
        assert_eq!(
            locate(Some(Path::new("/x.yaml")), Some(&user), &all),
            Located::File {
                path: "/x.yaml".into(),
                state_dir: None
            }
        );
        let user_file = Located::File {
            path: user.config_file.clone(),
            state_dir: Some(user.state_dir.clone()),
        };
        assert_eq!(locate(None, Some(&user), &all), user_file);
        assert_eq!(
            locate(Some(&user.config_file), Some(&user), &none),
            user_file,
            "the user unit names the user's file: its state goes to XDG_STATE_HOME"
        );
        let system = Located::File {
            path: DEFAULT_CONFIG_PATH.into(),
            state_dir: None,
        };
        assert_eq!(locate(None, Some(&user), &system_only), system);
        assert_eq!(
            locate(None, None, &all),
            system,
            "root skips the user's file"
        );
        assert_eq!(locate(None, Some(&user), &none), Located::Builtin);
    }
}
