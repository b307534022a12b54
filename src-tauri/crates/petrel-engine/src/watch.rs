//! Background work per account, so changes made elsewhere appear without user action:
//! a second connection IDLEs on INBOX (new mail shows within a second or two), and every
//! `poll` interval the other folders opened since start are re-synced (one round trip each
//! with QRESYNC). A lost connection is retried with the backoff of `link`; the UI hears
//! about folder changes and status changes through the sink.

use crate::Engine;
use petrel_core::{AccountId, AccountStatus, FolderChange};
use petrel_imap::{IdleOutcome, ImapError};
use std::collections::HashMap;
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
}

pub type EventSink = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// How often the set of accounts is compared with the running watchers.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);

/// Running watchers; dropping this stops them (IDLE is ended with DONE and LOGOUT).
pub struct Watch {
    stop: Arc<Notify>,
    supervisor: tokio::task::JoinHandle<()>,
    outbox: tokio::task::JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.notify_waiters();
        self.supervisor.abort();
        self.outbox.abort();
    }
}

impl Engine {
    /// Starts watching every account (and accounts added later) on the current tokio runtime.
    pub fn watch(self: &Arc<Self>, poll: Duration, sink: EventSink) -> Watch {
        self.set_event_sink(sink.clone());
        let stop = Arc::new(Notify::new());
        let engine = self.clone();
        let supervisor = tokio::spawn(supervise(engine, poll, sink.clone(), stop.clone()));
        let outbox = tokio::spawn(crate::outbox_retry::retry_outboxes(
            self.clone(),
            sink.clone(),
            stop.clone(),
        ));
        Watch {
            stop,
            supervisor,
            outbox,
        }
    }
}

async fn supervise(engine: Arc<Engine>, poll: Duration, sink: EventSink, stop: Arc<Notify>) {
    let mut running = Running(HashMap::new());
    loop {
        let accounts: Vec<AccountId> = engine.accounts().into_iter().map(|a| a.id).collect();
        running.0.retain(|id, (stop, task)| {
            let keep = accounts.contains(id) && !task.is_finished();
            if !keep {
                stop.notify_waiters();
                task.abort();
            }
            keep
        });
        for id in accounts {
            if let std::collections::hash_map::Entry::Vacant(slot) = running.0.entry(id.clone()) {
                let account_stop = Arc::new(Notify::new());
                let task = tokio::spawn(watch_account(
                    engine.clone(),
                    id,
                    poll,
                    sink.clone(),
                    account_stop.clone(),
                ));
                slot.insert((account_stop, task));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SUPERVISE_EVERY) => {}
            _ = stop.notified() => return,
        }
    }
}

/// The account watchers; when the supervisor ends (or is aborted) they end too.
struct Running(HashMap<AccountId, (Arc<Notify>, tokio::task::JoinHandle<()>)>);

impl Drop for Running {
    fn drop(&mut self) {
        for (_, (stop, task)) in self.0.drain() {
            stop.notify_waiters();
            task.abort();
        }
    }
}

async fn watch_account(
    engine: Arc<Engine>,
    id: AccountId,
    poll: Duration,
    sink: EventSink,
    stop: Arc<Notify>,
) {
    let mut last_status: Option<AccountStatus> = None;
    let report_status = |last: &mut Option<AccountStatus>| {
        let now = engine.account_status(&id);
        let changed = last.as_ref().is_none_or(|l| {
            (l.state, l.pending_actions, &l.message)
                != (now.state, now.pending_actions, &now.message)
        });
        if changed {
            sink(EngineEvent::Status(now.clone()));
            *last = Some(now);
        }
    };
    if engine.is_pop3(&id) {
        return watch_pop3(engine, id, sink, stop).await;
    }
    loop {
        let Ok(account) = engine.account(&id) else {
            return;
        };
        let session = engine.login(&id, &account).await;
        report_status(&mut last_status);
        let mut session = match session {
            Ok(s) => s,
            Err(e) => {
                let wait = engine
                    .account_status(&id)
                    .retry_in_seconds
                    .map(|s| Duration::from_secs(s.into()))
                    .unwrap_or(poll)
                    .min(poll);
                tracing::info!(account = %id, error = %e, ?wait, "watcher cannot log in yet");
                if sleep_or_stop(wait, &stop).await {
                    return;
                }
                continue;
            }
        };
        // (Re)connected: catch up on what happened meanwhile, and send queued actions.
        report(&sink, engine.check_account(&id, Some("INBOX")).await);
        keep_offline(&engine, &id).await;
        report_status(&mut last_status);
        let mut next_poll = tokio::time::Instant::now() + poll;
        loop {
            let wait = next_poll.saturating_duration_since(tokio::time::Instant::now());
            match session.idle("INBOX", wait, &stop).await {
                Ok((s, IdleOutcome::Changed)) => {
                    session = s;
                    report(&sink, engine.check_account(&id, Some("INBOX")).await);
                    keep_offline(&engine, &id).await;
                    next_poll = tokio::time::Instant::now() + poll;
                }
                Ok((s, IdleOutcome::TimedOut)) => {
                    session = s;
                    report(&sink, engine.check_account(&id, Some("INBOX")).await);
                    keep_offline(&engine, &id).await;
                    next_poll = tokio::time::Instant::now() + poll;
                }
                Ok((s, IdleOutcome::Stopped)) => {
                    s.logout().await;
                    return;
                }
                Err(ImapError::Refused(reason)) => {
                    // No IDLE on this server: poll only.
                    tracing::info!(account = %id, %reason, "polling without IDLE");
                    loop {
                        if sleep_or_stop(poll, &stop).await {
                            return;
                        }
                        report(&sink, engine.check_account(&id, Some("INBOX")).await);
                        keep_offline(&engine, &id).await;
                        report_status(&mut last_status);
                    }
                }
                Err(e) => {
                    let e = crate::EngineError::imap("Waiting for new mail")(e);
                    tracing::info!(account = %id, error = %e, "IDLE connection lost");
                    engine.connection_lost(&id, &e);
                    report_status(&mut last_status);
                    break;
                }
            }
            report_status(&mut last_status);
        }
    }
}

/// A POP3 account: a download at start, then every `check_minutes`, never more often than
/// the server's LOGIN-DELAY (`PETREL_CHECK_SECONDS`
/// overrides it, as for IMAP polling). Errors are logged; the next round tries again.
async fn watch_pop3(engine: Arc<Engine>, id: AccountId, sink: EventSink, stop: Arc<Notify>) {
    let mut last: Option<AccountStatus> = None;
    loop {
        let Ok(account) = engine.account(&id) else {
            return;
        };
        match engine.pop3_check(&id).await {
            Ok(Some(change)) => sink(EngineEvent::FolderChanged(change)),
            Ok(None) => {}
            Err(e) => tracing::info!(account = %id, error = %e, "POP3 check failed"),
        }
        // The status bar follows (online, offline with the next try, password refused…).
        let now = engine.account_status(&id);
        if last
            .as_ref()
            .is_none_or(|l| (l.state, &l.message) != (now.state, &now.message))
        {
            sink(EngineEvent::Status(now.clone()));
            last = Some(now);
        }
        let every = std::env::var("PETREL_CHECK_SECONDS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&s| s > 0)
            .map(Duration::from_secs)
            .unwrap_or_else(|| engine.pop3_interval(&account));
        if sleep_or_stop(every, &stop).await {
            return;
        }
    }
}

/// Offline copies for accounts that keep mail on this computer (errors only logged: the
/// next round tries again).
async fn keep_offline(engine: &Engine, id: &AccountId) {
    if let Err(e) = engine.download_for_offline(id).await {
        tracing::info!(account = %id, error = %e, "offline download paused");
    }
}

fn report(sink: &EventSink, changes: Vec<FolderChange>) {
    for change in changes {
        sink(EngineEvent::FolderChanged(change));
    }
}

/// Sleeps; true when told to stop instead.
pub(crate) async fn sleep_or_stop(wait: Duration, stop: &Notify) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => false,
        _ = stop.notified() => true,
    }
}
