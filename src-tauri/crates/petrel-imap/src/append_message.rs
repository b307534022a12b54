//! Filing a copy (the Sent copy of a message Petrel sent, a draft) and finding one by
//! Message-ID.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;

impl ImapSession {
    /// APPENDs `raw` to `folder` with `flags` (e.g. `["\\Seen", "\\Draft"]`).
    pub async fn append(
        &mut self,
        folder: &str,
        raw: &[u8],
        flags: &[&str],
    ) -> Result<(), ImapError> {
        let list = format!("({})", flags.join(" "));
        let flags = (!flags.is_empty()).then_some(list.as_str());
        with_timeout(
            "filing a copy",
            self.inner().append(folder, flags, None, raw),
        )
        .await??;
        Ok(())
    }

    /// Whether `folder` holds a message with this Message-ID (without angle brackets).
    pub async fn has_message_id(
        &mut self,
        folder: &str,
        message_id: &str,
    ) -> Result<bool, ImapError> {
        Ok(!self
            .uids_with_message_id(folder, message_id)
            .await?
            .is_empty())
    }

    /// UIDs of the messages of `folder` with this Message-ID (without angle brackets),
    /// ascending: the newest copy last.
    pub async fn uids_with_message_id(
        &mut self,
        folder: &str,
        message_id: &str,
    ) -> Result<Vec<u32>, ImapError> {
        // A quoted string may not carry quotes or backslashes; such an ID cannot be searched.
        if message_id.contains(['"', '\\', '\r', '\n']) {
            return Ok(vec![]);
        }
        with_timeout("opening the folder", self.inner().examine(folder)).await??;
        let found = with_timeout(
            "searching the folder",
            self.inner()
                .uid_search(format!("HEADER Message-ID \"<{message_id}>\"")),
        )
        .await??;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }
}
