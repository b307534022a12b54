//! User actions on IMAP messages: flags, move, copy, delete, archive — applied to the
//! cache at once, queued durably, sent to the server in order (see `pending_actions`).

use super::ImapAccount;
use crate::account::{Deletion, FolderEdit, UserAction};
use crate::error::lock;
use crate::pending_actions::MailAction;
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::{ActionOutcome, FolderRole};
use petrel_store::FolderRef;

/// Name of the folder created for "Archive" on accounts that have none.
const ARCHIVE_FOLDER: &str = "Archive";
/// Name of the Trash folder created on servers that have none.
const TRASH_FOLDER: &str = "Trash";

impl ImapAccount {
    pub(super) async fn user_action(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        action: UserAction<'_>,
    ) -> Result<ActionOutcome, EngineError> {
        let (folder, uids) = (folder.to_string(), uids.to_vec());
        let action = match action {
            UserAction::Flags { seen, flagged } => MailAction::SetFlags {
                folder,
                uids,
                seen,
                flagged,
            },
            UserAction::Move { to } => MailAction::Move {
                folder,
                uids,
                to: to.into(),
            },
            UserAction::Copy { to } => MailAction::Copy {
                folder,
                uids,
                to: to.into(),
            },
            UserAction::Delete(how) => return self.delete(cx, &folder, &uids, how).await,
            UserAction::Archive => {
                let archive = match self.role_folder(cx, FolderRole::Archive).await? {
                    Some(archive) => archive,
                    None => {
                        self.edit_folder(cx, FolderEdit::Create(ARCHIVE_FOLDER))
                            .await?;
                        ARCHIVE_FOLDER.to_string()
                    }
                };
                return self.move_to(cx, &folder, &uids, &archive).await;
            }
        };
        self.perform(cx, action).await
    }

    /// Moves messages to the Trash (created when the account has none), or deletes them
    /// for good — only when the user confirmed exactly that (`Deletion::Permanently`).
    /// Deleting in the Trash is permanent, so it needs that confirmation too: without it
    /// this is an error, never a silent expunge. No expunge is ever queued because the
    /// folder list was unknown: without it nothing is done.
    async fn delete(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        how: Deletion,
    ) -> Result<ActionOutcome, EngineError> {
        let trash = self.role_folder(cx, FolderRole::Trash).await?;
        let permanent = how == Deletion::Permanently || trash.as_deref() == Some(folder);
        if permanent && how != Deletion::Permanently {
            return Err(EngineError::InvalidInput(
                "Deleting in the Trash removes the messages for good: confirm “Delete permanently” first.".into(),
            ));
        }
        if permanent {
            return self
                .perform(
                    cx,
                    MailAction::Expunge {
                        folder: folder.into(),
                        uids: uids.to_vec(),
                    },
                )
                .await;
        }
        let trash = match trash {
            Some(trash) => trash,
            // No Trash yet (Dovecot creates none by default): made now, as Thunderbird
            // does, so Delete stays undoable. Offline this fails with a clear error.
            None => {
                self.edit_folder(cx, FolderEdit::Create(TRASH_FOLDER))
                    .await?;
                self.role_folder(cx, FolderRole::Trash)
                    .await?
                    .unwrap_or_else(|| TRASH_FOLDER.to_string())
            }
        };
        self.move_to(cx, folder, uids, &trash).await
    }

    /// A move the account decided on (to the Trash, to the Archive).
    async fn move_to(
        &self,
        cx: &Shared,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<ActionOutcome, EngineError> {
        if folder == to {
            return Err(EngineError::InvalidInput(
                "The messages are already in that folder.".into(),
            ));
        }
        let action = MailAction::Move {
            folder: folder.into(),
            uids: uids.to_vec(),
            to: to.into(),
        };
        self.perform(cx, action).await
    }

    async fn perform(&self, cx: &Shared, action: MailAction) -> Result<ActionOutcome, EngineError> {
        let id = &self.state.id;
        let folder = FolderRef::new(id, action.folder());
        // The UIDs below are only meaningful under this UIDVALIDITY (RFC 3501 §2.3.1.1).
        let uid_validity = cx
            .cache
            .folder_state(&folder)
            .map_err(EngineError::cache("Reading the cache"))?
            .map(|s| s.uidvalidity)
            .filter(|&v| v != 0);
        self.apply_to_cache(cx, &folder, &action)?;
        let queued = {
            let _q = lock(&cx.queue_lock);
            cx.pending.push(id, action, uid_validity)
        };
        if let Err(e) = queued {
            // Not recorded, so it must not stay in the cache either: the next view re-syncs.
            self.state.forget_synced(&folder.path);
            return Err(e);
        }
        let replayed = self.replay(cx).await;
        let outcome = ActionOutcome {
            folder: cx.cached_change(&folder)?,
            pending: cx.pending_count(id),
        };
        replayed.map(|()| outcome)
    }

    /// The cache side of an action: what the user sees at once.
    fn apply_to_cache(
        &self,
        cx: &Shared,
        folder: &FolderRef,
        action: &MailAction,
    ) -> Result<(), EngineError> {
        cx.cache_changed();
        let cache_err = || EngineError::cache(format!("Updating {} in the cache", folder.path));
        match action {
            MailAction::SetFlags {
                uids,
                seen,
                flagged,
                ..
            } => {
                for &uid in uids {
                    if let Some(row) = cx.cache.envelope(folder, uid).map_err(cache_err())? {
                        cx.cache
                            .set_flags(
                                folder,
                                uid,
                                seen.unwrap_or(row.seen),
                                flagged.unwrap_or(row.flagged),
                            )
                            .map_err(cache_err())?;
                    }
                }
            }
            MailAction::Move { uids, .. } | MailAction::Expunge { uids, .. } => {
                cx.cache.remove(folder, uids).map_err(cache_err())?;
            }
            // The copies get UIDs from the server; the target shows them on its next sync.
            MailAction::Copy { .. } => {}
        }
        Ok(())
    }

    /// Sends the account's queued actions in order. A connection, login or certificate
    /// problem stops the replay with everything still queued (tried again on the next
    /// connection). An action the server refuses is dropped and its folders re-synced, so
    /// the cache shows the server's state; the first such refusal is returned.
    pub(crate) async fn replay(&self, cx: &Shared) -> Result<(), EngineError> {
        let id = &self.state.id;
        let _one_at_a_time = self.replay_turn.lock().await;
        let mut refused = None;
        loop {
            let next = {
                let _q = lock(&cx.queue_lock);
                cx.pending.list(id)?.into_iter().next()
            };
            let Some(queued) = next else { break };
            match self
                .send_action(cx, &queued.action, queued.uid_validity)
                .await
            {
                Ok(()) => {}
                Err(e) if e.is_refusal() => {
                    tracing::warn!(account = %id, action = ?queued.action, error = %e, "server refused a queued action; its state wins");
                    let folder = queued.action.folder();
                    self.state.forget_synced(folder);
                    if let Err(sync) = self.sync_folder_now(cx, folder).await {
                        tracing::warn!(account = %id, error = %sync, "re-sync after a refusal failed");
                    }
                    refused.get_or_insert(e);
                }
                Err(e) => {
                    tracing::info!(account = %id, error = %e, "server unavailable; actions stay queued");
                    break;
                }
            }
            if let Some(target) = queued.action.target() {
                self.state.forget_synced(target);
            }
            let _q = lock(&cx.queue_lock);
            cx.pending.remove(id, queued.id)?;
        }
        refused.map_or(Ok(()), Err)
    }

    async fn send_action(
        &self,
        cx: &Shared,
        action: &MailAction,
        uid_validity: Option<u32>,
    ) -> Result<(), EngineError> {
        let action = action.clone();
        self.with_session(cx, move |s| {
            let action = action.clone();
            Box::pin(async move {
                let context = format!("Updating {} on the server", action.folder());
                if let Some(expected) = uid_validity {
                    s.check_uid_validity(action.folder(), expected, action.uids())
                        .await
                        .map_err(EngineError::imap(context.clone()))?;
                }
                match &action {
                    MailAction::SetFlags {
                        folder,
                        uids,
                        seen,
                        flagged,
                    } => {
                        for (flag, on) in [("\\Seen", seen), ("\\Flagged", flagged)] {
                            if let Some(on) = on {
                                s.store_flag(folder, uids, flag, *on)
                                    .await
                                    .map_err(EngineError::imap(context.clone()))?;
                            }
                        }
                    }
                    MailAction::Move { folder, uids, to } => {
                        s.move_messages(folder, uids, to)
                            .await
                            .map_err(EngineError::imap(context))?;
                    }
                    MailAction::Copy { folder, uids, to } => {
                        s.copy_messages(folder, uids, to)
                            .await
                            .map_err(EngineError::imap(context))?;
                    }
                    MailAction::Expunge { folder, uids } => {
                        s.expunge_messages(folder, uids)
                            .await
                            .map_err(EngineError::imap(context))?;
                    }
                }
                Ok(())
            })
        })
        .await
    }
}
