//! Petrel's cache of server mail, behind the [`MailCache`] trait.
//!
//! For IMAP the server is the truth: everything here can be dropped and rebuilt from it, so
//! the cache favours fast reads over durability (sled's background flush is enough). Mail that
//! exists only on this computer (POP3, drafts, outbox) never lives only here; it goes to a
//! Maildir first (see DESIGN §2).
//!
//! What the list view needs is "rows N..N+200 of folder F, newest first" in time that grows
//! with the page, not the folder, and unread/total counts without a scan. Rows are kept by
//! UID; a date index holds (date, uid) keys only; an in-memory rank (the sorted keys of each
//! open folder) turns a position into keys in O(log n), then the page is a few point reads.
//! Counts are stored per folder and updated in the same atomic batch as the rows.
#![forbid(unsafe_code)]

mod blocks;
mod bodies;
mod error;
mod memory;
mod rank;
mod sled_cache;

pub use error::StoreError;
pub use memory::MemoryCache;
pub use sled_cache::SledCache;

use petrel_core::{AccountId, Envelope, Folder, ThreadLinks};
use serde::{Deserialize, Serialize};

/// A folder of an account, as the cache names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FolderRef {
    pub account: AccountId,
    pub path: String,
}

impl FolderRef {
    pub fn new(account: &AccountId, path: &str) -> Self {
        FolderRef {
            account: account.clone(),
            path: path.to_string(),
        }
    }
}

/// What the sync engine remembers about a folder between sessions (RFC 3501, 7162).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderState {
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highestmodseq: u64,
    /// Messages cached for this folder.
    pub total: u32,
    /// Cached messages without `\Seen`.
    pub unread: u32,
}

/// Rows of a folder, newest first, from position `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub offset: u32,
    pub total: u32,
    pub rows: Vec<Envelope>,
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What a write changed, kept in order for the stores derived from the cache (the search
/// index) to follow: they read the journal, catch up, then forget what they have. Written
/// in the same atomic batch as the change itself, so a crash never loses one without the
/// other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheChange {
    /// These messages were added, changed (flags, body, threading headers) or removed:
    /// the cache holds their state now.
    Messages { folder: FolderRef, uids: Vec<u32> },
    /// Every message of the folder went (dropped, or a UIDVALIDITY change).
    Folder(FolderRef),
}

impl CacheChange {
    fn messages(folder: &FolderRef, uids: impl IntoIterator<Item = u32>) -> CacheChange {
        CacheChange::Messages {
            folder: folder.clone(),
            uids: uids.into_iter().collect(),
        }
    }
}

/// The cache the engine talks to: written by the account objects (sync, download, actions),
/// read by the views; any thread may call it.
pub trait MailCache: Send + Sync {
    /// The folder's state, or `None` if it was never synced.
    fn folder_state(&self, folder: &FolderRef) -> Result<Option<FolderState>>;

    /// Records UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ. A UIDVALIDITY different from the cached one
    /// means every cached UID is meaningless (RFC 3501 §2.3.1.1): the folder's rows are dropped.
    fn set_sync_state(
        &self,
        folder: &FolderRef,
        uidvalidity: u32,
        uidnext: u32,
        highestmodseq: u64,
    ) -> Result<()>;

    /// Inserts or replaces rows (matched by UID), keeping counts and the date order right.
    fn upsert(&self, folder: &FolderRef, rows: &[Envelope]) -> Result<()>;

    /// Inserts rows the caller knows are not cached yet (the sync engine's new UIDs). Skips
    /// the per-row lookup `upsert` needs; a row that was cached after all is replaced.
    fn insert_new(&self, folder: &FolderRef, rows: &[Envelope]) -> Result<()> {
        self.upsert(folder, rows)
    }

    /// Removes rows by UID (expunged or moved away); unknown UIDs are ignored.
    fn remove(&self, folder: &FolderRef, uids: &[u32]) -> Result<()>;

    /// Changes the flags of one cached row; returns false if the UID is not cached.
    fn set_flags(&self, folder: &FolderRef, uid: u32, seen: bool, flagged: bool) -> Result<bool>;

    /// One cached row by UID.
    fn envelope(&self, folder: &FolderRef, uid: u32) -> Result<Option<Envelope>>;

    /// Rows `offset..offset+limit` by date, newest first.
    fn page(&self, folder: &FolderRef, offset: u32, limit: u32) -> Result<Page>;

    /// The folder's (date, uid) keys in list order (newest first): for merging folders into
    /// one list (the unified inbox) without reading their rows.
    fn order_keys(&self, folder: &FolderRef) -> Result<Vec<(i64, u32)>>;

    /// All cached UIDs of the folder, ascending (for flag and expunge diffs).
    fn uids(&self, folder: &FolderRef) -> Result<Vec<u32>>;

    /// Forgets the folder entirely (deleted on the server, or a UIDVALIDITY change).
    fn drop_folder(&self, folder: &FolderRef) -> Result<()>;

    /// Keeps a message's raw bytes (read once, readable offline). Removed with its row.
    fn set_body(&self, folder: &FolderRef, uid: u32, raw: &[u8]) -> Result<()>;

    /// A message's raw bytes, if cached.
    fn body(&self, folder: &FolderRef, uid: u32) -> Result<Option<Vec<u8>>>;

    /// UIDs of the folder whose bodies are cached, ascending.
    fn body_uids(&self, folder: &FolderRef) -> Result<Vec<u32>>;

    /// Keeps several bodies in one write (offline download).
    fn set_bodies(&self, folder: &FolderRef, bodies: &[(u32, Vec<u8>)]) -> Result<()> {
        for (uid, raw) in bodies {
            self.set_body(folder, *uid, raw)?;
        }
        Ok(())
    }

    /// Keeps messages' threading headers (for the conversation view); only for cached rows,
    /// removed with them.
    fn set_thread_links(&self, folder: &FolderRef, links: &[(u32, ThreadLinks)]) -> Result<()>;

    /// Every cached message's threading headers in the folder, by UID ascending.
    fn thread_links(&self, folder: &FolderRef) -> Result<Vec<(u32, ThreadLinks)>>;

    /// Remembers the account's folder tree (so it shows, and actions resolve Trash or
    /// Archive, while offline).
    fn set_folder_list(&self, account: &AccountId, folders: &[Folder]) -> Result<()>;

    fn folder_list(&self, account: &AccountId) -> Result<Option<Vec<Folder>>>;

    /// Paths of the account's folders that have cached state.
    fn cached_folders(&self, account: &AccountId) -> Result<Vec<String>>;

    /// Forgets everything of an account (it was removed).
    fn drop_account(&self, account: &AccountId) -> Result<()>;

    /// Up to `limit` journal entries after sequence number `after`, oldest first. Numbers
    /// only grow, across restarts too.
    fn changes(&self, after: u64, limit: usize) -> Result<Vec<(u64, CacheChange)>>;

    /// Forgets journal entries up to and including `through` (a follower has them).
    fn forget_changes(&self, through: u64) -> Result<()>;

    /// The newest journal entry's number (0 when the journal is empty): where a follower
    /// that reads the whole cache afresh (a rebuild) starts following.
    fn last_change(&self) -> Result<u64>;

    /// Which journal this is: a new number for each new cache (a cache deleted and made
    /// again starts its numbers over, so a follower must start over too).
    fn journal_id(&self) -> u64;
}

/// A number no other cache made: the time in nanoseconds mixed with the process id.
pub(crate) fn new_journal_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 40)
}

/// Sort key of a row: newest first, then highest UID first for equal dates.
pub(crate) fn order_key(row: &Envelope) -> (i64, u32) {
    (row.date.unwrap_or(i64::MIN), row.uid)
}
