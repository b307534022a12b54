//! Resync cost and correctness against a real Dovecot: QRESYNC (what Dovecot offers) and the
//! CONDSTORE-only path, each after changes by another client (doveadm).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{AccountId, Security, ServerSettings};
use petrel_harness::Harness;
use petrel_imap::{ImapSession, TrustPolicy};
use petrel_store::{FolderRef, MailCache, MemoryCache};
use std::sync::Arc;

fn mail(i: u32) -> Vec<u8> {
    format!(
        "Subject: m{i:03}\r\nDate: Mon, 02 Nov 2026 10:00:{:02} +0000\r\n\r\nx\r\n",
        i % 60
    )
    .into_bytes()
}

async fn login(h: &Harness) -> ImapSession {
    let alice = h.user("alice");
    let server = ServerSettings {
        host: "localhost".into(),
        port: h.ports.imaps,
        security: Security::Tls,
        username: alice.login.clone(),
        pinned_cert_sha256: None,
    };
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    ImapSession::login(&server, &alice.password, &trust)
        .await
        .unwrap()
}

/// A harness whose INBOX holds messages 1..=count, a session logged in to it, and an empty
/// cache for the folder.
async fn seeded_inbox(count: u32) -> (Harness, ImapSession, FolderRef, Arc<dyn MailCache>) {
    let h = Harness::start().unwrap();
    h.seed(
        "alice",
        "INBOX",
        &(1..=count).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    let session = login(&h).await;
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    (h, session, folder, Arc::new(MemoryCache::new()))
}

/// The rows a fresh cache holds after one sync of `f` on a new session.
async fn fresh_sync_sees(h: &Harness, f: &FolderRef) -> Vec<(String, bool, bool)> {
    let fresh: Arc<dyn MailCache> = Arc::new(MemoryCache::new());
    let mut other = login(h).await;
    other
        .sync_folder(fresh.clone(), f, |_, _| {})
        .await
        .unwrap();
    subjects(fresh.as_ref(), f)
}

fn subjects(cache: &dyn MailCache, f: &FolderRef) -> Vec<(String, bool, bool)> {
    let mut rows: Vec<_> = cache
        .page(f, 0, 10_000)
        .unwrap()
        .rows
        .into_iter()
        .map(|r| (r.subject, r.seen, r.flagged))
        .collect();
    rows.sort();
    rows
}

/// Another client reads m3, flags m4, expunges m5 and m6, and two messages arrive.
fn change_elsewhere(h: &Harness) {
    h.doveadm(
        "alice",
        &["flags", "add"],
        &["\\Seen", "mailbox", "INBOX", "HEADER", "Subject", "m003"],
    )
    .unwrap();
    h.doveadm(
        "alice",
        &["flags", "add"],
        &["\\Flagged", "mailbox", "INBOX", "HEADER", "Subject", "m004"],
    )
    .unwrap();
    for gone in ["m005", "m006"] {
        h.doveadm(
            "alice",
            &["expunge"],
            &["mailbox", "INBOX", "HEADER", "Subject", gone],
        )
        .unwrap();
    }
    h.append("alice", "INBOX", &mail(101)).unwrap();
    h.append("alice", "INBOX", &mail(102)).unwrap();
}

async fn check_incremental(qresync: bool) {
    let (h, mut session, folder, cache) = seeded_inbox(50).await;
    assert!(
        session.has("CONDSTORE") && session.has("QRESYNC"),
        "Dovecot offers both"
    );
    if !qresync {
        session.use_condstore_only();
    }
    let first = session
        .sync_folder(cache.clone(), &folder, |_, _| {})
        .await
        .unwrap();
    assert_eq!(first.added, 50);
    assert_eq!(
        first.round_trips, 2,
        "a first sync lists nothing before its rows: EXAMINE, then one FETCH by position"
    );

    let unchanged = session
        .sync_folder(cache.clone(), &folder, |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (
            unchanged.round_trips,
            unchanged.added,
            unchanged.removed,
            unchanged.flags_changed
        ),
        (1, 0, 0, 0),
        "an unchanged folder costs one round trip (qresync={qresync})"
    );

    change_elsewhere(&h);
    let changed = session
        .sync_folder(cache.clone(), &folder, |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (changed.added, changed.removed, changed.flags_changed),
        (2, 2, 2),
        "qresync={qresync}: {changed:?}"
    );
    let expected_trips = if qresync { 2 } else { 4 }; // + CHANGEDSINCE, + full diff for expunges
    assert!(
        changed.round_trips <= expected_trips,
        "qresync={qresync}: {changed:?}"
    );

    // The cache now equals what a fresh full sync sees.
    assert_eq!(
        subjects(cache.as_ref(), &folder),
        fresh_sync_sees(&h, &folder).await
    );
    let rows = subjects(cache.as_ref(), &folder);
    assert!(rows.iter().any(|r| r == &("m003".to_string(), true, false)));
    assert!(rows.iter().any(|r| r == &("m004".to_string(), false, true)));
    assert!(!rows.iter().any(|r| r.0 == "m005" || r.0 == "m006"));
    assert_eq!(rows.len(), 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn qresync_resyncs_in_one_round_trip_and_applies_changes() {
    check_incremental(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn condstore_only_resyncs_in_one_round_trip_and_applies_changes() {
    check_incremental(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn flag_only_changes_need_no_full_listing_with_condstore() {
    let (h, mut session, folder, cache) = seeded_inbox(20).await;
    session.use_condstore_only();
    session
        .sync_folder(cache.clone(), &folder, |_, _| {})
        .await
        .unwrap();
    h.doveadm(
        "alice",
        &["flags", "add"],
        &["\\Seen", "mailbox", "INBOX", "HEADER", "Subject", "m007"],
    )
    .unwrap();
    let report = session
        .sync_folder(cache.clone(), &folder, |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (report.flags_changed, report.round_trips),
        (1, 2),
        "{report:?}"
    );
}

/// A first sync fetches rows by position. Another client expunging messages while it runs
/// (here: ten of the oldest, whose batch is not sent yet) must not fail the sync, and the
/// next sync leaves the cache exactly as a fresh one sees the folder.
#[tokio::test]
async fn messages_expunged_during_a_first_sync_cost_nothing() {
    let (h, mut session, folder, cache) = seeded_inbox(1_200).await;
    let mut expunged = false;
    let first = session
        .sync_folder(cache.clone(), &folder, |done, _| {
            if done > 0 && !expunged {
                expunged = true;
                h.doveadm("alice", &["expunge"], &["mailbox", "INBOX", "uid", "10:19"])
                    .unwrap();
            }
        })
        .await;
    assert!(expunged, "the folder changed under the sync");
    let first = first.expect("an expunge elsewhere is not an error");
    assert!(first.added >= 1_190, "{first:?}");
    session
        .sync_folder(cache.clone(), &folder, |_, _| {})
        .await
        .unwrap();

    let rows = subjects(cache.as_ref(), &folder);
    assert_eq!(rows.len(), 1_190);
    assert_eq!(rows, fresh_sync_sees(&h, &folder).await);
    let uids = cache.uids(&folder).unwrap();
    assert!(!uids.iter().any(|u| (10..=19).contains(u)), "{uids:?}");
}
