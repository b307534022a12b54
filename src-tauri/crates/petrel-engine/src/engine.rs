//! The engine's API: what the app's commands call. Each verb finds the account object in
//! the registry and asks it (`account/`); views read the cache (`views/`).

use crate::account::{Account, Credential, Deletion, FolderEdit, Incoming, UserAction};
use crate::address_book::Addresses;
use crate::error::lock;
use crate::shared::Shared;
use crate::views::{ThreadIndex, Views};
use crate::{AccountsFile, EngineError, SecretStore};
use petrel_core::{
    AccountId, AccountSettings, ActionOutcome, ConversationSpot, EnvelopePage, Folder,
    FolderChange, FolderRole, ListQuery, MessageView, NewAccount, OAuthProvider, RowExtra,
    ServerSettings, SignIn, SignedIn, ThreadPage,
};
use petrel_imap::TrustPolicy;
use petrel_store::{FolderRef, MailCache};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// How much of a message "View source" shows (bytes): a page of text a reader can scroll;
/// attachments beyond it are in "Save as .eml".
pub const SOURCE_SHOWN: usize = 1 << 20;

pub struct Engine {
    /// This engine owns the config dir (one Petrel per config dir).
    instance: crate::instance::InstanceLock,
    /// Private directory (0700, random name) for attachments handed to a viewer; removed
    /// with the engine.
    open_dir: std::sync::OnceLock<tempfile::TempDir>,
    pub(crate) shared: Arc<Shared>,
    /// The account registry, in the order the user added them: the only per-account state
    /// the engine itself holds (everything else lives in the account objects).
    accounts: RwLock<Vec<Arc<Account>>>,
    /// Serialises changes of the accounts file.
    accounts_file: Mutex<()>,
    /// What the views keep between pages (orders, groupings, merges).
    views: Views,
    /// Addresses seen in mail, for completing recipients.
    addresses: std::sync::Arc<Addresses>,
    /// Finished OAuth2 sign-ins waiting for their account, by ticket (tokens stay here).
    sign_ins: Mutex<std::collections::HashMap<String, petrel_oauth::Tokens>>,
    /// The full-text index and its follower's state.
    pub(crate) search: crate::search_index::Search,
    /// Row extras made this run (see [`Engine::row_extras`]).
    row_extras: Mutex<RowExtras>,
}

/// Row extras by (account, folder, UID, size): a list scrolled back and forth asks the
/// server once. The size tells a reused UID apart (a folder recreated under one name).
type RowExtras = std::collections::HashMap<(AccountId, String, u32, u64), RowExtra>;

/// Row extras remembered at most; past that the memory starts again (a few MB at most).
const ROW_EXTRAS_KEPT: usize = 20_000;

/// Most rows one call reads: a page of the list.
pub const ROW_EXTRAS_AT_ONCE: usize = 200;

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config_dir", &self.shared.config_dir)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the engine over a config dir (created on first save), on the system clock.
    pub fn open(
        config_dir: &Path,
        secrets: Arc<dyn SecretStore>,
        trust: TrustPolicy,
        cache: Arc<dyn MailCache>,
    ) -> Result<Self, EngineError> {
        Self::open_with_clock(
            config_dir,
            secrets,
            trust,
            cache,
            crate::shared::system_clock(),
        )
    }

    /// As [`Engine::open`], reading the time from `clock`.
    pub fn open_with_clock(
        config_dir: &Path,
        secrets: Arc<dyn SecretStore>,
        trust: TrustPolicy,
        cache: Arc<dyn MailCache>,
        clock: crate::Clock,
    ) -> Result<Self, EngineError> {
        let instance = crate::instance::InstanceLock::acquire(config_dir)?;
        let saved = AccountsFile::load(config_dir)?;
        Ok(Engine {
            instance,
            open_dir: std::sync::OnceLock::new(),
            shared: Arc::new(Shared::new(
                config_dir.to_path_buf(),
                secrets,
                trust,
                cache,
                clock,
            )),
            accounts: RwLock::new(
                saved
                    .accounts
                    .into_iter()
                    .map(|a| Arc::new(Account::new(a)))
                    .collect(),
            ),
            accounts_file: Mutex::new(()),
            views: Views::default(),
            addresses: Addresses::new(config_dir),
            sign_ins: Mutex::default(),
            search: crate::search_index::Search::new(&config_dir.join("search-index")),
            row_extras: Mutex::default(),
        })
    }

    pub fn config_dir(&self) -> &Path {
        &self.shared.config_dir
    }

    /// Starts taking arguments from later launches of the app (see `instance`).
    pub fn listen_for_launches(&self) -> Result<crate::instance::HandoffListener, EngineError> {
        crate::instance::HandoffListener::open(&self.instance)
    }

    pub(crate) fn registry(&self) -> Vec<Arc<Account>> {
        self.accounts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn accounts(&self) -> Vec<AccountSettings> {
        self.registry().iter().map(|a| a.settings()).collect()
    }

    /// The account object of `id`.
    pub(crate) fn get(&self, id: &AccountId) -> Result<Arc<Account>, EngineError> {
        self.registry()
            .into_iter()
            .find(|a| &a.state().id == id)
            .ok_or_else(|| EngineError::NoSuchAccount(id.0.clone()))
    }

    pub(crate) fn account(&self, id: &AccountId) -> Result<AccountSettings, EngineError> {
        Ok(self.get(id)?.settings())
    }

    /// Saves the accounts file as `change` leaves the registry: on disk first, then in
    /// memory, so a failed save changes nothing.
    fn save_registry(
        &self,
        change: impl FnOnce(&mut Vec<Arc<Account>>) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        let _file = lock(&self.accounts_file);
        let mut next = self.registry();
        change(&mut next)?;
        let file = AccountsFile {
            version: 1,
            accounts: next.iter().map(|a| a.settings()).collect(),
        };
        file.save(&self.shared.config_dir)?;
        *self
            .accounts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        Ok(())
    }

    /// Verifies the server (TLS, login, folder list), then stores the password in the
    /// keychain, then the settings on disk. Nothing is kept if any step fails.
    pub async fn add_account(&self, form: NewAccount) -> Result<AccountSettings, EngineError> {
        form.validate().map_err(EngineError::InvalidInput)?;
        // OAuth2: the tokens of the sign-in the ticket names (taken only once it all worked).
        let signed_in = match (&form.sign_in, &form.sign_in_ticket) {
            (SignIn::OAuth2 { .. }, Some(ticket)) => Some(self.ticketed(ticket)?),
            _ => None,
        };
        let credential = match &signed_in {
            Some(tokens) => Credential::Bearer(tokens.access.clone()),
            None => Credential::Password(form.password.clone()),
        };
        // Host names are stored as A-labels: DNS, TLS and the certificate check use them.
        let imap = form.imap.clone().normalized();
        let id = self.new_account_id(&form.email);
        let settings = AccountSettings {
            id: id.clone(),
            display_name: form.display_name.trim().to_string(),
            email: form.email.trim().to_string(),
            imap,
            sync: Default::default(),
            protocol: form.protocol,
            pop3: form.pop3,
            smtp: form.smtp.map(ServerSettings::normalized),
            sending: form.sending.clone(),
            sign_in: form.sign_in.clone(),
        };
        tracing::info!(account = %id, host = %settings.imap.host, port = settings.imap.port, protocol = ?settings.protocol, "verifying new account");
        let session = Account::verify(&self.shared, &settings, &credential).await?;
        // The outgoing server too (EHLO + AUTH), before anything is saved.
        if let Some(smtp) = &settings.smtp {
            tracing::info!(account = %id, host = %smtp.host, port = smtp.port, "verifying the outgoing server");
            let session =
                petrel_smtp::SmtpSession::login_with(smtp, credential.smtp(), &self.shared.trust)
                    .await
                    .map_err(EngineError::smtp(format!(
                        "Checking the outgoing server {}",
                        smtp.host
                    )))?;
            session.quit().await;
        }

        match &signed_in {
            Some(tokens) => {
                self.shared
                    .secrets
                    .set_refresh_token(&id, refresh_of(tokens)?)?;
            }
            None => self.shared.secrets.set_password(&id, &form.password)?,
        }
        let account = Arc::new(Account::new(settings.clone()));
        let saved = self.save_registry(|list| {
            list.push(account.clone());
            Ok(())
        });
        if let Err(e) = saved {
            // Undo the keychain entry: half an account is worse than none.
            let _ = self.shared.secrets.delete_password(&id);
            let _ = self.shared.secrets.delete_refresh_token(&id);
            return Err(e);
        }
        if let (Some(tokens), Some(ticket)) = (signed_in, &form.sign_in_ticket) {
            lock(&self.sign_ins).remove(ticket);
            account.state().signed_in(tokens);
        }
        account.adopt(session).await;
        tracing::info!(account = %id, "account added");
        Ok(settings)
    }

    /// Logs the account's session out (its settings changed).
    pub(crate) async fn drop_session(&self, id: &AccountId) {
        if let Ok(account) = self.get(id) {
            account.close().await;
        }
    }

    /// Forgets an account: its settings, keychain entry, cached mail and queued actions,
    /// its session, connection status, locks and indexes (the account object goes).
    /// Mail that exists only on this computer (a POP3 account's local folders, unsent mail
    /// in its outbox) is deleted only when `delete_local_mail`; otherwise it is kept and its
    /// directory returned, so the user can keep or import it.
    pub async fn remove_account(
        &self,
        id: &AccountId,
        delete_local_mail: bool,
    ) -> Result<Option<PathBuf>, EngineError> {
        let account = self.get(id)?;
        self.save_registry(|list| {
            list.retain(|a| &a.state().id != id);
            Ok(())
        })?;
        account.close().await;
        drop(account);
        let cx = &self.shared;
        // Its cached mail and queued actions go too; the background check forgets it.
        cx.cache_changed();
        if let Err(e) = cx.cache.drop_account(id) {
            tracing::warn!(account = %id, error = %e, "could not drop the account's cache");
        }
        {
            let _q = lock(&cx.queue_lock);
            cx.pending.clear(id)?;
        }
        cx.secrets.delete_password(id)?;
        cx.secrets.delete_refresh_token(id)?;
        let (root, outbox) = (cx.local_root(id), cx.outbox_dir(id));
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

    /// The folder tree: the server's (remembered in the cache; the remembered one when the
    /// server cannot be reached), or a POP3 account's local folders.
    pub async fn folders(&self, id: &AccountId) -> Result<Vec<Folder>, EngineError> {
        self.get(id)?.folders(&self.shared).await
    }

    /// Brings one folder up to date with the server (IMAP: queued actions, then a sync;
    /// POP3: a download into INBOX) and says what changed. The server out of reach with
    /// the folder in the cache is not an error: `offline` in the answer says so.
    ///
    /// `force` false is the first-open rule: only a folder not refreshed since the engine
    /// started is, within the account's backoff. `force` true is the user's "Get mail":
    /// the backoff is forgotten and the folder refreshed now.
    pub async fn refresh_folder(
        &self,
        id: &AccountId,
        folder: &str,
        force: bool,
    ) -> Result<petrel_core::FolderRefresh, EngineError> {
        let account = self.get(id)?;
        let fresh = if force {
            account.state().retry_now();
            account.refresh(&self.shared, folder, true).await?
        } else if !account.state().is_synced(folder) {
            account.refresh(&self.shared, folder, true).await?
        } else {
            crate::account::Freshness::default()
        };
        let change = match fresh.change {
            Some(change) => change,
            None => self.shared.cached_change(&FolderRef::new(id, folder))?,
        };
        Ok(petrel_core::FolderRefresh {
            change,
            offline: fresh.offline,
        })
    }

    /// Rows `offset..offset+limit` of `folder`, newest first, from the cache only: a page
    /// never talks to the server (see [`Engine::refresh_folder`]). A POP3 folder is
    /// indexed from its Maildir first (local files, no server).
    pub async fn page(
        &self,
        id: &AccountId,
        folder: &str,
        offset: u32,
        limit: u32,
        query: &ListQuery,
    ) -> Result<EnvelopePage, EngineError> {
        let account = self.get(id)?;
        if account.is_local() {
            // Files another program (or a download) added since are listed.
            account.refresh(&self.shared, folder, false).await?;
        }
        let folder_ref = FolderRef::new(id, folder);
        let limit = limit.min(petrel_imap::MAX_PAGE);
        if !query.is_default() {
            return self
                .views
                .query_page(&self.shared, &folder_ref, query, offset, limit);
        }
        let page =
            self.shared
                .cache
                .page(&folder_ref, offset, limit)
                .map_err(EngineError::cache(format!(
                    "Reading {folder} from the cache"
                )))?;
        Ok(EnvelopePage {
            offset,
            total: page.total,
            rows: page.rows,
            offline: false,
        })
    }

    /// A folder refreshed when `refresh` is set or it was not refreshed since start, then
    /// one page of it: the two verbs above in the order a first open needs. If the server
    /// cannot be reached, cached rows are still served, marked `offline`.
    pub async fn envelopes(
        &self,
        id: &AccountId,
        folder: &str,
        offset: u32,
        limit: u32,
        refresh: bool,
    ) -> Result<EnvelopePage, EngineError> {
        self.envelopes_with(id, folder, offset, limit, refresh, &ListQuery::default())
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
        query: &ListQuery,
    ) -> Result<EnvelopePage, EngineError> {
        let stale = refresh || !self.get(id)?.state().is_synced(folder);
        let offline = stale && self.refresh_folder(id, folder, refresh).await?.offline;
        let mut page = self.page(id, folder, offset, limit, query).await?;
        page.offline = offline;
        Ok(page)
    }

    /// Rows `offset..offset+limit` of `folder` as conversations, newest conversation first
    /// (or in `query`'s order and filter); `expanded` names the conversations shown open.
    #[allow(clippy::too_many_arguments)]
    pub async fn threads(
        &self,
        id: &AccountId,
        folder: &str,
        offset: u32,
        limit: u32,
        refresh: bool,
        query: &ListQuery,
        expanded: &[String],
    ) -> Result<ThreadPage, EngineError> {
        let (index, offline) = self.thread_index(id, folder, refresh, query).await?;
        let mut page = self.views.thread_page(
            &self.shared,
            &index,
            offset,
            limit.min(petrel_imap::MAX_PAGE),
            expanded,
        )?;
        page.offline = offline;
        Ok(page)
    }

    /// Where message `uid` of `folder` sits in the folder's conversation view (newest
    /// conversation first, no filter): its conversation, and its row once that
    /// conversation is open — how a search result is shown in its conversation. `None`
    /// when the message is no longer there.
    pub async fn conversation_of(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<Option<ConversationSpot>, EngineError> {
        let (index, _) = self
            .thread_index(id, folder, false, &ListQuery::default())
            .await?;
        Ok(index.spot(folder, uid))
    }

    /// The grouping of `folder` (with the user's replies from Sent), brought up to date
    /// as its list would be; `true` when the server could not be reached.
    async fn thread_index(
        &self,
        id: &AccountId,
        folder: &str,
        refresh: bool,
        query: &ListQuery,
    ) -> Result<(Arc<ThreadIndex>, bool), EngineError> {
        // Syncs the folder as its plain list would (and serves the cache when offline).
        let offline = self
            .envelopes_with(id, folder, 0, 0, refresh, &ListQuery::default())
            .await?
            .offline;
        let main = FolderRef::new(id, folder);
        let sent = crate::account::cached_role_folder(&self.shared, id, FolderRole::Sent)
            .filter(|s| s != folder)
            .map(|path| FolderRef::new(id, &path));
        let account = self.get(id)?;
        let remote = !offline && !account.is_local();
        if let Some(sent) = &sent {
            if remote {
                // Own replies: Sent must be in the cache too. Not reaching it only leaves
                // them out.
                if let Err(e) = self
                    .envelopes_with(id, &sent.path, 0, 0, false, &ListQuery::default())
                    .await
                {
                    tracing::warn!(account = %id, error = %e, "Sent not synced for conversations");
                }
            }
        }
        let mut folders = vec![main.clone()];
        folders.extend(sent);
        if remote {
            for f in &folders {
                if let Err(e) = account.fetch_missing_links(&self.shared, &f.path).await {
                    // Messages without links show as conversations of their own.
                    tracing::warn!(account = %id, folder = %f.path, error = %e, "threading headers not fetched");
                }
            }
        }
        let index = self.views.thread_index(&self.shared, folders, query)?;
        Ok((index, offline))
    }

    /// Rows of a view across accounts (All Inboxes, Unread, Flagged), by position like a
    /// folder's, from the cache.
    pub async fn unified(
        &self,
        view: petrel_core::UnifiedView,
        offset: u32,
        limit: u32,
    ) -> Result<petrel_core::UnifiedPage, EngineError> {
        let accounts: Vec<AccountId> = self
            .registry()
            .iter()
            .map(|a| a.state().id.clone())
            .collect();
        self.views
            .unified(&self.shared, &accounts, view, offset, limit)
    }

    /// The recipients of a message sent from here, for completing addresses later.
    pub(crate) fn remember_addresses(&self, msg: &petrel_core::Composition) {
        self.addresses.remember_sent(msg, self.shared.unix_now());
    }

    /// Addresses whose address or name starts with `query`, most used first.
    pub fn address_suggestions(
        &self,
        query: &str,
        limit: u32,
    ) -> Vec<petrel_core::AddressSuggestion> {
        self.addresses.suggestions(query, limit)
    }

    /// Unread messages in every account's INBOX, from the cache (the window title's count).
    pub fn inbox_unread_total(&self) -> u32 {
        self.registry()
            .iter()
            .filter_map(|a| {
                self.shared
                    .cache
                    .folder_state(&FolderRef::new(&a.state().id, "INBOX"))
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
        self.get(id)?.state().forget_all_synced();
        Ok(updated)
    }

    /// Changes one account's settings and saves them (atomically).
    pub(crate) fn update_account(
        &self,
        id: &AccountId,
        change: impl FnOnce(&mut AccountSettings),
    ) -> Result<AccountSettings, EngineError> {
        let account = self.get(id)?;
        let before = account.settings();
        let mut updated = before.clone();
        change(&mut updated);
        // The file is written from the accounts' settings: set, save, and put the old ones
        // back if the save failed (the file still holds them).
        account.state().set_settings(updated.clone());
        if let Err(e) = self.save_registry(|_| Ok(())) {
            account.state().set_settings(before);
            return Err(e);
        }
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
        self.shared.set_sink(sink);
    }

    /// Re-syncs every folder opened since start (the background check for new mail) and
    /// returns those that changed. Errors are logged; one account's outage does not stop
    /// the others.
    pub async fn check_for_changes(&self) -> Vec<FolderChange> {
        let mut changed = Vec::new();
        for account in self.registry() {
            changed.extend(account.check(&self.shared, None).await);
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
        let account = self.get(id)?;
        let raw = account.raw_message(&self.shared, folder, uid).await?;
        let unread = self
            .shared
            .cache
            .envelope(&FolderRef::new(id, folder), uid)
            .ok()
            .flatten()
            .is_some_and(|row| !row.seen);
        if mark_read && unread {
            account.mark_read(&self.shared, folder, uid).await;
        }
        let mut view = petrel_render::message_view(uid, &raw);
        view.partial = account.is_partial(&raw);
        // One date rule for list and reader: no Date of its own → when it arrived (the
        // row's date), said so.
        if view.date.is_none() {
            let row = self
                .shared
                .cache
                .envelope(&FolderRef::new(id, folder), uid)
                .ok()
                .flatten();
            if let Some(date) = row.and_then(|r| r.date) {
                (view.date, view.date_is_arrival) = (Some(date), true);
            }
        }
        self.addresses.remember_seen(&view, self.shared.unix_now());
        Ok(view)
    }

    /// A message's raw bytes: from the cache when read before, else from the server (then
    /// cached), or the local file. Does not mark it read.
    pub async fn raw_message(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError> {
        self.get(id)?.raw_message(&self.shared, folder, uid).await
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

    /// A message as an `.eml` file: a file name from its subject, and its bytes (without
    /// Petrel's download stamp).
    pub async fn export_message(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<(String, Vec<u8>), EngineError> {
        let raw = self.raw_message(id, folder, uid).await?;
        let subject = petrel_render::list_headers(&raw).subject;
        let stem = if subject.trim().is_empty() {
            "message".to_string()
        } else {
            subject.chars().take(80).collect()
        };
        Ok((
            petrel_render::safe_file_name(&format!("{stem}.eml")),
            petrel_pop3::ledger::without_stamp(&raw).to_vec(),
        ))
    }

    /// What each of `uids` in `folder` shows in the list beyond its cached row — the
    /// preview line (the sender's first words), the recipients, whether it has a Date —
    /// read from cached or local bodies, else the first kilobytes from the server (when it
    /// can be reached now). Rows not in the folder, or not to be had now, are left out.
    pub async fn row_extras(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
    ) -> Result<Vec<RowExtra>, EngineError> {
        let account = self.get(id)?;
        let folder_ref = petrel_store::FolderRef::new(id, folder);
        let mut sizes = std::collections::HashMap::new();
        for &uid in uids.iter().take(ROW_EXTRAS_AT_ONCE) {
            // A row not (or no longer) in the cache is not asked for.
            if let Ok(Some(row)) = self.shared.cache.envelope(&folder_ref, uid) {
                sizes.insert(uid, row.size);
            }
        }
        let key = |uid: u32, size: u64| (id.clone(), folder.to_string(), uid, size);
        let mut out = Vec::new();
        let mut wanted = Vec::new();
        {
            let known = lock(&self.row_extras);
            for (&uid, &size) in &sizes {
                match known.get(&key(uid, size)) {
                    Some(extra) => out.push(extra.clone()),
                    None => wanted.push(uid),
                }
            }
        }
        wanted.sort_unstable();
        let made: Vec<RowExtra> = account
            .beginnings(&self.shared, folder, &wanted)
            .await
            .into_iter()
            .map(|(uid, raw)| petrel_render::row_extra(uid, &raw))
            .collect();
        let mut known = lock(&self.row_extras);
        if known.len() + made.len() > ROW_EXTRAS_KEPT {
            known.clear();
        }
        for extra in &made {
            if let Some(&size) = sizes.get(&extra.uid) {
                known.insert(key(extra.uid, size), extra.clone());
            }
        }
        out.extend(made);
        Ok(out)
    }

    /// A message's source for "View source": its bytes as text (UTF-8 where they are, a
    /// replacement mark where not), the first [`SOURCE_SHOWN`] bytes of it, and its whole
    /// size (the rest is in "Save as .eml").
    pub async fn message_source(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<(String, u64), EngineError> {
        let raw = self.raw_message(id, folder, uid).await?;
        let raw = petrel_pop3::ledger::without_stamp(&raw);
        let shown = &raw[..raw.len().min(SOURCE_SHOWN)];
        Ok((
            String::from_utf8_lossy(shown).into_owned(),
            raw.len() as u64,
        ))
    }

    /// Copies a local folder's messages into a Maildir at `dest` (for another program),
    /// without Petrel's download stamps. Returns how many.
    pub fn export_folder(
        &self,
        id: &AccountId,
        folder: &str,
        dest: &Path,
    ) -> Result<u32, EngineError> {
        self.get(id)?.export_folder(&self.shared, folder, dest)
    }

    /// Downloads the bodies of every cached message of `folder` that has none yet, newest
    /// first; `progress(done, total)` after each batch. Returns how many were stored.
    pub async fn download_bodies(
        &self,
        id: &AccountId,
        folder: &str,
        progress: impl FnMut(usize, usize),
    ) -> Result<usize, EngineError> {
        self.get(id)?
            .download_bodies(&self.shared, folder, progress)
            .await
    }

    /// For accounts set to keep mail offline: downloads what is missing in INBOX and the
    /// folders opened since start. Returns how many messages were stored.
    pub async fn download_for_offline(&self, id: &AccountId) -> Result<usize, EngineError> {
        self.get(id)?.download_for_offline(&self.shared).await
    }

    /// Sends the account's queued actions in order (see the IMAP account's `replay`).
    pub async fn replay(&self, id: &AccountId) -> Result<(), EngineError> {
        self.get(id)?.replay(&self.shared).await
    }

    /// Actions of the account still waiting for the server.
    pub fn pending_actions(&self, id: &AccountId) -> u32 {
        self.shared.pending_count(id)
    }

    /// The user asked to try now: forget the backoff (the next call logs in at once).
    pub fn retry_now(&self, id: &AccountId) {
        if let Ok(account) = self.get(id) {
            account.state().retry_now();
        }
    }

    /// The account's connection status and pending work, for the UI.
    pub fn account_status(&self, id: &AccountId) -> petrel_core::AccountStatus {
        match self.get(id) {
            Ok(account) => account.status(&self.shared),
            Err(_) => petrel_core::AccountStatus {
                account: id.clone(),
                state: petrel_core::ConnectionState::Unknown,
                message: None,
                retry_in_seconds: None,
                pending_actions: 0,
            },
        }
    }

    /// Marks messages read/unread and/or flagged/unflagged.
    pub async fn set_flags(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        seen: Option<bool>,
        flagged: Option<bool>,
    ) -> Result<ActionOutcome, EngineError> {
        let action = UserAction::Flags { seen, flagged };
        self.get(id)?.act(&self.shared, folder, uids, action).await
    }

    /// "Mark all read" (a folder's menu): every unread message the folder lists, in one
    /// action (one STORE over a UID set on IMAP, queued when offline like any other).
    pub async fn mark_all_read(
        &self,
        id: &AccountId,
        folder: &str,
    ) -> Result<ActionOutcome, EngineError> {
        const STEP: u32 = 5_000;
        let folder_ref = FolderRef::new(id, folder);
        let mut unread = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .shared
                .cache
                .page(&folder_ref, offset, STEP)
                .map_err(EngineError::cache("Reading the cache"))?;
            unread.extend(page.rows.iter().filter(|r| !r.seen).map(|r| r.uid));
            offset += page.rows.len() as u32;
            if page.rows.is_empty() || offset >= page.total {
                break;
            }
        }
        self.set_flags(id, folder, &unread, Some(true), None).await
    }

    pub async fn move_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<ActionOutcome, EngineError> {
        let action = UserAction::Move { to };
        self.get(id)?.act(&self.shared, folder, uids, action).await
    }

    pub async fn copy_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<ActionOutcome, EngineError> {
        let action = UserAction::Copy { to };
        self.get(id)?.act(&self.shared, folder, uids, action).await
    }

    /// Moves messages to the Trash (created when the account has none), or deletes them for
    /// good — only when the user confirmed exactly that (`Deletion::Permanently`). Deleting
    /// in the Trash is permanent, so it needs that confirmation too: without it this is an
    /// error, never a silent expunge.
    pub async fn delete_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        how: Deletion,
    ) -> Result<ActionOutcome, EngineError> {
        let action = UserAction::Delete(how);
        self.get(id)?.act(&self.shared, folder, uids, action).await
    }

    /// Moves messages to the Archive folder, creating "Archive" if the account has none.
    pub async fn archive_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
    ) -> Result<ActionOutcome, EngineError> {
        let action = UserAction::Archive;
        self.get(id)?.act(&self.shared, folder, uids, action).await
    }

    pub async fn create_folder(
        &self,
        id: &AccountId,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        let edit = FolderEdit::Create(path);
        self.get(id)?.change_folder(&self.shared, edit).await
    }

    pub async fn rename_folder(
        &self,
        id: &AccountId,
        from: &str,
        to: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        let edit = FolderEdit::Rename { from, to };
        self.get(id)?.change_folder(&self.shared, edit).await
    }

    pub async fn delete_folder(
        &self,
        id: &AccountId,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        let edit = FolderEdit::Delete(path);
        self.get(id)?.change_folder(&self.shared, edit).await
    }

    pub async fn set_subscribed(
        &self,
        id: &AccountId,
        path: &str,
        subscribed: bool,
    ) -> Result<Vec<Folder>, EngineError> {
        let edit = FolderEdit::Subscribe { path, subscribed };
        self.get(id)?.change_folder(&self.shared, edit).await
    }

    /// Storage used and allowed on the server, when it says.
    pub async fn quota(&self, id: &AccountId) -> Result<Option<petrel_core::Quota>, EngineError> {
        self.get(id)?.quota(&self.shared).await
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

    fn new_account_id(&self, email: &str) -> AccountId {
        let nanos = self
            .shared
            .now()
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
        let existing = self.registry();
        let mut n = nanos;
        loop {
            let id = AccountId(format!("{local}-{n:x}"));
            if !existing.iter().any(|a| a.state().id == id) {
                return id;
            }
            n += 1;
        }
    }
}

/// The refresh token a sign-in must bring: without it Petrel cannot stay signed in.
fn refresh_of(tokens: &petrel_oauth::Tokens) -> Result<&str, EngineError> {
    tokens.refresh.as_deref().ok_or_else(|| {
        EngineError::SignIn(petrel_oauth::OAuthError::Exchange(
            "the provider gave no refresh token, so Petrel could not stay signed in".into(),
        ))
    })
}

/// OAuth2 sign-in (issue 16): the browser round trip, and signing an account in again.
impl Engine {
    /// The tokens of a finished sign-in, by its ticket (left there until the ticket is spent).
    fn ticketed(&self, ticket: &str) -> Result<petrel_oauth::Tokens, EngineError> {
        lock(&self.sign_ins).get(ticket).cloned().ok_or_else(|| {
            EngineError::InvalidInput("The sign-in has expired: sign in again.".into())
        })
    }

    /// Signs in with `provider` in `browser` (at most `timeout`); the tokens stay in the
    /// engine under the ticket returned, for `add_account`. Dropping the future cancels.
    pub async fn sign_in(
        &self,
        provider: &OAuthProvider,
        client_id: Option<&str>,
        login_hint: Option<&str>,
        browser: &dyn petrel_oauth::Browser,
        timeout: std::time::Duration,
    ) -> Result<SignedIn, EngineError> {
        let http = self.shared.oauth_http()?;
        let endpoints = petrel_oauth::Endpoints::resolve(provider, client_id, http).await?;
        let tokens = petrel_oauth::sign_in(http, &endpoints, login_hint, browser, timeout).await?;
        let ticket = petrel_oauth::ticket();
        let email = tokens.email.clone();
        lock(&self.sign_ins).insert(ticket.clone(), tokens);
        Ok(SignedIn { ticket, email })
    }

    /// Signs an OAuth2 account in again (its refresh token expired or was revoked): the
    /// new tokens replace the old, and everything waiting — queued actions, the outbox —
    /// goes on at once.
    pub async fn sign_in_again(
        &self,
        id: &AccountId,
        browser: &dyn petrel_oauth::Browser,
        timeout: std::time::Duration,
    ) -> Result<(), EngineError> {
        let account = self.get(id)?;
        let settings = account.settings();
        let SignIn::OAuth2 {
            provider,
            client_id,
        } = &settings.sign_in
        else {
            return Err(EngineError::InvalidInput(
                "This account signs in with a password: change it in Account options.".into(),
            ));
        };
        let http = self.shared.oauth_http()?;
        let endpoints =
            petrel_oauth::Endpoints::resolve(provider, client_id.as_deref(), http).await?;
        let tokens =
            petrel_oauth::sign_in(http, &endpoints, Some(&settings.email), browser, timeout)
                .await?;
        self.shared
            .secrets
            .set_refresh_token(id, refresh_of(&tokens)?)?;
        account.state().signed_in(tokens);
        self.retry_now(id);
        tracing::info!(account = %id, "signed in again");
        Ok(())
    }
}

/// Switching an account between a password and OAuth2 (Account options).
impl Engine {
    /// Changes how the account signs in: to `SignIn::Password` with `password`, or to
    /// OAuth2 with the tokens of the sign-in `ticket` names. The incoming server is tried
    /// with the new credential first; only then are the settings and the keychain changed
    /// (the old secret goes), and the session in use is dropped.
    pub async fn change_sign_in(
        &self,
        id: &AccountId,
        sign_in: SignIn,
        password: Option<String>,
        ticket: Option<String>,
    ) -> Result<AccountSettings, EngineError> {
        let (credential, tokens) = match (&sign_in, password, ticket) {
            (SignIn::Password, Some(p), _) if !p.is_empty() => (Credential::Password(p), None),
            (SignIn::OAuth2 { .. }, _, Some(ticket)) => {
                let tokens = self.ticketed(&ticket)?;
                refresh_of(&tokens)?;
                lock(&self.sign_ins).remove(&ticket);
                (Credential::Bearer(tokens.access.clone()), Some(tokens))
            }
            (SignIn::Password, _, _) => {
                return Err(EngineError::InvalidInput("Enter the password.".into()))
            }
            (SignIn::OAuth2 { .. }, _, None) => {
                return Err(EngineError::InvalidInput(
                    "Sign in with your provider first.".into(),
                ))
            }
        };
        let account = self.get(id)?;
        let mut trial = account.settings();
        trial.sign_in = sign_in.clone();
        if let Some(session) = Account::verify(&self.shared, &trial, &credential).await? {
            session.logout().await;
        }
        match (&credential, &tokens) {
            (Credential::Password(p), _) => {
                self.shared.secrets.set_password(id, p)?;
                self.shared.secrets.delete_refresh_token(id)?;
            }
            (Credential::Bearer(_), Some(t)) => {
                if let Some(refresh) = &t.refresh {
                    self.shared.secrets.set_refresh_token(id, refresh)?;
                }
                self.shared.secrets.delete_password(id)?;
            }
            (Credential::Bearer(_), None) => {}
        }
        let saved = self.update_account(id, |a| a.sign_in = sign_in)?;
        if let Some(t) = tokens {
            account.state().signed_in(t);
        }
        self.drop_session(id).await;
        self.retry_now(id);
        tracing::info!(account = %id, "sign-in changed");
        Ok(saved)
    }
}
