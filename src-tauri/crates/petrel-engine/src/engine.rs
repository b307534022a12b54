//! The engine's API: what the app's commands call.

use crate::link::Link;
use crate::pending_actions::{MailAction, PendingActions};
use crate::{AccountsFile, EngineError, SecretStore};
use futures::future::BoxFuture;
use petrel_core::{
    AccountId, AccountSettings, EnvelopePage, Folder, FolderChange, MessageView, NewAccount,
};
use petrel_imap::{ImapSession, TrustPolicy};
use petrel_store::{FolderRef, MailCache};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Mutex as AsyncMutex;

/// One IMAP session per account, reused between calls and replaced when it breaks.
type SessionSlot = Arc<AsyncMutex<Option<ImapSession>>>;

pub struct Engine {
    /// This engine owns the config dir (one Petrel per config dir).
    instance: crate::instance::InstanceLock,
    config_dir: PathBuf,
    /// Private directory (0700, random name) for attachments handed to a viewer; removed
    /// with the engine.
    open_dir: std::sync::OnceLock<tempfile::TempDir>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) trust: TrustPolicy,
    pub(crate) cache: Arc<dyn MailCache>,
    accounts: Mutex<AccountsFile>,
    sessions: Mutex<HashMap<AccountId, SessionSlot>>,
    /// Folders synced since the engine started; others sync before their first page.
    pub(crate) synced: Mutex<HashSet<FolderRef>>,
    /// User actions not yet confirmed by the server, on disk.
    pub(crate) pending: PendingActions,
    /// Serialises reads and writes of the pending-actions files.
    pub(crate) queue_lock: Mutex<()>,
    /// One replay at a time per account, so actions reach the server in order.
    replays: Mutex<HashMap<AccountId, Arc<AsyncMutex<()>>>>,
    /// Connection health per account: backoff and the status shown.
    pub(crate) links: Mutex<HashMap<AccountId, Link>>,
    /// Folders being synced right now: their pages are served from the cache at once (the
    /// list fills while the sync runs) instead of waiting for the sync.
    syncing: Mutex<HashSet<FolderRef>>,
    /// Where progress events go (set by `watch`).
    events: Mutex<Option<crate::EventSink>>,
    /// Bumped on every cache change this engine makes; merged views rebuild when it moves.
    pub(crate) cache_generation: std::sync::atomic::AtomicU64,
    /// The last sorted/filtered list (folder, query, cache generation, UIDs in order).
    pub(crate) query_cache: Mutex<crate::list_query::QueryCache>,
    /// The last conversation grouping (folder, query, cache generation).
    pub(crate) thread_cache: Mutex<crate::threads::ThreadCache>,
    /// List UIDs of POP3 accounts' local folders (see `pop3_account`).
    pub(crate) local_indexes: Mutex<crate::pop3_account::LocalIndexes>,
    /// POP3 servers' LOGIN-DELAY (seconds between logins they allow), as last announced.
    pub(crate) login_delays: Mutex<HashMap<AccountId, u32>>,
    /// One outbox pass at a time per account.
    pub(crate) outbox_state: Mutex<crate::send::OutboxState>,
    /// One POP3 download (or ledger change) per account at a time.
    pub(crate) pop3_turns: Mutex<HashMap<AccountId, Arc<AsyncMutex<()>>>>,
    /// Addresses seen in mail, for completing recipients (loaded on first use).
    pub(crate) address_book: Mutex<Option<crate::address_book::AddressBook>>,
    #[allow(clippy::type_complexity)]
    pub(crate) unified_cache: Mutex<
        Option<(
            petrel_core::UnifiedView,
            u64,
            Arc<crate::unified::UnifiedIndex>,
        )>,
    >,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config_dir", &self.config_dir)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the engine over a config dir (created on first save).
    pub fn open(
        config_dir: &Path,
        secrets: Arc<dyn SecretStore>,
        trust: TrustPolicy,
        cache: Arc<dyn MailCache>,
    ) -> Result<Self, EngineError> {
        let instance = crate::instance::InstanceLock::acquire(config_dir)?;
        let accounts = AccountsFile::load(config_dir)?;
        Ok(Engine {
            instance,
            config_dir: config_dir.to_path_buf(),
            open_dir: std::sync::OnceLock::new(),
            secrets,
            trust,
            cache,
            accounts: Mutex::new(accounts),
            sessions: Mutex::new(HashMap::new()),
            synced: Mutex::new(HashSet::new()),
            pending: PendingActions::new(config_dir),
            queue_lock: Mutex::new(()),
            replays: Mutex::new(HashMap::new()),
            links: Mutex::new(HashMap::new()),
            syncing: Mutex::new(HashSet::new()),
            events: Mutex::new(None),
            cache_generation: std::sync::atomic::AtomicU64::new(0),
            unified_cache: Mutex::new(None),
            query_cache: Mutex::new(None),
            thread_cache: Mutex::new(None),
            local_indexes: Mutex::new(Default::default()),
            login_delays: Mutex::new(HashMap::new()),
            outbox_state: Mutex::new(Default::default()),
            pop3_turns: Mutex::default(),
            address_book: Mutex::new(None),
        })
    }

    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// Starts taking arguments from later launches of the app (see `instance`).
    pub fn listen_for_launches(&self) -> Result<crate::instance::HandoffListener, EngineError> {
        crate::instance::HandoffListener::open(&self.instance)
    }

    pub fn accounts(&self) -> Vec<AccountSettings> {
        self.accounts
            .lock()
            .map(|a| a.accounts.clone())
            .unwrap_or_default()
    }

    pub(crate) fn account(&self, id: &AccountId) -> Result<AccountSettings, EngineError> {
        self.accounts()
            .into_iter()
            .find(|a| &a.id == id)
            .ok_or_else(|| EngineError::NoSuchAccount(id.0.clone()))
    }

    /// Verifies the server (TLS, login, folder list), then stores the password in the
    /// keychain, then the settings on disk. Nothing is kept if any step fails.
    pub async fn add_account(&self, form: NewAccount) -> Result<AccountSettings, EngineError> {
        form.validate().map_err(EngineError::InvalidInput)?;
        let mut imap = form.imap.clone();
        imap.host = imap.host.trim().to_string();
        let id = self.new_account_id(&form.email);
        let settings = AccountSettings {
            id: id.clone(),
            display_name: form.display_name.trim().to_string(),
            email: form.email.trim().to_string(),
            imap,
            sync: Default::default(),
            protocol: form.protocol,
            pop3: form.pop3,
            smtp: form.smtp.map(|mut s| {
                s.host = s.host.trim().to_string();
                s
            }),
            sending: form.sending.clone(),
        };
        tracing::info!(account = %id, host = %settings.imap.host, port = settings.imap.port, protocol = ?settings.protocol, "verifying new account");
        let session = if settings.protocol == petrel_core::IncomingProtocol::Pop3 {
            self.verify_pop3(&settings, &form.password).await?;
            None
        } else {
            let mut session = ImapSession::login(&settings.imap, &form.password, &self.trust)
                .await
                .map_err(EngineError::imap(format!(
                    "Connecting to {}",
                    settings.imap.host
                )))?;
            session
                .list_folders()
                .await
                .map_err(EngineError::imap("Listing folders"))?;
            Some(session)
        };
        // The outgoing server too (EHLO + AUTH), before anything is saved.
        if let Some(smtp) = &settings.smtp {
            tracing::info!(account = %id, host = %smtp.host, port = smtp.port, "verifying the outgoing server");
            let session = petrel_smtp::SmtpSession::login(smtp, &form.password, &self.trust)
                .await
                .map_err(crate::send::smtp_err(format!(
                    "Checking the outgoing server {}",
                    smtp.host
                )))?;
            session.quit().await;
        }

        self.secrets.set_password(&id, &form.password)?;
        let saved = {
            let mut accounts = self.accounts.lock().map_err(|_| poisoned())?;
            let mut next = accounts.clone();
            next.version = 1;
            next.accounts.push(settings.clone());
            next.save(&self.config_dir).map(|()| *accounts = next)
        };
        if let Err(e) = saved {
            // Undo the keychain entry: half an account is worse than none.
            let _ = self.secrets.delete_password(&id);
            return Err(e);
        }
        if let Some(session) = session {
            self.slot(&id).lock().await.replace(session);
        }
        tracing::info!(account = %id, "account added");
        Ok(settings)
    }

    /// Forgets an account: its settings, keychain entry, cached mail and queued actions.
    /// Mail that exists only on this computer (a POP3 account's local folders, unsent mail
    /// in its outbox) is deleted only when `delete_local_mail`; otherwise it is kept and its
    /// directory returned, so the user can keep or import it.
    /// Logs the account's session out (its settings changed).
    pub(crate) async fn drop_session(&self, id: &AccountId) {
        let slot = self.slot(id);
        let old = slot.lock().await.take();
        if let Some(session) = old {
            session.logout().await;
        }
    }

    pub async fn remove_account(
        &self,
        id: &AccountId,
        delete_local_mail: bool,
    ) -> Result<Option<std::path::PathBuf>, EngineError> {
        let slot = self.sessions.lock().map_err(|_| poisoned())?.remove(id);
        if let Some(slot) = slot {
            if let Some(session) = slot.lock().await.take() {
                session.logout().await;
            }
        }
        {
            let mut accounts = self.accounts.lock().map_err(|_| poisoned())?;
            let mut next = accounts.clone();
            next.accounts.retain(|a| &a.id != id);
            next.save(&self.config_dir)?;
            *accounts = next;
        }
        // Its cached mail and queued actions go too; the background check forgets it.
        if let Ok(mut synced) = self.synced.lock() {
            synced.retain(|f| &f.account != id);
        }
        self.cache_changed();
        if let Err(e) = self.cache.drop_account(id) {
            tracing::warn!(account = %id, error = %e, "could not drop the account's cache");
        }
        {
            let _q = self.queue_lock.lock().map_err(|_| poisoned())?;
            self.pending.clear(id)?;
        }
        self.secrets.delete_password(id)?;
        let (root, outbox) = (
            self.local_root(id),
            self.config_dir.join("outbox").join(&id.0),
        );
        if !delete_local_mail && root.exists() && outbox.exists() {
            // Unsent mail is kept with the local mail, in the one folder the user is told
            // about (review L14: it was kept elsewhere, silently).
            let into = root.join("Unsent (outbox)");
            std::fs::rename(&outbox, &into).map_err(|source| EngineError::Storage {
                context: format!("Keeping the unsent mail in {}", into.display()),
                source,
            })?;
        }
        let local = [root, outbox];
        let mut kept = None;
        for dir in local.into_iter().filter(|d| d.exists()) {
            if delete_local_mail {
                std::fs::remove_dir_all(&dir).map_err(|source| EngineError::Storage {
                    context: format!("Deleting {}", dir.display()),
                    source,
                })?;
            } else if kept.is_none() {
                kept = Some(dir);
            }
        }
        tracing::info!(account = %id, delete_local_mail, "account removed");
        Ok(kept)
    }

    /// The folder tree from the server, remembered in the cache; the remembered one when
    /// the server cannot be reached.
    pub async fn folders(&self, id: &AccountId) -> Result<Vec<Folder>, EngineError> {
        if self.is_pop3(id) {
            return self.local_folders(id);
        }
        let listed = self
            .with_session(id, |s| {
                Box::pin(async move {
                    s.list_folders()
                        .await
                        .map_err(EngineError::imap("Listing folders"))
                })
            })
            .await;
        match listed {
            Ok(folders) => {
                if let Err(e) = self.cache.set_folder_list(id, &folders) {
                    tracing::warn!(account = %id, error = %e, "could not cache the folder tree");
                }
                // Folders renamed or deleted by another client: their cached mail goes (it
                // syncs again under the new name).
                for path in self.cache.cached_folders(id).unwrap_or_default() {
                    if !folders.iter().any(|f| f.path == path) {
                        tracing::info!(account = %id, folder = %path, "folder gone from the server");
                        self.forget_folder(&FolderRef::new(id, &path));
                    }
                }
                Ok(folders)
            }
            Err(e) if e.is_connection_problem() => match self.cache.folder_list(id) {
                Ok(Some(folders)) => {
                    tracing::warn!(account = %id, error = %e, "server unreachable, showing the cached folder tree");
                    Ok(folders)
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Rows `offset..offset+limit` of `folder`, newest first, from the cache. The folder is
    /// synced with the server first when `refresh` is set or it was not synced since start;
    /// if the server cannot be reached, cached rows are still served.
    pub async fn envelopes(
        &self,
        id: &AccountId,
        folder: &str,
        offset: u32,
        limit: u32,
        refresh: bool,
    ) -> Result<EnvelopePage, EngineError> {
        self.envelopes_with(
            id,
            folder,
            offset,
            limit,
            refresh,
            &petrel_core::ListQuery::default(),
        )
        .await
    }

    /// As [`Engine::envelopes`], in the order and with the quick filter of `query`.
    pub async fn envelopes_with(
        &self,
        id: &AccountId,
        folder: &str,
        offset: u32,
        limit: u32,
        refresh: bool,
        query: &petrel_core::ListQuery,
    ) -> Result<EnvelopePage, EngineError> {
        let folder_ref = FolderRef::new(id, folder);
        let synced = self
            .synced
            .lock()
            .map(|s| s.contains(&folder_ref))
            .unwrap_or(false);
        let mut offline = false;
        if refresh {
            self.retry_now(id);
        }
        let in_progress = self
            .syncing
            .lock()
            .map(|s| s.contains(&folder_ref))
            .unwrap_or(false);
        if self.is_pop3(id) {
            offline = self.pop3_refresh(&folder_ref, refresh || !synced).await?;
        } else if (refresh || !synced) && !in_progress {
            if let Err(e) = self.sync_folder(&folder_ref).await {
                let cached = self
                    .cache
                    .folder_state(&folder_ref)
                    .map_err(EngineError::cache("Reading the cache"))?;
                if cached.is_none() || !e.is_connection_problem() {
                    return Err(e);
                }
                tracing::warn!(account = %id, folder, error = %e, "server unreachable, serving cached rows");
                offline = true;
            }
        }
        if !query.is_default() {
            let mut page =
                self.query_page(&folder_ref, query, offset, limit.min(petrel_imap::MAX_PAGE))?;
            page.offline = offline;
            return Ok(page);
        }
        let page = self
            .cache
            .page(&folder_ref, offset, limit.min(petrel_imap::MAX_PAGE))
            .map_err(EngineError::cache(format!(
                "Reading {folder} from the cache"
            )))?;
        Ok(EnvelopePage {
            offset,
            total: page.total,
            rows: page.rows,
            offline,
        })
    }

    /// Sends the account's queued actions, then syncs one folder: the other order would
    /// briefly show the server's old state over the user's own changes.
    async fn sync_folder(&self, folder_ref: &FolderRef) -> Result<FolderChange, EngineError> {
        if let Err(e) = self.replay(&folder_ref.account).await {
            tracing::warn!(account = %folder_ref.account, error = %e, "a queued action was refused");
        }
        self.sync_folder_now(folder_ref).await
    }

    /// Unread messages in every account's INBOX, from the cache (the window title's count).
    pub fn inbox_unread_total(&self) -> u32 {
        self.accounts()
            .iter()
            .filter_map(|a| {
                self.cache
                    .folder_state(&FolderRef::new(&a.id, "INBOX"))
                    .ok()
                    .flatten()
            })
            .map(|s| s.unread)
            .sum()
    }

    /// Changes how much mail the account keeps here; its folders sync again with it.
    pub fn set_sync_options(
        &self,
        id: &AccountId,
        options: petrel_core::SyncOptions,
    ) -> Result<AccountSettings, EngineError> {
        if options.window_days == Some(0) {
            return Err(EngineError::InvalidInput(
                "A sync window needs at least one day.".into(),
            ));
        }
        let updated = self.update_account(id, |a| a.sync = options)?;
        if let Ok(mut synced) = self.synced.lock() {
            synced.retain(|f| &f.account != id);
        }
        Ok(updated)
    }

    /// Changes one account's settings and saves them (atomically).
    pub(crate) fn update_account(
        &self,
        id: &AccountId,
        change: impl FnOnce(&mut AccountSettings),
    ) -> Result<AccountSettings, EngineError> {
        let mut accounts = self.accounts.lock().map_err(|_| poisoned())?;
        let mut next = accounts.clone();
        let account = next
            .accounts
            .iter_mut()
            .find(|a| &a.id == id)
            .ok_or_else(|| EngineError::NoSuchAccount(id.0.clone()))?;
        change(account);
        let updated = account.clone();
        next.save(&self.config_dir)?;
        *accounts = next;
        Ok(updated)
    }

    /// Changes a POP3 account's policies; the next check follows them.
    pub fn set_pop3_options(
        &self,
        id: &AccountId,
        options: petrel_core::Pop3Options,
    ) -> Result<AccountSettings, EngineError> {
        if options.leave_on_server == petrel_core::LeaveOnServer::Days && options.leave_days == 0 {
            return Err(EngineError::InvalidInput(
                "Keep mail on the server for at least one day, or choose not to keep it.".into(),
            ));
        }
        if options.check_minutes == 0 {
            return Err(EngineError::InvalidInput(
                "Check for new mail at least every few minutes.".into(),
            ));
        }
        self.update_account(id, |a| a.pop3 = options)
    }

    /// Sends engine events to `sink` (progress of syncs; the watcher's events).
    pub fn set_event_sink(&self, sink: crate::EventSink) {
        if let Ok(mut events) = self.events.lock() {
            *events = Some(sink);
        }
    }

    /// Syncs one folder with the server and remembers it as synced this session.
    pub(crate) async fn sync_folder_now(
        &self,
        folder_ref: &FolderRef,
    ) -> Result<FolderChange, EngineError> {
        let sink = self.events.lock().ok().and_then(|e| e.clone());
        let window_days = self.account(&folder_ref.account)?.sync.window_days;
        if let Ok(mut s) = self.syncing.lock() {
            s.insert(folder_ref.clone());
        }
        let report = self
            .with_session(&folder_ref.account, |s| {
                let cache = self.cache.clone();
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
        if let Ok(mut s) = self.syncing.lock() {
            s.remove(folder_ref);
        }
        self.cache_changed();
        let report = report?;
        tracing::info!(account = %folder_ref.account, folder = %folder_ref.path, ?report, "folder synced");
        if let Ok(mut s) = self.synced.lock() {
            s.insert(folder_ref.clone());
        }
        let state = self
            .cache
            .folder_state(folder_ref)
            .map_err(EngineError::cache("Reading the cache"))?
            .unwrap_or_default();
        Ok(FolderChange {
            account: folder_ref.account.clone(),
            folder: folder_ref.path.clone(),
            total: state.total,
            unread: state.unread,
            added: report.added as u32,
            removed: report.removed as u32,
            flags_changed: report.flags_changed as u32,
        })
    }

    /// Re-syncs every folder opened since start (the background check for new mail) and
    /// returns those that changed. Errors are logged; one account's outage does not stop
    /// the others.
    pub async fn check_for_changes(&self) -> Vec<FolderChange> {
        let mut changed = Vec::new();
        for account in self.accounts() {
            if account.protocol == petrel_core::IncomingProtocol::Pop3 {
                if let Ok(Some(change)) = self.pop3_check(&account.id).await {
                    changed.push(change);
                }
                continue;
            }
            changed.extend(self.check_account(&account.id, None).await);
        }
        changed
    }

    /// Re-syncs the account's folders opened since start, plus `also` (INBOX for the
    /// watcher), and returns those that changed.
    pub async fn check_account(&self, id: &AccountId, also: Option<&str>) -> Vec<FolderChange> {
        let mut folders: Vec<FolderRef> = self
            .synced
            .lock()
            .map(|s| s.iter().filter(|f| &f.account == id).cloned().collect())
            .unwrap_or_default();
        if let Some(extra) = also {
            let extra = FolderRef::new(id, extra);
            if !folders.contains(&extra) {
                folders.insert(0, extra);
            }
        }
        let mut changed = Vec::new();
        for folder_ref in folders {
            match self.sync_folder(&folder_ref).await {
                Ok(change) if change.added + change.removed + change.flags_changed > 0 => {
                    changed.push(change)
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(account = %folder_ref.account, folder = %folder_ref.path, error = %e, "background check failed");
                    if e.is_connection_problem() {
                        break;
                    }
                }
            }
        }
        changed
    }

    /// A message for the reader: from the cache when its body was read before (so it opens
    /// offline), else from the server, then cached. Opening marks it read.
    pub async fn message(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<MessageView, EngineError> {
        self.message_with(id, folder, uid, true).await
    }

    /// As [`Engine::message`]; `mark_read` false leaves the read state alone (the reader
    /// marks it after a delay, or the user does).
    pub async fn message_with(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
        mark_read: bool,
    ) -> Result<MessageView, EngineError> {
        let folder_ref = FolderRef::new(id, folder);
        let raw = self.raw_message(id, folder, uid).await?;
        if self.is_pop3(id) {
            if mark_read {
                self.set_local_flags(&folder_ref, uid, Some(true), None)?;
            }
            let mut view = petrel_render::message_view(uid, &raw);
            view.partial = petrel_pop3::ledger::parse_stamp(&raw).is_some_and(|s| s.partial);
            self.remember_seen(&view);
            return Ok(view);
        }
        let unread = self
            .cache
            .envelope(&folder_ref, uid)
            .ok()
            .flatten()
            .is_some_and(|row| !row.seen);
        if unread && mark_read {
            let mark = MailAction::SetFlags {
                folder: folder.to_string(),
                uids: vec![uid],
                seen: Some(true),
                flagged: None,
            };
            if let Err(e) = self.perform(id, mark).await {
                tracing::warn!(account = %id, folder, uid, error = %e, "could not mark a message read");
            }
        }
        let view = petrel_render::message_view(uid, &raw);
        self.remember_seen(&view);
        Ok(view)
    }

    /// Paths of the account's folders synced since start.
    pub(crate) fn synced_folders(&self, id: &AccountId) -> Vec<String> {
        self.synced
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|f| &f.account == id)
                    .map(|f| f.path.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A message's raw bytes: from the cache when read before, else from the server (then
    /// cached). Does not mark it read.
    pub async fn raw_message(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError> {
        let folder_ref = FolderRef::new(id, folder);
        if self.is_pop3(id) {
            return self.local_message(&folder_ref, uid).await;
        }
        if let Some(raw) = self
            .cache
            .body(&folder_ref, uid)
            .map_err(EngineError::cache("Reading the cache"))?
        {
            return Ok(raw);
        }
        let folder_name = folder.to_string();
        let raw = self
            .with_session(id, move |s| {
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
        if let Err(e) = self.cache.set_body(&folder_ref, uid, &raw) {
            tracing::warn!(account = %id, folder, uid, error = %e, "could not cache a message body");
        }
        Ok(raw)
    }

    /// File name and decoded bytes of attachment `index` of a message.
    pub async fn attachment(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
        index: u32,
    ) -> Result<(String, Vec<u8>), EngineError> {
        let raw = self.raw_message(id, folder, uid).await?;
        petrel_render::attachment(&raw, index).ok_or_else(|| {
            EngineError::InvalidInput("That attachment is not part of the message.".into())
        })
    }

    /// The private directory for attachments handed to a viewer (made on first use).
    pub(crate) fn open_dir(&self) -> Result<PathBuf, EngineError> {
        if let Some(dir) = self.open_dir.get() {
            return Ok(dir.path().to_path_buf());
        }
        // 0700 with a random name: no other user can read or swap a file between writing
        // and opening.
        let mut builder = tempfile::Builder::new();
        builder.prefix("petrel-open-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir().map_err(|source| EngineError::Storage {
            context: "Making a private folder for opened attachments".into(),
            source,
        })?;
        let _ = self.open_dir.set(dir);
        self.open_dir
            .get()
            .map(|d| d.path().to_path_buf())
            .ok_or_else(|| EngineError::InvalidInput("no private folder".into()))
    }

    pub(crate) fn forget_synced(&self, folder: &FolderRef) {
        if let Ok(mut synced) = self.synced.lock() {
            synced.remove(folder);
        }
    }

    pub(crate) fn replay_slot(&self, id: &AccountId) -> Arc<AsyncMutex<()>> {
        match self.replays.lock() {
            Ok(mut map) => map.entry(id.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// Runs `op` on the account's session, logging in when there is none and trying once
    /// more on a fresh connection when the old one turned out to be dead.
    pub(crate) async fn with_session<T, F>(
        &self,
        id: &AccountId,
        mut op: F,
    ) -> Result<T, EngineError>
    where
        F: for<'s> FnMut(&'s mut ImapSession) -> BoxFuture<'s, Result<T, EngineError>>,
    {
        let account = self.account(id)?;
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reused = guard.is_some();
            let mut session = match guard.take() {
                Some(s) => s,
                None => self.login(id, &account).await?,
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
                        self.connection_lost(id, &err);
                        return Err(err);
                    }
                    tracing::info!(account = %id, "session was dead, reconnecting");
                }
            }
        }
    }

    /// Logs in unless a recent failure says to wait; records the outcome for the status.
    pub(crate) async fn login(
        &self,
        id: &AccountId,
        account: &AccountSettings,
    ) -> Result<ImapSession, EngineError> {
        let now = std::time::Instant::now();
        if let Some(link) = self.links.lock().ok().and_then(|l| l.get(id).cloned()) {
            if let Some(wait) = link.wait_left(now) {
                return Err(EngineError::NotNow {
                    state: link.state,
                    message: link.message.unwrap_or_default(),
                    retry_in_seconds: wait.as_secs().max(1) as u32,
                });
            }
        }
        let password = self.secrets.password(id)?;
        let result = ImapSession::login(&account.imap, &password, &self.trust)
            .await
            .map_err(EngineError::imap(format!(
                "Connecting to {}",
                account.imap.host
            )));
        if let Ok(mut links) = self.links.lock() {
            let link = links.entry(id.clone()).or_default();
            match &result {
                Ok(_) => link.succeeded(),
                Err(e) => link.failed(e, now),
            }
        }
        result
    }

    /// The user asked to try now: forget the backoff (the next call logs in at once).
    pub fn retry_now(&self, id: &AccountId) {
        if let Ok(mut links) = self.links.lock() {
            if let Some(link) = links.get_mut(id) {
                link.retry_now();
            }
        }
    }

    /// The account's connection status and pending work, for the UI.
    pub fn account_status(&self, id: &AccountId) -> petrel_core::AccountStatus {
        let link = self
            .links
            .lock()
            .ok()
            .and_then(|l| l.get(id).cloned())
            .unwrap_or_default();
        let now = std::time::Instant::now();
        petrel_core::AccountStatus {
            account: id.clone(),
            state: link.state,
            message: link.message.clone(),
            retry_in_seconds: link.wait_left(now).map(|d| d.as_secs().max(1) as u32),
            pending_actions: self.pending_actions(id),
        }
    }

    /// Records that a working session broke (the server went away mid-command).
    pub(crate) fn connection_lost(&self, id: &AccountId, error: &EngineError) {
        if let Ok(mut links) = self.links.lock() {
            links
                .entry(id.clone())
                .or_default()
                .failed(error, std::time::Instant::now());
        }
    }

    fn slot(&self, id: &AccountId) -> SessionSlot {
        match self.sessions.lock() {
            Ok(mut map) => map.entry(id.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    fn new_account_id(&self, email: &str) -> AccountId {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let local: String = email
            .split('@')
            .next()
            .unwrap_or("account")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(16)
            .collect();
        let existing = self.accounts();
        let mut n = nanos;
        loop {
            let id = AccountId(format!("{local}-{n:x}"));
            if !existing.iter().any(|a| a.id == id) {
                return id;
            }
            n += 1;
        }
    }
}

pub(crate) fn poisoned() -> EngineError {
    EngineError::Storage {
        context: "Account list".into(),
        source: std::io::Error::other("lock poisoned"),
    }
}
