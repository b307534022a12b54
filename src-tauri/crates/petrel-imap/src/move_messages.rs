//! Moving, copying and permanently deleting messages by UID.
//!
//! MOVE (RFC 6851) when offered. Otherwise COPY, then `\Deleted` and `UID EXPUNGE` of exactly
//! those UIDs (UIDPLUS, RFC 4315). Never a bare EXPUNGE: it would also erase mail another
//! client marked `\Deleted` but still wants. Without UIDPLUS the originals stay marked
//! `\Deleted` (hidden by Petrel, expunged by whichever client the user tells to).
//!
//! UIDs that no longer exist are not an error (RFC 3501 §6.4.8), which makes a replay of the
//! same action after a lost reply harmless for MOVE and expunge.

use crate::session::{with_timeout, Access, ImapSession, Selected};
use crate::{uid_set, ImapError};
use futures::TryStreamExt;

/// Most UIDs in one command line; longer sets are split (servers limit line length).
pub(crate) const MAX_UIDS_PER_COMMAND: usize = 1_000;

/// What happened to the originals of a move or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Gone from the source folder.
    Expunged,
    /// Marked `\Deleted` but left in place (server without MOVE and UIDPLUS).
    MarkedDeleted,
}

impl ImapSession {
    /// Moves `uids` of `folder` into `to`.
    pub async fn move_messages(
        &mut self,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<Removal, ImapError> {
        if uids.is_empty() {
            return Ok(Removal::Expunged);
        }
        let selected = self.open(folder, Access::ReadWrite, uids).await?;
        if self.has("MOVE") {
            for chunk in uids.chunks(MAX_UIDS_PER_COMMAND) {
                with_timeout("moving messages", self.inner().uid_mv(uid_set(chunk), to)).await??;
            }
            self.keep(selected);
            return Ok(Removal::Expunged);
        }
        for chunk in uids.chunks(MAX_UIDS_PER_COMMAND) {
            with_timeout(
                "copying messages",
                self.inner().uid_copy(uid_set(chunk), to),
            )
            .await??;
        }
        self.remove_selected(selected, uids).await
    }

    /// Copies `uids` of `folder` into `to`.
    pub async fn copy_messages(
        &mut self,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let selected = self.open(folder, Access::ReadWrite, uids).await?;
        for chunk in uids.chunks(MAX_UIDS_PER_COMMAND) {
            with_timeout(
                "copying messages",
                self.inner().uid_copy(uid_set(chunk), to),
            )
            .await??;
        }
        self.keep(selected);
        Ok(())
    }

    /// Deletes `uids` of `folder` for good (the Trash is the caller's business).
    pub async fn expunge_messages(
        &mut self,
        folder: &str,
        uids: &[u32],
    ) -> Result<Removal, ImapError> {
        if uids.is_empty() {
            return Ok(Removal::Expunged);
        }
        let selected = self.open(folder, Access::ReadWrite, uids).await?;
        self.remove_selected(selected, uids).await
    }

    /// `\Deleted` and `UID EXPUNGE` of exactly `uids` in the folder open as `selected`.
    async fn remove_selected(
        &mut self,
        selected: Selected,
        uids: &[u32],
    ) -> Result<Removal, ImapError> {
        for chunk in uids.chunks(MAX_UIDS_PER_COMMAND) {
            with_timeout("marking messages deleted", async {
                let stream = self
                    .inner()
                    .uid_store(uid_set(chunk), "+FLAGS.SILENT (\\Deleted)")
                    .await?;
                stream.try_collect::<Vec<_>>().await
            })
            .await??;
        }
        if !self.has("UIDPLUS") {
            tracing::warn!("server lacks UIDPLUS: messages marked \\Deleted, not expunged");
            self.keep(selected);
            return Ok(Removal::MarkedDeleted);
        }
        for chunk in uids.chunks(MAX_UIDS_PER_COMMAND) {
            with_timeout("expunging messages", async {
                let stream = self.inner().uid_expunge(uid_set(chunk)).await?;
                stream.try_collect::<Vec<_>>().await
            })
            .await??;
        }
        self.keep(selected);
        Ok(Removal::Expunged)
    }

    /// Refuses to go on unless `folder`'s UIDVALIDITY is still `expected` (RFC 3501
    /// §2.3.1.1): UIDs kept from before a change may name other messages now. Leaves the
    /// folder open read-write for `uids`, so the command that follows opens nothing again
    /// (and so acts in the very folder state that was checked).
    pub async fn check_uid_validity(
        &mut self,
        folder: &str,
        expected: u32,
        uids: &[u32],
    ) -> Result<(), ImapError> {
        let selected = self.open(folder, Access::ReadWrite, uids).await?;
        match selected.uid_validity {
            Some(now) if now != expected => Err(ImapError::UidValidityChanged {
                folder: folder.to_string(),
            }),
            _ => {
                self.keep(selected);
                Ok(())
            }
        }
    }
}
