//! One whole message, for the reader.

use crate::session::{with_timeout, Access, ImapSession};
use crate::ImapError;
use futures::TryStreamExt;

/// Largest message body accepted (64 MiB): bigger is refused, a hostile or broken server could
/// otherwise exhaust memory.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Whole messages up to the limit and each one's true size: a larger message comes cut at
/// the limit (and is then set aside by its size), so no response passes the ceiling of
/// `reply_meter.rs` and one large message never costs the connection.
fn body_query() -> String {
    format!("(UID RFC822.SIZE BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)")
}

/// Whether a FETCH's body is the whole message: shorter than the cut, or exactly at it for
/// a message of that size. (RFC822.SIZE alone is not trusted: some servers report sizes a
/// little off.)
fn is_whole(body: &[u8], size: Option<u32>) -> bool {
    body.len() < MAX_MESSAGE_BYTES || size.is_some_and(|s| s as usize <= MAX_MESSAGE_BYTES)
}

impl ImapSession {
    /// `UID FETCH` of `uids` in `folder` with `query`, every reply collected; `what` names
    /// the step in a timeout's words. The folder is opened read-only unless this session
    /// has it open already for these UIDs ([`ImapSession::open`]).
    pub(crate) async fn uid_fetch_in(
        &mut self,
        folder: &str,
        uids: &[u32],
        query: &str,
        what: &'static str,
    ) -> Result<Vec<async_imap::types::Fetch>, ImapError> {
        let selected = self.open(folder, Access::ReadOnly, uids).await?;
        let fetches = with_timeout(what, async {
            let stream = self.inner().uid_fetch(crate::uid_set(uids), query).await?;
            stream.try_collect().await
        })
        .await?
        .map_err(ImapError::from)?;
        self.keep(selected);
        Ok(fetches)
    }

    /// Raw RFC 5322 bytes of message `uid` in `folder`. BODY.PEEK[]: the engine marks the
    /// message read itself (through its action queue, so the cache and the server agree,
    /// and a body downloaded for offline use stays unread).
    pub async fn fetch_message(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, ImapError> {
        let selected = self.open(folder, Access::ReadOnly, &[uid]).await?;
        let mut found = None;
        let command = format!("UID FETCH {uid} {}", body_query());
        self.fetch_replies("fetching the message", &command, |items| {
            if let (Some(true), Some(body)) = (items.uid.map(|u| u == uid), items.body) {
                found = Some((body.into_owned(), items.size));
            }
        })
        .await?;
        self.keep(selected);
        let (body, size) = found
            .ok_or_else(|| ImapError::Refused(format!("message {uid} is no longer in {folder}")))?;
        if is_whole(&body, size) {
            Ok(body)
        } else {
            Err(ImapError::Protocol(format!(
                "the message is {}, larger than the {} Petrel opens",
                petrel_tls::size_words(size.map_or(0, |s| s as usize)),
                petrel_tls::size_words(MAX_MESSAGE_BYTES)
            )))
        }
    }
}

impl ImapSession {
    /// Raw bytes of several messages (for offline use), in one UID FETCH. Messages over
    /// [`MAX_MESSAGE_BYTES`] are skipped (they open on demand, where the limit is reported).
    pub async fn fetch_bodies(
        &mut self,
        folder: &str,
        uids: &[u32],
    ) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: std::collections::HashSet<u32> = uids.iter().copied().collect();
        let selected = self.open(folder, Access::ReadOnly, uids).await?;
        let mut bodies = Vec::with_capacity(uids.len());
        let command = format!("UID FETCH {} {}", crate::uid_set(uids), body_query());
        self.fetch_replies("downloading messages", &command, |items| {
            let (Some(uid), Some(body)) = (items.uid, items.body) else {
                return;
            };
            if wanted.contains(&uid) && is_whole(&body, items.size) {
                bodies.push((uid, body.into_owned()));
            }
        })
        .await?;
        self.keep(selected);
        Ok(bodies)
    }
}
