//! Outgoing mail: sending through the outbox, drafts, and the background retry.

mod drafts;
pub(crate) mod retry;
pub(crate) mod send;
