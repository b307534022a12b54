//! One whole message, for the reader.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use futures::TryStreamExt;

/// Largest message body accepted (64 MiB): bigger is refused, a hostile or broken server could
/// otherwise exhaust memory.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

impl ImapSession {
    /// Raw RFC 5322 bytes of message `uid` in `folder`. BODY.PEEK[]: the engine marks the
    /// message read itself (through its action queue, so the cache and the server agree,
    /// and a body downloaded for offline use stays unread).
    pub async fn fetch_message(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, ImapError> {
        with_timeout("opening the folder", self.inner.examine(folder)).await??;
        let fetches: Vec<async_imap::types::Fetch> = with_timeout("fetching the message", async {
            let stream = self
                .inner
                .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
                .await?;
            stream.try_collect().await
        })
        .await??;
        let body = fetches
            .iter()
            .filter(|f| f.uid == Some(uid))
            .find_map(|f| f.body())
            .ok_or_else(|| ImapError::Refused(format!("message {uid} is no longer in {folder}")))?;
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(ImapError::Protocol(format!(
                "message of {} bytes exceeds the limit",
                body.len()
            )));
        }
        Ok(body.to_vec())
    }
}

impl ImapSession {
    /// Raw bytes of several messages (for offline use), in one UID FETCH. Messages over
    /// [`MAX_MESSAGE_BYTES`] are skipped (they open on demand, where the limit is reported).
    pub async fn fetch_bodies(
        &mut self,
        folder: &str,
        uids: &[u32],
    ) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        with_timeout("opening the folder", self.inner.examine(folder)).await??;
        let wanted: std::collections::HashSet<u32> = uids.iter().copied().collect();
        let fetches: Vec<async_imap::types::Fetch> = with_timeout("downloading messages", async {
            let stream = self
                .inner
                .uid_fetch(crate::uid_set(uids), "(UID BODY.PEEK[])")
                .await?;
            stream.try_collect().await
        })
        .await??;
        Ok(fetches
            .iter()
            .filter_map(|f| {
                let uid = f.uid.filter(|u| wanted.contains(u))?;
                let body = f.body().filter(|b| b.len() <= MAX_MESSAGE_BYTES)?;
                Some((uid, body.to_vec()))
            })
            .collect())
    }
}
