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
    /// The OAuth2 refresh token of an account signed in with a provider.
    fn set_refresh_token(&self, account: &AccountId, token: &str) -> Result<(), EngineError>;
    /// `None` when the account has none (never signed in, or signed out).
    fn refresh_token(&self, account: &AccountId) -> Result<Option<String>, EngineError>;
    fn delete_refresh_token(&self, account: &AccountId) -> Result<(), EngineError>;
}

/// The longest piece of a secret in one keychain entry. Windows Credential Manager holds
/// at most 2,560 bytes per entry and keyring stores UTF-16 there: 1,200 characters fit
/// with room to spare. Longer refresh tokens (Microsoft's can be larger) are split.
pub const KEYCHAIN_PIECE: usize = 1200;

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

    /// Piece `n` of the account's refresh token.
    fn token_piece(&self, account: &AccountId, n: usize) -> Result<keyring::Entry, EngineError> {
        keyring::Entry::new(&self.service, &format!("{}#oauth.{n}", account.0))
            .map_err(|e| EngineError::Keychain(e.to_string()))
    }

    fn get(entry: &keyring::Entry) -> Result<Option<String>, EngineError> {
        match entry.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(EngineError::Keychain(e.to_string())),
        }
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

    /// Piece 0 reads "<count>:<first piece>"; the others hold the rest in order.
    fn set_refresh_token(&self, account: &AccountId, token: &str) -> Result<(), EngineError> {
        self.delete_refresh_token(account)?;
        let chars: Vec<char> = token.chars().collect();
        let pieces: Vec<String> = chars
            .chunks(KEYCHAIN_PIECE)
            .map(|c| c.iter().collect())
            .collect();
        let count = pieces.len().max(1);
        for (n, piece) in pieces.iter().enumerate().rev() {
            let value = if n == 0 {
                format!("{count}:{piece}")
            } else {
                piece.clone()
            };
            self.token_piece(account, n)?
                .set_password(&value)
                .map_err(|e| EngineError::Keychain(e.to_string()))?;
        }
        if pieces.is_empty() {
            self.token_piece(account, 0)?
                .set_password("1:")
                .map_err(|e| EngineError::Keychain(e.to_string()))?;
        }
        Ok(())
    }

    fn refresh_token(&self, account: &AccountId) -> Result<Option<String>, EngineError> {
        let Some(first) = Self::get(&self.token_piece(account, 0)?)? else {
            return Ok(None);
        };
        let (count, mut token) = match first.split_once(':') {
            Some((n, rest)) => (n.parse::<usize>().unwrap_or(1), rest.to_string()),
            None => (1, first),
        };
        for n in 1..count {
            match Self::get(&self.token_piece(account, n)?)? {
                Some(piece) => token.push_str(&piece),
                // A piece missing: the token is broken; signing in again mends it.
                None => return Ok(None),
            }
        }
        Ok(Some(token))
    }

    fn delete_refresh_token(&self, account: &AccountId) -> Result<(), EngineError> {
        // Pieces are numbered from 0 without gaps; a missing one ends the list.
        for n in 0.. {
            match self.token_piece(account, n)?.delete_credential() {
                Ok(()) => {}
                Err(keyring::Error::NoEntry) => break,
                Err(e) => return Err(EngineError::Keychain(e.to_string())),
            }
        }
        Ok(())
    }
}
