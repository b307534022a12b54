//! The process's heap on Linux (glibc): what the app keeps resident after big work.
//!
//! glibc keeps freed memory for reuse and gives back only the top of the heap on its own.
//! A first sync of 100k headers, the search indexing that follows and the pages sent to the
//! window free most of what they allocated, yet left ~160 MB resident in the main heap (UI
//! benchmark: 225 MB anonymous memory in the app process, 67 MB after one `malloc_trim`).
//! One keeper for the whole app gives it back, whichever job freed it, instead of each
//! job remembering to.

use std::time::Duration;

/// More than this sitting free in the heap is given back.
pub const FREE_HEAP_LIMIT: usize = 32 << 20;

/// How often the keeper looks: long enough to cost nothing at rest (one `mallinfo2`, a
/// walk of the arenas' bins), short enough that the app settles soon after work ends.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// Allocator settings, before any thread starts: glibc's default of 8 arenas per core kept
/// memory freed by tokio's workers and sled's threads in arenas nobody used again (the imap
/// benchmark's RSS swung from 109 to 402 MB between runs of one build); two cost nothing
/// measurable.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before other threads exist.
    #[allow(unsafe_code)] // allocator tuning (no safe API)
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Bytes free inside the heap (all arenas, including each arena's top), or `None` where
/// the allocator cannot say.
pub fn free_bytes() -> Option<usize> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters.
        #[allow(unsafe_code)] // allocator statistics (no safe API)
        let info = unsafe { libc::mallinfo2() };
        Some(info.fordblks)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// Gives the free heap back to the OS when more than `limit` bytes sit free; the bytes
/// that were free before, when it did.
pub fn give_back_over(limit: usize) -> Option<usize> {
    let free = free_bytes().filter(|&free| free > limit)?;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the OS.
    #[allow(unsafe_code)] // returning freed heap (no safe API)
    unsafe {
        libc::malloc_trim(0);
    }
    Some(free)
}

/// What the keeper remembers between looks: the anonymous memory the process held when
/// it last settled. glibc still counts trimmed pages as free, so "much is free" alone would
/// trim every few seconds forever; growth since the last settle is what says new work
/// freed (or used) memory, and only then are the allocator's counters read.
#[derive(Debug, Default)]
pub struct Keeper {
    settled_anon: usize,
}

impl Keeper {
    /// One look: gives back the free heap when the process grew by more than
    /// [`FREE_HEAP_LIMIT`] since it last settled and that much sits free. Returns the free
    /// bytes given back, when it did.
    pub fn look(&mut self) -> Option<usize> {
        let anon = anon_resident()?;
        if anon <= self.settled_anon.saturating_add(FREE_HEAP_LIMIT) {
            // Shrinking (WebKit, a trim) lowers the mark so later growth is seen.
            self.settled_anon = self.settled_anon.min(anon);
            return None;
        }
        let given = give_back_over(FREE_HEAP_LIMIT);
        self.settled_anon = anon_resident().unwrap_or(anon);
        given
    }
}

/// The process's resident anonymous memory (heap, stacks, mapped allocations), in bytes.
fn anon_resident() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Starts the keeper: a thread that looks every few seconds (see [`Keeper`]). Does
/// nothing where the allocator cannot say what is free.
pub fn keep_lean() {
    if free_bytes().is_none() || anon_resident().is_none() {
        return;
    }
    let started = std::thread::Builder::new()
        .name("heap-keeper".into())
        .spawn(|| {
            let mut keeper = Keeper::default();
            loop {
                std::thread::sleep(LOOK_EVERY);
                if let Some(free) = keeper.look() {
                    tracing::debug!(free_mb = free >> 20, "gave free heap back to the system");
                }
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "could not start the heap keeper");
    }
}
