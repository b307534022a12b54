//! User actions on messages: flags, move, copy, delete, archive — applied to the cache at
//! once, queued durably, sent to the server in order (see `pending_actions`).

use crate::pending_actions::MailAction;
use crate::pop3_account::LocalAction;
use crate::{Engine, EngineError};
use petrel_core::{AccountId, ActionOutcome, FolderChange, FolderRole};
use petrel_store::FolderRef;

/// Name of the folder created for "Archive" on accounts that have none.
const ARCHIVE_FOLDER: &str = "Archive";
/// Name of the Trash folder created on servers that have none.
const TRASH_FOLDER: &str = "Trash";

impl Engine {
    /// Marks messages read/unread and/or flagged/unflagged.
    pub async fn set_flags(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        seen: Option<bool>,
        flagged: Option<bool>,
    ) -> Result<ActionOutcome, EngineError> {
        if self.is_pop3(id) {
            return self.local_action(
                &FolderRef::new(id, folder),
                uids,
                LocalAction::Flags { seen, flagged },
            );
        }
        self.perform(
            id,
            MailAction::SetFlags {
                folder: folder.into(),
                uids: uids.to_vec(),
                seen,
                flagged,
            },
        )
        .await
    }

    pub async fn move_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<ActionOutcome, EngineError> {
        if folder == to {
            return Err(EngineError::InvalidInput(
                "The messages are already in that folder.".into(),
            ));
        }
        if self.is_pop3(id) {
            return self.local_action(&FolderRef::new(id, folder), uids, LocalAction::Move(to));
        }
        self.perform(
            id,
            MailAction::Move {
                folder: folder.into(),
                uids: uids.to_vec(),
                to: to.into(),
            },
        )
        .await
    }

    pub async fn copy_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<ActionOutcome, EngineError> {
        if self.is_pop3(id) {
            let folder = FolderRef::new(id, folder);
            return Ok(ActionOutcome {
                folder: self.copy_local(&folder, uids, to)?,
                pending: 0,
            });
        }
        self.perform(
            id,
            MailAction::Copy {
                folder: folder.into(),
                uids: uids.to_vec(),
                to: to.into(),
            },
        )
        .await
    }

    /// Moves messages to the Trash (created when the account has none), or deletes them for
    /// good — only when the user confirmed exactly that (`Deletion::Permanently`). Deleting
    /// in the Trash is permanent, so it needs that confirmation too: without it this is an
    /// error, never a silent expunge. No expunge is ever queued because the folder list was
    /// unknown: without it nothing is done.
    pub async fn delete_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
        how: Deletion,
    ) -> Result<ActionOutcome, EngineError> {
        let trash = if self.is_pop3(id) {
            Some(crate::pop3_account::LOCAL_TRASH.to_string())
        } else {
            self.role_folder(id, FolderRole::Trash).await?
        };
        let permanent = how == Deletion::Permanently || trash.as_deref() == Some(folder);
        if permanent && how != Deletion::Permanently {
            return Err(EngineError::InvalidInput(
                "Deleting in the Trash removes the messages for good: confirm “Delete permanently” first.".into(),
            ));
        }
        if self.is_pop3(id) {
            if permanent {
                // A deletion for good records itself in the ledger: not while a download
                // writes it.
                let turn = self.pop3_turn(id);
                let _one_at_a_time = turn.lock().await;
                return self.local_action(
                    &FolderRef::new(id, folder),
                    uids,
                    LocalAction::DeleteForGood,
                );
            }
            return self.local_action(
                &FolderRef::new(id, folder),
                uids,
                LocalAction::Move(crate::pop3_account::LOCAL_TRASH),
            );
        }
        if permanent {
            return self
                .perform(
                    id,
                    MailAction::Expunge {
                        folder: folder.into(),
                        uids: uids.to_vec(),
                    },
                )
                .await;
        }
        let trash = match trash {
            Some(trash) => trash,
            // No Trash yet (Dovecot creates none by default): made now, as Thunderbird does,
            // so Delete stays undoable. Offline this fails with a clear error.
            None => {
                self.create_folder(id, TRASH_FOLDER).await?;
                self.role_folder(id, FolderRole::Trash)
                    .await?
                    .unwrap_or_else(|| TRASH_FOLDER.to_string())
            }
        };
        self.move_messages(id, folder, uids, &trash).await
    }

    /// Moves messages to the Archive folder, creating "Archive" if the account has none.
    pub async fn archive_messages(
        &self,
        id: &AccountId,
        folder: &str,
        uids: &[u32],
    ) -> Result<ActionOutcome, EngineError> {
        if self.is_pop3(id) {
            return self.local_action(
                &FolderRef::new(id, folder),
                uids,
                LocalAction::Move("Archive"),
            );
        }
        let archive = match self.special_folder(id, FolderRole::Archive).await? {
            Some(archive) => archive,
            None => {
                self.create_folder(id, ARCHIVE_FOLDER).await?;
                ARCHIVE_FOLDER.to_string()
            }
        };
        self.move_messages(id, folder, uids, &archive).await
    }

    /// Actions of the account still waiting for the server.
    pub fn pending_actions(&self, id: &AccountId) -> u32 {
        self.pending
            .list(id)
            .map(|q| q.len() as u32)
            .unwrap_or_default()
    }

    pub(crate) async fn perform(
        &self,
        id: &AccountId,
        action: MailAction,
    ) -> Result<ActionOutcome, EngineError> {
        self.account(id)?;
        let folder = FolderRef::new(id, action.folder());
        // The UIDs below are only meaningful under this UIDVALIDITY (RFC 3501 §2.3.1.1).
        let uid_validity = self
            .cache
            .folder_state(&folder)
            .map_err(EngineError::cache("Reading the cache"))?
            .map(|s| s.uidvalidity)
            .filter(|&v| v != 0);
        self.apply_to_cache(&folder, &action)?;
        let queued = {
            let _q = self
                .queue_lock
                .lock()
                .map_err(|_| crate::engine::poisoned())?;
            self.pending.push(id, action, uid_validity)
        };
        if let Err(e) = queued {
            // Not recorded, so it must not stay in the cache either: the next view re-syncs.
            self.forget_synced(&folder);
            return Err(e);
        }
        let replayed = self.replay(id).await;
        let outcome = ActionOutcome {
            folder: self.cached_change(&folder)?,
            pending: self.pending_actions(id),
        };
        replayed.map(|()| outcome)
    }

    /// The cache side of an action: what the user sees at once.
    fn apply_to_cache(&self, folder: &FolderRef, action: &MailAction) -> Result<(), EngineError> {
        self.cache_changed();
        let cache_err = || EngineError::cache(format!("Updating {} in the cache", folder.path));
        match action {
            MailAction::SetFlags {
                uids,
                seen,
                flagged,
                ..
            } => {
                for &uid in uids {
                    if let Some(row) = self.cache.envelope(folder, uid).map_err(cache_err())? {
                        self.cache
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
                self.cache.remove(folder, uids).map_err(cache_err())?;
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
    pub async fn replay(&self, id: &AccountId) -> Result<(), EngineError> {
        let lock = self.replay_slot(id);
        let _one_at_a_time = lock.lock().await;
        let mut refused = None;
        loop {
            let next = {
                let _q = self
                    .queue_lock
                    .lock()
                    .map_err(|_| crate::engine::poisoned())?;
                self.pending.list(id)?.into_iter().next()
            };
            let Some(queued) = next else { break };
            match self
                .send_action(id, &queued.action, queued.uid_validity)
                .await
            {
                Ok(()) => {}
                Err(e) if e.is_refusal() => {
                    tracing::warn!(account = %id, action = ?queued.action, error = %e, "server refused a queued action; its state wins");
                    let folder = FolderRef::new(id, queued.action.folder());
                    self.forget_synced(&folder);
                    if let Err(sync) = self.sync_folder_now(&folder).await {
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
                self.forget_synced(&FolderRef::new(id, target));
            }
            let _q = self
                .queue_lock
                .lock()
                .map_err(|_| crate::engine::poisoned())?;
            self.pending.remove(id, queued.id)?;
        }
        refused.map_or(Ok(()), Err)
    }

    async fn send_action(
        &self,
        id: &AccountId,
        action: &MailAction,
        uid_validity: Option<u32>,
    ) -> Result<(), EngineError> {
        let action = action.clone();
        self.with_session(id, move |s| {
            let action = action.clone();
            Box::pin(async move {
                let context = format!("Updating {} on the server", action.folder());
                if let Some(expected) = uid_validity {
                    s.check_uid_validity(action.folder(), expected)
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

    /// The folder of `role` from the tree (cached when offline).
    pub(crate) async fn special_folder(
        &self,
        id: &AccountId,
        role: FolderRole,
    ) -> Result<Option<String>, EngineError> {
        let folders = self.folders(id).await?;
        Ok(folders
            .into_iter()
            .find(|f| f.role == Some(role) && f.selectable)
            .map(|f| f.path))
    }

    /// The folder with `role`, cache first (no LIST on every delete); the server is asked
    /// only when the cached tree has none (another client may have made it since). An
    /// unknown folder list is an error, never "none".
    pub(crate) async fn role_folder(
        &self,
        id: &AccountId,
        role: FolderRole,
    ) -> Result<Option<String>, EngineError> {
        if let Some(path) = self.folder_with_role(id, role) {
            return Ok(Some(path));
        }
        self.special_folder(id, role).await
    }

    pub(crate) fn cached_change(&self, folder: &FolderRef) -> Result<FolderChange, EngineError> {
        let state = self
            .cache
            .folder_state(folder)
            .map_err(EngineError::cache("Reading the cache"))?
            .unwrap_or_default();
        Ok(FolderChange {
            account: folder.account.clone(),
            folder: folder.path.clone(),
            total: state.total,
            unread: state.unread,
            added: 0,
            removed: 0,
            flags_changed: 0,
        })
    }
}

/// How Delete goes: to the Trash, or for good (the user confirmed "Delete permanently").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deletion {
    ToTrash,
    Permanently,
}
