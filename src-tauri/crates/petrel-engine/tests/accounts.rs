//! Accounts own their state: a page is read from the cache alone (refreshing is its own
//! verb), and removing an account leaves no status, backoff, queue, lock or file behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{submission, Fixture};
use petrel_core::{ConnectionState, ListQuery};
use petrel_engine::{MailCache, Outgoing};

#[tokio::test(flavor = "multi_thread")]
async fn a_page_request_never_contacts_the_server() {
    let f = Fixture::with_proxy();
    f.seed_mail("INBOX", 5);
    let (engine, id) = f.start().await;
    let refreshed = engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    assert_eq!((refreshed.change.total, refreshed.offline), (5, false));
    let (bytes, connections) = (f.proxy().bytes(), f.proxy().connections());

    let page = engine
        .page(&id, "INBOX", 0, 50, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 5);
    let sorted = ListQuery {
        text: "message".into(),
        ..ListQuery::default()
    };
    assert_eq!(
        engine
            .page(&id, "INBOX", 0, 50, &sorted)
            .await
            .unwrap()
            .total,
        5
    );
    // A folder never refreshed: the cache has nothing, and the server is not asked.
    assert_eq!(
        engine
            .page(&id, "Sent", 0, 50, &ListQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(f.proxy().bytes(), bytes, "a page sent or read server bytes");
    assert_eq!(f.proxy().connections(), connections);

    // With the network down, the same pages answer from the cache.
    f.proxy().set_up(false);
    let page = engine
        .page(&id, "INBOX", 0, 50, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!((page.rows.len(), page.offline), (5, false));
    // Refreshing is what notices the outage.
    let offline = engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    assert!(offline.offline);
    assert_eq!(offline.change.total, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_an_account_leaves_no_status_queue_or_file_behind() {
    let f = Fixture::with_proxy();
    f.seed_mail("INBOX", 3);
    let (engine, cache) = f.engine_with_cache(f.cache_dir.path());
    let id = f.account(&engine).await;
    engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    // Unsent mail waits in the outbox (the outgoing server is down)…
    let mut smtp = submission(&f, "alice", f.h.ports.submissions);
    smtp.port = 9; // discard: nothing listens
    engine.set_smtp(&id, Some(smtp)).unwrap();
    let _ = engine
        .send_message(
            &id,
            Outgoing {
                to: vec![f.h.user("bob").login.clone()],
                subject: "waits".into(),
                body: "in the outbox".into(),
                ..Outgoing::default()
            },
        )
        .await;
    assert_eq!(engine.outbox_counts(&id).unwrap().0, 1);
    // …an action waits for the server, and the link is in its backoff.
    f.proxy().set_up(false);
    let uid = engine
        .envelopes(&id, "INBOX", 0, 1, false)
        .await
        .unwrap()
        .rows[0]
        .uid;
    engine
        .set_flags(&id, "INBOX", &[uid], None, Some(true))
        .await
        .unwrap();
    assert_eq!(engine.pending_actions(&id), 1);
    let before = engine.account_status(&id);
    assert_eq!(before.state, ConnectionState::Offline);
    assert!(before.retry_in_seconds.is_some());

    let kept = engine.remove_account(&id, true).await.unwrap();
    assert_eq!(kept, None);
    assert!(engine.accounts().is_empty());
    let after = engine.account_status(&id);
    assert_eq!(
        (
            after.state,
            after.message,
            after.retry_in_seconds,
            after.pending_actions
        ),
        (ConnectionState::Unknown, None, None, 0),
        "the removed account's link and queue are gone"
    );
    assert!(cache.cached_folders(&id).unwrap().is_empty());
    // No file of the account remains in the config dir: settings, queue, outbox, mail.
    let mut left = Vec::new();
    for entry in walk(f.config.path()) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        if entry.to_string_lossy().contains(&id.0) || text.contains(&id.0) {
            left.push(entry);
        }
    }
    assert!(left.is_empty(), "left behind: {left:?}");
    // Every verb now says the account is gone, rather than acting on stale state.
    assert!(engine.flush_outbox(&id).await.is_err());
    assert!(engine.folders(&id).await.is_err());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
