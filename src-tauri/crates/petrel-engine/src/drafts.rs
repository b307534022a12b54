//! Drafts: the composer saves every few seconds and on close. Each save files a new copy
//! (IMAP APPEND to Drafts with \Draft, or the local Drafts of a POP3 account) and then
//! removes the older copies of the same draft — found by its Message-ID, which stays the
//! same from the first save to the send. A crash between the two leaves two copies, never
//! none.

use crate::send::{build, composition_of, new_message_id, Purpose};
use crate::{Engine, EngineError};
use petrel_core::{AccountId, Composition, FolderRole};
use petrel_store::FolderRef;

/// Name of the Drafts folder created on servers that have none.
const DRAFTS_FOLDER: &str = "Drafts";

impl Engine {
    /// Saves the composition as the account's draft; returns its Message-ID (kept by the
    /// composer for the next save and the send).
    pub async fn save_draft(
        &self,
        id: &AccountId,
        mut msg: Composition,
    ) -> Result<String, EngineError> {
        let account = self.account(id)?;
        let message_id = msg
            .message_id
            .clone()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| new_message_id(&account.email));
        msg.message_id = Some(message_id.clone());
        let built = build(&account, &msg, Purpose::Draft)?;
        if self.is_pop3(id) {
            let drafts = petrel_maildir::Maildir::open(&self.local_dir(id, "Drafts"))
                .map_err(crate::send::outbox_err)?;
            let older = local_copies(&drafts, &message_id);
            drafts
                .deliver_batch(&[built.raw])
                .map_err(crate::send::outbox_err)?;
            for path in older {
                let _ = drafts.remove(&path);
            }
            self.index_local(&FolderRef::new(id, "Drafts"))?;
            return Ok(message_id);
        }
        let folder = self.drafts_folder(id).await?;
        let probe = message_id.clone();
        let target = folder.clone();
        self.with_session(id, move |s| {
            let folder = target.clone();
            let raw = built.raw.clone();
            let probe = probe.clone();
            Box::pin(async move {
                let older = s
                    .uids_with_message_id(&folder, &probe)
                    .await
                    .map_err(EngineError::imap("Looking in Drafts"))?;
                s.append(&folder, &raw, &["\\Draft", "\\Seen"])
                    .await
                    .map_err(EngineError::imap("Saving the draft"))?;
                s.expunge_messages(&folder, &older)
                    .await
                    .map_err(EngineError::imap("Replacing the previous draft"))?;
                Ok(())
            })
        })
        .await?;
        self.refresh_quietly(id, &folder).await;
        Ok(message_id)
    }

    /// Removes every copy of a draft (Discard, or once it is sent).
    pub async fn discard_draft(&self, id: &AccountId, message_id: &str) -> Result<(), EngineError> {
        if self.is_pop3(id) {
            let drafts = petrel_maildir::Maildir::open(&self.local_dir(id, "Drafts"))
                .map_err(crate::send::outbox_err)?;
            let copies = local_copies(&drafts, message_id);
            if copies.is_empty() {
                return Ok(());
            }
            for path in copies {
                let _ = drafts.remove(&path);
            }
            self.index_local(&FolderRef::new(id, "Drafts"))?;
            return Ok(());
        }
        let Some(folder) = self.folder_with_role(id, FolderRole::Drafts) else {
            return Ok(());
        };
        let probe = message_id.to_string();
        let target = folder.clone();
        let removed = self
            .with_session(id, move |s| {
                let folder = target.clone();
                let probe = probe.clone();
                Box::pin(async move {
                    let copies = s
                        .uids_with_message_id(&folder, &probe)
                        .await
                        .map_err(EngineError::imap("Looking in Drafts"))?;
                    s.expunge_messages(&folder, &copies)
                        .await
                        .map_err(EngineError::imap("Removing the draft"))?;
                    Ok(!copies.is_empty())
                })
            })
            .await?;
        if removed {
            self.refresh_quietly(id, &folder).await;
        }
        Ok(())
    }

    /// A saved draft (or any message of Drafts) as the composer continues it.
    pub async fn open_draft(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<Composition, EngineError> {
        let raw = self.raw_message(id, folder, uid).await?;
        let draft = petrel_compose::Draft::parse(crate::pop3_account::without_stamp(&raw));
        let mut composition = composition_of(&draft);
        let account = self.account(id)?;
        if composition.from.eq_ignore_ascii_case(&account.email) {
            composition.from.clear();
        }
        Ok(composition)
    }

    /// The account's Drafts folder, created when the server has none.
    async fn drafts_folder(&self, id: &AccountId) -> Result<String, EngineError> {
        if let Some(path) = self.folder_with_role(id, FolderRole::Drafts) {
            return Ok(path);
        }
        let known = self.folders(id).await?;
        if let Some(f) = known.iter().find(|f| f.role == Some(FolderRole::Drafts)) {
            return Ok(f.path.clone());
        }
        if let Some(f) = known
            .iter()
            .find(|f| f.path.eq_ignore_ascii_case(DRAFTS_FOLDER))
        {
            return Ok(f.path.clone());
        }
        self.create_folder(id, DRAFTS_FOLDER).await?;
        Ok(DRAFTS_FOLDER.to_string())
    }

    /// Re-syncs a folder this engine just changed, so its list shows the change; a failure
    /// only delays that to the next sync.
    async fn refresh_quietly(&self, id: &AccountId, folder: &str) {
        self.forget_synced(&FolderRef::new(id, folder));
        if let Err(e) = self.envelopes(id, folder, 0, 1, true).await {
            tracing::info!(account = %id, folder, error = %e, "folder not refreshed");
        }
    }
}

/// Files of a local Maildir (Drafts, Sent) holding the message with this Message-ID.
pub(crate) fn local_copies(
    drafts: &petrel_maildir::Maildir,
    message_id: &str,
) -> Vec<std::path::PathBuf> {
    let wanted = format!("<{message_id}>");
    drafts
        .messages()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|raw| {
                let head = &raw[..raw.len().min(16 * 1024)];
                String::from_utf8_lossy(head).lines().any(|l| {
                    l.len() > 11
                        && l[..11].eq_ignore_ascii_case("message-id:")
                        && l[11..].trim() == wanted
                })
            })
        })
        .collect()
}
