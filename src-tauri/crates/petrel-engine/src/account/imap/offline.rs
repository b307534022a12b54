//! Downloading whole messages ahead of reading, so a folder is readable offline (the
//! per-account "keep mail on this computer" option, and the body-sync benchmark).

use super::ImapAccount;
use crate::shared::Shared;
use crate::EngineError;
use petrel_store::FolderRef;

/// Messages per FETCH: large enough to stream at full speed, small enough that one reply
/// (at typical sizes) stays a few MB in memory.
const BODY_BATCH: usize = 250;

/// A batch of bodies being written to the cache: how many it stores.
type BatchWrite = tokio::task::JoinHandle<Result<usize, petrel_store::StoreError>>;

impl ImapAccount {
    /// Downloads the bodies of every cached message of `folder` that has none yet, newest
    /// first; `progress(done, total)` after each batch. Returns how many were stored.
    pub async fn download_bodies(
        &self,
        cx: &Shared,
        folder: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<usize, EngineError> {
        let folder_ref = FolderRef::new(&self.state.id, folder);
        let cache_err = || EngineError::cache(format!("Caching messages of {folder}"));
        let have: std::collections::HashSet<u32> = cx
            .cache
            .body_uids(&folder_ref)
            .map_err(cache_err())?
            .into_iter()
            .collect();
        let mut wanted: Vec<u32> = cx
            .cache
            .uids(&folder_ref)
            .map_err(cache_err())?
            .into_iter()
            .filter(|u| !have.contains(u))
            .collect();
        wanted.reverse();
        let total = wanted.len();
        let mut done = 0;
        // Each batch is written on a blocking thread while the next one downloads; at most
        // one write is pending, so memory holds two batches at most.
        let mut writing: Option<BatchWrite> = None;
        let finish = |w: BatchWrite| async {
            w.await
                .map_err(|e| EngineError::Storage {
                    context: "Caching messages".into(),
                    source: std::io::Error::other(e),
                })?
                .map_err(cache_err())
        };
        for batch in wanted.chunks(BODY_BATCH) {
            let uids = batch.to_vec();
            let name = folder.to_string();
            let bodies = self
                .with_session(cx, move |s| {
                    let (uids, name) = (uids.clone(), name.clone());
                    Box::pin(async move {
                        s.fetch_bodies(&name, &uids)
                            .await
                            .map_err(EngineError::imap(format!("Downloading messages of {name}")))
                    })
                })
                .await?;
            if let Some(w) = writing.take() {
                done += finish(w).await?;
                progress(done, total);
            }
            let cache = cx.cache.clone();
            let target = folder_ref.clone();
            writing = Some(tokio::task::spawn_blocking(move || {
                cache.set_bodies(&target, &bodies).map(|()| bodies.len())
            }));
        }
        if let Some(w) = writing {
            done += finish(w).await?;
            progress(done, total);
        }
        Ok(done)
    }

    /// For accounts set to keep mail offline: downloads what is missing in INBOX and the
    /// folders opened since start. Returns how many messages were stored.
    pub async fn download_for_offline(&self, cx: &Shared) -> Result<usize, EngineError> {
        if !self.state.settings().sync.keep_offline {
            return Ok(0);
        }
        let mut folders = self.state.synced_folders();
        if !folders.iter().any(|f| f == "INBOX") {
            folders.insert(0, "INBOX".to_string());
        }
        let mut stored = 0;
        for folder in folders {
            stored += self.download_bodies(cx, &folder, |_, _| {}).await?;
        }
        Ok(stored)
    }
}
