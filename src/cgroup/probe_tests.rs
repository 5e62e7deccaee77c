//! Tests of the probe: v1/hybrid hosts, auto with and without delegation, explicit roots.

use std::path::Path;

use super::*;
use crate::cgroup::test_support::{Fixture, fixture, fixture_with};

/// This development machine's mountinfo: hybrid, controllers on v1, an empty cgroup2.
const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

/// mountinfo of a unified host whose cgroup2 mount is the fixture's top.
fn unified(fx: &Fixture) -> String {
    format!(
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n\
         30 22 0:26 / {} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
        fx.fake.top().display()
    )
}

const SELF: &str = "0::/slotcron.service\n";

fn resolve_with(
    fx: &Fixture,
    setting: &RootSetting,
    self_cgroup: &str,
    delegated: &[&Path],
) -> Result<Resolved, Unusable> {
    let mountinfo = unified(fx);
    let input = ProbeInput {
        mountinfo: &mountinfo,
        self_cgroup,
    };
    resolve(fx.fake.as_ref(), setting, &input, &|p: &Path| {
        delegated.contains(&p)
    })
}

#[test]
fn v1_only_host_has_no_cgroup2() {
    let fx = fixture();
    let v1 = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    let input = ProbeInput {
        mountinfo: v1,
        self_cgroup: "4:memory:/x\n",
    };
    let err = resolve(fx.fake.as_ref(), &RootSetting::Auto, &input, &|_| true).unwrap_err();
    assert!(matches!(err, Unusable::NoCgroup2));
    assert!(
        err.to_string()
            .contains("systemd.unified_cgroup_hierarchy=1")
    );
}

#[test]
fn hybrid_host_is_refused_with_the_boot_fix() {
    let fx = fixture();
    let input = ProbeInput {
        mountinfo: HYBRID,
        self_cgroup: "4:memory:/x\n0::/\n",
    };
    let err = resolve(fx.fake.as_ref(), &RootSetting::Auto, &input, &|_| true).unwrap_err();
    match &err {
        Unusable::Hybrid { mount, controllers } => {
            assert_eq!(mount, Path::new("/sys/fs/cgroup/unified"));
            assert_eq!(controllers, &["cpu", "memory", "pids"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("systemd.unified_cgroup_hierarchy=1")
    );
}

#[test]
fn auto_uses_own_delegated_cgroup_and_moves_self() {
    let fx = fixture();
    let before = fx.fake.writes();
    let r = resolve_with(&fx, &RootSetting::Auto, SELF, &[&fx.root]).expect("usable");
    assert_eq!(
        r,
        Resolved {
            root: fx.root.clone(),
            move_self: true,
            missing_optional: Vec::new(),
        }
    );
    assert_eq!(fx.fake.writes(), before, "the probe never writes");
}

#[test]
fn auto_already_in_delegated_supervisor_does_not_move() {
    let fx = fixture();
    let r = resolve_with(
        &fx,
        &RootSetting::Auto,
        "0::/slotcron.service/supervisor\n",
        &[&fx.root],
    )
    .unwrap();
    assert_eq!(
        r,
        Resolved {
            root: fx.root.clone(),
            move_self: false,
            missing_optional: Vec::new(),
        }
    );
}

#[test]
fn auto_not_delegated_says_how_to_delegate() {
    let fx = fixture();
    let err = resolve_with(&fx, &RootSetting::Auto, SELF, &[]).unwrap_err();
    assert!(
        matches!(&err, Unusable::NotDelegated { path } if path == &fx.root),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("Delegate=yes") && msg.contains("cgroup.root"),
        "{msg}"
    );
    let err = resolve_with(&fx, &RootSetting::Auto, "1:name=systemd:/\n", &[]).unwrap_err();
    assert!(matches!(err, Unusable::NoOwnCgroup));
}

#[test]
fn explicit_path_outside_the_mount_is_refused() {
    let fx = fixture();
    for p in [
        "/tmp/elsewhere".into(),
        fx.root.join("../../escape"),
        "relative".into(),
    ] {
        let err = resolve_with(&fx, &RootSetting::Path(p.clone()), SELF, &[]).unwrap_err();
        assert!(
            matches!(err, Unusable::OutsideMount { .. }),
            "{p:?}: {err:?}"
        );
    }
}

#[test]
fn explicit_path_checks_controllers() {
    let fx = fixture_with(&["cpu", "io"]);
    let err =
        resolve_with(&fx, &RootSetting::Path(fx.root.clone()), "0::/other\n", &[]).unwrap_err();
    match &err {
        Unusable::MissingControllers {
            path,
            file,
            missing,
        } => {
            assert_eq!(path, &fx.root);
            assert_eq!(*file, "cgroup.controllers");
            assert_eq!(missing, &["memory", "pids"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("cgroup.subtree_control"));
    // The controllers to delegate come from the controller registry, io included.
    assert!(
        err.to_string().contains("Delegate=cpu io memory pids"),
        "{err}"
    );
}

#[test]
fn explicit_path_own_cgroup_moves_self_other_does_not() {
    let fx = fixture();
    let own = resolve_with(&fx, &RootSetting::Path(fx.root.clone()), SELF, &[]).unwrap();
    assert!(own.move_self);
    let other = resolve_with(
        &fx,
        &RootSetting::Path(fx.root.clone()),
        "0::/user.slice\n",
        &[],
    )
    .unwrap();
    assert!(!other.move_self);
}

#[test]
fn explicit_missing_root_needs_a_parent_offering_the_controllers() {
    let fx = fixture();
    let fresh = fx.root.join("slotcron");
    // The root has not enabled anything for its children yet.
    let err = resolve_with(&fx, &RootSetting::Path(fresh.clone()), SELF, &[]).unwrap_err();
    assert!(
        matches!(&err, Unusable::MissingControllers { path, file: "cgroup.subtree_control", .. } if path == &fx.root),
        "{err:?}"
    );
    fx.fake
        .set_knob(&fx.root.join("cgroup.subtree_control"), "cpu memory pids\n")
        .unwrap();
    let r = resolve_with(&fx, &RootSetting::Path(fresh.clone()), SELF, &[])
        .expect("parent offers the required ones");
    // Usable without io: the probe says io will be missing.
    assert_eq!(
        r,
        Resolved {
            root: fresh.clone(),
            move_self: false,
            missing_optional: vec!["io"],
        }
    );
    fx.fake
        .set_knob(
            &fx.root.join("cgroup.subtree_control"),
            "cpu io memory pids\n",
        )
        .unwrap();
    let r = resolve_with(&fx, &RootSetting::Path(fresh), SELF, &[]).unwrap();
    assert!(r.missing_optional.is_empty(), "{r:?}");
    let orphan = fx.root.join("no/such");
    let err = resolve_with(&fx, &RootSetting::Path(orphan), SELF, &[]).unwrap_err();
    assert!(matches!(err, Unusable::MissingParent { .. }), "{err:?}");
}

#[test]
fn plain_dir_has_no_delegate_xattr() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!delegated_xattr(dir.path()));
    assert!(!delegated_xattr(&dir.path().join("absent")));
}

#[test]
fn read_probe_input_reads_proc() {
    let (mountinfo, self_cgroup) = read_probe_input().expect("proc is mounted");
    assert!(mountinfo.contains(" - "));
    assert!(!self_cgroup.is_empty());
}

#[test]
fn delegate_xattr_one_means_delegated() {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let path = CString::new(dir.path().as_os_str().as_bytes()).unwrap();
    let set = |value: &[u8]| {
        // SAFETY: valid NUL-terminated strings and a buffer of the given length.
        let rc = unsafe {
            libc::setxattr(
                path.as_ptr(),
                c"user.delegate".as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        assert_eq!(
            rc,
            0,
            "setxattr on {}: {} (filesystem without user xattrs?)",
            dir.path().display(),
            std::io::Error::last_os_error()
        );
    };
    set(b"1");
    assert!(delegated_xattr(dir.path()));
    set(b"0");
    assert!(!delegated_xattr(dir.path()));
}
