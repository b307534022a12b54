//! Threading headers of a folder's messages, for the conversation view.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use futures::TryStreamExt;
use petrel_core::ThreadLinks;

/// UIDs per FETCH: the replies are small (three header fields).
const BATCH: usize = 2000;

impl ImapSession {
    /// Message-ID, In-Reply-To and References of `uids` in `folder` (read-only EXAMINE,
    /// BODY.PEEK: nothing is marked read). UIDs the server no longer has are left out.
    pub async fn fetch_thread_links(
        &mut self,
        folder: &str,
        uids: &[u32],
    ) -> Result<Vec<(u32, ThreadLinks)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        with_timeout("opening the folder", self.inner().examine(folder)).await??;
        let query = format!(
            "(UID BODY.PEEK[HEADER.FIELDS ({})])",
            petrel_render::THREAD_HEADER_FIELDS
        );
        let mut out = Vec::with_capacity(uids.len());
        for batch in uids.chunks(BATCH) {
            let wanted: std::collections::HashSet<u32> = batch.iter().copied().collect();
            with_timeout("fetching conversation headers", async {
                let mut stream = self
                    .inner()
                    .uid_fetch(crate::uid_set(batch), &query)
                    .await?;
                while let Some(fetch) = stream.try_next().await? {
                    // A FETCH without a wanted UID is an unsolicited update.
                    if let Some(uid) = fetch.uid.filter(|u| wanted.contains(u)) {
                        let links = petrel_render::thread_links(fetch.header().unwrap_or_default());
                        out.push((uid, links));
                    }
                }
                Ok::<_, async_imap::error::Error>(())
            })
            .await??;
        }
        Ok(out)
    }
}
