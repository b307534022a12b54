//! Creating, renaming, deleting and (un)subscribing IMAP folders. These need the server
//! (a folder's existence is the server's to decide), so they are not queued offline.

use super::ImapAccount;
use crate::account::{FolderEdit, Incoming};
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::Folder;

impl ImapAccount {
    pub(super) async fn edit_folder(
        &self,
        cx: &Shared,
        edit: FolderEdit<'_>,
    ) -> Result<Vec<Folder>, EngineError> {
        match edit {
            FolderEdit::Create(path) => {
                let path = valid_name(path)?;
                self.with_session(cx, |s| {
                    let path = path.clone();
                    Box::pin(async move {
                        s.create_folder(&path)
                            .await
                            .map_err(EngineError::imap(format!("Creating {path}")))
                    })
                })
                .await?;
            }
            FolderEdit::Rename { from, to } => {
                let to = valid_name(to)?;
                let from_owned = from.to_string();
                self.with_session(cx, |s| {
                    let (from, to) = (from_owned.clone(), to.clone());
                    Box::pin(async move {
                        s.rename_folder(&from, &to)
                            .await
                            .map_err(EngineError::imap(format!("Renaming {from}")))
                    })
                })
                .await?;
                self.forget_folder(cx, from);
            }
            FolderEdit::Delete(path) => {
                let path_owned = path.to_string();
                self.with_session(cx, |s| {
                    let path = path_owned.clone();
                    Box::pin(async move {
                        s.delete_folder(&path)
                            .await
                            .map_err(EngineError::imap(format!("Deleting {path}")))
                    })
                })
                .await?;
                self.forget_folder(cx, path);
            }
            FolderEdit::Subscribe { path, subscribed } => {
                let path_owned = path.to_string();
                self.with_session(cx, |s| {
                    let path = path_owned.clone();
                    Box::pin(async move {
                        s.set_subscribed(&path, subscribed)
                            .await
                            .map_err(EngineError::imap(format!("Subscribing to {path}")))
                    })
                })
                .await?;
            }
        }
        self.folders(cx).await
    }
}

fn valid_name(path: &str) -> Result<String, EngineError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(EngineError::InvalidInput("A folder needs a name.".into()));
    }
    if path.contains(['\r', '\n', '\0', '*', '%']) {
        return Err(EngineError::InvalidInput(
            "Folder names cannot contain line breaks, * or %.".into(),
        ));
    }
    Ok(path.to_string())
}
