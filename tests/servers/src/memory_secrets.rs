//! Passwords in memory, for tests and benchmarks that are not about the keychain (the
//! keychain has its own tests against the real Secret Service). Never used by the app.

use petrel_core::AccountId;
use petrel_engine::{EngineError, SecretStore};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemorySecrets(
    Mutex<HashMap<AccountId, String>>,
    Mutex<HashMap<AccountId, String>>,
);

impl SecretStore for MemorySecrets {
    fn set_password(&self, account: &AccountId, password: &str) -> Result<(), EngineError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.clone(), password.into());
        Ok(())
    }

    fn password(&self, account: &AccountId) -> Result<String, EngineError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .cloned()
            .ok_or_else(|| EngineError::Keychain(format!("no password for {account}")))
    }

    fn delete_password(&self, account: &AccountId) -> Result<(), EngineError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
        Ok(())
    }

    fn set_refresh_token(&self, account: &AccountId, token: &str) -> Result<(), EngineError> {
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.clone(), token.into());
        Ok(())
    }

    fn refresh_token(&self, account: &AccountId) -> Result<Option<String>, EngineError> {
        Ok(self
            .1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .cloned())
    }

    fn delete_refresh_token(&self, account: &AccountId) -> Result<(), EngineError> {
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
        Ok(())
    }
}
