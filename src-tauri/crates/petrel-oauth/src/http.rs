//! The HTTP client sign-in uses: Petrel's rustls with Petrel's trust, no redirects (an
//! OAuth endpoint that redirects is refused, RFC 6749 §3.2 / SSRF), and plain HTTP only
//! to loopback (a test provider or a local development server).

use crate::OAuthError;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Http {
    pub(crate) client: reqwest::Client,
}

impl Http {
    pub fn new(trust: &petrel_tls::TrustPolicy) -> Result<Http, OAuthError> {
        let tls = petrel_tls::client_config(trust).map_err(OAuthError::Network)?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            // Token requests are minutes apart: a pooled connection the server has closed
            // meanwhile (Node closes idle ones after 5 s) would fail the next request.
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .user_agent("Petrel")
            .build()
            .map_err(|e| OAuthError::Network(e.to_string()))?;
        Ok(Http { client })
    }
}

/// An endpoint must be HTTPS, or HTTP on loopback.
pub(crate) fn check_endpoint(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(parsed.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || parsed.host_str() == Some("localhost");
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(format!("{url} is not an HTTPS address")),
    }
}
