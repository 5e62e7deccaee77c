//! The io controller on a real kernel: a job writing to a real disk (`/dev/vda`, which
//! `tests/vm/run --disk SIZE` attaches; `tests/vm/suite` always does) with `dd
//! oflag=direct`, once capped by `io.max` `wbps` and once not, and the bytes it wrote read
//! back from `io.stat` into its history record.

use std::path::Path;

use serde_json::Value;

use super::{MIB, SLOTS, Setup, ensure, expect_status, field};

/// The cap, bytes per second.
const CAP: u64 = 3 * MIB;
/// What each run writes: four seconds' worth at the cap.
const WRITTEN: u64 = 12 * MIB;

/// The job: times its own `dd` with `/proc/uptime` (busybox dd prints no rate), so the
/// figure is the writing alone, not the process start-up under emulation.
fn dd_job(io: &str) -> String {
    format!(
        "command: |\n  a=$(cut -d' ' -f1 /proc/uptime)\n  \
         dd if=/dev/zero of=/dev/vda bs=256K count={} oflag=direct 2>/dev/null\n  \
         b=$(cut -d' ' -f1 /proc/uptime)\n  echo \"elapsed $a $b\"\n\
         limits: {{ timeout: 60s }}\n{io}",
        WRITTEN / (256 << 10)
    )
}

/// Bytes per second the run's `dd` wrote, from the `elapsed A B` line of its log.
fn throughput(run: &Value) -> Result<f64, String> {
    let log = field(run, "log_path").as_str().ok_or("no log_path")?;
    let text = std::fs::read_to_string(log).map_err(|e| format!("{log}: {e}"))?;
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("elapsed "))
        .ok_or_else(|| format!("no `elapsed` line in the log: {text:?}"))?;
    let times: Vec<f64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{line:?}: {e}"))?;
    match times.as_slice() {
        [a, b] if b > a => Ok(WRITTEN as f64 / (b - a)),
        _ => Err(format!("bad elapsed line {line:?}")),
    }
}

/// The bytes `io.stat` recorded as written, from the history record.
fn written(run: &Value) -> Result<u64, String> {
    field(run, "io")["wbytes"]
        .as_u64()
        .ok_or_else(|| format!("no io.wbytes in the record: {run}"))
}

pub fn dd_is_capped_at_wbps() -> Result<String, String> {
    if !Path::new("/dev/vda").exists() {
        return Err(
            "no /dev/vda: run the suite with `tests/vm/run --disk SIZE` \
                    (tests/vm/suite does)"
                .into(),
        );
    }
    let capped = dd_job(&format!(
        "io: {{ max: [{{ device: /dev/vda, wbps: {}M }}] }}\n",
        CAP / MIB
    ));
    let setup = Setup::new(
        "io",
        SLOTS,
        &[("capped", &capped), ("uncapped", &dd_job(""))],
    );
    let free = setup.run("uncapped")?;
    let held = setup.run("capped")?;
    expect_status(&free, "success")?;
    expect_status(&held, "success")?;
    let (fast, slow) = (throughput(&free)?, throughput(&held)?);
    let off = (slow - CAP as f64).abs() / CAP as f64;
    ensure(off <= 0.10, || {
        format!(
            "capped run wrote {:.2} MiB/s, {:.0} % off the {} MiB/s cap",
            slow / MIB as f64,
            off * 100.0,
            CAP / MIB
        )
    })?;
    ensure(fast > 2.0 * CAP as f64, || {
        format!(
            "the uncapped run wrote only {:.2} MiB/s: the cap proves nothing",
            fast / MIB as f64
        )
    })?;
    for run in [&free, &held] {
        let bytes = written(run)?;
        ensure(bytes >= WRITTEN, || {
            format!("io.stat says {bytes} bytes written, dd wrote {WRITTEN}: {run}")
        })?;
    }
    Ok(format!(
        "dd oflag=direct of 12 MiB: capped at wbps {} MiB/s {:.2} MiB/s ({:.1} % off), \
         uncapped {:.1} MiB/s; io.stat wbytes {} and {}",
        CAP / MIB,
        slow / MIB as f64,
        off * 100.0,
        fast / MIB as f64,
        written(&held)?,
        written(&free)?
    ))
}
