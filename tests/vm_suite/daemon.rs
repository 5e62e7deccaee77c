//! Scenarios that run the real `slotcron daemon` in the background, on a real cgroup v2
//! tree, and watch it only through its public faces: `slotcron status --json` (the control
//! socket), `slotcron history --json` (the database) and the kernel's cgroup files. Every
//! wait polls a condition every 100 ms up to a deadline; nothing waits on a bare sleep.
//!
//! Each scenario has its own cgroup root (`/sys/fs/cgroup/slotcron-<name>`), so the slots'
//! `memory.peak` (a high-water mark since creation, not resettable on kernel 6.1) holds
//! that scenario's runs only. The daemon's log (stderr) goes to `<dir>/daemon-N.log` and
//! is printed when a scenario fails.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use serde_json::Value;

use super::{MIB, Setup, ensure, expect_status, field, mib, number, processes_named};

/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(100);

/// Whole seconds from writing a scheduled scenario's job files to its first due time (plus
/// the rest of the current second): `slotcron reload` must have loaded them before then.
/// Under TCG a reload takes about 0.3 s.
const LEAD_SECS: i64 = 2;

/// The suite binary: the jobs' workload (`hog SIZE SECS`).
pub(super) fn suite_bin() -> String {
    std::env::current_exe()
        .expect("the suite knows its own path")
        .to_string_lossy()
        .into_owned()
}

/// A configuration with its own cgroup root below `/sys/fs/cgroup`.
pub(super) fn setup(name: &str, cgroup_extra: &str, slots: &str, jobs: &[(&str, &str)]) -> Setup {
    Setup::with_cgroup(
        name,
        &format!("root: {}{cgroup_extra}", root(name).display()),
        slots,
        jobs,
    )
}

fn root(name: &str) -> PathBuf {
    PathBuf::from(format!("/sys/fs/cgroup/slotcron-{name}"))
}

/// A `slotcron daemon` process; stopped with SIGTERM (then SIGKILL) when dropped.
pub(super) struct Daemon {
    child: Option<Child>,
    pid: u32,
}

impl Daemon {
    /// Starts the daemon with stderr and stdout to `<dir>/<log>` and waits until it answers
    /// `slotcron status`.
    pub(super) fn start(setup: &Setup, log: &str) -> Result<Daemon, String> {
        let path = setup.dir.join(log);
        let out = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = setup
            .command(&["daemon"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting slotcron daemon: {e}"))?;
        let mut daemon = Daemon {
            pid: child.id(),
            child: Some(child),
        };
        wait_for(
            "the daemon to answer `status`",
            Duration::from_secs(30),
            || {
                if let Some(status) = daemon.try_wait()? {
                    return Err(format!("the daemon exited ({status}) before it was ready"));
                }
                Ok(status(setup).ok())
            },
        )?;
        Ok(daemon)
    }

    fn try_wait(&mut self) -> Result<Option<ExitStatus>, String> {
        match self.child.as_mut() {
            Some(child) => child.try_wait().map_err(|e| e.to_string()),
            None => Err("the daemon was already reaped".into()),
        }
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid, which we have not reaped yet.
        unsafe {
            libc::kill(self.pid as libc::pid_t, signal);
        }
    }

    /// `kill -9`: the daemon gets no chance to stop anything or record anything.
    fn crash(&mut self) -> Result<ExitStatus, String> {
        self.signal(libc::SIGKILL);
        let child = self.child.take().ok_or("the daemon was already reaped")?;
        wait_exit(child, Duration::from_secs(10))
    }

    /// SIGTERM; returns the exit status and how long the daemon took to exit.
    pub(super) fn terminate(&mut self, within: Duration) -> Result<(ExitStatus, Duration), String> {
        let clock = Instant::now();
        self.signal(libc::SIGTERM);
        let child = self.child.take().ok_or("the daemon was already reaped")?;
        let status = wait_exit(child, within)?;
        Ok((status, clock.elapsed()))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.is_some() && self.terminate(Duration::from_secs(20)).is_err() {
            self.signal(libc::SIGKILL);
        }
    }
}

/// Waits for `child` to exit; kills it (and says so) after `within`.
fn wait_exit(mut child: Child, within: Duration) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the daemon had not exited after {within:?}; killed"
            ));
        }
        std::thread::sleep(POLL);
    }
}

/// Polls `probe` every [`POLL`] until it returns `Some`, fails, or `within` has passed.
pub(super) fn wait_for<T>(
    what: &str,
    within: Duration,
    mut probe: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe()? {
            return Ok(found);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {within:?} waiting for {what}"));
        }
        std::thread::sleep(POLL);
    }
}

/// Runs `slotcron ARGS` and returns its stdout, or why it failed.
fn slotcron(setup: &Setup, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = setup
        .command(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("slotcron {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "slotcron {} exited {}: {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// The daemon's `status --json` report.
fn status(setup: &Setup) -> Result<Value, String> {
    let out = slotcron(setup, &["status", "--json"])?;
    serde_json::from_slice(&out).map_err(|e| format!("status --json: {e}"))
}

/// Every recorded run, newest first (`history --json`).
pub(super) fn history(setup: &Setup) -> Result<Vec<Value>, String> {
    let out = slotcron(setup, &["history", "--json", "--limit", "1000"])?;
    serde_json::from_slice(&out).map_err(|e| format!("history --json: {e}"))
}

pub(super) fn trigger(setup: &Setup, job: &str) -> Result<(), String> {
    slotcron(setup, &["trigger", job]).map(drop)
}

fn is_running(run: &Value) -> bool {
    field(run, "status").as_str() == Some("running")
}

/// Waits until `jobs` each have exactly one finished run and nothing is running; returns
/// the runs in the order of `jobs`.
fn wait_finished(setup: &Setup, jobs: &[&str], within: Duration) -> Result<Vec<Value>, String> {
    let what = format!("runs of {jobs:?} to finish");
    let runs = wait_for(&what, within, || {
        let runs = history(setup)?;
        let done = runs.len() >= jobs.len() && !runs.iter().any(is_running);
        Ok(done.then_some(runs))
    })?;
    jobs.iter()
        .map(|job| {
            let mine: Vec<&Value> = runs
                .iter()
                .filter(|r| field(r, "job").as_str() == Some(job))
                .collect();
            match mine.as_slice() {
                [one] => Ok((*one).clone()),
                _ => Err(format!("expected one run of {job}, got {mine:?}")),
            }
        })
        .collect()
}

/// Waits until `job` has a run in progress whose process is spawned; returns the run.
pub(super) fn wait_running(setup: &Setup, job: &str) -> Result<Value, String> {
    wait_for(
        &format!("a run of {job} to be running"),
        Duration::from_secs(20),
        || {
            Ok(history(setup)?.into_iter().find(|r| {
                field(r, "job").as_str() == Some(job)
                    && is_running(r)
                    && field(r, "pid").is_u64()
                    && field(r, "cgroup").is_string()
            }))
        },
    )
}

fn time(run: &Value, name: &str) -> Result<DateTime<Utc>, String> {
    field(run, name)
        .as_str()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("{name} missing in {run}"))
}

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_milliseconds()
}

/// A cgroup file holding one number (`memory.peak`, `memory.max`); `max` is `u64::MAX`.
fn knob(dir: &Path, name: &str) -> Result<u64, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    match text.trim() {
        "max" => Ok(u64::MAX),
        n => n
            .parse()
            .map_err(|e| format!("{}: {n:?}: {e}", path.display())),
    }
}

/// `S M H * * *`: every day at `at`'s second (a 6-field cron line).
fn daily_at(at: DateTime<Utc>) -> String {
    format!("\"{} {} {} * * *\"", at.second(), at.minute(), at.hour())
}

/// The next whole second after now, plus `secs`.
fn whole_second_in(secs: i64) -> DateTime<Utc> {
    let now = Utc::now();
    let whole = now - chrono::Duration::nanoseconds(i64::from(now.nanosecond()));
    whole + chrono::Duration::seconds(1 + secs)
}

/// The scenario's result; on failure with the daemon logs appended.
pub(super) fn with_logs(setup: &Setup, result: Result<String, String>) -> Result<String, String> {
    result.map_err(|why| {
        let mut text = why;
        let mut logs: Vec<PathBuf> = std::fs::read_dir(&setup.dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        logs.sort();
        for log in logs {
            let body = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = body.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            text.push_str(&format!("\n--- {} ---\n{}", log.display(), tail.join("\n")));
        }
        text
    })
}

/// Processes whose command line is exactly `argv`.
pub(super) fn processes_running(argv: &[&str]) -> Vec<u32> {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == wanted))
        .collect()
}

/// `pid`'s state letter and parent from `/proc/<pid>/stat`; `None` once it is gone.
fn proc_state(pid: u64) -> Option<(char, i64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid))
}

// ---- 1. the timeline -------------------------------------------------------------

/// Slots `default` (5 seats, 200M) and `heavy` (1 seat, 150M), all jobs capped at 300M. A
/// report (default), a backup (heavy), a sync (default) and an import (heavy) come due a
/// second apart; the import waits for the backup's seat. Each heavy run holds 90 MiB: had
/// they overlapped, the 150M slot would have OOM-killed one.
pub fn heavy_import_waits_for_the_backup() -> Result<String, String> {
    let setup = setup(
        "timeline",
        ", memory_max: 300M",
        "  default: { max_concurrent: 5, memory_max: 200M }\n  \
         heavy: { max_concurrent: 1, memory_max: 150M }\n",
        &[],
    );
    let result = timeline(&setup);
    with_logs(&setup, result)
}

/// Writes the job files with due times from now on and has the running daemon load them
/// (`slotcron reload`), so a slow daemon start-up cannot make a test miss a due time;
/// fails if the reload ends after the first due time. Returns when the reload ended.
fn schedule(
    setup: &Setup,
    jobs: &[(&str, String)],
    first_due: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    for (name, text) in jobs {
        let path = setup.dir.join("jobs.d").join(format!("{name}.yaml"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    slotcron(setup, &["reload"])?;
    let loaded = Utc::now();
    ensure(loaded < first_due, || {
        format!("the jobs were loaded only at {loaded}, after the first due time {first_due}")
    })?;
    Ok(loaded)
}

fn timeline(setup: &Setup) -> Result<String, String> {
    let daemon = Daemon::start(setup, "daemon.log")?;
    let first = whole_second_in(LEAD_SECS);
    let due: Vec<DateTime<Utc>> = (0..4)
        .map(|k| first + chrono::Duration::seconds(k))
        .collect();
    let bin = suite_bin();
    let job = |slot: &str, size: &str, secs: &str, at: DateTime<Utc>| {
        format!(
            "command: [{bin}, hog, {size}, {secs}]\nschedule: {}\ntimezone: UTC\nslot: {slot}\n\
             limits: {{ timeout: 60s }}\n",
            daily_at(at)
        )
    };
    let jobs = [
        ("report", job("default", "40M", "3s", due[0])),
        ("backup", job("heavy", "90M", "4s", due[1])),
        ("sync", job("default", "40M", "3s", due[2])),
        ("import", job("heavy", "90M", "2s", due[3])),
    ];
    let loaded = schedule(setup, &jobs, due[0])?;
    // While the backup runs, the import is seen waiting for heavy's one seat.
    let seen = wait_for(
        "the import queued behind the backup",
        Duration::from_secs(30),
        || {
            let report = status(setup)?;
            let heavy = field(&report, "slots")
                .as_array()
                .and_then(|slots| slots.iter().find(|s| field(s, "name") == "heavy"))
                .cloned()
                .ok_or_else(|| format!("no slot heavy in {report}"))?;
            let import_queued = field(&report, "jobs").as_array().is_some_and(|jobs| {
                jobs.iter()
                    .any(|j| field(j, "name") == "import" && field(j, "state")["kind"] == "queued")
            });
            let queued = number(&heavy, "queued")? == 1 && number(&heavy, "running")? == 1;
            Ok((queued && import_queued).then_some(Utc::now()))
        },
    )?;
    let names = ["report", "backup", "sync", "import"];
    let runs = wait_finished(setup, &names, Duration::from_secs(60))?;
    drop(daemon);
    let [a, b, c, d] = [&runs[0], &runs[1], &runs[2], &runs[3]];
    for run in &runs {
        expect_status(run, "success")?;
        ensure(field(run, "trigger").as_str() == Some("schedule"), || {
            format!("not started by its schedule: {run}")
        })?;
    }
    let mut late = Vec::new();
    for (run, at) in [(a, due[0]), (b, due[1]), (c, due[2])] {
        let ms = millis(at, time(run, "started_at")?);
        ensure((-50..=1000).contains(&ms), || {
            format!("started {ms} ms after its due time {at}: {run}")
        })?;
        late.push(ms);
    }
    let (b_end, d_start) = (time(b, "finished_at")?, time(d, "started_at")?);
    ensure(d_start >= b_end, || {
        format!("import started at {d_start}, before the backup finished at {b_end}")
    })?;
    ensure(seen < d_start, || {
        format!("the import was seen queued at {seen}, after it started at {d_start}")
    })?;
    let d_wait = number(d, "wait_ms")?;
    ensure(d_wait > 0, || format!("import did not wait: {d}"))?;
    let d_queued = millis(due[3], time(d, "queued_at")?);
    ensure((-50..=1000).contains(&d_queued), || {
        format!("import queued {d_queued} ms after its due time: {d}")
    })?;

    let root = root("timeline");
    let mut peaks = Vec::new();
    for (dir, name) in [
        (root.join("jobs/heavy"), "heavy"),
        (root.join("jobs/default"), "default"),
        (root.join("jobs"), "all jobs"),
    ] {
        let (peak, max) = (knob(&dir, "memory.peak")?, knob(&dir, "memory.max")?);
        ensure(peak <= max, || {
            format!("{name}: memory.peak {peak} above memory.max {max}")
        })?;
        peaks.push((name, peak, max));
    }
    let (b_peak, d_peak) = (
        number(b, "memory_peak_bytes")?,
        number(d, "memory_peak_bytes")?,
    );
    let heavy_peak = peaks[0].1;
    ensure(b_peak >= 90 * MIB && d_peak >= 90 * MIB, || {
        format!("a heavy run did not hold its 90 MiB: backup {b_peak}, import {d_peak}")
    })?;
    ensure(heavy_peak < b_peak + d_peak, || {
        format!("heavy's peak {heavy_peak} reached backup + import: they overlapped")
    })?;
    let peaks: Vec<String> = peaks
        .iter()
        .map(|(name, peak, max)| format!("{name} {} of {}", mib(*peak), mib(*max)))
        .collect();
    Ok(format!(
        "jobs loaded {} ms before the first due time; report/backup/sync started {}/{}/{} ms \
         after due; import queued at due+{d_queued} ms (seen queued in status), waited \
         {d_wait} ms, started {} ms after backup finished; memory.peak: {} (backup {}, \
         import {})",
        millis(loaded, due[0]),
        late[0],
        late[1],
        late[2],
        millis(b_end, d_start),
        peaks.join(", "),
        mib(b_peak),
        mib(d_peak)
    ))
}

// ---- 2. six due at once, five seats ------------------------------------------------------

/// Six jobs fire in the same second in a slot of five seats; each holds 8 MiB for 2 s.
pub fn six_due_at_once_five_seats() -> Result<String, String> {
    let setup = setup(
        "burst",
        "",
        "  default: { max_concurrent: 5, memory_max: 200M }\n",
        &[],
    );
    let result = burst(&setup);
    with_logs(&setup, result)
}

fn burst(setup: &Setup) -> Result<String, String> {
    let daemon = Daemon::start(setup, "daemon.log")?;
    let due = whole_second_in(LEAD_SECS);
    let job = format!(
        "command: [{}, hog, 8M, 2s]\nschedule: {}\ntimezone: UTC\nlimits: {{ timeout: 60s }}\n",
        suite_bin(),
        daily_at(due)
    );
    let names = ["j1", "j2", "j3", "j4", "j5", "j6"];
    let jobs: Vec<(&str, String)> = names.iter().map(|n| (*n, job.clone())).collect();
    schedule(setup, &jobs, due)?;
    let runs = wait_finished(setup, &names, Duration::from_secs(60))?;
    drop(daemon);
    let mut timed = Vec::new();
    for run in &runs {
        expect_status(run, "success")?;
        timed.push((time(run, "started_at")?, time(run, "finished_at")?, run));
    }
    timed.sort_by_key(|(start, _, _)| *start);
    let on_time: Vec<i64> = timed
        .iter()
        .map(|(start, _, _)| millis(due, *start))
        .filter(|ms| (-50..=1000).contains(ms))
        .collect();
    ensure(on_time.len() == 5, || {
        format!(
            "{} runs started within 1 s of the due time {due}, not 5: {runs:?}",
            on_time.len()
        )
    })?;
    let (sixth_start, _, sixth) = timed[5];
    let first_end = timed[..5].iter().map(|(_, end, _)| *end).min().expect("5");
    ensure(sixth_start >= first_end, || {
        format!("the sixth started at {sixth_start}, before any seat was free ({first_end})")
    })?;
    let wait = number(sixth, "wait_ms")?;
    ensure(wait >= 1500, || {
        format!("the sixth waited only {wait} ms: {sixth}")
    })?;
    Ok(format!(
        "five started {:?} ms after due; the sixth ({}) waited {wait} ms, started {} ms \
         after the first seat freed",
        on_time,
        field(sixth, "job"),
        millis(first_end, sixth_start)
    ))
}

// ---- 3. kill -9, and the next daemon adopts the run --------------------------------------

/// A run holding 32 MiB for 6 s; its daemon is killed with SIGKILL; the next daemon on the
/// same configuration adopts the run and completes it `lost` when its process ends.
pub fn killed_daemon_is_recovered_by_the_next() -> Result<String, String> {
    let job = format!(
        "command: [{}, hog, 32M, 6s]\nlimits: {{ timeout: 60s }}\n",
        suite_bin()
    );
    let setup = setup(
        "crash",
        "",
        "  default: { max_concurrent: 5, memory_max: 200M }\n",
        &[("hog", &job)],
    );
    let result = crash(&setup);
    with_logs(&setup, result)
}

fn crash(setup: &Setup) -> Result<String, String> {
    let mut first = Daemon::start(setup, "daemon-1.log")?;
    trigger(setup, "hog")?;
    let run = wait_running(setup, "hog")?;
    let id = number(&run, "id")?;
    let pid = number(&run, "pid")?;
    let cgroup = PathBuf::from(field(&run, "cgroup").as_str().expect("checked"));
    wait_for("the run to hold 32 MiB", Duration::from_secs(20), || {
        Ok((knob(&cgroup, "memory.current")? >= 32 * MIB).then_some(()))
    })?;
    let killed = first.crash()?;
    ensure(killed.code().is_none(), || {
        format!("the daemon was not killed by the signal: {killed}")
    })?;
    let orphan = proc_state(pid);
    let still = history(setup)?;
    ensure(
        still
            .iter()
            .any(|r| number(r, "id") == Ok(id) && is_running(r)),
        || format!("run {id} not left `running` by the killed daemon: {still:?}"),
    )?;

    let second = Daemon::start(setup, "daemon-2.log")?;
    let report = status(setup)?;
    let adopted = field(&report, "running")
        .as_array()
        .is_some_and(|runs| runs.iter().any(|r| number(r, "id") == Ok(id)));
    let seats = field(&report, "slots")
        .as_array()
        .and_then(|slots| slots.iter().find(|s| field(s, "name") == "default"))
        .map(|s| number(s, "running"))
        .transpose()?;
    let ended_early = proc_state(pid).is_none_or(|(state, _)| state == 'Z');
    ensure(adopted || ended_early, || {
        format!("run {id} is not among the running runs after the restart: {report}")
    })?;
    ensure(seats == Some(1) || ended_early, || {
        format!("the adopted run holds no seat in `default`: {report}")
    })?;

    let record = wait_for(
        &format!("run {id} to be completed"),
        Duration::from_secs(30),
        || {
            let runs = history(setup)?;
            let done = !runs.iter().any(is_running);
            Ok(runs
                .into_iter()
                .find(|r| number(r, "id") == Ok(id))
                .filter(|_| done))
        },
    )?;
    expect_status(&record, "lost")?;
    let peak = number(&record, "memory_peak_bytes")?;
    ensure(peak >= 32 * MIB, || format!("memory_peak_bytes {peak}"))?;
    ensure(!cgroup.exists(), || {
        format!("{} left behind", cgroup.display())
    })?;
    let after = status(setup)?;
    ensure(
        field(&after, "running")
            .as_array()
            .is_some_and(Vec::is_empty),
        || format!("runs still in progress: {after}"),
    )?;
    let gone = proc_state(pid);
    drop(second);
    let reaped = match gone {
        None => "reaped".to_owned(),
        Some((state, ppid)) => format!("left as state {state} under pid {ppid}"),
    };
    Ok(format!(
        "run {id} (pid {pid}, parent after kill -9: {}) adopted (listed running: {adopted}, \
         seats taken: {seats:?}), completed lost with memory_peak {} after {} ms; \
         cgroup removed; its process {reaped}",
        orphan.map_or("gone".into(), |(_, ppid)| ppid.to_string()),
        mib(peak),
        number(&record, "duration_ms")?,
    ))
}

// ---- 4. SIGTERM ---------------------------------------------------------------------------

/// Two runs: one holding memory for 60 s (SIGTERM ends it), one shell that ignores SIGTERM.
/// SIGTERM to the daemon stops both (the second after the 1 s kill grace), records them
/// `killed`, removes their cgroups and exits 0.
pub fn sigterm_stops_runs_and_exits_cleanly() -> Result<String, String> {
    let sleeper = format!("command: [{}, hog, 4M, 60s]\n", suite_bin());
    let stubborn = "command: 'trap \"\" TERM; sleep 61'\n";
    let setup = setup(
        "sigterm",
        "",
        "  default: { max_concurrent: 5, memory_max: 200M }\n",
        &[("sleeper", &sleeper), ("stubborn", stubborn)],
    );
    let result = sigterm(&setup);
    with_logs(&setup, result)
}

fn sigterm(setup: &Setup) -> Result<String, String> {
    let mut daemon = Daemon::start(setup, "daemon.log")?;
    trigger(setup, "sleeper")?;
    trigger(setup, "stubborn")?;
    let runs = [
        wait_running(setup, "sleeper")?,
        wait_running(setup, "stubborn")?,
    ];
    // kill_grace is 1 s; a few more for the history and the cgroup cleanup under TCG.
    let (exit, took) = daemon.terminate(Duration::from_secs(15))?;
    ensure(exit.success(), || format!("the daemon exited {exit}"))?;
    ensure(took < Duration::from_secs(5), || {
        format!("the daemon took {took:?} to stop")
    })?;
    ensure(took >= Duration::from_millis(900), || {
        format!("the daemon stopped after {took:?}, without giving the 1 s kill grace")
    })?;
    let history = history(setup)?;
    let mut durations = Vec::new();
    for run in &runs {
        let (id, pid) = (number(run, "id")?, number(run, "pid")?);
        let cgroup = PathBuf::from(field(run, "cgroup").as_str().expect("checked"));
        let record = history
            .iter()
            .find(|r| number(r, "id") == Ok(id))
            .ok_or_else(|| format!("run {id} missing: {history:?}"))?;
        expect_status(record, "killed")?;
        ensure(!cgroup.exists(), || {
            format!("{} left behind", cgroup.display())
        })?;
        ensure(proc_state(pid).is_none(), || {
            format!(
                "the job's process {pid} is still there: {:?}",
                proc_state(pid)
            )
        })?;
        durations.push(number(record, "duration_ms")?);
    }
    let bin = suite_bin();
    let left = processes_running(&[&bin, "hog", "4M", "60s"]);
    ensure(left.is_empty(), || format!("job processes left: {left:?}"))?;
    let sleepers = processes_named("sleep");
    ensure(sleepers.is_empty(), || {
        format!("processes left: {sleepers:?}")
    })?;
    let socket = setup.dir.join("state/slotcron.sock");
    ensure(!socket.exists(), || {
        format!("{} left behind", socket.display())
    })?;
    Ok(format!(
        "daemon exited 0 {} ms after SIGTERM; both runs killed (durations {durations:?} ms), \
         cgroups and processes gone, socket removed",
        took.as_millis(),
    ))
}

// ---- 5. timeout ---------------------------------------------------------------------------

/// `limits.timeout: 1s` on a shell that ignores SIGTERM (as does its `sleep`, which inherits
/// the ignored signal): recorded `timeout` after the 1 s kill grace, nothing left.
pub fn times_out_a_job_that_ignores_sigterm() -> Result<String, String> {
    let job = "command: 'trap \"\" TERM; sleep 30'\nlimits: { timeout: 1s }\n";
    let setup = setup(
        "timeout",
        "",
        "  default: { max_concurrent: 5, memory_max: 200M }\n",
        &[("stubborn", job)],
    );
    let result = timeout(&setup);
    with_logs(&setup, result)
}

fn timeout(setup: &Setup) -> Result<String, String> {
    let mut daemon = Daemon::start(setup, "daemon.log")?;
    trigger(setup, "stubborn")?;
    let runs = wait_finished(setup, &["stubborn"], Duration::from_secs(30))?;
    let run = &runs[0];
    expect_status(run, "timeout")?;
    let duration = number(run, "duration_ms")?;
    // timeout 1 s + kill_grace 1 s + 2 s.
    ensure(duration < 4000, || format!("took {duration} ms: {run}"))?;
    ensure(duration >= 1900, || {
        format!("ended after {duration} ms: the 1 s kill grace was not given: {run}")
    })?;
    let sleepers = processes_named("sleep");
    ensure(sleepers.is_empty(), || {
        format!("processes left behind: {sleepers:?}")
    })?;
    if let Some(cgroup) = field(run, "cgroup").as_str() {
        ensure(!Path::new(cgroup).exists(), || {
            format!("{cgroup} left behind")
        })?;
    }
    let (exit, _) = daemon.terminate(Duration::from_secs(15))?;
    ensure(exit.success(), || format!("the daemon exited {exit}"))?;
    Ok(format!(
        "timeout after {duration} ms (1s timeout + 1s grace, signal {}), no process or \
         cgroup left",
        field(run, "signal")
    ))
}

// ---- 6. /metrics reads the real slot cgroups ------------------------------------------------

/// A run holding 48 MiB in the default slot: a scrape of `/metrics` while it runs shows the
/// slot's live `memory.current` at least that high, its `memory.max` as configured, one seat
/// taken and the job running; after it ends, its run is counted by status.
pub fn metrics_read_the_slot_cgroups() -> Result<String, String> {
    let hog = format!("command: [{}, hog, 48M, 8s]\n", suite_bin());
    let setup = setup(
        "metrics",
        "",
        "  default: { max_concurrent: 5, memory_max: 200M }\n",
        &[("hog", &hog)],
    );
    let result = scrape_during_a_run(&setup);
    with_logs(&setup, result)
}

fn scrape_during_a_run(setup: &Setup) -> Result<String, String> {
    let _daemon = Daemon::start(setup, "daemon.log")?;
    let addr_file = setup.dir.join("state/metrics.addr");
    let addr =
        std::fs::read_to_string(&addr_file).map_err(|e| format!("{}: {e}", addr_file.display()))?;
    trigger(setup, "hog")?;
    wait_running(setup, "hog")?;
    let current = wait_for(
        "the slot's memory.current to reach 48M in /metrics",
        Duration::from_secs(20),
        || {
            let text = scrape(addr.trim())?;
            Ok(sample(
                &text,
                "slotcron_slot_memory_current_bytes{slot=\"default\"}",
            )
            .filter(|v| *v >= 48.0 * MIB as f64)
            .map(|v| (v, text)))
        },
    )?;
    let (bytes, text) = current;
    let max = sample(&text, "slotcron_slot_memory_max_bytes{slot=\"default\"}");
    ensure(max == Some(200.0 * MIB as f64), || {
        format!("slot memory_max_bytes {max:?}, expected 200M")
    })?;
    for (series, want) in [
        ("slotcron_slot_running{slot=\"default\"}", 1.0),
        ("slotcron_job_running{job=\"hog\"}", 1.0),
    ] {
        let got = sample(&text, series);
        ensure(got == Some(want), || {
            format!("{series} = {got:?}, expected {want}")
        })?;
    }
    let pressure = sample(
        &text,
        "slotcron_slot_memory_pressure_avg10{slot=\"default\"}",
    );
    ensure(pressure.is_some(), || {
        "no PSI figure for the slot".to_owned()
    })?;
    wait_finished(setup, &["hog"], Duration::from_secs(30))?;
    let done = wait_for(
        "the run counted in /metrics",
        Duration::from_secs(10),
        || {
            let text = scrape(addr.trim())?;
            Ok(sample(
                &text,
                "slotcron_job_runs_total{job=\"hog\",slot=\"default\",status=\"success\"}",
            ))
        },
    )?;
    Ok(format!(
        "during the run: slot memory.current {} of memory.max 200.0M, 1 seat, job running; \
         after it: runs_total{{status=\"success\"}} {done}",
        mib(bytes as u64)
    ))
}

/// `GET /metrics` over plain TCP; the body.
fn scrape(addr: &str) -> Result<String, String> {
    get(addr, "/metrics")
}

/// `GET path` over plain TCP (HTTP/1.1, no keep-alive); the body of a 200 answer.
fn get(addr: &str, path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: slotcron\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {response:?}"))?;
    ensure(head.starts_with("HTTP/1.1 200"), || {
        format!("GET {path} answered {head:?}")
    })?;
    Ok(body.to_owned())
}

/// The value of the sample `series` (name with its labels, as printed) in a scrape.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

// ---- 7. GET /api/v1/slots reads the real slot cgroups ---------------------------------------

/// The dashboard's slot gauges come from `GET /api/v1/slots`: while a run holds 48 MiB in the
/// default slot, the slot's `live` figures are read from its cgroup (memory.current at least
/// 48M, memory.peak at least that, PSI present, pids counted), its limits are the configured
/// ones and one seat is taken; a second read has a CPU percentage.
pub fn api_slots_read_the_slot_cgroups() -> Result<String, String> {
    let hog = format!("command: [{}, hog, 48M, 8s]\n", suite_bin());
    let setup = setup(
        "api-slots",
        "",
        "  default: { max_concurrent: 5, memory_max: 200M }\n",
        &[("hog", &hog)],
    );
    let result = slots_during_a_run(&setup);
    with_logs(&setup, result)
}

fn slots_during_a_run(setup: &Setup) -> Result<String, String> {
    let _daemon = Daemon::start(setup, "daemon.log")?;
    let addr_file = setup.dir.join("state/metrics.addr");
    let addr =
        std::fs::read_to_string(&addr_file).map_err(|e| format!("{}: {e}", addr_file.display()))?;
    let addr = addr.trim();
    trigger(setup, "hog")?;
    wait_running(setup, "hog")?;
    let slot = wait_for(
        "the default slot's live memory_current_bytes to reach 48M in /api/v1/slots",
        Duration::from_secs(20),
        || {
            let slot = default_slot(addr)?;
            let current = slot["live"]["memory_current_bytes"].as_u64();
            Ok(current.filter(|b| *b >= 48 * MIB).map(|_| slot))
        },
    )?;
    let live = &slot["live"];
    let current = live["memory_current_bytes"].as_u64().unwrap_or(0);
    let peak = live["memory_peak_bytes"].as_u64();
    ensure(peak.is_some_and(|p| p >= current), || {
        format!("memory_peak_bytes {peak:?} below memory_current_bytes {current}")
    })?;
    ensure(slot["memory_max_bytes"].as_u64() == Some(200 * MIB), || {
        format!(
            "memory_max_bytes {}, expected 200M",
            slot["memory_max_bytes"]
        )
    })?;
    ensure(slot["running"].as_u64() == Some(1), || {
        format!("running {}, expected 1", slot["running"])
    })?;
    ensure(live["psi"]["memory_some_avg10"].is_number(), || {
        format!("no memory PSI in {live}")
    })?;
    ensure(
        live["pids_current"].as_u64().is_some_and(|n| n >= 1),
        || format!("pids_current {}, expected at least 1", live["pids_current"]),
    )?;
    std::thread::sleep(Duration::from_millis(700));
    let again = default_slot(addr)?;
    let cpu = again["live"]["cpu_percent"].as_f64();
    ensure(cpu.is_some_and(|c| c >= 0.0), || {
        format!("cpu_percent {cpu:?} on a second read, expected a number")
    })?;
    wait_finished(setup, &["hog"], Duration::from_secs(30))?;
    Ok(format!(
        "during the run: live memory.current {} (peak {}) of memory_max 200.0M, 1 seat, \
         PSI and pids present, cpu_percent {:.1} on the second read",
        mib(current),
        mib(peak.unwrap_or(0)),
        cpu.unwrap_or(0.0)
    ))
}

/// The `default` slot's element of `GET /api/v1/slots`.
fn default_slot(addr: &str) -> Result<Value, String> {
    let body = get(addr, "/api/v1/slots")?;
    let answer: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    answer["slots"]
        .as_array()
        .and_then(|slots| slots.iter().find(|s| s["name"] == "default"))
        .cloned()
        .ok_or_else(|| format!("no default slot in {body}"))
}
