//! A POP3 account in the engine against the harness's Dovecot: added after a real login,
//! mail downloaded into local folders and listed, read (marked read here), deleted to the
//! Trash and for good — and then, per the policy, from the server; shown in All Inboxes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{mail, pop3_form as form, Fixture};
use petrel_core::{LeaveOnServer, UnifiedView};

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_account_downloads_lists_reads_and_deletes_per_policy() {
    let f = Fixture::new();
    f.seed_mail("INBOX", 3);
    let engine = f.engine(f.cache_dir.path());

    let wrong = engine
        .add_account(form(&f, "not the password"))
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("rejected the login"), "{wrong}");
    assert!(
        engine.accounts().is_empty(),
        "nothing saved after a failed login"
    );

    let password = f.h.user("alice").password.clone();
    let id = engine.add_account(form(&f, &password)).await.unwrap().id;
    let folders: Vec<String> = engine
        .folders(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(folders, vec!["INBOX", "Sent", "Drafts", "Trash", "Archive"]);

    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    let mut subjects: Vec<&str> = page.rows.iter().map(|r| r.subject.as_str()).collect();
    subjects.sort_unstable();
    assert_eq!(subjects, vec!["message 1", "message 2", "message 3"]);
    assert_eq!(
        f.h.inbox_files("alice").len(),
        3,
        "left on the server for 14 days"
    );

    // Reading marks it read here.
    let uid = page
        .rows
        .iter()
        .find(|r| r.subject == "message 2")
        .unwrap()
        .uid;
    let view = engine.message(&id, "INBOX", uid).await.unwrap();
    assert_eq!(view.subject, "message 2");
    let again = engine.envelopes(&id, "INBOX", 0, 50, false).await.unwrap();
    assert!(again.rows.iter().find(|r| r.uid == uid).unwrap().seen);

    // Delete → Trash; delete in the Trash → gone, and the server copy goes on the next check.
    engine
        .delete_messages(&id, "INBOX", &[uid], petrel_engine::Deletion::ToTrash)
        .await
        .unwrap();
    let trash = engine.envelopes(&id, "Trash", 0, 50, false).await.unwrap();
    assert_eq!(trash.rows.len(), 1);
    assert!(trash.rows[0].seen, "the read mark moves with it");
    // One click in the Trash must not erase the only copy: it needs "Delete permanently".
    assert!(engine
        .delete_messages(
            &id,
            "Trash",
            &[trash.rows[0].uid],
            petrel_engine::Deletion::ToTrash
        )
        .await
        .is_err());
    assert_eq!(
        engine
            .envelopes(&id, "Trash", 0, 50, false)
            .await
            .unwrap()
            .total,
        1,
        "nothing deleted without confirming"
    );
    engine
        .delete_messages(
            &id,
            "Trash",
            &[trash.rows[0].uid],
            petrel_engine::Deletion::Permanently,
        )
        .await
        .unwrap();
    assert_eq!(
        engine
            .envelopes(&id, "Trash", 0, 50, false)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(f.h.inbox_files("alice").len(), 3);
    let inbox = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(inbox.total, 2, "not downloaded again");
    assert_eq!(
        f.h.inbox_files("alice").len(),
        2,
        "deleted here → deleted on the server"
    );

    // All Inboxes shows the POP3 account's local INBOX.
    let all = engine.unified(UnifiedView::Inboxes, 0, 50).await.unwrap();
    assert_eq!(all.total, 2);
    assert!(all.rows.iter().all(|r| r.account == id));

    // A restarted engine finds the same local mail (the UIDs are new, the mail is not).
    drop(engine);
    let fresh_cache = tempfile::tempdir().unwrap();
    let engine = f.engine(fresh_cache.path());
    assert_eq!(
        engine
            .envelopes(&id, "INBOX", 0, 50, true)
            .await
            .unwrap()
            .total,
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_only_mail_is_completed_when_opened() {
    let f = Fixture::new();
    f.h.seed("alice", "INBOX", &[mail(7)], false).unwrap();
    let engine = f.engine(f.cache_dir.path());
    let mut account = form(&f, &f.h.user("alice").password.clone());
    account.pop3.headers_only = true;
    account.pop3.leave_on_server = LeaveOnServer::Never;
    let id = engine.add_account(account).await.unwrap().id;
    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(
        page.rows[0].subject, "message 7",
        "the list shows it from its headers"
    );
    assert_eq!(
        f.h.inbox_files("alice").len(),
        1,
        "kept on the server until complete"
    );
    let view = engine
        .message(&id, "INBOX", page.rows[0].uid)
        .await
        .unwrap();
    assert!(
        view.text.contains("body 7"),
        "the rest was downloaded: {:?}",
        view.text
    );
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(
        f.h.inbox_files("alice").len(),
        0,
        "complete now, so deleted per the policy"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_policies_apply_on_the_next_check() {
    let f = Fixture::new();
    f.seed_mail("INBOX", 2);
    let engine = f.engine(f.cache_dir.path());
    let id = engine
        .add_account(form(&f, &f.h.user("alice").password.clone()))
        .await
        .unwrap()
        .id;
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(f.h.inbox_files("alice").len(), 2, "kept 14 days");
    let mut options = engine.accounts()[0].pop3;
    options.leave_days = 0;
    assert!(
        engine.set_pop3_options(&id, options).is_err(),
        "0 days is refused"
    );
    options.leave_on_server = LeaveOnServer::Never;
    let saved = engine.set_pop3_options(&id, options).unwrap();
    assert_eq!(saved.pop3.leave_on_server, LeaveOnServer::Never);
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(
        f.h.inbox_files("alice").len(),
        0,
        "now moved here, off the server"
    );
    assert_eq!(
        engine
            .envelopes(&id, "INBOX", 0, 50, false)
            .await
            .unwrap()
            .total,
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn local_folders_can_be_made_renamed_deleted_copied_into_and_exported() {
    let f = Fixture::new();
    f.seed_mail("INBOX", 2);
    let engine = f.engine(f.cache_dir.path());
    let id = engine
        .add_account(form(&f, &f.h.user("alice").password.clone()))
        .await
        .unwrap()
        .id;
    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    let paths =
        |list: Vec<petrel_core::Folder>| list.into_iter().map(|f| f.path).collect::<Vec<_>>();

    let list = engine.create_folder(&id, "Trips/2026").await.unwrap();
    assert!(paths(list.clone()).contains(&"Trips/2026".to_string()));
    let nested = list.iter().find(|f| f.path == "Trips/2026").unwrap();
    assert_eq!(
        (nested.name.as_str(), nested.parent.as_deref()),
        ("2026", Some("Trips"))
    );
    assert!(
        engine.create_folder(&id, "Trips/2026").await.is_err(),
        "no duplicates"
    );
    assert!(
        engine.rename_folder(&id, "INBOX", "Other").await.is_err(),
        "standard folders keep their names"
    );

    let uids: Vec<u32> = page.rows.iter().map(|r| r.uid).collect();
    engine
        .copy_messages(&id, "INBOX", &uids, "Trips/2026")
        .await
        .unwrap();
    assert_eq!(
        engine
            .envelopes(&id, "Trips/2026", 0, 50, false)
            .await
            .unwrap()
            .total,
        2
    );
    assert_eq!(
        engine
            .envelopes(&id, "INBOX", 0, 50, false)
            .await
            .unwrap()
            .total,
        2,
        "copied, not moved"
    );

    let list = engine
        .rename_folder(&id, "Trips/2026", "Holidays")
        .await
        .unwrap();
    assert!(paths(list).contains(&"Holidays".to_string()));
    assert_eq!(
        engine
            .envelopes(&id, "Holidays", 0, 50, false)
            .await
            .unwrap()
            .total,
        2
    );

    // Export: a Maildir another program can read, without Petrel's stamps.
    let out = tempfile::tempdir().unwrap();
    assert_eq!(
        engine
            .export_folder(&id, "Holidays", &out.path().join("export"))
            .unwrap(),
        2
    );
    let exported = std::fs::read_dir(out.path().join("export/new"))
        .unwrap()
        .count();
    assert_eq!(exported, 2);
    let uid = engine
        .envelopes(&id, "INBOX", 0, 1, false)
        .await
        .unwrap()
        .rows[0]
        .uid;
    let (name, bytes) = engine.export_message(&id, "INBOX", uid).await.unwrap();
    assert!(
        name.ends_with(".eml") && name.starts_with("message "),
        "{name}"
    );
    assert!(
        bytes.starts_with(b"From: "),
        "no X-Petrel-POP3 stamp in an export"
    );
    // "View source": the same bytes as text, and the whole size.
    let (text, total) = engine.message_source(&id, "INBOX", uid).await.unwrap();
    assert_eq!(text.as_bytes(), &bytes[..]);
    assert_eq!(total, bytes.len() as u64);
    // The list's preview line comes from the local file.
    let extras = engine.row_extras(&id, "INBOX", &[uid]).await.unwrap();
    assert!(
        extras.len() == 1 && extras[0].uid == uid && !extras[0].preview.is_empty(),
        "{extras:?}"
    );

    // Deleting a folder keeps its mail: it goes to the Trash.
    let list = engine.delete_folder(&id, "Holidays").await.unwrap();
    assert!(!paths(list).contains(&"Holidays".to_string()));
    assert_eq!(
        engine
            .envelopes(&id, "Trash", 0, 50, false)
            .await
            .unwrap()
            .total,
        2
    );
    assert!(engine.delete_folder(&id, "Trash").await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_pop3_server_shows_local_mail_and_an_offline_status() {
    let f = Fixture::new();
    f.seed_mail("INBOX", 2);
    let proxy = petrel_harness::Proxy::start(f.h.ports.pop3s).unwrap();
    let engine = f.engine(f.cache_dir.path());
    let mut account = form(&f, &f.h.user("alice").password.clone());
    account.imap.port = proxy.port;
    let id = engine.add_account(account).await.unwrap().id;
    assert_eq!(
        engine
            .envelopes(&id, "INBOX", 0, 50, true)
            .await
            .unwrap()
            .total,
        2
    );
    assert_eq!(
        engine.account_status(&id).state,
        petrel_core::ConnectionState::Online
    );

    proxy.set_up(false);
    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert!(page.offline, "the page says the server was not reached");
    assert_eq!(page.total, 2, "local mail is all there");
    let status = engine.account_status(&id);
    assert_eq!(status.state, petrel_core::ConnectionState::Offline);
    assert!(status.retry_in_seconds.is_some(), "{status:?}");

    proxy.set_up(true);
    f.h.append("alice", "INBOX", &mail(3)).unwrap();
    // "Get mail" tries at once, whatever the backoff says.
    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert!(!page.offline);
    assert_eq!(page.total, 3);
    assert_eq!(
        engine.account_status(&id).state,
        petrel_core::ConnectionState::Online
    );
}

/// Review M1: two downloads of one account at once (the startup check and the INBOX that
/// opens, or F5 during a periodic check) must not store any message twice. Dovecot makes
/// a second session wait for the first, so a scripted server that never locks and answers
/// slowly stands for the servers that let both sessions take the same new mail.
#[tokio::test(flavor = "multi_thread")]
async fn two_downloads_at_once_store_each_message_once() {
    let f = Fixture::new();
    let messages: Vec<Vec<u8>> = (1..=12).map(mail).collect();
    let server =
        petrel_harness::ScriptedPop3::start(messages, std::time::Duration::from_millis(40))
            .await
            .unwrap();
    let engine = f.engine(f.cache_dir.path());
    let mut account = form(&f, "any password");
    account.imap.port = server.port;
    account.imap.pinned_cert_sha256 = Some(server.cert_sha256.clone());
    let id = engine.add_account(account).await.unwrap().id;
    let (a, b, c) = tokio::join!(
        engine.envelopes(&id, "INBOX", 0, 100, true),
        engine.envelopes(&id, "INBOX", 0, 100, true),
        engine.envelopes(&id, "INBOX", 0, 100, true),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    let page = engine.envelopes(&id, "INBOX", 0, 100, false).await.unwrap();
    assert_eq!(page.total, 12, "each message stored once");
    assert_eq!(
        server.most_at_once(),
        1,
        "one session of the account at a time"
    );
}

/// What a new account's first download brings is the mailbox as it was, not news: no
/// arrivals (as IMAP's first sync). Mail downloaded by later checks is.
#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_accounts_first_download_announces_nothing_later_ones_do() {
    let f = Fixture::new();
    f.seed_mail("INBOX", 3);
    let engine = f.engine(f.cache_dir.path());
    let password = f.h.user("alice").password.clone();
    let id = engine.add_account(form(&f, &password)).await.unwrap().id;
    engine.folders(&id).await.unwrap();
    // Get mail and a first open of INBOX at the same moment (as the window does at start).
    let (first, listing) = tokio::join!(
        engine.refresh_folder(&id, "INBOX", true),
        engine.refresh_folder(&id, "INBOX", false)
    );
    let (first, listing) = (first.unwrap(), listing.unwrap());
    assert_eq!(first.change.total, 3, "downloaded");
    for change in [&first.change, &listing.change] {
        assert!(
            change.arrived.is_empty(),
            "a first fill tells nothing, whichever refresh lists it: {:?}",
            change.arrived
        );
    }

    f.h.seed("alice", "INBOX", &[mail(9)], false).unwrap();
    let next = engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    let named: Vec<&str> = next
        .change
        .arrived
        .iter()
        .map(|e| e.subject.as_str())
        .collect();
    assert_eq!(named, vec!["message 9"]);
}
