//! Tokens, and the client that trades codes and refresh tokens for them (the `oauth2`
//! crate over Petrel's HTTP).

use crate::{Endpoints, Http, OAuthError};
use base64::Engine as _;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields, RedirectUrl,
    RefreshToken, RequestTokenError, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use std::time::{Duration, SystemTime};

/// The ID token beside the access token (OpenID Connect): it names the account.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub(crate) struct IdTokenField {
    #[serde(default)]
    id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

pub(crate) type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;

pub(crate) type Client = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

pub(crate) fn client(e: &Endpoints, redirect: Option<&str>) -> Result<Client, OAuthError> {
    let bad = |what: &str, err: String| OAuthError::Exchange(format!("{what}: {err}"));
    let mut client = oauth2::Client::new(ClientId::new(e.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(e.authorize.clone()).map_err(|x| bad("authorize URL", x.to_string()))?,
        )
        .set_token_uri(
            TokenUrl::new(e.token.clone()).map_err(|x| bad("token URL", x.to_string()))?,
        );
    if let Some(secret) = &e.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    if let Some(r) = redirect {
        client = client.set_redirect_uri(
            RedirectUrl::new(r.to_string()).map_err(|x| bad("redirect URL", x.to_string()))?,
        );
    }
    Ok(client)
}

/// What a sign-in or a refresh gives. Never printed: `Debug` hides the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: String,
    /// When the access token stops working (from `expires_in`), if said.
    pub expires_at: Option<SystemTime>,
    /// How long it was given for (`expires_in`).
    pub lifetime: Option<Duration>,
    /// A new refresh token (providers may rotate it on every refresh: store it).
    pub refresh: Option<String>,
    /// The account's address, from the ID token (`email`, else Microsoft's
    /// `preferred_username` when it is an address).
    pub email: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access", &format_args!("<{} bytes>", self.access.len()))
            .field("expires_at", &self.expires_at)
            .field("lifetime", &self.lifetime)
            .field("refresh", &self.refresh.as_ref().map(|_| "<redacted>"))
            .field("email", &self.email)
            .finish()
    }
}

impl Tokens {
    /// Whether the access token should be renewed before use: it ends within `margin`,
    /// or within a quarter of its lifetime when that is shorter (a token given for a
    /// minute is not renewed the moment it arrives).
    pub fn needs_renewal(&self, margin: Duration, now: SystemTime) -> bool {
        let margin = match self.lifetime {
            Some(life) => margin.min(life / 4),
            None => margin,
        };
        self.expires_at.is_some_and(|at| at <= now + margin)
    }

    pub(crate) fn from_answer(answer: &TokenAnswer, now: SystemTime) -> Tokens {
        Tokens {
            access: answer.access_token().secret().clone(),
            expires_at: answer.expires_in().map(|d| now + d),
            lifetime: answer.expires_in(),
            refresh: answer.refresh_token().map(|r| r.secret().clone()),
            email: answer
                .extra_fields()
                .id_token
                .as_deref()
                .and_then(email_of_id_token),
        }
    }
}

/// The address an ID token names. The token came straight from the token endpoint over
/// TLS, which OpenID Connect Core §3.1.3.7 lets stand in for checking its signature; only
/// the claims are read.
pub(crate) fn email_of_id_token(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    ["email", "preferred_username", "upn"]
        .iter()
        .filter_map(|k| claims.get(*k)?.as_str())
        .find(|v| v.contains('@'))
        .map(str::to_string)
}

pub(crate) fn exchange_error<E: std::error::Error>(
    e: RequestTokenError<E, BasicErrorResponse>,
) -> OAuthError {
    match e {
        RequestTokenError::ServerResponse(r) => match r.error() {
            BasicErrorResponseType::InvalidGrant => OAuthError::SignInAgain,
            other => OAuthError::Exchange(match r.error_description() {
                Some(d) => format!("{} ({d})", other.as_ref()),
                None => other.as_ref().to_string(),
            }),
        },
        RequestTokenError::Request(e) => OAuthError::Network(e.to_string()),
        RequestTokenError::Parse(e, _) => {
            OAuthError::Exchange(format!("an answer Petrel cannot read: {e}"))
        }
        RequestTokenError::Other(e) => OAuthError::Exchange(e),
    }
}

/// A new access token for `refresh_token`. `SignInAgain` when the provider refuses it
/// (revoked, expired): the account then needs the browser again.
pub async fn refresh(
    http: &Http,
    endpoints: &Endpoints,
    refresh_token: &str,
) -> Result<Tokens, OAuthError> {
    let client = client(endpoints, None)?;
    let token = RefreshToken::new(refresh_token.to_string());
    let answer = client
        .exchange_refresh_token(&token)
        .request_async(&http.client)
        .await
        .map_err(exchange_error)?;
    Ok(Tokens::from_answer(&answer, SystemTime::now()))
}

/// Gives `refresh_token` back to the provider (RFC 7009), when the account is removed or
/// signs in again: it then opens nothing. A provider without a revocation endpoint
/// (Microsoft) is fine: the token is deleted here anyway.
pub async fn revoke(
    http: &Http,
    endpoints: &Endpoints,
    refresh_token: &str,
) -> Result<(), OAuthError> {
    let Some(url) = &endpoints.revocation else {
        return Ok(());
    };
    let mut form = vec![
        ("token", refresh_token),
        ("token_type_hint", "refresh_token"),
        ("client_id", endpoints.client_id.as_str()),
    ];
    if let Some(secret) = &endpoints.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let response = http
        .client
        .post(url)
        .form(&form)
        .send()
        .await
        .map_err(|e| OAuthError::Network(e.to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(OAuthError::Exchange(format!(
            "the provider did not take the token back (HTTP {})",
            response.status()
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_address_comes_from_the_id_token() {
        use base64::Engine as _;
        let claims = |json: &str| {
            format!(
                "h.{}.s",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
            )
        };
        assert_eq!(
            super::email_of_id_token(&claims(r#"{"sub":"1","email":"ana@x.org"}"#)).as_deref(),
            Some("ana@x.org")
        );
        assert_eq!(
            super::email_of_id_token(&claims(r#"{"preferred_username":"ana@contoso.com"}"#))
                .as_deref(),
            Some("ana@contoso.com")
        );
        assert_eq!(super::email_of_id_token(&claims(r#"{"sub":"1"}"#)), None);
        assert_eq!(super::email_of_id_token("not a jwt"), None);
    }
}
