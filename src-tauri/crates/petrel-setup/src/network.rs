//! The network as discovery sees it: a DNS resolver (hickory), an HTTP(S) client (reqwest
//! over rustls with Petrel's trust), and the ports of the standard services. All three are
//! injectable, so tests point them at a DNS server, a web server and the Dovecot harness on
//! loopback.

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::TokioResolver;
use petrel_tls::TrustPolicy;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The ports discovery uses for each service; the standard ones unless a test moves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortPlan {
    pub http: u16,
    pub https: u16,
    pub imaps: u16,
    pub imap: u16,
    pub pop3s: u16,
    pub pop3: u16,
    pub submissions: u16,
    pub submission: u16,
}

impl Default for PortPlan {
    fn default() -> Self {
        PortPlan {
            http: 80,
            https: 443,
            imaps: 993,
            imap: 143,
            pop3s: 995,
            pop3: 110,
            submissions: 465,
            submission: 587,
        }
    }
}

/// Mozilla's database of mail providers' settings.
pub const ISPDB: &str = "https://autoconfig.thunderbird.net/v1.1/";

#[derive(Clone)]
pub struct Network {
    resolver: TokioResolver,
    http: reqwest::Client,
    pub trust: TrustPolicy,
    pub ports: PortPlan,
    /// Base URL of the ISPDB (the domain is appended).
    pub ispdb: String,
    /// Longest wait for one probe or one fetch.
    pub timeout: Duration,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("ports", &self.ports)
            .field("ispdb", &self.ispdb)
            .finish_non_exhaustive()
    }
}

/// Lets reqwest resolve host names through the same resolver as everything else.
struct Hickory(TokioResolver);

impl reqwest::dns::Resolve for Hickory {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        Box::pin(async move {
            let ips = resolver.lookup_ip(name.as_str()).await?;
            let addrs: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Network {
    /// The system's resolver and the standard ports.
    pub fn system(trust: TrustPolicy) -> Result<Network, String> {
        let resolver = TokioResolver::builder_tokio()
            .map_err(|e| format!("the system's DNS settings: {e}"))?
            .build();
        Network::with_resolver(resolver, trust, PortPlan::default(), ISPDB.to_string())
    }

    /// A resolver asking only the DNS server at `server` (tests: one on loopback).
    pub fn with_nameserver(
        server: SocketAddr,
        trust: TrustPolicy,
        ports: PortPlan,
        ispdb: String,
    ) -> Result<Network, String> {
        let group = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, vec![], group);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default());
        builder.options_mut().timeout = Duration::from_secs(2);
        builder.options_mut().attempts = 1;
        // Loopback answers are what the tests serve.
        builder.options_mut().cache_size = 0;
        Network::with_resolver(builder.build(), trust, ports, ispdb)
    }

    fn with_resolver(
        resolver: TokioResolver,
        trust: TrustPolicy,
        ports: PortPlan,
        ispdb: String,
    ) -> Result<Network, String> {
        let tls = petrel_tls::client_config(&trust)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .dns_resolver(Arc::new(Hickory(resolver.clone())))
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(10))
            .redirect(same_host_https_only())
            .user_agent("Petrel setup")
            .build()
            .map_err(|e| format!("the HTTP client: {e}"))?;
        Ok(Network {
            resolver,
            http,
            trust,
            ports,
            ispdb,
            timeout: Duration::from_secs(10),
        })
    }

    /// Mail exchangers of `domain`, most preferred first.
    pub async fn mx(&self, domain: &str) -> Result<Vec<String>, String> {
        let found = self
            .resolver
            .mx_lookup(format!("{domain}."))
            .await
            .map_err(|e| e.to_string())?;
        let mut mx: Vec<(u16, String)> = found
            .iter()
            .map(|m| {
                (
                    m.preference(),
                    m.exchange().to_utf8().trim_end_matches('.').to_string(),
                )
            })
            .collect();
        mx.sort();
        Ok(mx.into_iter().map(|(_, h)| h).collect())
    }

    /// SRV targets of `name` (e.g. `_imaps._tcp.example.org`), best first; a target of "."
    /// means "not offered" (RFC 2782) and is left out.
    pub async fn srv(&self, name: &str) -> Result<Vec<(String, u16)>, String> {
        let found = self
            .resolver
            .srv_lookup(format!("{name}."))
            .await
            .map_err(|e| e.to_string())?;
        let mut srv: Vec<(u16, std::cmp::Reverse<u16>, String, u16)> = found
            .iter()
            .map(|s| {
                (
                    s.priority(),
                    std::cmp::Reverse(s.weight()),
                    s.target().to_utf8().trim_end_matches('.').to_string(),
                    s.port(),
                )
            })
            .filter(|(_, _, target, _)| !target.is_empty())
            .collect();
        srv.sort();
        Ok(srv.into_iter().map(|(_, _, h, p)| (h, p)).collect())
    }

    /// Whether DNS says `domain` does not exist at all (NXDOMAIN): then no name under it
    /// exists either (RFC 8020), so nothing there can be asked. A name that exists without
    /// an address (only MX, say) is not missing.
    pub async fn domain_missing(&self, domain: &str) -> bool {
        match self.resolver.lookup_ip(format!("{domain}.")).await {
            Err(e) => e.is_nx_domain(),
            Ok(_) => false,
        }
    }

    /// Addresses of `host` (an IP address is its own answer).
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let found = self
            .resolver
            .lookup_ip(host)
            .await
            .map_err(|e| e.to_string())?;
        Ok(found.iter().collect())
    }

    /// The body of `url` when it answers 200 (at most 1 MiB).
    pub async fn get(&self, url: &str) -> Result<String, String> {
        let response = self.http.get(url).send().await.map_err(describe)?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        if response.content_length().is_some_and(|n| n > 1 << 20) {
            return Err("the answer is too large".into());
        }
        let bytes = response.bytes().await.map_err(describe)?;
        if bytes.len() > 1 << 20 {
            return Err("the answer is too large".into());
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// reqwest's error chain in one line (the innermost cause says the most).
fn describe(e: reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// Redirects are followed (at most 3) only to the same host, and never from https down to
/// http: a redirect must not move the settings to a host or a channel the address's domain
/// did not choose (review H3).
fn same_host_https_only() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(previous) = attempt.previous().last() else {
            return attempt.stop();
        };
        let (from_scheme, from_host) = (
            previous.scheme().to_string(),
            previous.host_str().map(str::to_ascii_lowercase),
        );
        let next = attempt.url();
        let downgrade = from_scheme == "https" && next.scheme() != "https";
        let moved = next.host_str().map(str::to_ascii_lowercase) != from_host;
        if attempt.previous().len() > 3 {
            attempt.error("too many redirects")
        } else if downgrade {
            attempt.error("refused a redirect from https to plain http")
        } else if moved {
            attempt.error("refused a redirect to another host")
        } else {
            attempt.follow()
        }
    })
}
