//! Folder sync into the sled cache against a real Dovecot. Changes "from another device" are
//! made with doveadm, an independent client of the same mail store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{mail, server_flags, subjects, Fixture};
use petrel_engine::{FolderRef, MailCache};
use std::collections::HashMap;

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
    f.h.doveadm(
        "alice",
        &["flags", "add"],
        &[
            "\\Answered",
            "mailbox",
            "INBOX",
            "HEADER",
            "Subject",
            "message 6",
        ],
    )
    .unwrap();
    f.h.append(
        "alice",
        "INBOX",
        b"From: a@example.org\r\nSubject: with a file\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n",
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
    assert_eq!(page.total, 32, "30 + 3 new - 1 expunged");
    let by_subject: HashMap<&str, &petrel_core::Envelope> =
        page.rows.iter().map(|r| (r.subject.as_str(), r)).collect();
    assert!(by_subject.contains_key("message 32") && by_subject.contains_key("message 31"));
    assert!(
        !by_subject.contains_key("message 9"),
        "expunged elsewhere must leave the cache"
    );
    assert!(by_subject["message 7"].seen, "read elsewhere");
    assert!(by_subject["message 8"].flagged, "flagged elsewhere");
    assert!(by_subject["message 6"].answered, "answered elsewhere");
    assert!(!by_subject["message 7"].answered);
    assert!(by_subject["with a file"].has_attachment, "multipart/mixed");
    assert!(!by_subject["message 7"].has_attachment);
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
    assert_eq!((change.folder.total, change.folder.unread), (3, 1));
    assert_eq!(change.pending, 0, "the server took it at once");
    assert!(server_flags(&f.h, "INBOX", "message 1").contains("\\Seen"));
    assert!(server_flags(&f.h, "INBOX", "message 2").contains("\\Seen"));
    assert!(
        !server_flags(&f.h, "INBOX", "message 3").contains("\\Seen"),
        "only the chosen messages change"
    );

    engine
        .set_flags(&id, "INBOX", &[uid("message 2")], Some(false), Some(true))
        .await
        .unwrap();
    let flags = server_flags(&f.h, "INBOX", "message 2");
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
    engine.remove_account(&id, true).await.unwrap();
    f.h.append("alice", "INBOX", &mail(9)).unwrap();
    assert!(engine.check_for_changes().await.is_empty());
    let inbox = FolderRef::new(&id, "INBOX");
    assert!(
        cache.folder_state(&inbox).unwrap().is_none(),
        "cached rows of a removed account must go"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_renamed_by_another_client_moves_in_the_tree_and_the_cache() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "Work",
        &(1..=3).map(mail).collect::<Vec<_>>(),
        true,
    )
    .unwrap();
    let (engine, cache) = f.engine_with_cache(f.cache_dir.path());
    let id = f.account(&engine).await;
    assert_eq!(subjects(&engine, &id, "Work", false).await.len(), 3);
    f.h.doveadm("alice", &["mailbox", "rename"], &["Work", "Projects"])
        .unwrap();
    let tree = engine.folders(&id).await.unwrap();
    assert!(tree.iter().any(|f| f.path == "Projects"));
    assert!(!tree.iter().any(|f| f.path == "Work"));
    assert!(
        cache
            .folder_state(&FolderRef::new(&id, "Work"))
            .unwrap()
            .is_none(),
        "the old name's cache is dropped"
    );
    assert_eq!(subjects(&engine, &id, "Projects", false).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn quota_usage_and_limit_come_from_the_server() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &(1..=20).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    let quota = engine
        .quota(&id)
        .await
        .unwrap()
        .expect("Dovecot has a quota");
    assert_eq!(quota.limit_kib, 100 * 1024, "the harness sets 100 MB");
    assert!(quota.used_kib > 0, "{quota:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_window_lists_only_recent_mail_and_keeps_taking_new_mail() {
    let f = Fixture::new();
    let names =
        f.h.seed(
            "alice",
            "INBOX",
            &(1..=10).map(mail).collect::<Vec<_>>(),
            false,
        )
        .unwrap();
    // Messages 1-6 arrived in 2020 (Maildir file time is IMAP's INTERNALDATE).
    let maildir = f.h.user("alice").maildir.join("new");
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_590_000_000);
    for name in &names[..6] {
        std::fs::File::options()
            .write(true)
            .open(maildir.join(name))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let (engine, cache) = f.engine_with_cache(f.cache_dir.path());
    let id = f.account(&engine).await;
    let options = petrel_core::SyncOptions {
        window_days: Some(30),
        keep_offline: true,
        notify: true,
    };
    assert_eq!(engine.set_sync_options(&id, options).unwrap().sync, options);
    let mut listed = subjects(&engine, &id, "INBOX", false).await;
    listed.sort();
    assert_eq!(
        listed,
        vec!["message 10", "message 7", "message 8", "message 9"]
    );

    // New mail and a change to an old message elsewhere: the new one joins, the old stays out.
    f.h.append("alice", "INBOX", &mail(11)).unwrap();
    f.h.doveadm(
        "alice",
        &["flags", "add"],
        &[
            "\\Flagged",
            "mailbox",
            "INBOX",
            "HEADER",
            "Subject",
            "message 2",
        ],
    )
    .unwrap();
    let now = subjects(&engine, &id, "INBOX", true).await;
    assert_eq!(now.len(), 5, "{now:?}");
    assert!(now.contains(&"message 11".to_string()) && !now.contains(&"message 2".to_string()));

    // Keeping mail offline downloads what the window lists, nothing older.
    assert_eq!(engine.download_for_offline(&id).await.unwrap(), 5);
    let inbox = FolderRef::new(&id, "INBOX");
    assert_eq!(cache.body_uids(&inbox).unwrap().len(), 5);

    // Persisted: a restarted engine has the options.
    drop(engine);
    let engine = f.engine(tempfile::tempdir().unwrap().path());
    assert_eq!(engine.accounts()[0].sync, options);
    assert_eq!(subjects(&engine, &id, "INBOX", false).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn unified_views_merge_accounts_by_date_and_follow_changes() {
    let f = Fixture::new();
    // alice's mail is at :01, :03, :05…, bob's at :02, :04…: the merge must interleave.
    let at = |minute: u32, who: &str| {
        format!("From: x@example.org\r\nSubject: {who} {minute}\r\nDate: Mon, 02 Nov 2026 10:{minute:02}:00 +0000\r\n\r\nx\r\n").into_bytes()
    };
    f.h.seed(
        "alice",
        "INBOX",
        &[at(1, "alice"), at(3, "alice"), at(5, "alice")],
        false,
    )
    .unwrap();
    f.h.seed("bob", "INBOX", &[at(2, "bob"), at(4, "bob")], false)
        .unwrap();
    f.h.seed("alice", "Work", &[at(6, "alice-work")], false)
        .unwrap();
    let (engine, alice) = f.start().await;
    let bob_user = f.h.user("bob");
    let bob = engine
        .add_account(petrel_core::NewAccount {
            display_name: "Bob".into(),
            email: bob_user.login.clone(),
            imap: petrel_core::ServerSettings {
                host: "localhost".into(),
                port: f.h.ports.imaps,
                security: petrel_core::Security::Tls,
                username: bob_user.login.clone(),
                pinned_cert_sha256: None,
            },
            password: bob_user.password.clone(),
            protocol: Default::default(),
            pop3: Default::default(),
            smtp: None,
            sending: Default::default(),
            sign_in: Default::default(),
            sign_in_ticket: None,
        })
        .await
        .unwrap()
        .id;
    for (id, folder) in [(&alice, "INBOX"), (&bob, "INBOX"), (&alice, "Work")] {
        engine.envelopes(id, folder, 0, 10, false).await.unwrap();
    }
    let inboxes = engine
        .unified(petrel_core::UnifiedView::Inboxes, 0, 10)
        .await
        .unwrap();
    let order: Vec<&str> = inboxes
        .rows
        .iter()
        .map(|r| r.envelope.subject.as_str())
        .collect();
    assert_eq!(
        order,
        vec!["alice 5", "bob 4", "alice 3", "bob 2", "alice 1"]
    );
    assert_eq!(inboxes.total, 5);
    assert_eq!(inboxes.rows[1].account, bob);
    // Paging by position works across accounts.
    let second = engine
        .unified(petrel_core::UnifiedView::Inboxes, 2, 2)
        .await
        .unwrap();
    let order: Vec<&str> = second
        .rows
        .iter()
        .map(|r| r.envelope.subject.as_str())
        .collect();
    assert_eq!(order, vec!["alice 3", "bob 2"]);

    // Unread spans folders; reading one takes it out; flagging puts it in Flagged.
    let unread = engine
        .unified(petrel_core::UnifiedView::Unread, 0, 10)
        .await
        .unwrap();
    assert_eq!(unread.total, 6, "all six unread, Work included");
    let bob4 = inboxes.rows[1].envelope.uid;
    engine
        .set_flags(&bob, "INBOX", &[bob4], Some(true), Some(true))
        .await
        .unwrap();
    assert_eq!(
        engine
            .unified(petrel_core::UnifiedView::Unread, 0, 10)
            .await
            .unwrap()
            .total,
        5
    );
    let flagged = engine
        .unified(petrel_core::UnifiedView::Flagged, 0, 10)
        .await
        .unwrap();
    assert_eq!(flagged.rows.len(), 1);
    assert_eq!(
        (
            flagged.rows[0].account.clone(),
            flagged.rows[0].envelope.subject.as_str()
        ),
        (bob, "bob 4")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sorted_and_filtered_pages_follow_changes() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &(1..=12).map(mail).collect::<Vec<_>>(),
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    let by_subject = petrel_core::ListQuery {
        sort: petrel_core::SortKey::Subject,
        ascending: true,
        ..Default::default()
    };
    let page = engine
        .envelopes_with(&id, "INBOX", 0, 3, false, &by_subject)
        .await
        .unwrap();
    let subjects: Vec<&str> = page.rows.iter().map(|r| r.subject.as_str()).collect();
    assert_eq!(
        (page.total, subjects),
        (12, vec!["message 1", "message 10", "message 11"])
    );

    let unread_with_1 = petrel_core::ListQuery {
        text: "message 1".into(),
        unread_only: true,
        ..Default::default()
    };
    let before = engine
        .envelopes_with(&id, "INBOX", 0, 50, false, &unread_with_1)
        .await
        .unwrap();
    assert_eq!(before.total, 4, "message 1, 10, 11, 12");
    let uid = before.rows[0].uid;
    engine
        .set_flags(&id, "INBOX", &[uid], Some(true), None)
        .await
        .unwrap();
    let after = engine
        .envelopes_with(&id, "INBOX", 0, 50, false, &unread_with_1)
        .await
        .unwrap();
    assert_eq!(after.total, 3, "the filter sees the change at once");
    assert!(after.rows.iter().all(|r| r.uid != uid));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_lists_unread_arrivals_for_notifications_not_a_first_fill_or_read_mail() {
    let letter = |n: u32, subject: &str| {
        format!(
            "From: Ana Lima <ana@example.test>\r\nSubject: {subject}\r\nMessage-ID: <n{n}@example.test>\r\n\
Date: Mon, 02 Nov 2026 10:{n:02}:00 +0000\r\n\r\nbody\r\n"
        )
        .into_bytes()
    };
    let f = Fixture::new();
    f.h.seed("alice", "INBOX", &[letter(1, "Old news")], false)
        .unwrap();
    let (engine, id) = f.start().await;
    let first = engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    assert!(
        first.change.arrived.is_empty(),
        "a first fill tells nothing"
    );

    // One unread and one already read on another device arrive.
    f.h.seed("alice", "INBOX", &[letter(2, "Lunch?")], false)
        .unwrap();
    f.h.seed("alice", "INBOX", &[letter(3, "Read on the phone")], true)
        .unwrap();
    let next = engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    assert_eq!(next.change.added, 2);
    let named: Vec<&str> = next
        .change
        .arrived
        .iter()
        .map(|e| e.subject.as_str())
        .collect();
    assert_eq!(named, vec!["Lunch?"]);
    let notice = petrel_engine::new_mail_notice(&next.change, "Alice").unwrap();
    assert_eq!(
        (notice.title.as_str(), notice.body.as_str()),
        ("Ana Lima", "Lunch?")
    );
}
