//! POP3 accounts: their mail lives in local folders (Maildirs under the config dir — the
//! only copy, so never in the rebuildable cache dir), downloaded by `petrel-pop3`'s safe
//! download. The folders are indexed into the same cache as IMAP folders, so the tree, the
//! list, the reader and the unified views show them like any other.
//!
//! List UIDs of local folders are assigned when a folder is first indexed in this run
//! (files in arrival order) and kept while the engine lives; they are never sent anywhere.

mod copies;

use super::{AccountState, Credential, Deletion, FolderEdit, Freshness, Incoming, UserAction};
use crate::error::lock;
use crate::events::WatchConfig;
use crate::events::{sleep_or_stop, EngineEvent};
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::{
    AccountSettings, AccountStatus, ActionOutcome, Envelope, Folder, FolderChange, FolderRole,
    LeaveOnServer,
};
use petrel_maildir::Maildir;
use petrel_pop3::{Job, Keep, Policy, Pop3Error, Pop3Session};
use petrel_store::FolderRef;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering as AtomicOrdering;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, Notify};

/// The local Trash of a POP3 account.
const LOCAL_TRASH: &str = "Trash";
/// The local Archive of a POP3 account.
const ARCHIVE: &str = "Archive";

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

fn download_err(context: String) -> impl FnOnce(petrel_pop3::DownloadError) -> EngineError {
    move |e| match e {
        petrel_pop3::DownloadError::Pop3(p) => EngineError::pop3(context)(p),
        petrel_pop3::DownloadError::NoUidl => EngineError::InvalidInput(e.to_string()),
        other => EngineError::Storage {
            context,
            source: std::io::Error::other(other.to_string()),
        },
    }
}

pub(crate) fn maildir_err(
    context: &str,
) -> impl FnOnce(petrel_maildir::MaildirError) -> EngineError + '_ {
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

/// A POP3 account: its server is only visited to download; everything else happens to
/// the local folders.
pub(crate) struct Pop3Account {
    pub(crate) state: AccountState,
    /// The server's LOGIN-DELAY (seconds between logins it allows), as last announced.
    login_delay: Mutex<Option<u32>>,
    /// One download (or ledger change) at a time: two sessions would both take the same
    /// new messages (Dovecot does not lock the maildrop by default).
    turn: AsyncMutex<()>,
    /// The download under way (or done) is a new account's first: the listing that finds
    /// its messages tells no arrivals (the mailbox as it was is not news, as IMAP's first
    /// sync tells none). Set before that download, so no listing can come between.
    first_fill: std::sync::atomic::AtomicBool,
    /// List UIDs of the local folders, by folder path.
    indexes: Mutex<HashMap<String, LocalIndex>>,
}

impl Pop3Account {
    pub fn new(settings: AccountSettings) -> Pop3Account {
        Pop3Account {
            state: AccountState::new(settings),
            login_delay: Mutex::new(None),
            turn: AsyncMutex::new(()),
            first_fill: Default::default(),
            indexes: Mutex::default(),
        }
    }

    fn folder(&self, path: &str) -> FolderRef {
        FolderRef::new(&self.state.id, path)
    }

    fn local_maildir(&self, cx: &Shared, folder: &str) -> Result<Maildir, EngineError> {
        Maildir::open(&self.local_dir(cx, folder)).map_err(maildir_err("Opening a local folder"))
    }

    /// Nothing was ever downloaded (no ledger entry) and INBOX holds nothing.
    fn never_downloaded(&self, cx: &Shared) -> bool {
        let ledger = cx.local_root(&self.state.id).join("pop3-ledger.json");
        let recorded =
            petrel_pop3::ledger::Ledger::load(&ledger).is_some_and(|l| !l.entries.is_empty());
        let inbox_empty = self
            .local_maildir(cx, "INBOX")
            .and_then(|m| m.messages().map_err(maildir_err("Reading INBOX")))
            .is_ok_and(|files| files.is_empty());
        !recorded && inbox_empty
    }

    /// A local folder to import into (created when missing); the name is checked first.
    pub(crate) fn import_maildir(&self, cx: &Shared, folder: &str) -> Result<Maildir, EngineError> {
        self.local_maildir(cx, &local_name(folder)?)
    }

    /// Lists what a local folder's files hold now (after an import).
    pub(crate) fn index_folder(&self, cx: &Shared, folder: &str) -> Result<(), EngineError> {
        self.index_local(cx, &self.folder(folder)).map(|_| ())
    }

    /// Records POP3 messages another program downloaded (Thunderbird's popstate.dat) as
    /// downloaded here, so they are not downloaded again. Entries already recorded are
    /// kept as they are (the imported copies' stamps name some already). Returns how many
    /// of them the ledger now holds.
    pub(crate) async fn record_downloaded(
        &self,
        cx: &Shared,
        known: &HashMap<String, petrel_pop3::popstate::PopState>,
    ) -> Result<u32, EngineError> {
        let _one_at_a_time = self.turn.lock().await;
        let root = cx.local_root(&self.state.id);
        let path = root.join("pop3-ledger.json");
        let mut ledger = match petrel_pop3::ledger::Ledger::load(&path) {
            Some(l) if !l.in_flight => l,
            found => {
                let mut l = found.unwrap_or_default();
                l.merge_from_maildirs(&self.state.id.0, &root);
                l.in_flight = false;
                l
            }
        };
        for state in known.values() {
            if ledger.entries.contains_key(&state.uidl) {
                continue;
            }
            ledger.entries.insert(
                state.uidl.clone(),
                petrel_pop3::ledger::Entry {
                    fetched_at: state.time,
                    fingerprint: String::new(),
                    partial: matches!(state.flag, 'b' | 'f'),
                    // Thunderbird had it marked for deletion on the server.
                    deleted_here: state.flag == 'd',
                },
            );
        }
        ledger.save(&path).map_err(|source| EngineError::Storage {
            context: "Recording the POP3 messages Thunderbird had".into(),
            source,
        })?;
        Ok(known.len() as u32)
    }

    /// A local folder's directory: one level under the account's root, its path encoded
    /// ("Projects/Petrel" → "Projects%2FPetrel") so nesting needs no nested Maildirs.
    pub(crate) fn local_dir(&self, cx: &Shared, folder: &str) -> PathBuf {
        cx.local_root(&self.state.id).join(encode_dir(folder))
    }

    /// Connects and logs in to the POP3 server of `account` (saved, or being checked),
    /// with the account's backoff.
    /// A logged-in session, with `given` (a trial of new settings) or the account's own
    /// credential.
    async fn pop3_session(
        &self,
        cx: &Shared,
        account: &AccountSettings,
        given: Option<&Credential>,
    ) -> Result<Pop3Session, EngineError> {
        self.state
            .login(async {
                match given {
                    Some(credential) => self.pop3_login(cx, account, credential).await,
                    None => {
                        self.state
                            .with_credential(cx, |credential| async move {
                                self.pop3_login(cx, account, &credential).await
                            })
                            .await
                    }
                }
            })
            .await
    }

    async fn pop3_login(
        &self,
        cx: &Shared,
        account: &AccountSettings,
        credential: &Credential,
    ) -> Result<Pop3Session, EngineError> {
        let context = format!("Connecting to {}", account.imap.host);
        let mut session = Pop3Session::connect(&account.imap, &cx.trust)
            .await
            .map_err(EngineError::pop3(context.clone()))?;
        credential
            .pop3(&mut session, &account.imap)
            .await
            .map_err(EngineError::pop3(context))?;
        if let Some(delay) = session.capabilities.login_delay() {
            *lock(&self.login_delay) = Some(delay);
        }
        Ok(session)
    }

    /// How long to wait between checks: the user's interval, but never shorter than the
    /// server's LOGIN-DELAY (RFC 2449; servers refuse or penalise earlier logins).
    pub(crate) fn interval(&self) -> std::time::Duration {
        let chosen = u64::from(self.state.settings().pop3.check_minutes.max(1)) * 60;
        let delay = lock(&self.login_delay).unwrap_or(0);
        std::time::Duration::from_secs(chosen.max(u64::from(delay)))
    }

    /// The periodic check of a POP3 account: download, then report INBOX if it changed.
    pub(crate) async fn check(&self, cx: &Shared) -> Result<Option<FolderChange>, EngineError> {
        self.download(cx).await?;
        let change = self.index_local(cx, &self.folder("INBOX"))?;
        Ok((change.added + change.removed > 0).then_some(change))
    }

    /// A new POP3 account's check before anything is saved: TLS, login, and UIDL when the
    /// policy leaves mail on the server. Its local folders are made.
    pub(crate) async fn verify(
        cx: &Shared,
        account: &AccountSettings,
        credential: &Credential,
    ) -> Result<(), EngineError> {
        // A trial login of an account not yet saved leaves no backoff behind: it has its
        // own throw-away account object.
        let trial = Pop3Account::new(account.clone());
        let mut session = trial.pop3_session(cx, account, Some(credential)).await?;
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
            trial.local_maildir(cx, name)?;
        }
        Ok(())
    }

    /// Downloads new mail into the local INBOX (policy decides what leaves the server).
    /// One download per account at a time.
    pub(crate) async fn download(&self, cx: &Shared) -> Result<(), EngineError> {
        let _one_at_a_time = self.turn.lock().await;
        if self.never_downloaded(cx) {
            self.first_fill.store(true, AtomicOrdering::SeqCst);
        }
        let account = self.state.settings();
        let session = self.pop3_session(cx, &account, None).await?;
        let job = self.pop3_job(cx, &account)?;
        let report = petrel_pop3::download(session, &job, cx.unix_now())
            .await
            .map_err(download_err(format!(
                "Downloading mail from {}",
                account.imap.host
            )))?;
        tracing::info!(account = %self.state.id, ?report, "POP3 download");
        Ok(())
    }

    fn pop3_job(&self, cx: &Shared, account: &AccountSettings) -> Result<Job, EngineError> {
        let root = cx.local_root(&account.id);
        Ok(Job {
            account: account.id.0.clone(),
            inbox: self.local_maildir(cx, "INBOX")?,
            ledger_path: root.join("pop3-ledger.json"),
            account_root: root,
            policy: policy(account),
            reserve_bytes: petrel_pop3::RESERVE_BYTES,
        })
    }

    /// The local folders, with counts from the index.
    pub(crate) fn local_folders(&self, cx: &Shared) -> Result<Vec<Folder>, EngineError> {
        let mut out = Vec::new();
        let mut names: Vec<(String, Option<FolderRole>)> = LOCAL_FOLDERS
            .iter()
            .map(|(n, r)| (n.to_string(), Some(*r)))
            .collect();
        let mut user: Vec<String> = std::fs::read_dir(cx.local_root(&self.state.id))
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
            let folder = self.folder(name);
            self.index_local(cx, &folder)?;
            let state = cx
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
        if let Err(e) = cx.cache.set_folder_list(&self.state.id, &out) {
            tracing::warn!(account = %self.state.id, error = %e, "could not cache the local folder list");
        }
        Ok(out)
    }

    /// Brings the cache's rows of a local folder in line with its Maildir: new files are
    /// read and listed, vanished ones removed. Returns what changed.
    pub(crate) fn index_local(
        &self,
        cx: &Shared,
        folder: &FolderRef,
    ) -> Result<FolderChange, EngineError> {
        let maildir = self.local_maildir(cx, &folder.path)?;
        let files = maildir
            .messages()
            .map_err(maildir_err("Reading a local folder"))?;
        let mut indexes = lock(&self.indexes);
        let first = !indexes.contains_key(&folder.path);
        let index = indexes.entry(folder.path.clone()).or_default();
        if first {
            // UIDs are this run's: start the folder's rows afresh.
            cx.cache
                .drop_folder(folder)
                .map_err(EngineError::cache("Resetting a local folder"))?;
            cx.cache
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
            cx.cache
                .upsert(folder, &added)
                .map_err(EngineError::cache("Listing a local folder"))?;
        }
        if !gone.is_empty() {
            cx.cache
                .remove(folder, &gone)
                .map_err(EngineError::cache("Listing a local folder"))?;
        }
        if !added.is_empty() || !gone.is_empty() {
            cx.cache_changed();
        }
        // The listing that finds a first fill's messages takes the mark (see `first_fill`).
        let first_fill = folder.path == "INBOX"
            && !added.is_empty()
            && self.first_fill.swap(false, AtomicOrdering::SeqCst);
        let mut arrived: Vec<Envelope> = if first || first_fill {
            Vec::new()
        } else {
            added.iter().filter(|e| !e.seen).cloned().collect()
        };
        arrived.sort_by_key(|e| e.uid);
        let extra = arrived.len().saturating_sub(petrel_core::ARRIVED_LISTED);
        arrived.drain(..extra);
        Ok(FolderChange {
            added: if first { 0 } else { added.len() as u32 },
            removed: gone.len() as u32,
            arrived,
            ..cx.cached_change(folder)?
        })
    }

    /// The file holding a local message.
    pub(crate) fn local_file(
        &self,
        cx: &Shared,
        folder: &FolderRef,
        uid: u32,
    ) -> Result<PathBuf, EngineError> {
        let name = lock(&self.indexes)
            .get(&folder.path)
            .and_then(|i| i.by_uid.get(&uid).cloned())
            .ok_or_else(|| EngineError::InvalidInput("That message is no longer here.".into()))?;
        let maildir = self.local_maildir(cx, &folder.path)?;
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
        cx: &Shared,
        folder: &FolderRef,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError> {
        let path = self.local_file(cx, folder, uid)?;
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
        let _one_at_a_time = self.turn.lock().await;
        let account = self.state.settings();
        let completed = async {
            let session = self.pop3_session(cx, &account, None).await?;
            let job = self.pop3_job(cx, &account)?;
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
        cx: &Shared,
        folder: &FolderRef,
        uid: u32,
        seen: Option<bool>,
        flagged: Option<bool>,
    ) -> Result<(), EngineError> {
        let path = self.local_file(cx, folder, uid)?;
        let (_, flags) = split_name(&path);
        let mut flags: Vec<char> = flags.chars().filter(|c| *c != 'S' && *c != 'F').collect();
        let row = cx
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
        self.local_maildir(cx, &folder.path)?
            .set_flags(&path, &flags)
            .map_err(maildir_err("Marking a local message"))?;
        cx.cache
            .set_flags(folder, uid, seen, flagged)
            .map_err(EngineError::cache("Saving a flag"))?;
        cx.cache_changed();
        Ok(())
    }

    /// Adds the Maildir "replied" flag (R) to a local message.
    pub(crate) fn set_local_answered(
        &self,
        cx: &Shared,
        folder: &FolderRef,
        uid: u32,
    ) -> Result<(), EngineError> {
        let path = self.local_file(cx, folder, uid)?;
        let (_, flags) = split_name(&path);
        if flags.contains('R') {
            return Ok(());
        }
        self.local_maildir(cx, &folder.path)?
            .set_flags(&path, &format!("{flags}R"))
            .map_err(maildir_err("Marking a local message answered"))?;
        Ok(())
    }

    /// Moves local messages to another local folder of the account, or (to `None`) deletes
    /// them for good — then the server copy goes as the policy says.
    pub(crate) fn move_local(
        &self,
        cx: &Shared,
        folder: &FolderRef,
        uids: &[u32],
        to: Option<&str>,
    ) -> Result<FolderChange, EngineError> {
        let job = self.pop3_job(cx, &self.state.settings())?;
        let source = self.local_maildir(cx, &folder.path)?;
        for &uid in uids {
            let path = self.local_file(cx, folder, uid)?;
            match to {
                Some(to) => {
                    let target = self.local_maildir(cx, to)?;
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
            self.index_local(cx, &FolderRef::new(&folder.account, to))?;
        }
        self.index_local(cx, folder)
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

impl Pop3Account {
    /// Creates a local folder (nested with "/").
    pub(crate) fn create_local_folder(
        &self,
        cx: &Shared,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        let path = local_name(path)?;
        if self.local_dir(cx, &path).join("cur").is_dir() {
            return Err(EngineError::InvalidInput(format!(
                "There is already a folder {path}."
            )));
        }
        self.local_maildir(cx, &path)?;
        self.local_folders(cx)
    }

    /// Renames a local folder (and the folders inside it).
    pub(crate) fn rename_local_folder(
        &self,
        cx: &Shared,
        from: &str,
        to: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        let to = local_name(to)?;
        if LOCAL_FOLDERS.iter().any(|(n, _)| *n == from) {
            return Err(EngineError::InvalidInput(format!(
                "{from} is a standard folder and keeps its name."
            )));
        }
        if self.local_dir(cx, &to).exists() {
            return Err(EngineError::InvalidInput(format!(
                "There is already a folder {to}."
            )));
        }
        let inner: Vec<Folder> = self
            .local_folders(cx)?
            .into_iter()
            .filter(|f| f.path == from || f.path.starts_with(&format!("{from}/")))
            .collect();
        for f in inner {
            let rest = f.path.strip_prefix(from).unwrap_or_default();
            let new_path = format!("{to}{rest}");
            std::fs::rename(self.local_dir(cx, &f.path), self.local_dir(cx, &new_path)).map_err(
                |source| EngineError::Storage {
                    context: format!("Renaming {}", f.path),
                    source,
                },
            )?;
            self.forget_local(cx, &self.folder(&f.path))?;
        }
        // The new names are the only record of where this mail is: on disk before "done".
        petrel_maildir::sync_dir(&cx.local_root(&self.state.id))
            .map_err(maildir_err("Renaming a local folder"))?;
        self.local_folders(cx)
    }

    /// Deletes a local folder; its messages (and those of folders inside it) go to the
    /// Trash, so mail that exists only here is never lost by one click.
    pub(crate) fn delete_local_folder(
        &self,
        cx: &Shared,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        if LOCAL_FOLDERS.iter().any(|(n, _)| *n == path) {
            return Err(EngineError::InvalidInput(format!(
                "{path} is a standard folder and cannot be deleted."
            )));
        }
        let inner: Vec<String> = self
            .local_folders(cx)?
            .into_iter()
            .map(|f| f.path)
            .filter(|p| p == path || p.starts_with(&format!("{path}/")))
            .collect();
        let trash = self.local_maildir(cx, "Trash")?;
        for p in inner {
            let dir = self.local_dir(cx, &p);
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
            self.forget_local(cx, &self.folder(&p))?;
        }
        self.index_local(cx, &self.folder("Trash"))?;
        self.local_folders(cx)
    }

    fn forget_local(&self, cx: &Shared, folder: &FolderRef) -> Result<(), EngineError> {
        lock(&self.indexes).remove(&folder.path);
        cx.cache
            .drop_folder(folder)
            .map_err(EngineError::cache("Forgetting a folder"))?;
        cx.cache_changed();
        Ok(())
    }

    /// Copies local messages into another local folder.
    pub(crate) fn copy_local(
        &self,
        cx: &Shared,
        folder: &FolderRef,
        uids: &[u32],
        to: &str,
    ) -> Result<FolderChange, EngineError> {
        let target = self.local_maildir(cx, to)?;
        let mut copies = Vec::with_capacity(uids.len());
        for &uid in uids {
            let path = self.local_file(cx, folder, uid)?;
            copies.push(std::fs::read(&path).map_err(|source| EngineError::Storage {
                context: "Copying a message".into(),
                source,
            })?);
        }
        target
            .deliver_batch(&copies)
            .map_err(maildir_err("Copying messages"))?;
        self.index_local(cx, &FolderRef::new(&folder.account, to))?;
        self.index_local(cx, folder)
    }

    /// Copies a local folder's messages into a Maildir at `dest` (for another program),
    /// without Petrel's download stamps. Returns how many.
    pub fn export_folder(
        &self,
        cx: &Shared,
        folder: &str,
        dest: &Path,
    ) -> Result<u32, EngineError> {
        let out = Maildir::open(dest).map_err(maildir_err("Creating the export"))?;
        let dir = self.local_dir(cx, folder);
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
                batch.push(petrel_pop3::ledger::without_stamp(&raw).to_vec());
            }
            count += out
                .deliver_batch(&batch)
                .map_err(maildir_err("Writing the export"))?
                .len() as u32;
        }
        Ok(count)
    }
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

impl Pop3Account {
    /// The local folder that plays `role`.
    fn role_folder(role: FolderRole) -> Result<&'static str, EngineError> {
        LOCAL_FOLDERS
            .iter()
            .find(|(_, r)| *r == role)
            .map(|(name, _)| *name)
            .ok_or_else(|| EngineError::InvalidInput(format!("No local {role:?} folder.")))
    }

    fn moved(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        to: Option<&str>,
    ) -> Result<ActionOutcome, EngineError> {
        Ok(ActionOutcome {
            folder: self.move_local(cx, &self.folder(folder), uids, to)?,
            pending: 0,
        })
    }
}

impl Incoming for Pop3Account {
    async fn folders(&self, cx: &Shared) -> Result<Vec<Folder>, EngineError> {
        self.local_folders(cx)
    }

    /// Downloads new mail first when asked (INBOX only), then indexes the folder. The
    /// server out of reach is `offline`: local mail is shown all the same.
    async fn refresh(
        &self,
        cx: &Shared,
        folder: &str,
        download: bool,
    ) -> Result<Freshness, EngineError> {
        let mut offline = false;
        if download && folder == "INBOX" {
            match self.download(cx).await {
                Ok(()) => {}
                Err(e) if e.is_connection_problem() => {
                    tracing::warn!(account = %self.state.id, error = %e, "POP3 server unreachable, showing local mail");
                    offline = true;
                }
                Err(e) => return Err(e),
            }
        }
        self.state.mark_synced(folder);
        let change = self.index_local(cx, &self.folder(folder))?;
        Ok(Freshness {
            offline,
            change: Some(change),
        })
    }

    async fn raw_message(
        &self,
        cx: &Shared,
        folder: &str,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError> {
        self.local_message(cx, &self.folder(folder), uid).await
    }

    /// Every message is here: its local file.
    async fn beginnings(&self, cx: &Shared, folder: &str, uids: &[u32]) -> Vec<(u32, Vec<u8>)> {
        let folder_ref = self.folder(folder);
        let mut found = Vec::new();
        for &uid in uids {
            if let Ok(raw) = self.local_message(cx, &folder_ref, uid).await {
                found.push((uid, raw));
            }
        }
        found
    }

    async fn act(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        action: UserAction<'_>,
    ) -> Result<ActionOutcome, EngineError> {
        let folder_ref = self.folder(folder);
        match action {
            UserAction::Flags { seen, flagged } => {
                for &uid in uids {
                    self.set_local_flags(cx, &folder_ref, uid, seen, flagged)?;
                }
                Ok(ActionOutcome {
                    folder: self.index_local(cx, &folder_ref)?,
                    pending: 0,
                })
            }
            UserAction::Move { to } => self.moved(cx, folder, uids, Some(to)),
            UserAction::Copy { to } => Ok(ActionOutcome {
                folder: self.copy_local(cx, &folder_ref, uids, to)?,
                pending: 0,
            }),
            UserAction::Archive => self.moved(cx, folder, uids, Some(ARCHIVE)),
            UserAction::Delete(how) => {
                let permanent = how == Deletion::Permanently || folder == LOCAL_TRASH;
                if permanent && how != Deletion::Permanently {
                    return Err(EngineError::InvalidInput(
                        "Deleting in the Trash removes the messages for good: confirm “Delete permanently” first.".into(),
                    ));
                }
                if permanent {
                    // A deletion for good records itself in the ledger: not while a
                    // download writes it.
                    let _one_at_a_time = self.turn.lock().await;
                    return self.moved(cx, folder, uids, None);
                }
                self.moved(cx, folder, uids, Some(LOCAL_TRASH))
            }
        }
    }

    async fn change_folder(
        &self,
        cx: &Shared,
        edit: FolderEdit<'_>,
    ) -> Result<Vec<Folder>, EngineError> {
        match edit {
            FolderEdit::Create(path) => self.create_local_folder(cx, path),
            FolderEdit::Rename { from, to } => self.rename_local_folder(cx, from, to),
            FolderEdit::Delete(path) => self.delete_local_folder(cx, path),
            // Local folders are always "subscribed".
            FolderEdit::Subscribe { .. } => self.local_folders(cx),
        }
    }

    async fn file_copy(
        &self,
        cx: &Shared,
        role: FolderRole,
        raw: &[u8],
        replacing: Option<&str>,
    ) -> Result<(), EngineError> {
        let name = Self::role_folder(role)?;
        let maildir = self.local_maildir(cx, name)?;
        let older = replacing
            .map(|mid| copies::local_copies(&maildir, mid))
            .unwrap_or_default();
        maildir
            .deliver_batch(&[raw.to_vec()])
            .map_err(maildir_err(&format!("Filing the copy in {name}")))?;
        // Filed: from here on only tidying, which must not make the caller file it again.
        for path in older {
            if let Err(e) = maildir.remove(&path) {
                tracing::warn!(account = %self.state.id, error = %e, "an older copy stays");
            }
        }
        if let Err(e) = self.index_local(cx, &self.folder(name)) {
            tracing::warn!(account = %self.state.id, folder = name, error = %e, "not listed yet");
        }
        Ok(())
    }

    async fn add_message(&self, cx: &Shared, folder: &str, raw: &[u8]) -> Result<(), EngineError> {
        let maildir = self.local_maildir(cx, folder)?;
        maildir
            .deliver_batch(&[raw.to_vec()])
            .map_err(maildir_err(&format!("Copying the message to {folder}")))?;
        if let Err(e) = self.index_local(cx, &self.folder(folder)) {
            tracing::warn!(account = %self.state.id, folder, error = %e, "not listed yet");
        }
        Ok(())
    }

    async fn has_copy(&self, cx: &Shared, role: FolderRole, message_id: &str) -> bool {
        Self::role_folder(role)
            .and_then(|name| self.local_maildir(cx, name))
            .is_ok_and(|maildir| !copies::local_copies(&maildir, message_id).is_empty())
    }

    async fn remove_copies(
        &self,
        cx: &Shared,
        role: FolderRole,
        message_id: &str,
    ) -> Result<(), EngineError> {
        let name = Self::role_folder(role)?;
        let maildir = self.local_maildir(cx, name)?;
        let found = copies::local_copies(&maildir, message_id);
        if found.is_empty() {
            return Ok(());
        }
        for path in found {
            maildir
                .remove(&path)
                .map_err(maildir_err(&format!("Removing from {name}")))?;
        }
        self.index_local(cx, &self.folder(name))?;
        Ok(())
    }

    async fn mark_answered(&self, cx: &Shared, folder: &str, uid: u32) -> Result<(), EngineError> {
        self.set_local_answered(cx, &self.folder(folder), uid)
    }

    /// A download at start, then every `check_minutes`, never more often than the server's
    /// LOGIN-DELAY (the watch configuration may set its own pace). Errors are logged; the
    /// next round tries again.
    async fn watch(&self, cx: Arc<Shared>, config: WatchConfig, stop: Arc<Notify>) {
        let mut last: Option<AccountStatus> = None;
        loop {
            match self.check(&cx).await {
                Ok(Some(change)) => cx.emit(EngineEvent::FolderChanged(change)),
                Ok(None) => {}
                Err(e) => tracing::info!(account = %self.state.id, error = %e, "POP3 check failed"),
            }
            // The status bar follows (online, offline with the next try, password refused…).
            let now = self.status(&cx);
            if last
                .as_ref()
                .is_none_or(|l| (l.state, &l.message) != (now.state, &now.message))
            {
                cx.emit(EngineEvent::Status(now.clone()));
                last = Some(now);
            }
            let every = config.pop3_every.unwrap_or_else(|| self.interval());
            if sleep_or_stop(every, &stop).await {
                return;
            }
        }
    }

    fn status(&self, cx: &Shared) -> AccountStatus {
        self.state.status(cx.pending_count(&self.state.id))
    }
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
}
