//! `type: command`: a program run with the alert in `SLOTCRON_ALERT_*` environment
//! variables (`SLOTCRON_ALERT_EVIDENCE` is the evidence's JSON array) and as JSON on
//! stdin. It runs in its own process group, so when the timeout ends the whole group (a
//! shell script and whatever it started) is killed.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::alert::AlertMessage;
use super::error::DeliveryError;
use super::spec::CommandSpec;

/// Bytes of the hook's stderr kept for the error message.
const STDERR_KEPT: usize = 4096;

/// Runs the hook once for `alert`, killing its process group after `timeout`.
///
/// # Errors
/// The program cannot be started, exits non-zero or by a signal, or outlives `timeout`.
pub async fn run(
    spec: &CommandSpec,
    alert: &AlertMessage,
    host: &str,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    let program = spec.argv[0].clone();
    let payload = alert.payload(host);
    let json = serde_json::to_vec(&payload).expect("a payload always serializes");
    let evidence = serde_json::to_string(&alert.evidence).expect("evidence always serializes");
    let mut command = Command::new(&program);
    if let Some(limit) = crate::descriptors::for_children() {
        // SAFETY: only setrlimit(2), async-signal-safe, between fork and exec.
        unsafe {
            command.pre_exec(move || crate::descriptors::restore_in_child(limit));
        }
    }
    let mut child = command
        .args(&spec.argv[1..])
        .env("SLOTCRON_ALERT_ID", alert.id.to_string())
        .env("SLOTCRON_ALERT_JOB", &alert.job)
        .env("SLOTCRON_ALERT_KIND", &alert.kind)
        .env("SLOTCRON_ALERT_SEVERITY", alert.severity.as_str())
        .env("SLOTCRON_ALERT_MESSAGE", &alert.message)
        .env("SLOTCRON_ALERT_EVIDENCE", evidence)
        .env("SLOTCRON_ALERT_CHANGE", &alert.change)
        .env("SLOTCRON_ALERT_AT", &payload.at)
        .env("SLOTCRON_ALERT_HOST", host)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| DeliveryError::Spawn {
            program: program.clone(),
            message: e.to_string(),
        })?;
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let finished = async {
        // A hook that ignores stdin may exit before reading it: a broken pipe is fine.
        let _ = stdin.write_all(&json).await;
        drop(stdin);
        let mut err = Vec::new();
        let _ = (&mut stderr)
            .take(STDERR_KEPT as u64)
            .read_to_end(&mut err)
            .await;
        let status = child.wait().await;
        (status, err)
    };
    match tokio::time::timeout(timeout, finished).await {
        Ok((Ok(status), _)) if status.success() => Ok(()),
        Ok((Ok(status), err)) => Err(failed(program, status, &err)),
        Ok((Err(e), _)) => Err(DeliveryError::Spawn {
            program,
            message: format!("waiting for it failed: {e}"),
        }),
        Err(_) => {
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                // The group may already be gone; then there is nothing left to kill.
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            }
            Err(DeliveryError::Timeout(timeout))
        }
    }
}

/// The hook `program` exited with `status`: says how, with the last line of its `stderr`.
fn failed(program: String, status: std::process::ExitStatus, stderr: &[u8]) -> DeliveryError {
    use std::os::unix::process::ExitStatusExt;
    let status = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        (None, None) => status.to_string(),
    };
    let stderr = String::from_utf8_lossy(stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    DeliveryError::Exit {
        program,
        status,
        stderr: last.unwrap_or_default().trim().to_owned(),
    }
}
