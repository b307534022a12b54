//! Behaviour every MailCache must have, run against both implementations, plus a randomised
//! comparison with a plain sorted-vector model.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{AccountId, Envelope};
use petrel_store::{FolderRef, MailCache, MemoryCache, SledCache};

fn row(uid: u32, date: Option<i64>, seen: bool) -> Envelope {
    Envelope {
        uid,
        from: format!("sender {uid}"),
        subject: format!("subject {uid}"),
        date,
        seen,
        flagged: false,
        answered: false,
        has_attachment: false,
        size: 100,
    }
}

fn inbox() -> FolderRef {
    FolderRef::new(&AccountId("a".into()), "INBOX")
}

fn uids(cache: &dyn MailCache, f: &FolderRef, offset: u32, limit: u32) -> Vec<u32> {
    cache
        .page(f, offset, limit)
        .unwrap()
        .rows
        .iter()
        .map(|r| r.uid)
        .collect()
}

fn each_cache(test: impl Fn(&dyn MailCache)) {
    test(&MemoryCache::new());
    let dir = tempfile::tempdir().unwrap();
    test(&SledCache::open(dir.path()).unwrap());
}

#[test]
fn pages_are_newest_first_with_undated_mail_last() {
    each_cache(|c| {
        let f = inbox();
        c.upsert(
            &f,
            &[
                row(1, Some(100), true),
                row(2, Some(300), true),
                row(3, None, true),
                row(4, Some(200), true),
                row(5, Some(300), true),
            ],
        )
        .unwrap();
        assert_eq!(
            uids(c, &f, 0, 10),
            vec![5, 2, 4, 1, 3],
            "date desc, then uid desc, undated last"
        );
        assert_eq!(uids(c, &f, 1, 2), vec![2, 4]);
        assert_eq!(uids(c, &f, 9, 2), Vec::<u32>::new());
        assert_eq!(c.page(&f, 0, 1).unwrap().total, 5);
    });
}

#[test]
fn counts_follow_inserts_replacements_flags_and_removals() {
    each_cache(|c| {
        let f = inbox();
        c.upsert(
            &f,
            &[
                row(1, Some(1), false),
                row(2, Some(2), false),
                row(3, Some(3), true),
            ],
        )
        .unwrap();
        let s = c.folder_state(&f).unwrap().unwrap();
        assert_eq!((s.total, s.unread), (3, 2));
        // Replacing a row (e.g. new flags from the server) does not double count.
        c.upsert(&f, &[row(1, Some(1), true)]).unwrap();
        let s = c.folder_state(&f).unwrap().unwrap();
        assert_eq!((s.total, s.unread), (3, 1));
        assert!(c.set_flags(&f, 3, false, true).unwrap());
        assert!(!c.set_flags(&f, 99, true, false).unwrap(), "unknown uid");
        let s = c.folder_state(&f).unwrap().unwrap();
        assert_eq!((s.total, s.unread), (3, 2));
        assert!(c.page(&f, 0, 1).unwrap().rows[0].flagged);
        c.remove(&f, &[2, 42]).unwrap();
        let s = c.folder_state(&f).unwrap().unwrap();
        assert_eq!((s.total, s.unread), (2, 1));
        assert_eq!(c.uids(&f).unwrap(), vec![1, 3]);
    });
}

#[test]
fn insert_new_keeps_counts_exact_even_when_a_row_was_cached() {
    each_cache(|c| {
        let f = inbox();
        c.insert_new(&f, &[row(1, Some(1), false), row(2, Some(2), false)])
            .unwrap();
        // The caller was wrong about uid 2: it must replace, not double count.
        c.insert_new(&f, &[row(2, Some(2), true), row(3, Some(3), false)])
            .unwrap();
        let s = c.folder_state(&f).unwrap().unwrap();
        assert_eq!((s.total, s.unread), (3, 2));
        assert_eq!(uids(c, &f, 0, 10), vec![3, 2, 1]);
    });
}

#[test]
fn uidvalidity_change_drops_the_folder_rows() {
    each_cache(|c| {
        let f = inbox();
        c.set_sync_state(&f, 7, 3, 10).unwrap();
        c.upsert(&f, &[row(1, Some(1), false), row(2, Some(2), true)])
            .unwrap();
        c.set_sync_state(&f, 7, 4, 11).unwrap();
        assert_eq!(
            c.page(&f, 0, 10).unwrap().rows.len(),
            2,
            "same UIDVALIDITY keeps the rows"
        );
        c.set_sync_state(&f, 8, 1, 0).unwrap();
        let s = c.folder_state(&f).unwrap().unwrap();
        assert_eq!((s.uidvalidity, s.total, s.unread), (8, 0, 0));
        assert!(
            c.page(&f, 0, 10).unwrap().rows.is_empty(),
            "UIDs of the old UIDVALIDITY must be forgotten"
        );
        assert!(c.uids(&f).unwrap().is_empty());
    });
}

#[test]
fn folders_and_accounts_are_separate_and_can_be_dropped() {
    each_cache(|c| {
        let a = inbox();
        let b = FolderRef::new(&AccountId("b".into()), "INBOX");
        let a_sent = FolderRef::new(&AccountId("a".into()), "Sent");
        c.upsert(&a, &[row(1, Some(1), false)]).unwrap();
        c.upsert(&b, &[row(1, Some(5), true), row(2, Some(6), true)])
            .unwrap();
        c.upsert(&a_sent, &[row(9, Some(9), true)]).unwrap();
        assert_eq!(uids(c, &a, 0, 10), vec![1]);
        assert_eq!(uids(c, &b, 0, 10), vec![2, 1]);
        c.drop_folder(&b).unwrap();
        assert!(c.folder_state(&b).unwrap().is_none());
        assert!(c.page(&b, 0, 10).unwrap().rows.is_empty());
        assert_eq!(uids(c, &a_sent, 0, 10), vec![9]);
    });
}

#[test]
fn sled_cache_survives_reopen_and_rebuilds_positions_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    {
        let c = SledCache::open(dir.path()).unwrap();
        c.set_sync_state(&f, 3, 100, 0).unwrap();
        c.upsert(
            &f,
            &(1..=50)
                .map(|u| row(u, Some(i64::from(u) * 10), u % 2 == 0))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        c.remove(&f, &[50]).unwrap();
        c.flush().unwrap();
    }
    let c = SledCache::open(dir.path()).unwrap();
    let s = c.folder_state(&f).unwrap().unwrap();
    assert_eq!(
        (s.uidvalidity, s.uidnext, s.total, s.unread),
        (3, 100, 49, 25),
        "odd UIDs 1..49 are unread"
    );
    assert_eq!(uids(&c, &f, 0, 3), vec![49, 48, 47]);
}

/// xorshift64*: deterministic randomness without a crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_operations_match_a_sorted_vector_model() {
    each_cache(|c| {
        let f = inbox();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut model: std::collections::BTreeMap<u32, Envelope> = Default::default();
        for step in 0..3_000 {
            match rng.below(10) {
                0..=5 => {
                    let batch: Vec<Envelope> = (0..rng.below(8) + 1)
                        .map(|_| {
                            let uid = rng.below(400) as u32 + 1;
                            let date = if rng.below(20) == 0 {
                                None
                            } else {
                                Some(rng.below(50) as i64 - 10)
                            };
                            row(uid, date, rng.below(2) == 0)
                        })
                        .collect();
                    c.upsert(&f, &batch).unwrap();
                    for r in batch {
                        model.insert(r.uid, r);
                    }
                }
                6..=7 => {
                    let gone: Vec<u32> = (0..rng.below(5) + 1)
                        .map(|_| rng.below(400) as u32 + 1)
                        .collect();
                    c.remove(&f, &gone).unwrap();
                    gone.iter().for_each(|u| drop(model.remove(u)));
                }
                _ => {
                    let uid = rng.below(400) as u32 + 1;
                    let seen = rng.below(2) == 0;
                    let known = c.set_flags(&f, uid, seen, false).unwrap();
                    assert_eq!(known, model.contains_key(&uid));
                    if let Some(r) = model.get_mut(&uid) {
                        r.seen = seen;
                        r.flagged = false;
                    }
                }
            }
            if step % 50 == 0 {
                let mut expected: Vec<&Envelope> = model.values().collect();
                expected.sort_by_key(|r| std::cmp::Reverse((r.date.unwrap_or(i64::MIN), r.uid)));
                let offset = rng.below(expected.len() as u64 + 1) as usize;
                let page = c.page(&f, offset as u32, 25).unwrap();
                let want: Vec<Envelope> = expected
                    .iter()
                    .skip(offset)
                    .take(25)
                    .map(|r| (*r).clone())
                    .collect();
                assert_eq!(page.rows, want, "page at {offset} after step {step}");
                let s = c.folder_state(&f).unwrap().unwrap();
                assert_eq!(s.total as usize, model.len());
                assert_eq!(
                    s.unread as usize,
                    model.values().filter(|r| !r.seen).count()
                );
            }
        }
    });
}

#[test]
fn a_cache_held_by_another_open_reports_locked_not_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledCache::open(dir.path()).unwrap();
    match SledCache::open(dir.path()) {
        Err(petrel_store::StoreError::Locked(_)) => {}
        other => panic!(
            "a second open must say Locked (so nobody deletes the cache), got {:?}",
            other.err()
        ),
    }
}

#[test]
fn bodies_live_and_die_with_their_rows() {
    each_cache(|cache| {
        let f = inbox();
        cache
            .upsert(&f, &[row(1, Some(1), false), row(2, Some(2), false)])
            .unwrap();
        cache.set_body(&f, 1, b"raw one").unwrap();
        // No row, no body: it could never be removed again.
        cache.set_body(&f, 99, b"orphan").unwrap();
        assert_eq!(cache.body(&f, 1).unwrap().as_deref(), Some(&b"raw one"[..]));
        assert_eq!(cache.body(&f, 99).unwrap(), None);
        assert_eq!(cache.body_uids(&f).unwrap(), vec![1]);
        cache
            .set_bodies(&f, &[(2, b"two".to_vec()), (98, b"orphan".to_vec())])
            .unwrap();
        assert_eq!(cache.body_uids(&f).unwrap(), vec![1, 2]);
        cache.remove(&f, &[1]).unwrap();
        assert_eq!(cache.body(&f, 1).unwrap(), None);
        assert_eq!(cache.body_uids(&f).unwrap(), vec![2]);
        cache.set_body(&f, 2, b"raw two").unwrap();
        cache.set_sync_state(&f, 7, 3, 0).unwrap();
        cache.set_sync_state(&f, 8, 3, 0).unwrap();
        assert_eq!(
            cache.body(&f, 2).unwrap(),
            None,
            "UIDVALIDITY change drops bodies"
        );
    });
}

/// Bytes of every body file of the sled cache in `dir`.
fn body_file_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("bodies"))
        .map(|files| {
            files
                .map(|f| f.unwrap().metadata().unwrap())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// A message body of `kib` KiB that says which message it is.
fn big_body(uid: u32, kib: usize) -> Vec<u8> {
    let mut body = format!("Subject: {uid}\r\n\r\n").into_bytes();
    body.resize(kib * 1024, b'a' + (uid % 26) as u8);
    body
}

/// Rows 1..=40 in `f`, each with a 512 KiB body (20 MiB in all).
fn forty_big_bodies(cache: &SledCache, f: &FolderRef) {
    let rows: Vec<_> = (1..=40)
        .map(|u| row(u, Some(i64::from(u)), false))
        .collect();
    cache.upsert(f, &rows).unwrap();
    let bodies: Vec<_> = (1..=40).map(|u| (u, big_body(u, 512))).collect();
    cache.set_bodies(f, &bodies).unwrap();
}

/// The one body file of the sled cache in `dir`.
fn the_body_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut files = std::fs::read_dir(dir.join("bodies")).unwrap();
    let file = files.next().unwrap().unwrap().path();
    assert!(files.next().is_none(), "one folder, one file");
    file
}

#[test]
fn removed_messages_give_their_space_back_and_the_rest_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    {
        let cache = SledCache::open(dir.path()).unwrap();
        forty_big_bodies(&cache, &f);
        assert_eq!(body_file_bytes(dir.path()), 40 * 512 * 1024);
        // A body written again leaves its old bytes behind, counted as waste too.
        cache.set_body(&f, 40, &big_body(40, 512)).unwrap();
        // Up to 8 MiB of waste is left as it is…
        cache.remove(&f, &(1..=10).collect::<Vec<_>>()).unwrap();
        assert_eq!(body_file_bytes(dir.path()), 41 * 512 * 1024);
        // …past it, and past what is still in use, the file is written anew.
        cache.remove(&f, &(11..=30).collect::<Vec<_>>()).unwrap();
        assert_eq!(body_file_bytes(dir.path()), 10 * 512 * 1024);
        for uid in 31..=40 {
            assert_eq!(cache.body(&f, uid).unwrap(), Some(big_body(uid, 512)));
        }
        assert_eq!(cache.body(&f, 30).unwrap(), None);
    }
    let cache = SledCache::open(dir.path()).unwrap();
    assert_eq!(cache.body_uids(&f).unwrap(), (31..=40).collect::<Vec<_>>());
    assert_eq!(cache.body(&f, 35).unwrap(), Some(big_body(35, 512)));
    cache.drop_folder(&f).unwrap();
    assert_eq!(
        body_file_bytes(dir.path()),
        0,
        "a dropped folder leaves no file"
    );
}

#[test]
fn a_failed_space_taking_back_fails_no_removal_and_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    let cache = SledCache::open(dir.path()).unwrap();
    forty_big_bodies(&cache, &f);
    let file = the_body_file(dir.path());
    // The rewrite's new file cannot be made (a folder is in its place).
    let blocker = file.with_extension("new");
    std::fs::create_dir(&blocker).unwrap();
    cache.remove(&f, &(1..=30).collect::<Vec<_>>()).unwrap();
    assert_eq!(cache.uids(&f).unwrap().len(), 10, "the removal stands");
    assert_eq!(
        body_file_bytes(dir.path()),
        40 * 512 * 1024,
        "nothing rewritten"
    );
    assert_eq!(cache.body(&f, 33).unwrap(), Some(big_body(33, 512)));
    std::fs::remove_dir(&blocker).unwrap();
    cache.remove(&f, &[31]).unwrap();
    assert_eq!(
        body_file_bytes(dir.path()),
        9 * 512 * 1024,
        "taken back on the next removal"
    );
    assert_eq!(cache.body(&f, 40).unwrap(), Some(big_body(40, 512)));
}

#[test]
fn a_body_whose_bytes_are_damaged_or_gone_reads_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    let cache = SledCache::open(dir.path()).unwrap();
    cache
        .upsert(&f, &[row(1, Some(1), false), row(2, Some(2), false)])
        .unwrap();
    cache
        .set_bodies(&f, &[(1, b"first body".to_vec()), (2, b"second".to_vec())])
        .unwrap();
    let file = the_body_file(dir.path());
    // As after a crash that kept sled's records but not all of the file's bytes.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[3] ^= 0x20;
    bytes.truncate(bytes.len() - 2);
    std::fs::write(&file, &bytes).unwrap();
    assert_eq!(cache.body(&f, 1).unwrap(), None, "other bytes: missing");
    assert_eq!(cache.body(&f, 2).unwrap(), None, "cut short: missing");
    // Fetched again, it reads as stored.
    cache.set_body(&f, 1, b"first body").unwrap();
    assert_eq!(
        cache.body(&f, 1).unwrap().as_deref(),
        Some(&b"first body"[..])
    );
    // A changed UIDVALIDITY drops the file with the rows.
    cache.set_sync_state(&f, 7, 3, 0).unwrap();
    cache.set_sync_state(&f, 8, 3, 0).unwrap();
    assert_eq!(body_file_bytes(dir.path()), 0);
}

#[test]
fn folder_trees_are_kept_per_account_and_dropped_with_it() {
    each_cache(|cache| {
        let a = AccountId("a".into());
        let b = AccountId("b".into());
        let tree = vec![petrel_core::Folder {
            path: "INBOX".into(),
            name: "INBOX".into(),
            parent: None,
            role: Some(petrel_core::FolderRole::Inbox),
            selectable: true,
            total: Some(3),
            unread: Some(1),
            subscribed: true,
        }];
        assert_eq!(cache.folder_list(&a).unwrap(), None);
        cache.set_folder_list(&a, &tree).unwrap();
        cache.set_folder_list(&b, &[]).unwrap();
        assert_eq!(cache.folder_list(&a).unwrap(), Some(tree.clone()));
        let fa = FolderRef::new(&a, "INBOX");
        let fb = FolderRef::new(&b, "INBOX");
        cache.upsert(&fa, &[row(1, Some(1), false)]).unwrap();
        cache.upsert(&fb, &[row(1, Some(1), false)]).unwrap();
        cache.drop_account(&a).unwrap();
        assert_eq!(cache.folder_list(&a).unwrap(), None);
        assert_eq!(cache.folder_state(&fa).unwrap(), None);
        assert_eq!(cache.folder_list(&b).unwrap(), Some(vec![]));
        assert_eq!(uids(cache, &fb, 0, 10), vec![1]);
    });
}

#[test]
fn cached_folders_are_listed_per_account() {
    each_cache(|cache| {
        let a = AccountId("a".into());
        let b = AccountId("ab".into());
        cache
            .upsert(&FolderRef::new(&a, "INBOX"), &[row(1, Some(1), false)])
            .unwrap();
        cache
            .set_sync_state(&FolderRef::new(&a, "Work/2026"), 1, 1, 0)
            .unwrap();
        cache
            .upsert(&FolderRef::new(&b, "INBOX"), &[row(1, Some(1), false)])
            .unwrap();
        let mut mine = cache.cached_folders(&a).unwrap();
        mine.sort();
        assert_eq!(mine, vec!["INBOX".to_string(), "Work/2026".to_string()]);
        cache.drop_folder(&FolderRef::new(&a, "INBOX")).unwrap();
        assert_eq!(
            cache.cached_folders(&a).unwrap(),
            vec!["Work/2026".to_string()]
        );
    });
}

#[test]
fn a_cache_of_another_format_is_refused_so_it_can_be_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let cache = SledCache::open(dir.path()).unwrap();
        cache.upsert(&inbox(), &[row(1, Some(1), false)]).unwrap();
        cache.flush().unwrap();
    }
    // Reopening the same format works and keeps the rows.
    {
        let cache = SledCache::open(dir.path()).unwrap();
        assert_eq!(uids(&cache, &inbox(), 0, 10), vec![1]);
    }
    // A cache from another version (here: its format key rewritten) is refused as corrupt.
    {
        let db = sled::open(dir.path()).unwrap();
        db.insert(b"V", &1u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    match SledCache::open(dir.path()) {
        Err(petrel_store::StoreError::Corrupt(text)) => assert!(text.contains("another version")),
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok(_) => panic!("expected Corrupt, got a cache"),
    }
}

#[test]
fn thread_links_live_and_die_with_their_rows() {
    use petrel_core::ThreadLinks;
    let links = |id: &str| ThreadLinks {
        message_id: Some(id.into()),
        parents: vec!["root@x".into()],
    };
    each_cache(|cache| {
        let f = inbox();
        cache.set_sync_state(&f, 7, 4, 0).unwrap();
        cache
            .upsert(
                &f,
                &[
                    row(1, Some(1), false),
                    row(2, Some(2), false),
                    row(3, Some(3), true),
                ],
            )
            .unwrap();
        cache
            .set_thread_links(
                &f,
                &[
                    (1, links("a@x")),
                    (2, links("b@x")),
                    (77, links("orphan@x")),
                ],
            )
            .unwrap();
        let got = cache.thread_links(&f).unwrap();
        assert_eq!(
            got,
            vec![(1, links("a@x")), (2, links("b@x"))],
            "no links without a row"
        );
        cache.remove(&f, &[1]).unwrap();
        assert_eq!(cache.thread_links(&f).unwrap(), vec![(2, links("b@x"))]);
        cache.set_sync_state(&f, 8, 4, 0).unwrap();
        assert!(
            cache.thread_links(&f).unwrap().is_empty(),
            "UIDVALIDITY change drops them"
        );
        cache.upsert(&f, &[row(5, Some(5), false)]).unwrap();
        cache.set_thread_links(&f, &[(5, links("e@x"))]).unwrap();
        cache.drop_folder(&f).unwrap();
        assert!(cache.thread_links(&f).unwrap().is_empty());
    });
}

#[test]
fn the_journal_records_every_write_in_order_until_forgotten() {
    use petrel_store::CacheChange;
    each_cache(|cache| {
        let f = inbox();
        cache.set_sync_state(&f, 7, 10, 0).unwrap();
        cache
            .upsert(&f, &[row(1, Some(10), false), row(2, Some(20), true)])
            .unwrap();
        cache.set_flags(&f, 1, true, true).unwrap();
        cache.set_body(&f, 2, b"Subject: x\r\n\r\nbody").unwrap();
        cache.remove(&f, &[1]).unwrap();
        cache.set_sync_state(&f, 8, 10, 0).unwrap(); // UIDVALIDITY changed: rows dropped
        let all = cache.changes(0, 100).unwrap();
        let kinds: Vec<CacheChange> = all.iter().map(|(_, c)| c.clone()).collect();
        let msgs = |uids: &[u32]| CacheChange::Messages {
            folder: f.clone(),
            uids: uids.to_vec(),
        };
        assert_eq!(
            kinds,
            vec![
                msgs(&[1, 2]),
                msgs(&[1]),
                msgs(&[2]),
                msgs(&[1]),
                CacheChange::Folder(f.clone())
            ]
        );
        let seqs: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        // A follower that has the first three forgets them; the rest stay, in order.
        cache.forget_changes(seqs[2]).unwrap();
        let left: Vec<u64> = cache
            .changes(0, 100)
            .unwrap()
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(left, seqs[3..].to_vec());
        assert_eq!(cache.changes(seqs[3], 1).unwrap().len(), 1);
        assert_eq!(cache.last_change().unwrap(), *seqs.last().unwrap());
    });
}

#[test]
fn journal_numbers_keep_growing_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    let first = {
        let cache = SledCache::open(dir.path()).unwrap();
        cache.upsert(&f, &[row(1, Some(10), false)]).unwrap();
        cache.flush().unwrap();
        cache.changes(0, 10).unwrap()[0].0
    };
    let cache = SledCache::open(dir.path()).unwrap();
    cache.set_flags(&f, 1, true, false).unwrap();
    let seqs: Vec<u64> = cache
        .changes(0, 10)
        .unwrap()
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(seqs.len(), 2);
    assert!(seqs[1] > first);
}

/// The date index is kept 64 UIDs to a key: replacements, removals and whole emptied
/// blocks must leave it exactly what the rows say, as a reopen (which rebuilds positions
/// from it alone) shows.
#[test]
fn the_date_index_read_back_after_a_reopen_matches_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    let mut model: std::collections::BTreeMap<u32, Envelope> = Default::default();
    {
        let c = SledCache::open(dir.path()).unwrap();
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        for _ in 0..400 {
            if rng.below(4) == 0 {
                // Whole runs of UIDs go, emptying blocks.
                let start = rng.below(2_000) as u32 + 1;
                let gone: Vec<u32> = (start..start + rng.below(150) as u32).collect();
                c.remove(&f, &gone).unwrap();
                gone.iter().for_each(|u| drop(model.remove(u)));
            } else {
                let start = rng.below(2_000) as u32 + 1;
                let batch: Vec<Envelope> = (start..start + rng.below(100) as u32 + 1)
                    .map(|uid| {
                        let date = (rng.below(30) != 0).then(|| rng.below(1_000) as i64 - 100);
                        row(uid, date, rng.below(2) == 0)
                    })
                    .collect();
                if rng.below(2) == 0 {
                    c.upsert(&f, &batch).unwrap();
                } else {
                    c.insert_new(&f, &batch).unwrap();
                }
                batch.into_iter().for_each(|r| drop(model.insert(r.uid, r)));
            }
        }
        c.flush().unwrap();
    }
    let c = SledCache::open(dir.path()).unwrap();
    let mut expected: Vec<(i64, u32)> = model
        .values()
        .map(|r| (r.date.unwrap_or(i64::MIN), r.uid))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(c.order_keys(&f).unwrap(), expected);
    let page = c.page(&f, 0, model.len() as u32).unwrap();
    assert_eq!(page.total as usize, model.len());
    assert_eq!(page.rows.len(), model.len());
}

/// The rows file of folder `f`'s sled cache in `dir`: the folder's id names it, and the
/// folder made first has the smaller id.
fn rows_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("rows"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort_by_key(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u64>().ok())
    });
    files
}

#[test]
fn a_rows_file_cut_short_by_a_crash_makes_its_folder_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (inbox(), FolderRef::new(&AccountId("a".into()), "Archive"));
    let rows: Vec<_> = (1..=300)
        .map(|u| row(u, Some(i64::from(u)), false))
        .collect();
    let last_change;
    {
        let cache = SledCache::open(dir.path()).unwrap();
        for f in [&a, &b] {
            cache.set_sync_state(f, 7, 301, 0).unwrap();
            cache.upsert(f, &rows).unwrap();
        }
        last_change = cache.last_change().unwrap();
        cache.flush().unwrap();
    }
    // sled's records reached the disk, the end of a's rows file did not.
    let files = rows_files(dir.path());
    assert_eq!(files.len(), 2);
    let len = std::fs::metadata(&files[0]).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&files[0])
        .unwrap()
        .set_len(len - 100)
        .unwrap();

    let cache = SledCache::open(dir.path()).unwrap();
    // a reads as never synced: its next sync fetches it all again, where reading the rows
    // would have failed.
    let state = cache.folder_state(&a).unwrap().unwrap_or_default();
    assert_eq!((state.uidvalidity, state.total), (0, 0));
    assert!(cache.page(&a, 0, 50).unwrap().rows.is_empty());
    assert!(cache.uids(&a).unwrap().is_empty());
    assert!(!files[0].exists(), "its rows file goes with its rows");
    // Derived stores are told.
    let changes = cache.changes(last_change, 10).unwrap();
    assert!(
        changes
            .iter()
            .any(|(_, c)| *c == petrel_store::CacheChange::Folder(a.clone())),
        "{changes:?}"
    );
    // b is untouched.
    assert_eq!(cache.folder_state(&b).unwrap().unwrap().total, 300);
    assert_eq!(uids(&cache, &b, 0, 3), vec![300, 299, 298]);
    // Synced again, a reads as before.
    cache.set_sync_state(&a, 7, 301, 0).unwrap();
    cache.upsert(&a, &rows).unwrap();
    assert_eq!(uids(&cache, &a, 297, 5), vec![3, 2, 1]);
}

#[test]
fn a_damaged_block_of_rows_is_never_read_and_its_folder_is_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let (f, other) = (inbox(), FolderRef::new(&AccountId("a".into()), "Archive"));
    let cache = SledCache::open(dir.path()).unwrap();
    let rows: Vec<_> = (1..=10)
        .map(|u| row(u, Some(i64::from(u)), false))
        .collect();
    cache.set_sync_state(&f, 7, 11, 0).unwrap();
    cache.upsert(&f, &rows).unwrap();
    cache.upsert(&other, &rows).unwrap();
    let before = cache.last_change().unwrap();
    let file = rows_files(dir.path()).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    // Never other rows, and not an error on every read until a restart: the folder is
    // forgotten, sync state too, so its next sync fetches it all again.
    let page = cache.page(&f, 0, 10).unwrap();
    assert_eq!((page.total, page.rows.len()), (0, 0));
    assert_eq!(cache.folder_state(&f).unwrap().unwrap().uidvalidity, 0);
    assert_eq!(cache.envelope(&f, 3).unwrap(), None);
    assert!(cache
        .changes(before, 10)
        .unwrap()
        .iter()
        .any(|(_, c)| *c == petrel_store::CacheChange::Folder(f.clone())));
    assert_eq!(
        uids(&cache, &other, 0, 2),
        vec![10, 9],
        "other folders untouched"
    );
    cache.upsert(&f, &rows).unwrap();
    assert_eq!(uids(&cache, &f, 0, 2), vec![10, 9]);
}

#[test]
fn rows_written_again_give_their_file_space_back_and_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    let cache = SledCache::open(dir.path()).unwrap();
    let rows: Vec<_> = (1..=640)
        .map(|u| row(u, Some(i64::from(u)), false))
        .collect();
    cache.upsert(&f, &rows).unwrap();
    let file_bytes = || {
        rows_files(dir.path())
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum::<u64>()
    };
    let live = file_bytes();
    // Each flag change writes its row's whole block again: the old one is dead bytes.
    let mut most = 0;
    for round in 0..17 {
        for uid in (1..=640).step_by(2) {
            cache.set_flags(&f, uid, round % 2 == 0, true).unwrap();
            most = most.max(file_bytes());
        }
    }
    assert!(
        most > 8 << 20,
        "enough dead bytes to be worth a rewrite: {most}"
    );
    assert!(
        most < (8 << 20) + 2 * live + 16 * 1024,
        "rewritten once dead bytes pass 8 MiB and what is in use: {most} bytes"
    );
    assert!(file_bytes() < most);
    let page = cache.page(&f, 0, 640).unwrap();
    assert_eq!(page.rows.len(), 640);
    for r in &page.rows {
        assert_eq!(r.flagged, r.uid % 2 == 1, "uid {}", r.uid);
        assert_eq!(r.seen, r.uid % 2 == 1, "uid {}", r.uid);
    }
    drop(cache);
    let cache = SledCache::open(dir.path()).unwrap();
    assert_eq!(cache.page(&f, 0, 640).unwrap().rows, page.rows);
}

#[test]
fn a_cache_whose_directory_is_deleted_while_open_goes_on_taking_mail() {
    let dir = tempfile::tempdir().unwrap();
    let f = inbox();
    let cache = SledCache::open(dir.path()).unwrap();
    // A cache cleaner (or a test's temporary dir) removes it all; sled keeps its open files,
    // and the rows and bodies files are made again where they were.
    std::fs::remove_dir_all(dir.path()).unwrap();
    cache
        .upsert(&f, &[row(2, Some(2), false), row(3, Some(3), true)])
        .unwrap();
    cache.set_body(&f, 3, b"third").unwrap();
    assert_eq!(uids(&cache, &f, 0, 10), vec![3, 2]);
    assert_eq!(cache.body(&f, 3).unwrap().as_deref(), Some(&b"third"[..]));
    // Deleted again, with those rows in it: new rows are still taken, and what the folder
    // lists agrees with its counts (rows still readable through a file kept open stay;
    // rows that are not make the folder forgotten, to be fetched again).
    std::fs::remove_dir_all(dir.path()).unwrap();
    cache.upsert(&f, &[row(4, Some(4), false)]).unwrap();
    let listed = uids(&cache, &f, 0, 10);
    assert_eq!(listed.first(), Some(&4), "{listed:?}");
    assert_eq!(
        cache.folder_state(&f).unwrap().unwrap().total as usize,
        listed.len()
    );
}
