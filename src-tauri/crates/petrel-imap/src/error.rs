use petrel_core::CertificateDetails;

/// What went wrong talking IMAP, in terms the engine can turn into a user message.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
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
    #[error("the server does not offer STARTTLS, and Petrel will not log in without encryption")]
    StartTlsUnavailable,
    #[error("the server sent data before the TLS handshake (possible STARTTLS injection attack)")]
    StartTlsInjection,
    #[error("the server rejected the login: {0}")]
    AuthFailed(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("unexpected reply from the server: {0}")]
    Protocol(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// The folder's UIDVALIDITY is not the one the UIDs were taken under (RFC 3501
    /// §2.3.1.1): the folder was recreated or the server migrated, so those UIDs may now
    /// name other messages.
    #[error("{folder} changed on the server since the action was made (its messages were renumbered), so it was not applied")]
    UidValidityChanged { folder: String },
}

impl From<std::io::Error> for ImapError {
    fn from(e: std::io::Error) -> Self {
        ImapError::ConnectionLost(e.to_string())
    }
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        use async_imap::error::Error as E;
        match e {
            E::Io(io) => ImapError::ConnectionLost(io.to_string()),
            E::ConnectionLost => {
                ImapError::ConnectionLost("the server closed the connection".into())
            }
            E::No(text) | E::Bad(text) => ImapError::Refused(text),
            other => ImapError::Protocol(other.to_string()),
        }
    }
}
