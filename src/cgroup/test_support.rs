//! Shared fixtures for the cgroup module's unit tests: a fake hierarchy whose top plays
//! the cgroup2 mount and whose `slotcron.service` child plays the delegated root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::fake::FakeFs;
use super::fs::CgroupFs;

/// The controllers a 6.1 kernel offers at the top.
pub(crate) const KERNEL_CONTROLLERS: [&str; 8] = [
    "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc",
];

pub(crate) struct Fixture {
    /// Keeps the temp dir alive.
    pub _dir: tempfile::TempDir,
    pub fake: Arc<FakeFs>,
    /// `<top>/slotcron.service`, delegated with `cpu io memory pids`.
    pub root: PathBuf,
}

impl Fixture {
    pub(crate) fn fs(&self) -> Arc<dyn CgroupFs> {
        self.fake.clone()
    }

    /// A file's trimmed content.
    pub(crate) fn knob(&self, path: impl AsRef<Path>) -> String {
        self.fake
            .knob(path.as_ref())
            .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
    }
}

/// A fake with the root delegated `controllers`.
pub(crate) fn fixture_with(controllers: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Arc::new(
        FakeFs::new_root(&dir.path().join("cgroup2"), &KERNEL_CONTROLLERS).expect("fake root"),
    );
    let root = fake
        .add_delegated("slotcron.service", controllers)
        .expect("delegated cgroup");
    Fixture {
        _dir: dir,
        fake,
        root,
    }
}

/// A fake with the root delegated `cpu io memory pids`.
pub(crate) fn fixture() -> Fixture {
    fixture_with(&["cpu", "io", "memory", "pids"])
}

/// Every regular file directly in `dir` with its content (to prove nothing changed).
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let content = std::fs::read_to_string(&p).expect("read");
            (p, content)
        })
        .collect()
}

/// This process's pid as the kernel writes it in `cgroup.procs`.
pub(crate) fn my_pid() -> i32 {
    i32::try_from(std::process::id()).expect("pid fits i32")
}
