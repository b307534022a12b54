//! The background watcher against a real Dovecot: IDLE brings new INBOX mail without any
//! call from the UI, other opened folders are polled, and a cut connection is re-made.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{mail, Fixture};
use petrel_core::ConnectionState;
use petrel_engine::{EngineEvent, EventSink};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn sink() -> (EventSink, mpsc::UnboundedReceiver<EngineEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Arc::new(move |e| drop(tx.send(e))), rx)
}

/// Waits for the first event that `want` accepts.
async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<EngineEvent>,
    within: Duration,
    want: impl Fn(&EngineEvent) -> bool,
) -> EngineEvent {
    tokio::time::timeout(within, async {
        loop {
            let e = rx.recv().await.expect("watcher alive");
            if want(&e) {
                return e;
            }
        }
    })
    .await
    .expect("the event came in time")
}

fn new_mail_in(folder: &'static str) -> impl Fn(&EngineEvent) -> bool {
    move |e| matches!(e, EngineEvent::FolderChanged(c) if c.folder == folder && c.added > 0)
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_brings_new_mail_without_polling() {
    let f = Fixture::new();
    f.h.seed("alice", "INBOX", &[mail(1)], false).unwrap();
    let (engine, id) = f.start().await;
    let engine = Arc::new(engine);
    engine.envelopes(&id, "INBOX", 0, 10, false).await.unwrap();
    let (sink, mut rx) = sink();
    // Polling every 10 minutes: only IDLE can deliver within the test's time.
    let _watch = engine.watch(Duration::from_secs(600), sink);
    wait_for(
        &mut rx,
        Duration::from_secs(20),
        |e| matches!(e, EngineEvent::Status(s) if s.state == ConnectionState::Online),
    )
    .await;
    // Let the watcher settle into IDLE before the other device delivers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    f.h.append("alice", "INBOX", &mail(2)).unwrap();
    let event = wait_for(&mut rx, Duration::from_secs(20), new_mail_in("INBOX")).await;
    let EngineEvent::FolderChanged(change) = event else {
        unreachable!()
    };
    assert_eq!(
        (change.account, change.total, change.added),
        (id.clone(), 2, 1)
    );
    let page = engine.envelopes(&id, "INBOX", 0, 10, false).await.unwrap();
    assert_eq!(page.total, 2, "the cache already has it");
}

#[tokio::test(flavor = "multi_thread")]
async fn other_opened_folders_are_polled() {
    let f = Fixture::new();
    f.h.seed("alice", "Work", &[mail(1)], true).unwrap();
    let (engine, id) = f.start().await;
    let engine = Arc::new(engine);
    engine.envelopes(&id, "Work", 0, 10, false).await.unwrap();
    let (sink, mut rx) = sink();
    let _watch = engine.watch(Duration::from_secs(1), sink);
    tokio::time::sleep(Duration::from_millis(500)).await;
    f.h.append("alice", "Work", &mail(2)).unwrap();
    wait_for(&mut rx, Duration::from_secs(20), new_mail_in("Work")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_connection_is_remade_and_mail_still_arrives() {
    let f = Fixture::with_proxy();
    f.h.seed("alice", "INBOX", &[mail(1)], false).unwrap();
    let (engine, _id) = f.start().await;
    let engine = Arc::new(engine);
    let (sink, mut rx) = sink();
    let _watch = engine.watch(Duration::from_secs(600), sink);
    wait_for(
        &mut rx,
        Duration::from_secs(20),
        |e| matches!(e, EngineEvent::Status(s) if s.state == ConnectionState::Online),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = f.proxy().connections();
    f.proxy().cut_all();
    wait_for(
        &mut rx,
        Duration::from_secs(20),
        |e| matches!(e, EngineEvent::Status(s) if s.state == ConnectionState::Offline),
    )
    .await;
    f.h.append("alice", "INBOX", &mail(2)).unwrap();
    wait_for(&mut rx, Duration::from_secs(30), new_mail_in("INBOX")).await;
    assert!(f.proxy().connections() > before, "the watcher reconnected");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_fills_while_a_large_folder_syncs() {
    let f = Fixture::new();
    f.h.seed_generated("alice", "INBOX", 3_000, |i| mail(i as u32), false)
        .unwrap();
    let (engine, id) = f.start().await;
    let engine = Arc::new(engine);
    let (sink, mut rx) = sink();
    engine.set_event_sink(sink);
    let first_open = {
        let (engine, id) = (engine.clone(), id.clone());
        tokio::spawn(async move { engine.envelopes(&id, "INBOX", 0, 200, false).await })
    };
    // The first batch is in the cache: a page asked for now is served from it at once,
    // while the sync goes on.
    let event = wait_for(
        &mut rx,
        Duration::from_secs(30),
        |e| matches!(e, EngineEvent::SyncProgress(p) if p.done > 0),
    )
    .await;
    let EngineEvent::SyncProgress(p) = event else {
        unreachable!()
    };
    assert_eq!((p.folder.as_str(), p.total), ("INBOX", 3_000));
    let early = tokio::time::timeout(
        Duration::from_secs(2),
        engine.envelopes(&id, "INBOX", 0, 200, false),
    )
    .await
    .expect("served without waiting for the sync")
    .unwrap();
    assert!(!early.rows.is_empty() && early.rows.len() <= 200);
    let last = wait_for(
        &mut rx,
        Duration::from_secs(60),
        |e| matches!(e, EngineEvent::SyncProgress(p) if p.done == p.total),
    )
    .await;
    assert!(matches!(last, EngineEvent::SyncProgress(p) if p.total == 3_000));
    let page = first_open.await.unwrap().unwrap();
    assert_eq!(page.total, 3_000);
}
