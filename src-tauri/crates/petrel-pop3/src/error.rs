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
    /// `[IN-USE]`, `[LOGIN-DELAY]` or `[SYS/TEMP]` (RFC 2449 §8, RFC 3206): the password
    /// was not the problem; try again later.
    #[error("the server asks to try again later: {0}")]
    Busy(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("unexpected reply from the server: {0}")]
    Protocol(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
}

/// The response code of an `-ERR [CODE] text` reply (RFC 2449 §8), upper-cased.
pub fn response_code(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix('[')?;
    let end = rest.find(']')?;
    Some(rest[..end].trim().to_ascii_uppercase())
}

/// A refused login, by its response code: IN-USE, LOGIN-DELAY and SYS/TEMP are "later",
/// not "wrong password" (a server that locks the maildrop answers IN-USE while another
/// session holds it). Without a code, a refused login is a refused password.
pub(crate) fn login_refusal(text: String) -> Pop3Error {
    match response_code(&text).as_deref() {
        Some("IN-USE" | "LOGIN-DELAY" | "SYS/TEMP") => Pop3Error::Busy(text),
        Some("SYS/PERM") => Pop3Error::Refused(text),
        _ => Pop3Error::AuthFailed(text),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_codes_tell_busy_from_a_wrong_password() {
        assert!(matches!(
            login_refusal("[IN-USE] Mailbox locked".into()),
            Pop3Error::Busy(_)
        ));
        assert!(matches!(
            login_refusal("[LOGIN-DELAY] wait".into()),
            Pop3Error::Busy(_)
        ));
        assert!(matches!(
            login_refusal("[SYS/TEMP] try later".into()),
            Pop3Error::Busy(_)
        ));
        assert!(matches!(
            login_refusal("[SYS/PERM] gone".into()),
            Pop3Error::Refused(_)
        ));
        assert!(matches!(
            login_refusal("[AUTH] bad password".into()),
            Pop3Error::AuthFailed(_)
        ));
        assert!(matches!(
            login_refusal("bad password".into()),
            Pop3Error::AuthFailed(_)
        ));
        assert_eq!(response_code("[in-use] x").as_deref(), Some("IN-USE"));
        assert_eq!(response_code("[ü"), None);
        assert_eq!(response_code("no code"), None);
    }
}
