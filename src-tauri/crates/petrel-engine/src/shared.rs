//! What every account and view shares: the cache, the keychain, the trust policy, the
//! queue of pending actions, the event channel. Accounts get it passed in (they never see
//! the `Engine`), so the engine module depends on the accounts and not the other way round.

use crate::error::lock;
use crate::events::{EngineEvent, EventSink};
use crate::pending_actions::PendingActions;
use crate::{EngineError, SecretStore};
use petrel_core::{AccountId, FolderChange};
use petrel_imap::TrustPolicy;
use petrel_store::{FolderRef, MailCache};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

pub(crate) struct Shared {
    pub config_dir: PathBuf,
    pub secrets: Arc<dyn SecretStore>,
    pub trust: TrustPolicy,
    pub cache: Arc<dyn MailCache>,
    /// User actions not yet confirmed by the server, on disk.
    pub pending: PendingActions,
    /// Serialises reads and writes of the pending-actions files.
    pub queue_lock: Mutex<()>,
    /// Where progress events go (set by `watch`).
    events: Mutex<Option<EventSink>>,
    /// Bumped on every cache change this engine makes; merged views rebuild when it moves.
    pub cache_generation: AtomicU64,
    /// Folder syncs under way (the search index's follower waits for them: CPU on a
    /// small machine goes to the rows the user is waiting for first).
    syncs: AtomicUsize,
    /// The time, passed in (tests and tools may set their own).
    clock: Clock,
    /// HTTP for OAuth2 token requests (Petrel's TLS and trust).
    oauth: Option<petrel_oauth::Http>,
}

/// A folder sync under way (see [`Shared::sync_started`]).
pub(crate) struct SyncUnderWay<'a>(&'a AtomicUsize);

impl Drop for SyncUnderWay<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where the engine reads the time of day.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The system's clock.
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

impl Shared {
    pub fn new(
        config_dir: PathBuf,
        secrets: Arc<dyn SecretStore>,
        trust: TrustPolicy,
        cache: Arc<dyn MailCache>,
        clock: Clock,
    ) -> Shared {
        Shared {
            pending: PendingActions::new(&config_dir),
            config_dir,
            secrets,
            cache,
            queue_lock: Mutex::new(()),
            events: Mutex::new(None),
            cache_generation: AtomicU64::new(0),
            syncs: AtomicUsize::new(0),
            clock,
            oauth: petrel_oauth::Http::new(&trust).ok(),
            trust,
        }
    }

    pub fn oauth_http(&self) -> Result<&petrel_oauth::Http, EngineError> {
        self.oauth.as_ref().ok_or_else(|| {
            EngineError::SignIn(petrel_oauth::OAuthError::Network(
                "Petrel's TLS setup failed".into(),
            ))
        })
    }

    /// Counts a folder sync as under way until the guard is dropped (cancelled included).
    pub fn sync_started(&self) -> SyncUnderWay<'_> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        SyncUnderWay(&self.syncs)
    }

    /// Whether a folder sync is under way.
    pub fn syncing(&self) -> bool {
        self.syncs.load(Ordering::SeqCst) > 0
    }

    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Seconds since the Unix epoch, now.
    pub fn unix_now(&self) -> i64 {
        self.now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    pub fn cache_changed(&self) {
        self.cache_generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn set_sink(&self, sink: EventSink) {
        *lock(&self.events) = Some(sink);
    }

    pub fn emit(&self, event: EngineEvent) {
        if let Some(sink) = self.sink() {
            sink(event);
        }
    }

    /// The sink itself, for work that outlives a borrow of this (a sync's progress).
    pub fn sink(&self) -> Option<EventSink> {
        lock(&self.events).clone()
    }

    /// A folder's counts from the cache, as a change with nothing added or removed.
    pub fn cached_change(&self, folder: &FolderRef) -> Result<FolderChange, EngineError> {
        let state = self
            .cache
            .folder_state(folder)
            .map_err(EngineError::cache("Reading the cache"))?
            .unwrap_or_default();
        Ok(FolderChange {
            account: folder.account.clone(),
            folder: folder.path.clone(),
            total: state.total,
            unread: state.unread,
            added: 0,
            removed: 0,
            flags_changed: 0,
            arrived: Vec::new(),
        })
    }

    /// Unread messages of `folder` with UIDs from `first` on (the ones a sync just added),
    /// the newest [`petrel_core::ARRIVED_LISTED`], oldest first.
    pub fn arrived_since(&self, folder: &FolderRef, first: u32) -> Vec<petrel_core::Envelope> {
        let uids = match self.cache.uids(folder) {
            Ok(uids) => uids,
            Err(e) => {
                tracing::warn!(error = %e, "new mail not read from the cache");
                return Vec::new();
            }
        };
        let mut new: Vec<u32> = uids.into_iter().filter(|&u| u >= first).collect();
        new.sort_unstable();
        let keep = new.len().saturating_sub(petrel_core::ARRIVED_LISTED * 4);
        let mut arrived: Vec<petrel_core::Envelope> = new[keep..]
            .iter()
            .filter_map(|&uid| self.cache.envelope(folder, uid).ok().flatten())
            .filter(|e| !e.seen)
            .collect();
        let extra = arrived.len().saturating_sub(petrel_core::ARRIVED_LISTED);
        arrived.drain(..extra);
        arrived
    }

    /// Actions of the account still waiting for the server.
    pub fn pending_count(&self, id: &AccountId) -> u32 {
        self.pending
            .list(id)
            .map(|q| q.len() as u32)
            .unwrap_or_default()
    }

    /// Where an account's local folders live (POP3 mail: the only copy).
    pub fn local_root(&self, id: &AccountId) -> PathBuf {
        self.config_dir.join("mail").join(&id.0)
    }

    /// An account's outbox directory.
    pub fn outbox_dir(&self, id: &AccountId) -> PathBuf {
        self.config_dir.join("outbox").join(&id.0)
    }
}
