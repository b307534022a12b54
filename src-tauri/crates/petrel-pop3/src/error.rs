use petrel_core::CertificateDetails;

/// What went wrong talking POP3, in terms the engine can turn into a user message.
#[derive(Debug, thiserror::Error)]
pub enum Pop3Error {
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
    #[error("the server does not offer STLS, and Petrel will not log in without encryption")]
    StlsUnavailable,
    #[error("the server sent data before the TLS handshake (possible STLS injection attack)")]
    StlsInjection,
    #[error("the server rejected the login: {0}")]
    AuthFailed(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("unexpected reply from the server: {0}")]
    Protocol(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
}

impl From<std::io::Error> for Pop3Error {
    fn from(e: std::io::Error) -> Self {
        Pop3Error::ConnectionLost(e.to_string())
    }
}

impl From<petrel_tls::TlsFailure> for Pop3Error {
    fn from(f: petrel_tls::TlsFailure) -> Self {
        match f {
            petrel_tls::TlsFailure::Untrusted {
                reason,
                certificate,
            } => Pop3Error::CertificateUntrusted {
                reason,
                certificate,
            },
            petrel_tls::TlsFailure::Tls(m) => Pop3Error::Tls(m),
            petrel_tls::TlsFailure::Lost(m) => Pop3Error::ConnectionLost(m),
        }
    }
}
