//! The whole sending loop against the harness: alice writes to bob with a file and
//! non-ASCII text; bob reads it through IMAP and through a POP3 account, with the same
//! headers and the file's exact bytes; alice's Sent holds one copy. Drafts are saved,
//! replaced, reopened and dropped once sent; a reply marks its original answered; a message
//! waits in the outbox while the server is away and can be taken back out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::Fixture;
use petrel_core::{
    AccountId, ComposeKind, IncomingProtocol, LeaveOnServer, MessageRef, NewAccount,
    OutgoingAttachment, Pop3Options, Security, ServerSettings,
};
use petrel_engine::{Engine, Outgoing, SledCache, TrustPolicy};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// An engine of its own (config and cache) with one account of `user`.
async fn other_engine(
    f: &Fixture,
    dirs: &tempfile::TempDir,
    user: &str,
    protocol: IncomingProtocol,
) -> (Engine, AccountId) {
    let cache = Arc::new(SledCache::open(&dirs.path().join("cache")).unwrap());
    let trust = TrustPolicy::with_pem_roots(f.h.ca_pem().as_bytes()).unwrap();
    let engine =
        Engine::open(&dirs.path().join("config"), f.secrets.clone(), trust, cache).unwrap();
    let u = f.h.user(user);
    let pop3 = protocol == IncomingProtocol::Pop3;
    let account = engine
        .add_account(NewAccount {
            display_name: user.into(),
            email: u.login.clone(),
            imap: ServerSettings {
                host: "localhost".into(),
                port: if pop3 {
                    f.h.ports.pop3s
                } else {
                    f.h.ports.imaps
                },
                security: Security::Tls,
                username: u.login.clone(),
                pinned_cert_sha256: None,
            },
            password: u.password.clone(),
            protocol,
            pop3: Pop3Options {
                leave_on_server: LeaveOnServer::UntilDeletedHere,
                ..Pop3Options::default()
            },
            smtp: None,
            sending: Default::default(),
            sign_in: Default::default(),
            sign_in_ticket: None,
        })
        .await
        .unwrap();
    (engine, account.id)
}

/// Waits until `folder` of the account lists a message with `subject`; its UID.
async fn wait_listed(engine: &Engine, id: &AccountId, folder: &str, subject: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = engine.envelopes(id, folder, 0, 200, true).await.unwrap();
        if let Some(row) = page.rows.iter().find(|r| r.subject == subject) {
            return row.uid;
        }
        assert!(
            Instant::now() < deadline,
            "{subject} never reached {folder}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alice_to_bob_with_a_file_read_through_imap_and_pop3() {
    let f = Fixture::new();
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap();
    engine
        .set_smtp(
            &id,
            Some(common::submission(&f, "alice", f.h.ports.submissions)),
        )
        .unwrap();
    let bob = f.h.user("bob").login.clone();
    // Every byte value, and more than one base64 line.
    let file: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).collect();
    let subject = "Ünïcödé Grüße — 東京 🚀";
    let body = "Hallo Bob,\nanbei die Datei. Ça va ? Привет.\n-- \nAlice\n";
    let report = engine
        .send_message(
            &id,
            Outgoing {
                to: vec![format!("Bob Bäcker <{bob}>")],
                subject: subject.into(),
                body: body.into(),
                html: Some("<p>Hallo <b>Bob</b>, Привет.</p><script>x()</script>".into()),
                attachments: vec![OutgoingAttachment {
                    name: "Bericht März.bin".into(),
                    content_type: "application/octet-stream".into(),
                    data: b64(&file),
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((report.sent, report.queued), (1, 0));

    // Bob through IMAP.
    let imap_dirs = tempfile::tempdir().unwrap();
    let (bob_imap, bob_i) = other_engine(&f, &imap_dirs, "bob", IncomingProtocol::Imap).await;
    let uid = wait_listed(&bob_imap, &bob_i, "INBOX", subject).await;
    let view = bob_imap.message(&bob_i, "INBOX", uid).await.unwrap();
    assert_eq!(view.subject, subject);
    assert!(view.from.contains("alice"), "{}", view.from);
    assert!(view.text.contains("Ça va ? Привет."), "{}", view.text);
    let html = view.html.clone().unwrap_or_default();
    assert!(
        html.contains("<b>Bob</b>") && !html.contains("script"),
        "{html}"
    );
    assert_eq!(view.attachments.len(), 1);
    assert_eq!(view.attachments[0].name, "Bericht März.bin");
    let (_, got) = bob_imap
        .attachment(&bob_i, "INBOX", uid, view.attachments[0].index)
        .await
        .unwrap();
    assert_eq!(got, file, "the file's bytes through IMAP");
    let imap_raw = bob_imap.raw_message(&bob_i, "INBOX", uid).await.unwrap();

    // Bob through POP3 (mail left on the server, so both read the same message).
    let pop_dirs = tempfile::tempdir().unwrap();
    let (bob_pop, bob_p) = other_engine(&f, &pop_dirs, "bob", IncomingProtocol::Pop3).await;
    let uid = wait_listed(&bob_pop, &bob_p, "INBOX", subject).await;
    let pview = bob_pop.message(&bob_p, "INBOX", uid).await.unwrap();
    assert_eq!(
        (&pview.subject, &pview.from, &pview.to, &pview.text),
        (&view.subject, &view.from, &view.to, &view.text),
        "same headers and text through POP3"
    );
    let (name, got) = bob_pop
        .attachment(&bob_p, "INBOX", uid, pview.attachments[0].index)
        .await
        .unwrap();
    assert_eq!((name.as_str(), got), ("Bericht März.bin", file.clone()));
    let header = |raw: &[u8], name: &str| {
        String::from_utf8_lossy(raw)
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
            .map(str::to_string)
    };
    let pop_raw = bob_pop.raw_message(&bob_p, "INBOX", uid).await.unwrap();
    assert!(header(&imap_raw, "message-id").is_some());
    assert_eq!(
        header(&imap_raw, "message-id"),
        header(&pop_raw, "message-id")
    );

    // Alice's Sent: exactly one copy, read, with the file.
    let sent =
        f.h.doveadm("alice", &["search"], &["mailbox", "Sent", "seen"])
            .unwrap();
    assert_eq!(sent.lines().count(), 1, "{sent}");
}

#[tokio::test(flavor = "multi_thread")]
async fn drafts_are_replaced_reopened_and_gone_once_sent_and_replies_mark_answered() {
    let f = Fixture::new();
    let alice = f.h.user("alice").login.clone();
    let bob = f.h.user("bob").login.clone();
    f.h.seed(
        "alice",
        "INBOX",
        &[format!("From: Bob <{bob}>\r\nTo: {alice}\r\nSubject: Lunch?\r\nMessage-ID: <l1@example.test>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nAt noon?\r\n").into_bytes()],
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap();
    engine
        .set_smtp(
            &id,
            Some(common::submission(&f, "alice", f.h.ports.submissions)),
        )
        .unwrap();
    let uid = engine
        .envelopes(&id, "INBOX", 0, 5, true)
        .await
        .unwrap()
        .rows[0]
        .uid;
    let mut reply = engine
        .start_composition(&id, "INBOX", uid, ComposeKind::Reply)
        .await
        .unwrap();
    assert_eq!(
        reply.answers,
        Some(MessageRef {
            folder: "INBOX".into(),
            uid
        })
    );

    // Autosave twice: one copy in Drafts, the newer text.
    reply.body = format!("Yes!\n{}", reply.body);
    reply.bcc = vec![format!("carl@{}", alice.rsplit('@').next().unwrap())];
    reply.attachments = vec![OutgoingAttachment {
        name: "map.png".into(),
        content_type: "image/png".into(),
        data: b64(&[0x89, b'P', b'N', b'G', 0, 1, 2, 255]),
    }];
    let mid = engine.save_draft(&id, reply.clone()).await.unwrap();
    reply.message_id = Some(mid.clone());
    reply.body = reply.body.replacen("Yes!", "Yes, at noon!", 1);
    assert_eq!(engine.save_draft(&id, reply.clone()).await.unwrap(), mid);
    let drafts = common::server_subjects(&f.h, "Drafts");
    assert_eq!(drafts, vec!["Re: Lunch?"], "one draft copy");
    let flags =
        f.h.doveadm("alice", &["fetch"], &["flags", "mailbox", "Drafts", "ALL"])
            .unwrap();
    assert!(flags.contains("\\Draft"), "{flags}");

    // Reopened (as after a restart): everything is back, including Bcc and the file.
    let listed = engine.envelopes(&id, "Drafts", 0, 5, true).await.unwrap();
    assert_eq!(listed.rows.len(), 1);
    let reopened = engine
        .open_draft(&id, "Drafts", listed.rows[0].uid)
        .await
        .unwrap();
    assert_eq!(reopened.message_id.as_deref(), Some(mid.as_str()));
    assert!(
        reopened.body.starts_with("Yes, at noon!"),
        "{}",
        reopened.body
    );
    assert_eq!(reopened.to, reply.to);
    assert_eq!(reopened.bcc, reply.bcc);
    assert_eq!(reopened.subject, "Re: Lunch?");
    assert_eq!(reopened.in_reply_to.as_deref(), Some("l1@example.test"));
    assert_eq!(
        reopened.answers, reply.answers,
        "still answers the original"
    );
    assert_eq!(reopened.attachments.len(), 1);
    assert_eq!(
        unb64(&reopened.attachments[0].data),
        [0x89, b'P', b'N', b'G', 0, 1, 2, 255]
    );
    assert_eq!(reopened.attachments[0].name, "map.png");

    // Sent from the reopened draft: delivered once, the draft gone, the original answered.
    let report = engine.send_message(&id, reopened).await.unwrap();
    assert_eq!(report.sent, 1);
    assert!(common::server_subjects(&f.h, "Drafts").is_empty());
    assert!(
        common::server_flags(&f.h, "INBOX", "Lunch?").contains("\\Answered"),
        "original marked answered"
    );
    assert!(
        engine
            .envelopes(&id, "INBOX", 0, 5, false)
            .await
            .unwrap()
            .rows[0]
            .answered,
        "and the list shows it"
    );
    let sent = common::server_subjects(&f.h, "Sent");
    assert_eq!(sent, vec!["Re: Lunch?"]);
    let on_wire =
        f.h.doveadm("alice", &["fetch"], &["text", "mailbox", "Sent", "ALL"])
            .unwrap();
    assert!(
        !on_wire.contains("X-Petrel-Answers"),
        "draft-only header not sent"
    );
    assert!(!on_wire.contains("Bcc:"), "no Bcc header in what was sent");
    assert!(
        on_wire.contains(&format!("<{mid}>")),
        "same Message-ID as the draft"
    );

    // Discard: a saved draft disappears.
    let other = engine
        .save_draft(
            &id,
            Outgoing {
                subject: "never mind".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(common::server_subjects(&f.h, "Drafts"), vec!["never mind"]);
    engine.discard_draft(&id, &other).await.unwrap();
    assert!(common::server_subjects(&f.h, "Drafts").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn identities_forward_as_attachment_and_the_outbox_can_be_edited() {
    let f = Fixture::new();
    let alice = f.h.user("alice").login.clone();
    let bob = f.h.user("bob").login.clone();
    f.h.seed(
        "alice",
        "INBOX",
        &[format!("From: Bob <{bob}>\r\nTo: {alice}\r\nSubject: Photos\r\nMessage-ID: <ph@example.test>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nSee them.\r\n").into_bytes()],
        false,
    )
    .unwrap();
    let proxy = petrel_harness::Proxy::start(f.h.ports.submissions).unwrap();
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap();
    engine
        .set_smtp(&id, Some(common::submission(&f, "alice", proxy.port)))
        .unwrap();
    let alias = alice.clone();
    engine
        .set_sending(
            &id,
            petrel_core::SendingOptions {
                signature: "Alice".into(),
                identities: vec![petrel_core::Identity {
                    name: "Alice at work".into(),
                    email: alias.clone(),
                    signature: String::new(),
                }],
                server_files_sent: false,
            },
        )
        .unwrap();
    assert!(engine
        .send_message(
            &id,
            Outgoing {
                from: "mallory@example.test".into(),
                to: vec![bob.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap_err()
        .to_string()
        .contains("not an address of this account"));

    let uid = engine
        .envelopes(&id, "INBOX", 0, 5, true)
        .await
        .unwrap()
        .rows[0]
        .uid;
    let mut fwd = engine
        .start_composition(&id, "INBOX", uid, ComposeKind::ForwardAsAttachment)
        .await
        .unwrap();
    assert_eq!(fwd.subject, "Fwd: Photos");
    assert_eq!(fwd.attachments.len(), 1);
    assert_eq!(fwd.attachments[0].content_type, "message/rfc822");
    assert_eq!(fwd.attachments[0].name, "Photos.eml");
    assert!(String::from_utf8_lossy(&unb64(&fwd.attachments[0].data)).contains("See them."));
    fwd.to = vec![bob.clone()];
    fwd.from = alias.clone();

    // Offline: queued, listed in the outbox, taken back out to edit, sent later.
    proxy.set_up(false);
    let report = engine.send_message(&id, fwd.clone()).await.unwrap();
    assert_eq!((report.sent, report.queued), (0, 1));
    let waiting = engine.outbox_messages(&id).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].subject, "Fwd: Photos");
    assert_eq!(waiting[0].to, vec![bob.clone()]);
    let back = engine.unqueue(&id, &waiting[0].message_id).await.unwrap();
    assert!(engine.outbox_messages(&id).unwrap().is_empty());
    assert_eq!(back.to, vec![bob.clone()]);
    assert_eq!(back.attachments.len(), 1);
    proxy.set_up(true);
    let report = engine.send_message(&id, back).await.unwrap();
    assert_eq!((report.sent, report.queued), (1, 0));
    let on_wire =
        f.h.doveadm("alice", &["fetch"], &["text", "mailbox", "Sent", "ALL"])
            .unwrap();
    assert!(on_wire.contains("Alice at work"), "sent as the identity");
    assert!(on_wire.contains("message/rfc822"), "{on_wire}");
    // Addresses sent to are suggested later.
    let s = engine.address_suggestions(&bob[..2], 5);
    assert!(s.iter().any(|s| s.email == bob), "{s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_account_keeps_drafts_and_sent_mail_here() {
    let f = Fixture::new();
    let dirs = tempfile::tempdir().unwrap();
    let (engine, id) = other_engine(&f, &dirs, "alice", IncomingProtocol::Pop3).await;
    engine
        .set_smtp(
            &id,
            Some(common::submission(&f, "alice", f.h.ports.submissions)),
        )
        .unwrap();
    let bob = f.h.user("bob").login.clone();
    let mut draft = Outgoing {
        to: vec![bob.clone()],
        subject: "local draft".into(),
        body: "one".into(),
        ..Default::default()
    };
    let mid = engine.save_draft(&id, draft.clone()).await.unwrap();
    draft.message_id = Some(mid);
    draft.body = "two".into();
    engine.save_draft(&id, draft.clone()).await.unwrap();
    let rows = engine
        .envelopes(&id, "Drafts", 0, 10, true)
        .await
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 1, "one local draft copy");
    let reopened = engine.open_draft(&id, "Drafts", rows[0].uid).await.unwrap();
    assert_eq!(reopened.body, "two");
    engine.send_message(&id, reopened).await.unwrap();
    assert!(engine
        .envelopes(&id, "Drafts", 0, 10, true)
        .await
        .unwrap()
        .rows
        .is_empty());
    let sent = engine
        .envelopes(&id, "Sent", 0, 10, true)
        .await
        .unwrap()
        .rows;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "local draft");
}
