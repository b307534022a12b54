//! `accounts.json` in the config dir: account settings, never secrets. Written atomically
//! (temp file, fsync, rename, fsync of the directory) so a crash leaves the old or the new
//! file, never half of one.

use crate::EngineError;
use petrel_core::AccountSettings;
use serde::{Deserialize, Serialize};
use std::io::Write;
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
        let context = || format!("Saving {}", Self::path(config_dir).display());
        let storage = |source| EngineError::Storage {
            context: context(),
            source,
        };
        std::fs::create_dir_all(config_dir).map_err(storage)?;
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| storage(std::io::Error::other(e)))?;
        let tmp = config_dir.join(format!(".{FILE_NAME}.tmp"));
        {
            let mut file = std::fs::File::create(&tmp).map_err(storage)?;
            file.write_all(&json).map_err(storage)?;
            file.sync_all().map_err(storage)?;
        }
        std::fs::rename(&tmp, Self::path(config_dir)).map_err(storage)?;
        sync_dir(config_dir).map_err(storage)?;
        Ok(())
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    // Windows has no directory fsync; ReplaceFile/MoveFileEx semantics cover the rename.
    Ok(())
}
