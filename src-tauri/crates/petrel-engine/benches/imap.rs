//! `npm run bench -- imap`: the IMAP engine at scale, against the harness's Dovecot, with
//! baselines measured in the same run. Prints `metric value unit` lines:
//! - `imap_header_sync_ratio`: first open of a 100k-message folder (TLS, login, header sync
//!   into a fresh sled cache, first page) — throughput relative to a bare client sending the
//!   same commands and discarding the replies (1.0 = as fast as the floor; goal >= 0.8);
//! - `imap_header_sync_cpu_ms`: the client's CPU time in that first open (every thread), and
//!   the bare client's: on two cores shared with the server, what Petrel adds competes
//!   with Dovecot;
//! - `imap_resync_round_trips`, `imap_resync_ms`: resync of the unchanged folder (goal <= 2);
//! - `imap_page_ms`: a 200-row page at a random position, from the cache (goal <= 20);
//! - `imap_rank_build_ms`: the first page after reopening the cache (the folder's rank
//!   built from the date index; goal <= 1,000 at a million messages);
//! - `imap_header_sync_indexing_ratio`: the first open again with the search index
//!   following the sync as in the app (its own bare runs, alternating as in the first);
//!   `imap_header_sync_indexing_cost`, its time over the sync without the index (goal: ~1,
//!   the index waits for syncs); `imap_index_after_sync_ms`, from the sync's end until
//!   every row is searchable;
//! - `imap_rss_mb`: this process's resident memory after the 100k sync (goal <= 150);
//! - `imap_body_sync_vs_mbsync`: full offline sync (headers and bodies) of 20k messages,
//!   Petrel's time over mbsync's (isync, `FSync no`), fresh stores each run (goal <= 0.5);
//!   `imap_body_sync_vs_floor`, over a bare client's one FETCH of every message (kept nowhere).
//!
//! `PETREL_BENCH_MESSAGES` / `PETREL_BENCH_BODIES` set the folders' sizes (a quick look, or
//! `PETREL_BENCH_MESSAGES=1000000`); `PETREL_BENCH_NO_INDEX` skips the indexing part.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

#[path = "common/mod.rs"]
mod common;

use common::{account_form, cpu_ms, env_count, median, mix, rss_mb, Bare};
use petrel_core::AccountId;
use petrel_engine::{Engine, FolderRef, MailCache, SledCache, TrustPolicy};
use petrel_harness::{Harness, MemorySecrets};
use std::sync::Arc;
use std::time::Instant;

/// Runs per measure, alternating with the baseline: Dovecot's warmth moves single runs of
/// either side by ±0.07 of the ratio on two shared cores; the median of five holds better.
const SYNC_RUNS: usize = 5;
const PAGE_RUNS: usize = 31;
/// Tells a `perf record --control fifo:…` waiting on `PETREL_BENCH_PERF_CTL` to start or
/// stop sampling (perf reads commands such as `enable` and `disable`, one per line).
fn perf_control(command: &str) {
    if let Some(fifo) = std::env::var_os("PETREL_BENCH_PERF_CTL") {
        std::fs::write(fifo, format!("{command}\n")).unwrap();
    }
}

/// The same items Petrel's sync asks for.
fn header_query() -> String {
    format!(
        "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
        petrel_render::LIST_HEADER_FIELDS
    )
}

/// A message with the headers real mail carries (Received, DKIM, Message-ID, threading,
/// MIME) and sizes like a mailbox's: most a few kB, some larger with an attachment.
fn message(i: usize) -> Vec<u8> {
    let r = mix(i, 1);
    let body_len = match r % 100 {
        0..=59 => 300 + (r >> 8) % 1_700,
        60..=89 => 2_000 + (r >> 8) % 6_000,
        _ => 8_000 + (r >> 8) % 32_000,
    } as usize;
    let day = 1 + (i / 4_000) % 28;
    let (hh, mm, ss) = ((i / 3_600) % 24, (i / 60) % 60, i % 60);
    let subject = match r % 5 {
        0 => format!("Re: Quarterly planning, item {}", i % 97),
        1 => format!("=?UTF-8?Q?R=C3=A9union_du_{}?= and agenda", i % 31),
        2 => format!("[list-{}] Weekly digest #{i}", i % 7),
        3 => format!("Invoice {i} for November"),
        _ => format!("Photos from the trip ({} attached)", 1 + i % 5),
    };
    let threading = if r.is_multiple_of(3) {
        format!("In-Reply-To: <m{}@example.test>\r\nReferences: <m{}@example.test> <m{}@example.test>\r\n", i.saturating_sub(1), i.saturating_sub(2), i.saturating_sub(1))
    } else {
        String::new()
    };
    let mut m = format!(
        "Return-Path: <sender{s}@example.org>\r\n\
         Received: from mx{s}.example.org (mx{s}.example.org [192.0.2.{o}])\r\n\tby mail.example.test with ESMTPS id {r:x}\r\n\tfor <alice@example.test>; Mon, {day:02} Nov 2026 {hh:02}:{mm:02}:{ss:02} +0000\r\n\
         DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to:subject:date;\r\n\tbh={bh}=;\r\n\tb={b}\r\n\
         From: Sender {s} <sender{s}@example.org>\r\nTo: Alice <alice@example.test>\r\n\
         Subject: {subject}\r\nDate: Mon, {day:02} Nov 2026 {hh:02}:{mm:02}:{ss:02} +0000\r\n\
         Message-ID: <m{i}@example.test>\r\n{threading}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        s = r % 500,
        o = r % 250,
        bh = "x".repeat(43),
        b = "Q".repeat(160),
    );
    let line = "The quick brown fox jumps over the lazy dog, again and again.\r\n";
    while m.len() < body_len + 900 {
        m.push_str(line);
    }
    m.into_bytes()
}

/// The bare client's initial header sync: the same commands Petrel sends.
async fn bare_header_sync(h: &Harness, ca: &[u8], folder: &str, messages: usize) {
    let mut b = Bare::connect(h, ca).await;
    b.command(&format!("EXAMINE {folder}")).await;
    for end in (1..=messages).rev().step_by(500) {
        b.command(&format!(
            "FETCH {}:{end} {}",
            end.saturating_sub(499).max(1),
            header_query()
        ))
        .await;
    }
}

fn mbsync_config(dir: &std::path::Path, h: &Harness, folder: &str) -> std::path::PathBuf {
    let alice = h.user("alice");
    let maildir = dir.join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    let config = format!(
        "FSync no\n\n\
         IMAPAccount bench\nHost localhost\nPort {port}\nUser {user}\nPass \"{pass}\"\nSSLType IMAPS\nCertificateFile {ca}\n\n\
         IMAPStore far\nAccount bench\n\n\
         MaildirStore near\nPath {near}/\nInbox {near}/INBOX\n\n\
         Channel bench\nFar :far:{folder}\nNear :near:{folder}\nCreate Near\nSync Pull\nExpunge None\nSyncState *\n",
        port = h.ports.imaps,
        user = alice.login,
        pass = alice.password,
        ca = h.ca_path().display(),
        near = maildir.display(),
    );
    let path = dir.join("mbsyncrc");
    std::fs::write(&path, config).unwrap();
    path
}

fn main() {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    if !filter.is_empty() && !"imap".contains(filter.as_str()) {
        return;
    }
    // The allocator set up as the app sets it (arenas, mapping threshold), before any thread.
    petrel_engine::heap::tune();
    let messages = env_count("PETREL_BENCH_MESSAGES", 100_000);
    let bodies = env_count("PETREL_BENCH_BODIES", 20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let h = Harness::start_for_bench().expect("harness starts");
    let t = Instant::now();
    h.seed_generated("alice", "INBOX", messages, message, false)
        .unwrap();
    h.seed_generated("alice", "Bodies", bodies, |i| message(i + 7), false)
        .unwrap();
    eprintln!(
        "seeded {messages} + {bodies} messages in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let ca = h.ca_pem().as_bytes().to_vec();

    let work = async move {
        let secrets: Arc<MemorySecrets> = Arc::default();
        let config = tempfile::tempdir().unwrap();
        let trust = TrustPolicy::with_pem_roots(&ca).unwrap();
        let setup = Engine::open(
            config.path(),
            secrets.clone(),
            trust.clone(),
            Arc::new(petrel_engine::MemoryCache::new()),
        )
        .unwrap();
        let id: AccountId = setup.add_account(account_form(&h)).await.unwrap().id;
        drop(setup);
        // Dovecot indexes a folder on first look; warm both so neither side pays for it.
        let t = Instant::now();
        bare_header_sync(&h, &ca, "INBOX", messages).await;
        bare_header_sync(&h, &ca, "Bodies", bodies).await;
        let mut warm = Bare::connect(&h, &ca).await;
        warm.command("SELECT Bodies").await;
        warm.command("FETCH 1:* BODY.PEEK[]").await;
        // Dovecot reads a maildir's whole file list again (200 ms at 100k, 500 ms at a
        // million) on an open when it last looked within a second of the directory's change
        // (`MAILDIR_SYNC_SECS`: file times may be that coarse), which the seeding and the
        // first read-write open below leave behind; the first measured run, Petrel's, paid
        // for it. That open moves the seeded mail from new/ to cur/ as any client's first
        // SELECT does (flags unchanged; Bodies' above too, or mbsync's first run, which
        // opens read-write, would pay for it). Then the disk is synced (the seeding's
        // writeback would compete with the runs) and the folder opened, a second apart,
        // until an open costs what an unchanged folder's does.
        warm.command("SELECT INBOX").await;
        drop(warm);
        let synced = std::process::Command::new("sync").status();
        assert!(
            synced.as_ref().is_ok_and(|s| s.success()),
            "sync: {synced:?}"
        );
        for _ in 0..10 {
            tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
            let mut probe = Bare::connect(&h, &ca).await;
            let t = Instant::now();
            probe.command("EXAMINE INBOX").await;
            if t.elapsed() < std::time::Duration::from_millis(20) {
                break;
            }
        }
        eprintln!("warmed Dovecot in {:.1} s", t.elapsed().as_secs_f64());

        // 1. First open of the 100k folder, alternating Petrel and the bare client.
        let (mut petrel, mut bare) = (vec![], vec![]);
        let (mut petrel_cpu, mut bare_cpu) = (vec![], vec![]);
        let mut kept: Option<(Engine, Arc<SledCache>, tempfile::TempDir)> = None;
        let mut first_rss = None;
        for _ in 0..SYNC_RUNS {
            drop(kept.take());
            let cache_dir = tempfile::tempdir().unwrap();
            let cache = Arc::new(SledCache::open(cache_dir.path()).unwrap());
            let engine_cache: Arc<dyn MailCache> =
                if std::env::var_os("PETREL_BENCH_MEMORY_CACHE").is_some() {
                    Arc::new(petrel_engine::MemoryCache::new())
                } else {
                    cache.clone()
                };
            let engine =
                Engine::open(config.path(), secrets.clone(), trust.clone(), engine_cache).unwrap();
            perf_control("enable");
            let (t, cpu) = (Instant::now(), cpu_ms());
            let page = engine.envelopes(&id, "INBOX", 0, 200, false).await.unwrap();
            petrel.push(t.elapsed());
            perf_control("disable");
            petrel_cpu.push(cpu_ms() - cpu);
            // What the app holds after syncing the folder once (later runs also carry what
            // the allocator kept from the caches of earlier runs).
            first_rss.get_or_insert_with(rss_mb);
            if std::env::var_os("PETREL_BENCH_ONLY_SYNC").is_some() {
                eprintln!("after one sync: rss/peak {:?} MB", rss_mb());
                // Then one bare sync, so a profile holds both sides of one measure.
                perf_control("enable");
                let t = Instant::now();
                bare_header_sync(&h, &ca, "INBOX", messages).await;
                perf_control("disable");
                eprintln!("petrel {:?}, bare {:?}", petrel[0], t.elapsed());
                return;
            }
            assert_eq!((page.rows.len(), page.total as usize), (200, messages));
            kept = Some((engine, cache, cache_dir));
            let (t, cpu) = (Instant::now(), cpu_ms());
            bare_header_sync(&h, &ca, "INBOX", messages).await;
            bare.push(t.elapsed());
            bare_cpu.push(cpu_ms() - cpu);
            eprintln!(
                "header sync: petrel {:?}, bare {:?}",
                petrel[petrel.len() - 1],
                bare[bare.len() - 1]
            );
        }
        let (rss, peak) = first_rss.unwrap_or_default();
        let (petrel_ms, bare_ms) = (median(petrel), median(bare));
        println!("imap_header_sync_{messages}_ms {petrel_ms:.0} ms");
        println!("imap_header_sync_{messages}_baseline_ms {bare_ms:.0} ms");
        println!("imap_header_sync_ratio {:.2} x", bare_ms / petrel_ms);
        let middle = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "imap_header_sync_cpu_ms {:.0} ms (CPU time of the client, all threads, median; bare client {:.0} ms)",
            middle(petrel_cpu),
            middle(bare_cpu)
        );
        println!("imap_rss_mb {rss:.0} MB");
        println!("imap_rss_peak_mb {peak:.0} MB");
        if std::env::var_os("PETREL_BENCH_MEMORY_CACHE").is_some() {
            // A ceiling for the sync (what a cache that costs nothing would give); what
            // follows reads and reopens the sled cache, which that sync did not fill.
            eprintln!("PETREL_BENCH_MEMORY_CACHE: the sync's figures only");
            return;
        }
        let (engine, cache, synced_dir) = kept.expect("synced");

        // 2. Resync of the unchanged folder: the engine's sync on its own session.
        let folder = FolderRef::new(&id, "INBOX");
        let alice = h.user("alice");
        let mut session = petrel_imap_session(&h, &alice.password, &trust).await;
        let (mut times, mut trips) = (vec![], 0);
        for _ in 0..9 {
            let t = Instant::now();
            let report = session
                .sync_folder(cache.clone() as Arc<dyn MailCache>, &folder, |_, _| {})
                .await
                .unwrap();
            times.push(t.elapsed());
            assert_eq!(report.added + report.removed + report.flags_changed, 0);
            trips = report.round_trips;
        }
        println!("imap_resync_round_trips {trips} round_trips");
        println!("imap_resync_ms {:.2} ms", median(times));

        // 3. Pages at random positions, from the cache.
        let mut times = vec![];
        for i in 0..PAGE_RUNS {
            let offset = (mix(i, 99) % messages.saturating_sub(200).max(1) as u64) as u32;
            let t = Instant::now();
            let page = engine
                .envelopes(&id, "INBOX", offset, 200, false)
                .await
                .unwrap();
            times.push(t.elapsed());
            assert_eq!(page.rows.len(), 200.min(messages - offset as usize));
        }
        println!("imap_page_ms {:.2} ms", median(times));
        drop(engine);

        // 3a. The rank (positions of every row by date) built from disk: what the first
        // page of a folder costs after a restart.
        drop(session);
        drop(cache);
        // The engine's tasks let go of the cache shortly after it is dropped.
        let deadline = Instant::now() + std::time::Duration::from_secs(20);
        let cache = loop {
            match SledCache::open(synced_dir.path()) {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => eprintln!("reopening the cache: {e}"),
                Err(e) => panic!("the cache did not reopen: {e}"),
            }
        };
        let t = Instant::now();
        let page = cache.page(&folder, 0, 200).unwrap();
        println!(
            "imap_rank_build_ms {:.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        assert_eq!(page.rows.len(), 200.min(messages));
        drop(cache);

        // 3b. (skipped with PETREL_BENCH_NO_INDEX, for the million-message run)
        if std::env::var_os("PETREL_BENCH_NO_INDEX").is_none() {
            // 3b. The first open again with the search index following (as in the app): the
            // index builds from the journal while the rows arrive. Runs alternate with the bare
            // client as in 1 (each sync starts after a bare run), with their own baseline.
            let (mut indexing, mut caught_up, mut bare) = (vec![], vec![], vec![]);
            for _ in 0..SYNC_RUNS {
                let _ = std::fs::remove_dir_all(config.path().join("search-index"));
                let cache_dir = tempfile::tempdir().unwrap();
                let cache = Arc::new(SledCache::open(cache_dir.path()).unwrap());
                let engine = Arc::new(
                    Engine::open(config.path(), secrets.clone(), trust.clone(), cache).unwrap(),
                );
                let follower = engine.follow_search_index();
                let t = Instant::now();
                let page = engine.envelopes(&id, "INBOX", 0, 200, false).await.unwrap();
                indexing.push(t.elapsed());
                assert_eq!(page.total as usize, messages);
                // Then until every row is searchable.
                let t = Instant::now();
                while !engine.update_search_index().await.unwrap() {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                caught_up.push(t.elapsed());
                drop(follower);
                let found = engine
                    .search("invoice", petrel_core::SearchOrder::Newest, 1, false)
                    .await
                    .unwrap();
                let invoices = (0..messages).filter(|&i| mix(i, 1) % 5 == 3).count();
                assert_eq!(found.total as usize, invoices, "every row indexed");
                drop(engine);
                let t = Instant::now();
                bare_header_sync(&h, &ca, "INBOX", messages).await;
                bare.push(t.elapsed());
            }
            let (indexing_ms, bare_ms) = (median(indexing), median(bare));
            println!("imap_header_sync_indexing_{messages}_ms {indexing_ms:.0} ms");
            println!("imap_header_sync_indexing_baseline_ms {bare_ms:.0} ms");
            println!(
                "imap_header_sync_indexing_ratio {:.2} x",
                bare_ms / indexing_ms
            );
            println!("imap_index_after_sync_ms {:.0} ms", median(caught_up));
        }

        // 4. Full offline sync of the bodies folder, Petrel vs mbsync, fresh stores each run;
        //    and the floor: a bare client downloading every message in one FETCH, keeping
        //    nothing.
        let (mut petrel, mut mbsync, mut floor) = (vec![], vec![], vec![]);
        for _ in 0..SYNC_RUNS {
            let t = Instant::now();
            let mut b = Bare::connect(&h, &ca).await;
            b.command("EXAMINE Bodies").await;
            b.command("FETCH 1:* BODY.PEEK[]").await;
            floor.push(t.elapsed());

            let cache_dir = tempfile::tempdir().unwrap();
            let cache = Arc::new(SledCache::open(cache_dir.path()).unwrap());
            let engine =
                Engine::open(config.path(), secrets.clone(), trust.clone(), cache).unwrap();
            let t = Instant::now();
            engine
                .envelopes(&id, "Bodies", 0, 200, false)
                .await
                .unwrap();
            let stored = engine
                .download_bodies(&id, "Bodies", |_, _| {})
                .await
                .unwrap();
            petrel.push(t.elapsed());
            assert_eq!(stored, bodies);
            drop(engine);

            let dir = tempfile::tempdir().unwrap();
            let rc = mbsync_config(dir.path(), &h, "Bodies");
            let t = Instant::now();
            let out = std::process::Command::new("mbsync")
                .arg("-q")
                .arg("-c")
                .arg(&rc)
                .arg("bench")
                .output()
                .expect("mbsync runs (scripts/install-deps.sh bench installs isync)");
            mbsync.push(t.elapsed());
            assert!(
                out.status.success(),
                "mbsync failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = std::fs::read_dir(dir.path().join("maildir/Bodies/new"))
                .map(|d| d.count())
                .unwrap_or(0)
                + std::fs::read_dir(dir.path().join("maildir/Bodies/cur"))
                    .map(|d| d.count())
                    .unwrap_or(0);
            assert_eq!(got, bodies, "mbsync stored every message");
        }
        let (petrel_ms, mbsync_ms) = (median(petrel), median(mbsync));
        println!("imap_body_sync_{bodies}_ms {petrel_ms:.0} ms");
        println!("imap_body_sync_{bodies}_mbsync_ms {mbsync_ms:.0} ms");
        println!("imap_body_sync_vs_mbsync {:.2} x", petrel_ms / mbsync_ms);
        let floor_ms = median(floor);
        println!("imap_body_sync_floor_ms {floor_ms:.0} ms (bare client, one FETCH, nothing kept)");
        println!("imap_body_sync_vs_floor {:.2} x", petrel_ms / floor_ms);
    };
    common::run_as_the_app_does(&runtime, work);
}

async fn petrel_imap_session(
    h: &Harness,
    password: &str,
    trust: &TrustPolicy,
) -> petrel_imap::ImapSession {
    let mut server = account_form(h).imap;
    server.pinned_cert_sha256 = None;
    petrel_imap::ImapSession::login(&server, password, trust)
        .await
        .unwrap()
}
