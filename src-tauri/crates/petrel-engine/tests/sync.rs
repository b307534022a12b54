//! Folder sync into the sled cache against a real Dovecot. Changes "from another device" are
//! made with doveadm, an independent client of the same mail store.

use petrel_core::{AccountId, NewAccount, Security, ServerSettings};
use petrel_engine::{Engine, FolderRef, MailCache, SledCache, TrustPolicy};
use petrel_harness::{Harness, MemorySecrets};
use std::collections::HashMap;
use std::sync::Arc;

fn mail(i: u32) -> Vec<u8> {
    format!("From: Sender {i} <s{i}@example.test>\r\nSubject: message {i}\r\nDate: Mon, 02 Nov 2026 10:{:02}:00 +0000\r\n\r\nbody {i}\r\n", i % 60)
        .into_bytes()
}

struct Fixture {
    h: Harness,
    config: tempfile::TempDir,
    cache_dir: tempfile::TempDir,
    secrets: Arc<MemorySecrets>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            h: Harness::start().unwrap(),
            config: tempfile::tempdir().unwrap(),
            cache_dir: tempfile::tempdir().unwrap(),
            secrets: Arc::default(),
        }
    }

    fn engine(&self, cache_dir: &std::path::Path) -> Engine {
        self.engine_with_cache(cache_dir).0
    }

    /// The engine and its cache, for tests that look into the cache directly.
    fn engine_with_cache(&self, cache_dir: &std::path::Path) -> (Engine, Arc<SledCache>) {
        let cache = Arc::new(SledCache::open(cache_dir).unwrap());
        let trust = TrustPolicy::with_pem_roots(self.h.ca_pem().as_bytes()).unwrap();
        let engine = Engine::open(
            self.config.path(),
            self.secrets.clone(),
            trust,
            cache.clone(),
        )
        .unwrap();
        (engine, cache)
    }

    /// An engine on the fixture's cache with alice's account added.
    async fn start(&self) -> (Engine, AccountId) {
        let engine = self.engine(self.cache_dir.path());
        let id = self.account(&engine).await;
        (engine, id)
    }

    async fn account(&self, engine: &Engine) -> AccountId {
        let alice = self.h.user("alice");
        let form = NewAccount {
            display_name: "Alice".into(),
            email: alice.login.clone(),
            imap: ServerSettings {
                host: "localhost".into(),
                port: self.h.ports.imaps,
                security: Security::Tls,
                username: alice.login.clone(),
                pinned_cert_sha256: None,
            },
            password: alice.password.clone(),
        };
        engine.add_account(form).await.unwrap().id
    }
}

async fn subjects(engine: &Engine, id: &AccountId, folder: &str, refresh: bool) -> Vec<String> {
    engine
        .envelopes(id, folder, 0, 1000, refresh)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.subject)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_from_another_client_reach_the_cache_on_refresh() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &(1..=30).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;

    let page = engine.envelopes(&id, "INBOX", 0, 10, false).await.unwrap();
    assert_eq!((page.total, page.rows.len()), (30, 10));
    assert!(page.rows.iter().all(|r| !r.seen));
    assert!(!page.offline);

    // Another device: new mail arrives, one message is read, one flagged, one expunged.
    f.h.append("alice", "INBOX", &mail(31)).unwrap();
    f.h.append("alice", "INBOX", &mail(32)).unwrap();
    f.h.doveadm(
        "alice",
        &["flags", "add"],
        &[
            "\\Seen",
            "mailbox",
            "INBOX",
            "HEADER",
            "Subject",
            "message 7",
        ],
    )
    .unwrap();
    f.h.doveadm(
        "alice",
        &["flags", "add"],
        &[
            "\\Flagged",
            "mailbox",
            "INBOX",
            "HEADER",
            "Subject",
            "message 8",
        ],
    )
    .unwrap();
    f.h.doveadm(
        "alice",
        &["expunge"],
        &["mailbox", "INBOX", "HEADER", "Subject", "message 9"],
    )
    .unwrap();

    // Without refresh the cache answers as it was: no surprise reloads.
    assert_eq!(
        engine
            .envelopes(&id, "INBOX", 0, 1, false)
            .await
            .unwrap()
            .total,
        30
    );

    let page = engine.envelopes(&id, "INBOX", 0, 1000, true).await.unwrap();
    assert_eq!(page.total, 31, "30 + 2 new - 1 expunged");
    let by_subject: HashMap<&str, &petrel_core::Envelope> =
        page.rows.iter().map(|r| (r.subject.as_str(), r)).collect();
    assert!(by_subject.contains_key("message 32") && by_subject.contains_key("message 31"));
    assert!(
        !by_subject.contains_key("message 9"),
        "expunged elsewhere must leave the cache"
    );
    assert!(by_subject["message 7"].seen, "read elsewhere");
    assert!(by_subject["message 8"].flagged, "flagged elsewhere");
}

#[tokio::test(flavor = "multi_thread")]
async fn uidvalidity_change_and_a_deleted_cache_are_rebuilt_from_the_server() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "Work",
        &(1..=5).map(mail).collect::<Vec<_>>(),
        true,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    assert_eq!(subjects(&engine, &id, "Work", false).await.len(), 5);

    // The folder is deleted and re-created elsewhere: same name, new UIDVALIDITY, other mail.
    f.h.doveadm("alice", &["mailbox", "delete"], &["Work"])
        .unwrap();
    f.h.doveadm("alice", &["mailbox", "create"], &["Work"])
        .unwrap();
    f.h.append("alice", "Work", &mail(40)).unwrap();
    f.h.append("alice", "Work", &mail(41)).unwrap();
    let mut now = subjects(&engine, &id, "Work", true).await;
    now.sort();
    assert_eq!(
        now,
        vec!["message 40", "message 41"],
        "rows of the old UIDVALIDITY must not survive"
    );
    drop(engine);

    // A new, empty cache directory: the same rows come back from the server.
    let fresh = tempfile::tempdir().unwrap();
    let engine = f.engine(fresh.path());
    let mut again = subjects(&engine, &id, "Work", false).await;
    again.sort();
    assert_eq!(again, now);
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_rows_are_served_when_the_server_is_gone() {
    let mut f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &(1..=3).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    assert_eq!(subjects(&engine, &id, "INBOX", false).await.len(), 3);
    f.h.stop();
    let rows = engine
        .envelopes(&id, "INBOX", 0, 10, true)
        .await
        .expect("offline reads come from the cache");
    assert_eq!(rows.total, 3);
    assert!(rows.offline, "the UI must be told these rows may be stale");
    let err = engine
        .envelopes(&id, "Never synced", 0, 10, true)
        .await
        .unwrap_err();
    assert!(
        err.is_connection_problem(),
        "a folder never cached reports the outage: {err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn background_check_reports_only_folders_that_changed() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &(1..=4).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    f.h.seed("alice", "Work", &[mail(50)], true).unwrap();
    let (engine, id) = f.start().await;
    assert!(
        engine.check_for_changes().await.is_empty(),
        "nothing opened yet, nothing to check"
    );
    // The tree's counts come from STATUS, also for folders never opened.
    let folders = engine.folders(&id).await.unwrap();
    let counts = |path: &str| {
        let f = folders.iter().find(|f| f.path == path).unwrap();
        (f.total, f.unread)
    };
    assert_eq!(counts("INBOX"), (Some(4), Some(4)));
    assert_eq!(counts("Work"), (Some(1), Some(0)));
    engine.envelopes(&id, "INBOX", 0, 10, false).await.unwrap();
    engine.envelopes(&id, "Work", 0, 10, false).await.unwrap();
    assert!(
        engine.check_for_changes().await.is_empty(),
        "no change on the server"
    );

    f.h.append("alice", "INBOX", &mail(5)).unwrap();
    let changes = engine.check_for_changes().await;
    assert_eq!(changes.len(), 1, "only INBOX changed: {changes:?}");
    let c = &changes[0];
    assert_eq!(
        (c.folder.as_str(), c.added, c.total, c.unread),
        ("INBOX", 1, 5, 5)
    );
    assert!(
        engine.check_for_changes().await.is_empty(),
        "a change is reported once"
    );
}

/// Flags of one message as Dovecot has them, read by doveadm (not through Petrel).
fn server_flags(h: &Harness, subject: &str) -> String {
    h.doveadm(
        "alice",
        &["fetch"],
        &["flags", "mailbox", "INBOX", "HEADER", "Subject", subject],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_and_flag_changes_reach_the_server_and_the_counts() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &(1..=3).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    let (engine, cache) = f.engine_with_cache(f.cache_dir.path());
    let id = f.account(&engine).await;
    let rows = engine
        .envelopes(&id, "INBOX", 0, 10, false)
        .await
        .unwrap()
        .rows;
    let uid = |s: &str| rows.iter().find(|r| r.subject == s).unwrap().uid;

    let change = engine
        .set_flags(
            &id,
            "INBOX",
            &[uid("message 1"), uid("message 2")],
            Some(true),
            None,
        )
        .await
        .unwrap();
    assert_eq!((change.total, change.unread), (3, 1));
    assert!(server_flags(&f.h, "message 1").contains("\\Seen"));
    assert!(server_flags(&f.h, "message 2").contains("\\Seen"));
    assert!(
        !server_flags(&f.h, "message 3").contains("\\Seen"),
        "only the chosen messages change"
    );

    engine
        .set_flags(&id, "INBOX", &[uid("message 2")], Some(false), Some(true))
        .await
        .unwrap();
    let flags = server_flags(&f.h, "message 2");
    assert!(
        flags.contains("\\Flagged") && !flags.contains("\\Seen"),
        "flags: {flags}"
    );
    let cached = engine
        .envelopes(&id, "INBOX", 0, 10, false)
        .await
        .unwrap()
        .rows;
    let row = cached.iter().find(|r| r.subject == "message 2").unwrap();
    assert!(row.flagged && !row.seen, "the cache matches the server");
    // A fresh sync finds nothing to change: cache and server agree.
    assert!(engine.check_for_changes().await.is_empty());

    // Removing the account removes its cached rows and stops checking its folders.
    engine.remove_account(&id).await.unwrap();
    f.h.append("alice", "INBOX", &mail(9)).unwrap();
    assert!(engine.check_for_changes().await.is_empty());
    let inbox = FolderRef::new(&id, "INBOX");
    assert!(
        cache.folder_state(&inbox).unwrap().is_none(),
        "cached rows of a removed account must go"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_change_that_cannot_reach_the_server_is_undone_in_the_cache() {
    let mut f = Fixture::new();
    f.h.seed("alice", "INBOX", &[mail(1)], false).unwrap();
    let (engine, id) = f.start().await;
    let uid = engine
        .envelopes(&id, "INBOX", 0, 10, false)
        .await
        .unwrap()
        .rows[0]
        .uid;
    f.h.stop();
    let err = engine
        .set_flags(&id, "INBOX", &[uid], Some(true), None)
        .await
        .unwrap_err();
    assert!(err.is_connection_problem(), "{err}");
    let page = engine.envelopes(&id, "INBOX", 0, 10, false).await.unwrap();
    assert!(
        !page.rows[0].seen,
        "the cache must not claim a change the server never got"
    );
}
