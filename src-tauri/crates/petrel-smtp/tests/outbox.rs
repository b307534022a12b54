//! The outbox against the harness: a message queued while the server cannot be reached is
//! sent when it can; a message the server took just before a crash (not yet recorded) is
//! not sent again once the Sent check finds it; Bcc recipients receive it without a header.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_harness::{Harness, Proxy};
use petrel_smtp::{flush, Outbox, SmtpSession};
use petrel_tls::TrustPolicy;
use std::time::{Duration, Instant};

fn message(from: &str, to: &str, id: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: {to}\r\nSubject: {id}\r\nMessage-ID: <{id}@petrel.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n").into_bytes()
}

fn copies(h: &Harness, user: &str, subject: &str) -> usize {
    h.inbox_files(user)
        .iter()
        .filter(|f| {
            // Dovecot stores LF line ends: compare whole lines.
            std::fs::read(f).is_ok_and(|r| {
                String::from_utf8_lossy(&r)
                    .lines()
                    .any(|l| l.trim_end() == format!("Subject: {subject}"))
            })
        })
        .count()
}

fn wait_for(h: &Harness, user: &str, subject: &str, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    while copies(h, user, subject) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if copies(h, user, subject) < n {
        let log = std::fs::read_to_string(h.dir().join("dovecot.log")).unwrap_or_default();
        eprintln!(
            "{subject} not in {user}'s INBOX; dovecot log tail:\n{}",
            log.lines().rev().take(12).collect::<Vec<_>>().join("\n")
        );
    }
    // A little longer, so a duplicate would have time to show up too.
    std::thread::sleep(Duration::from_millis(500));
    copies(h, user, subject)
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_offline_sent_later_exactly_once() {
    let h = Harness::start().unwrap();
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    let (alice, bob) = (h.user("alice"), h.user("bob"));
    let proxy = Proxy::start(h.ports.submissions).unwrap();
    let server = ServerSettings {
        host: "localhost".into(),
        port: proxy.port,
        security: Security::Tls,
        username: alice.login.clone(),
        pinned_cert_sha256: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();

    // Offline: queued durably; the attempt fails as temporary and the message stays.
    proxy.set_up(false);
    outbox
        .enqueue(
            &alice.login,
            &[bob.login.clone(), alice.login.clone()],
            &message(&alice.login, &bob.login, "queued-offline"),
        )
        .unwrap();
    let err = SmtpSession::login(&server, &alice.password, &trust)
        .await
        .err()
        .unwrap();
    assert!(err.is_temporary(), "{err:?}");
    assert_eq!(outbox.queued().unwrap().len(), 1);

    // Back online: sent, to the To and to the Bcc-only recipient (alice).
    proxy.set_up(true);
    let mut s = SmtpSession::login(&server, &alice.password, &trust)
        .await
        .unwrap();
    let done = flush(&outbox, &mut s, |_| false).await.unwrap().done;
    assert_eq!(done.len(), 1);
    for q in &done {
        outbox.remove(&q.name).unwrap();
    }
    assert_eq!(wait_for(&h, "bob", "queued-offline", 1), 1);
    assert_eq!(
        wait_for(&h, "alice", "queued-offline", 1),
        1,
        "the Bcc recipient got it"
    );

    // A crash right after the server took a message: its file carries the "handed over"
    // mark (written when the final "." left, before the 250 was read) and no more. The
    // retry asks "already in Sent?" (here: did it arrive) and does not send it again.
    outbox
        .enqueue(
            &alice.login,
            std::slice::from_ref(&bob.login),
            &message(&alice.login, &bob.login, "crash-after-250"),
        )
        .unwrap();
    let q = outbox.queued().unwrap().remove(0);
    let (root, path) = (dir.path().to_path_buf(), q.path.clone());
    let handover = petrel_smtp::Handover {
        before: Box::new(|| Ok(())),
        after: Box::new(move || {
            petrel_maildir::Maildir::open(&root)
                .unwrap()
                .set_flags(&path, "P")
                .unwrap();
        }),
    };
    s.send_noting(&q.from, &q.to, &outbox.message(&q).unwrap(), handover)
        .await
        .unwrap();
    assert!(outbox.queued().unwrap()[0].handed_over);
    assert_eq!(wait_for(&h, "bob", "crash-after-250", 1), 1);
    let done = flush(&outbox, &mut s, |id| {
        id == "crash-after-250@petrel.test" && copies(&h, "bob", "crash-after-250") > 0
    })
    .await
    .unwrap()
    .done;
    assert!(done[0].sent);
    s.quit().await;
    assert_eq!(wait_for(&h, "bob", "crash-after-250", 2), 1, "exactly once");
}

/// Any reply to the end of DATA settles a message (review H1): a 554 refusal is kept with
/// the server's words and never tried again nor counted as done; a 451 puts the next one
/// back to waiting; only a message with no reply keeps the "handed over" mark.
#[tokio::test(flavor = "multi_thread")]
async fn answers_after_data_settle_each_message() {
    let smtp = petrel_harness::ScriptedSmtp::start(&[
        "554 5.7.1 Message rejected as spam",
        "451 4.7.1 Rate limited, try again later",
    ])
    .await
    .unwrap();
    let server = ServerSettings {
        host: "localhost".into(),
        port: smtp.port,
        security: Security::Tls,
        username: "alice@example.test".into(),
        pinned_cert_sha256: Some(smtp.cert_sha256.clone()),
    };
    let trust = TrustPolicy::default();
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    for id in ["spam", "rated"] {
        outbox
            .enqueue(
                "alice@example.test",
                &["bob@example.test".into()],
                &message("alice@example.test", "bob@example.test", id),
            )
            .unwrap();
        // Distinct names and an order that follows the enqueue order.
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut session = SmtpSession::login(&server, "secret", &trust).await.unwrap();
    let pass = flush(&outbox, &mut session, |_| {
        panic!("no message had an unknown outcome")
    })
    .await
    .unwrap();
    assert!(pass.done.is_empty(), "nothing was accepted");
    assert_eq!(pass.refused.len(), 1);
    assert_eq!(pass.deferred.len(), 1, "the 451 ends the pass");
    let state = outbox.queued().unwrap();
    let spam = state
        .iter()
        .find(|q| q.message_id.as_deref() == Some("spam@petrel.test"))
        .unwrap();
    assert!(spam.refused && !spam.handed_over && !spam.sent);
    assert!(
        spam.note.as_deref().is_some_and(|n| n.contains("554")),
        "{:?}",
        spam.note
    );
    let rated = state
        .iter()
        .find(|q| q.message_id.as_deref() == Some("rated@petrel.test"))
        .unwrap();
    assert!(rated.waiting(), "a 4xx answer means waiting again");
    assert!(rated.note.as_deref().is_some_and(|n| n.contains("451")));

    // The next pass sends the waiting one and leaves the refused one alone.
    let pass = flush(&outbox, &mut session, |_| false).await.unwrap();
    assert_eq!(pass.done.len(), 1);
    assert_eq!(
        pass.done[0].message_id.as_deref(),
        Some("rated@petrel.test")
    );
    let accepted = smtp.accepted();
    assert_eq!(accepted.len(), 1);
    assert!(String::from_utf8_lossy(&accepted[0]).contains("Subject: rated"));
    let pass = flush(&outbox, &mut session, |_| false).await.unwrap();
    assert!(pass
        .done
        .iter()
        .all(|q| q.message_id.as_deref() != Some("spam@petrel.test")));
    assert_eq!(smtp.accepted().len(), 1, "a refused message is not retried");
    session.quit().await;
}

fn scripted_server(smtp: &petrel_harness::ScriptedSmtp) -> ServerSettings {
    ServerSettings {
        host: "localhost".into(),
        port: smtp.port,
        security: Security::Tls,
        username: "alice@example.test".into(),
        pinned_cert_sha256: Some(smtp.cert_sha256.clone()),
    }
}

/// Review H5 at its root: a message whose marks cannot be written (a name the file system
/// refuses, a full disk) was sent, its
/// "sent" mark failed, and the next pass sent it again. Now nothing ends a message on the
/// wire before the outbox has recorded it as leaving: the server gets no complete message,
/// the pass says why, and once the outbox can record again it goes exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_the_outbox_cannot_mark_is_not_sent_at_all() {
    let smtp = petrel_harness::ScriptedSmtp::start(&[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    let raw = message("alice@example.test", "bob@example.test", "unmarkable");
    outbox
        .enqueue("alice@example.test", &["bob@example.test".into()], &raw)
        .unwrap();
    // Every mark's name is taken by a directory, which no rename can replace (not even
    // root's): as a disk that refuses every rename would.
    let unique = petrel_maildir::unique_of(&outbox.queued().unwrap()[0].path);
    let sep = petrel_maildir::info_separator();
    let blockers: Vec<_> = ["H", "P", "S"]
        .iter()
        .map(|flag| {
            dir.path()
                .join("cur")
                .join(format!("{unique}{sep}2,{flag}"))
        })
        .collect();
    for b in &blockers {
        std::fs::create_dir(b).unwrap();
    }

    let mut session = SmtpSession::login(&scripted_server(&smtp), "pw", &TrustPolicy::default())
        .await
        .unwrap();
    let pass = flush(&outbox, &mut session, |_| false).await.unwrap();
    assert!(pass.done.is_empty(), "{:?}", pass.done);
    match &pass.stopped {
        Some(petrel_smtp::SmtpError::Unrecorded(why)) => assert!(!why.is_empty()),
        other => panic!("expected the outbox's words, got {other:?}"),
    }
    assert!(
        pass.stopped
            .as_ref()
            .is_some_and(|e| e.to_string().contains("was not sent")),
        "{:?}",
        pass.stopped
    );
    assert_eq!(
        smtp.accepted().len(),
        0,
        "no complete message reached the server"
    );
    assert!(outbox.queued().unwrap()[0].waiting(), "it waits as before");

    // The outbox can record again: the next pass sends it, once.
    for b in &blockers {
        std::fs::remove_dir(b).unwrap();
    }
    let mut session = SmtpSession::login(&scripted_server(&smtp), "pw", &TrustPolicy::default())
        .await
        .unwrap();
    let pass = flush(&outbox, &mut session, |_| false).await.unwrap();
    assert_eq!(pass.done.len(), 1);
    for q in &pass.done {
        outbox.remove(&q.name).unwrap();
    }
    let pass = flush(&outbox, &mut session, |_| false).await.unwrap();
    assert!(pass.done.is_empty());
    session.quit().await;
    assert_eq!(smtp.accepted().len(), 1, "sent exactly once");
}

/// Petrel stopped (a crash, a kill) after recording "handing over" and before the mark that
/// follows the end of data: whether the end left is unknown. Such a message is never sent
/// again on its own (the kill test once saw one delivered twice from this window): found in
/// Sent it is done, else it waits for the user, who can send it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_left_handing_over_waits_for_the_user() {
    let smtp = petrel_harness::ScriptedSmtp::start(&[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    for id in ["left-unsure", "left-in-sent"] {
        let path = outbox
            .enqueue(
                "alice@example.test",
                &["bob@example.test".into()],
                &message("alice@example.test", "bob@example.test", id),
            )
            .unwrap();
        // As Petrel leaves it when stopped between the two marks.
        petrel_maildir::Maildir::open(dir.path())
            .unwrap()
            .set_flags(&path, "H")
            .unwrap();
    }
    let counts = outbox.counts().unwrap();
    assert_eq!((counts.unsure, counts.waiting), (2, 0));

    let mut session = SmtpSession::login(&scripted_server(&smtp), "pw", &TrustPolicy::default())
        .await
        .unwrap();
    let pass = flush(&outbox, &mut session, |mid| {
        mid == "left-in-sent@petrel.test"
    })
    .await
    .unwrap();
    let done: Vec<_> = pass
        .done
        .iter()
        .filter_map(|q| q.message_id.clone())
        .collect();
    assert_eq!(done, vec!["left-in-sent@petrel.test".to_string()]);
    assert!(!pass.done[0].handed_over, "Sent has it: not filed again");
    assert_eq!(pass.unsure.len(), 1);
    assert_eq!(smtp.accepted().len(), 0, "neither was sent again");
    outbox.remove(&pass.done[0].name).unwrap();
    let left = outbox.queued().unwrap();
    assert!(left[0].unsure && left[0].shown() && !left[0].waiting());

    // The user asked a recipient, and sends it again.
    outbox.send_again(&left[0].name).unwrap();
    let pass = flush(&outbox, &mut session, |_| false).await.unwrap();
    assert_eq!(pass.done.len(), 1);
    session.quit().await;
    assert_eq!(smtp.accepted().len(), 1);
}
