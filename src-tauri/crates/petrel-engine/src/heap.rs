//! The process's heap on Linux (glibc): what the app keeps resident after big work.
//!
//! glibc keeps freed memory for reuse and gives back only the top of the heap on its own.
//! A first sync of 100k headers, the search indexing that follows and the pages sent to the
//! window free most of what they allocated, yet left ~160 MB resident in the main heap (UI
//! benchmark: 225 MB anonymous memory in the app process, 67 MB after one `malloc_trim`).
//! One keeper for the whole app gives it back, whichever job freed it, instead of each
//! job remembering to.

use std::time::Duration;

/// More than this sitting free in the heap is given back (32 MB left the app's memory at
/// rest 11 MB apart between runs of the UI bench, by when the last look fell).
pub const FREE_HEAP_LIMIT: usize = 16 << 20;

/// How often the keeper looks: long enough to cost nothing at rest (one `mallinfo2`, a
/// walk of the arenas' bins), short enough that the app settles soon after work ends.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// Blocks from this size up are mapped on their own and unmapped when freed.
pub const MAP_FROM: usize = 1 << 20;

/// Allocator settings, before any thread starts:
/// - glibc's default of 8 arenas per core kept memory freed by tokio's workers and sled's
///   threads in arenas nobody used again (the imap benchmark's RSS swung from 109 to 402 MB
///   between runs of one build); two cost nothing measurable.
/// - sled writes its log through 512 kB buffers aligned to 8 kB. glibc maps a block that
///   big on its own, and its "raise the threshold after a mapped block is freed" rule never
///   catches up with aligned blocks (it learns the aligned part's size, then the next
///   request adds the alignment again), so every buffer was mapped, faulted in page by page
///   and unmapped: 13% of the cache writer's samples at a million rows. A fixed threshold
///   above them keeps them in the heap for reuse; blocks of [`MAP_FROM`] and more still go
///   straight back to the system when freed. Fixing it fixes the heap's own trim point
///   too (at 128 kB, a freed buffer at the heap's top went back at once and the next was
///   faulted in again): twice the threshold, as glibc's moving rule keeps it; the
///   [`Keeper`] gives back the rest.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before other threads exist.
    #[allow(unsafe_code)] // allocator tuning (no safe API)
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_FROM as libc::c_int);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 2 * MAP_FROM as libc::c_int);
    }
}

/// What the allocator says of the heap.
struct Counters {
    /// Every arena's free chunks and top.
    free: usize,
    /// The small blocks handed out and the mapped large ones.
    in_use: usize,
    /// Blocks mapped on their own.
    mapped: usize,
}

/// The heap's counters, or `None` where the allocator cannot say.
fn counters() -> Option<Counters> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters.
        #[allow(unsafe_code)] // allocator statistics (no safe API)
        let info = unsafe { libc::mallinfo2() };
        Some(Counters {
            free: info.fordblks,
            in_use: info.uordblks.saturating_add(info.hblkhd),
            mapped: info.hblks,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// Blocks the allocator has mapped on their own, or `None` where it cannot say.
pub fn mapped_blocks() -> Option<usize> {
    counters().map(|c| c.mapped)
}

/// Bytes free inside the heap (all arenas, including each arena's top), or `None` where
/// the allocator cannot say.
pub fn free_bytes() -> Option<usize> {
    counters().map(|c| c.free)
}

/// Gives the free heap back to the OS when more than `limit` bytes sit free; the bytes
/// that were free before, when it did.
pub fn give_back_over(limit: usize) -> Option<usize> {
    let free = free_bytes().filter(|&free| free > limit)?;
    trim();
    Some(free)
}

/// What the keeper remembers between looks: how much resident anonymous memory the heap
/// did not account as in use right after the last trim (thread stacks, other allocators,
/// fragments glibc cannot release). Memory freed since shows as that excess growing: the
/// process keeps it resident while the heap's in-use count falls. Growth still in use
/// raises both and is left alone; and glibc's own "free" count is no guide, since it
/// keeps counting pages it already gave back.
#[derive(Debug, Default)]
pub struct Keeper {
    excess_after_trim: usize,
    /// Resident anonymous memory and heap in use at the last look.
    last: (usize, usize),
}

/// Once neither the process's resident memory nor the heap's use moved by more than this
/// between two looks, the app is at rest: whatever more than this sits freed since the
/// last trim is given back then, not only past [`FREE_HEAP_LIMIT`] (which bounds what work
/// in progress keeps, and alone could leave up to 16 MB resident at rest).
pub const AT_REST_SLACK: usize = 1 << 20;

impl Keeper {
    /// One look: gives the free heap back when more than [`FREE_HEAP_LIMIT`] was freed and
    /// kept resident since the last trim, or more than [`AT_REST_SLACK`] once the app is at
    /// rest. Returns the bytes the process shrank by, when it gave back.
    pub fn look(&mut self) -> Option<usize> {
        let anon = anon_resident()?;
        let in_use = in_use_bytes()?;
        let (last_anon, last_in_use) = std::mem::replace(&mut self.last, (anon, in_use));
        let at_rest = anon.abs_diff(last_anon) <= AT_REST_SLACK
            && in_use.abs_diff(last_in_use) <= AT_REST_SLACK;
        let limit = if at_rest {
            AT_REST_SLACK
        } else {
            FREE_HEAP_LIMIT
        };
        let before = anon.saturating_sub(in_use);
        if before <= self.excess_after_trim.saturating_add(limit) {
            self.excess_after_trim = self.excess_after_trim.min(before);
            return None;
        }
        trim();
        let after = anon_resident().unwrap_or(anon);
        let in_use = in_use_bytes().unwrap_or(0);
        self.excess_after_trim = after.saturating_sub(in_use);
        self.last = (after, in_use);
        Some(anon.saturating_sub(after))
    }
}

fn in_use_bytes() -> Option<usize> {
    counters().map(|c| c.in_use)
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the OS.
    #[allow(unsafe_code)] // returning freed heap (no safe API)
    unsafe {
        libc::malloc_trim(0);
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
/// nothing where the allocator cannot say what is in use.
pub fn keep_lean() {
    if anon_resident().is_none() || counters().is_none() {
        return;
    }
    let started = std::thread::Builder::new()
        .name("heap-keeper".into())
        .spawn(|| {
            let mut keeper = Keeper::default();
            loop {
                std::thread::sleep(LOOK_EVERY);
                if let Some(shrank) = keeper.look() {
                    tracing::debug!(
                        shrank_mb = shrank >> 20,
                        "gave free heap back to the system"
                    );
                }
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "could not start the heap keeper");
    }
}
