//! A cgroup slotcron has just created holds the kernel's defaults in every limit knob, so
//! applying a run's limits to it need not write a default again nor read a limit back
//! (issue 15: each knob operation is a trip through the cgroup file system, about 1 ms in
//! the test VM). [`Fresh`] stands in front of the real [`CgroupFs`] while a new run's
//! limits are applied: a write of a knob's fresh value is skipped, a read of a limit knob
//! answers its fresh value; everything else goes through. The fresh values are the ones
//! each controller states for its knobs ([`Controller::knob_files`]), the same table the
//! fake kernel lays out.

use std::io;
use std::path::{Path, PathBuf};

use super::controller::{Controller, KnobFile};
use super::fs::CgroupFs;

/// `inner`, for the limits of the cgroup `dir` that was created a moment ago with
/// `controllers` enabled by its parent.
#[derive(Debug)]
pub struct Fresh<'a> {
    pub inner: &'a dyn CgroupFs,
    pub dir: &'a Path,
    pub controllers: &'a [&'static dyn Controller],
}

impl Fresh<'_> {
    /// The writable knob at `path` in the fresh cgroup, if it is one of its controllers'.
    fn limit_knob(&self, path: &Path) -> Option<KnobFile> {
        if path.parent() != Some(self.dir) {
            return None;
        }
        let name = path.file_name()?.to_str()?;
        self.controllers
            .iter()
            .flat_map(|c| c.knob_files())
            .find(|k| k.writable && k.name == name)
            .copied()
    }
}

impl CgroupFs for Fresh<'_> {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.inner.create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_dir(path)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        match self.limit_knob(path) {
            Some(knob) => Ok(knob.default.to_owned()),
            None => self.inner.read(path),
        }
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        match self.limit_knob(path) {
            Some(knob) if knob.default.trim() == value.trim() => Ok(()),
            _ => self.inner.write(path, value),
        }
    }

    fn child_dirs(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        self.inner.child_dirs(path)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::cgroup::controller::ALL;

    /// Records every operation that reaches it; reads answer "kernel".
    #[derive(Debug, Default)]
    struct Recording(Mutex<Vec<String>>);

    impl CgroupFs for Recording {
        fn create_dir(&self, path: &Path) -> io::Result<()> {
            self.note(format!("mkdir {}", path.display()))
        }
        fn remove_dir(&self, path: &Path) -> io::Result<()> {
            self.note(format!("rmdir {}", path.display()))
        }
        fn read(&self, path: &Path) -> io::Result<String> {
            self.note(format!("read {}", path.display()))?;
            Ok("kernel".into())
        }
        fn write(&self, path: &Path, value: &str) -> io::Result<()> {
            self.note(format!("write {} {value}", path.display()))
        }
        fn child_dirs(&self, _: &Path) -> io::Result<Vec<PathBuf>> {
            Ok(Vec::new())
        }
    }

    impl Recording {
        fn note(&self, op: String) -> io::Result<()> {
            self.0.lock().unwrap().push(op);
            Ok(())
        }
    }

    #[test]
    fn defaults_are_not_written_and_limits_are_not_read_back() {
        let inner = Recording::default();
        let dir = Path::new("/cg/run-1");
        let fresh = Fresh {
            inner: &inner,
            dir,
            controllers: &ALL,
        };
        fresh.write(&dir.join("memory.high"), "max").unwrap();
        fresh.write(&dir.join("cpu.weight"), "100").unwrap();
        fresh.write(&dir.join("memory.max"), "67108864").unwrap();
        fresh.write(&dir.join("memory.oom.group"), "1").unwrap();
        assert_eq!(fresh.read(&dir.join("io.max")).unwrap(), "");
        assert_eq!(fresh.read(&dir.join("memory.peak")).unwrap(), "kernel");
        // Another cgroup's knob holds what it holds: written and read as asked.
        fresh.write(Path::new("/cg/memory.high"), "max").unwrap();
        assert_eq!(
            *inner.0.lock().unwrap(),
            [
                "write /cg/run-1/memory.max 67108864",
                "write /cg/run-1/memory.oom.group 1",
                "read /cg/run-1/memory.peak",
                "write /cg/memory.high max",
            ]
        );
    }

    #[test]
    fn a_controller_not_enabled_still_reaches_the_kernel() {
        let inner = Recording::default();
        let dir = Path::new("/cg/run-1");
        let memory_only: [&'static dyn Controller; 1] = [&crate::cgroup::memory::Memory];
        let fresh = Fresh {
            inner: &inner,
            dir,
            controllers: &memory_only,
        };
        fresh.write(&dir.join("cpu.weight"), "100").unwrap();
        assert_eq!(*inner.0.lock().unwrap(), ["write /cg/run-1/cpu.weight 100"]);
    }
}
