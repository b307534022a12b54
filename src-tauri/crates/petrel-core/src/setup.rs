//! The setup wizard's contract: what discovery found (and where), what the servers said,
//! the advisor's questions and answer, and the connection doctor's log.

use crate::{CertificateDetails, IncomingProtocol, Pop3Options, ServerSettings};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where settings came from, best first (a better source wins even when a worse one
/// answers sooner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SettingsSource {
    ProviderTable,
    Autoconfig,
    WellKnown,
    Ispdb,
    MxDomain,
    Srv,
    Probe,
    /// Typed by the user ("Edit settings").
    Manual,
}

/// What discovery found for an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Discovery {
    pub email: String,
    pub imap: Option<ServerSettings>,
    pub pop3: Option<ServerSettings>,
    pub smtp: Option<ServerSettings>,
    /// None when nothing was found (the user types the settings).
    pub source: Option<SettingsSource>,
    /// Where exactly, in words ("the provider's autoconfig file at https://…").
    pub source_detail: String,
    /// The source cannot have been changed on the network path (provider table, HTTPS on
    /// the address's domain, ISPDB over HTTPS, TLS-verified probes); false for plain HTTP,
    /// MX-derived settings and SRV records.
    pub authenticated: bool,
    /// Hosts the user must confirm by name before any password goes to them (outside the
    /// address's domain, or outside the provider's when the source is not authenticated).
    pub confirm_hosts: Vec<String>,
    pub provider: Option<ProviderNotes>,
    pub evidence: ServerEvidence,
    /// Servers whose certificate is not trusted: shown, and pinned only if accepted.
    pub untrusted: Vec<CertificateDetails>,
    /// The Unicode form of every found host name written in A-labels ("imap.xn--bcher-kva.de"
    /// → "imap.bücher.de"), for showing; settings keep the A-label (RFC 5891).
    pub unicode_hosts: Vec<HostName>,
    pub log: Vec<DoctorLine>,
}

/// A finished OAuth2 sign-in, held by the engine until the account is added: the window
/// gets a ticket and the address, never a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignedIn {
    pub ticket: String,
    /// The address the provider names (ID token), when it says.
    pub email: Option<String>,
}

/// A host name as DNS and TLS use it and as people read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HostName {
    pub ascii: String,
    pub unicode: String,
}

/// What a known provider's users need to know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProviderNotes {
    pub name: String,
    pub notes: Vec<String>,
    /// The server files sent mail in Sent itself (Petrel then does not add a copy).
    pub server_files_sent: bool,
    /// Password login needs an app password (or is not possible without OAuth).
    pub app_password: bool,
    /// The provider signs people in with OAuth2 ("Sign in with …").
    #[serde(default)]
    pub oauth: Option<crate::OAuthProvider>,
    /// No password works any more: only OAuth2 signs in.
    #[serde(default)]
    pub oauth_only: bool,
    /// This build (or the settings) has a client ID for `oauth`, so the button can work.
    #[serde(default)]
    pub oauth_ready: bool,
}

/// What the servers said about themselves, for the advisor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ServerEvidence {
    pub imap_offered: bool,
    pub pop3_offered: bool,
    /// POP3 EXPIRE: days the server keeps mail after download (`Some(0)`: deleted at once,
    /// `None`: not announced; "NEVER" is `Some(u32::MAX)`).
    pub pop3_expire_days: Option<u32>,
    /// POP3 LOGIN-DELAY in seconds.
    pub pop3_login_delay: Option<u32>,
    /// IMAP QUOTA (KiB used, KiB allowed), when known.
    #[ts(type = "[number, number] | null")]
    pub quota_kib: Option<(u64, u64)>,
    /// Discovery found an IMAP (POP3) server but the check could not reach it: `*_offered`
    /// is false for want of an answer, not because the server said no.
    #[serde(default)]
    pub imap_unchecked: bool,
    #[serde(default)]
    pub pop3_unchecked: bool,
}

/// One line of the connection doctor: what was tried and what answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DoctorLine {
    pub stage: String,
    pub tried: String,
    pub answer: String,
}

/// Discovery's progress, for the wizard's list: a stage started trying something, or
/// ended. Stages run side by side, so several may be trying at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetupProgress {
    pub stage: String,
    pub trying: String,
    pub state: StageState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    Trying,
    Found,
    /// Asked, and nothing usable there.
    Nothing,
    /// Not finished: a better source answered first, or discovery's time ran out.
    Stopped,
}

/// The advisor's questions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AdvisorAnswers {
    /// Mail is read on more than this computer (phone, tablet, another computer).
    pub several_devices: bool,
    /// The connection is often slow or missing (travel, rural line, metered).
    pub unreliable_connection: bool,
    /// The mailbox on the server is small or often full.
    pub limited_space: bool,
    /// The server should keep a copy as a backup.
    pub server_backup: bool,
}

/// The advisor's recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Advice {
    pub recommended: IncomingProtocol,
    /// Two or three plain sentences.
    pub reasons: Vec<String>,
    /// What choosing the other one means.
    pub other: String,
    /// The POP3 policy that fits the answers (used if POP3 is chosen).
    pub pop3: Pop3Options,
    /// Only one protocol is offered: no choice to make.
    pub only_choice: bool,
}
