//! Bringing mail in from elsewhere: a Thunderbird profile (its accounts, Local Folders and
//! POP3 mail), an mbox file, a Maildir folder or a set of `.eml` files; and the progress
//! and outcome of an import.

use crate::account::{IncomingProtocol, Pop3Options, ServerSettings};
use crate::AccountId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A Thunderbird profile found on this computer (`profiles.ini`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ThunderbirdProfile {
    pub name: String,
    /// Its directory.
    pub path: String,
    /// The one Thunderbird starts with.
    pub default: bool,
}

/// What a Thunderbird profile holds that Petrel can take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProfileContents {
    pub path: String,
    /// Mail accounts (IMAP and POP3), with their settings but never a password.
    pub accounts: Vec<FoundAccount>,
    /// Mail stored in the profile: Local Folders and each POP3 account's folders.
    pub stores: Vec<FoundStore>,
}

/// An account's settings from a Thunderbird profile, ready for the account form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FoundAccount {
    /// Thunderbird's server key ("server2"): names the account's mail store too.
    pub key: String,
    pub display_name: String,
    pub email: String,
    pub protocol: IncomingProtocol,
    pub incoming: ServerSettings,
    pub pop3: Pop3Options,
    pub smtp: Option<ServerSettings>,
    /// What Petrel changes from Thunderbird's settings, in words (no encryption → STARTTLS…).
    pub notes: Vec<String>,
}

/// Mail stored in a Thunderbird profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FoundStore {
    /// The server key ("server1"); Local Folders has its own.
    pub key: String,
    /// "Local Folders", or the POP3 account's name.
    pub label: String,
    /// Whose POP3 mail this is (`None`: Local Folders).
    pub pop3_account: Option<String>,
    pub folders: u32,
    #[ts(type = "number")]
    /// Bytes of mail (mbox files or maildir messages), for the progress bar.
    pub bytes: u64,
}

/// Where the mail to import is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportSource {
    /// One mbox file.
    Mbox { path: String },
    /// One Maildir folder (with cur/ and new/).
    Maildir { path: String },
    /// Message files (`.eml`).
    MessageFiles { paths: Vec<String> },
    /// A mail store of a Thunderbird profile (every folder in it, with its sub-folders).
    Thunderbird { profile: String, store: String },
}

/// Import mail into an account: its folders go under `folder` ("" for the top level:
/// a store's Inbox then becomes INBOX).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ImportRequest {
    pub account: AccountId,
    pub folder: String,
    pub source: ImportSource,
}

/// How far an import is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ImportProgress {
    pub account: AccountId,
    /// The folder being filled now.
    pub folder: String,
    pub messages: u32,
    #[ts(type = "number")]
    pub bytes_done: u64,
    #[ts(type = "number")]
    pub bytes_total: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ImportReport {
    /// Everything was read; false when the user stopped it (running it again goes on).
    pub finished: bool,
    /// Messages now in Petrel.
    pub imported: u32,
    /// Found already imported (an import run again, or resumed after an interruption).
    pub already_here: u32,
    /// Deleted in the other program but still in its files: left out.
    pub deleted: u32,
    /// Files or entries that are not mail, or too large: left out, named in `problems`.
    pub skipped: u32,
    /// Folders filled (created where missing).
    pub folders: Vec<String>,
    /// POP3 messages recorded as downloaded (Thunderbird's popstate.dat), so they are not
    /// downloaded again.
    pub pop3_known: u32,
    /// What was left out and why, in words (at most a few dozen lines).
    pub problems: Vec<String>,
}
