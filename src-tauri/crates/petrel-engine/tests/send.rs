//! Sending from the engine through the harness: alice → bob over submission, a Sent copy
//! filed exactly once, Bcc recipients off the headers, and a message written while the
//! outgoing server is unreachable sent later from the outbox.

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
