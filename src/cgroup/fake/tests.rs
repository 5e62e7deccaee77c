//! Tests that the fake behaves like the kernel: knob layout, subtree_control rules,
//! pid migration, rmdir rules, refusal outside its top.

use super::*;
use crate::cgroup::test_support::{KERNEL_CONTROLLERS, fixture, my_pid};

fn os_err(e: io::Error) -> Option<i32> {
    e.raw_os_error()
}

#[test]
fn create_dir_lays_out_knobs_of_the_parents_enabled_controllers() {
    let fx = fixture();
    let child = fx.root.join("a");
    // Nothing enabled in root's subtree_control yet: core files only.
    fx.fake.create_dir(&child).unwrap();
    assert_eq!(fx.knob(child.join("cgroup.controllers")), "");
    assert_eq!(
        fx.knob(child.join("cgroup.events")),
        "populated 0\nfrozen 0"
    );
    assert_eq!(
        fx.knob(child.join("cpu.stat")),
        "usage_usec 0\nuser_usec 0\nsystem_usec 0"
    );
    assert!(!child.join("memory.max").exists());

    fx.fake
        .write(&fx.root.join("cgroup.subtree_control"), "+memory +cpu")
        .unwrap();
    // Enabling reaches existing children, like the kernel.
    assert_eq!(fx.knob(child.join("cgroup.controllers")), "cpu memory");
    assert_eq!(fx.knob(child.join("memory.max")), "max");
    assert_eq!(fx.knob(child.join("cpu.max")), "max 100000");
    assert!(fx.knob(child.join("cpu.stat")).contains("nr_throttled 0"));
    assert!(!child.join("pids.max").exists());

    let b = fx.root.join("b");
    fx.fake.create_dir(&b).unwrap();
    assert_eq!(
        fx.knob(b.join("memory.events")),
        "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0"
    );
    assert_eq!(fx.knob(b.join("memory.oom.group")), "0");
    assert_eq!(
        os_err(fx.fake.create_dir(&b).unwrap_err()),
        Some(libc::EEXIST)
    );
    assert_eq!(
        os_err(fx.fake.create_dir(&fx.root.join("x/y")).unwrap_err()),
        Some(libc::ENOENT)
    );
}

#[test]
fn subtree_control_fails_like_the_kernel() {
    let fx = fixture();
    let sc = fx.root.join("cgroup.subtree_control");
    // Not offered to this cgroup (root was delegated cpu io memory pids).
    assert_eq!(
        os_err(fx.fake.write(&sc, "+cpuset").unwrap_err()),
        Some(libc::ENOENT)
    );
    assert_eq!(
        os_err(fx.fake.write(&sc, "memory").unwrap_err()),
        Some(libc::EINVAL)
    );
    fx.fake
        .set_knob(&fx.root.join("cgroup.procs"), "77\n")
        .unwrap();
    assert_eq!(
        os_err(fx.fake.write(&sc, "+memory").unwrap_err()),
        Some(libc::EBUSY)
    );
    // The top is exempt, like the kernel's root cgroup.
    fx.fake
        .write(&fx.fake.top().join("cgroup.subtree_control"), "+cpuset")
        .unwrap();
    assert_eq!(
        fx.knob(fx.fake.top().join("cgroup.subtree_control")),
        "cpuset cpu io memory pids"
    );
    assert_eq!(
        fx.knob(fx.fake.top().join("cgroup.controllers")),
        KERNEL_CONTROLLERS.join(" ")
    );
}

#[test]
fn knob_writes_never_create_and_check_values() {
    let fx = fixture();
    fx.fake
        .write(
            &fx.root.join("cgroup.subtree_control"),
            "+memory +cpu +pids",
        )
        .unwrap();
    let c = fx.root.join("c");
    fx.fake.create_dir(&c).unwrap();
    assert_eq!(
        os_err(fx.fake.write(&c.join("io.max"), "x").unwrap_err()),
        Some(libc::ENOENT)
    );
    assert!(!c.join("io.max").exists());
    assert_eq!(
        os_err(fx.fake.write(&c.join("memory.max"), "lots").unwrap_err()),
        Some(libc::EINVAL)
    );
    assert_eq!(
        os_err(fx.fake.write(&c.join("cpu.max"), "1000 10").unwrap_err()),
        Some(libc::EINVAL)
    );
    assert_eq!(
        os_err(fx.fake.write(&c.join("memory.current"), "1").unwrap_err()),
        Some(libc::EACCES)
    );
    fx.fake.write(&c.join("cpu.max"), "150000 100000").unwrap();
    assert_eq!(fx.knob(c.join("cpu.max")), "150000 100000");
}

#[test]
fn procs_write_moves_the_pid_and_updates_populated() {
    let fx = fixture();
    let a = fx.root.join("a");
    fx.fake.create_dir(&a).unwrap();
    fx.fake.write(&fx.root.join("cgroup.procs"), "0").unwrap();
    assert_eq!(fx.knob(fx.root.join("cgroup.procs")), my_pid().to_string());
    fx.fake.write(&a.join("cgroup.procs"), "0").unwrap();
    assert_eq!(fx.knob(fx.root.join("cgroup.procs")), "");
    assert_eq!(fx.knob(a.join("cgroup.procs")), my_pid().to_string());
    assert_eq!(fx.knob(a.join("cgroup.events")), "populated 1\nfrozen 0");
    assert_eq!(
        fx.knob(fx.root.join("cgroup.events")),
        "populated 1\nfrozen 0"
    );
}

#[test]
fn remove_dir_is_busy_with_processes_or_children() {
    let fx = fixture();
    let a = fx.root.join("a");
    fx.fake.create_dir(&a).unwrap();
    fx.fake.create_dir(&a.join("b")).unwrap();
    assert_eq!(
        os_err(fx.fake.remove_dir(&a).unwrap_err()),
        Some(libc::EBUSY)
    );
    fx.fake.remove_dir(&a.join("b")).unwrap();
    fx.fake.set_knob(&a.join("cgroup.procs"), "5\n").unwrap();
    assert_eq!(
        os_err(fx.fake.remove_dir(&a).unwrap_err()),
        Some(libc::EBUSY)
    );
    fx.fake.set_knob(&a.join("cgroup.procs"), "").unwrap();
    fx.fake.remove_dir(&a).unwrap();
    assert!(!a.exists());
}

#[test]
fn anything_outside_the_top_is_refused() {
    let fx = fixture();
    let outside = fx._dir.path().join("outside");
    std::fs::write(&outside, "x").unwrap();
    assert_eq!(
        os_err(fx.fake.write(&outside, "y").unwrap_err()),
        Some(libc::EACCES)
    );
    assert_eq!(
        os_err(fx.fake.read(&outside).unwrap_err()),
        Some(libc::EACCES)
    );
    let sneaky = fx.root.join("../../outside");
    assert_eq!(
        os_err(fx.fake.write(&sneaky, "y").unwrap_err()),
        Some(libc::EACCES)
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "x");
    // Refused writes are recorded too.
    assert_eq!(
        fx.fake.writes().last().map(|(p, _)| p.clone()),
        Some(sneaky)
    );
}
