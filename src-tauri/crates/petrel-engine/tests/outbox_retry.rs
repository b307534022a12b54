//! The watcher retries the outbox by itself: a message written while the outgoing server
//! is away is sent once it is back, without the user pressing anything, and the UI hears
//! about it (an `Outbox` event with nothing left). The first wait is 1 s here (the watch
//! configuration).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::Fixture;
use petrel_engine::{EngineEvent, Outgoing, WatchConfig};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// IMAP polls every minute; queued mail is tried again after 1 s.
fn quick() -> WatchConfig {
    WatchConfig {
        outbox_first_wait: Duration::from_secs(1),
        ..WatchConfig::every(Duration::from_secs(60))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_mail_is_sent_by_the_background_retry() {
    let f = Fixture::new();
    let proxy = petrel_harness::Proxy::start(f.h.ports.submissions).unwrap();
    let (engine, id) = f.start().await;
    let engine = Arc::new(engine);
    engine.folders(&id).await.unwrap();
    engine
        .set_smtp(&id, Some(common::submission(&f, "alice", proxy.port)))
        .unwrap();
    proxy.set_up(false);
    let bob = f.h.user("bob").login.clone();
    let report = engine
        .send_message(
            &id,
            Outgoing {
                to: vec![bob],
                subject: "sent by the retry".into(),
                body: "x".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((report.sent, report.queued), (0, 1));

    let events: Arc<Mutex<Vec<petrel_core::OutboxState>>> = Arc::default();
    let seen = events.clone();
    let _watch = engine.watch_with(
        quick(),
        Arc::new(move |e| {
            if let EngineEvent::Outbox(state) = e {
                seen.lock().unwrap().push(state);
            }
        }),
    );
    // Still away: the retry fails and plans the next try.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !events
        .lock()
        .unwrap()
        .iter()
        .any(|s| s.queued == 1 && s.retry_in_seconds.is_some())
    {
        assert!(Instant::now() < deadline, "no failed retry reported");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The first word comes before any try: when the first one will be (the first wait),
    // so the Outbox says "Next try in …" from the start.
    let first = events.lock().unwrap()[0].clone();
    assert_eq!(
        (first.queued, first.retry_in_seconds),
        (1, Some(1)),
        "{first:?}"
    );
    proxy.set_up(true);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !events.lock().unwrap().iter().any(|s| s.queued == 0) {
        assert!(
            Instant::now() < deadline,
            "the retry never sent it: {:?}",
            events.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(engine.outbox_messages(&id).unwrap().is_empty());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got =
            f.h.doveadm(
                "bob",
                &["search"],
                &["mailbox", "INBOX", "header", "subject", "sent by the retry"],
            )
            .unwrap_or_default();
        if got.lines().count() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "bob never got it");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        common::server_subjects(&f.h, "Sent"),
        vec!["sent by the retry"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sent_copy_that_could_not_be_filed_is_filed_later_once() {
    // The IMAP connection goes through a relay that can be cut; SMTP stays reachable.
    let f = Fixture::with_proxy();
    let (engine, id) = f.start().await;
    let engine = Arc::new(engine);
    engine.folders(&id).await.unwrap();
    engine
        .set_smtp(
            &id,
            Some(common::submission(&f, "alice", f.h.ports.submissions)),
        )
        .unwrap();
    f.proxy().set_up(false);
    let bob = f.h.user("bob").login.clone();
    let report = engine
        .send_message(
            &id,
            Outgoing {
                to: vec![bob],
                subject: "filed later".into(),
                body: "x".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(report.queued, 0, "sent: nothing waits for the server");
    assert_eq!(
        engine.outbox_counts(&id).unwrap(),
        (0, 1),
        "its Sent copy is still to file"
    );
    assert!(common::server_subjects(&f.h, "Sent").is_empty());

    let _watch = engine.watch_with(quick(), Arc::new(|_| {}));
    tokio::time::sleep(Duration::from_secs(3)).await;
    f.proxy().set_up(true);
    let deadline = Instant::now() + Duration::from_secs(40);
    while engine.outbox_counts(&id).unwrap().1 > 0 {
        assert!(Instant::now() < deadline, "the Sent copy was never filed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        common::server_subjects(&f.h, "Sent"),
        vec!["filed later"],
        "filed once"
    );
    let got =
        f.h.doveadm(
            "bob",
            &["search"],
            &["mailbox", "INBOX", "header", "subject", "filed later"],
        )
        .unwrap_or_default();
    assert_eq!(got.lines().count(), 1, "delivered once");
}
