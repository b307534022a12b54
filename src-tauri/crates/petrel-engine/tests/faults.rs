//! The network is cut after a random number of bytes — during the initial sync, an
//! incremental sync, and moves — 100 times. After each cut the connection comes back and
//! Petrel catches up; then its cache must equal the server (doveadm's view) exactly, and no
//! message may be lost or duplicated anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{cached_state, mail, server_state, Fixture};
use petrel_engine::{FolderRef, MailCache};

/// xorshift: reproducible randomness without a dependency; the seed is printed on failure.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const RUNS: u32 = 100;
const SEEDED: u32 = 600;

#[tokio::test(flavor = "multi_thread")]
async fn cuts_at_random_bytes_lose_and_duplicate_nothing() {
    let f = Fixture::with_proxy();
    f.h.seed(
        "alice",
        "INBOX",
        &(1..=SEEDED).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    let (engine, cache) = f.engine_with_cache(f.cache_dir.path());
    let id = f.account(&engine).await;
    engine.folders(&id).await.unwrap();
    let inbox = FolderRef::new(&id, "INBOX");
    let seed = std::env::var("PETREL_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_u64);
    let mut rng = Rng(seed);
    let mut expected = SEEDED as usize;
    let mut next_mail = SEEDED + 1;
    let mut cut_runs = 0;
    // Bytes of a fresh connection that logs in and finds INBOX unchanged: budgets for
    // incremental syncs and moves start just below it, so cuts land in the operation itself
    // (and its last login bytes), not only in the TLS handshake.
    engine.envelopes(&id, "INBOX", 0, 10, false).await.unwrap();
    f.proxy().cut_all();
    let before = f.proxy().bytes();
    engine.retry_now(&id);
    engine.envelopes(&id, "INBOX", 0, 10, true).await.unwrap();
    let login_and_noop = f.proxy().bytes() - before;
    eprintln!("login + unchanged resync: {login_and_noop} bytes");

    for run in 0..RUNS {
        let kind = run % 3;
        // TLS handshake and login take ~4 kB, an incremental sync or a move a few kB more, a
        // full header sync of the folder ~200 kB.
        let budget = if kind == 0 {
            500 + rng.below(200_000)
        } else {
            login_and_noop.saturating_sub(400) + rng.below(1_500)
        };
        let ctx = format!("run {run} (seed {seed:#x}, kind {kind}, cut after {budget} bytes)");
        match kind {
            // Initial sync: the folder's cache is gone.
            0 => {
                cache.drop_folder(&inbox).unwrap();
            }
            // Incremental: another device adds, reads, flags and deletes.
            1 => {
                f.h.append("alice", "INBOX", &mail(next_mail)).unwrap();
                next_mail += 1;
                expected += 1;
                let uids: Vec<u32> = server_state(&f.h, "INBOX").into_keys().collect();
                let pick = |r: &mut Rng| uids[r.below(uids.len() as u64) as usize].to_string();
                for flag in ["\\Seen", "\\Flagged"] {
                    f.h.doveadm(
                        "alice",
                        &["flags", "add"],
                        &[flag, "mailbox", "INBOX", "UID", &pick(&mut rng)],
                    )
                    .unwrap();
                }
                if run % 2 == 1 {
                    f.h.doveadm(
                        "alice",
                        &["expunge"],
                        &["mailbox", "INBOX", "UID", &pick(&mut rng)],
                    )
                    .unwrap();
                    expected -= 1;
                }
            }
            _ => {}
        }
        f.proxy().cut_all();
        f.proxy().cut_after(Some(budget));
        engine.retry_now(&id);
        let cut = match kind {
            2 => {
                // Moves in both directions, so both folders keep changing.
                let (from, to) = if run % 2 == 0 {
                    ("INBOX", "Archive")
                } else {
                    ("Archive", "INBOX")
                };
                let rows = cached_state(&engine, &id, from).await;
                let uids: Vec<u32> = rows
                    .keys()
                    .copied()
                    .take(1 + rng.below(3) as usize)
                    .collect();
                // A cut leaves the move queued (or, if the server refused, an error).
                engine
                    .move_messages(&id, from, &uids, to)
                    .await
                    .map_or(true, |o| o.pending > 0)
            }
            // A cut shows cached rows marked offline (or an error when nothing is cached).
            _ => engine
                .envelopes(&id, "INBOX", 0, 50, true)
                .await
                .map_or(true, |p| p.offline),
        };
        if std::env::var_os("PETREL_FAULT_VERBOSE").is_some() {
            eprintln!("{ctx}: cut={cut} connections={}", f.proxy().connections());
        }
        if cut {
            cut_runs += 1;
        }

        // The network comes back; Petrel catches up (replaying any queued move).
        f.proxy().cut_after(None);
        f.proxy().cut_all();
        for folder in ["INBOX", "Archive"] {
            engine.retry_now(&id);
            let page = engine.envelopes(&id, folder, 0, 10, true).await;
            assert!(
                page.is_ok_and(|p| !p.offline),
                "{ctx}: recovery sync of {folder}"
            );
        }
        assert_eq!(
            engine.pending_actions(&id),
            0,
            "{ctx}: queued actions were replayed"
        );
        let (server_inbox, server_archive) =
            (server_state(&f.h, "INBOX"), server_state(&f.h, "Archive"));
        assert_eq!(
            cached_state(&engine, &id, "INBOX").await,
            server_inbox,
            "{ctx}: INBOX"
        );
        assert_eq!(
            cached_state(&engine, &id, "Archive").await,
            server_archive,
            "{ctx}: Archive"
        );
        assert_eq!(
            server_inbox.len() + server_archive.len(),
            expected,
            "{ctx}: a message was lost or duplicated on the server"
        );
        let state = cache.folder_state(&inbox).unwrap().unwrap();
        assert_eq!(
            state.total as usize,
            server_inbox.len(),
            "{ctx}: cached count"
        );
        assert_eq!(
            state.unread as usize,
            server_inbox.values().filter(|(seen, _)| !seen).count(),
            "{ctx}: cached unread count"
        );
    }
    eprintln!("{RUNS} runs, {cut_runs} ended in a cut mid-operation");
    assert!(
        cut_runs > RUNS / 3,
        "the budgets must actually cut operations: {cut_runs}"
    );
}
