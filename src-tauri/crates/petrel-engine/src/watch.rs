//! Background work, so changes made elsewhere appear without user action: one watcher per
//! account (its `watch` verb: IDLE for IMAP, periodic downloads for POP3), started and
//! stopped as accounts come and go, and the outbox retry. The UI hears about folder and
//! status changes through the event sink.

use crate::account::{Account, Incoming};
use crate::events::{EventSink, WatchConfig};
use crate::Engine;
use petrel_core::AccountId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often the set of accounts is compared with the running watchers.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);

/// Running watchers; dropping this stops them (IDLE is ended with DONE and LOGOUT).
pub struct Watch {
    stop: Arc<Notify>,
    supervisor: tokio::task::JoinHandle<()>,
    outbox: tokio::task::JoinHandle<()>,
    _index: crate::search::IndexFollower,
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
        self.watch_with(WatchConfig::every(poll), sink)
    }

    /// As [`Engine::watch`], at the pace of `config`.
    pub fn watch_with(self: &Arc<Self>, config: WatchConfig, sink: EventSink) -> Watch {
        self.set_event_sink(sink.clone());
        let stop = Arc::new(Notify::new());
        let supervisor = tokio::spawn(supervise(self.clone(), config, stop.clone()));
        let outbox = tokio::spawn(crate::outgoing::retry::retry_outboxes(
            self.clone(),
            config.outbox_first_wait,
            sink,
            stop.clone(),
        ));
        let index = self.follow_search_index();
        Watch {
            stop,
            supervisor,
            outbox,
            _index: index,
        }
    }
}

async fn supervise(engine: Arc<Engine>, config: WatchConfig, stop: Arc<Notify>) {
    let mut running = Running(HashMap::new());
    loop {
        let accounts: Vec<Arc<Account>> = engine.registry();
        running.0.retain(|id, (stop, task)| {
            let keep = accounts.iter().any(|a| &a.state().id == id) && !task.is_finished();
            if !keep {
                stop.notify_waiters();
                task.abort();
            }
            keep
        });
        for account in accounts {
            let id = account.state().id.clone();
            if let std::collections::hash_map::Entry::Vacant(slot) = running.0.entry(id) {
                let account_stop = Arc::new(Notify::new());
                let (cx, stop) = (engine.shared.clone(), account_stop.clone());
                let task = tokio::spawn(async move { account.watch(cx, config, stop).await });
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
