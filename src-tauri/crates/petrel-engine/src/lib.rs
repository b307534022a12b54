//! Petrel's engine: the Tauri-free core the app shell calls.
//!
//! It owns the accounts file (settings, never secrets), the passwords in the OS keychain,
//! and the read path over IMAP. Adding an account is all-or-nothing: the server is verified
//! first, then the password goes to the keychain, then the settings to disk; a failure at
//! any step undoes the earlier ones.

mod accounts_file;
mod address_book;
pub mod attachment_files;
mod drafts;
mod durable;
mod engine;
mod error;
mod folder_actions;
pub mod instance;
mod link;
mod list_query;
mod mail_actions;
mod offline_bodies;
mod outbox_retry;
mod pending_actions;
mod pop3_account;
mod secrets;
mod send;
mod setup;
mod threads;
mod unified;
mod watch;

pub use accounts_file::AccountsFile;
pub use engine::Engine;
pub use error::EngineError;
pub use mail_actions::Deletion;
pub use pending_actions::{MailAction, PendingActions};
pub use petrel_imap::TrustPolicy;
pub use petrel_store::{FolderRef, MailCache, MemoryCache, SledCache, StoreError};
pub use secrets::{KeychainSecrets, SecretStore, KEYCHAIN_SERVICE};
pub use send::{mailto_composition, Outgoing, SendReport};
pub use watch::{EngineEvent, EventSink, Watch};

/// Where Petrel keeps its mail cache (rebuildable from the server): `$PETREL_CACHE_DIR` when
/// set, else the OS cache dir (`~/.cache/petrel` on Linux).
pub fn default_cache_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("PETREL_CACHE_DIR") {
        return Some(dir.into());
    }
    dirs::cache_dir().map(|d| d.join("petrel").join("mail-cache"))
}

/// Where Petrel keeps its settings: `$PETREL_CONFIG_DIR` when set (tests, demo), else the
/// OS config dir (`~/.config/petrel` on Linux, `~/Library/Application Support/petrel` on
/// macOS, `%APPDATA%\petrel` on Windows).
pub fn default_config_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("PETREL_CONFIG_DIR") {
        return Some(dir.into());
    }
    dirs::config_dir().map(|d| d.join("petrel"))
}
