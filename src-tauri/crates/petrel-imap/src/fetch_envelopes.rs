//! The message list of one folder: newest first, only what a row shows.

use crate::read_fetches::{FetchItems, Reply};
use crate::session::{with_timeout, ImapSession};
use crate::sync_folder::Flags;
use crate::ImapError;
use async_imap::imap_proto::{RequestId, Response, Status};
use petrel_core::Envelope;
use std::collections::{HashSet, VecDeque};
use std::ops::RangeInclusive;

/// Most rows one call returns; the UI pages by position.
pub const MAX_PAGE: u32 = 1_000;

/// INTERNALDATE as RFC 3501 writes it ("17-Jul-1996 02:44:25 -0700").
const INTERNAL_DATE: &str = "%d-%b-%Y %H:%M:%S %z";

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
        let mut rows = Vec::new();
        self.fetch_replies(
            "fetching the message list",
            &format!("FETCH {low}:{high} {}", list_query()),
            |items| rows.extend(Fetched::from_items(items).map(|f| f.envelope())),
        )
        .await?;
        rows.sort_by_key(|r| std::cmp::Reverse(r.uid));
        Ok((rows, total))
    }

    /// Sends the FETCH of one batch of list rows and returns it as a batch in flight:
    /// several may be on the wire at once ([`ImapSession::next_row_batch`] reads them), so
    /// the server never waits for Petrel between two batches.
    pub(crate) async fn send_row_batch(
        &mut self,
        batch: RowsWanted<'_>,
    ) -> Result<RowBatch, ImapError> {
        let capacity = batch.len();
        let (command, wanted) = match batch {
            RowsWanted::Uids(uids) => (
                format!(
                    "UID FETCH {} {}",
                    crate::sync_folder::uid_set(uids),
                    list_query()
                ),
                Wanted::Uids(uids.iter().copied().collect()),
            ),
            RowsWanted::Positions(range) => (
                format!("FETCH {}:{} {}", range.start(), range.end(), list_query()),
                Wanted::Positions(range),
            ),
        };
        let tag = with_timeout(
            "fetching message headers",
            self.inner().run_command(&command),
        )
        .await??;
        Ok(RowBatch {
            tag,
            wanted,
            rows: Vec::with_capacity(capacity),
            done: None,
        })
    }

    /// Reads replies until the oldest batch in `flying` is complete and returns it (`None`
    /// when nothing is in flight). Rows go to the batch that asked for their UID (or their
    /// position), so a server answering pipelined commands out of order is read right; a
    /// FETCH for no batch (an unsolicited flag update) is left out.
    pub(crate) async fn next_row_batch(
        &mut self,
        flying: &mut VecDeque<RowBatch>,
    ) -> Result<Option<RowBatch>, ImapError> {
        // Replies are read here, past async-imap (`read_fetches.rs`), into one buffer.
        let mut buf = Vec::new();
        with_timeout("fetching message headers", async {
            loop {
                match flying.front().map(|b| b.done.is_some()) {
                    None => return Ok(None),
                    Some(true) => {
                        let Some(mut batch) = flying.pop_front() else {
                            return Ok(None);
                        };
                        return match batch.done.take() {
                            Some(Err(words)) => Err(ImapError::Refused(words)),
                            _ => Ok(Some(batch)),
                        };
                    }
                    Some(false) => {}
                }
                match self.next_reply(&mut buf).await? {
                    Reply::Fetch(items) => {
                        if let Some(row) = Fetched::from_items(items) {
                            if let Some(batch) = flying
                                .iter_mut()
                                .find(|b| b.wanted.holds(row.position, row.uid))
                            {
                                batch.rows.push(row);
                            }
                        }
                    }
                    Reply::Other(Response::Done {
                        tag,
                        status,
                        information,
                        ..
                    }) => {
                        if let Some(batch) = flying.iter_mut().find(|b| b.tag == tag) {
                            let words = information.as_deref().unwrap_or("").trim().to_string();
                            batch.done = Some(match status {
                                Status::Ok => Ok(()),
                                _ => Err(words),
                            });
                        }
                    }
                    Reply::Other(_) => {}
                }
            }
        })
        .await?
    }
}

/// The FETCH items of a list row.
fn list_query() -> String {
    format!(
        "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
        petrel_render::LIST_HEADER_FIELDS
    )
}

/// The rows one header FETCH asks for.
#[derive(Debug, Clone)]
pub(crate) enum RowsWanted<'a> {
    /// These UIDs (`UID FETCH`).
    Uids(&'a [u32]),
    /// The messages at these positions (`FETCH`, sequence numbers): a folder's first sync
    /// needs no list of its UIDs first.
    Positions(RangeInclusive<u32>),
}

impl RowsWanted<'_> {
    /// Rows asked for (at most: positions past the folder's end give none).
    pub(crate) fn len(&self) -> usize {
        match self {
            RowsWanted::Uids(uids) => uids.len(),
            RowsWanted::Positions(range) => range.clone().count(),
        }
    }
}

/// What a batch on the wire asked for, to route the replies.
#[derive(Debug)]
enum Wanted {
    Uids(HashSet<u32>),
    Positions(RangeInclusive<u32>),
}

impl Wanted {
    fn holds(&self, position: u32, uid: u32) -> bool {
        match self {
            Wanted::Uids(uids) => uids.contains(&uid),
            Wanted::Positions(range) => range.contains(&position),
        }
    }
}

/// One header FETCH on the wire, and the rows read for it so far.
#[derive(Debug)]
pub(crate) struct RowBatch {
    tag: RequestId,
    wanted: Wanted,
    pub(crate) rows: Vec<Fetched>,
    /// The tagged answer, once read: `Err` holds the server's words.
    done: Option<Result<(), String>>,
}

/// A list row as the server sent it, its header block not parsed yet: a header sync reads
/// these on the session's task and parses them on the cache writer's thread, which on two
/// cores halves the work between the two.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) uid: u32,
    /// The message's sequence number when fetched.
    position: u32,
    flags: Flags,
    size: u64,
    /// INTERNALDATE as sent: parsed only for a message without a Date: header.
    internal_date: String,
    header: Vec<u8>,
}

impl Fetched {
    /// The row of one FETCH response; `None` without a UID (an unsolicited update).
    pub(crate) fn from_items(items: FetchItems<'_>) -> Option<Fetched> {
        Some(Fetched {
            uid: items.uid?,
            position: items.position,
            flags: items.flags.unwrap_or_default(),
            size: items.size.map_or(0, u64::from),
            internal_date: items
                .internal_date
                .map(|d| d.into_owned())
                .unwrap_or_default(),
            header: items.body.map(|b| b.into_owned()).unwrap_or_default(),
        })
    }

    fn internal_date(&self) -> Option<i64> {
        chrono::DateTime::parse_from_str(&self.internal_date, INTERNAL_DATE)
            .ok()
            .map(|d| d.timestamp())
    }

    pub(crate) fn envelope(&self) -> Envelope {
        let headers = petrel_render::list_headers(&self.header);
        let (seen, flagged, answered) = self.flags;
        Envelope {
            uid: self.uid,
            from: headers.from,
            subject: headers.subject,
            date: headers.date.or_else(|| self.internal_date()),
            seen,
            flagged,
            answered,
            has_attachment: headers.has_attachment,
            size: self.size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_fetches::{parse_reply, Reply};

    fn row(reply: &[u8]) -> Option<Fetched> {
        match parse_reply(reply).unwrap() {
            Reply::Fetch(items) => Fetched::from_items(items),
            Reply::Other(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn internal_dates_are_read_with_their_zone() {
        // The same row scanned by Petrel and (with an item only imap-proto reads) by it.
        for extra in ["", " BODY[TEXT] NIL"] {
            let reply = format!("* 1 FETCH (UID 7 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" FLAGS (\\seen \\Answered){extra})\r\n");
            let row = row(reply.as_bytes()).unwrap();
            assert_eq!(row.internal_date(), Some(837_596_665));
            assert_eq!(row.flags, (true, false, true), "flags match without case");
        }
        assert!(
            row(b"* 1 FETCH (FLAGS (\\Seen))\r\n").is_none(),
            "no UID: not a row"
        );
    }
}
