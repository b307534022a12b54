//! What every account keeps, whatever its protocol: settings, connection health with the
//! one login-with-backoff, the folders synced since start, the outbox turn.

use super::link::Link;
use crate::error::lock;
use crate::EngineError;
use petrel_core::{AccountId, AccountSettings, AccountStatus};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::Mutex as AsyncMutex;

pub(crate) struct AccountState {
    pub id: AccountId,
    settings: Mutex<AccountSettings>,
    /// Connection health: backoff and the status shown.
    link: Mutex<Link>,
    /// Folders synced (or indexed) since the engine started; others sync before their
    /// first page.
    synced: Mutex<HashSet<String>>,
    /// One pass over the outbox at a time (a second pass could send a message the first
    /// is sending).
    pub outbox_turn: AsyncMutex<()>,
    /// OAuth2 accounts: the access token in memory (see `credential`).
    pub(super) tokens: super::credential::TokenCache,
}

impl AccountState {
    pub fn new(settings: AccountSettings) -> AccountState {
        AccountState {
            id: settings.id.clone(),
            settings: Mutex::new(settings),
            link: Mutex::default(),
            synced: Mutex::default(),
            outbox_turn: AsyncMutex::new(()),
            tokens: Default::default(),
        }
    }

    pub fn settings(&self) -> AccountSettings {
        lock(&self.settings).clone()
    }

    pub fn set_settings(&self, settings: AccountSettings) {
        *lock(&self.settings) = settings;
    }

    /// Logs in with `attempt` unless a recent failure says to wait; records the outcome for
    /// the status. The one login-with-backoff of every protocol: a refused password is not
    /// retried for a while (servers lock accounts), an unreachable server with growing
    /// pauses.
    pub async fn login<T>(
        &self,
        attempt: impl Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        let now = Instant::now();
        {
            let link = lock(&self.link);
            if let Some(wait) = link.wait_left(now) {
                return Err(EngineError::NotNow {
                    state: link.state,
                    message: link.message.clone().unwrap_or_default(),
                    retry_in_seconds: wait.as_secs().max(1) as u32,
                });
            }
        }
        let result = attempt.await;
        let mut link = lock(&self.link);
        match &result {
            Ok(_) => link.succeeded(),
            Err(e) => link.failed(e, now),
        }
        result
    }

    /// Records that a working session broke (the server went away mid-command).
    pub fn connection_lost(&self, error: &EngineError) {
        lock(&self.link).failed(error, Instant::now());
    }

    /// The user asked to try now: forget the backoff (the next call logs in at once).
    pub fn retry_now(&self) {
        lock(&self.link).retry_now();
    }

    pub fn status(&self, pending_actions: u32) -> AccountStatus {
        let link = lock(&self.link).clone();
        AccountStatus {
            account: self.id.clone(),
            state: link.state,
            message: link.message.clone(),
            retry_in_seconds: link
                .wait_left(Instant::now())
                .map(|d| d.as_secs().max(1) as u32),
            pending_actions,
        }
    }

    pub fn is_synced(&self, folder: &str) -> bool {
        lock(&self.synced).contains(folder)
    }

    pub fn mark_synced(&self, folder: &str) {
        lock(&self.synced).insert(folder.to_string());
    }

    pub fn forget_synced(&self, folder: &str) {
        lock(&self.synced).remove(folder);
    }

    /// Every folder syncs again before its next page (the sync window changed).
    pub fn forget_all_synced(&self) {
        lock(&self.synced).clear();
    }

    pub fn synced_folders(&self) -> Vec<String> {
        let mut folders: Vec<String> = lock(&self.synced).iter().cloned().collect();
        folders.sort();
        folders
    }
}
