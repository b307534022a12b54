//! What an account logs in with: its password from the keychain, or an OAuth2 access token
//! — kept in memory only, renewed from the refresh token in the keychain shortly before it
//! expires, and once more when a server refuses it (it may have been revoked early).

use super::state::AccountState;
use crate::error::lock;
use crate::shared::Shared;
use crate::{EngineError, ServerError};
use petrel_core::{ServerSettings, SignIn};
use petrel_oauth::{Endpoints, OAuthError, Tokens};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Mutex as AsyncMutex;

/// A token this close to its end is renewed before use (a login takes a few seconds).
const RENEW_MARGIN: Duration = Duration::from_secs(120);

pub(crate) enum Credential {
    Password(String),
    /// An OAuth2 access token.
    Bearer(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Password(_) => "Credential::Password(<redacted>)",
            Credential::Bearer(_) => "Credential::Bearer(<redacted>)",
        })
    }
}

impl Credential {
    pub fn imap(&self) -> petrel_imap::Login<'_> {
        match self {
            Credential::Password(p) => petrel_imap::Login::Password(p),
            Credential::Bearer(t) => petrel_imap::Login::Bearer(t),
        }
    }

    pub fn smtp(&self) -> petrel_smtp::Secret {
        match self {
            Credential::Password(p) => petrel_smtp::Secret::Password(p.clone()),
            Credential::Bearer(t) => petrel_smtp::Secret::Bearer(t.clone()),
        }
    }

    pub async fn pop3(
        &self,
        session: &mut petrel_pop3::Pop3Session,
        server: &ServerSettings,
    ) -> Result<(), petrel_pop3::Pop3Error> {
        match self {
            Credential::Password(p) => session.login(&server.username, p).await,
            Credential::Bearer(t) => {
                session
                    .login_bearer(&server.username, &server.host, server.port, t)
                    .await
            }
        }
    }
}

/// The in-memory half of an OAuth2 account: its access token, and one renewal at a time
/// (two at once could each spend a rotating refresh token, and the provider would then
/// revoke both).
#[derive(Default)]
pub(crate) struct TokenCache {
    access: Mutex<Option<Tokens>>,
    renewing: AsyncMutex<()>,
}

impl AccountState {
    /// The account's credential now: the password, or a valid access token (renewed when
    /// it is about to expire, or when `renew` says the server refused the one we had).
    pub async fn credential(&self, cx: &Shared, renew: bool) -> Result<Credential, EngineError> {
        let settings = self.settings();
        let SignIn::OAuth2 {
            provider,
            client_id,
        } = &settings.sign_in
        else {
            return Ok(Credential::Password(cx.secrets.password(&self.id)?));
        };
        let cached = || lock(&self.tokens.access).clone();
        let had = cached();
        if let Some(t) = &had {
            if !renew && !t.needs_renewal(RENEW_MARGIN, cx.now()) {
                return Ok(Credential::Bearer(t.access.clone()));
            }
        }
        let _one_at_a_time = self.tokens.renewing.lock().await;
        // Renewed by someone else while this one waited: use theirs.
        if let Some(t) = cached() {
            let newer = had.as_ref().map(|h| h.access != t.access).unwrap_or(true);
            if newer && !t.needs_renewal(RENEW_MARGIN, cx.now()) {
                return Ok(Credential::Bearer(t.access));
            }
        }
        let refresh = cx
            .secrets
            .refresh_token(&self.id)?
            .ok_or(OAuthError::SignInAgain)?;
        let http = cx.oauth_http()?;
        let endpoints = Endpoints::resolve(provider, client_id.as_deref(), http).await?;
        let tokens = petrel_oauth::refresh(http, &endpoints, &refresh).await?;
        // Providers may rotate the refresh token: the new one replaces the old at once.
        if let Some(rotated) = tokens.refresh.as_deref().filter(|r| *r != refresh) {
            cx.secrets.set_refresh_token(&self.id, rotated)?;
        }
        tracing::info!(account = %self.id, "access token renewed");
        let access = tokens.access.clone();
        *lock(&self.tokens.access) = Some(tokens);
        Ok(Credential::Bearer(access))
    }

    /// Keeps the tokens of a fresh sign-in (the refresh token is already in the keychain).
    pub fn signed_in(&self, tokens: Tokens) {
        *lock(&self.tokens.access) = Some(tokens);
    }

    /// Runs `attempt` with the account's credential. An access token the server refuses is
    /// renewed and tried once more (it may have been revoked or ended early); a refused
    /// password is not retried (servers lock accounts).
    pub async fn with_credential<T, F, Fut>(
        &self,
        cx: &Shared,
        attempt: F,
    ) -> Result<T, EngineError>
    where
        F: Fn(Credential) -> Fut,
        Fut: Future<Output = Result<T, EngineError>>,
    {
        let credential = self.credential(cx, false).await?;
        let bearer = matches!(credential, Credential::Bearer(_));
        match attempt(credential).await {
            Err(e) if bearer && matches!(e.server_error(), Some(ServerError::AuthFailed(_))) => {
                tracing::info!(account = %self.id, "token refused: renewing it once");
                attempt(self.credential(cx, true).await?).await
            }
            other => other,
        }
    }
}
