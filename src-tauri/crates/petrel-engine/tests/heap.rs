//! The heap keeper's mechanism: freed memory that glibc keeps resident is given back once
//! more than the limit sits free (the app's keeper thread calls this every few seconds).
//! Its own test binary: the measurement must not share the heap with other tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The tests measure the one process-wide heap: one at a time.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static HEAP: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn freed_memory_over_the_limit_goes_back_to_the_system() {
    use petrel_engine::heap;
    let _one = HEAP.lock().unwrap_or_else(|p| p.into_inner());
    // Many small blocks, as a sync's parsed rows are: freed, they stay in glibc's bins
    // below the heap's top (a big block would go back to the system by itself). One block
    // in 64 is kept until after the others are freed, so the freed runs (~30 kB each,
    // whole pages) cannot merge into the top and be released without a trim.
    let blocks: Vec<Vec<u8>> = (0..400_000).map(|i| vec![(i % 251) as u8; 480]).collect();
    let (freed, kept): (Vec<_>, Vec<_>) = blocks
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 64 != 0);
    drop(freed);
    let before = rss_kb();
    let free = heap::free_bytes().unwrap();
    assert!(
        free > 64 << 20,
        "freed blocks should sit free in the heap: {free} bytes"
    );

    // Under the limit: nothing done.
    assert_eq!(heap::give_back_over(free + (1 << 20)), None);
    // Over it: given back.
    assert!(heap::give_back_over(heap::FREE_HEAP_LIMIT).is_some());
    let after = rss_kb();
    assert!(
        before - after > 128 * 1024,
        "resident memory should fall by most of the freed ~190 MB: {before} kB -> {after} kB"
    );
    // The keeper: memory that grew while in use is not given back (it is not free)...
    let mut keeper = heap::Keeper::default();
    let more: Vec<Vec<u8>> = (0..200_000).map(|i| vec![(i % 13) as u8; 480]).collect();
    let _ = keeper.look();
    // ... but once freed, it is, though the process did not grow since that look;
    let (freed, kept_too): (Vec<_>, Vec<_>) =
        more.into_iter().enumerate().partition(|(i, _)| i % 64 != 0);
    drop(freed);
    assert!(
        keeper.look().is_some(),
        "memory freed after the last look is given back"
    );
    // and looking again at once finds nothing new and leaves the heap alone (glibc still
    // counts trimmed pages as free, so "much is free" alone would trim forever).
    assert_eq!(keeper.look(), None, "nothing new was freed since");
    assert_eq!(kept.len() + kept_too.len(), 6_250 + 3_125);
    assert!(kept.iter().all(|(i, b)| b[0] == (i % 251) as u8));
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn memory_freed_under_the_limit_goes_back_once_the_app_is_at_rest() {
    use petrel_engine::heap;
    let _one = HEAP.lock().unwrap_or_else(|p| p.into_inner());
    let mut keeper = heap::Keeper::default();
    // Two looks with nothing happening: the keeper knows the process at rest.
    let _ = keeper.look();
    let _ = keeper.look();
    // Work: ~8 MB of small blocks (half the limit), then freed but for one in 64.
    let blocks: Vec<Vec<u8>> = (0..17_000).map(|i| vec![(i % 251) as u8; 480]).collect();
    assert_eq!(keeper.look(), None, "memory in use is never given back");
    let (freed, kept): (Vec<_>, Vec<_>) = blocks
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 64 != 0);
    drop(freed);
    // Right after the work, what it freed is under the limit: kept for the next job...
    assert_eq!(
        keeper.look(),
        None,
        "work in progress keeps up to the limit"
    );
    // ... and given back at the next look that finds nothing moving.
    let before = rss_kb();
    assert!(
        keeper.look().is_some(),
        "at rest, memory freed since the last trim is given back"
    );
    let after = rss_kb();
    assert!(
        before - after > 4 * 1024,
        "resident memory should fall by most of the freed ~8 MB: {before} kB -> {after} kB"
    );
    assert_eq!(keeper.look(), None, "nothing new was freed since");
    assert!(kept.iter().all(|(i, b)| b[0] == (i % 251) as u8));
}
