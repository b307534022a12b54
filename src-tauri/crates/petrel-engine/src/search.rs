//! Search: the local index follows the cache's journal (every write of every account —
//! sync, downloads, actions, local folders — is in it), and a query runs on the index and,
//! for folders whose bodies are not all here, on the IMAP servers too.
//!
//! The index is a derived store (DESIGN §11): built from the cache and the Maildirs on first
//! use or when its version changes, fed in the background, never on the sync's path.

use crate::account::Account;
use crate::error::lock;
use crate::events::EngineEvent;
use crate::search_index::{cache_error, index_error, put_all, Directory, Work};
use crate::shared::Shared;
use crate::{Engine, EngineError};
use petrel_core::query::{self, Day, Query};
use petrel_core::{
    AccountId, FolderRole, IndexProgress, SearchHit, SearchOrder, SearchResults, ServerSearch,
};
use petrel_search::{Places, Ranking, SearchIndex};
use petrel_store::{CacheChange, FolderRef};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Journal entries read per round of catching up.
const CHANGES_PER_ROUND: usize = 1_024;
/// Messages (or bytes of bodies) handed to the index per blocking step: bounds the memory
/// of bodies read ahead (the index's own arena is `petrel_search::WRITER_BUDGET_BYTES`).
const MESSAGES_PER_STEP: usize = 256;
const BODY_BYTES_PER_STEP: usize = 16 * 1024 * 1024;
/// A search waits for the index to catch up with at most this many entries; beyond that
/// (a big first sync) it searches what is indexed and says it is still indexing.
const CATCH_UP_BEFORE_SEARCH: u64 = 4_096;
/// How often the background follower looks at the journal.
const FOLLOW_EVERY: Duration = Duration::from_millis(200);
/// The longest the follower waits for folder syncs before indexing alongside them.
const MAX_DEFER_FOR_SYNC: Duration = Duration::from_secs(30);
/// Server searches of one account, in all.
const SERVER_DEADLINE: Duration = Duration::from_secs(20);

impl Engine {
    /// Brings the index up to date with the cache (a first build included). Returns when
    /// the journal is empty; `Ok(false)` if another follower has the turn.
    pub async fn update_search_index(&self) -> Result<bool, EngineError> {
        self.update_index(false).await
    }

    /// As [`Engine::update_search_index`]; with `yield_to_syncs`, it also stops (with
    /// `Ok(false)`) between rounds while a folder sync is under way.
    async fn update_index(&self, yield_to_syncs: bool) -> Result<bool, EngineError> {
        if !self.search.is_open() && self.registry().is_empty() {
            // Nothing to index yet: no index on disk until there is.
            return Ok(true);
        }
        let index = self.search.index()?;
        let Ok(_turn) = self.search.turn.try_lock() else {
            return Ok(false);
        };
        if self.search.rebuild.load(Ordering::SeqCst) {
            self.rebuild_index(&index).await?;
        }
        let cx = &self.shared;
        let journal = cx.cache.journal_id();
        loop {
            if yield_to_syncs && cx.syncing() {
                return Ok(false);
            }
            let (their_journal, from) = index.committed();
            if their_journal != journal && their_journal != 0 {
                // The cache was made anew: its numbers mean nothing to this index.
                tracing::info!("the mail cache is new: rebuilding the search index");
                self.search.rebuild.store(true, Ordering::SeqCst);
                self.rebuild_index(&index).await?;
                continue;
            }
            let changes = cx
                .cache
                .changes(from, CHANGES_PER_ROUND)
                .map_err(cache_error)?;
            let Some(&(last, _)) = changes.last() else {
                cx.cache.forget_changes(from).map_err(cache_error)?;
                // Caught up: the writer's arena and threads (tens of MB) are let go until
                // the next change; making one again costs milliseconds.
                let index = index.clone();
                let _ = tokio::task::spawn_blocking(move || index.release_writer()).await;
                return Ok(true);
            };
            // Later entries win: a folder dropped after some changes drops them too.
            let mut dropped: Vec<FolderRef> = Vec::new();
            let mut touched: BTreeMap<FolderRef, BTreeSet<u32>> = BTreeMap::new();
            for (_, change) in changes {
                match change {
                    CacheChange::Folder(f) => {
                        touched.remove(&f);
                        dropped.push(f);
                    }
                    CacheChange::Messages { folder, uids } => {
                        touched.entry(folder).or_default().extend(uids)
                    }
                }
            }
            {
                let index = index.clone();
                tokio::task::spawn_blocking(move || {
                    for f in dropped {
                        index.delete_folder(&f.account.0, &f.path)?;
                    }
                    Ok::<_, petrel_search::SearchError>(())
                })
                .await
                .map_err(|e| EngineError::InvalidInput(e.to_string()))?
                .map_err(index_error)?;
            }
            let todo: Vec<(FolderRef, u32)> = touched
                .into_iter()
                .flat_map(|(f, uids)| uids.into_iter().map(move |u| (f.clone(), u)))
                .collect();
            self.index_messages(&index, todo, |_| {}).await?;
            let index2 = index.clone();
            tokio::task::spawn_blocking(move || index2.commit(journal, last))
                .await
                .map_err(|e| EngineError::InvalidInput(e.to_string()))?
                .map_err(index_error)?;
            cx.cache.forget_changes(last).map_err(cache_error)?;
        }
    }

    /// Reads rows and local bodies of `todo` and hands them to the index in bounded steps.
    async fn index_messages(
        &self,
        index: &Arc<SearchIndex>,
        todo: Vec<(FolderRef, u32)>,
        mut done: impl FnMut(usize),
    ) -> Result<(), EngineError> {
        let cx = &self.shared;
        let mut accounts: BTreeMap<AccountId, Option<Arc<Account>>> = BTreeMap::new();
        let mut step: Vec<Work> = Vec::new();
        let mut bytes = 0;
        let total = todo.len();
        for (n, (folder, uid)) in todo.into_iter().enumerate() {
            let row = cx.cache.envelope(&folder, uid).map_err(cache_error)?;
            let raw = match &row {
                Some(_) => {
                    let account = accounts
                        .entry(folder.account.clone())
                        .or_insert_with(|| self.get(&folder.account).ok());
                    match account {
                        Some(a) => a.local_copy(cx, &folder.path, uid).await,
                        None => None,
                    }
                }
                None => None,
            };
            bytes += raw.as_ref().map_or(0, Vec::len);
            step.push(Work {
                folder,
                uid,
                row,
                raw,
            });
            if step.len() >= MESSAGES_PER_STEP || bytes >= BODY_BYTES_PER_STEP || n + 1 == total {
                let work = std::mem::take(&mut step);
                bytes = 0;
                let index = index.clone();
                tokio::task::spawn_blocking(move || put_all(&index, work))
                    .await
                    .map_err(|e| EngineError::InvalidInput(e.to_string()))?
                    .map_err(index_error)?;
                done(n + 1);
            }
        }
        Ok(())
    }

    /// Feeds the index every cached message of every account, with progress.
    async fn rebuild_index(&self, index: &Arc<SearchIndex>) -> Result<(), EngineError> {
        let cx = &self.shared;
        // Changes after this point are followed from the journal afterwards.
        let journal = cx.cache.journal_id();
        let mark = cx.cache.last_change().map_err(cache_error)?;
        let mut todo = Vec::new();
        for account in self.registry() {
            let id = &account.state().id;
            for path in cx.cache.cached_folders(id).map_err(cache_error)? {
                let folder = FolderRef::new(id, &path);
                for uid in cx.cache.uids(&folder).map_err(cache_error)? {
                    todo.push((folder.clone(), uid));
                }
            }
        }
        let total = todo.len() as u32;
        tracing::info!(messages = total, "building the search index");
        let started = std::time::Instant::now();
        let report = |done: u32| {
            let p = IndexProgress { done, total };
            *lock(&self.search.progress) = Some(p);
            cx.emit(EngineEvent::IndexProgress(p));
        };
        report(0);
        let mut last_report = 0;
        // What an older cache left (a new index is empty already).
        let wipe = index.clone();
        tokio::task::spawn_blocking(move || wipe.clear())
            .await
            .map_err(|e| EngineError::InvalidInput(e.to_string()))?
            .map_err(index_error)?;
        self.index_messages(index, todo, |n| {
            let n = n as u32;
            if n - last_report >= 1_000 || n == total {
                last_report = n;
                report(n);
            }
        })
        .await?;
        let index2 = index.clone();
        tokio::task::spawn_blocking(move || {
            index2.commit(journal, mark)?;
            index2.mark_built()
        })
        .await
        .map_err(|e| EngineError::InvalidInput(e.to_string()))?
        .map_err(index_error)?;
        cx.cache.forget_changes(mark).map_err(cache_error)?;
        self.search.rebuild.store(false, Ordering::SeqCst);
        *lock(&self.search.progress) = None;
        cx.emit(EngineEvent::IndexProgress(IndexProgress {
            done: total,
            total,
        }));
        tracing::info!(
            messages = total,
            seconds = started.elapsed().as_secs_f64(),
            "search index built"
        );
        Ok(())
    }

    /// Searches every account: the local index first; with `server`, also the IMAP
    /// servers of folders whose bodies are not all here (results merged, those found only
    /// there marked "on the server"). Query errors come back as `InvalidInput` in words.
    pub async fn search(
        &self,
        text: &str,
        order: SearchOrder,
        limit: u32,
        server: bool,
    ) -> Result<SearchResults, EngineError> {
        let query = query::parse(text).map_err(|e| EngineError::InvalidInput(e.message))?;
        let index = self.search.index()?;
        // New mail is findable at once: a small backlog is indexed before searching.
        let (_, from) = index.committed();
        let backlog = self
            .shared
            .cache
            .last_change()
            .map_err(cache_error)?
            .saturating_sub(from);
        let rebuilding = self.search.rebuild.load(Ordering::SeqCst);
        // A first build of a small cache is done now; a big one by the background
        // follower (the results say it is still indexing).
        let small = !rebuilding || self.cached_messages() <= CATCH_UP_BEFORE_SEARCH;
        if small && backlog <= CATCH_UP_BEFORE_SEARCH {
            if let Err(e) = self.update_search_index().await {
                tracing::warn!(error = %e, "could not bring the search index up to date");
            }
        }
        let today = self.today();
        // Read once: the local search and the server's both resolve `in:`/`account:` by it.
        let places = Arc::new(self.places());
        let ranking = match order {
            SearchOrder::Newest => Ranking::Newest,
            SearchOrder::Relevance => Ranking::Relevance,
        };
        let found = {
            let (index, query, places) = (index.clone(), query.clone(), places.clone());
            tokio::task::spawn_blocking(move || {
                index.search(&query, &*places, today, ranking, 0, limit as usize)
            })
            .await
            .map_err(|e| EngineError::InvalidInput(e.to_string()))?
            .map_err(index_error)?
        };
        let cx = &self.shared;
        let mut hits = Vec::with_capacity(found.hits.len());
        let mut seen = HashSet::new();
        for h in found.hits {
            let folder = FolderRef::new(&AccountId(h.account.clone()), &h.folder);
            // The cache is the truth for what is still there and its flags now.
            let Some(envelope) = cx.cache.envelope(&folder, h.uid).map_err(cache_error)? else {
                continue;
            };
            seen.insert((folder.clone(), h.uid));
            hits.push(SearchHit {
                account: folder.account,
                folder: folder.path,
                envelope,
                subject: h.subject,
                snippet: h.snippet,
                on_server: false,
            });
        }
        let indexing = match *lock(&self.search.progress) {
            Some(p) => Some(p),
            None if self.search.rebuild.load(Ordering::SeqCst) => Some(IndexProgress {
                done: 0,
                total: self.cached_messages() as u32,
            }),
            None => None,
        };
        let mut results = SearchResults {
            hits,
            total: found.total as u32,
            server: ServerSearch::NotAsked,
            indexing,
        };
        if server {
            self.add_server_hits(&query, today, &places, &mut results, &seen)
                .await;
        }
        Ok(results)
    }

    /// Asks the IMAP servers about folders whose bodies are not all on this computer.
    async fn add_server_hits(
        &self,
        query: &Query,
        today: Day,
        places: &Directory,
        results: &mut SearchResults,
        seen: &HashSet<(FolderRef, u32)>,
    ) {
        let cx = &self.shared;
        let criteria = query::imap_search(query, today);
        let wanted_folders = named(
            query,
            |t| match t {
                query::Term::In(n) => Some(n),
                _ => None,
            },
            |n| places.folders(n),
        );
        let wanted_accounts = named(
            query,
            |t| match t {
                query::Term::Account(n) => Some(n),
                _ => None,
            },
            |n| places.accounts(n),
        );
        let mut searched = 0u32;
        let mut offline = Vec::new();
        for account in self.registry() {
            if account.is_local() {
                continue;
            }
            let id = account.state().id.clone();
            if wanted_accounts.as_ref().is_some_and(|a| !a.contains(&id.0)) {
                continue;
            }
            let Ok(paths) = cx.cache.cached_folders(&id) else {
                continue;
            };
            let folders: Vec<String> = paths
                .into_iter()
                .filter(|p| {
                    wanted_folders
                        .as_ref()
                        .is_none_or(|w| w.contains(&(id.0.clone(), p.clone())))
                })
                .filter(|p| bodies_missing(cx, &FolderRef::new(&id, p)))
                .collect();
            if folders.is_empty() {
                continue;
            }
            let asked = tokio::time::timeout(
                SERVER_DEADLINE,
                account.search_server(cx, &folders, &criteria),
            )
            .await;
            match asked {
                Ok(Ok(found)) => {
                    searched += folders.len() as u32;
                    for (path, uids) in found {
                        let folder = FolderRef::new(&id, &path);
                        let have: HashSet<u32> = cx
                            .cache
                            .body_uids(&folder)
                            .unwrap_or_default()
                            .into_iter()
                            .collect();
                        for uid in uids {
                            // A message whose body is here was searched whole locally.
                            if have.contains(&uid) || seen.contains(&(folder.clone(), uid)) {
                                continue;
                            }
                            let Ok(Some(envelope)) = cx.cache.envelope(&folder, uid) else {
                                continue;
                            };
                            results.hits.push(SearchHit {
                                account: id.clone(),
                                folder: path.clone(),
                                subject: vec![petrel_core::Marked {
                                    text: envelope.subject.clone(),
                                    matched: false,
                                }],
                                envelope,
                                snippet: vec![],
                                on_server: true,
                            });
                        }
                    }
                }
                Ok(Err(e)) => {
                    tracing::info!(account = %id, error = %e, "server search failed");
                    offline.push(account.settings().email);
                }
                Err(_) => offline.push(account.settings().email),
            }
        }
        results.server = if !offline.is_empty() {
            ServerSearch::Offline { accounts: offline }
        } else if searched > 0 {
            ServerSearch::Searched { folders: searched }
        } else {
            ServerSearch::NotAsked
        };
        results
            .hits
            .sort_by_key(|h| std::cmp::Reverse(h.envelope.date.unwrap_or(i64::MIN)));
    }

    /// Messages in the cache, all accounts (from the folders' counts).
    fn cached_messages(&self) -> u64 {
        let cache = &self.shared.cache;
        self.registry()
            .iter()
            .flat_map(|a| {
                let id = a.state().id.clone();
                cache
                    .cached_folders(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |p| FolderRef::new(&id, &p))
            })
            .filter_map(|f| cache.folder_state(&f).ok().flatten())
            .map(|s| u64::from(s.total))
            .sum()
    }

    /// Today, for ages in queries (UTC days, as mail dates are kept).
    fn today(&self) -> Day {
        Day::from_days_since_epoch(self.shared.unix_now().div_euclid(86_400))
    }

    /// What `in:` and `account:` may name, from the accounts and their folder trees.
    fn places(&self) -> Directory {
        let mut accounts = Vec::new();
        let mut folders = Vec::new();
        for account in self.registry() {
            let s = account.settings();
            let id = s.id.0.clone();
            if let Ok(Some(tree)) = self.shared.cache.folder_list(&s.id) {
                for f in tree {
                    folders.push((id.clone(), f.path, f.name, f.role));
                }
            }
            // Folders synced but not in a remembered tree (it is read when the tree shows).
            for path in self.shared.cache.cached_folders(&s.id).unwrap_or_default() {
                if !folders.iter().any(|(a, p, _, _)| *a == id && *p == path) {
                    let name = path.rsplit(['/', '.']).next().unwrap_or(&path).to_string();
                    let role = path
                        .eq_ignore_ascii_case("INBOX")
                        .then_some(FolderRole::Inbox);
                    folders.push((id.clone(), path, name, role));
                }
            }
            accounts.push((id, s.email, s.display_name));
        }
        Directory { accounts, folders }
    }
}

/// Whether some cached messages of the folder have no body here.
fn bodies_missing(cx: &Shared, folder: &FolderRef) -> bool {
    let total = cx
        .cache
        .folder_state(folder)
        .ok()
        .flatten()
        .map_or(0, |s| s.total as usize);
    let bodies = cx.cache.body_uids(folder).map_or(0, |b| b.len());
    bodies < total
}

/// What the query's names of one kind (`in:` or `account:`, picked by `name_of`) resolve
/// to; None when the query has none (then every folder or account is searched).
fn named<T: std::hash::Hash + Eq>(
    query: &Query,
    name_of: impl Fn(&query::Term) -> Option<&String>,
    resolve: impl Fn(&str) -> Vec<T>,
) -> Option<HashSet<T>> {
    let mut names = Vec::new();
    collect(query, &mut |t| names.extend(name_of(t).cloned()));
    (!names.is_empty()).then(|| names.iter().flat_map(|n| resolve(n)).collect())
}

/// Every term of the query, outside negations (a `-in:x` does not choose folders).
fn collect(query: &Query, f: &mut impl FnMut(&query::Term)) {
    match query {
        Query::Term(t) => f(t),
        Query::Not(_) => {}
        Query::All(parts) | Query::Any(parts) => parts.iter().for_each(|p| collect(p, f)),
    }
}

/// The background follower: keeps the index up to date while the engine is watched
/// ([`Engine::watch`] starts one; [`Engine::follow_search_index`] starts one alone).
/// Dropping it stops it.
pub struct IndexFollower {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for IndexFollower {
    fn drop(&mut self) {
        self.stop.notify_waiters();
        self.task.abort();
    }
}

impl Engine {
    /// Starts the index's background follower on the current tokio runtime.
    pub fn follow_search_index(self: &Arc<Self>) -> IndexFollower {
        let stop = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(follow(self.clone(), stop.clone()));
        IndexFollower { stop, task }
    }
}

async fn follow(engine: Arc<Engine>, stop: Arc<tokio::sync::Notify>) {
    let mut caught_up = tokio::time::Instant::now();
    loop {
        // A folder sync under way goes first (the index catches up right after it), but
        // not for ever: during a long run of syncs the index follows alongside them.
        let waited_enough = caught_up.elapsed() >= MAX_DEFER_FOR_SYNC;
        if waited_enough || !engine.shared.syncing() {
            match engine.update_index(!waited_enough).await {
                Ok(true) => caught_up = tokio::time::Instant::now(),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "search index update failed"),
            }
        }
        if crate::events::sleep_or_stop(FOLLOW_EVERY, &stop).await {
            return;
        }
    }
}
