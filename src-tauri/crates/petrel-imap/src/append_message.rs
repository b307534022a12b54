//! Filing a copy (the Sent copy of a message Petrel sent) and finding one by Message-ID.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;

impl ImapSession {
    /// APPENDs `raw` to `folder`, marked read when `seen`.
    pub async fn append(&mut self, folder: &str, raw: &[u8], seen: bool) -> Result<(), ImapError> {
        let flags = seen.then_some("(\\Seen)");
        with_timeout("filing a copy", self.inner.append(folder, flags, None, raw)).await??;
        Ok(())
    }

    /// Whether `folder` holds a message with this Message-ID (without angle brackets).
    pub async fn has_message_id(
        &mut self,
        folder: &str,
        message_id: &str,
    ) -> Result<bool, ImapError> {
        // A quoted string may not carry quotes or backslashes; such an ID cannot be searched.
        if message_id.contains(['"', '\\', '\r', '\n']) {
            return Ok(false);
        }
        with_timeout("opening the folder", self.inner.examine(folder)).await??;
        let found = with_timeout(
            "searching the folder",
            self.inner
                .uid_search(format!("HEADER Message-ID \"<{message_id}>\"")),
        )
        .await??;
        Ok(!found.is_empty())
    }
}
