//! `accounts.json` in the config dir: account settings, never secrets, written atomically.

use crate::EngineError;
use petrel_core::AccountSettings;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const FILE_NAME: &str = "accounts.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsFile {
    /// Format version, for migrations.
    pub version: u32,
    pub accounts: Vec<AccountSettings>,
}

impl AccountsFile {
    pub fn path(config_dir: &Path) -> PathBuf {
        config_dir.join(FILE_NAME)
    }

    /// Reads the file; a missing file is an empty list.
    pub fn load(config_dir: &Path) -> Result<Self, EngineError> {
        let path = Self::path(config_dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| EngineError::Storage {
                context: format!("Reading {}", path.display()),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AccountsFile {
                version: 1,
                accounts: vec![],
            }),
            Err(source) => Err(EngineError::Storage {
                context: format!("Reading {}", path.display()),
                source,
            }),
        }
    }

    pub fn save(&self, config_dir: &Path) -> Result<(), EngineError> {
        let storage = |source| EngineError::Storage {
            context: format!("Saving {}", Self::path(config_dir).display()),
            source,
        };
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| storage(std::io::Error::other(e)))?;
        crate::durable::write_atomically(config_dir, FILE_NAME, &json).map_err(storage)
    }
}
