//! Requests of more than four parts, one struct each (generated for the UI by ts-rs), so a
//! command's arguments are named and checked in one place instead of passed positionally.

use crate::{AccountId, ListQuery, ServerSettings};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Rows `offset..offset+limit` of a folder, in the order and with the filter of `query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PageRequest {
    pub account: AccountId,
    pub folder: String,
    pub offset: u32,
    pub limit: u32,
    #[serde(default)]
    pub query: Option<ListQuery>,
}

/// A folder's rows as conversations; `refresh` brings it up to date first, `expanded` names
/// the conversations shown open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ThreadsRequest {
    pub account: AccountId,
    pub folder: String,
    pub offset: u32,
    pub limit: u32,
    pub refresh: bool,
    #[serde(default)]
    pub query: Option<ListQuery>,
    #[serde(default)]
    pub expanded: Vec<String>,
}

/// Read and flagged marks of messages (`None`: left as it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FlagsRequest {
    pub account: AccountId,
    pub folder: String,
    pub uids: Vec<u32>,
    #[serde(default)]
    pub seen: Option<bool>,
    #[serde(default)]
    pub flagged: Option<bool>,
}

/// One attachment of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AttachmentRef {
    pub account: AccountId,
    pub folder: String,
    pub uid: u32,
    pub index: u32,
}

/// An account's name, address and incoming server, changed ("Edit settings"); `password`
/// only when it changes too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IncomingUpdate {
    pub account: AccountId,
    pub display_name: String,
    pub email: String,
    pub incoming: ServerSettings,
    #[serde(default)]
    pub password: Option<String>,
}

/// Everything the app tells the window on its own, on one channel (`petrel`): one type
/// here, one exhaustive `switch` in the UI (`ui/src/lib/events.ts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum UiEvent {
    /// A background check changed a folder.
    FolderChanged(crate::FolderChange),
    /// An account's connection status or pending work changed.
    AccountStatus(crate::AccountStatus),
    /// Rows of a folder's sync so far.
    SyncProgress(crate::SyncProgress),
    /// An outbox's count or next try changed.
    Outbox(crate::OutboxState),
    /// The search index's first build (or rebuild) moved on.
    IndexProgress(crate::IndexProgress),
    /// The setup wizard's discovery moved on.
    SetupProgress(crate::SetupProgress),
    /// A composer to open with this start (a mailto: link was clicked or passed to a launch).
    Compose(Box<crate::Composition>),
    /// A message file to show (`petrel message.eml`).
    OpenMessageFile(Box<crate::MessageFile>),
    /// What a launch asked for could not be done (a file that cannot be read…), in words.
    LaunchFailed(String),
    /// Get mail now (the tray menu's).
    GetMail,
    /// Show this message (a new-mail notification was clicked).
    OpenMessage(crate::MessageAt),
    /// An import moved on.
    ImportProgress(crate::ImportProgress),
}

/// The one event channel's name.
pub const UI_EVENT_CHANNEL: &str = "petrel";
