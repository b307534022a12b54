//! An IMAP account: one session reused between calls (replaced when it breaks), the
//! replay of queued actions, sync of folders into the cache, and the IDLE watcher.

mod actions;
mod folders;
mod offline;
mod watch;

use super::{AccountState, Credential, FolderEdit, Freshness, Incoming, UserAction};
use crate::events::WatchConfig;
use crate::shared::Shared;
use crate::EngineError;
use futures::future::BoxFuture;
use petrel_core::{
    AccountSettings, AccountStatus, ActionOutcome, Folder, FolderChange, FolderRole,
};
use petrel_imap::ImapSession;
use petrel_store::FolderRef;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, Notify};

/// Name of the Drafts folder created on servers that have none.
const DRAFTS_FOLDER: &str = "Drafts";

pub(crate) struct ImapAccount {
    pub(crate) state: AccountState,
    /// The session, reused between calls and replaced when it breaks.
    session: AsyncMutex<Option<ImapSession>>,
    /// One replay at a time, so actions reach the server in order.
    replay_turn: AsyncMutex<()>,
    /// Folders being synced right now: a second refresh does not wait for the first.
    syncing: Mutex<HashSet<String>>,
}

impl ImapAccount {
    pub fn new(settings: AccountSettings) -> ImapAccount {
        ImapAccount {
            state: AccountState::new(settings),
            session: AsyncMutex::new(None),
            replay_turn: AsyncMutex::new(()),
            syncing: Mutex::default(),
        }
    }

    /// TLS, login and the folder list of settings not saved yet; the session is kept for
    /// the account's first view.
    pub(crate) async fn verify(
        cx: &Shared,
        settings: &AccountSettings,
        credential: &Credential,
    ) -> Result<ImapSession, EngineError> {
        let mut session = ImapSession::login_with(&settings.imap, credential.imap(), &cx.trust)
            .await
            .map_err(EngineError::imap(format!(
                "Connecting to {}",
                settings.imap.host
            )))?;
        session
            .list_folders()
            .await
            .map_err(EngineError::imap("Listing folders"))?;
        Ok(session)
    }

    pub async fn adopt(&self, session: ImapSession) {
        self.session.lock().await.replace(session);
    }

    pub async fn close(&self) {
        let old = self.session.lock().await.take();
        if let Some(session) = old {
            session.logout().await;
        }
    }

    /// Logs in unless a recent failure says to wait.
    pub(crate) async fn login(&self, cx: &Shared) -> Result<ImapSession, EngineError> {
        let settings = self.state.settings();
        let settings = &settings;
        self.state
            .login(self.state.with_credential(cx, |credential| async move {
                ImapSession::login_with(&settings.imap, credential.imap(), &cx.trust)
                    .await
                    .map_err(EngineError::imap(format!(
                        "Connecting to {}",
                        settings.imap.host
                    )))
            }))
            .await
    }

    /// Runs `op` on the account's session, logging in when there is none and trying once
    /// more on a fresh connection when the old one turned out to be dead.
    pub(crate) async fn with_session<T, F>(&self, cx: &Shared, mut op: F) -> Result<T, EngineError>
    where
        F: for<'s> FnMut(&'s mut ImapSession) -> BoxFuture<'s, Result<T, EngineError>>,
    {
        let mut guard = self.session.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reused = guard.is_some();
            let mut session = match guard.take() {
                Some(s) => s,
                None => self.login(cx).await?,
            };
            match op(&mut session).await {
                Ok(value) => {
                    *guard = Some(session);
                    return Ok(value);
                }
                Err(err) => {
                    if !err.is_connection_problem() {
                        *guard = Some(session);
                        return Err(err);
                    }
                    // A reused connection may have been closed by the server while idle.
                    if !(reused && attempt == 1) {
                        self.state.connection_lost(&err);
                        return Err(err);
                    }
                    tracing::info!(account = %self.state.id, "session was dead, reconnecting");
                }
            }
        }
    }

    /// Appends one imported message with its Maildir-style flags ("S", "R", "F").
    pub(crate) async fn append_flagged(
        &self,
        cx: &Shared,
        folder: &str,
        raw: &[u8],
        flags: &str,
    ) -> Result<(), EngineError> {
        let flags: Vec<&'static str> = [('S', "\\Seen"), ('R', "\\Answered"), ('F', "\\Flagged")]
            .into_iter()
            .filter(|(c, _)| flags.contains(*c))
            .map(|(_, f)| f)
            .collect();
        let (target, raw) = (folder.to_string(), raw.to_vec());
        self.with_session(cx, move |s| {
            let (folder, raw, flags) = (target.clone(), raw.clone(), flags.clone());
            Box::pin(async move {
                s.append(&folder, &raw, &flags)
                    .await
                    .map_err(EngineError::imap(format!("Importing into {folder}")))
            })
        })
        .await
    }

    /// Whether `folder` holds a message with this Message-ID (a filed copy, an import run again).
    pub(crate) async fn holds_message_id(
        &self,
        cx: &Shared,
        folder: &str,
        message_id: &str,
    ) -> bool {
        let (target, probe) = (folder.to_string(), message_id.to_string());
        self.with_session(cx, move |s| {
            let (folder, probe) = (target.clone(), probe.clone());
            Box::pin(async move {
                s.has_message_id(&folder, &probe)
                    .await
                    .map_err(EngineError::imap(format!("Looking in {folder}")))
            })
        })
        .await
        .unwrap_or(false)
    }

    /// Lists what an import added.
    pub(crate) async fn refresh_after_import(&self, cx: &Shared, folder: &str) {
        self.refresh_quietly(cx, folder).await;
    }

    /// Sends the account's queued actions, then syncs one folder: the other order would
    /// briefly show the server's old state over the user's own changes.
    async fn sync_folder(&self, cx: &Shared, folder: &str) -> Result<FolderChange, EngineError> {
        if let Err(e) = self.replay(cx).await {
            tracing::warn!(account = %self.state.id, error = %e, "a queued action was refused");
        }
        self.sync_folder_now(cx, folder).await
    }

    /// Syncs one folder with the server and remembers it as synced this session.
    pub(crate) async fn sync_folder_now(
        &self,
        cx: &Shared,
        folder: &str,
    ) -> Result<FolderChange, EngineError> {
        let folder_ref = FolderRef::new(&self.state.id, folder);
        let window_days = self.state.settings().sync.window_days;
        crate::error::lock(&self.syncing).insert(folder.to_string());
        let under_way = cx.sync_started();
        // Where new mail starts (no state: a first fill, which notifies nothing).
        let next_before = cx
            .cache
            .folder_state(&folder_ref)
            .ok()
            .flatten()
            .map(|s| s.uidnext);
        let sink = cx.sink();
        let report = self
            .with_session(cx, |s| {
                let cache = cx.cache.clone();
                let folder_ref = folder_ref.clone();
                let sink = sink.clone();
                Box::pin(async move {
                    let progress = |done: usize, total: usize| {
                        if let Some(sink) = &sink {
                            sink(crate::EngineEvent::SyncProgress(
                                petrel_core::SyncProgress {
                                    account: folder_ref.account.clone(),
                                    folder: folder_ref.path.clone(),
                                    done: done as u32,
                                    total: total as u32,
                                },
                            ));
                        }
                    };
                    s.sync_folder_within(cache, &folder_ref, window_days, progress)
                        .await
                        .map_err(EngineError::sync(format!("Syncing {}", folder_ref.path)))
                })
            })
            .await;
        crate::error::lock(&self.syncing).remove(folder);
        drop(under_way);
        cx.cache_changed();
        let report = report?;
        tracing::info!(account = %self.state.id, folder, ?report, "folder synced");
        self.state.mark_synced(folder);
        let arrived = match next_before {
            Some(next) if report.added > 0 && !report.uidvalidity_reset => {
                cx.arrived_since(&folder_ref, next)
            }
            _ => Vec::new(),
        };
        Ok(FolderChange {
            added: report.added as u32,
            removed: report.removed as u32,
            flags_changed: report.flags_changed as u32,
            arrived,
            ..cx.cached_change(&folder_ref)?
        })
    }

    /// Re-syncs the folders opened since start, plus `also` (INBOX for the watcher), and
    /// returns those that changed.
    pub async fn check(&self, cx: &Shared, also: Option<&str>) -> Vec<FolderChange> {
        let mut folders = self.state.synced_folders();
        if let Some(extra) = also {
            if !folders.iter().any(|f| f == extra) {
                folders.insert(0, extra.to_string());
            }
        }
        let mut changed = Vec::new();
        for folder in folders {
            match self.sync_folder(cx, &folder).await {
                Ok(change) if change.added + change.removed + change.flags_changed > 0 => {
                    changed.push(change)
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(account = %self.state.id, folder, error = %e, "background check failed");
                    if e.is_connection_problem() {
                        break;
                    }
                }
            }
        }
        changed
    }

    /// The folder with `role`, cache first (no LIST on every delete); the server is asked
    /// only when the cached tree has none (another client may have made it since). An
    /// unknown folder list is an error, never "none".
    pub(crate) async fn role_folder(
        &self,
        cx: &Shared,
        role: FolderRole,
    ) -> Result<Option<String>, EngineError> {
        if let Some(path) = super::cached_role_folder(cx, &self.state.id, role) {
            return Ok(Some(path));
        }
        Ok(self
            .folders(cx)
            .await?
            .into_iter()
            .find(|f| f.role == Some(role) && f.selectable)
            .map(|f| f.path))
    }

    /// The account's Drafts folder, created when the server has none.
    async fn drafts_folder(&self, cx: &Shared) -> Result<String, EngineError> {
        if let Some(path) = super::cached_role_folder(cx, &self.state.id, FolderRole::Drafts) {
            return Ok(path);
        }
        let known = self.folders(cx).await?;
        if let Some(f) = known.iter().find(|f| f.role == Some(FolderRole::Drafts)) {
            return Ok(f.path.clone());
        }
        if let Some(f) = known
            .iter()
            .find(|f| f.path.eq_ignore_ascii_case(DRAFTS_FOLDER))
        {
            return Ok(f.path.clone());
        }
        self.change_folder(cx, FolderEdit::Create(DRAFTS_FOLDER))
            .await?;
        Ok(DRAFTS_FOLDER.to_string())
    }

    /// Re-syncs a folder this account just changed, so its list shows the change; a
    /// failure only delays that to the next sync.
    async fn refresh_quietly(&self, cx: &Shared, folder: &str) {
        self.state.forget_synced(folder);
        if let Err(e) = self.refresh(cx, folder, true).await {
            tracing::info!(account = %self.state.id, folder, error = %e, "folder not refreshed");
        }
    }

    /// Drops a folder that no longer exists under this name (renamed or deleted).
    pub(crate) fn forget_folder(&self, cx: &Shared, folder: &str) {
        self.state.forget_synced(folder);
        cx.cache_changed();
        if let Err(e) = cx
            .cache
            .drop_folder(&FolderRef::new(&self.state.id, folder))
        {
            tracing::warn!(folder, error = %e, "could not drop cached folder");
        }
    }

    /// Storage used and allowed on the server, when it says.
    pub async fn quota(&self, cx: &Shared) -> Result<Option<petrel_core::Quota>, EngineError> {
        self.with_session(cx, |s| {
            Box::pin(async move {
                s.quota()
                    .await
                    .map_err(EngineError::imap("Reading the quota"))
            })
        })
        .await
    }

    /// Server search of `folders`, one after the other on the account's session.
    pub(crate) async fn search_server(
        &self,
        cx: &Shared,
        folders: &[String],
        search: &petrel_core::query::ImapSearch,
    ) -> Result<Vec<(String, Vec<u32>)>, EngineError> {
        let (folders, search) = (folders.to_vec(), search.clone());
        self.with_session(cx, move |s| {
            let (folders, search) = (folders.clone(), search.clone());
            Box::pin(async move {
                let mut found = Vec::with_capacity(folders.len());
                for folder in folders {
                    let uids =
                        s.search(&folder, &search)
                            .await
                            .map_err(EngineError::imap(format!(
                                "Searching {folder} on the server"
                            )))?;
                    found.push((folder, uids));
                }
                Ok(found)
            })
        })
        .await
    }

    /// Fetches threading headers for the folder's cached messages that have none yet.
    pub(crate) async fn fetch_missing_links(
        &self,
        cx: &Shared,
        folder: &str,
    ) -> Result<(), EngineError> {
        let path = folder.to_string();
        let folder = &FolderRef::new(&self.state.id, folder);
        let cache_err = || EngineError::cache("Reading the cache");
        let have: HashSet<u32> = cx
            .cache
            .thread_links(folder)
            .map_err(cache_err())?
            .into_iter()
            .map(|(uid, _)| uid)
            .collect();
        let missing: Vec<u32> = cx
            .cache
            .uids(folder)
            .map_err(cache_err())?
            .into_iter()
            .filter(|u| !have.contains(u))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let links = self
            .with_session(cx, |s| {
                let path = path.clone();
                let missing = missing.clone();
                Box::pin(async move {
                    s.fetch_thread_links(&path, &missing)
                        .await
                        .map_err(EngineError::imap("Fetching conversation headers"))
                })
            })
            .await?;
        cx.cache
            .set_thread_links(folder, &links)
            .map_err(EngineError::cache("Saving conversation headers"))?;
        cx.cache_changed();
        Ok(())
    }
}

impl Incoming for ImapAccount {
    /// The folder tree from the server, remembered in the cache; the remembered one when
    /// the server cannot be reached.
    async fn folders(&self, cx: &Shared) -> Result<Vec<Folder>, EngineError> {
        let id = &self.state.id;
        let listed = self
            .with_session(cx, |s| {
                Box::pin(async move {
                    s.list_folders()
                        .await
                        .map_err(EngineError::imap("Listing folders"))
                })
            })
            .await;
        match listed {
            Ok(folders) => {
                if let Err(e) = cx.cache.set_folder_list(id, &folders) {
                    tracing::warn!(account = %id, error = %e, "could not cache the folder tree");
                }
                // Folders renamed or deleted by another client: their cached mail goes (it
                // syncs again under the new name).
                for path in cx.cache.cached_folders(id).unwrap_or_default() {
                    if !folders.iter().any(|f| f.path == path) {
                        tracing::info!(account = %id, folder = %path, "folder gone from the server");
                        self.forget_folder(cx, &path);
                    }
                }
                Ok(folders)
            }
            Err(e) if e.is_connection_problem() => match cx.cache.folder_list(id) {
                Ok(Some(folders)) => {
                    tracing::warn!(account = %id, error = %e, "server unreachable, showing the cached folder tree");
                    Ok(folders)
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Syncs the folder (queued actions first). A folder already syncing is not synced
    /// twice; if the server cannot be reached, cached rows stay and `offline` says so.
    async fn refresh(
        &self,
        cx: &Shared,
        folder: &str,
        _download: bool,
    ) -> Result<Freshness, EngineError> {
        if crate::error::lock(&self.syncing).contains(folder) {
            return Ok(Freshness::default());
        }
        match self.sync_folder(cx, folder).await {
            Ok(change) => Ok(Freshness {
                offline: false,
                change: Some(change),
            }),
            Err(e) => {
                let cached = cx
                    .cache
                    .folder_state(&FolderRef::new(&self.state.id, folder))
                    .map_err(EngineError::cache("Reading the cache"))?;
                if cached.is_none() || !e.is_connection_problem() {
                    return Err(e);
                }
                tracing::warn!(account = %self.state.id, folder, error = %e, "server unreachable, serving cached rows");
                Ok(Freshness {
                    offline: true,
                    change: None,
                })
            }
        }
    }

    /// Cached bodies first; the rest's first kilobytes in one FETCH when the server can be
    /// reached now (never a wait for a login that failed moments ago).
    async fn beginnings(&self, cx: &Shared, folder: &str, uids: &[u32]) -> Vec<(u32, Vec<u8>)> {
        let folder_ref = FolderRef::new(&self.state.id, folder);
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for &uid in uids {
            match cx.cache.body(&folder_ref, uid) {
                Ok(Some(raw)) => found.push((uid, raw)),
                _ => missing.push(uid),
            }
        }
        if missing.is_empty() {
            return found;
        }
        let name = folder.to_string();
        let fetched = self
            .with_session(cx, move |s| {
                let (name, missing) = (name.clone(), missing.clone());
                Box::pin(async move {
                    s.fetch_beginnings(&name, &missing)
                        .await
                        .map_err(EngineError::imap(format!("Fetching previews of {name}")))
                })
            })
            .await;
        match fetched {
            Ok(rows) => found.extend(rows),
            Err(e) => {
                tracing::debug!(account = %self.state.id, error = %e, "no previews from the server now")
            }
        }
        found
    }

    /// A message's raw bytes: from the cache when read before, else from the server (then
    /// cached). Does not mark it read.
    async fn raw_message(
        &self,
        cx: &Shared,
        folder: &str,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError> {
        let folder_ref = FolderRef::new(&self.state.id, folder);
        if let Some(raw) = cx
            .cache
            .body(&folder_ref, uid)
            .map_err(EngineError::cache("Reading the cache"))?
        {
            return Ok(raw);
        }
        let folder_name = folder.to_string();
        let raw = self
            .with_session(cx, move |s| {
                let folder_name = folder_name.clone();
                Box::pin(async move {
                    s.fetch_message(&folder_name, uid)
                        .await
                        .map_err(EngineError::imap(format!(
                            "Fetching message {uid} of {folder_name}"
                        )))
                })
            })
            .await?;
        if let Err(e) = cx.cache.set_body(&folder_ref, uid, &raw) {
            tracing::warn!(account = %self.state.id, folder, uid, error = %e, "could not cache a message body");
        }
        Ok(raw)
    }

    async fn act(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        action: UserAction<'_>,
    ) -> Result<ActionOutcome, EngineError> {
        self.user_action(cx, folder, uids, action).await
    }

    async fn change_folder(
        &self,
        cx: &Shared,
        edit: FolderEdit<'_>,
    ) -> Result<Vec<Folder>, EngineError> {
        self.edit_folder(cx, edit).await
    }

    async fn file_copy(
        &self,
        cx: &Shared,
        role: FolderRole,
        raw: &[u8],
        replacing: Option<&str>,
    ) -> Result<(), EngineError> {
        let (folder, flags): (String, &'static [&'static str]) = match role {
            FolderRole::Drafts => (self.drafts_folder(cx).await?, &["\\Draft", "\\Seen"]),
            FolderRole::Sent => {
                if self.state.settings().sending.server_files_sent {
                    return Ok(());
                }
                let sent = super::cached_role_folder(cx, &self.state.id, FolderRole::Sent)
                    .unwrap_or_else(|| "Sent".to_string());
                (sent, &["\\Seen"])
            }
            other => {
                let path = self.role_folder(cx, other).await?.ok_or_else(|| {
                    EngineError::InvalidInput(format!("This account has no {other:?} folder."))
                })?;
                (path, &["\\Seen"])
            }
        };
        let raw = raw.to_vec();
        let probe = replacing.map(str::to_string);
        let target = folder.clone();
        self.with_session(cx, move |s| {
            let (folder, raw, probe) = (target.clone(), raw.clone(), probe.clone());
            Box::pin(async move {
                let older = match &probe {
                    Some(mid) => s
                        .uids_with_message_id(&folder, mid)
                        .await
                        .map_err(EngineError::imap(format!("Looking in {folder}")))?,
                    None => Vec::new(),
                };
                s.append(&folder, &raw, flags)
                    .await
                    .map_err(EngineError::imap(format!("Filing the copy in {folder}")))?;
                if !older.is_empty() {
                    s.expunge_messages(&folder, &older)
                        .await
                        .map_err(EngineError::imap("Replacing the previous copy"))?;
                }
                Ok(())
            })
        })
        .await?;
        if role == FolderRole::Drafts {
            self.refresh_quietly(cx, &folder).await;
        }
        Ok(())
    }

    async fn add_message(&self, cx: &Shared, folder: &str, raw: &[u8]) -> Result<(), EngineError> {
        let (target, raw) = (folder.to_string(), raw.to_vec());
        self.with_session(cx, move |s| {
            let (folder, raw) = (target.clone(), raw.clone());
            Box::pin(async move {
                s.append(&folder, &raw, &["\\Seen"])
                    .await
                    .map_err(EngineError::imap(format!(
                        "Copying the message to {folder}"
                    )))
            })
        })
        .await?;
        self.refresh_quietly(cx, folder).await;
        Ok(())
    }

    async fn has_copy(&self, cx: &Shared, role: FolderRole, message_id: &str) -> bool {
        let Some(folder) = super::cached_role_folder(cx, &self.state.id, role) else {
            return false;
        };
        self.holds_message_id(cx, &folder, message_id).await
    }

    async fn remove_copies(
        &self,
        cx: &Shared,
        role: FolderRole,
        message_id: &str,
    ) -> Result<(), EngineError> {
        let Some(folder) = super::cached_role_folder(cx, &self.state.id, role) else {
            return Ok(());
        };
        let probe = message_id.to_string();
        let target = folder.clone();
        let removed = self
            .with_session(cx, move |s| {
                let (folder, probe) = (target.clone(), probe.clone());
                Box::pin(async move {
                    let copies = s
                        .uids_with_message_id(&folder, &probe)
                        .await
                        .map_err(EngineError::imap(format!("Looking in {folder}")))?;
                    s.expunge_messages(&folder, &copies)
                        .await
                        .map_err(EngineError::imap(format!("Removing from {folder}")))?;
                    Ok(!copies.is_empty())
                })
            })
            .await?;
        if removed {
            self.refresh_quietly(cx, &folder).await;
        }
        Ok(())
    }

    async fn mark_answered(&self, cx: &Shared, folder: &str, uid: u32) -> Result<(), EngineError> {
        let f = folder.to_string();
        self.with_session(cx, move |s| {
            let f = f.clone();
            Box::pin(async move {
                s.store_flag(&f, &[uid], "\\Answered", true)
                    .await
                    .map_err(EngineError::imap("Marking the original answered"))
            })
        })
        .await
    }

    async fn watch(&self, cx: Arc<Shared>, config: WatchConfig, stop: Arc<Notify>) {
        self.watch_idle(cx, config.poll, stop).await
    }

    fn status(&self, cx: &Shared) -> AccountStatus {
        self.state.status(cx.pending_count(&self.state.id))
    }
}
