//! The message list of one folder: newest first, only what a row shows.

use crate::raw_command::{closed, goodbye};
use crate::session::{with_timeout, ImapSession};
use crate::sync_folder::{flags_named, Flags};
use crate::ImapError;
use async_imap::imap_proto::{AttributeValue, RequestId, Response, Status};
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
        self.raw_command(
            "fetching the message list",
            &format!("FETCH {low}:{high} {}", list_query()),
            |reply| {
                if let Response::Fetch(_, attrs) = reply {
                    rows.extend(Fetched::from_attrs(attrs).map(|f| f.envelope()));
                }
                Ok(())
            },
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
                let Some(reply) = self.inner().read_response().await? else {
                    return Err(closed());
                };
                if let Some(e) = goodbye(reply.parsed()) {
                    return Err(e);
                }
                match reply.parsed() {
                    Response::Fetch(position, attrs) => {
                        if let Some(row) = Fetched::from_attrs(attrs) {
                            if let Some(batch) = flying
                                .iter_mut()
                                .find(|b| b.wanted.holds(*position, row.uid))
                            {
                                batch.rows.push(row);
                            }
                        }
                    }
                    Response::Done {
                        tag,
                        status,
                        information,
                        ..
                    } => {
                        if let Some(batch) = flying.iter_mut().find(|b| b.tag == *tag) {
                            let words = information.as_deref().unwrap_or("").trim().to_string();
                            batch.done = Some(match status {
                                Status::Ok => Ok(()),
                                _ => Err(words),
                            });
                        }
                    }
                    _ => {}
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
    flags: Flags,
    size: u64,
    /// INTERNALDATE as sent: parsed only for a message without a Date: header.
    internal_date: String,
    header: Vec<u8>,
}

impl Fetched {
    /// The row of one FETCH response; `None` without a UID (an unsolicited update).
    pub(crate) fn from_attrs(attrs: &[AttributeValue<'_>]) -> Option<Fetched> {
        let (mut uid, mut flags, mut size, mut internal_date, mut header) =
            (None, (false, false, false), 0, String::new(), Vec::new());
        for attr in attrs {
            match attr {
                AttributeValue::Uid(u) => uid = Some(*u),
                AttributeValue::Flags(names) => flags = flags_named(names),
                AttributeValue::Rfc822Size(n) => size = u64::from(*n),
                AttributeValue::InternalDate(d) => internal_date = d.to_string(),
                AttributeValue::BodySection { data: Some(d), .. } => header = d.to_vec(),
                _ => {}
            }
        }
        Some(Fetched {
            uid: uid?,
            flags,
            size,
            internal_date,
            header,
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

    #[test]
    fn internal_dates_are_read_with_their_zone() {
        let attrs = [
            AttributeValue::Uid(7),
            AttributeValue::InternalDate("17-Jul-1996 02:44:25 -0700".into()),
            AttributeValue::Flags(vec!["\\seen".into(), "\\Answered".into()]),
        ];
        let row = Fetched::from_attrs(&attrs).unwrap();
        assert_eq!(row.internal_date(), Some(837_596_665));
        assert_eq!(row.flags, (true, false, true), "flags match without case");
        assert!(
            Fetched::from_attrs(&attrs[1..]).is_none(),
            "no UID: not a row"
        );
    }
}
