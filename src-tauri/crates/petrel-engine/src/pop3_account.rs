//! POP3 accounts: their mail lives in local folders (Maildirs under the config dir — the
//! only copy, so never in the rebuildable cache dir), downloaded by `petrel-pop3`'s safe
//! download. The folders are indexed into the same cache as IMAP folders, so the tree, the
//! list, the reader and the unified views show them like any other.
//!
//! List UIDs of local folders are assigned when a folder is first indexed in this run
//! (files in arrival order) and kept while the engine lives; they are never sent anywhere.

use crate::{Engine, EngineError};
use petrel_core::{
    AccountId, AccountSettings, Envelope, Folder, FolderChange, FolderRole, LeaveOnServer,
};
use petrel_maildir::Maildir;
use petrel_pop3::{Job, Keep, Policy, Pop3Error, Pop3Session};
use petrel_store::FolderRef;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a user action does to local messages.
pub(crate) enum LocalAction<'a> {
    Flags {
        seen: Option<bool>,
        flagged: Option<bool>,
    },
    Move(&'a str),
    /// For good (the user confirmed): the local file goes, and the server copy as the
    /// policy says.
    DeleteForGood,
}

/// The local Trash of a POP3 account.
pub(crate) const LOCAL_TRASH: &str = "Trash";

/// The local folders every POP3 account has.
pub(crate) const LOCAL_FOLDERS: [(&str, FolderRole); 5] = [
    ("INBOX", FolderRole::Inbox),
    ("Sent", FolderRole::Sent),
    ("Drafts", FolderRole::Drafts),
    ("Trash", FolderRole::Trash),
    ("Archive", FolderRole::Archive),
];

/// uid ↔ file name (without Maildir flags) of one indexed local folder.
#[derive(Debug, Default)]
pub(crate) struct LocalIndex {
    by_uid: HashMap<u32, String>,
    by_name: HashMap<String, u32>,
    next_uid: u32,
}

pub(crate) type LocalIndexes = HashMap<FolderRef, LocalIndex>;

fn pop3_err(context: impl Into<String>) -> impl FnOnce(Pop3Error) -> EngineError {
    EngineError::pop3(context)
}

fn download_err(context: String) -> impl FnOnce(petrel_pop3::DownloadError) -> EngineError {
    move |e| match e {
        petrel_pop3::DownloadError::Pop3(p) => pop3_err(context)(p),
        petrel_pop3::DownloadError::NoUidl => EngineError::InvalidInput(e.to_string()),
        other => EngineError::Storage {
            context,
            source: std::io::Error::other(other.to_string()),
        },
    }
}

fn maildir_err(context: &str) -> impl FnOnce(petrel_maildir::MaildirError) -> EngineError + '_ {
    move |e| EngineError::Storage {
        context: context.to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn policy(account: &AccountSettings) -> Policy {
    let o = &account.pop3;
    Policy {
        keep: match o.leave_on_server {
            LeaveOnServer::Never => Keep::DeleteAfterDownload,
            LeaveOnServer::Days => Keep::Days(o.leave_days),
            LeaveOnServer::UntilDeletedHere => Keep::UntilDeletedHere,
        },
        delete_when_deleted_here: o.delete_when_deleted_here,
        headers_only: o.headers_only,
        large_over_kib: o.large_over_kib,
    }
}

impl Engine {
    pub(crate) fn is_pop3(&self, id: &AccountId) -> bool {
        self.account(id)
            .is_ok_and(|a| a.protocol == petrel_core::IncomingProtocol::Pop3)
    }

    /// Where the account's local folders live.
    pub(crate) fn local_root(&self, id: &AccountId) -> PathBuf {
        self.config_dir().join("mail").join(&id.0)
    }

    fn local_maildir(&self, id: &AccountId, folder: &str) -> Result<Maildir, EngineError> {
        Maildir::open(&self.local_dir(id, folder)).map_err(maildir_err("Opening a local folder"))
    }

    /// A local folder's directory: one level under the account's root, its path encoded
    /// ("Projects/Petrel" → "Projects%2FPetrel") so nesting needs no nested Maildirs.
    pub(crate) fn local_dir(&self, id: &AccountId, folder: &str) -> PathBuf {
        self.local_root(id).join(encode_dir(folder))
    }

    /// Connects and logs in to the account's POP3 server.
    pub(crate) async fn pop3_session(
        &self,
        account: &AccountSettings,
        password: &str,
    ) -> Result<Pop3Session, EngineError> {
        // The same backoff as IMAP logins: a refused password is not retried for a while
        // (servers lock accounts), an unreachable server with growing pauses.
        let now = std::time::Instant::now();
        if let Some(link) = self
            .links
            .lock()
            .ok()
            .and_then(|l| l.get(&account.id).cloned())
        {
            if let Some(wait) = link.wait_left(now) {
                return Err(EngineError::NotNow {
                    state: link.state,
                    message: link.message.unwrap_or_default(),
                    retry_in_seconds: wait.as_secs().max(1) as u32,
                });
            }
        }
        let context = format!("Connecting to {}", account.imap.host);
        let result = async {
            let mut session = Pop3Session::connect(&account.imap, &self.trust)
                .await
                .map_err(pop3_err(context.clone()))?;
            session
                .login(&account.imap.username, password)
                .await
                .map_err(pop3_err(context))?;
            if let (Some(delay), Ok(mut delays)) =
                (session.capabilities.login_delay(), self.login_delays.lock())
            {
                delays.insert(account.id.clone(), delay);
            }
            Ok(session)
        }
        .await;
        if let Ok(mut links) = self.links.lock() {
            let link = links.entry(account.id.clone()).or_default();
            match &result {
                Ok(_) => link.succeeded(),
                Err(e) => link.failed(e, now),
            }
        }
        result
    }

    /// Before a local folder's page: downloads new mail first when asked (INBOX only), then
    /// indexes the folder. Returns whether the server could not be reached (local mail is
    /// shown all the same).
    pub(crate) async fn pop3_refresh(
        &self,
        folder: &FolderRef,
        download: bool,
    ) -> Result<bool, EngineError> {
        let mut offline = false;
        if download && folder.path == "INBOX" {
            match self.pop3_download(&folder.account).await {
                Ok(()) => {}
                Err(e) if e.is_connection_problem() => {
                    tracing::warn!(account = %folder.account, error = %e, "POP3 server unreachable, showing local mail");
                    offline = true;
                }
                Err(e) => return Err(e),
            }
        }
        if let Ok(mut synced) = self.synced.lock() {
            synced.insert(folder.clone());
        }
        self.index_local(folder)?;
        Ok(offline)
    }

    /// How long to wait between checks: the user's interval, but never shorter than the
    /// server's LOGIN-DELAY (RFC 2449; servers refuse or penalise earlier logins).
    pub(crate) fn pop3_interval(&self, account: &AccountSettings) -> std::time::Duration {
        let chosen = u64::from(account.pop3.check_minutes.max(1)) * 60;
        let delay = self
            .login_delays
            .lock()
            .ok()
            .and_then(|d| d.get(&account.id).copied())
            .unwrap_or(0);
        std::time::Duration::from_secs(chosen.max(u64::from(delay)))
    }

    /// The periodic check of a POP3 account: download, then report INBOX if it changed.
    pub(crate) async fn pop3_check(
        &self,
        id: &AccountId,
    ) -> Result<Option<FolderChange>, EngineError> {
        self.pop3_download(id).await?;
        let change = self.index_local(&FolderRef::new(id, "INBOX"))?;
        Ok((change.added + change.removed > 0).then_some(change))
    }

    /// Flags, move, delete, archive of local messages; the answer the UI expects.
    pub(crate) fn local_action(
        &self,
        folder: &FolderRef,
        uids: &[u32],
        action: LocalAction<'_>,
    ) -> Result<petrel_core::ActionOutcome, EngineError> {
        let change = match action {
            LocalAction::Flags { seen, flagged } => {
                for &uid in uids {
                    self.set_local_flags(folder, uid, seen, flagged)?;
                }
                self.index_local(folder)?
            }
            LocalAction::Move(to) => self.move_local(folder, uids, Some(to))?,
            LocalAction::DeleteForGood => self.move_local(folder, uids, None)?,
        };
        Ok(petrel_core::ActionOutcome {
            folder: change,
            pending: 0,
        })
    }

    /// A new POP3 account's check before anything is saved: TLS, login, and UIDL when the
    /// policy leaves mail on the server.
    pub(crate) async fn verify_pop3(
        &self,
        account: &AccountSettings,
        password: &str,
    ) -> Result<(), EngineError> {
        let result = self.verify_pop3_session(account, password).await;
        // A trial login of an account not yet saved leaves no backoff behind.
        if let Ok(mut links) = self.links.lock() {
            links.remove(&account.id);
        }
        result
    }

    async fn verify_pop3_session(
        &self,
        account: &AccountSettings,
        password: &str,
    ) -> Result<(), EngineError> {
        let mut session = self.pop3_session(account, password).await?;
        if account.pop3.leave_on_server != LeaveOnServer::Never {
            if let Err(Pop3Error::Refused(_)) = session.uidl_all().await {
                session.abandon();
                return Err(EngineError::InvalidInput(
                    petrel_pop3::DownloadError::NoUidl.to_string(),
                ));
            }
        }
        let _ = session.quit().await;
        for (name, _) in LOCAL_FOLDERS {
            self.local_maildir(&account.id, name)?;
        }
        Ok(())
    }

    /// Downloads new mail into the local INBOX (policy decides what leaves the server).
    /// One download per account at a time: two sessions would both take the same new
    /// messages (Dovecot does not lock the maildrop by default).
    pub(crate) async fn pop3_download(&self, id: &AccountId) -> Result<(), EngineError> {
        let turn = self.pop3_turn(id);
        let _one_at_a_time = turn.lock().await;
        let account = self.account(id)?;
        let password = self.secrets.password(id)?;
        let session = self.pop3_session(&account, &password).await?;
        let job = self.pop3_job(&account)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let report = petrel_pop3::download(session, &job, now)
            .await
            .map_err(download_err(format!(
                "Downloading mail from {}",
                account.imap.host
            )))?;
        tracing::info!(account = %id, ?report, "POP3 download");
        Ok(())
    }

    /// The account's POP3 turn: held by a download, a "fetch the rest" and a deletion for
    /// good (all three change the ledger).
    pub(crate) fn pop3_turn(&self, id: &AccountId) -> Arc<tokio::sync::Mutex<()>> {
        match self.pop3_turns.lock() {
            Ok(mut turns) => turns.entry(id.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    fn pop3_job(&self, account: &AccountSettings) -> Result<Job, EngineError> {
        let root = self.local_root(&account.id);
        Ok(Job {
            account: account.id.0.clone(),
            inbox: self.local_maildir(&account.id, "INBOX")?,
            ledger_path: root.join("pop3-ledger.json"),
            account_root: root,
            policy: policy(account),
            reserve_bytes: petrel_pop3::RESERVE_BYTES,
        })
    }

    /// The local folders, with counts from the index.
    pub(crate) fn local_folders(&self, id: &AccountId) -> Result<Vec<Folder>, EngineError> {
        let mut out = Vec::new();
        let mut names: Vec<(String, Option<FolderRole>)> = LOCAL_FOLDERS
            .iter()
            .map(|(n, r)| (n.to_string(), Some(*r)))
            .collect();
        let mut user: Vec<String> = std::fs::read_dir(self.local_root(id))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("cur").is_dir())
            .filter_map(|e| decode_dir(&e.file_name().to_string_lossy()))
            .filter(|p| !LOCAL_FOLDERS.iter().any(|(n, _)| n == p))
            .collect();
        user.sort_by_key(|p| p.to_lowercase());
        names.extend(user.into_iter().map(|p| (p, None)));
        for (path, role) in names {
            let name = path.as_str();
            let folder = FolderRef::new(id, name);
            self.index_local(&folder)?;
            let state = self
                .cache
                .folder_state(&folder)
                .map_err(EngineError::cache("Reading the cache"))?
                .unwrap_or_default();
            let (parent, leaf) = match name.rsplit_once('/') {
                Some((p, l)) => (Some(p.to_string()), l.to_string()),
                None => (None, name.to_string()),
            };
            out.push(Folder {
                path: name.to_string(),
                name: leaf,
                parent,
                role,
                selectable: true,
                total: Some(state.total),
                unread: Some(state.unread),
                subscribed: true,
            });
        }
        if let Err(e) = self.cache.set_folder_list(id, &out) {
            tracing::warn!(account = %id, error = %e, "could not cache the local folder list");
        }
        Ok(out)
    }

    /// Brings the cache's rows of a local folder in line with its Maildir: new files are
    /// read and listed, vanished ones removed. Returns what changed.
    pub(crate) fn index_local(&self, folder: &FolderRef) -> Result<FolderChange, EngineError> {
        let maildir = self.local_maildir(&folder.account, &folder.path)?;
        let files = maildir
            .messages()
            .map_err(maildir_err("Reading a local folder"))?;
        let mut indexes = self
            .local_indexes
            .lock()
            .map_err(|_| crate::engine::poisoned())?;
        let first = !indexes.contains_key(folder);
        let index = indexes.entry(folder.clone()).or_default();
        if first {
            // UIDs are this run's: start the folder's rows afresh.
            self.cache
                .drop_folder(folder)
                .map_err(EngineError::cache("Resetting a local folder"))?;
            self.cache
                .set_sync_state(folder, 1, 1, 0)
                .map_err(EngineError::cache("Resetting a local folder"))?;
            index.next_uid = 1;
        }
        let mut present = HashMap::new();
        let mut added = Vec::new();
        for path in &files {
            let (name, flags) = split_name(path);
            present.insert(name.clone(), ());
            if index.by_name.contains_key(&name) {
                continue;
            }
            let uid = index.next_uid;
            index.next_uid += 1;
            index.by_uid.insert(uid, name.clone());
            index.by_name.insert(name, uid);
            added.push(envelope(uid, path, &flags));
        }
        let gone: Vec<u32> = index
            .by_name
            .iter()
            .filter(|(n, _)| !present.contains_key(*n))
            .map(|(_, &u)| u)
            .collect();
        for uid in &gone {
            if let Some(name) = index.by_uid.remove(uid) {
                index.by_name.remove(&name);
            }
        }
        drop(indexes);
        if !added.is_empty() {
            self.cache
                .upsert(folder, &added)
                .map_err(EngineError::cache("Listing a local folder"))?;
        }
        if !gone.is_empty() {
            self.cache
                .remove(folder, &gone)
                .map_err(EngineError::cache("Listing a local folder"))?;
        }
        if !added.is_empty() || !gone.is_empty() {
            self.cache_changed();
        }
        Ok(FolderChange {
            added: if first { 0 } else { added.len() as u32 },
            removed: gone.len() as u32,
            ..self.cached_change(folder)?
        })
    }

    /// The file holding a local message.
    pub(crate) fn local_file(&self, folder: &FolderRef, uid: u32) -> Result<PathBuf, EngineError> {
        let name = self
            .local_indexes
            .lock()
            .map_err(|_| crate::engine::poisoned())?
            .get(folder)
            .and_then(|i| i.by_uid.get(&uid).cloned())
            .ok_or_else(|| EngineError::InvalidInput("That message is no longer here.".into()))?;
        let maildir = self.local_maildir(&folder.account, &folder.path)?;
        maildir
            .messages()
            .map_err(maildir_err("Reading a local folder"))?
            .into_iter()
            .find(|p| split_name(p).0 == name)
            .ok_or_else(|| EngineError::InvalidInput("That message is no longer here.".into()))
    }

    /// A local message's bytes; one downloaded as headers only is completed from the server
    /// first ("download the rest") when the server can be reached.
    pub(crate) async fn local_message(
        &self,
        folder: &FolderRef,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError> {
        let path = self.local_file(folder, uid)?;
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| EngineError::Storage {
                context: format!("Reading {}", p.display()),
                source,
            })
        };
        let raw = read(&path)?;
        if !petrel_pop3::ledger::parse_stamp(&raw).is_some_and(|s| s.partial) {
            return Ok(raw);
        }
        let turn = self.pop3_turn(&folder.account);
        let _one_at_a_time = turn.lock().await;
        let account = self.account(&folder.account)?;
        let password = self.secrets.password(&folder.account)?;
        let completed = async {
            let session = self.pop3_session(&account, &password).await?;
            let job = self.pop3_job(&account)?;
            petrel_pop3::fetch_rest(session, &job, &path)
                .await
                .map_err(download_err(format!(
                    "Downloading the rest from {}",
                    account.imap.host
                )))
        }
        .await;
        match completed {
            Ok(()) => read(&path),
            Err(e) => {
                tracing::warn!(account = %folder.account, error = %e, "the rest of the message could not be downloaded");
                Ok(raw)
            }
        }
    }

    /// Sets the read and flagged marks of a local message (Maildir info flags S and F; a
    /// message read once moves from new/ to cur/).
    pub(crate) fn set_local_flags(
        &self,
        folder: &FolderRef,
        uid: u32,
        seen: Option<bool>,
        flagged: Option<bool>,
    ) -> Result<(), EngineError> {
        let path = self.local_file(folder, uid)?;
        let (_, flags) = split_name(&path);
        let mut flags: Vec<char> = flags.chars().filter(|c| *c != 'S' && *c != 'F').collect();
        let row = self
            .cache
            .envelope(folder, uid)
            .map_err(EngineError::cache("Reading the cache"))?;
        let seen = seen.unwrap_or_else(|| row.as_ref().is_some_and(|r| r.seen));
        let flagged = flagged.unwrap_or_else(|| row.as_ref().is_some_and(|r| r.flagged));
        if flagged {
            flags.push('F');
        }
        if seen {
            flags.push('S');
        }
        let flags: String = flags.into_iter().collect();
        self.local_maildir(&folder.account, &folder.path)?
            .set_flags(&path, &flags)
            .map_err(maildir_err("Marking a local message"))?;
        self.cache
            .set_flags(folder, uid, seen, flagged)
            .map_err(EngineError::cache("Saving a flag"))?;
        self.cache_changed();
        Ok(())
    }

    /// Adds the Maildir "replied" flag (R) to a local message.
    pub(crate) fn set_local_answered(
        &self,
        folder: &FolderRef,
        uid: u32,
    ) -> Result<(), EngineError> {
        let path = self.local_file(folder, uid)?;
        let (_, flags) = split_name(&path);
        if flags.contains('R') {
            return Ok(());
        }
        self.local_maildir(&folder.account, &folder.path)?
            .set_flags(&path, &format!("{flags}R"))
            .map_err(maildir_err("Marking a local message answered"))?;
        Ok(())
    }

    /// Moves local messages to another local folder of the account, or (to `None`) deletes
    /// them for good — then the server copy goes as the policy says.
    pub(crate) fn move_local(
        &self,
        folder: &FolderRef,
        uids: &[u32],
        to: Option<&str>,
    ) -> Result<FolderChange, EngineError> {
        let job = self.pop3_job(&self.account(&folder.account)?)?;
        let source = self.local_maildir(&folder.account, &folder.path)?;
        for &uid in uids {
            let path = self.local_file(folder, uid)?;
            match to {
                Some(to) => {
                    let target = self.local_maildir(&folder.account, to)?;
                    source
                        .move_to(&path, &target)
                        .map_err(maildir_err(&format!("Moving a message to {to}")))?;
                }
                None => {
                    if let Some(stamp) = petrel_pop3::ledger::read_stamp(&path) {
                        petrel_pop3::mark_deleted_here(&job, &stamp.uidl)
                            .map_err(download_err("Recording a deletion".into()))?;
                    }
                    source
                        .remove(&path)
                        .map_err(maildir_err("Deleting a message"))?;
                }
            }
        }
        if let Some(to) = to {
            self.index_local(&FolderRef::new(&folder.account, to))?;
        }
        self.index_local(folder)
    }
}

/// A Maildir file's unique name and its info flags ("name:2,FS" or the Windows form
/// "name;2,FS" → ("name", "FS")).
fn split_name(path: &Path) -> (String, String) {
    (
        petrel_maildir::unique_of(path),
        petrel_maildir::flags_of(path),
    )
}

/// The list row of a local message (its header block is read, not the whole file).
fn envelope(uid: u32, path: &Path, flags: &str) -> Envelope {
    let mut head = Vec::new();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if let Ok(mut f) = std::fs::File::open(path) {
        use std::io::Read;
        let mut buf = vec![0u8; 64 * 1024];
        if let Ok(n) = f.read(&mut buf) {
            buf.truncate(n);
            let end = buf
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 4)
                .unwrap_or(buf.len());
            head = buf[..end].to_vec();
        }
    }
    let h = petrel_render::list_headers(&head);
    Envelope {
        uid,
        from: h.from,
        subject: h.subject,
        date: h.date.or_else(|| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64)
        }),
        seen: flags.contains('S'),
        flagged: flags.contains('F'),
        answered: flags.contains('R'),
        has_attachment: h.has_attachment,
        size,
    }
}

impl Engine {
    /// Creates a local folder (nested with "/").
    pub(crate) fn create_local_folder(
        &self,
        id: &AccountId,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        let path = local_name(path)?;
        if self.local_dir(id, &path).join("cur").is_dir() {
            return Err(EngineError::InvalidInput(format!(
                "There is already a folder {path}."
            )));
        }
        self.local_maildir(id, &path)?;
        self.local_folders(id)
    }

    /// Renames a local folder (and the folders inside it).
    pub(crate) fn rename_local_folder(
        &self,
        id: &AccountId,
        from: &str,
        to: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        let to = local_name(to)?;
        if LOCAL_FOLDERS.iter().any(|(n, _)| *n == from) {
            return Err(EngineError::InvalidInput(format!(
                "{from} is a standard folder and keeps its name."
            )));
        }
        if self.local_dir(id, &to).exists() {
            return Err(EngineError::InvalidInput(format!(
                "There is already a folder {to}."
            )));
        }
        let inner: Vec<Folder> = self
            .local_folders(id)?
            .into_iter()
            .filter(|f| f.path == from || f.path.starts_with(&format!("{from}/")))
            .collect();
        for f in inner {
            let new_path = format!("{to}{}", &f.path[from.len()..]);
            std::fs::rename(self.local_dir(id, &f.path), self.local_dir(id, &new_path)).map_err(
                |source| EngineError::Storage {
                    context: format!("Renaming {}", f.path),
                    source,
                },
            )?;
            self.forget_local(&FolderRef::new(id, &f.path))?;
        }
        self.local_folders(id)
    }

    /// Deletes a local folder; its messages (and those of folders inside it) go to the
    /// Trash, so mail that exists only here is never lost by one click.
    pub(crate) fn delete_local_folder(
        &self,
        id: &AccountId,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        if LOCAL_FOLDERS.iter().any(|(n, _)| *n == path) {
            return Err(EngineError::InvalidInput(format!(
                "{path} is a standard folder and cannot be deleted."
            )));
        }
        let inner: Vec<String> = self
            .local_folders(id)?
            .into_iter()
            .map(|f| f.path)
            .filter(|p| p == path || p.starts_with(&format!("{path}/")))
            .collect();
        let trash = self.local_maildir(id, "Trash")?;
        for p in inner {
            let dir = self.local_dir(id, &p);
            for sub in ["new", "cur"] {
                for entry in std::fs::read_dir(dir.join(sub))
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    trash
                        .move_to(&entry.path(), &trash)
                        .map_err(maildir_err(&format!(
                            "Moving the messages of {p} to the Trash"
                        )))?;
                }
            }
            std::fs::remove_dir_all(&dir).map_err(|source| EngineError::Storage {
                context: format!("Deleting {p}"),
                source,
            })?;
            self.forget_local(&FolderRef::new(id, &p))?;
        }
        self.index_local(&FolderRef::new(id, "Trash"))?;
        self.local_folders(id)
    }

    fn forget_local(&self, folder: &FolderRef) -> Result<(), EngineError> {
        if let Ok(mut indexes) = self.local_indexes.lock() {
            indexes.remove(folder);
        }
        self.cache
            .drop_folder(folder)
            .map_err(EngineError::cache("Forgetting a folder"))?;
        self.cache_changed();
        Ok(())
    }

    /// Copies local messages into another local folder.
    pub(crate) fn copy_local(
        &self,
        folder: &FolderRef,
        uids: &[u32],
        to: &str,
    ) -> Result<FolderChange, EngineError> {
        let target = self.local_maildir(&folder.account, to)?;
        let mut copies = Vec::with_capacity(uids.len());
        for &uid in uids {
            let path = self.local_file(folder, uid)?;
            copies.push(std::fs::read(&path).map_err(|source| EngineError::Storage {
                context: "Copying a message".into(),
                source,
            })?);
        }
        target
            .deliver_batch(&copies)
            .map_err(maildir_err("Copying messages"))?;
        self.index_local(&FolderRef::new(&folder.account, to))?;
        self.index_local(folder)
    }

    /// Copies a local folder's messages into a Maildir at `dest` (for another program),
    /// without Petrel's download stamps. Returns how many.
    pub fn export_folder(
        &self,
        id: &AccountId,
        folder: &str,
        dest: &Path,
    ) -> Result<u32, EngineError> {
        if !self.is_pop3(id) {
            return Err(EngineError::InvalidInput(
                "Exporting a folder is available for local (POP3) folders; IMAP mail stays on the server.".into(),
            ));
        }
        let out = Maildir::open(dest).map_err(maildir_err("Creating the export"))?;
        let dir = self.local_dir(id, folder);
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            files.extend(
                std::fs::read_dir(dir.join(sub))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
        let mut count = 0;
        for chunk in files.chunks(200) {
            let mut batch = Vec::with_capacity(chunk.len());
            for file in chunk {
                let raw = std::fs::read(file).map_err(|source| EngineError::Storage {
                    context: format!("Reading {}", file.display()),
                    source,
                })?;
                batch.push(without_stamp(&raw).to_vec());
            }
            count += out
                .deliver_batch(&batch)
                .map_err(maildir_err("Writing the export"))?
                .len() as u32;
        }
        Ok(count)
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
            without_stamp(&raw).to_vec(),
        ))
    }
}

/// A message without Petrel's `X-Petrel-POP3` line on top (for exports).
pub(crate) fn without_stamp(raw: &[u8]) -> &[u8] {
    let prefix = format!("{}:", petrel_pop3::ledger::HEADER);
    if raw.starts_with(prefix.as_bytes()) {
        if let Some(end) = raw.iter().position(|&b| b == b'\n') {
            return &raw[end + 1..];
        }
    }
    raw
}

/// A valid local folder path: no empty parts, no control characters, not too long.
fn local_name(path: &str) -> Result<String, EngineError> {
    let path = path.trim().trim_matches('/').to_string();
    let bad = path.is_empty()
        || path.len() > 200
        || path
            .split('/')
            .any(|p| p.trim().is_empty() || p == "." || p == "..")
        || path.chars().any(char::is_control);
    if bad {
        return Err(EngineError::InvalidInput(
            "Enter a folder name (use / to put it inside another folder).".into(),
        ));
    }
    Ok(path)
}

/// Folder path → directory name: '%', '/' and a leading '.' are escaped.
fn encode_dir(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, c) in path.chars().enumerate() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '.' if i == 0 => out.push_str("%2E"),
            c => out.push(c),
        }
    }
    out
}

fn decode_dir(name: &str) -> Option<String> {
    if name.starts_with('.') || ["cur", "new", "tmp"].contains(&name) {
        return None;
    }
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name.as_bytes();
    while let Some(i) = rest.iter().position(|&b| b == b'%') {
        bytes.extend_from_slice(&rest[..i]);
        let code = std::str::from_utf8(rest.get(i + 1..i + 3)?).ok()?;
        bytes.push(u8::from_str_radix(code, 16).ok()?);
        rest = &rest[i + 3..];
    }
    bytes.extend_from_slice(rest);
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_paths_round_trip_through_directory_names() {
        for p in ["Projects/Petrel", "100% done", ".hidden", "Reisen/Ü 2026"] {
            let d = encode_dir(p);
            assert!(!d.contains('/') && !d.starts_with('.'), "{d}");
            assert_eq!(decode_dir(&d).as_deref(), Some(p));
        }
        assert_eq!(decode_dir("cur"), None);
        assert!(
            local_name("a//b").is_err() && local_name(" ").is_err() && local_name("../x").is_err()
        );
        assert_eq!(local_name("/Trips/2026/").unwrap(), "Trips/2026");
    }

    #[test]
    fn exports_drop_the_download_stamp() {
        let raw =
            b"X-Petrel-POP3: account=a fetched=1 size=2 partial=0 uidl=u\r\nSubject: s\r\n\r\nb";
        assert_eq!(without_stamp(raw), b"Subject: s\r\n\r\nb");
        assert_eq!(without_stamp(b"Subject: s\r\n"), b"Subject: s\r\n");
    }
}
