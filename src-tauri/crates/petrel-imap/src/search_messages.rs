//! Server search (RFC 3501 §6.4.4) for mail whose bodies are not on this computer.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use petrel_core::query::ImapSearch;

impl ImapSession {
    /// UIDs of `folder`'s messages that match, ascending. Non-ASCII criteria go as
    /// non-synchronizing literals with `CHARSET UTF-8`, which needs LITERAL+ or, for short
    /// ones, LITERAL- (RFC 7888); without either such a search is refused here, not sent.
    pub async fn search(
        &mut self,
        folder: &str,
        search: &ImapSearch,
    ) -> Result<Vec<u32>, ImapError> {
        if search.utf8
            && !self.has("LITERAL+")
            && !(self.has("LITERAL-") && search.criteria.len() <= 4096)
        {
            return Err(ImapError::Refused(
                "the server cannot take non-ASCII search words from Petrel (no LITERAL+)".into(),
            ));
        }
        with_timeout("opening the folder", self.inner().examine(folder)).await??;
        let command = if search.utf8 {
            format!("CHARSET UTF-8 {}", search.criteria)
        } else {
            search.criteria.clone()
        };
        let found =
            with_timeout("searching the folder", self.inner().uid_search(command)).await??;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }
}
