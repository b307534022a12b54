//! Petrel's domain types and the contract between the engine and the UI.
//!
//! Everything here is plain data: no I/O, no async, no Tauri. Types that cross the IPC
//! boundary derive `ts_rs::TS`; the TypeScript copies live in `ui/src/bindings/` and a test
//! (`tests/bindings.rs`) fails when they drift from these definitions.
#![forbid(unsafe_code)]

pub mod account;
pub mod calendar;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod import;
pub mod ipc;
pub mod mail;
pub mod query;
pub mod requests;
pub mod sasl;
pub mod setup;

pub use account::{
    a_label, AccountId, AccountSettings, DesktopOptions, Identity, IncomingProtocol, LeaveOnServer,
    NewAccount, OAuthProvider, Pop3Options, Security, SendingOptions, ServerSettings, SignIn,
    SyncOptions,
};
pub use import::{
    FoundAccount, FoundStore, ImportProgress, ImportReport, ImportRequest, ImportSource,
    ProfileContents, ThunderbirdProfile,
};
pub use ipc::{CertificateDetails, ErrorCode, IpcError};
pub use mail::{
    AccountStatus, ActionOutcome, AddressSuggestion, Attachment, ComposeKind, Composition,
    ConnectionState, ConversationSpot, Envelope, EnvelopePage, Folder, FolderChange, FolderRefresh,
    FolderRole, IndexProgress, ListQuery, Marked, MessageAt, MessageFile, MessageRef, MessageView,
    OpenRisk, OutboxState, OutgoingAttachment, QueuedMessage, Quota, RowExtra, SearchHit,
    SearchOrder, SearchResults, SendReport, ServerSearch, SortKey, SyncProgress, ThreadLinks,
    ThreadPage, ThreadRow, UnifiedPage, UnifiedRow, UnifiedView, ARRIVED_LISTED,
};
pub use requests::{
    AttachmentRef, FlagsRequest, IncomingUpdate, PageRequest, ThreadsRequest, UiEvent,
    UI_EVENT_CHANNEL,
};
pub use setup::{
    Advice, AdvisorAnswers, Discovery, DoctorLine, HostName, ProviderNotes, ServerEvidence,
    SettingsSource, SetupProgress, SignedIn, StageState,
};
