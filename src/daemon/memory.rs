//! Giving back the memory a reload used for a moment. Loading `jobs_dir` parses every file
//! (YAML trees, JSON definitions for the history) and so touches several times the heap the
//! loaded jobs keep. glibc keeps freed pages mapped for later use, and the jobs that stay
//! are scattered among them, so without a trim the daemon would stay at its reload peak for
//! good: 7 MB more with 1,000 jobs (`docs/adr/0012-daemon-memory.md`).

/// Returns the free pages of every malloc arena to the kernel (`malloc_trim(0)`), where
/// the C library is glibc; elsewhere a no-op. Takes about 1 ms after a reload of 1,000 jobs,
/// 15-50 ms after 10,000; the pages are faulted in again, zeroed, by the next reload.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it works under each arena's own lock, so
    // other threads may allocate meanwhile.
    unsafe {
        libc::malloc_trim(0);
    }
}
