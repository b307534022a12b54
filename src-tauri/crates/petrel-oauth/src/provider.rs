//! Where each provider signs people in, and what Petrel asks it for.

use crate::http::{check_endpoint, Http};
use crate::OAuthError;
use petrel_core::OAuthProvider;

/// Client IDs come from the build (see README, "Shipping Petrel: OAuth2 client IDs"); none
/// is copied from another project. A desktop client's "secret" is not secret (RFC 8252
/// §8.5), Google's installed-app clients still send one.
const MICROSOFT_CLIENT_ID: Option<&str> = option_env!("PETREL_MICROSOFT_CLIENT_ID");
const GOOGLE_CLIENT_ID: Option<&str> = option_env!("PETREL_GOOGLE_CLIENT_ID");
const GOOGLE_CLIENT_SECRET: Option<&str> = option_env!("PETREL_GOOGLE_CLIENT_SECRET");

/// Whether this build carries a client ID for `provider` (an OpenID Connect issuer never:
/// its client ID comes with the account's settings).
pub fn has_built_in_client(provider: &OAuthProvider) -> bool {
    match provider {
        OAuthProvider::Microsoft => MICROSOFT_CLIENT_ID.is_some_and(|id| !id.is_empty()),
        OAuthProvider::Google => GOOGLE_CLIENT_ID.is_some_and(|id| !id.is_empty()),
        OAuthProvider::Oidc { .. } => false,
    }
}

/// A provider resolved to what the flow needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Its name in words ("Microsoft").
    pub name: String,
    /// The issuer the `iss` of the authorization response must equal (RFC 9207), when known.
    pub issuer: Option<String>,
    /// The provider says it always sends `iss` (then a response without it is refused).
    pub iss_required: bool,
    pub authorize: String,
    pub token: String,
    /// Where a refresh token is given back when an account goes (RFC 7009), if offered.
    pub revocation: Option<String>,
    pub scopes: Vec<String>,
    pub extra: Vec<(String, String)>,
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl Endpoints {
    /// Resolves `provider` (the discovery document for an OpenID Connect issuer), with the
    /// account's client ID override if any.
    pub async fn resolve(
        provider: &OAuthProvider,
        client_id: Option<&str>,
        http: &Http,
    ) -> Result<Endpoints, OAuthError> {
        let chosen = |built_in: Option<&str>, name: &str| {
            client_id
                .or(built_in)
                .filter(|id| !id.trim().is_empty())
                .map(str::to_string)
                .ok_or_else(|| OAuthError::NoClientId(name.to_string()))
        };
        match provider {
            OAuthProvider::Microsoft => Ok(Endpoints {
                name: "Microsoft".into(),
                // The `common` tenant answers for every tenant: each has its own issuer.
                issuer: None,
                iss_required: false,
                authorize: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize".into(),
                token: "https://login.microsoftonline.com/common/oauth2/v2.0/token".into(),
                revocation: None,
                scopes: [
                    "https://outlook.office.com/IMAP.AccessAsUser.All",
                    "https://outlook.office.com/POP.AccessAsUser.All",
                    "https://outlook.office.com/SMTP.Send",
                    "offline_access",
                    "openid",
                    "email",
                ]
                .map(str::to_string)
                .to_vec(),
                extra: vec![("prompt".into(), "select_account".into())],
                client_id: chosen(MICROSOFT_CLIENT_ID, "Microsoft")?,
                client_secret: None,
            }),
            OAuthProvider::Google => Ok(Endpoints {
                name: "Google".into(),
                issuer: Some("https://accounts.google.com".into()),
                iss_required: false,
                authorize: "https://accounts.google.com/o/oauth2/v2/auth".into(),
                token: "https://oauth2.googleapis.com/token".into(),
                revocation: Some("https://oauth2.googleapis.com/revoke".into()),
                scopes: ["https://mail.google.com/", "openid", "email"]
                    .map(str::to_string)
                    .to_vec(),
                // A refresh token only comes with offline access, and again only on consent.
                extra: vec![
                    ("access_type".into(), "offline".into()),
                    ("prompt".into(), "consent".into()),
                ],
                client_id: chosen(GOOGLE_CLIENT_ID, "Google")?,
                client_secret: GOOGLE_CLIENT_SECRET.map(str::to_string),
            }),
            OAuthProvider::Oidc { issuer } => {
                let doc = discovery_document(issuer, http).await?;
                Ok(Endpoints {
                    name: issuer.clone(),
                    issuer: Some(doc.issuer),
                    iss_required: doc.authorization_response_iss_parameter_supported,
                    authorize: doc.authorization_endpoint,
                    token: doc.token_endpoint,
                    revocation: doc.revocation_endpoint,
                    scopes: ["openid", "email", "offline_access"]
                        .map(str::to_string)
                        .to_vec(),
                    // OpenID Connect grants offline access only on consent (Core §11).
                    extra: vec![("prompt".into(), "consent".into())],
                    client_id: chosen(None, issuer)?,
                    client_secret: None,
                })
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery §4), whose
/// `issuer` must be the one asked for (§4.3) and whose endpoints must be HTTPS.
async fn discovery_document(issuer: &str, http: &Http) -> Result<DiscoveryDocument, OAuthError> {
    let base = issuer.trim_end_matches('/');
    let url = format!("{base}/.well-known/openid-configuration");
    let fail = |reason: String| OAuthError::Discovery {
        url: url.clone(),
        reason,
    };
    check_endpoint(&url).map_err(fail)?;
    let response = http
        .client
        .get(&url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let body = response.bytes().await.map_err(|e| fail(e.to_string()))?;
    let doc: DiscoveryDocument = serde_json::from_slice(&body)
        .map_err(|e| fail(format!("not a discovery document: {e}")))?;
    if doc.issuer.trim_end_matches('/') != base {
        return Err(fail(format!(
            "it names another issuer ({}): refused",
            doc.issuer
        )));
    }
    for endpoint in [&doc.authorization_endpoint, &doc.token_endpoint]
        .into_iter()
        .chain(doc.revocation_endpoint.as_ref())
    {
        check_endpoint(endpoint).map_err(fail)?;
    }
    Ok(doc)
}
