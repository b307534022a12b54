//! The search index as the engine holds it: opened once, with the flag that says it must
//! be rebuilt, the follower's turn, the first build's progress; and the pieces of indexing
//! that need no engine (messages handed to the index, names of places). The verbs that
//! use the accounts are in `search.rs`.

use crate::EngineError;
use petrel_core::{Envelope, FolderRole, IndexProgress};
use petrel_search::{Message, Places, SearchIndex};
use petrel_store::FolderRef;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The engine's search state.
pub(crate) struct Search {
    dir: std::path::PathBuf,
    /// Opened on first use: a Petrel without accounts writes nothing to disk.
    opened: std::sync::OnceLock<Result<Arc<SearchIndex>, String>>,
    /// The index must be fed everything (new, or of another version).
    pub rebuild: AtomicBool,
    /// One follower at a time (the background one, or a search catching up).
    pub turn: tokio::sync::Mutex<()>,
    pub progress: std::sync::Mutex<Option<IndexProgress>>,
}

impl Search {
    pub fn new(dir: &std::path::Path) -> Search {
        Search {
            dir: dir.to_path_buf(),
            opened: std::sync::OnceLock::new(),
            rebuild: AtomicBool::new(false),
            turn: tokio::sync::Mutex::new(()),
            progress: std::sync::Mutex::new(None),
        }
    }

    pub fn is_open(&self) -> bool {
        self.opened.get().is_some()
    }

    /// The index, opened (and marked for a rebuild when new) on first use.
    pub fn index(&self) -> Result<Arc<SearchIndex>, EngineError> {
        let opened = self
            .opened
            .get_or_init(|| match SearchIndex::open(&self.dir) {
                Ok((index, fresh)) => {
                    self.rebuild
                        .store(fresh, std::sync::atomic::Ordering::SeqCst);
                    Ok(Arc::new(index))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the search index could not be opened");
                    Err(e.to_string())
                }
            });
        opened.clone().map_err(|e| {
            EngineError::InvalidInput(format!(
                "Search is not available: the index could not be opened ({e}). Restarting Petrel rebuilds it."
            ))
        })
    }
}

pub(crate) fn index_error(e: petrel_search::SearchError) -> EngineError {
    match e {
        petrel_search::SearchError::Query(q) => EngineError::InvalidInput(q.message),
        e => EngineError::InvalidInput(format!("Search failed: {e}.")),
    }
}

pub(crate) fn cache_error(e: petrel_store::StoreError) -> EngineError {
    EngineError::cache("Reading the cache for search")(e)
}

/// One message to (re)index or forget.
pub(crate) struct Work {
    pub folder: FolderRef,
    pub uid: u32,
    pub row: Option<Envelope>,
    pub raw: Option<Vec<u8>>,
}

pub(crate) fn put_all(index: &SearchIndex, work: Vec<Work>) -> petrel_search::Result<()> {
    for w in work {
        match &w.row {
            Some(row) => index.put(&Message {
                account: &w.folder.account.0,
                folder: &w.folder.path,
                uid: w.uid,
                row,
                links: None,
                raw: w.raw.as_deref(),
            })?,
            None => index.delete(&w.folder.account.0, &w.folder.path, w.uid)?,
        }
    }
    Ok(())
}

/// Accounts (id, address, name) and folders (account, path, name, role) by name.
pub(crate) struct Directory {
    pub accounts: Vec<(String, String, String)>,
    pub folders: Vec<(String, String, String, Option<FolderRole>)>,
}

impl Places for Directory {
    fn folders(&self, name: &str) -> Vec<(String, String)> {
        let role = role_named(name);
        self.folders
            .iter()
            .filter(|(_, path, short, r)| {
                path.eq_ignore_ascii_case(name)
                    || short.eq_ignore_ascii_case(name)
                    || (role.is_some() && *r == role)
            })
            .map(|(a, p, _, _)| (a.clone(), p.clone()))
            .collect()
    }

    fn accounts(&self, name: &str) -> Vec<String> {
        let name = name.trim();
        self.accounts
            .iter()
            .filter(|(id, email, display)| {
                id == name
                    || email.eq_ignore_ascii_case(name)
                    || display.eq_ignore_ascii_case(name)
                    || email
                        .rsplit_once('@')
                        .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(name))
            })
            .map(|(id, _, _)| id.clone())
            .collect()
    }
}

/// The folder role a word means in `in:` (`in:sent` is each account's Sent folder).
fn role_named(name: &str) -> Option<FolderRole> {
    Some(match name.to_ascii_lowercase().as_str() {
        "inbox" => FolderRole::Inbox,
        "sent" => FolderRole::Sent,
        "drafts" => FolderRole::Drafts,
        "trash" => FolderRole::Trash,
        "junk" | "spam" => FolderRole::Junk,
        "archive" => FolderRole::Archive,
        _ => return None,
    })
}
