//! The message list of one folder: newest first, only what a row shows.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use futures::TryStreamExt;
use petrel_core::Envelope;

/// Most rows one call returns; the UI pages by position.
pub const MAX_PAGE: u32 = 1_000;

impl ImapSession {
    /// Rows `offset .. offset+limit` of `folder`, counted from the newest message (by
    /// sequence number, i.e. arrival order). Returns the rows and the folder's total.
    pub async fn fetch_envelopes(
        &mut self,
        folder: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<Envelope>, u32), ImapError> {
        let mailbox = with_timeout("opening the folder", self.inner().examine(folder)).await??;
        let total = mailbox.exists;
        let limit = limit.min(MAX_PAGE);
        if total == 0 || offset >= total || limit == 0 {
            return Ok((Vec::new(), total));
        }
        // Sequence numbers are 1-based; the newest message has number `total`.
        let high = total - offset;
        let low = high.saturating_sub(limit - 1).max(1);
        let query = format!(
            "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
            petrel_render::LIST_HEADER_FIELDS
        );
        let fetches: Vec<async_imap::types::Fetch> =
            with_timeout("fetching the message list", async {
                let stream = self.inner().fetch(format!("{low}:{high}"), &query).await?;
                stream.try_collect().await
            })
            .await??;
        let mut rows: Vec<Envelope> = fetches.iter().filter_map(envelope).collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.uid));
        Ok((rows, total))
    }
}

pub(crate) fn envelope(fetch: &async_imap::types::Fetch) -> Option<Envelope> {
    Fetched::from_fetch(fetch).map(|f| f.envelope())
}

/// A list row as the server sent it, its header block not parsed yet: a header sync reads
/// these on the session's task and parses them on the cache writer's thread, which on two
/// cores halves the work between the two.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) uid: u32,
    flags: crate::sync_folder::Flags,
    size: u64,
    internal_date: Option<i64>,
    header: Vec<u8>,
}

impl Fetched {
    pub(crate) fn from_fetch(fetch: &async_imap::types::Fetch) -> Option<Fetched> {
        // A FETCH without UID is an unsolicited update, not a row we asked for.
        Some(Fetched {
            uid: fetch.uid?,
            flags: crate::sync_folder::flags(fetch),
            size: fetch.size.map(u64::from).unwrap_or(0),
            internal_date: fetch.internal_date().map(|d| d.timestamp()),
            header: fetch.header().unwrap_or_default().to_vec(),
        })
    }

    pub(crate) fn envelope(&self) -> Envelope {
        let headers = petrel_render::list_headers(&self.header);
        let (seen, flagged, answered) = self.flags;
        Envelope {
            uid: self.uid,
            from: headers.from,
            subject: headers.subject,
            date: headers.date.or(self.internal_date),
            seen,
            flagged,
            answered,
            has_attachment: headers.has_attachment,
            size: self.size,
        }
    }
}
