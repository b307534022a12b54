//! Accounts own their state. `Account` is the one place that asks which protocol an
//! account speaks: everything above it calls the verbs of [`Incoming`], which both kinds
//! implement (no default methods, so a new verb does not compile until each kind has it).
//!
//! Each account object owns its session(s), connection health and backoff, pending-action
//! replay, the folders synced since start, its outbox turn and its local indexes; removing
//! an account drops the object and with it all of that.

mod credential;
mod imap;
pub(crate) mod import_into;
mod link;
mod pop3;
mod state;

pub(crate) use credential::Credential;
pub(crate) use imap::ImapAccount;
pub(crate) use pop3::Pop3Account;
pub(crate) use state::AccountState;

use crate::events::WatchConfig;
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::{
    AccountSettings, AccountStatus, ActionOutcome, Folder, FolderChange, FolderRole,
    IncomingProtocol,
};
use std::sync::Arc;
use tokio::sync::Notify;

/// How Delete goes: to the Trash, or for good (the user confirmed "Delete permanently").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deletion {
    ToTrash,
    Permanently,
}

/// What the user does to messages of one folder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserAction<'a> {
    Flags {
        seen: Option<bool>,
        flagged: Option<bool>,
    },
    Move {
        to: &'a str,
    },
    Copy {
        to: &'a str,
    },
    Delete(Deletion),
    Archive,
}

/// A change to the folder tree.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FolderEdit<'a> {
    Create(&'a str),
    Rename { from: &'a str, to: &'a str },
    Delete(&'a str),
    Subscribe { path: &'a str, subscribed: bool },
}

/// What a refresh of one folder found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Freshness {
    /// The server could not be reached; what the cache holds is shown.
    pub offline: bool,
    pub change: Option<FolderChange>,
}

/// What every incoming kind does.
pub(crate) trait Incoming {
    /// The folder tree (the server's, remembered; or the local folders).
    async fn folders(&self, cx: &Shared) -> Result<Vec<Folder>, EngineError>;
    /// Brings one folder's cached rows up to date with the server (IMAP sync; POP3
    /// download into INBOX and indexing). `download` false only indexes what is here.
    async fn refresh(
        &self,
        cx: &Shared,
        folder: &str,
        download: bool,
    ) -> Result<Freshness, EngineError>;
    /// A message's bytes (cached, fetched, or the local file).
    async fn raw_message(
        &self,
        cx: &Shared,
        folder: &str,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError>;
    /// The beginning of each of `uids` (whole when here: cached or local; else the first
    /// kilobytes from the server), for the list's preview line. Best effort: what cannot
    /// be had now (offline, gone) is left out.
    async fn beginnings(&self, cx: &Shared, folder: &str, uids: &[u32]) -> Vec<(u32, Vec<u8>)>;
    /// Flags, move, copy, delete, archive.
    async fn act(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        action: UserAction<'_>,
    ) -> Result<ActionOutcome, EngineError>;
    async fn change_folder(
        &self,
        cx: &Shared,
        edit: FolderEdit<'_>,
    ) -> Result<Vec<Folder>, EngineError>;
    /// Files a message into the folder of `role` (Sent, Drafts); older copies with the same
    /// Message-ID go once the new one is filed (a crash leaves two, never none).
    async fn file_copy(
        &self,
        cx: &Shared,
        role: FolderRole,
        raw: &[u8],
        replacing: Option<&str>,
    ) -> Result<(), EngineError>;
    /// Adds a whole message to `folder` (read: the user brought it; a message file).
    async fn add_message(&self, cx: &Shared, folder: &str, raw: &[u8]) -> Result<(), EngineError>;
    /// Whether the folder of `role` holds a message with this Message-ID.
    async fn has_copy(&self, cx: &Shared, role: FolderRole, message_id: &str) -> bool;
    /// Removes every copy with this Message-ID from the folder of `role`.
    async fn remove_copies(
        &self,
        cx: &Shared,
        role: FolderRole,
        message_id: &str,
    ) -> Result<(), EngineError>;
    /// Marks a message answered (after a reply went out).
    async fn mark_answered(&self, cx: &Shared, folder: &str, uid: u32) -> Result<(), EngineError>;
    /// Watches for changes made elsewhere until `stop`.
    async fn watch(&self, cx: Arc<Shared>, config: WatchConfig, stop: Arc<Notify>);
    fn status(&self, cx: &Shared) -> AccountStatus;
}

// One per account, made once and kept in an `Arc`: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Account {
    Imap(ImapAccount),
    Pop3(Pop3Account),
}

/// Static dispatch to the account's kind.
macro_rules! each {
    ($account:expr, $a:ident => $body:expr) => {
        match $account {
            Account::Imap($a) => $body,
            Account::Pop3($a) => $body,
        }
    };
}

/// Static dispatch of an async verb; the verb's future lives on the heap. Without the box
/// every caller's future would hold both kinds' (IMAP: session, replay, sync) inline, and a
/// chain of them (delete → create Trash → list folders → replay → sync) outgrows a
/// thread's stack.
macro_rules! each_boxed {
    ($account:expr, $a:ident => $fut:expr) => {
        match $account {
            Account::Imap($a) => Box::pin($fut).await,
            Account::Pop3($a) => Box::pin($fut).await,
        }
    };
}

impl Account {
    /// The account object for saved settings: the one place the protocol is chosen.
    pub fn new(settings: AccountSettings) -> Account {
        match settings.protocol {
            IncomingProtocol::Imap => Account::Imap(ImapAccount::new(settings)),
            IncomingProtocol::Pop3 => Account::Pop3(Pop3Account::new(settings)),
        }
    }

    pub fn state(&self) -> &AccountState {
        each!(self, a => &a.state)
    }

    pub fn settings(&self) -> AccountSettings {
        self.state().settings()
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Account::Pop3(_))
    }

    /// Checks the server of settings not saved yet (a new account, changed settings).
    pub(crate) async fn verify(
        cx: &Shared,
        settings: &AccountSettings,
        credential: &Credential,
    ) -> Result<Option<petrel_imap::ImapSession>, EngineError> {
        match settings.protocol {
            IncomingProtocol::Imap => ImapAccount::verify(cx, settings, credential)
                .await
                .map(Some),
            IncomingProtocol::Pop3 => Pop3Account::verify(cx, settings, credential)
                .await
                .map(|()| None),
        }
    }

    /// Hands a verified session to the new account (so its first view needs no login).
    pub async fn adopt(&self, session: Option<petrel_imap::ImapSession>) {
        if let (Account::Imap(a), Some(session)) = (self, session) {
            a.adopt(session).await;
        }
    }

    /// Logs out and lets go of what the account holds open.
    pub async fn close(&self) {
        if let Account::Imap(a) = self {
            a.close().await;
        }
    }

    /// The background check for new mail: folders that changed.
    pub async fn check(&self, cx: &Shared, also: Option<&str>) -> Vec<FolderChange> {
        match self {
            Account::Imap(a) => a.check(cx, also).await,
            Account::Pop3(a) => a.check(cx).await.ok().flatten().into_iter().collect(),
        }
    }

    /// Offline copies of bodies (IMAP accounts set to keep mail here; POP3 mail is here).
    pub async fn download_for_offline(&self, cx: &Shared) -> Result<usize, EngineError> {
        match self {
            Account::Imap(a) => a.download_for_offline(cx).await,
            Account::Pop3(_) => Ok(0),
        }
    }

    /// Bodies of the folder's cached messages that have none yet (POP3 mail is here
    /// already).
    pub async fn download_bodies(
        &self,
        cx: &Shared,
        folder: &str,
        progress: impl FnMut(usize, usize),
    ) -> Result<usize, EngineError> {
        match self {
            Account::Imap(a) => a.download_bodies(cx, folder, progress).await,
            Account::Pop3(_) => Ok(0),
        }
    }

    /// Sends the queued actions in order (POP3 acts on local files at once: none queue).
    pub async fn replay(&self, cx: &Shared) -> Result<(), EngineError> {
        match self {
            Account::Imap(a) => a.replay(cx).await,
            Account::Pop3(_) => Ok(()),
        }
    }

    /// Whether a local message was downloaded as headers only.
    pub fn is_partial(&self, raw: &[u8]) -> bool {
        self.is_local() && petrel_pop3::ledger::parse_stamp(raw).is_some_and(|s| s.partial)
    }

    /// A message's bytes if they are on this computer, without asking the server (for the
    /// search index).
    pub async fn local_copy(&self, cx: &Shared, folder: &str, uid: u32) -> Option<Vec<u8>> {
        match self {
            Account::Imap(a) => cx
                .cache
                .body(&petrel_store::FolderRef::new(&a.state.id, folder), uid)
                .ok()
                .flatten(),
            Account::Pop3(a) => a.raw_message(cx, folder, uid).await.ok(),
        }
    }

    /// UIDs matching `search` in each of `folders`, asked of the server (POP3 mail is all
    /// here: nothing to ask).
    pub async fn search_server(
        &self,
        cx: &Shared,
        folders: &[String],
        search: &petrel_core::query::ImapSearch,
    ) -> Result<Vec<(String, Vec<u32>)>, EngineError> {
        match self {
            Account::Imap(a) => a.search_server(cx, folders, search).await,
            Account::Pop3(_) => Ok(vec![]),
        }
    }

    /// Marks a message read when the reader opens it.
    pub async fn mark_read(&self, cx: &Shared, folder: &str, uid: u32) {
        let result = self
            .act(
                cx,
                folder,
                &[uid],
                UserAction::Flags {
                    seen: Some(true),
                    flagged: None,
                },
            )
            .await;
        if let Err(e) = result {
            tracing::warn!(account = %self.state().id, folder, uid, error = %e, "could not mark a message read");
        }
    }

    /// Threading headers of the folder's cached messages that have none yet (IMAP: fetched;
    /// local mail has them in its files already).
    pub async fn fetch_missing_links(&self, cx: &Shared, folder: &str) -> Result<(), EngineError> {
        match self {
            Account::Imap(a) => a.fetch_missing_links(cx, folder).await,
            Account::Pop3(_) => Ok(()),
        }
    }

    pub async fn quota(&self, cx: &Shared) -> Result<Option<petrel_core::Quota>, EngineError> {
        match self {
            Account::Imap(a) => a.quota(cx).await,
            // POP3 has no quota command; the mail is on this computer.
            Account::Pop3(_) => Ok(None),
        }
    }

    /// A local folder copied to a Maildir for another program.
    pub fn export_folder(
        &self,
        cx: &Shared,
        folder: &str,
        dest: &std::path::Path,
    ) -> Result<u32, EngineError> {
        match self {
            Account::Pop3(a) => a.export_folder(cx, folder, dest),
            Account::Imap(_) => Err(EngineError::InvalidInput(
                "Exporting a folder is available for local (POP3) folders; IMAP mail stays on the server.".into(),
            )),
        }
    }
}

impl Incoming for Account {
    async fn folders(&self, cx: &Shared) -> Result<Vec<Folder>, EngineError> {
        each_boxed!(self, a => a.folders(cx))
    }
    async fn refresh(
        &self,
        cx: &Shared,
        folder: &str,
        download: bool,
    ) -> Result<Freshness, EngineError> {
        each_boxed!(self, a => a.refresh(cx, folder, download))
    }
    async fn raw_message(
        &self,
        cx: &Shared,
        folder: &str,
        uid: u32,
    ) -> Result<Vec<u8>, EngineError> {
        each_boxed!(self, a => a.raw_message(cx, folder, uid))
    }
    async fn beginnings(&self, cx: &Shared, folder: &str, uids: &[u32]) -> Vec<(u32, Vec<u8>)> {
        each_boxed!(self, a => a.beginnings(cx, folder, uids))
    }
    async fn act(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        action: UserAction<'_>,
    ) -> Result<ActionOutcome, EngineError> {
        if let UserAction::Move { to } = action {
            if folder == to {
                return Err(EngineError::InvalidInput(
                    "The messages are already in that folder.".into(),
                ));
            }
        }
        each_boxed!(self, a => a.act(cx, folder, uids, action))
    }
    async fn change_folder(
        &self,
        cx: &Shared,
        edit: FolderEdit<'_>,
    ) -> Result<Vec<Folder>, EngineError> {
        each_boxed!(self, a => a.change_folder(cx, edit))
    }
    async fn file_copy(
        &self,
        cx: &Shared,
        role: FolderRole,
        raw: &[u8],
        replacing: Option<&str>,
    ) -> Result<(), EngineError> {
        each_boxed!(self, a => a.file_copy(cx, role, raw, replacing))
    }
    async fn add_message(&self, cx: &Shared, folder: &str, raw: &[u8]) -> Result<(), EngineError> {
        each_boxed!(self, a => a.add_message(cx, folder, raw))
    }
    async fn has_copy(&self, cx: &Shared, role: FolderRole, message_id: &str) -> bool {
        each_boxed!(self, a => a.has_copy(cx, role, message_id))
    }
    async fn remove_copies(
        &self,
        cx: &Shared,
        role: FolderRole,
        message_id: &str,
    ) -> Result<(), EngineError> {
        each_boxed!(self, a => a.remove_copies(cx, role, message_id))
    }
    async fn mark_answered(&self, cx: &Shared, folder: &str, uid: u32) -> Result<(), EngineError> {
        each_boxed!(self, a => a.mark_answered(cx, folder, uid))
    }
    async fn watch(&self, cx: Arc<Shared>, config: WatchConfig, stop: Arc<Notify>) {
        each_boxed!(self, a => a.watch(cx, config, stop))
    }
    fn status(&self, cx: &Shared) -> AccountStatus {
        each!(self, a => a.status(cx))
    }
}

/// The folder with `role` in the cached tree, the one lookup of role folders (no LIST on
/// every delete): `selectable` ones only.
pub(crate) fn cached_role_folder(
    cx: &Shared,
    id: &petrel_core::AccountId,
    role: FolderRole,
) -> Option<String> {
    cx.cache
        .folder_list(id)
        .ok()
        .flatten()?
        .into_iter()
        .find(|f| f.role == Some(role) && f.selectable)
        .map(|f| f.path)
}
