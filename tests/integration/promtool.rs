//! `promtool`, Prometheus's checker, which CI installs (`.ci/install-promtool`, Debian's
//! `prometheus` package). A test that needs it fails, saying how to get it, where it is
//! missing: it is never skipped silently.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `promtool ARGS` with `stdin` as its input; returns its exit status and output.
pub fn promtool(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "promtool is required by this test and could not be run ({e}); install it with \
                 `bash .ci/install-promtool` (Debian's `prometheus` package), as tests/run does"
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
