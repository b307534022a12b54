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

/// Files of a local Maildir (Drafts, Sent) holding the message with this Message-ID. Only
/// the header block is read (mail text in any language follows it).
pub(crate) fn local_copies(
    drafts: &petrel_maildir::Maildir,
    message_id: &str,
) -> Vec<std::path::PathBuf> {
    drafts
        .messages()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|raw| {
                let head = &raw[..raw.len().min(16 * 1024)];
                header_message_id(head).as_deref() == Some(message_id)
            })
        })
        .collect()
}

/// The Message-ID of a message's header block (without angle brackets), folded or not.
/// Compared as bytes: a header line may hold any text, so no string is cut at a byte index.
pub(crate) fn header_message_id(raw: &[u8]) -> Option<String> {
    const NAME: &[u8] = b"message-id:";
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    while let Some(line) = lines.next() {
        if line.is_empty() {
            return None;
        }
        let Some(name) = line.get(..NAME.len()) else {
            continue;
        };
        if !name.eq_ignore_ascii_case(NAME) {
            continue;
        }
        let mut value = String::from_utf8_lossy(&line[NAME.len()..])
            .trim()
            .to_string();
        if value.is_empty() {
            // Folded onto the next line (RFC 5322 §2.2.3).
            value = lines
                .next()
                .map(|l| String::from_utf8_lossy(l).trim().to_string())
                .unwrap_or_default();
        }
        let id = value.trim().trim_start_matches('<').trim_end_matches('>');
        return (!id.is_empty()).then(|| id.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review M6: a header or body line whose 11th byte falls inside a character
    /// ("Viele Grüße", Cyrillic, CJK) must not panic the draft save.
    #[test]
    fn local_copies_read_headers_of_any_language_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let md = petrel_maildir::Maildir::open(dir.path()).unwrap();
        let draft = "Subject: Viele Grüße\r\nX-Note: Привет, как дела\r\nMessage-ID: <d1@x>\r\n\r\nViele Grüße\r\n日本語のテキストです\r\nMessage-ID: <not-a-header@x>\r\n";
        let folded = "Subject: x\nMessage-ID:\n <d2@x>\n\nГрüße\n";
        md.deliver_batch(&[draft.as_bytes().to_vec(), folded.as_bytes().to_vec()])
            .unwrap();
        assert_eq!(local_copies(&md, "d1@x").len(), 1);
        assert_eq!(local_copies(&md, "d2@x").len(), 1, "a folded Message-ID");
        assert!(
            local_copies(&md, "not-a-header@x").is_empty(),
            "the body is not read"
        );
        assert_eq!(header_message_id("Viele Grüße\r\n".as_bytes()), None);
    }

    mod fuzz {
        use super::super::header_message_id;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(petrel_core::fuzz::config())]

            /// Draft read-back: any bytes in local Drafts/Sent give an id or none, never a
            /// panic (review M6), and the id has no brackets or line breaks.
            #[test]
            fn message_ids_of_any_header_block(raw in proptest::collection::vec(any::<u8>(), 0..600), text in "\\PC{0,200}") {
                for bytes in [raw.as_slice(), text.as_bytes()] {
                    if let Some(id) = header_message_id(bytes) {
                        prop_assert!(!id.contains(['\r', '\n']) && !id.starts_with('<'));
                    }
                }
                let _ = crate::mailto_composition(&text);
            }
        }
    }
}
