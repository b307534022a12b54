//! `npm run bench -- store`: the list view's read path on a 100k-message folder in the sled
//! cache. `imap_page_ms` is the median time of a 200-row page at a random position (goal
//! ≤ 20 ms); `cache_rank_build_ms` is the one-time cost of opening the folder (reading the
//! keys-only date index); `cache_page_vs_scan_ratio` compares a page with the naive
//! alternative, a scan of every row to sort them (what the design rules out).
//! `cache_bodies_*`: 20,000 message bodies of 5 kB stored in batches of 250 (an offline
//! download) and read back, against the floor of writing the same bytes to one file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{AccountId, Envelope};
use petrel_store::{FolderRef, MailCache, SledCache};
use std::time::Instant;

const ROWS: u32 = 100_000;

fn main() {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    if !filter.is_empty() && !"store".contains(filter.as_str()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let folder = FolderRef::new(&AccountId("bench".into()), "INBOX");
    // Dates out of UID order (imported or moved mail): every batch lands across the rank.
    let row = |uid: u32| Envelope {
        uid,
        from: format!(
            "Sender Name {} <sender{}@example.org>",
            uid % 977,
            uid % 977
        ),
        subject: format!(
            "Re: quarterly planning thread number {uid} with a realistic subject length"
        ),
        date: Some(1_700_000_000 + i64::from(uid) * 37 % 9_999_991),
        seen: !uid.is_multiple_of(7),
        flagged: uid.is_multiple_of(50),
        answered: false,
        has_attachment: false,
        size: 4_000 + u64::from(uid % 30_000),
    };
    // `cache_insert_100k_ms` in batches of 5,000; `cache_insert_100k_sync_batches_ms` in the
    // header sync's batches of 500 with a page read every 60 batches (the list's refresh).
    for (batch, name) in [
        (5_000, "cache_insert_100k_ms"),
        (500, "cache_insert_100k_sync_batches_ms"),
    ] {
        let dir = if batch == 5_000 {
            dir.path().to_path_buf()
        } else {
            tempfile::tempdir().unwrap().keep()
        };
        let cache = SledCache::open(&dir).unwrap();
        let t = Instant::now();
        for (n, chunk) in (1..=ROWS).collect::<Vec<_>>().chunks(batch).enumerate() {
            let rows: Vec<Envelope> = chunk.iter().map(|&uid| row(uid)).collect();
            cache.upsert(&folder, &rows).unwrap();
            if n % 60 == 59 {
                cache.page(&folder, 0, 200).unwrap();
            }
        }
        cache.flush().unwrap();
        println!("{name} {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
        if batch != 5_000 {
            drop(cache);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    // Reopen: the rank is built from disk the first time the folder is read.
    let cache = SledCache::open(dir.path()).unwrap();
    let t = Instant::now();
    let first = cache.page(&folder, 0, 200).unwrap();
    println!(
        "cache_rank_build_ms {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(first.rows.len(), 200);

    let mut times = Vec::new();
    let mut x: u64 = 12345;
    for _ in 0..101 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let offset = (x >> 33) as u32 % (ROWS - 200);
        let t = Instant::now();
        let page = cache.page(&folder, offset, 200).unwrap();
        times.push(t.elapsed());
        assert_eq!(page.rows.len(), 200);
    }
    times.sort();
    let page_ms = times[times.len() / 2].as_secs_f64() * 1000.0;
    println!("imap_page_ms {page_ms:.3} ms");

    // The ruled-out alternative: read every row and sort, for the same page.
    let mut scans = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let uids = cache.uids(&folder).unwrap();
        let mut all: Vec<Envelope> = Vec::with_capacity(uids.len());
        let page = cache.page(&folder, 0, ROWS).unwrap();
        all.extend(page.rows);
        all.sort_by_key(|r| std::cmp::Reverse((r.date, r.uid)));
        let _window: Vec<_> = all.into_iter().skip(50_000).take(200).collect();
        scans.push(t.elapsed());
    }
    scans.sort();
    let scan_ms = scans[1].as_secs_f64() * 1000.0;
    println!("cache_full_scan_page_ms {scan_ms:.1} ms");
    println!("cache_page_vs_scan_ratio {:.4} x", page_ms / scan_ms);
    drop(cache);
    bodies();
}

const BODIES: u32 = 20_000;
const BODY_BYTES: usize = 5_000;

fn body(uid: u32) -> Vec<u8> {
    let mut raw = format!("Subject: message {uid}\r\n\r\n").into_bytes();
    raw.resize(BODY_BYTES, b'a' + (uid % 26) as u8);
    raw
}

/// Bytes under `dir`, files in subfolders included.
fn disk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                disk_bytes(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn bodies() {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let uids: Vec<u32> = (1..=BODIES).collect();
    let (mut writes, mut reads, mut floors, mut disk) = (vec![], vec![], vec![], 0);
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let folder = FolderRef::new(&AccountId("bench".into()), "Bodies");
        let cache = SledCache::open(dir.path()).unwrap();
        let rows: Vec<Envelope> = uids
            .iter()
            .map(|&uid| Envelope {
                uid,
                from: "a".into(),
                subject: "b".into(),
                date: Some(i64::from(uid)),
                seen: true,
                flagged: false,
                answered: false,
                has_attachment: false,
                size: BODY_BYTES as u64,
            })
            .collect();
        cache.upsert(&folder, &rows).unwrap();
        let t = Instant::now();
        for chunk in uids.chunks(250) {
            let batch: Vec<(u32, Vec<u8>)> = chunk.iter().map(|&u| (u, body(u))).collect();
            cache.set_bodies(&folder, &batch).unwrap();
        }
        cache.flush().unwrap();
        writes.push(t.elapsed().as_secs_f64() * 1000.0);
        disk = disk_bytes(dir.path());
        let t = Instant::now();
        for &uid in &uids {
            assert_eq!(
                cache.body(&folder, uid).unwrap().map(|b| b.len()),
                Some(BODY_BYTES)
            );
        }
        reads.push(t.elapsed().as_secs_f64() * 1000.0);

        // The floor: the same bytes, made the same way, appended to one file.
        let t = Instant::now();
        let mut file = std::fs::File::create(dir.path().join("floor")).unwrap();
        for chunk in uids.chunks(250) {
            let batch: Vec<Vec<u8>> = chunk.iter().map(|&u| body(u)).collect();
            for raw in &batch {
                std::io::Write::write_all(&mut file, raw).unwrap();
            }
        }
        file.sync_data().unwrap();
        floors.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (write, floor) = (median(writes), median(floors));
    println!("cache_bodies_write_ms {write:.0} ms (20k x 5 kB, batches of 250, flushed)");
    println!("cache_bodies_write_floor_ms {floor:.0} ms (the same bytes to one file, synced)");
    println!("cache_bodies_write_vs_floor {:.2} x", write / floor);
    println!(
        "cache_bodies_read_ms {:.0} ms (every body, one by one)",
        median(reads)
    );
    println!(
        "cache_bodies_disk_mb {:.0} MB (of {} MB of bodies)",
        disk as f64 / 1e6,
        u64::from(BODIES) * BODY_BYTES as u64 / 1_000_000
    );
}
