//! Storage used and allowed (RFC 9208 GETQUOTAROOT on INBOX): shown per account.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use async_imap::types::QuotaResourceName;
use petrel_core::Quota;

impl ImapSession {
    /// The STORAGE quota of INBOX's quota root; `None` when the server has no QUOTA
    /// extension or sets no storage limit.
    pub async fn quota(&mut self) -> Result<Option<Quota>, ImapError> {
        if !self.has("QUOTA") {
            return Ok(None);
        }
        let (_, quotas) =
            with_timeout("reading the quota", self.inner().get_quota_root("INBOX")).await??;
        Ok(quotas
            .iter()
            .flat_map(|q| q.resources.iter())
            .find(|r| r.name == QuotaResourceName::Storage && r.limit > 0)
            .map(|r| Quota {
                used_kib: r.usage,
                limit_kib: r.limit,
            }))
    }
}
