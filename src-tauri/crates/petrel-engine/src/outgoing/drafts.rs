//! Drafts: the composer saves every few seconds and on close. Each save files a new copy
//! (IMAP APPEND to Drafts with \Draft, or the local Drafts of a POP3 account) and then
//! removes the older copies of the same draft — found by its Message-ID, which stays the
//! same from the first save to the send. A crash between the two leaves two copies, never
//! none.

use super::send::invalid;
use crate::account::Incoming;
use crate::{Engine, EngineError};
use petrel_compose::{build, composition_of, new_message_id, Purpose};
use petrel_core::{AccountId, Composition, FolderRole};

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
            .unwrap_or_else(|| new_message_id(&account.email, self.shared.now()));
        msg.message_id = Some(message_id.clone());
        let built = build(&account, &msg, Purpose::Draft, self.shared.now()).map_err(invalid)?;
        self.get(id)?
            .file_copy(
                &self.shared,
                FolderRole::Drafts,
                &built.raw,
                Some(&message_id),
            )
            .await?;
        Ok(message_id)
    }

    /// Removes every copy of a draft (Discard, or once it is sent).
    pub async fn discard_draft(&self, id: &AccountId, message_id: &str) -> Result<(), EngineError> {
        self.get(id)?
            .remove_copies(&self.shared, FolderRole::Drafts, message_id)
            .await
    }

    /// A saved draft (or any message of Drafts) as the composer continues it.
    pub async fn open_draft(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
    ) -> Result<Composition, EngineError> {
        let raw = self.raw_message(id, folder, uid).await?;
        let draft = petrel_compose::Draft::parse(petrel_pop3::ledger::without_stamp(&raw));
        let mut composition = composition_of(&draft);
        let account = self.account(id)?;
        if composition.from.eq_ignore_ascii_case(&account.email) {
            composition.from.clear();
        }
        Ok(composition)
    }
}
