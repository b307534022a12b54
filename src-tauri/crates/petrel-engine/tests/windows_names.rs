//! Review H5: on Windows `:` cannot be part of a file name, so Maildir names there use `;`
//! before the flags ("name;2,S"), as isync and Dovecot do. This binary writes every name
//! that way on Linux and runs the outbox, a POP3 account's local folders and its drafts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{pop3_form, total, Fixture};
use petrel_engine::{Deletion, Outgoing};

fn names_under(dir: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            names_under(&path, out);
        } else if let Some(name) = path.file_name() {
            out.push(name.to_string_lossy().into_owned());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn outbox_local_folders_and_drafts_work_with_windows_file_names() {
    petrel_maildir::set_info_separator(';');
    let f = Fixture::new();
    f.seed_mail("INBOX", 2);
    let smtp = petrel_harness::ScriptedSmtp::start(&["451 4.3.0 try again later"])
        .await
        .unwrap();
    let engine = f.engine(f.cache_dir.path());
    let password = f.h.user("alice").password.clone();
    let id = engine
        .add_account(pop3_form(&f, &password))
        .await
        .unwrap()
        .id;
    let inbox = engine.envelopes(&id, "INBOX", 0, 10, true).await.unwrap();
    assert_eq!(inbox.total, 2);
    let (first, second) = (inbox.rows[0].uid, inbox.rows[1].uid);

    // Local folders: read and flag, then delete to the Trash; the marks read back.
    engine
        .set_flags(&id, "INBOX", &[first], Some(true), Some(true))
        .await
        .unwrap();
    engine
        .delete_messages(&id, "INBOX", &[second], Deletion::ToTrash)
        .await
        .unwrap();
    let inbox = engine.envelopes(&id, "INBOX", 0, 10, false).await.unwrap();
    assert_eq!(inbox.total, 1);
    assert!(
        inbox.rows[0].seen && inbox.rows[0].flagged,
        "flags read back from ';2,' names"
    );
    assert_eq!(total(&engine, &id, "Trash").await, 1);

    // Drafts: the second save replaces the first.
    let draft = Outgoing {
        to: vec!["bob@example.test".into()],
        subject: "plan".into(),
        body: "Grüße".into(),
        ..Default::default()
    };
    let mid = engine.save_draft(&id, draft.clone()).await.unwrap();
    let draft = Outgoing {
        message_id: Some(mid),
        body: "Grüße, zweite Fassung".into(),
        ..draft
    };
    engine.save_draft(&id, draft.clone()).await.unwrap();
    assert_eq!(total(&engine, &id, "Drafts").await, 1);

    // The outbox: a 451 puts it back to waiting, the next pass sends it; once, and filed.
    let mut server = common::submission(&f, "alice", smtp.port);
    server.pinned_cert_sha256 = Some(smtp.cert_sha256.clone());
    engine.set_smtp(&id, Some(server)).unwrap();
    let report = engine.send_message(&id, draft).await.unwrap();
    assert_eq!((report.sent, report.queued), (0, 1));
    let report = engine.flush_outbox(&id).await.unwrap();
    assert_eq!((report.sent, report.queued), (1, 0));
    assert_eq!(engine.flush_outbox(&id).await.unwrap(), Default::default());
    assert_eq!(smtp.accepted().len(), 1, "sent exactly once");
    assert_eq!(total(&engine, &id, "Sent").await, 1);
    assert_eq!(total(&engine, &id, "Drafts").await, 0);

    let mut names = Vec::new();
    names_under(f.config.path(), &mut names);
    assert!(
        names.iter().all(|n| !n.contains(':')),
        "no ':' in any file name: {names:?}"
    );
    assert!(names.iter().any(|n| n.contains(";2,")), "{names:?}");
}
