//! Bringing one folder of the cache up to date with the server (RFC 3501 only: works with
//! any server). CONDSTORE/QRESYNC shortcuts build on this later.
//!
//! 1. EXAMINE: a new UIDVALIDITY makes every cached UID meaningless → the cache drops them.
//! 2. `UID FETCH 1:* (UID FLAGS)`: the server's UIDs and flags, ~40 bytes a message.
//! 3. Cached UIDs the server no longer has are removed (expunged or moved elsewhere).
//! 4. Flags that differ are updated.
//! 5. UIDs the cache lacks get their list fields, newest first, in batches, so the list
//!    fills from the top while a large folder syncs.

use crate::fetch_envelopes::envelope;
use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use async_imap::types::Flag;
use futures::TryStreamExt;
use petrel_store::{FolderRef, MailCache};
use std::collections::HashMap;
use std::sync::Arc;

/// UIDs per header FETCH: large enough to amortise the round trip, small enough that the
/// first rows appear quickly and one reply stays a few hundred kB.
pub const HEADER_BATCH: usize = 500;
/// Most messages accepted in one folder; beyond this a server reply is treated as hostile.
pub const MAX_FOLDER_MESSAGES: usize = 10_000_000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    pub added: usize,
    pub removed: usize,
    pub flags_changed: usize,
    /// The cached folder was dropped because UIDVALIDITY changed.
    pub uidvalidity_reset: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Cache(#[from] petrel_store::StoreError),
}

impl ImapSession {
    /// Syncs `folder` into `cache`; `progress(done, total)` is called after each batch.
    pub async fn sync_folder(
        &mut self,
        cache: Arc<dyn MailCache>,
        folder: &FolderRef,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let mailbox = with_timeout("opening the folder", self.inner.examine(&folder.path))
            .await?
            .map_err(ImapError::from)?;
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        let previous = cache.folder_state(folder)?;
        report.uidvalidity_reset =
            previous.is_some_and(|s| s.uidvalidity != 0 && s.uidvalidity != uidvalidity);
        cache.set_sync_state(
            folder,
            uidvalidity,
            mailbox.uid_next.unwrap_or(0),
            mailbox.highest_modseq.unwrap_or(0),
        )?;

        let server: HashMap<u32, (bool, bool)> = if mailbox.exists == 0 {
            HashMap::new()
        } else {
            let fetches: Vec<async_imap::types::Fetch> =
                with_timeout("listing the folder's messages", async {
                    let stream = self.inner.uid_fetch("1:*", "(UID FLAGS)").await?;
                    stream.try_collect().await
                })
                .await?
                .map_err(ImapError::from)?;
            if fetches.len() > MAX_FOLDER_MESSAGES {
                return Err(ImapError::Protocol(format!(
                    "{} messages in one folder",
                    fetches.len()
                ))
                .into());
            }
            fetches
                .iter()
                .filter_map(|f| f.uid.map(|uid| (uid, flags(f))))
                .collect()
        };

        let cached = cache.uids(folder)?;
        let gone: Vec<u32> = cached
            .iter()
            .copied()
            .filter(|u| !server.contains_key(u))
            .collect();
        report.removed = gone.len();
        cache.remove(folder, &gone)?;

        let cached_set: std::collections::HashSet<u32> = cached.into_iter().collect();
        report.flags_changed = update_flags(cache.as_ref(), folder, &server)?;

        let mut missing: Vec<u32> = server
            .keys()
            .copied()
            .filter(|u| !cached_set.contains(u))
            .collect();
        missing.sort_unstable_by(|a, b| b.cmp(a));
        let query = format!(
            "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
            petrel_render::LIST_HEADER_FIELDS
        );
        // Cache writes run on a blocking thread while the next batch is fetched and parsed:
        // on two cores this overlaps sled's work with the network and the parser. The channel
        // holds at most two batches, so memory stays bounded however large the folder.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<petrel_core::Envelope>>(2);
        let writer = {
            let cache = cache.clone();
            let folder = folder.clone();
            tokio::task::spawn_blocking(move || -> Result<(), petrel_store::StoreError> {
                while let Some(rows) = rx.blocking_recv() {
                    cache.insert_new(&folder, &rows)?;
                }
                Ok(())
            })
        };
        let fetched = self
            .fetch_missing(&missing, &query, &tx, &mut report, &mut progress)
            .await;
        drop(tx);
        let written = writer
            .await
            .map_err(|e| ImapError::Protocol(format!("cache writer stopped: {e}")))?;
        fetched?;
        written?;
        Ok(report)
    }

    async fn fetch_missing(
        &mut self,
        missing: &[u32],
        query: &str,
        tx: &tokio::sync::mpsc::Sender<Vec<petrel_core::Envelope>>,
        report: &mut SyncReport,
        progress: &mut impl FnMut(usize, usize),
    ) -> Result<(), SyncError> {
        for batch in missing.chunks(HEADER_BATCH) {
            let fetches: Vec<async_imap::types::Fetch> =
                with_timeout("fetching message headers", async {
                    let stream = self.inner.uid_fetch(uid_set(batch), query).await?;
                    stream.try_collect().await
                })
                .await?
                .map_err(ImapError::from)?;
            let wanted: std::collections::HashSet<u32> = batch.iter().copied().collect();
            let rows: Vec<_> = fetches
                .iter()
                .filter_map(envelope)
                .filter(|e| wanted.contains(&e.uid))
                .collect();
            report.added += rows.len();
            if tx.send(rows).await.is_err() {
                // The writer failed; its error is reported by the caller.
                break;
            }
            progress(report.added, missing.len());
        }
        Ok(())
    }
}

fn flags(fetch: &async_imap::types::Fetch) -> (bool, bool) {
    let (mut seen, mut flagged) = (false, false);
    for flag in fetch.flags() {
        match flag {
            Flag::Seen => seen = true,
            Flag::Flagged => flagged = true,
            _ => {}
        }
    }
    (seen, flagged)
}

fn update_flags(
    cache: &dyn MailCache,
    folder: &FolderRef,
    server: &HashMap<u32, (bool, bool)>,
) -> Result<usize, SyncError> {
    let mut changed = 0;
    let total = cache.folder_state(folder)?.map(|s| s.total).unwrap_or(0);
    let mut offset = 0;
    while offset < total {
        let page = cache.page(folder, offset, 2_000)?;
        if page.rows.is_empty() {
            break;
        }
        offset += page.rows.len() as u32;
        for row in page.rows {
            if let Some(&(seen, flagged)) = server.get(&row.uid) {
                if (row.seen, row.flagged) != (seen, flagged) {
                    cache.set_flags(folder, row.uid, seen, flagged)?;
                    changed += 1;
                }
            }
        }
    }
    Ok(changed)
}

/// Compact IMAP sequence set for ascending or descending UIDs: "7:9,12,20:25".
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[9, 8, 7, 12, 20, 21, 22]), "7:9,12,20:22");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[3, 3, 4]), "3:4");
        assert_eq!(uid_set(&[]), "");
    }
}
