//! The allocator's settings ([`petrel_engine::heap::tune`]): sled's log buffers are reused
//! from the heap. Its own test binary, one test: a heap other tests have freed memory into
//! would serve the buffers from its free space whatever the settings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_cache_writers_aligned_buffers_are_reused_not_mapped_each_time() {
    use petrel_engine::heap;
    use std::alloc::{alloc, dealloc, Layout};
    heap::tune();
    // sled's log buffer: a 512 kB segment, 8 kB aligned. With glibc's moving threshold
    // each one was mapped on its own, faulted in and unmapped when freed.
    let layout = Layout::from_size_align(512 * 1024, 8192).unwrap();
    let mapped_before = heap::mapped_blocks().unwrap();
    let mut faults_after_the_first = 0;
    for round in 0..8 {
        let faults_before = page_faults();
        // SAFETY: the layout is not zero-sized; the block is written within it and freed
        // with it.
        #[allow(unsafe_code)]
        unsafe {
            let block = alloc(layout);
            assert!(!block.is_null());
            block.write_bytes(1, layout.size());
            assert_eq!(
                heap::mapped_blocks().unwrap(),
                mapped_before,
                "a log buffer should come from the heap, not a mapping of its own"
            );
            dealloc(block, layout);
        }
        if round > 0 {
            faults_after_the_first += page_faults() - faults_before;
        }
    }
    // Nor given back at once and faulted in again (128 pages a buffer): the heap keeps it.
    assert!(
        faults_after_the_first < 128,
        "reused buffers should not be faulted in again: {faults_after_the_first} page faults"
    );
}

/// This thread's minor page faults so far.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn page_faults() -> i64 {
    // SAFETY: getrusage writes only the struct it is given.
    #[allow(unsafe_code)]
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
        usage.ru_minflt
    }
}
