//! Sending from the engine through the harness: alice → bob over submission, a Sent copy
//! filed exactly once, Bcc recipients off the headers, and a message written while the
//! outgoing server is unreachable sent later from the outbox.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::Fixture;
use petrel_engine::Outgoing;
use std::time::{Duration, Instant};

/// Messages in `user`'s INBOX containing `needle`.
fn arrived(f: &Fixture, user: &str, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let hits: Vec<String> =
            f.h.inbox_files(user)
                .iter()
                .filter_map(|p| std::fs::read(p).ok())
                .map(|r| String::from_utf8_lossy(&r).into_owned())
                .filter(|t| t.contains(needle))
                .collect();
        if !hits.is_empty() || Instant::now() > deadline {
            std::thread::sleep(Duration::from_millis(300));
            return hits;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sent_count(f: &Fixture) -> usize {
    f.h.doveadm("alice", &["search"], &["mailbox", "Sent", "seen"])
        .unwrap()
        .lines()
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn alice_writes_to_bob_and_keeps_one_sent_copy_even_when_offline_first() {
    let f = Fixture::new();
    let proxy = petrel_harness::Proxy::start(f.h.ports.submissions).unwrap();
    let engine = f.engine(f.cache_dir.path());
    let id = f.account(&engine).await;
    engine.folders(&id).await.unwrap();
    let bob = f.h.user("bob").login.clone();
    let alice = f.h.user("alice").login.clone();
    // The outgoing server (no SMTP settings yet → a clear refusal).
    let no_smtp = engine
        .send_message(
            &id,
            Outgoing {
                to: vec![bob.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        no_smtp.to_string().contains("outgoing (SMTP) server"),
        "{no_smtp}"
    );
    engine
        .set_smtp(&id, Some(common::submission(&f, "alice", proxy.port)))
        .unwrap();

    let report = engine
        .send_message(
            &id,
            Outgoing {
                to: vec![format!("Bob <{bob}>")],
                bcc: vec![alice.clone()],
                subject: "Grüße zum Montag".into(),
                body: "Hallo Bob,\nbis später.\n".into(),
                in_reply_to: Some("orig@example.test".into()),
                references: vec!["root@example.test".into(), "orig@example.test".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((report.sent, report.queued), (1, 0));
    let got = arrived(&f, "bob", "In-Reply-To: <orig@example.test>");
    assert_eq!(got.len(), 1, "bob has it once");
    assert!(
        got[0].contains("In-Reply-To: <orig@example.test>"),
        "{}",
        got[0]
    );
    assert!(got[0].contains("References: <root@example.test> <orig@example.test>"));
    assert!(!got[0].contains("Bcc:"), "no Bcc header on the wire");
    let subject = got[0]
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        subject.contains("=?"),
        "a non-ASCII subject is encoded (RFC 2047): {subject}"
    );
    assert_eq!(
        arrived(&f, "alice", "In-Reply-To: <orig@example.test>").len(),
        1,
        "the Bcc recipient has it"
    );
    assert_eq!(sent_count(&f), 1, "one Sent copy, marked read");

    // Offline: kept in the outbox, sent on the next attempt, still one Sent copy each.
    proxy.set_up(false);
    let report = engine
        .send_message(
            &id,
            Outgoing {
                to: vec![bob.clone()],
                subject: "written offline".into(),
                body: "x".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((report.sent, report.queued), (0, 1));
    proxy.set_up(true);
    let report = engine.flush_outbox(&id).await.unwrap();
    assert_eq!((report.sent, report.queued), (1, 0));
    assert_eq!(arrived(&f, "bob", "Subject: written offline").len(), 1);
    assert_eq!(sent_count(&f), 2);
    assert_eq!(
        engine.flush_outbox(&id).await.unwrap(),
        petrel_engine::SendReport::default()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_start_from_the_message_with_the_rules_applied() {
    let f = Fixture::new();
    let alice = f.h.user("alice").login.clone();
    f.h.seed(
        "alice",
        "INBOX",
        &[format!("From: Bob <bob@example.test>\r\nTo: {alice}, carl@example.test\r\nSubject: AW: Plan\r\nMessage-ID: <p1@example.test>\r\nReferences: <p0@example.test>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nTen o'clock?\r\n").into_bytes()],
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    let uid = engine
        .envelopes(&id, "INBOX", 0, 5, true)
        .await
        .unwrap()
        .rows[0]
        .uid;
    let all = engine
        .start_composition(&id, "INBOX", uid, petrel_core::ComposeKind::ReplyAll)
        .await
        .unwrap();
    assert_eq!(all.to, vec!["Bob <bob@example.test>"]);
    assert_eq!(all.cc, vec!["carl@example.test"], "not me");
    assert_eq!(all.subject, "Re: Plan");
    assert_eq!(all.in_reply_to.as_deref(), Some("p1@example.test"));
    assert_eq!(all.references, vec!["p0@example.test", "p1@example.test"]);
    assert!(all.body.contains("> Ten o'clock?"));
    let fwd = engine
        .start_composition(&id, "INBOX", uid, petrel_core::ComposeKind::Forward)
        .await
        .unwrap();
    assert!(fwd.to.is_empty() && fwd.subject == "Fwd: Plan");
}

/// Messages in alice's Sent as Dovecot has them (read by doveadm, not through Petrel).
fn sent_bodies(f: &Fixture) -> Vec<String> {
    let out =
        f.h.doveadm("alice", &["fetch"], &["text", "mailbox", "Sent"])
            .unwrap();
    out.split("\x0c")
        .map(str::to_string)
        .filter(|t| t.contains("text:"))
        .collect()
}

/// H1 of the December review: any reply to the end of DATA settles the message. A 552
/// after DATA is a refusal (the composer gets the error, nothing is kept as "handed over",
/// nothing is filed in Sent); the corrected resend with the same Message-ID then gets a 451
/// (waiting again, with the server's words, not counted as sent); the next pass delivers it
/// once and Sent holds one copy, of the delivered version.
#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_after_data_is_settled_and_the_corrected_resend_goes_out_once() {
    let f = Fixture::new();
    let smtp = petrel_harness::ScriptedSmtp::start(&[
        "552 5.3.4 Message size exceeds fixed maximum message size",
        "451 4.3.0 Temporary lookup failure, try again later",
    ])
    .await
    .unwrap();
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap();
    let mut server = common::submission(&f, "alice", smtp.port);
    server.pinned_cert_sha256 = Some(smtp.cert_sha256.clone());
    engine.set_smtp(&id, Some(server)).unwrap();
    let first = Outgoing {
        to: vec!["bob@example.test".into()],
        subject: "the report".into(),
        body: "TOO-LARGE-VERSION".into(),
        message_id: Some("report-1@example.test".into()),
        ..Default::default()
    };
    let refused = engine.send_message(&id, first.clone()).await.unwrap_err();
    assert!(
        refused.to_string().contains("552"),
        "the composer shows the server's refusal: {refused}"
    );
    assert!(
        engine.outbox_messages(&id).unwrap().is_empty(),
        "the composer keeps the refused message; the outbox does not"
    );
    assert_eq!(
        engine.outbox_counts(&id).unwrap(),
        (0, 0),
        "no hidden 'handed over' file"
    );
    // A later pass must not file the refused message in Sent.
    engine.flush_outbox(&id).await.unwrap();
    assert!(
        sent_bodies(&f).is_empty(),
        "a refused message is never filed in Sent"
    );

    let corrected = Outgoing {
        body: "CORRECTED-VERSION".into(),
        ..first
    };
    let report = engine.send_message(&id, corrected).await.unwrap();
    assert_eq!(
        (report.sent, report.queued),
        (0, 1),
        "a 451 after DATA is 'try later', not sent"
    );
    let waiting = engine.outbox_messages(&id).unwrap();
    assert_eq!(waiting.len(), 1);
    assert!(!waiting[0].refused);
    assert!(
        waiting[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("451")),
        "waiting with the server's words: {:?}",
        waiting[0].last_error
    );
    assert!(
        sent_bodies(&f).is_empty(),
        "not in Sent while not delivered"
    );
    assert!(smtp.accepted().is_empty());

    let report = engine.flush_outbox(&id).await.unwrap();
    assert_eq!((report.sent, report.queued), (1, 0));
    let delivered = smtp.accepted();
    assert_eq!(delivered.len(), 1, "delivered exactly once");
    assert!(String::from_utf8_lossy(&delivered[0]).contains("CORRECTED-VERSION"));
    let sent = sent_bodies(&f);
    assert_eq!(sent.len(), 1, "Sent holds exactly one copy: {sent:?}");
    assert!(sent[0].contains("CORRECTED-VERSION"), "{}", sent[0]);
    assert_eq!(engine.flush_outbox(&id).await.unwrap(), Default::default());
    assert_eq!(smtp.accepted().len(), 1);
}

/// A message Petrel left "handing over" when it stopped (the moment its end of data was
/// leaving) may have been sent: never sent again on its own, shown in the Outbox for the
/// user, who asks a recipient. "It arrived" files it in Sent without sending; "Send again"
/// sends it once.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_may_have_been_sent_waits_for_the_users_word() {
    let f = Fixture::new();
    let smtp = petrel_harness::ScriptedSmtp::start(&[]).await.unwrap();
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap();
    // Queued while the outgoing server is away (nothing listens on the port).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    engine
        .set_smtp(&id, Some(common::submission(&f, "alice", closed)))
        .unwrap();
    for (n, subject) in ["arrived-before", "never-left"].iter().enumerate() {
        let report = engine
            .send_message(
                &id,
                Outgoing {
                    to: vec!["bob@example.test".into()],
                    subject: subject.to_string(),
                    body: format!("{subject}\n"),
                    message_id: Some(format!("unsure-{n}@example.test")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(report.sent, 0);
    }
    // As a kill between the two marks around the end of data leaves them.
    let outbox = f.config.path().join("outbox").join(&id.0);
    let maildir = petrel_maildir::Maildir::open(&outbox).unwrap();
    for path in maildir.messages().unwrap() {
        maildir.set_flags(&path, "H").unwrap();
    }
    let mut server = common::submission(&f, "alice", smtp.port);
    server.pinned_cert_sha256 = Some(smtp.cert_sha256.clone());
    engine.set_smtp(&id, Some(server)).unwrap();

    let report = engine.flush_outbox(&id).await.unwrap();
    assert_eq!((report.sent, report.queued), (0, 0));
    assert!(
        smtp.accepted().is_empty(),
        "neither is sent again on its own"
    );
    let held = engine.outbox_messages(&id).unwrap();
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|m| m.unsure && !m.refused), "{held:?}");
    assert_eq!(engine.outbox_shown(&id).unwrap(), 2, "the tree counts them");

    // Bob says the first arrived: filed in Sent, not sent.
    engine
        .settle_unsure(&id, "unsure-0@example.test", true)
        .await
        .unwrap();
    assert!(smtp.accepted().is_empty());
    let sent = sent_bodies(&f);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("arrived-before"));
    // The second did not: sent once, and filed.
    let report = engine
        .settle_unsure(&id, "unsure-1@example.test", false)
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let accepted = smtp.accepted();
    assert_eq!(accepted.len(), 1);
    assert!(String::from_utf8_lossy(&accepted[0]).contains("never-left"));
    // (doveadm's output of two messages may come as one chunk: count their IDs.)
    let sent = sent_bodies(&f).concat();
    assert_eq!(sent.matches("Message-ID: <unsure-").count(), 2, "{sent}");
    assert!(sent.contains("<unsure-1@example.test>"), "{sent}");
    assert!(engine.outbox_messages(&id).unwrap().is_empty());
    let again = engine
        .settle_unsure(&id, "unsure-1@example.test", false)
        .await;
    assert!(again.is_err(), "no longer waits for the user");
}
