//! The beginning of each of some messages, for what a list row shows after it is painted:
//! the headers that say how the body is built (and To, Date), and the body's first
//! kilobytes. (RFC 8970's PREVIEW would let the server do this, but imap-proto cannot parse
//! a PREVIEW item and would fail the whole reply; a partial fetch works on every server.)

use crate::session::ImapSession;
use crate::ImapError;

/// Body bytes asked for per message: past a multipart's first part headers and an HTML
/// message's style block, to its first words.
const TEXT_BYTES: usize = 8 * 1024;

impl ImapSession {
    /// `(uid, header fields + first body bytes)` for each of `uids` still in `folder`.
    pub async fn fetch_beginnings(
        &mut self,
        folder: &str,
        uids: &[u32],
    ) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let query = format!(
            "(UID BODY.PEEK[HEADER.FIELDS (MIME-VERSION CONTENT-TYPE CONTENT-TRANSFER-ENCODING TO DATE)] BODY.PEEK[TEXT]<0.{TEXT_BYTES}>)"
        );
        let fetches = self
            .uid_fetch_in(folder, uids, &query, "fetching previews")
            .await?;
        let wanted: std::collections::HashSet<u32> = uids.iter().copied().collect();
        Ok(fetches
            .iter()
            .filter_map(|f| {
                let uid = f.uid.filter(|u| wanted.contains(u))?;
                let mut raw = f.header().unwrap_or_default().to_vec();
                if !raw.ends_with(b"\r\n\r\n") {
                    raw.extend_from_slice(b"\r\n");
                }
                raw.extend_from_slice(f.text().unwrap_or_default());
                Some((uid, raw))
            })
            .collect())
    }
}
