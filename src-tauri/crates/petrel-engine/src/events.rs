//! What the engine tells the UI on its own, the one channel it goes through, and the pace
//! of the background work that produces it.

use petrel_core::{AccountStatus, FolderChange};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// What the engine tells the UI on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    FolderChanged(FolderChange),
    Status(AccountStatus),
    /// Rows of a folder's sync so far (emitted per batch).
    SyncProgress(petrel_core::SyncProgress),
    /// Messages still waiting in an account's outbox, after a retry changed the count.
    Outbox(petrel_core::OutboxState),
    /// The search index's first build (or a rebuild), so far.
    IndexProgress(petrel_core::IndexProgress),
}

pub type EventSink = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// Sleeps; true when told to stop instead.
pub(crate) async fn sleep_or_stop(wait: Duration, stop: &Notify) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => false,
        _ = stop.notified() => true,
    }
}

/// How often background work runs, decided once by the app (settings, or the environment
/// of a test run) and passed in: nothing below reads the environment.
#[derive(Debug, Clone, Copy)]
pub struct WatchConfig {
    /// Re-sync of opened IMAP folders other than INBOX (which IDLEs).
    pub poll: Duration,
    /// POP3 checks; `None` follows each account's interval and the server's LOGIN-DELAY.
    pub pop3_every: Option<Duration>,
    /// The first wait before queued mail is tried again (then it doubles).
    pub outbox_first_wait: Duration,
}

impl WatchConfig {
    /// IMAP folders polled every `poll`; POP3 and the outbox at their own pace.
    pub fn every(poll: Duration) -> WatchConfig {
        WatchConfig {
            poll,
            pop3_every: None,
            outbox_first_wait: Duration::from_secs(30),
        }
    }
}
