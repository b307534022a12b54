//! Passwords live only in the OS keychain: Secret Service on Linux/BSD, Keychain on macOS,
//! Credential Manager on Windows. The trait lets engine logic be tested on its own; the
//! integration tests use the real keychain.

use crate::EngineError;
use petrel_core::AccountId;

/// Keychain "service" under which Petrel stores one entry per account id.
pub const KEYCHAIN_SERVICE: &str = "org.petrel.mail";

pub trait SecretStore: Send + Sync {
    fn set_password(&self, account: &AccountId, password: &str) -> Result<(), EngineError>;
    fn password(&self, account: &AccountId) -> Result<String, EngineError>;
    /// Removes the entry; a missing entry is not an error.
    fn delete_password(&self, account: &AccountId) -> Result<(), EngineError>;
}

/// The OS keychain through the `keyring` crate.
#[derive(Debug, Clone)]
pub struct KeychainSecrets {
    service: String,
}

impl Default for KeychainSecrets {
    fn default() -> Self {
        KeychainSecrets {
            service: KEYCHAIN_SERVICE.to_string(),
        }
    }
}

impl KeychainSecrets {
    /// A store under another service name, so tests never touch a user's real entries.
    pub fn with_service(service: impl Into<String>) -> Self {
        KeychainSecrets {
            service: service.into(),
        }
    }

    fn entry(&self, account: &AccountId) -> Result<keyring::Entry, EngineError> {
        keyring::Entry::new(&self.service, &account.0)
            .map_err(|e| EngineError::Keychain(e.to_string()))
    }
}

impl SecretStore for KeychainSecrets {
    fn set_password(&self, account: &AccountId, password: &str) -> Result<(), EngineError> {
        self.entry(account)?
            .set_password(password)
            .map_err(|e| EngineError::Keychain(e.to_string()))
    }

    fn password(&self, account: &AccountId) -> Result<String, EngineError> {
        self.entry(account)?.get_password().map_err(|e| match e {
            keyring::Error::NoEntry => {
                EngineError::Keychain(format!("no password stored for account {account}"))
            }
            other => EngineError::Keychain(other.to_string()),
        })
    }

    fn delete_password(&self, account: &AccountId) -> Result<(), EngineError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(EngineError::Keychain(e.to_string())),
        }
    }
}
