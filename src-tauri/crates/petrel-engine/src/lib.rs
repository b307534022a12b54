//! Petrel's engine: the Tauri-free core the app shell calls.
//!
//! It owns the accounts file (settings, never secrets), the passwords in the OS keychain,
//! one object per account (`account/`: IMAP or POP3, each with its sessions and state),
//! sending (`outgoing/`) and the views over the cache (`views/`). Adding an account is all-or-nothing: the server is verified
//! first, then the password goes to the keychain, then the settings to disk; a failure at
//! any step undoes the earlier ones.

mod account;
mod accounts_file;
mod address_book;
pub mod attachment_files;
mod desktop_options;
mod durable;
mod engine;
mod error;
mod events;
pub mod heap;
mod import;
pub mod instance;
mod launch;
mod notice;
mod outgoing;
mod pending_actions;
mod search;
mod search_index;
mod secrets;
mod setup;
mod shared;
mod views;
mod watch;

pub use account::Deletion;
pub use accounts_file::AccountsFile;
pub use desktop_options::{load_desktop_options, save_desktop_options};
pub use engine::Engine;
pub use error::{EngineError, ServerError, ServerKind};
pub use events::{EngineEvent, EventSink, WatchConfig};
pub use launch::{launch_requests, read_message_file, with_absolute_paths, LaunchRequest};
pub use notice::{new_mail_notice, MailNotice};
pub use outgoing::send::{mailto_composition, Outgoing, SendReport};
pub use pending_actions::{MailAction, PendingActions};
pub use petrel_imap::TrustPolicy;
pub use petrel_store::{FolderRef, MailCache, MemoryCache, SledCache, StoreError};
pub use search::IndexFollower;
pub use secrets::{KeychainSecrets, SecretStore, KEYCHAIN_SERVICE};
pub use shared::{system_clock, Clock};
pub use watch::Watch;

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
