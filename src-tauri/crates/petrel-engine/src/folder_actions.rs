//! Creating, renaming, deleting and (un)subscribing folders. These need the server (a
//! folder's existence is the server's to decide), so they are not queued offline.

use crate::{Engine, EngineError};
use petrel_core::{AccountId, Folder};
use petrel_store::FolderRef;

impl Engine {
    pub async fn create_folder(
        &self,
        id: &AccountId,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        if self.is_pop3(id) {
            return self.create_local_folder(id, path);
        }
        let path = valid_name(path)?;
        self.with_session(id, |s| {
            let path = path.clone();
            Box::pin(async move {
                s.create_folder(&path)
                    .await
                    .map_err(EngineError::imap(format!("Creating {path}")))
            })
        })
        .await?;
        self.folders(id).await
    }

    pub async fn rename_folder(
        &self,
        id: &AccountId,
        from: &str,
        to: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        if self.is_pop3(id) {
            return self.rename_local_folder(id, from, to);
        }
        let to = valid_name(to)?;
        let from_owned = from.to_string();
        self.with_session(id, |s| {
            let (from, to) = (from_owned.clone(), to.clone());
            Box::pin(async move {
                s.rename_folder(&from, &to)
                    .await
                    .map_err(EngineError::imap(format!("Renaming {from}")))
            })
        })
        .await?;
        self.forget_folder(&FolderRef::new(id, from));
        self.folders(id).await
    }

    pub async fn delete_folder(
        &self,
        id: &AccountId,
        path: &str,
    ) -> Result<Vec<Folder>, EngineError> {
        if self.is_pop3(id) {
            return self.delete_local_folder(id, path);
        }
        let path_owned = path.to_string();
        self.with_session(id, |s| {
            let path = path_owned.clone();
            Box::pin(async move {
                s.delete_folder(&path)
                    .await
                    .map_err(EngineError::imap(format!("Deleting {path}")))
            })
        })
        .await?;
        self.forget_folder(&FolderRef::new(id, path));
        self.folders(id).await
    }

    pub async fn set_subscribed(
        &self,
        id: &AccountId,
        path: &str,
        subscribed: bool,
    ) -> Result<Vec<Folder>, EngineError> {
        if self.is_pop3(id) {
            // Local folders are always "subscribed".
            return self.local_folders(id);
        }
        let path_owned = path.to_string();
        self.with_session(id, |s| {
            let path = path_owned.clone();
            Box::pin(async move {
                s.set_subscribed(&path, subscribed)
                    .await
                    .map_err(EngineError::imap(format!("Subscribing to {path}")))
            })
        })
        .await?;
        self.folders(id).await
    }

    /// Drops a folder that no longer exists under this name (renamed or deleted).
    pub(crate) fn forget_folder(&self, folder: &FolderRef) {
        self.forget_synced(folder);
        self.cache_changed();
        if let Err(e) = self.cache.drop_folder(folder) {
            tracing::warn!(folder = %folder.path, error = %e, "could not drop cached folder");
        }
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

impl Engine {
    /// Storage used and allowed on the server, when it says.
    pub async fn quota(&self, id: &AccountId) -> Result<Option<petrel_core::Quota>, EngineError> {
        if self.is_pop3(id) {
            // POP3 has no quota command; the mail is on this computer.
            return Ok(None);
        }
        self.with_session(id, |s| {
            Box::pin(async move {
                s.quota()
                    .await
                    .map_err(EngineError::imap("Reading the quota"))
            })
        })
        .await
    }
}
