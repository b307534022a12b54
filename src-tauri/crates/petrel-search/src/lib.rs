//! Petrel's full-text index of mail: one tantivy index for every account, in the app's data
//! dir. A derived store like the cache (DESIGN §11): everything in it can be rebuilt from the
//! cache and the Maildirs, so it favours speed and a small footprint over durability — a
//! crash loses at most the work since the last commit, which the cache's journal replays.
//!
//! One document per message of a folder (a copy in two folders is two documents), keyed by
//! account, folder and UID. Messages whose body is on this computer are indexed whole; the
//! others by their list row (sender, subject, date, size, flags) until the body arrives.
#![forbid(unsafe_code)]

mod document;
mod query;
mod snippet;

pub use document::Message;
pub use query::Places;

use petrel_core::query::{Day, Query, QueryError};
use petrel_core::Marked;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

/// Bump when the schema or the tokenizer change: an index of another version is deleted
/// and rebuilt from the cache and the Maildirs.
pub const VERSION: u32 = 1;
const VERSION_FILE: &str = "petrel-index-version";

/// The writer's arena. tantivy flushes a segment when it is full, so this bounds the
/// memory indexing takes (plus one message being read).
pub const WRITER_BUDGET_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    Query(QueryError),
    #[error("the search index: {0}")]
    Index(String),
    /// Another program holds the index's writer lock (a second Petrel on this data dir).
    #[error("the search index is in use by another program")]
    Busy,
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        match e {
            tantivy::TantivyError::LockFailure(..) => SearchError::Busy,
            e => SearchError::Index(e.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, SearchError>;

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    Newest,
    Relevance,
}

/// One message found, with its subject and a snippet cut into plain and matched pieces
/// (text, never HTML: the UI marks the matched pieces itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub account: String,
    pub folder: String,
    pub uid: u32,
    pub date: Option<i64>,
    pub score: f32,
    pub subject: Vec<Marked>,
    pub snippet: Vec<Marked>,
    /// The body was on this computer when it was indexed: a local result is complete.
    pub whole: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    pub hits: Vec<Hit>,
    /// Every match, beyond the `limit` returned.
    pub total: usize,
}

pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: document::Fields,
    /// Opened on first write: reading needs no lock, and only one program may write.
    writer: Mutex<Option<IndexWriter>>,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when missing. An index of another version, or
    /// one that cannot be opened, is deleted and made anew; `fresh` then says the caller
    /// must feed it everything (a rebuild).
    pub fn open(dir: &Path) -> Result<(SearchIndex, bool)> {
        let wanted = VERSION.to_string();
        let found = std::fs::read_to_string(dir.join(VERSION_FILE)).ok();
        let (schema, fields) = document::schema();
        let existing = match found.as_deref().map(str::trim) {
            Some(v) if v == wanted => tantivy::Index::open_in_dir(dir).ok(),
            _ => None,
        };
        let (index, fresh) = match existing {
            Some(index) => (index, false),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(io)?;
                }
                std::fs::create_dir_all(dir).map_err(io)?;
                // The version is written once the caller has fed everything
                // (`mark_built`): a crash during a rebuild starts it over.
                let index = Index::create_in_dir(dir, schema).map_err(SearchError::from)?;
                (index, true)
            }
        };
        document::register_tokenizer(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok((
            SearchIndex {
                dir: dir.to_path_buf(),
                index,
                reader,
                fields,
                writer: Mutex::new(None),
            },
            fresh,
        ))
    }

    /// Says the index holds everything (after a first build or rebuild is committed).
    pub fn mark_built(&self) -> Result<()> {
        std::fs::write(self.dir.join(VERSION_FILE), VERSION.to_string()).map_err(io)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache journal (its id) and the entry the last commit included; (0, 0): none.
    pub fn committed(&self) -> (u64, u64) {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| {
                let (journal, seq) = p.split_once(':')?;
                Some((journal.parse().ok()?, seq.parse().ok()?))
            })
            .unwrap_or((0, 0))
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut slot = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            // One indexing thread: the other core stays with sync and the UI.
            *slot = Some(self.index.writer_with_num_threads(1, WRITER_BUDGET_BYTES)?);
        }
        match slot.as_mut() {
            Some(w) => f(w),
            None => Err(SearchError::Index("no writer".into())),
        }
    }

    /// Indexes a message, replacing the document it had.
    pub fn put(&self, message: &Message<'_>) -> Result<()> {
        let doc = document::build(&self.fields, message);
        let key = document::key(message.account, message.folder, message.uid);
        self.with_writer(|w| {
            w.delete_term(Term::from_field_text(self.fields.key, &key));
            w.add_document(doc)?;
            Ok(())
        })
    }

    /// Forgets a message (it left the folder).
    pub fn delete(&self, account: &str, folder: &str, uid: u32) -> Result<()> {
        let key = document::key(account, folder, uid);
        self.with_writer(|w| {
            w.delete_term(Term::from_field_text(self.fields.key, &key));
            Ok(())
        })
    }

    /// Forgets everything (before a rebuild from another cache).
    pub fn clear(&self) -> Result<()> {
        self.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })
    }

    /// Forgets every message of a folder.
    pub fn delete_folder(&self, account: &str, folder: &str) -> Result<()> {
        let key = document::folder_key(account, folder);
        self.with_writer(|w| {
            w.delete_term(Term::from_field_text(self.fields.folder_key, &key));
            Ok(())
        })
    }

    /// Makes what was put and deleted so far durable and searchable, recording the journal
    /// position it covers (the journal's id and entry). tantivy switches to the new state by renaming its meta file: a
    /// crash before that leaves the previous commit, whole.
    pub fn commit(&self, journal: u64, seq: u64) -> Result<()> {
        self.with_writer(|w| {
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&format!("{journal}:{seq}"));
            prepared.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Lets go of the writer (and its lock) until the next write.
    pub fn release_writer(&self) {
        let mut slot = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = slot.take() {
            // Waits for merges in flight; their result is garbage-collected later if cut.
            let _ = w.wait_merging_threads();
        }
    }

    /// Messages in the index (committed).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Disk space the index takes, in bytes.
    pub fn disk_bytes(&self) -> u64 {
        dir_size(&self.dir)
    }

    /// The `limit` best matches of `query` (from position `offset`), with how many match in
    /// all. `places` resolves `in:` and `account:`; `today` turns ages into dates.
    pub fn search(
        &self,
        query: &Query,
        places: &dyn Places,
        today: Day,
        ranking: Ranking,
        offset: usize,
        limit: usize,
    ) -> Result<Found> {
        let built = query::build(&self.fields, query, places, today)?;
        let searcher = self.reader.searcher();
        let limit = limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let (total, top) = match ranking {
            Ranking::Relevance => searcher.search(&*built, &(Count, top.order_by_score()))?,
            Ranking::Newest => {
                let (total, top) = searcher.search(
                    &*built,
                    &(Count, top.order_by_fast_field::<i64>("date", Order::Desc)),
                )?;
                (total, top.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        self.hits(&searcher, &*built, top, total)
    }

    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn tantivy::query::Query,
        top: Vec<(f32, tantivy::DocAddress)>,
        total: usize,
    ) -> Result<Found> {
        let f = &self.fields;
        let marks = snippet::Marks::new(searcher, query, f)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let number = |field| doc.get_first(field).and_then(|v| v.as_u64());
            let subject = text(f.subject);
            let preview = text(f.preview);
            hits.push(Hit {
                account: text(f.account),
                folder: text(f.folder),
                uid: number(f.uid).unwrap_or_default() as u32,
                date: doc.get_first(f.date).and_then(|v| v.as_i64()),
                score,
                subject: marks.subject(&subject),
                snippet: marks.body(&preview),
                whole: doc
                    .get_all(f.marks)
                    .any(|v| v.as_str() == Some(document::MARK_WHOLE)),
            });
        }
        Ok(Found { hits, total })
    }
}

fn io(e: std::io::Error) -> SearchError {
    SearchError::Index(e.to_string())
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
