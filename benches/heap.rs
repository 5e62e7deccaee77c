//! Issue 3, target 3, part by part: where the daemon's memory per job goes. A counting
//! global allocator tracks the live Rust heap; SQLite's own allocations (it calls `malloc`
//! directly) come from `sqlite3_memory_used`. Loads `BENCH_JOBS` job files (default 1,000,
//! like those of `benches/daemon-rss`) and walks the daemon's first reload stage by stage
//! (the calls of the first `daemon::reload::reload`, in its order, with its page-cache release),
//! printing the live heap after each, then what one parsed cron expression keeps. What
//! glibc keeps of freed memory is not heap in use, so it does not show here: compare with
//! `bash benches/daemon-rss` (`docs/adr/0012-daemon-memory.md`).
//!
//! `cargo bench --bench heap`

#[path = "support/mod.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Utc;
use slotcron::config::{Catalog, Schedule};
use slotcron::daemon::registry::{Registry, sync_history};
use slotcron::store::{JobSummary, Store};

use support::Setup;

/// The system allocator, counting the bytes currently allocated and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        new
    }
}

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let jobs: usize = std::env::var("BENCH_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let setup = Setup::new("");
    for i in 0..jobs {
        // As benches/daemon-rss writes them: distinct daily times.
        setup.write_job(
            &format!("job-{i}"),
            &format!(
                "command: [/bin/true]\nschedule: \"{} {} * * *\"\ntimezone: UTC\n",
                i % 60,
                (2 + (i / 60) % 20) % 24
            ),
        );
    }
    let settings = slotcron::config::load_settings(Some(&setup.config)).expect("settings");
    let mut store = Store::open(&setup.path("state/slotcron.db")).expect("history");

    println!("live heap by stage of the first reload, {jobs} jobs (KB; peak since the last line)");
    let base = report("store open, nothing loaded", 0);
    let mut last = base;
    let catalog = Catalog::load_dir(&settings.jobs_dir, &settings);
    assert_eq!(catalog.jobs.len(), jobs, "{:?}", catalog.problems);
    last = report("Catalog::load_dir", last);
    sync_history(&mut store, &catalog, Utc::now()).expect("sync");
    last = report("sync_history", last);
    let mut controls = store.job_controls().expect("controls");
    let mut summaries: HashMap<String, JobSummary> = store.job_summaries().expect("summaries");
    last = report("job_controls, job_summaries", last);
    let mut registry = Registry::default();
    registry.apply(catalog, |name| {
        (
            controls.remove(name).unwrap_or_default(),
            summaries.remove(name).unwrap_or_default(),
        )
    });
    drop((controls, summaries));
    last = report("Registry::apply, temporaries dropped", last);
    store.release_memory().expect("release");
    report("Store::release_memory", last);
    let heap = LIVE.load(Ordering::Relaxed) + sqlite_used();
    println!(
        "  {:<46} {:>9.1} KB a job",
        "kept, Rust heap + SQLite",
        (heap - base) as f64 / 1024.0 / jobs as f64
    );

    let before = LIVE.load(Ordering::Relaxed);
    let cron = Schedule::parse("17 3 * * *").expect("cron");
    println!(
        "  {:<46} {:>9} B",
        "one parsed cron expression (Schedule)",
        LIVE.load(Ordering::Relaxed) - before
    );
    drop(cron);
    drop(registry);
}

/// Prints the live heap (Rust + SQLite) and its change since `last`; returns it.
fn report(stage: &str, last: usize) -> usize {
    let rust = LIVE.load(Ordering::Relaxed);
    let sqlite = sqlite_used();
    let peak = PEAK.swap(rust, Ordering::Relaxed);
    println!(
        "  {stage:<40} rust {:>8.1}  sqlite {:>7.1}  change {:>+8.1}  rust peak {:>8.1}",
        rust as f64 / 1024.0,
        sqlite as f64 / 1024.0,
        (rust + sqlite) as f64 / 1024.0 - last as f64 / 1024.0,
        peak as f64 / 1024.0,
    );
    rust + sqlite
}

/// Bytes SQLite has allocated (page cache, schema, statements), all connections.
fn sqlite_used() -> usize {
    // SAFETY: a plain read of SQLite's global counter; thread-safe by SQLite's contract.
    usize::try_from(unsafe { rusqlite::ffi::sqlite3_memory_used() }).unwrap_or(0)
}
