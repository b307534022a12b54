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
