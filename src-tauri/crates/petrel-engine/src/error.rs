use petrel_core::{ErrorCode, IpcError};
use petrel_imap::ImapError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{context}: {source}")]
    Imap { context: String, source: ImapError },
    #[error("the OS keychain failed: {0}")]
    Keychain(String),
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
    pub(crate) fn sync(
        context: impl Into<String>,
    ) -> impl FnOnce(petrel_imap::SyncError) -> EngineError {
        let context = context.into();
        move |e| match e {
            petrel_imap::SyncError::Imap(source) => EngineError::Imap { context, source },
            petrel_imap::SyncError::Cache(source) => EngineError::Cache { context, source },
        }
    }

    pub(crate) fn cache(
        context: impl Into<String>,
    ) -> impl FnOnce(petrel_store::StoreError) -> EngineError {
        let context = context.into();
        move |source| EngineError::Cache { context, source }
    }

    pub(crate) fn imap(context: impl Into<String>) -> impl FnOnce(ImapError) -> EngineError {
        let context = context.into();
        move |source| EngineError::Imap { context, source }
    }

    /// Whether the failure came from the network (so a fresh connection may fix it).
    pub fn is_connection_problem(&self) -> bool {
        matches!(
            self,
            EngineError::Imap {
                source: ImapError::ConnectionLost(_)
                    | ImapError::Timeout { .. }
                    | ImapError::Unreachable { .. },
                ..
            } | EngineError::NotNow { .. }
        )
    }
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
            EngineError::NoSuchAccount(_) => IpcError::new(ErrorCode::NotFound, e.to_string()),
            EngineError::NotNow { state, .. } => {
                let code = match state {
                    petrel_core::ConnectionState::AuthFailed => ErrorCode::AuthFailed,
                    petrel_core::ConnectionState::CertificateProblem => ErrorCode::Tls,
                    _ => ErrorCode::Unreachable,
                };
                IpcError::new(code, format!("{e}. Press Get mail to try now."))
            }
            EngineError::Cache { .. } => IpcError::new(ErrorCode::Storage, e.to_string()),
            EngineError::Imap { context, source } => {
                let (code, hint) = match source {
                    ImapError::Unreachable { .. } | ImapError::Timeout { .. } => {
                        (ErrorCode::Unreachable, " Check the host name and port, and that you are online.")
                    }
                    ImapError::ConnectionLost(_) => (ErrorCode::Unreachable, " Try again."),
                    ImapError::CertificateUntrusted { .. } => (ErrorCode::CertificateUntrusted, ""),
                    ImapError::Tls(_) | ImapError::StartTlsUnavailable | ImapError::StartTlsInjection => (
                        ErrorCode::Tls,
                        " Check the security setting (TLS on port 993, STARTTLS on port 143).",
                    ),
                    ImapError::AuthFailed(_) => (ErrorCode::AuthFailed, " Check the user name and password."),
                    ImapError::Refused(_) => (ErrorCode::NotFound, ""),
                    ImapError::UidValidityChanged { .. } => (
                        ErrorCode::NotFound,
                        " The folder shows the server's state again; do it once more if still wanted.",
                    ),
                    ImapError::Protocol(_) => (ErrorCode::Protocol, ""),
                };
                let mut ipc = IpcError::new(code, format!("{context}: {source}.{hint}"));
                if let ImapError::CertificateUntrusted { certificate, .. } = source {
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
