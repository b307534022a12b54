//! Views across accounts: All Inboxes, Unread, Flagged. Rows are paged by position like a
//! folder's; the merged order is built from each folder's in-memory (date, uid) keys — no
//! row is read except the page's — and kept until the cache changes.

use super::Views;
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::{AccountId, FolderRole, UnifiedPage, UnifiedRow, UnifiedView};
use petrel_store::FolderRef;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The last merged view built: (view, cache generation, order).
pub(crate) type UnifiedCache = Option<(UnifiedView, u64, Arc<UnifiedIndex>)>;

/// The merged order of a view: (date, uid, index into `folders`), newest first.
#[derive(Debug, Default)]
pub(crate) struct UnifiedIndex {
    folders: Vec<FolderRef>,
    keys: Vec<(i64, u32, u32)>,
}

impl Views {
    pub(crate) fn unified(
        &self,
        cx: &Shared,
        accounts: &[AccountId],
        view: UnifiedView,
        offset: u32,
        limit: u32,
    ) -> Result<UnifiedPage, EngineError> {
        let index = self.unified_index(cx, accounts, view)?;
        let start = (offset as usize).min(index.keys.len());
        let end = start
            .saturating_add(limit.min(petrel_imap::MAX_PAGE) as usize)
            .min(index.keys.len());
        let mut rows = Vec::with_capacity(end - start);
        for &(_, uid, f) in &index.keys[start..end] {
            let folder = &index.folders[f as usize];
            if let Some(envelope) = cx
                .cache
                .envelope(folder, uid)
                .map_err(EngineError::cache("Reading the cache"))?
            {
                rows.push(UnifiedRow {
                    account: folder.account.clone(),
                    folder: folder.path.clone(),
                    envelope,
                });
            }
        }
        Ok(UnifiedPage {
            offset,
            total: index.keys.len() as u32,
            rows,
        })
    }

    fn unified_index(
        &self,
        cx: &Shared,
        accounts: &[AccountId],
        view: UnifiedView,
    ) -> Result<Arc<UnifiedIndex>, EngineError> {
        let generation = cx.cache_generation.load(Ordering::SeqCst);
        {
            let cached = crate::error::lock(&self.unified);
            if let Some((v, g, index)) = cached.as_ref() {
                if *v == view && *g == generation {
                    return Ok(index.clone());
                }
            }
        }
        let cache_err = || EngineError::cache("Reading the cache");
        let mut index = UnifiedIndex::default();
        for id in accounts {
            let folders: Vec<String> = match view {
                UnifiedView::Inboxes => vec!["INBOX".to_string()],
                UnifiedView::Unread | UnifiedView::Flagged => {
                    let skip: Vec<String> = cx
                        .cache
                        .folder_list(id)
                        .map_err(cache_err())?
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|f| matches!(f.role, Some(FolderRole::Trash | FolderRole::Junk)))
                        .map(|f| f.path)
                        .collect();
                    cx.cache
                        .cached_folders(id)
                        .map_err(cache_err())?
                        .into_iter()
                        .filter(|p| !skip.contains(p))
                        .collect()
                }
            };
            for path in folders {
                let folder = FolderRef::new(id, &path);
                let f = index.folders.len() as u32;
                match view {
                    UnifiedView::Inboxes => {
                        for (date, uid) in cx.cache.order_keys(&folder).map_err(cache_err())? {
                            index.keys.push((date, uid, f));
                        }
                    }
                    UnifiedView::Unread | UnifiedView::Flagged => {
                        // Flags live in the rows: read the folder once, then keep the result
                        // until the cache changes.
                        let rows = cx.cache.page(&folder, 0, u32::MAX).map_err(cache_err())?;
                        for row in rows.rows {
                            let wanted = match view {
                                UnifiedView::Unread => !row.seen,
                                _ => row.flagged,
                            };
                            if wanted {
                                index.keys.push((row.date.unwrap_or(i64::MIN), row.uid, f));
                            }
                        }
                    }
                }
                index.folders.push(folder);
            }
        }
        index.keys.sort_unstable_by_key(|&k| std::cmp::Reverse(k));
        let index = Arc::new(index);
        {
            let mut cached = crate::error::lock(&self.unified);
            *cached = Some((view, generation, index.clone()));
        }
        Ok(index)
    }
}
