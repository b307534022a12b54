//! The engine's errors, and the one shape every server failure takes.
//!
//! IMAP, POP3 and SMTP fail in the same few ways (unreachable, certificate, TLS, password,
//! refusal, lost connection). Each protocol crate keeps its own error enum, with its own
//! words; the engine turns them into one [`ServerError`] tagged with the [`ServerKind`]
//! that failed, so backoff, status and hints are written once and hints name the right
//! ports ("TLS on port 465" for an SMTP failure, not IMAP's 993).

use petrel_core::{CertificateDetails, ErrorCode, IpcError};
use petrel_imap::ImapError;
use petrel_pop3::Pop3Error;
use petrel_smtp::SmtpError;

/// Which kind of server a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Imap,
    Pop3,
    Smtp,
}

impl ServerKind {
    /// What to check when TLS fails: the ports of this protocol (RFC 8314 §7).
    fn tls_hint(self) -> &'static str {
        match self {
            ServerKind::Imap => {
                " Check the security setting (TLS on port 993, STARTTLS on port 143)."
            }
            ServerKind::Pop3 => " Check the security setting (TLS on port 995, STLS on port 110).",
            ServerKind::Smtp => {
                " Check the security setting (TLS on port 465, STARTTLS on port 587)."
            }
        }
    }
}

/// A server failure, whatever the protocol.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("could not reach {host}:{port}: {source}")]
    Unreachable {
        host: String,
        port: u16,
        source: std::io::Error,
    },
    #[error("{what} timed out")]
    Timeout { what: &'static str },
    #[error("the server's certificate is not trusted: {reason}")]
    CertificateUntrusted {
        reason: String,
        certificate: Box<CertificateDetails>,
    },
    #[error("TLS failed: {0}")]
    Tls(String),
    /// No STARTTLS (or POP3's STLS) on a server configured for it; the text is the
    /// protocol crate's, which names its own command.
    #[error("{0}")]
    NoStartTls(String),
    #[error("{0}")]
    StartTlsInjection(String),
    #[error("the server rejected the login: {0}")]
    AuthFailed(String),
    /// The server asks to try later (POP3 `[IN-USE]`/`[LOGIN-DELAY]`, SMTP 4xx): nothing
    /// is wrong with the password or the message.
    #[error("the server asks to try again later: {0}")]
    Busy(String),
    /// The server understood and said no: retrying cannot help.
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("unexpected reply from the server: {0}")]
    Protocol(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// See [`ImapError::UidValidityChanged`].
    #[error("{folder} changed on the server since the action was made (its messages were renumbered), so it was not applied")]
    UidValidityChanged { folder: String },
}

impl From<ImapError> for ServerError {
    fn from(e: ImapError) -> Self {
        match e {
            ImapError::Unreachable { host, port, source } => {
                ServerError::Unreachable { host, port, source }
            }
            ImapError::Timeout { what } => ServerError::Timeout { what },
            ImapError::CertificateUntrusted {
                reason,
                certificate,
            } => ServerError::CertificateUntrusted {
                reason,
                certificate,
            },
            ImapError::Tls(m) => ServerError::Tls(m),
            e @ ImapError::StartTlsUnavailable => ServerError::NoStartTls(e.to_string()),
            e @ ImapError::StartTlsInjection => ServerError::StartTlsInjection(e.to_string()),
            ImapError::AuthFailed(m) => ServerError::AuthFailed(m),
            ImapError::Refused(m) => ServerError::Refused(m),
            ImapError::Protocol(m) => ServerError::Protocol(m),
            ImapError::ConnectionLost(m) => ServerError::ConnectionLost(m),
            ImapError::UidValidityChanged { folder } => ServerError::UidValidityChanged { folder },
        }
    }
}

impl From<Pop3Error> for ServerError {
    fn from(e: Pop3Error) -> Self {
        match e {
            Pop3Error::Unreachable { host, port, source } => {
                ServerError::Unreachable { host, port, source }
            }
            Pop3Error::Timeout { what } => ServerError::Timeout { what },
            Pop3Error::CertificateUntrusted {
                reason,
                certificate,
            } => ServerError::CertificateUntrusted {
                reason,
                certificate,
            },
            Pop3Error::Tls(m) => ServerError::Tls(m),
            e @ Pop3Error::StlsUnavailable => ServerError::NoStartTls(e.to_string()),
            e @ Pop3Error::StlsInjection => ServerError::StartTlsInjection(e.to_string()),
            Pop3Error::AuthFailed(m) => ServerError::AuthFailed(m),
            // The mailbox is locked or the server wants a pause: the password was fine, so
            // no lockout; the next check tries again.
            Pop3Error::Busy(m) => ServerError::Busy(m),
            Pop3Error::Refused(m) => ServerError::Refused(m),
            Pop3Error::Protocol(m) => ServerError::Protocol(m),
            Pop3Error::ConnectionLost(m) => ServerError::ConnectionLost(m),
        }
    }
}

impl From<SmtpError> for ServerError {
    fn from(e: SmtpError) -> Self {
        match e {
            SmtpError::Unreachable { host, port, source } => {
                ServerError::Unreachable { host, port, source }
            }
            SmtpError::Timeout { what } => ServerError::Timeout { what },
            SmtpError::CertificateUntrusted {
                reason,
                certificate,
            } => ServerError::CertificateUntrusted {
                reason,
                certificate,
            },
            SmtpError::Tls(m) => ServerError::Tls(m),
            e @ SmtpError::StartTlsUnavailable => ServerError::NoStartTls(e.to_string()),
            e @ SmtpError::StartTlsInjection => ServerError::StartTlsInjection(e.to_string()),
            SmtpError::AuthFailed(m) => ServerError::AuthFailed(m),
            SmtpError::Temporary(m) => ServerError::Busy(m),
            SmtpError::ConnectionLost(m) => ServerError::ConnectionLost(m),
            // Recipient, size and message refusals keep their own words. (An outbox that
            // could not record a message is this computer's problem: the outbox turns it
            // into a storage error before it gets here.)
            other @ (SmtpError::RecipientRefused(_)
            | SmtpError::TooLarge(_)
            | SmtpError::Refused(_)
            | SmtpError::Unrecorded(_)) => ServerError::Refused(other.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    InvalidInput(String),
    /// A server said no, or could not be talked to.
    #[error("{context}: {source}")]
    Server {
        context: String,
        server: ServerKind,
        source: ServerError,
    },
    #[error("the OS keychain failed: {0}")]
    Keychain(String),
    /// OAuth2 sign-in or token refresh.
    #[error("{0}")]
    SignIn(#[from] petrel_oauth::OAuthError),
    #[error("{context}: {source}")]
    Storage {
        context: String,
        source: std::io::Error,
    },
    /// A login was not tried because the last one failed moments ago (see `link`).
    #[error("{message} (next try in {retry_in_seconds} s)")]
    NotNow {
        state: petrel_core::ConnectionState,
        message: String,
        retry_in_seconds: u32,
    },
    #[error("no account {0}")]
    NoSuchAccount(String),
    /// Another Petrel (the app or a command-line tool) holds this config dir.
    #[error("Petrel is already running with the settings in {dir}: switch to that window, or close it first")]
    AlreadyRunning { dir: String },
    #[error("{context}: {source}")]
    Cache {
        context: String,
        source: petrel_store::StoreError,
    },
}

impl EngineError {
    fn server<E: Into<ServerError>>(
        server: ServerKind,
        context: impl Into<String>,
    ) -> impl FnOnce(E) -> EngineError {
        let context = context.into();
        move |e| EngineError::Server {
            context,
            server,
            source: e.into(),
        }
    }

    pub(crate) fn imap(context: impl Into<String>) -> impl FnOnce(ImapError) -> EngineError {
        Self::server(ServerKind::Imap, context)
    }

    pub(crate) fn pop3(context: impl Into<String>) -> impl FnOnce(Pop3Error) -> EngineError {
        Self::server(ServerKind::Pop3, context)
    }

    pub(crate) fn smtp(context: impl Into<String>) -> impl FnOnce(SmtpError) -> EngineError {
        Self::server(ServerKind::Smtp, context)
    }

    pub(crate) fn sync(
        context: impl Into<String>,
    ) -> impl FnOnce(petrel_imap::SyncError) -> EngineError {
        let context = context.into();
        move |e| match e {
            petrel_imap::SyncError::Imap(source) => EngineError::imap(context)(source),
            petrel_imap::SyncError::Cache(source) => EngineError::Cache { context, source },
        }
    }

    pub(crate) fn cache(
        context: impl Into<String>,
    ) -> impl FnOnce(petrel_store::StoreError) -> EngineError {
        let context = context.into();
        move |source| EngineError::Cache { context, source }
    }

    /// The server failure behind this error, if it is one.
    pub(crate) fn server_error(&self) -> Option<&ServerError> {
        match self {
            EngineError::Server { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether the failure came from the network (so a fresh connection may fix it).
    pub fn is_connection_problem(&self) -> bool {
        matches!(self, EngineError::NotNow { .. })
            || matches!(
                self.server_error(),
                Some(
                    ServerError::ConnectionLost(_)
                        | ServerError::Busy(_)
                        | ServerError::Timeout { .. }
                        | ServerError::Unreachable { .. }
                )
            )
    }

    /// The server understood and said no (or the folder is gone): retrying cannot help.
    pub(crate) fn is_refusal(&self) -> bool {
        matches!(
            self.server_error(),
            Some(ServerError::Refused(_) | ServerError::UidValidityChanged { .. })
        )
    }
}

/// A lock whose holder panicked. The engine's locks guard plain maps and counters that a
/// panic cannot leave half-written, so the one policy is: take the data and go on.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl From<&EngineError> for IpcError {
    fn from(e: &EngineError) -> IpcError {
        match e {
            EngineError::InvalidInput(msg) => IpcError::new(ErrorCode::InvalidInput, msg.clone()),
            EngineError::AlreadyRunning { .. } => {
                IpcError::new(ErrorCode::Storage, format!("{e}."))
            }
            EngineError::Keychain(_) => IpcError::new(
                ErrorCode::Keychain,
                format!("{e}. Petrel keeps passwords only in the system keychain; unlock it or install one (GNOME Keyring, KWallet) and try again."),
            ),
            EngineError::Storage { .. } => IpcError::new(ErrorCode::Storage, e.to_string()),
            EngineError::SignIn(o) => {
                use petrel_oauth::OAuthError as O;
                let code = match o {
                    O::SignInAgain => ErrorCode::SignInAgain,
                    O::Network(_) | O::Discovery { .. } => ErrorCode::Unreachable,
                    O::NoClientId(_) => ErrorCode::InvalidInput,
                    _ => ErrorCode::AuthFailed,
                };
                IpcError::new(code, e.to_string())
            }
            EngineError::NoSuchAccount(_) => IpcError::new(ErrorCode::NotFound, e.to_string()),
            EngineError::NotNow { state, .. } => {
                let code = match state {
                    petrel_core::ConnectionState::AuthFailed => ErrorCode::AuthFailed,
                    petrel_core::ConnectionState::SignInAgain => ErrorCode::SignInAgain,
                    petrel_core::ConnectionState::CertificateProblem => ErrorCode::Tls,
                    _ => ErrorCode::Unreachable,
                };
                IpcError::new(code, format!("{e}. Press Get mail to try now."))
            }
            EngineError::Cache { .. } => IpcError::new(ErrorCode::Storage, e.to_string()),
            EngineError::Server {
                context,
                server,
                source,
            } => {
                let (code, hint) = match source {
                    ServerError::Unreachable { .. } | ServerError::Timeout { .. } => {
                        (ErrorCode::Unreachable, " Check the host name and port, and that you are online.")
                    }
                    ServerError::ConnectionLost(_) | ServerError::Busy(_) => {
                        (ErrorCode::Unreachable, " Try again.")
                    }
                    ServerError::CertificateUntrusted { .. } => (ErrorCode::CertificateUntrusted, ""),
                    ServerError::Tls(_)
                    | ServerError::NoStartTls(_)
                    | ServerError::StartTlsInjection(_) => (ErrorCode::Tls, server.tls_hint()),
                    ServerError::AuthFailed(_) => (ErrorCode::AuthFailed, " Check the user name and password."),
                    ServerError::Refused(_) => (ErrorCode::Refused, ""),
                    ServerError::UidValidityChanged { .. } => (
                        ErrorCode::NotFound,
                        " The folder shows the server's state again; do it once more if still wanted.",
                    ),
                    ServerError::Protocol(_) => (ErrorCode::Protocol, ""),
                };
                let mut ipc = IpcError::new(code, format!("{context}: {source}.{hint}"));
                if let ServerError::CertificateUntrusted { certificate, .. } = source {
                    ipc.certificate = Some(certificate.clone());
                }
                ipc
            }
        }
    }
}

impl From<EngineError> for IpcError {
    fn from(e: EngineError) -> IpcError {
        IpcError::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_hints_name_the_ports_of_the_protocol_that_failed() {
        let imap = IpcError::from(EngineError::imap("Connecting")(ImapError::Tls(
            "bad".into(),
        )));
        let pop3 = IpcError::from(EngineError::pop3("Connecting")(Pop3Error::StlsUnavailable));
        let smtp = IpcError::from(EngineError::smtp("Sending")(SmtpError::Tls("bad".into())));
        for (e, ours, theirs) in [
            (&imap, ["993", "143"], ["995", "465", "587"]),
            (&pop3, ["995", "110"], ["993", "465", "587"]),
            (&smtp, ["465", "587"], ["993", "143", "995"]),
        ] {
            assert_eq!(e.code, ErrorCode::Tls, "{}", e.message);
            for port in ours {
                assert!(e.message.contains(port), "{port} missing: {}", e.message);
            }
            for port in theirs {
                assert!(!e.message.contains(port), "{port} named: {}", e.message);
            }
        }
        assert!(pop3.message.contains("STLS"), "{}", pop3.message);
    }

    #[test]
    fn a_refusal_is_reported_as_refused_not_as_missing() {
        let quota = EngineError::imap("Filing the Sent copy")(ImapError::Refused(
            "[OVERQUOTA] Quota exceeded".into(),
        ));
        assert!(quota.is_refusal());
        assert!(!quota.is_connection_problem());
        assert_eq!(IpcError::from(&quota).code, ErrorCode::Refused);
        let too_large = EngineError::smtp("Sending")(SmtpError::TooLarge("552 too big".into()));
        assert_eq!(IpcError::from(&too_large).code, ErrorCode::Refused);
        assert!(IpcError::from(&too_large).message.contains("too large"));
    }

    #[test]
    fn busy_servers_are_retried_like_lost_connections() {
        let busy = EngineError::pop3("Connecting")(Pop3Error::Busy("[IN-USE] locked".into()));
        assert!(busy.is_connection_problem());
        assert_eq!(IpcError::from(&busy).code, ErrorCode::Unreachable);
        let later = EngineError::smtp("Sending")(SmtpError::Temporary("451 later".into()));
        assert!(later.is_connection_problem());
    }
}
