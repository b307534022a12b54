//! One whole message, for the reader.

use crate::session::{with_timeout, ImapSession};
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

/// The body of a FETCH response when it is the whole message: shorter than the cut, or
/// exactly at it for a message of that size. (RFC822.SIZE alone is not trusted: some
/// servers report sizes a little off.)
fn whole_body(f: &async_imap::types::Fetch) -> Option<&[u8]> {
    let body = f.body()?;
    let at_cut = body.len() >= MAX_MESSAGE_BYTES;
    (!at_cut || f.size.is_some_and(|s| s as usize <= MAX_MESSAGE_BYTES)).then_some(body)
}

/// Whether a fetch may use the folder as this session already has it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    Fresh,
    Kept,
}

impl ImapSession {
    /// `UID FETCH set query` in `folder` (opened read-only), every reply collected; `what`
    /// names the step in a timeout's words. `View::Kept` fetches in the folder as this
    /// session last opened it, when no other command came since — for batches of UIDs
    /// already known (a message that arrived since may be left out until the next open);
    /// `View::Fresh` opens it again, so the newest messages are in it.
    pub(crate) async fn uid_fetch_in(
        &mut self,
        folder: &str,
        set: &str,
        query: &str,
        what: &'static str,
        view: View,
    ) -> Result<Vec<async_imap::types::Fetch>, ImapError> {
        let open = self
            .examined
            .take()
            .filter(|f| f == folder && view == View::Kept);
        if open.is_none() {
            with_timeout("opening the folder", self.inner().examine(folder)).await??;
        }
        let fetches = with_timeout(what, async {
            let stream = self.inner().uid_fetch(set, query).await?;
            stream.try_collect().await
        })
        .await?
        .map_err(ImapError::from)?;
        // Only after a fetch that went through: after an error the state is unknown.
        self.examined = Some(folder.to_string());
        Ok(fetches)
    }

    /// Raw RFC 5322 bytes of message `uid` in `folder`. BODY.PEEK[]: the engine marks the
    /// message read itself (through its action queue, so the cache and the server agree,
    /// and a body downloaded for offline use stays unread).
    pub async fn fetch_message(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, ImapError> {
        let fetches = self
            .uid_fetch_in(
                folder,
                &uid.to_string(),
                &body_query(),
                "fetching the message",
                View::Fresh,
            )
            .await?;
        let fetch = fetches
            .iter()
            .find(|f| f.uid == Some(uid) && f.body().is_some())
            .ok_or_else(|| ImapError::Refused(format!("message {uid} is no longer in {folder}")))?;
        match whole_body(fetch) {
            Some(body) => Ok(body.to_vec()),
            None => Err(ImapError::Protocol(format!(
                "the message is {}, larger than the {} Petrel opens",
                petrel_tls::size_words(fetch.size.map_or(0, |s| s as usize)),
                petrel_tls::size_words(MAX_MESSAGE_BYTES)
            ))),
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
        let fetches = self
            .uid_fetch_in(
                folder,
                &crate::uid_set(uids),
                &body_query(),
                "downloading messages",
                View::Kept,
            )
            .await?;
        Ok(fetches
            .iter()
            .filter_map(|f| {
                let uid = f.uid.filter(|u| wanted.contains(u))?;
                Some((uid, whole_body(f)?.to_vec()))
            })
            .collect())
    }
}
