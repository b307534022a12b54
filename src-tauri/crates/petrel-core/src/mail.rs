//! What the folder tree, message list and reader show.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The job a folder does, from SPECIAL-USE (RFC 6154) or the INBOX name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FolderRole {
    Inbox,
    Drafts,
    Sent,
    Trash,
    Junk,
    Archive,
    All,
    Flagged,
}

/// One mailbox on the server. `path` is the full server name; `parent` lets the UI nest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Folder {
    pub path: String,
    /// Last path segment, for display.
    pub name: String,
    /// Full path of the parent folder, if any.
    pub parent: Option<String>,
    pub role: Option<FolderRole>,
    /// `\Noselect`: a container that holds folders but no messages.
    pub selectable: bool,
    /// Messages and unread messages (IMAP STATUS), when known.
    pub total: Option<u32>,
    pub unread: Option<u32>,
    /// Subscribed (RFC 3501 §6.3.6): the tree shows these unless the user asks for all.
    pub subscribed: bool,
}

/// A row of the message list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Envelope {
    pub uid: u32,
    /// Display form of the sender ("Ana Lima" or "ana@example.org").
    pub from: String,
    pub subject: String,
    /// Seconds since the Unix epoch (Date header, else INTERNALDATE); `null` if neither.
    #[ts(type = "number | null")]
    pub date: Option<i64>,
    pub seen: bool,
    pub flagged: bool,
    /// `\Answered`: replied to (from here or another device).
    pub answered: bool,
    /// The message is multipart/mixed (it carries files), from its Content-Type header.
    pub has_attachment: bool,
    #[ts(type = "number")]
    pub size: u64,
}

/// A message file opened from outside (`petrel message.eml`, the file manager): shown in a
/// reader of its own with the same sanitizing and remote-content rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MessageFile {
    /// Where it is, as given (for answering, forwarding and copying it).
    pub path: String,
    /// The file's name, for the window's title.
    pub name: String,
    pub view: MessageView,
}

/// What the reader shows for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MessageView {
    pub uid: u32,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    #[ts(type = "number | null")]
    pub date: Option<i64>,
    /// The plain-text body (or text derived from the HTML part when there is no text part).
    pub text: String,
    /// The HTML body, sanitized (no scripts, handlers, forms, frames; `cid:` images inlined),
    /// for a sandboxed frame. `None` for plain-text mail.
    pub html: Option<String>,
    /// The HTML refers to images or styles on the network: shown only when the user allows.
    pub remote_content: bool,
    /// The sender's bare address, for "always show remote content from this sender".
    pub sender: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Only the header (and first lines) is on this computer: a POP3 message downloaded as
    /// headers whose rest could not be fetched yet ("Download the rest").
    #[serde(default)]
    pub partial: bool,
    /// The message has no Date of its own: `date` is when it arrived (the list's rule too).
    #[serde(default)]
    pub date_is_arrival: bool,
}

/// A file attached to a message; `index` names it for opening and saving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Attachment {
    pub index: u32,
    /// The name as it is saved: no path parts, bidi or invisible characters.
    pub name: String,
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u32,
    /// The real extension (lower-case, no dot), shown beside the name.
    pub extension: String,
    /// What "Open" may do with it.
    pub risk: OpenRisk,
    /// The type in words for the question before opening (".zip file (application/zip)").
    pub type_label: String,
}

/// What "Open" may do with an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OpenRisk {
    /// A document, picture or sound the usual viewers show without running anything.
    Safe,
    /// Another type: opened only after the user said yes to a question naming the type.
    Ask,
    /// A program or script (Windows, macOS or Linux): never opened from mail, only saved.
    Blocked,
}

/// A piece of a search result's subject or snippet; `matched` pieces are the words the
/// search found (plain text: the UI marks them, nothing is parsed as HTML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Marked {
    pub text: String,
    pub matched: bool,
}

/// How search results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SearchOrder {
    #[default]
    Newest,
    Relevance,
}

/// One message a search found, in its account and folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SearchHit {
    pub account: crate::AccountId,
    pub folder: String,
    /// The list row as the cache has it now (flags included).
    pub envelope: Envelope,
    pub subject: Vec<Marked>,
    /// Words of the body around the matches (empty when the body is not here).
    pub snippet: Vec<Marked>,
    /// Found by the server's search: the body is not on this computer yet (opening the
    /// message fetches it).
    pub on_server: bool,
}

/// Whether the servers were asked too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ServerSearch {
    /// Local results only (the server was not asked, or every body is here).
    NotAsked,
    /// The servers of these folders were searched too.
    Searched { folders: u32 },
    /// A server could not be reached: these are local results only.
    Offline { accounts: Vec<String> },
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Local matches in all (the list shows the first ones).
    pub total: u32,
    pub server: ServerSearch,
    /// The index is being built for the first time: results are incomplete.
    pub indexing: Option<IndexProgress>,
}

/// A first build (or rebuild) of the search index, so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IndexProgress {
    pub done: u32,
    pub total: u32,
}

/// One window of a folder's message list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EnvelopePage {
    /// Position of the first row (0 = newest message).
    pub offset: u32,
    /// Messages in the folder, so the list can size its scroll range.
    pub total: u32,
    pub rows: Vec<Envelope>,
    /// The server could not be reached: these rows come from the cache and may be stale.
    pub offline: bool,
}

/// Pushed to the UI when a background check changed a folder: the list reloads its visible
/// rows and the tree its counts, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FolderChange {
    pub account: crate::AccountId,
    pub folder: String,
    pub total: u32,
    pub unread: u32,
    pub added: u32,
    pub removed: u32,
    pub flags_changed: u32,
    /// Of the messages added, the ones not read yet (at most [`ARRIVED_LISTED`], newest
    /// last): what a new-mail notification names. Mail already read on another device is
    /// not here; nor is a folder's first fill.
    #[serde(default)]
    pub arrived: Vec<Envelope>,
}

/// Unread arrivals listed in a [`FolderChange`] (more are counted in `added`).
pub const ARRIVED_LISTED: usize = 20;

/// The answer to "refresh this folder" (Get mail, a first open): what the sync or download
/// changed, with the folder's counts; `offline` when the server could not be reached and
/// the cache is shown as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FolderRefresh {
    pub change: FolderChange,
    pub offline: bool,
}

/// The answer to a user action (flag, move, delete…): the source folder as the cache now
/// has it, so the UI updates at once, and how many of the account's actions still wait for
/// the server (0 when all reached it; more while offline — they are kept on disk and sent
/// in order when the server is back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ActionOutcome {
    pub folder: FolderChange,
    pub pending: u32,
}

/// How Petrel's link to an account's server is doing, for the status bar and the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Not tried yet since start.
    Unknown,
    Online,
    /// The server cannot be reached; Petrel retries with growing pauses.
    Offline,
    /// The server refused the password: Petrel stops trying until the user acts.
    AuthFailed,
    /// The certificate is not trusted (or changed): Petrel stops until the user acts.
    CertificateProblem,
    /// OAuth2: the sign-in expired or was revoked; the user signs in again in the browser
    /// (queued actions and the outbox wait meanwhile).
    SignInAgain,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccountStatus {
    pub account: crate::AccountId,
    pub state: ConnectionState,
    /// The last error, in words, when not online.
    pub message: Option<String>,
    /// Seconds until the next automatic attempt, when one is planned.
    pub retry_in_seconds: Option<u32>,
    /// User actions waiting for the server.
    pub pending_actions: u32,
}

/// Server storage used by an account and its limit (IMAP QUOTA, RFC 9208), in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Quota {
    #[ts(type = "number")]
    pub used_kib: u64,
    #[ts(type = "number")]
    pub limit_kib: u64,
}

/// A folder's first sync is under way: `done` of `total` list rows are in the cache (the
/// list can show them while the rest arrive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncProgress {
    pub account: crate::AccountId,
    pub folder: String,
    pub done: u32,
    pub total: u32,
}

/// The views across accounts at the top of the folder tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum UnifiedView {
    /// Every account's INBOX, newest first.
    Inboxes,
    /// Unread mail in every account's folders (Trash and Junk excepted).
    Unread,
    /// Flagged mail in every account's folders (Trash and Junk excepted).
    Flagged,
}

/// A row of a unified view: the message and where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UnifiedRow {
    pub account: crate::AccountId,
    pub folder: String,
    pub envelope: Envelope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UnifiedPage {
    pub offset: u32,
    pub total: u32,
    pub rows: Vec<UnifiedRow>,
}

/// How the message list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Date,
    Sender,
    Subject,
}

/// The list's order and quick filter. The default (newest first, no filter) is served
/// from the date index; anything else from an index built once per folder state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub struct ListQuery {
    pub sort: SortKey,
    /// Oldest first / A→Z instead of newest first / Z→A… for dates; A→Z is the natural
    /// order for names, so `ascending` applies to all keys.
    pub ascending: bool,
    /// Case-insensitive words that must all appear in the sender or the subject.
    pub text: String,
    pub unread_only: bool,
    pub flagged_only: bool,
    /// Only messages that carry files (multipart/mixed).
    #[serde(default)]
    pub attachments_only: bool,
}

impl ListQuery {
    /// Newest first, everything: the cheap path.
    pub fn is_default(&self) -> bool {
        self.sort == SortKey::Date
            && !self.ascending
            && self.text.trim().is_empty()
            && !self.unread_only
            && !self.flagged_only
            && !self.attachments_only
    }
}

/// What threading needs from a message's header: its Message-ID and the IDs it answers
/// (References, then In-Reply-To), oldest first. Kept in the cache beside the list row,
/// fetched only when the conversation view is first used (the list sync stays lean).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadLinks {
    pub message_id: Option<String>,
    pub parents: Vec<String>,
}

/// A row of the conversation view: a message, where it lives (the folder's own messages
/// and the user's replies from Sent), and its place in its conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ThreadRow {
    pub folder: String,
    pub envelope: Envelope,
    /// 0 for the conversation's first message; replies are deeper.
    pub depth: u32,
    /// Names the conversation (for expanding and collapsing it).
    pub thread: String,
    /// The conversation's first row: it stands for the whole conversation when collapsed.
    pub head: bool,
    /// Messages and unread messages in the conversation (on its first row; else 0).
    pub count: u32,
    pub unread: u32,
    /// Newest date in the conversation (on its first row).
    #[ts(type = "number | null")]
    pub latest: Option<i64>,
    pub expanded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ThreadPage {
    pub offset: u32,
    /// Rows with the expanded conversations open.
    pub total: u32,
    /// Conversations in the view.
    pub threads: u32,
    pub rows: Vec<ThreadRow>,
    pub offline: bool,
}

/// Where a message sits in its folder's conversation view: what a search result opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConversationSpot {
    /// The conversation, to open.
    pub thread: String,
    /// The message's row once that conversation is open (the others closed).
    pub position: u32,
}

/// A message being written: what the composer shows, saves as a draft and sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Composition {
    /// The sender's address: the account's or one of its identities' (empty → the account's).
    #[serde(default)]
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    /// The text; with `html` set, the plain-text alternative of it.
    pub body: String,
    /// Simple rich text (cleaned by the engine before sending); sent as
    /// multipart/alternative with `body`.
    #[serde(default)]
    pub html: Option<String>,
    /// Message-ID of the message answered (without angle brackets).
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<OutgoingAttachment>,
    /// Kept from the first draft save to the send (without angle brackets), so every draft
    /// copy and the sent message are one message.
    #[serde(default)]
    pub message_id: Option<String>,
    /// The message this answers: marked answered once this is sent.
    #[serde(default)]
    pub answers: Option<MessageRef>,
}

/// A file attached to a message being written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OutgoingAttachment {
    pub name: String,
    pub content_type: String,
    /// Bytes, as base64 (JSON has no bytes).
    pub data: String,
}

/// One message of any account: where a click on a new-mail notification leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MessageAt {
    pub account: crate::AccountId,
    pub folder: String,
    pub uid: u32,
}

/// One message of an account's folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MessageRef {
    pub folder: String,
    pub uid: u32,
}

/// What a list row gets after it is painted, read from the message itself (see
/// `Engine::row_extras`): nothing here is in the cached row, so no cache changes shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RowExtra {
    pub uid: u32,
    /// The sender's first words; empty when the message has none.
    pub preview: String,
    /// The recipients as a list shows them ("Bob, Ana +2"): what Sent and Drafts list.
    pub to: String,
    /// The message has no Date of its own: the row's date is when it arrived.
    pub undated: bool,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QueuedMessage {
    pub message_id: String,
    pub subject: String,
    pub to: Vec<String>,
    /// Size in bytes as it will be sent.
    pub size: u32,
    /// Why the last attempt failed, if one did (the server's words).
    pub last_error: Option<String>,
    /// Refused for good by the server: not retried; the user edits or deletes it.
    pub refused: bool,
    /// Petrel stopped while the message was leaving and Sent has no copy: it may have been
    /// sent. Never retried on its own; the user sends it again or deletes it.
    pub unsure: bool,
}

/// How many messages wait in an account's outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OutboxState {
    pub account: crate::AccountId,
    pub queued: u32,
    /// Seconds until the next attempt, when one is planned.
    pub retry_in_seconds: Option<u32>,
}

/// An address seen in mail, for completing To/Cc/Bcc.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AddressSuggestion {
    /// `Name <address>` or the bare address.
    pub display: String,
    pub email: String,
}

/// How a composition starts from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ComposeKind {
    Reply,
    ReplyAll,
    Forward,
    /// The original attached whole (message/rfc822).
    ForwardAsAttachment,
}

/// After Send: sent now (and filed in Sent), or kept in the outbox until the server answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendReport {
    pub sent: u32,
    pub queued: u32,
}
