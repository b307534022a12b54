//! A message file opened from outside (`petrel message.eml`): answered and forwarded from
//! an account like a message of a folder, with nothing marked answered anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{pop3_form, Fixture};
use petrel_core::ComposeKind;

const FILE: &str =
    "From: Ana Lima <ana@example.test>\r\nTo: alice@example.test, Bo <bo@example.test>\r\n\
Subject: Harbour plans\r\nMessage-ID: <plans@example.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
Lunch by the harbour at one.\r\n--b\r\nContent-Type: text/plain; name=\"map.txt\"\r\n\
Content-Disposition: attachment; filename=\"map.txt\"\r\n\r\nNorth pier.\r\n--b--\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_message_file_is_answered_and_forwarded_from_an_account() {
    let f = Fixture::new();
    let (engine, id) = f.start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plans.eml");
    std::fs::write(&path, FILE).unwrap();

    let reply = engine
        .start_composition_from_file(&id, &path, ComposeKind::ReplyAll)
        .await
        .unwrap();
    assert_eq!(reply.subject, "Re: Harbour plans");
    assert!(reply.to.iter().any(|t| t.contains("ana@example.test")));
    assert!(
        reply.cc.iter().any(|c| c.contains("bo@example.test")),
        "{reply:?}"
    );
    assert_eq!(reply.in_reply_to.as_deref(), Some("plans@example.test"));
    assert_eq!(
        reply.answers, None,
        "a file has no folder to mark answered in"
    );

    let forward = engine
        .start_composition_from_file(&id, &path, ComposeKind::Forward)
        .await
        .unwrap();
    assert_eq!(forward.subject, "Fwd: Harbour plans");
    assert_eq!(
        forward.attachments.len(),
        1,
        "the file's attachment goes along"
    );
    assert_eq!(forward.attachments[0].name, "map.txt");

    let missing = engine
        .start_composition_from_file(&id, &dir.path().join("gone.eml"), ComposeKind::Reply)
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("gone.eml"), "{missing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_file_is_copied_into_a_folder_imap_on_the_server_pop3_here() {
    let f = Fixture::new();
    let (engine, imap) = f.start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plans.eml");
    std::fs::write(&path, FILE).unwrap();

    engine.folders(&imap).await.unwrap();
    engine
        .copy_message_file(&imap, "Archive", &path)
        .await
        .unwrap();
    let listed = engine
        .envelopes(&imap, "Archive", 0, 50, true)
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.rows[0].subject, "Harbour plans");
    assert!(listed.rows[0].seen, "the user brought it: read");

    let password = f.h.user("alice").password.clone();
    let pop3 = engine
        .add_account(pop3_form(&f, &password))
        .await
        .unwrap()
        .id;
    engine
        .copy_message_file(&pop3, "INBOX", &path)
        .await
        .unwrap();
    let here = engine
        .envelopes(&pop3, "INBOX", 0, 50, false)
        .await
        .unwrap();
    assert!(
        here.rows.iter().any(|r| r.subject == "Harbour plans"),
        "{here:?}"
    );
    assert!(path.exists(), "the file stays where it was");
}
