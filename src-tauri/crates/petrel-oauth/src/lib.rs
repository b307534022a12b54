//! Signing in with OAuth2 (RFC 6749) as a native app (RFC 8252): the authorization code
//! flow with PKCE S256 (RFC 7636) in the system browser, redirected to a one-time listener
//! on `http://127.0.0.1:<random port>`, `state` and the authorization server's `iss`
//! (RFC 9207) checked, and the refresh of access tokens. Providers: Microsoft, Google and
//! any OpenID Connect issuer (its discovery document). Tauri-free: the engine and tests
//! drive it; the browser is whatever opens a URL ([`Browser`]).
#![forbid(unsafe_code)]

mod flow;
mod http;
mod provider;
mod tokens;

pub use flow::{sign_in, Browser, CommandBrowser};
pub use http::Http;
pub use provider::{has_built_in_client, Endpoints};
pub use tokens::{refresh, revoke, Tokens};

/// A random name for something held in memory until the window asks for it again (a
/// finished sign-in), 128 bits, URL-safe.
pub fn ticket() -> String {
    oauth2::CsrfToken::new_random().secret().clone()
}

/// What went wrong, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("This build of Petrel has no {0} client ID. Set one in Account options (Sign-in), or use an app password if your provider allows it.")]
    NoClientId(String),
    #[error("The sign-in provider at {url} could not be read: {reason}")]
    Discovery { url: String, reason: String },
    #[error("The browser could not be opened: {0}")]
    Browser(String),
    #[error("No answer from the browser within {0} minutes: sign-in was given up. Try again.")]
    TimedOut(u64),
    #[error("Sign-in was refused or cancelled in the browser ({0}).")]
    Refused(String),
    #[error("The answer that came back is not the one Petrel asked for ({0}); nothing was accepted. Try again.")]
    Mismatch(&'static str),
    #[error("The sign-in provider refused the code: {0}")]
    Exchange(String),
    /// The refresh token is no longer valid (revoked, expired, password changed).
    #[error("Your sign-in has expired or was revoked: sign in again.")]
    SignInAgain,
    #[error("The sign-in provider could not be reached: {0}")]
    Network(String),
}
