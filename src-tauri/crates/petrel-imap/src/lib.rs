//! Petrel's IMAP client.
//!
//! Owns the connection policy (implicit TLS by default, STARTTLS only when chosen and then
//! required, certificate pinning as an explicit user choice) and one file per operation the
//! engine needs. It knows nothing of accounts files, keychains or the UI: the engine hands it
//! settings and a password and gets typed values or an [`ImapError`] back.
#![forbid(unsafe_code)]

mod append_message;
mod connect;
mod error;
mod fetch_beginnings;
mod fetch_envelopes;
mod fetch_message;
mod fetch_thread_links;
#[cfg(test)]
mod fuzz;
mod idle;
mod list_folders;
mod manage_folders;
mod move_messages;
mod quota;
mod raw_command;
mod read_fetches;
mod reply_meter;
mod search_messages;
mod session;
mod starttls;
mod store_flags;
mod sync_folder;

pub use error::ImapError;
pub use fetch_envelopes::MAX_PAGE;
pub use fetch_message::MAX_MESSAGE_BYTES;
pub use idle::{IdleOutcome, IDLE_REISSUE};
pub use move_messages::Removal;
pub use petrel_tls::TrustPolicy;
pub use reply_meter::MAX_RESPONSE_BYTES;
pub use session::{ImapSession, Login};
pub use sync_folder::{uid_set, SyncError, SyncReport};

/// How long a TCP connect plus TLS handshake may take before we call the host unreachable.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How long one command may wait for the server's complete answer.
pub const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
