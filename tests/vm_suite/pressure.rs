//! The pressure response on the real kernel (issue 16, ADR 0036): an "editor" outside
//! slotcron grows until `MemAvailable` falls past `protect.response`'s `act`; the daemon
//! throttles, then freezes the low-priority run and leaves the critical one alone; once
//! the editor exits and `MemAvailable` is back past `clear`, it thaws and lifts it.
//!
//! The bands are set from the guest's own `MemAvailable` at the start, so the scenario
//! does not depend on how much the initramfs takes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::daemon::{Daemon, setup, suite_bin, trigger, wait_for, wait_running, with_logs};
use super::{MIB, Setup, ensure, field};

/// How much the editor takes: enough to push `MemAvailable` past `act`.
const EDITOR_MIB: u64 = 300;

fn mem_available() -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/meminfo").map_err(|e| e.to_string())?;
    slotcron::daemon::machine::mem_available(&text).ok_or("no MemAvailable".into())
}

fn knob(dir: &Path, name: &str) -> Result<String, String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A process outside slotcron holding `EDITOR_MIB`; killed when dropped.
struct Editor(Child);

impl Drop for Editor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn freezes_the_low_run_and_spares_the_critical_one() -> Result<String, String> {
    let base = mem_available()? / MIB;
    // The two runs take ~100 MiB: between the bands. The editor pushes past `act`.
    let (act, clear) = (base.saturating_sub(250), base.saturating_sub(170));
    let slots = format!(
        "  default: {{ max_concurrent: 5, memory_max: 600M }}\n\
         protect:\n  response: {{ period: 500ms, mem_available: {{ act: {act}M, clear: {clear}M }} }}\n"
    );
    let low = format!(
        "command: [{}, hog, 50M, hold]\npriority: low\n",
        suite_bin()
    );
    let critical = format!(
        "command: [{}, hog, 50M, hold]\npriority: critical\n",
        suite_bin()
    );
    let setup = setup(
        "pressure",
        "",
        &slots,
        &[("low", &low), ("critical", &critical)],
    );
    let result = scenario(&setup, base, act, clear);
    with_logs(&setup, result)
}

fn scenario(setup: &Setup, base: u64, act: u64, clear: u64) -> Result<String, String> {
    let mut daemon = Daemon::start(setup, "daemon.log")?;
    trigger(setup, "low")?;
    trigger(setup, "critical")?;
    let cgroup =
        |run: &serde_json::Value| PathBuf::from(field(run, "cgroup").as_str().unwrap_or(""));
    let low = cgroup(&wait_running(setup, "low")?);
    let critical = cgroup(&wait_running(setup, "critical")?);
    wait_for(
        "both runs to hold their memory",
        Duration::from_secs(30),
        || {
            Ok(
                (knob(&low, "memory.current")?.parse::<u64>().unwrap_or(0) >= 50 * MIB
                    && knob(&critical, "memory.current")?
                        .parse::<u64>()
                        .unwrap_or(0)
                        >= 50 * MIB)
                    .then_some(()),
            )
        },
    )?;
    ensure(knob(&low, "cgroup.freeze")? == "0", || {
        "frozen before any pressure".into()
    })?;

    let clock = Instant::now();
    let editor = Editor(
        Command::new(suite_bin())
            .args(["hog", &format!("{EDITOR_MIB}M"), "hold"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the editor: {e}"))?,
    );
    let low_high = wait_for(
        "the low run to be throttled",
        Duration::from_secs(60),
        || {
            let high = knob(&low, "memory.high")?;
            Ok((high != "max").then_some(high))
        },
    )?;
    let throttled_after = clock.elapsed();
    wait_for("the low run to be frozen", Duration::from_secs(60), || {
        Ok((knob(&low, "cgroup.events")?.contains("frozen 1")).then_some(()))
    })?;
    let frozen_after = clock.elapsed();
    let available_frozen = mem_available()? / MIB;
    drop(editor);
    let clock = Instant::now();
    wait_for(
        "the low run to be thawed and lifted",
        Duration::from_secs(60),
        || {
            Ok((knob(&low, "cgroup.events")?.contains("frozen 0")
                && knob(&low, "memory.high")? == "max")
                .then_some(()))
        },
    )?;
    let thawed_after = clock.elapsed();
    for (name, want) in [("cgroup.freeze", "0"), ("memory.high", "max")] {
        let got = knob(&critical, name)?;
        ensure(got == want, || format!("critical run's {name} is {got}"))?;
    }
    let (exit, _) = daemon.terminate(Duration::from_secs(15))?;
    ensure(exit.success(), || format!("the daemon exited {exit}"))?;
    Ok(format!(
        "MemAvailable {base} MiB at start, bands act {act} / clear {clear} MiB; editor \
         {EDITOR_MIB} MiB: low run throttled (memory.high {low_high}) after {:.1}s, frozen \
         after {:.1}s (MemAvailable then {available_frozen} MiB); editor gone: thawed and \
         lifted after {:.1}s; critical run untouched",
        throttled_after.as_secs_f64(),
        frozen_after.as_secs_f64(),
        thawed_after.as_secs_f64(),
    ))
}
