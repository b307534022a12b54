//! User actions against a real Dovecot, each checked with doveadm (a second, independent
//! client of the same mail store): move, copy, delete to Trash, delete from Trash, archive,
//! bulk, folder create/rename/delete/subscribe; offline queueing with replay after a
//! restart; a refused action and a conflicting change elsewhere resolving to the server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{mail, server_flags, server_subjects, subjects, Fixture};
use petrel_core::AccountId;
use petrel_engine::{Deletion, Engine};
use std::collections::HashMap;

async fn uids(engine: &Engine, id: &AccountId, folder: &str) -> HashMap<String, u32> {
    engine
        .envelopes(id, folder, 0, 1000, false)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| (r.subject, r.uid))
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn names(list: &[&str]) -> Vec<String> {
    sorted(list.iter().map(|s| s.to_string()).collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_reaches_the_server() {
    let f = Fixture::new();
    f.seed_mail("INBOX", 8);
    let (engine, id) = f.start().await;
    let inbox = uids(&engine, &id, "INBOX").await;
    let uid = |s: &str| inbox[s];

    let tree = engine.create_folder(&id, "Work").await.unwrap();
    assert!(tree.iter().any(|f| f.path == "Work" && f.subscribed));
    let moved = engine
        .move_messages(&id, "INBOX", &[uid("message 1")], "Work")
        .await
        .unwrap();
    assert_eq!((moved.folder.total, moved.pending), (7, 0));
    engine
        .copy_messages(&id, "INBOX", &[uid("message 2")], "Work")
        .await
        .unwrap();
    let deleted = engine
        .delete_messages(&id, "INBOX", &[uid("message 3")], Deletion::ToTrash)
        .await
        .unwrap();
    assert_eq!(deleted.folder.total, 6);
    engine
        .archive_messages(&id, "INBOX", &[uid("message 4"), uid("message 5")])
        .await
        .unwrap();

    assert_eq!(
        server_subjects(&f.h, "INBOX"),
        names(&["message 2", "message 6", "message 7", "message 8"])
    );
    assert_eq!(
        server_subjects(&f.h, "Work"),
        names(&["message 1", "message 2"])
    );
    assert_eq!(server_subjects(&f.h, "Trash"), names(&["message 3"]));
    assert_eq!(
        server_subjects(&f.h, "Archive"),
        names(&["message 4", "message 5"])
    );
    // The cache already shows it without a refresh, and a refresh agrees.
    assert_eq!(
        sorted(subjects(&engine, &id, "INBOX", false).await),
        server_subjects(&f.h, "INBOX")
    );
    assert_eq!(
        sorted(subjects(&engine, &id, "Work", true).await),
        server_subjects(&f.h, "Work")
    );

    // Delete in the Trash deletes for good (UID EXPUNGE of that message only).
    f.h.append("alice", "Trash", &mail(30)).unwrap();
    f.h.doveadm(
        "alice",
        &["flags", "add"],
        &[
            "\\Deleted",
            "mailbox",
            "Trash",
            "HEADER",
            "Subject",
            "message 30",
        ],
    )
    .unwrap();
    let trash = uids(&engine, &id, "Trash").await;
    let unconfirmed = engine
        .delete_messages(&id, "Trash", &[trash["message 3"]], Deletion::ToTrash)
        .await
        .unwrap_err();
    assert!(
        unconfirmed.to_string().contains("Delete permanently"),
        "deleting in the Trash needs the user's confirmation: {unconfirmed}"
    );
    assert!(server_subjects(&f.h, "Trash").contains(&"message 3".to_string()));
    engine
        .delete_messages(&id, "Trash", &[trash["message 3"]], Deletion::Permanently)
        .await
        .unwrap();
    assert_eq!(
        server_subjects(&f.h, "Trash"),
        names(&["message 30"]),
        "another client's \\Deleted message must survive: never a bare EXPUNGE"
    );

    // Folders: rename, subscription, delete.
    engine.rename_folder(&id, "Work", "Projects").await.unwrap();
    let listed = f.h.doveadm("alice", &["mailbox", "list"], &[]).unwrap();
    assert!(listed.lines().any(|l| l == "Projects") && !listed.lines().any(|l| l == "Work"));
    assert_eq!(subjects(&engine, &id, "Projects", false).await.len(), 2);
    let tree = engine.set_subscribed(&id, "Projects", false).await.unwrap();
    assert!(
        !tree
            .iter()
            .find(|f| f.path == "Projects")
            .unwrap()
            .subscribed
    );
    let subscribed = f.h.doveadm("alice", &["mailbox", "list"], &["-s"]).unwrap();
    assert!(!subscribed.lines().any(|l| l == "Projects"), "{subscribed}");
    engine.delete_folder(&id, "Projects").await.unwrap();
    let listed = f.h.doveadm("alice", &["mailbox", "list"], &[]).unwrap();
    assert!(!listed.lines().any(|l| l == "Projects"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_actions_survive_a_restart_and_replay_in_order() {
    let f = Fixture::with_proxy();
    f.seed_mail("INBOX", 5);
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap(); // the tree is remembered for offline use
    let inbox = uids(&engine, &id, "INBOX").await;

    f.proxy().set_up(false);
    let read = engine
        .set_flags(&id, "INBOX", &[inbox["message 1"]], Some(true), None)
        .await
        .unwrap();
    assert_eq!((read.folder.unread, read.pending), (4, 1));
    let moved = engine
        .archive_messages(&id, "INBOX", &[inbox["message 2"]])
        .await
        .unwrap();
    assert_eq!(moved.pending, 2);
    let deleted = engine
        .delete_messages(&id, "INBOX", &[inbox["message 3"]], Deletion::ToTrash)
        .await
        .unwrap();
    assert_eq!((deleted.folder.total, deleted.pending), (3, 3));
    // The message moved offline is flagged next: order matters on replay.
    engine
        .set_flags(&id, "INBOX", &[inbox["message 4"]], None, Some(true))
        .await
        .unwrap();
    assert_eq!(
        server_subjects(&f.h, "INBOX").len(),
        5,
        "nothing reached the server"
    );
    assert_eq!(
        sorted(subjects(&engine, &id, "INBOX", false).await),
        names(&["message 1", "message 4", "message 5"]),
        "the cache shows the actions at once"
    );
    let status = engine.account_status(&id);
    assert_eq!(status.pending_actions, 4);
    assert_eq!(status.state, petrel_core::ConnectionState::Offline);

    // Petrel is closed and started again while offline; the queue is on disk.
    drop(engine);
    let engine = f.engine(f.cache_dir.path());
    assert_eq!(engine.pending_actions(&id), 4);

    f.proxy().set_up(true);
    let page = engine.envelopes(&id, "INBOX", 0, 100, true).await.unwrap();
    assert!(!page.offline);
    assert_eq!(engine.pending_actions(&id), 0);
    assert_eq!(
        server_subjects(&f.h, "INBOX"),
        names(&["message 1", "message 4", "message 5"])
    );
    assert!(server_flags(&f.h, "INBOX", "message 1").contains("\\Seen"));
    assert!(server_flags(&f.h, "INBOX", "message 4").contains("\\Flagged"));
    assert_eq!(server_subjects(&f.h, "Archive"), names(&["message 2"]));
    assert_eq!(server_subjects(&f.h, "Trash"), names(&["message 3"]));
    assert_eq!(
        engine.account_status(&id).state,
        petrel_core::ConnectionState::Online
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicts_resolve_to_the_server() {
    let f = Fixture::with_proxy();
    f.seed_mail("INBOX", 3);
    let (engine, id) = f.start().await;
    let inbox = uids(&engine, &id, "INBOX").await;

    // A move to a folder that does not exist is refused: the message comes back.
    let err = engine
        .move_messages(&id, "INBOX", &[inbox["message 1"]], "No such folder")
        .await
        .unwrap_err();
    assert!(!err.is_connection_problem(), "{err}");
    assert_eq!(
        engine.pending_actions(&id),
        0,
        "a refused action is not retried"
    );
    assert!(subjects(&engine, &id, "INBOX", false)
        .await
        .contains(&"message 1".to_string()));

    // Offline, message 2 is marked read while another device deletes it: on reconnect
    // the server's deletion wins, without an error.
    f.proxy().set_up(false);
    engine
        .set_flags(&id, "INBOX", &[inbox["message 2"]], Some(true), None)
        .await
        .unwrap();
    f.h.doveadm(
        "alice",
        &["expunge"],
        &["mailbox", "INBOX", "HEADER", "Subject", "message 2"],
    )
    .unwrap();
    f.proxy().set_up(true);
    let now = sorted(subjects(&engine, &id, "INBOX", true).await);
    assert_eq!(now, names(&["message 1", "message 3"]));
    assert_eq!(now, server_subjects(&f.h, "INBOX"));
    assert_eq!(engine.pending_actions(&id), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn read_messages_open_offline_from_the_cache() {
    let f = Fixture::with_proxy();
    f.h.seed("alice", "INBOX", &[mail(1)], false).unwrap();
    let (engine, id) = f.start().await;
    let uid = uids(&engine, &id, "INBOX").await["message 1"];
    let online = engine.message(&id, "INBOX", uid).await.unwrap();
    assert!(
        server_flags(&f.h, "INBOX", "message 1").contains("\\Seen"),
        "opening marks read"
    );
    f.proxy().set_up(false);
    let offline = engine.message(&id, "INBOX", uid).await.unwrap();
    assert_eq!(offline.text, online.text);
    assert!(offline.text.contains("body 1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_downloaded_for_offline_use_opens_without_the_server() {
    let f = Fixture::with_proxy();
    f.seed_mail("INBOX", 30);
    let (engine, id) = f.start().await;
    let inbox = uids(&engine, &id, "INBOX").await;
    let mut seen = Vec::new();
    let stored = engine
        .download_bodies(&id, "INBOX", |done, total| seen.push((done, total)))
        .await
        .unwrap();
    assert_eq!(stored, 30);
    assert_eq!(seen.last(), Some(&(30, 30)));
    assert_eq!(
        engine
            .download_bodies(&id, "INBOX", |_, _| {})
            .await
            .unwrap(),
        0,
        "nothing twice"
    );
    assert!(
        !server_flags(&f.h, "INBOX", "message 7").contains("\\Seen"),
        "downloading is not reading"
    );
    f.proxy().set_up(false);
    for n in [1, 7, 30] {
        let view = engine
            .message(&id, "INBOX", inbox[&format!("message {n}")])
            .await
            .unwrap();
        assert!(view.text.contains(&format!("body {n}")));
    }
}

/// Review H4: a fresh Dovecot account has no Trash (`auto = no` is Dovecot's default).
/// Delete must create one and move the messages there — never expunge them — and deleting
/// in it needs the user's "Delete permanently".
#[tokio::test(flavor = "multi_thread")]
async fn delete_without_a_trash_creates_one_and_expunges_nothing() {
    let f = Fixture::bare();
    f.seed_mail("INBOX", 4);
    let (engine, id) = f.start().await;
    let tree = engine.folders(&id).await.unwrap();
    assert!(
        !tree.iter().any(|f| f.path == "Trash"),
        "the bare harness starts without a Trash: {tree:?}"
    );
    let inbox = uids(&engine, &id, "INBOX").await;
    let all: Vec<u32> = ["message 1", "message 2"]
        .iter()
        .map(|s| inbox[*s])
        .collect();
    engine
        .delete_messages(&id, "INBOX", &all, Deletion::ToTrash)
        .await
        .unwrap();
    assert_eq!(
        server_subjects(&f.h, "Trash"),
        names(&["message 1", "message 2"]),
        "the deleted messages wait in a new Trash"
    );
    assert_eq!(
        server_subjects(&f.h, "INBOX"),
        names(&["message 3", "message 4"])
    );
    let tree = engine.folders(&id).await.unwrap();
    assert!(tree
        .iter()
        .any(|f| f.path == "Trash" && f.role == Some(petrel_core::FolderRole::Trash)));
}

/// Review H4: without SPECIAL-USE on it, a Trash with a localized name is still the Trash.
#[tokio::test(flavor = "multi_thread")]
async fn a_localized_trash_is_used_for_delete() {
    let f = Fixture::bare();
    f.seed_mail("INBOX", 2);
    f.h.doveadm("alice", &["mailbox", "create"], &["Papierkorb"])
        .unwrap();
    let (engine, id) = f.start().await;
    let inbox = uids(&engine, &id, "INBOX").await;
    engine
        .delete_messages(&id, "INBOX", &[inbox["message 1"]], Deletion::ToTrash)
        .await
        .unwrap();
    assert_eq!(server_subjects(&f.h, "Papierkorb"), names(&["message 1"]));
    let listed = f.h.doveadm("alice", &["mailbox", "list"], &[]).unwrap();
    assert!(
        !listed.lines().any(|l| l == "Trash"),
        "no second Trash next to Papierkorb: {listed}"
    );
    let unconfirmed = engine
        .delete_messages(&id, "Papierkorb", &[1], Deletion::ToTrash)
        .await;
    assert!(
        unconfirmed.is_err(),
        "in the Trash, Delete needs confirming"
    );
    assert_eq!(server_subjects(&f.h, "Papierkorb"), names(&["message 1"]));
}

/// Review H4: offline, with no Trash known, Delete is refused with a clear error; it never
/// queues an expunge to run when the server is back.
#[tokio::test(flavor = "multi_thread")]
async fn offline_delete_without_a_known_trash_queues_no_expunge() {
    let f = Fixture::bare_with_proxy();
    f.seed_mail("INBOX", 2);
    let (engine, id) = f.start().await;
    let inbox = uids(&engine, &id, "INBOX").await;
    f.proxy().set_up(false);
    let refused = engine
        .delete_messages(&id, "INBOX", &[inbox["message 1"]], Deletion::ToTrash)
        .await;
    assert!(
        refused.is_err(),
        "no Trash and no server: nothing to do safely"
    );
    assert_eq!(
        engine.pending_actions(&id),
        0,
        "no expunge waits in the queue"
    );
    f.proxy().set_up(true);
    assert_eq!(
        subjects(&engine, &id, "INBOX", true).await.len(),
        2,
        "both messages still listed"
    );
    assert_eq!(
        server_subjects(&f.h, "INBOX"),
        names(&["message 1", "message 2"])
    );
}

/// Review H2: "Open" never hands a program to the system (whatever name or type it
/// claims), asks before other types outside the safe list, and writes into a private
/// folder; "Save" writes the cleaned name, never replacing a file.
#[tokio::test(flavor = "multi_thread")]
async fn attachments_open_only_what_is_safe_and_save_under_clean_names() {
    let f = Fixture::new();
    let part = |name: &str, ctype: &str, body: &str| {
        format!("--b\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n")
    };
    let raw = format!(
        "From: a@example.test\r\nSubject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n{}{}{}--b--\r\n",
        part("invoice\u{202E}fdp.exe", "application/pdf", "MZ fake program"),
        part("data.zip", "application/zip", "PK fake zip"),
        part("report.pdf", "application/pdf", "%PDF-1.7 fake"),
    );
    f.h.seed("alice", "INBOX", &[raw.into_bytes()], false)
        .unwrap();
    let (engine, id) = f.start().await;
    let uid = uids(&engine, &id, "INBOX").await["files"];
    let view = engine.message(&id, "INBOX", uid).await.unwrap();
    let by_ext = |e: &str| {
        view.attachments
            .iter()
            .find(|a| a.extension == e)
            .unwrap()
            .clone()
    };
    let (exe, zip, pdf) = (by_ext("exe"), by_ext("zip"), by_ext("pdf"));
    assert_eq!(
        exe.name, "invoicefdp.exe",
        "shown without the bidi override"
    );
    assert_eq!(exe.risk, petrel_core::OpenRisk::Blocked);
    assert!(
        engine
            .attachment_to_open(&id, "INBOX", uid, exe.index, true)
            .await
            .is_err(),
        "a program is never opened, even when 'confirmed'"
    );
    assert!(
        engine
            .attachment_to_open(&id, "INBOX", uid, zip.index, false)
            .await
            .is_err(),
        "a zip asks first"
    );
    let opened = engine
        .attachment_to_open(&id, "INBOX", uid, zip.index, true)
        .await
        .unwrap();
    let safe = engine
        .attachment_to_open(&id, "INBOX", uid, pdf.index, false)
        .await
        .unwrap();
    assert_eq!(opened.parent(), safe.parent());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(opened.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "a private folder for opened files");
    }
    let downloads = tempfile::tempdir().unwrap();
    let first = engine
        .save_attachment(&id, "INBOX", uid, exe.index, downloads.path())
        .await
        .unwrap();
    let second = engine
        .save_attachment(&id, "INBOX", uid, exe.index, downloads.path())
        .await
        .unwrap();
    assert_eq!(first.file_name().unwrap(), "invoicefdp.exe");
    assert_eq!(second.file_name().unwrap(), "invoicefdp (2).exe");
}

/// Review M3: actions queued offline carry the folder's UIDVALIDITY. When the folder was
/// recreated meanwhile (new UIDVALIDITY, UIDs 1… naming other messages), the queued
/// expunge is dropped — never applied to the new messages — and the folder re-syncs.
#[tokio::test(flavor = "multi_thread")]
async fn a_queued_action_is_dropped_when_the_folder_was_renumbered() {
    let f = Fixture::with_proxy();
    f.seed_mail("Work", 3);
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap();
    let work = uids(&engine, &id, "Work").await;
    f.proxy().set_up(false);
    let queued = engine
        .delete_messages(
            &id,
            "Work",
            &[work["message 1"], work["message 2"]],
            Deletion::Permanently,
        )
        .await
        .unwrap();
    assert_eq!(queued.pending, 1);

    // Meanwhile the folder is deleted and made again elsewhere, with other mail.
    f.h.doveadm("alice", &["mailbox", "delete"], &["Work"])
        .unwrap();
    f.h.doveadm("alice", &["mailbox", "create"], &["Work"])
        .unwrap();
    f.h.doveadm(
        "alice",
        &["mailbox", "update"],
        &["--uid-validity", "4242", "Work"],
    )
    .unwrap();
    let fresh: Vec<Vec<u8>> = (1..=3)
        .map(|i| format!("Subject: new {i}\r\n\r\nkeep me\r\n").into_bytes())
        .collect();
    for raw in &fresh {
        f.h.append("alice", "Work", raw).unwrap();
    }

    f.proxy().set_up(true);
    // "Get mail": the user asks now, whatever the backoff after the offline attempt.
    engine.retry_now(&id);
    let replayed = engine.replay(&id).await;
    let err = replayed.expect_err("the user hears that the action was not applied");
    assert!(err.to_string().contains("renumbered"), "{err}");
    assert_eq!(
        engine.pending_actions(&id),
        0,
        "dropped, not retried forever"
    );
    assert_eq!(
        server_subjects(&f.h, "Work"),
        names(&["new 1", "new 2", "new 3"]),
        "the new messages with the old UIDs survive"
    );
    assert_eq!(
        sorted(subjects(&engine, &id, "Work", true).await),
        names(&["new 1", "new 2", "new 3"])
    );
}

/// A folder's "Mark all read": every unread message it lists, in one action, on the server
/// (seen by doveadm) and in the counts.
#[tokio::test(flavor = "multi_thread")]
async fn mark_all_read_reaches_every_unread_message() {
    let f = Fixture::new();
    f.seed_mail("INBOX", 12);
    let (engine, id) = f.start().await;
    let inbox = uids(&engine, &id, "INBOX").await;
    engine
        .set_flags(&id, "INBOX", &[inbox["message 3"]], Some(true), None)
        .await
        .unwrap();
    let outcome = engine.mark_all_read(&id, "INBOX").await.unwrap();
    assert_eq!(
        (outcome.folder.total, outcome.folder.unread, outcome.pending),
        (12, 0, 0)
    );
    for n in [1, 3, 12] {
        let flags = server_flags(&f.h, "INBOX", &format!("message {n}"));
        assert!(flags.contains("\\Seen"), "message {n}: {flags}");
    }
    let rows = engine
        .envelopes(&id, "INBOX", 0, 100, false)
        .await
        .unwrap()
        .rows;
    assert!(rows.iter().all(|r| r.seen));
    // Nothing left: a second one changes nothing and fails nothing.
    let again = engine.mark_all_read(&id, "INBOX").await.unwrap();
    assert_eq!(again.folder.unread, 0);
}
