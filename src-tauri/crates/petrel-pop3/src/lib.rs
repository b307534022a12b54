//! Petrel's POP3 client (RFC 1939; CAPA, PIPELINING, EXPIRE, LOGIN-DELAY from RFC 2449;
//! STLS from RFC 2595; SASL from RFC 5034) on tokio + rustls.
//!
//! Written here rather than taken from a crate: async-pop (last release 2023) is tied to
//! async-native-tls, so it cannot use Petrel's rustls verifier with a pinned certificate;
//! mailme is on tokio 0.3 (2020). Neither bounds line lengths nor pipelines RETR, and the
//! protocol is small.
#![forbid(unsafe_code)]

mod download;
mod error;
pub mod ledger;
pub mod popstate;
mod session;
mod wire;

pub use download::{
    download, fetch_rest, mark_deleted_here, DownloadError, Job, Keep, Policy, Report,
    RESERVE_BYTES,
};
pub use error::{response_code, Pop3Error};
pub use session::{Capabilities, Listed, Pop3Session};

/// Largest message accepted (64 MiB): more is refused rather than filling memory.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
