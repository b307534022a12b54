//! How failures cross from the engine to the UI: a closed set of codes, a sentence for the
//! user, and whether trying again can help.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The form or request is incomplete or wrong.
    InvalidInput,
    /// The server rejected the user name or password.
    AuthFailed,
    /// OAuth2: the sign-in must be done again in the browser.
    SignInAgain,
    /// The host could not be resolved or reached, or timed out.
    Unreachable,
    /// No trusted CA vouches for the server's certificate; `certificate` says which one.
    CertificateUntrusted,
    /// TLS failed for another reason (bad name, expired, protocol error, STARTTLS missing).
    Tls,
    /// The server said something we could not accept.
    Protocol,
    /// The OS keychain refused or is unavailable.
    Keychain,
    /// Reading or writing the settings file failed.
    Storage,
    /// The account, folder or message does not exist (any more).
    NotFound,
    /// The server understood and said no (quota, size, a recipient, a folder it will not
    /// create): retrying will not help; the message says why.
    Refused,
    Internal,
}

/// The server certificate shown to the user when no CA vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CertificateDetails {
    pub subject: String,
    pub issuer: String,
    /// Lower-case hex SHA-256 of the DER certificate: what gets pinned.
    pub sha256: String,
    pub host: String,
    /// Why it is not trusted, in words ("it was issued for a different host name"): the
    /// question the user is asked depends on it (review L4).
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    pub retryable: bool,
    pub certificate: Option<Box<CertificateDetails>>,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let retryable = matches!(code, ErrorCode::Unreachable | ErrorCode::Internal);
        IpcError {
            code,
            message: message.into(),
            retryable,
            certificate: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_the_field_names_the_ui_reads() {
        let e = IpcError::new(ErrorCode::AuthFailed, "Wrong password");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "auth_failed");
        assert_eq!(json["message"], "Wrong password");
        assert_eq!(json["retryable"], false);
        assert!(IpcError::new(ErrorCode::Unreachable, "x").retryable);
    }
}
