//! `npm run bench -- read`: Petrel's read path against a bare IMAP client, both on the same
//! loopback Dovecot in the same run. The baseline sends the same commands over the same TLS
//! stack and only scans for the tagged OK (no parsing, no data structures): the floor any
//! client pays for the server and the network. Prints `metric value unit` lines.
//! `imap_header_sync_ratio` is a throughput ratio (Petrel / bare, higher is better, 1.0 is the
//! floor); `*_ratio` of single operations are time ratios (Petrel / bare, lower is better).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

#[path = "common/mod.rs"]
mod common;

use common::{median, Bare};
use petrel_engine::TrustPolicy;
use petrel_harness::{Harness, MemorySecrets};
use std::sync::Arc;
use std::time::Instant;

const MESSAGES: usize = 5_000;
const RUNS: usize = 15;
const SYNC_RUNS: usize = 7;

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: Sender {i} <sender{i}@example.test>\r\nTo: alice@example.test\r\nSubject: Benchmark message number {i} =?UTF-8?Q?caf=C3=A9?=\r\nDate: Mon, 02 Nov 2026 09:{:02}:{:02} +0000\r\nMessage-ID: <bench-{i}@example.test>\r\n\r\n{}\r\n",
        (i / 60) % 60,
        i % 60,
        "Body line of a typical short message.\r\n".repeat(20)
    )
    .into_bytes()
}

fn report(name: &str, petrel: f64, baseline: f64) {
    println!("{name}_ms {petrel:.2} ms");
    println!("{name}_baseline_ms {baseline:.2} ms");
    println!("{name}_ratio {:.2} x", petrel / baseline);
}

fn main() {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    if !filter.is_empty() && !"read".contains(filter.as_str()) {
        return;
    }
    // The allocator set up as the app sets it (arenas, mapping threshold), before any thread.
    petrel_engine::heap::tune();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let h = Harness::start_for_bench().expect("harness starts");
    let messages: Vec<Vec<u8>> = (0..MESSAGES).map(message).collect();
    h.seed("alice", "INBOX", &messages, false).unwrap();
    let ca = h.ca_pem().as_bytes().to_vec();
    let query = format!(
        "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
        petrel_render::LIST_HEADER_FIELDS
    );

    let work = async move {
        let query = &query;
        let secrets: Arc<MemorySecrets> = Arc::default();
        let dir = tempfile::tempdir().unwrap();
        let form = common::account_form(&h);
        let trust = TrustPolicy::with_pem_roots(&ca).unwrap();
        let setup = petrel_engine::Engine::open(
            dir.path(),
            secrets.clone(),
            trust.clone(),
            Arc::new(petrel_engine::MemoryCache::new()),
        )
        .unwrap();
        let account = setup.add_account(form).await.unwrap();
        drop(setup);
        // Warm Dovecot's index once so neither side pays for building it.
        let mut warm = Bare::connect(&h, &ca).await;
        warm.command("EXAMINE INBOX").await;
        warm.command(&format!("FETCH 1:* {query}")).await;

        // 1. First open of a folder: connect, TLS, login, full header sync of 5,000 messages
        //    into a fresh sled cache, first page. The bare client sends the same commands
        //    (header batches of 500 by position, newest first) and discards the replies.
        let (mut petrel, mut bare) = (vec![], vec![]);
        for _ in 0..SYNC_RUNS {
            let cache_dir = tempfile::tempdir().unwrap();
            // PETREL_BENCH_MEMORY_CACHE=1 isolates the protocol + parsing cost from sled's.
            let cache: Arc<dyn petrel_engine::MailCache> =
                if std::env::var_os("PETREL_BENCH_MEMORY_CACHE").is_some() {
                    Arc::new(petrel_engine::MemoryCache::new())
                } else {
                    Arc::new(petrel_engine::SledCache::open(cache_dir.path()).unwrap())
                };
            let engine =
                petrel_engine::Engine::open(dir.path(), secrets.clone(), trust.clone(), cache)
                    .unwrap();
            let t = Instant::now();
            let page = engine
                .envelopes(&account.id, "INBOX", 0, 200, false)
                .await
                .unwrap();
            petrel.push(t.elapsed());
            assert_eq!((page.rows.len(), page.total as usize), (200, MESSAGES));
            let t = Instant::now();
            let mut b = Bare::connect(&h, &ca).await;
            b.command("EXAMINE INBOX").await;
            for end in (1..=MESSAGES).rev().step_by(500) {
                b.command(&format!(
                    "FETCH {}:{end} {query}",
                    end.saturating_sub(499).max(1)
                ))
                .await;
            }
            bare.push(t.elapsed());
        }
        let (petrel_ms, bare_ms) = (median(petrel), median(bare));
        println!("imap_header_sync_5000_ms {petrel_ms:.1} ms");
        println!("imap_header_sync_5000_baseline_ms {bare_ms:.1} ms");
        // Throughput ratio (Petrel's messages/s over the bare client's): 1.0 is the floor's speed.
        println!("imap_header_sync_ratio {:.2} x", bare_ms / petrel_ms);

        let engine = petrel_engine::Engine::open(
            dir.path(),
            secrets.clone(),
            trust.clone(),
            Arc::new(petrel_engine::MemoryCache::new()),
        )
        .unwrap();
        engine
            .envelopes(&account.id, "INBOX", 0, 1, false)
            .await
            .unwrap();
        let mut b = Bare::connect(&h, &ca).await;

        // 3. Opening a message in the reader on a warm session (fetch + parse to text), the
        //    folder open already on both sides (a client keeps it open between messages):
        //    without marking it read (the reader's delay), then marking it read at once (the
        //    default: the flag goes through the durable action queue to the server).
        b.command("SELECT INBOX").await;
        for (name, mark_read, first_uid) in [
            ("imap_open_message_warm", false, 100),
            ("imap_open_and_mark_read_warm", true, 200),
        ] {
            let (mut petrel, mut bare) = (vec![], vec![]);
            for i in 0..RUNS as u32 {
                let uid = first_uid + i;
                let t = Instant::now();
                let view = engine
                    .message_with(&account.id, "INBOX", uid, mark_read)
                    .await
                    .unwrap();
                petrel.push(t.elapsed());
                assert!(view.text.contains("Body line"));
                let t = Instant::now();
                b.command(&format!("UID FETCH {} (UID BODY.PEEK[])", uid + 1000))
                    .await;
                if mark_read {
                    b.command(&format!("UID STORE {} +FLAGS.SILENT (\\Seen)", uid + 1000))
                        .await;
                }
                bare.push(t.elapsed());
            }
            report(name, median(petrel), median(bare));
        }
    };
    common::run_as_the_app_does(&runtime, work);
}
