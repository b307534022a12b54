//! The durable queue of user actions not yet confirmed by the server.
//!
//! An action is applied to the cache (so the UI shows it at once) and appended here before
//! the server is asked; it leaves the queue only after the server said OK (or refused it —
//! then the server's state wins and the folder is re-synced). Actions are replayed in order
//! on the next connection. Every action is idempotent by UID: STORE of a flag is, MOVE and
//! UID EXPUNGE of UIDs that are already gone do nothing (RFC 3501 §6.4.8).
//!
//! The queue lives in the config dir (`pending/<account>.json`), not in the sled cache: the
//! cache may be deleted and rebuilt from the server at any time, but these actions exist
//! nowhere else, so they get a real fsync (DESIGN §2 put them in sled; sled's flush is not
//! an fsync).

use crate::durable::{remove_durably, write_atomically};
use crate::EngineError;
use petrel_core::AccountId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the user did, in server terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailAction {
    SetFlags {
        folder: String,
        uids: Vec<u32>,
        seen: Option<bool>,
        flagged: Option<bool>,
    },
    Move {
        folder: String,
        uids: Vec<u32>,
        to: String,
    },
    Copy {
        folder: String,
        uids: Vec<u32>,
        to: String,
    },
    /// Deleted for good (from the Trash, or an account without one).
    Expunge { folder: String, uids: Vec<u32> },
}

impl MailAction {
    pub fn folder(&self) -> &str {
        match self {
            MailAction::SetFlags { folder, .. }
            | MailAction::Move { folder, .. }
            | MailAction::Copy { folder, .. }
            | MailAction::Expunge { folder, .. } => folder,
        }
    }

    /// The messages it acts on (UIDs in [`MailAction::folder`]).
    pub fn uids(&self) -> &[u32] {
        match self {
            MailAction::SetFlags { uids, .. }
            | MailAction::Move { uids, .. }
            | MailAction::Copy { uids, .. }
            | MailAction::Expunge { uids, .. } => uids,
        }
    }

    /// The folder that receives messages, if any.
    pub fn target(&self) -> Option<&str> {
        match self {
            MailAction::Move { to, .. } | MailAction::Copy { to, .. } => Some(to),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub id: u64,
    pub action: MailAction,
    /// The folder's UIDVALIDITY when the action was made: replayed only under the same
    /// one (older queue files have none).
    #[serde(default)]
    pub uid_validity: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct QueueFile {
    version: u32,
    next_id: u64,
    actions: Vec<Queued>,
}

/// One file per account; callers serialise access per account.
#[derive(Debug, Clone)]
pub struct PendingActions {
    dir: PathBuf,
}

impl PendingActions {
    pub fn new(config_dir: &Path) -> Self {
        PendingActions {
            dir: config_dir.join("pending"),
        }
    }

    fn file_name(account: &AccountId) -> String {
        // Account ids are generated from [A-Za-z0-9] and hex digits; keep it that way here.
        let safe: String = account
            .0
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{safe}.json")
    }

    fn load(&self, account: &AccountId) -> Result<QueueFile, EngineError> {
        let path = self.dir.join(Self::file_name(account));
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                // An unreadable queue would block every action of the account for good
                // (review L14): it is set aside (kept for inspection, never deleted) and
                // the account goes on with an empty queue; this error says so once.
                let aside = path.with_extension(format!(
                    "json.unreadable-{}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default()
                ));
                let moved = std::fs::rename(&path, &aside).is_ok();
                EngineError::Storage {
                    context: if moved {
                        format!(
                            "The queue of actions waiting for the server was unreadable and was set aside as {} (those actions were not sent; the folders show the server's state after the next sync)",
                            aside.display()
                        )
                    } else {
                        format!("Reading {}", path.display())
                    },
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(QueueFile::default()),
            Err(source) => Err(EngineError::Storage {
                context: format!("Reading {}", path.display()),
                source,
            }),
        }
    }

    fn save(&self, account: &AccountId, file: &QueueFile) -> Result<(), EngineError> {
        let name = Self::file_name(account);
        let storage = |source| EngineError::Storage {
            context: format!("Saving the pending actions of {account}"),
            source,
        };
        if file.actions.is_empty() {
            return remove_durably(&self.dir, &name).map_err(storage);
        }
        let json = serde_json::to_vec(file).map_err(|e| storage(std::io::Error::other(e)))?;
        write_atomically(&self.dir, &name, &json).map_err(storage)
    }

    /// Appends an action taken on UIDs of a folder whose UIDVALIDITY was `uid_validity`;
    /// it is on disk when this returns.
    pub fn push(
        &self,
        account: &AccountId,
        action: MailAction,
        uid_validity: Option<u32>,
    ) -> Result<u64, EngineError> {
        let mut file = self.load(account)?;
        file.version = 1;
        file.next_id += 1;
        let id = file.next_id;
        file.actions.push(Queued {
            id,
            action,
            uid_validity,
        });
        self.save(account, &file)?;
        Ok(id)
    }

    /// The queue in order.
    pub fn list(&self, account: &AccountId) -> Result<Vec<Queued>, EngineError> {
        Ok(self.load(account)?.actions)
    }

    /// Removes one action (done or refused by the server).
    pub fn remove(&self, account: &AccountId, id: u64) -> Result<(), EngineError> {
        let mut file = self.load(account)?;
        file.actions.retain(|q| q.id != id);
        self.save(account, &file)
    }

    /// Forgets the account's queue (the account was removed).
    pub fn clear(&self, account: &AccountId) -> Result<(), EngineError> {
        self.save(account, &QueueFile::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_queue_is_set_aside_once_not_forever() {
        let dir = tempfile::tempdir().unwrap();
        let queue = PendingActions::new(dir.path());
        let a = AccountId("ana-1".into());
        std::fs::create_dir_all(dir.path().join("pending")).unwrap();
        std::fs::write(dir.path().join("pending").join("ana-1.json"), b"{broken").unwrap();
        let first = queue.list(&a).unwrap_err();
        assert!(first.to_string().contains("set aside"), "{first}");
        assert!(queue.list(&a).unwrap().is_empty(), "the account goes on");
        let kept = std::fs::read_dir(dir.path().join("pending"))
            .unwrap()
            .count();
        assert_eq!(kept, 1, "the unreadable file is kept for inspection");
    }

    #[test]
    fn actions_persist_in_order_and_leave_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let queue = PendingActions::new(dir.path());
        let a = AccountId("ana-1".into());
        let first = queue
            .push(
                &a,
                MailAction::SetFlags {
                    folder: "INBOX".into(),
                    uids: vec![1, 2],
                    seen: Some(true),
                    flagged: None,
                },
                None,
            )
            .unwrap();
        let second = queue
            .push(
                &a,
                MailAction::Move {
                    folder: "INBOX".into(),
                    uids: vec![2],
                    to: "Archive".into(),
                },
                Some(7),
            )
            .unwrap();
        // A new handle (a restarted app) sees the same queue.
        let reopened = PendingActions::new(dir.path());
        let ids: Vec<u64> = reopened.list(&a).unwrap().iter().map(|q| q.id).collect();
        assert_eq!(ids, vec![first, second]);
        assert_eq!(reopened.list(&a).unwrap()[1].uid_validity, Some(7));
        reopened.remove(&a, first).unwrap();
        assert_eq!(
            reopened.list(&a).unwrap()[0].action.target(),
            Some("Archive")
        );
        reopened.remove(&a, second).unwrap();
        assert!(reopened.list(&a).unwrap().is_empty());
        assert!(
            !dir.path().join("pending").join("ana-1.json").exists(),
            "an empty queue leaves no file"
        );
        // Ids keep growing after the file was emptied and removed? They restart, which is
        // fine: ids only need to be unique within the current queue.
        assert_eq!(
            queue
                .push(
                    &a,
                    MailAction::Expunge {
                        folder: "Trash".into(),
                        uids: vec![3]
                    },
                    None
                )
                .unwrap(),
            1
        );
    }
}
