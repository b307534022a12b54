//! UID STORE of `\Seen` and `\Flagged` (RFC 3501 §6.4.6), SILENT: the cache already holds
//! the new state, so the server's echo of every flag would only cost bandwidth.

use crate::session::{with_timeout, Access, ImapSession};
use crate::{uid_set, ImapError};
use futures::TryStreamExt;

/// Most UIDs in one STORE command line; longer sets are split (servers limit line length).
const MAX_UIDS_PER_STORE: usize = 1_000;

impl ImapSession {
    /// Adds (`true`) or removes (`false`) `flag` (`\Seen`, `\Flagged`) on `uids` of `folder`.
    pub async fn store_flag(
        &mut self,
        folder: &str,
        uids: &[u32],
        flag: &str,
        on: bool,
    ) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let selected = self.open(folder, Access::ReadWrite, uids).await?;
        let op = if on { "+FLAGS.SILENT" } else { "-FLAGS.SILENT" };
        for chunk in uids.chunks(MAX_UIDS_PER_STORE) {
            let query = format!("{op} ({flag})");
            with_timeout("changing flags", async {
                let stream = self.inner().uid_store(uid_set(chunk), &query).await?;
                stream.try_collect::<Vec<_>>().await
            })
            .await??;
        }
        self.keep(selected);
        Ok(())
    }
}
