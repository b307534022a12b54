//! Finding an address's server settings. Sources are asked in order of how much they can
//! be trusted — the bundled provider table, the domain's own autoconfig file (HTTPS, then
//! HTTP), the .well-known location, Mozilla's ISPDB, the settings of the domain's mail
//! exchanger's provider, DNS SRV records, and last probing the usual host names — and the
//! first source that names an incoming server wins. Every step is logged for the connection
//! doctor. No credentials are sent anywhere here.

use crate::autoconfig;
use crate::network::Network;
use crate::probe::{probe, Probe, Service};
use crate::providers;
use petrel_core::{
    CertificateDetails, Discovery, DoctorLine, ProviderNotes, Security, ServerEvidence,
    ServerSettings, SettingsSource, SetupProgress,
};
use std::time::Duration;

/// Delay between the starts of parallel probes (not all at once at a server).
const STAGGER: Duration = Duration::from_millis(250);

struct Run<'a> {
    net: &'a Network,
    email: String,
    domain: String,
    progress: &'a (dyn Fn(SetupProgress) + Send + Sync),
    log: Vec<DoctorLine>,
    untrusted: Vec<CertificateDetails>,
}

impl Run<'_> {
    fn stage(&mut self, stage: &str, trying: &str) {
        (self.progress)(SetupProgress {
            stage: stage.into(),
            trying: trying.into(),
        });
    }

    fn note(&mut self, stage: &str, tried: &str, answer: impl Into<String>) {
        let answer = answer.into();
        tracing::info!(stage, tried, answer = %answer, "setup");
        self.log.push(DoctorLine {
            stage: stage.into(),
            tried: tried.into(),
            answer,
        });
    }

    /// An autoconfig file at `url`, if it names an incoming server. One fetched over plain
    /// HTTP (which anyone on the path can rewrite) is used only when every server it names
    /// is under the address's own domain.
    async fn autoconfig(&mut self, stage: &str, url: &str) -> Option<autoconfig::Found> {
        self.stage(stage, url);
        match self.net.get(url).await {
            Ok(xml) => match autoconfig::parse(&xml, &self.email) {
                Ok(found) if url.starts_with("http://") && !self.all_within_domain(&found) => {
                    self.note(
                        stage,
                        url,
                        format!(
                            "ignored: over plain HTTP it names servers outside {}",
                            self.domain
                        ),
                    );
                    None
                }
                Ok(found) => {
                    self.note(stage, url, "found settings");
                    Some(found)
                }
                Err(e) => {
                    self.note(stage, url, format!("unusable: {e}"));
                    None
                }
            },
            Err(e) => {
                self.note(stage, url, e);
                None
            }
        }
    }

    /// Discovery's answer when nothing was found, with why and the log of what was tried.
    fn nothing(self, email: String, why: String, provider: Option<ProviderNotes>) -> Discovery {
        Discovery {
            email,
            imap: None,
            pop3: None,
            smtp: None,
            source: None,
            source_detail: why,
            authenticated: false,
            confirm_hosts: Vec::new(),
            provider,
            evidence: ServerEvidence::default(),
            untrusted: self.untrusted,
            log: self.log,
        }
    }

    /// The three services probed on `names` (the domain's usual names, or its MX hosts);
    /// sending from `smtp` when a record already named it.
    async fn probe_all(
        &mut self,
        names: Option<Vec<String>>,
        smtp: Option<ServerSettings>,
    ) -> autoconfig::Found {
        let imap = self.probe_one(Service::Imap, &names).await;
        let pop3 = self.probe_one(Service::Pop3, &names).await;
        let smtp = match smtp {
            Some(s) => Some(s),
            None => self.probe_one(Service::Smtp, &names).await,
        };
        autoconfig::Found {
            imap,
            pop3,
            smtp,
            display_name: None,
        }
    }

    async fn probe_one(
        &mut self,
        service: Service,
        names: &Option<Vec<String>>,
    ) -> Option<ServerSettings> {
        match names {
            Some(n) => self.probe_hosts(service, n.clone()).await,
            None => self.probe_service(service).await,
        }
    }

    fn all_within_domain(&self, found: &autoconfig::Found) -> bool {
        [&found.imap, &found.pop3, &found.smtp]
            .into_iter()
            .flatten()
            .all(|s| crate::trust::within(&s.host, &self.domain))
    }

    fn url(&self, scheme: &str, host: &str, path: &str) -> String {
        let (port, default) = if scheme == "https" {
            (self.net.ports.https, 443)
        } else {
            (self.net.ports.http, 80)
        };
        if port == default {
            format!("{scheme}://{host}{path}")
        } else {
            format!("{scheme}://{host}:{port}{path}")
        }
    }

    /// `autoconfig.<domain>`, HTTPS then HTTP.
    async fn autoconfig_host(&mut self, domain: &str) -> Option<(autoconfig::Found, String)> {
        let path = format!(
            "/mail/config-v1.1.xml?emailaddress={}",
            percent_encode(&self.email)
        );
        for scheme in ["https", "http"] {
            let url = self.url(scheme, &format!("autoconfig.{domain}"), &path);
            if let Some(f) = self.autoconfig("autoconfig", &url).await {
                return Some((f, url));
            }
        }
        None
    }

    async fn ispdb(&mut self, domain: &str) -> Option<(autoconfig::Found, String)> {
        let url = format!("{}{domain}", self.net.ispdb);
        self.autoconfig("ISPDB", &url).await.map(|f| (f, url))
    }

    /// The domain's SRV records (RFC 6186), each service on its own: a submission record is
    /// worth having even when no incoming one exists (§3.1). A "." target is "not offered".
    async fn srv(&mut self) -> autoconfig::Found {
        let mut found = autoconfig::Found::default();
        let records = [
            ("_imaps._tcp", Security::Tls, 0),
            ("_imap._tcp", Security::StartTls, 0),
            ("_pop3s._tcp", Security::Tls, 1),
            ("_pop3._tcp", Security::StartTls, 1),
            ("_submissions._tcp", Security::Tls, 2),
            ("_submission._tcp", Security::StartTls, 2),
        ];
        for (label, security, slot) in records {
            let name = format!("{label}.{}", self.domain);
            let taken = match slot {
                0 => found.imap.is_some(),
                1 => found.pop3.is_some(),
                _ => found.smtp.is_some(),
            };
            if taken {
                continue;
            }
            self.stage("DNS SRV", &name);
            match self.net.srv(&name).await {
                Ok(targets) if !targets.is_empty() => {
                    let (host, port) = targets[0].clone();
                    self.note("DNS SRV", &name, format!("{host}:{port}"));
                    let s = Some(ServerSettings {
                        host,
                        port,
                        security,
                        username: self.email.clone(),
                        pinned_cert_sha256: None,
                    });
                    match slot {
                        0 => found.imap = s,
                        1 => found.pop3 = s,
                        _ => found.smtp = s,
                    }
                }
                Ok(_) => self.note("DNS SRV", &name, "not offered"),
                Err(e) => self.note("DNS SRV", &name, e),
            }
        }
        found
    }

    /// Tries the usual host names of one service (implicit TLS first, then STARTTLS),
    /// staggered and in parallel; the first valid one in that order wins. An untrusted
    /// server is kept only when nothing valid answers.
    async fn probe_service(&mut self, service: Service) -> Option<ServerSettings> {
        let d = self.domain.clone();
        let names = match service {
            Service::Imap => vec![format!("imap.{d}"), format!("mail.{d}"), d.clone()],
            Service::Pop3 => vec![
                format!("pop3.{d}"),
                format!("pop.{d}"),
                format!("mail.{d}"),
                d.clone(),
            ],
            Service::Smtp => vec![format!("smtp.{d}"), format!("mail.{d}"), d.clone()],
        };
        self.probe_hosts(service, names).await
    }

    /// Tries `names` for one service on its usual ports (implicit TLS first).
    async fn probe_hosts(
        &mut self,
        service: Service,
        names: Vec<String>,
    ) -> Option<ServerSettings> {
        let p = self.net.ports;
        let ports: [(u16, Security); 2] = match service {
            Service::Imap => [(p.imaps, Security::Tls), (p.imap, Security::StartTls)],
            Service::Pop3 => [(p.pop3s, Security::Tls), (p.pop3, Security::StartTls)],
            Service::Smtp => [
                (p.submissions, Security::Tls),
                (p.submission, Security::StartTls),
            ],
        };
        let mut candidates = Vec::new();
        for (port, security) in ports {
            for host in &names {
                candidates.push((host.clone(), port, security));
            }
        }
        let stage = match service {
            Service::Imap => "probing IMAP",
            Service::Pop3 => "probing POP3",
            Service::Smtp => "probing SMTP",
        };
        self.stage(stage, &names.join(", "));
        let net = self.net;
        let results = futures::future::join_all(candidates.iter().enumerate().map(
            |(i, (host, port, security))| async move {
                tokio::time::sleep(STAGGER * i as u32).await;
                probe(net, service, host, *port, *security).await
            },
        ))
        .await;
        let mut fallback = None;
        let mut chosen = None;
        for ((host, port, security), result) in candidates.into_iter().zip(results) {
            let tried = format!(
                "{host}:{port} ({})",
                if security == Security::Tls {
                    "TLS"
                } else {
                    "STARTTLS"
                }
            );
            let settings = ServerSettings {
                host,
                port,
                security,
                username: self.email.clone(),
                pinned_cert_sha256: None,
            };
            match result {
                Probe::Secure { .. } => {
                    self.note(stage, &tried, "answers, certificate valid");
                    if chosen.is_none() {
                        chosen = Some(settings);
                    }
                }
                Probe::Untrusted {
                    reason,
                    certificate,
                } => {
                    self.note(stage, &tried, format!("answers, but {reason}"));
                    if fallback.is_none() {
                        self.untrusted.push(*certificate.clone());
                        fallback = Some(ServerSettings {
                            pinned_cert_sha256: None,
                            ..settings
                        });
                    }
                }
                Probe::Failed(e) => self.note(stage, &tried, e),
            }
        }
        chosen.or(fallback)
    }

    /// What the found servers say about themselves (no login).
    async fn evidence(&mut self, found: &autoconfig::Found) -> ServerEvidence {
        let mut ev = ServerEvidence::default();
        for (service, settings) in [(Service::Imap, &found.imap), (Service::Pop3, &found.pop3)] {
            let Some(s) = settings else { continue };
            let stage = "checking the server";
            let tried = format!("{}:{}", s.host, s.port);
            self.stage(stage, &tried);
            match probe(self.net, service, &s.host, s.port, s.security).await {
                Probe::Secure { capabilities } => {
                    self.note(
                        stage,
                        &tried,
                        format!("capabilities: {}", capabilities.join(" ")),
                    );
                    match service {
                        Service::Imap => ev.imap_offered = true,
                        _ => {
                            ev.pop3_offered = true;
                            for c in &capabilities {
                                let mut words = c.split_whitespace();
                                match (words.next(), words.next()) {
                                    (Some("EXPIRE"), Some("NEVER")) => {
                                        ev.pop3_expire_days = Some(u32::MAX)
                                    }
                                    (Some("EXPIRE"), Some(n)) => {
                                        ev.pop3_expire_days = n.parse().ok()
                                    }
                                    (Some("LOGIN-DELAY"), Some(n)) => {
                                        ev.pop3_login_delay = n.parse().ok()
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
                Probe::Untrusted {
                    reason,
                    certificate,
                } => {
                    self.note(stage, &tried, format!("answers, but {reason}"));
                    if !self
                        .untrusted
                        .iter()
                        .any(|c| c.sha256 == certificate.sha256)
                    {
                        self.untrusted.push(*certificate);
                    }
                    match service {
                        Service::Imap => ev.imap_offered = true,
                        _ => ev.pop3_offered = true,
                    }
                }
                Probe::Failed(e) => {
                    self.note(stage, &tried, e);
                    match service {
                        Service::Imap => ev.imap_unchecked = true,
                        _ => ev.pop3_unchecked = true,
                    }
                }
            }
        }
        ev
    }
}

/// Finds the settings for `email`, telling `progress` which source is being tried.
pub async fn discover(
    net: &Network,
    email: &str,
    progress: &(dyn Fn(SetupProgress) + Send + Sync),
) -> Discovery {
    let email = email.trim().to_string();
    // An internationalized domain becomes its A-label once (RFC 5891, UTS 46): every DNS
    // query, probe, TLS server name and certificate check below uses that one form.
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| a_label(d.trim().trim_end_matches('.')))
        .unwrap_or_default();
    let mut run = Run {
        net,
        email: email.clone(),
        domain: domain.clone(),
        progress,
        log: Vec::new(),
        untrusted: Vec::new(),
    };
    let mut provider = None;
    // (settings, source, where in words, fetched over HTTPS)
    let mut result: Option<(autoconfig::Found, SettingsSource, String, bool)> = None;

    run.stage("provider table", &domain);
    if let Some(p) = providers::by_domain(&domain) {
        run.note("provider table", &domain, p.name.clone());
        let found = p.found(&email);
        let detail = format!("Petrel's table of mail providers ({})", p.name);
        provider = Some(p.notes());
        result = Some((found, SettingsSource::ProviderTable, detail, true));
    } else {
        run.note("provider table", &domain, "not a listed provider");
    }
    // A domain DNS does not know has no servers to find: say so at once (a typo, usually)
    // instead of waiting out every source.
    if result.is_none() && !domain.is_empty() && net.domain_missing(&domain).await {
        run.note("DNS", &domain, "this domain does not exist");
        return run.nothing(
            email,
            format!("{domain} does not exist: check the address after the @"),
            provider,
        );
    }
    if result.is_none() && !domain.is_empty() {
        if let Some((f, url)) = run.autoconfig_host(&domain).await {
            let https = url.starts_with("https://");
            result = Some((
                f,
                SettingsSource::Autoconfig,
                format!("the provider's autoconfig file at {url}"),
                https,
            ));
        }
    }
    if result.is_none() && !domain.is_empty() {
        let path = "/.well-known/autoconfig/mail/config-v1.1.xml";
        for scheme in ["https", "http"] {
            let url = run.url(scheme, &domain, path);
            if let Some(f) = run.autoconfig("well-known", &url).await {
                result = Some((
                    f,
                    SettingsSource::WellKnown,
                    format!("the domain's autoconfig file at {url}"),
                    scheme == "https",
                ));
                break;
            }
        }
    }
    if result.is_none() && !domain.is_empty() {
        if let Some((f, url)) = run.ispdb(&domain).await {
            let https = url.starts_with("https://");
            result = Some((
                f,
                SettingsSource::Ispdb,
                format!("Mozilla's database of mail providers ({url})"),
                https,
            ));
        }
    }
    let mut mx_hosts: Vec<String> = Vec::new();
    if result.is_none() && !domain.is_empty() {
        run.stage("mail exchanger", &domain);
        match net.mx(&domain).await {
            Ok(mx) if !mx.is_empty() => {
                mx_hosts = mx.clone();
                let host = mx[0].clone();
                let base = base_domain(&host);
                run.note(
                    "mail exchanger",
                    &domain,
                    format!("{host} (provider domain {base})"),
                );
                if base != domain {
                    if let Some(p) = providers::by_mx(&base) {
                        let found = p.found(&email);
                        let detail = format!("mail for {domain} is handled by {host}: {}", p.name);
                        provider = Some(p.notes());
                        result = Some((found, SettingsSource::MxDomain, detail, false));
                    } else if let Some((f, url)) = run.autoconfig_host(&base).await {
                        result = Some((f, SettingsSource::MxDomain, format!("mail for {domain} is handled by {host}: the autoconfig file at {url}"), false));
                    } else if let Some((f, url)) = run.ispdb(&base).await {
                        result = Some((f, SettingsSource::MxDomain, format!("mail for {domain} is handled by {host}: Mozilla's database ({url})"), false));
                    }
                }
            }
            Ok(_) => run.note("mail exchanger", &domain, "no MX record"),
            Err(e) => run.note("mail exchanger", &domain, e),
        }
    }
    let mut srv_smtp = None;
    if result.is_none() && !domain.is_empty() {
        let f = run.srv().await;
        if f.has_incoming() {
            result = Some((
                f,
                SettingsSource::Srv,
                format!("the DNS service records of {domain} (RFC 6186)"),
                false,
            ));
        } else {
            // Sending from its own record; incoming still to find.
            srv_smtp = f.smtp;
        }
    }
    if result.is_none() && !domain.is_empty() {
        let found = run.probe_all(None, srv_smtp.take()).await;
        if found.has_incoming() {
            result = Some((
                found,
                SettingsSource::Probe,
                format!("servers of {domain} that answered on the usual ports"),
                true,
            ));
        }
    }
    // The last guess: nothing under the address's domain answered, so the hosts its MX
    // records name are asked (implicit TLS first). They are another domain's: what they
    // offer is a foreign host the user confirms by name before any password goes there.
    if result.is_none() && !mx_hosts.is_empty() {
        mx_hosts.truncate(2);
        let found = run.probe_all(Some(mx_hosts.clone()), None).await;
        if found.has_incoming() {
            result = Some((
                found,
                SettingsSource::MxDomain,
                format!(
                    "the mail exchanger of {domain} ({}), which answered on the usual ports",
                    mx_hosts.join(", ")
                ),
                false,
            ));
        }
    }
    let Some((found, source, detail, https)) = result else {
        return run.nothing(
            email,
            "nothing found: type the settings your provider gives".into(),
            provider,
        );
    };
    let authenticated = crate::trust::authenticated(source, https);
    let confirm_hosts = crate::trust::hosts_to_confirm(
        &email,
        [&found.imap, &found.pop3, &found.smtp]
            .into_iter()
            .flatten(),
        authenticated,
    );
    run.note(
        "trust",
        &detail,
        match (authenticated, confirm_hosts.is_empty()) {
            (true, true) => "authenticated source; servers under the address's or provider's domain".to_string(),
            (true, false) => format!("authenticated source; to confirm before any password: {}", confirm_hosts.join(", ")),
            (false, _) => format!(
                "not authenticated (plain HTTP, MX or DNS without DNSSEC); to confirm before any password: {}",
                if confirm_hosts.is_empty() { "none (all under the address's domain)".to_string() } else { confirm_hosts.join(", ") }
            ),
        },
    );
    // Only a server that will be used is asked about its certificate: one that lost to a
    // valid server (the bare domain beside imap.<domain>) raises no question.
    let evidence = run.evidence(&found).await;
    let chosen: Vec<String> = [&found.imap, &found.pop3, &found.smtp]
        .into_iter()
        .flatten()
        .map(|s| s.host.to_ascii_lowercase())
        .collect();
    run.untrusted
        .retain(|c| chosen.contains(&c.host.to_ascii_lowercase()));
    Discovery {
        email,
        imap: found.imap,
        pop3: found.pop3,
        smtp: found.smtp,
        source: Some(source),
        source_detail: detail,
        authenticated,
        confirm_hosts,
        provider,
        evidence,
        untrusted: run.untrusted,
        log: run.log,
    }
}

/// Percent-encoding of a query value (RFC 3986: only unreserved characters stay), so an
/// address with `+`, `%`, `&` or non-ASCII letters arrives as typed (review L10).
/// A domain as DNS and TLS want it: the A-label form ("bücher.example" →
/// "xn--bcher-kva.example"), lower case. A name IDNA refuses is kept as typed, lower-cased
/// (its lookups then fail with the resolver's words).
pub fn a_label(domain: &str) -> String {
    idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase())
}

pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The registrable domain of a host, good enough for mail exchangers: the last two labels,
/// or three under a two-letter country code's second level (mx.example.co.uk → example.co.uk).
pub fn base_domain(host: &str) -> String {
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    if n <= 2 {
        return labels.join(".").to_ascii_lowercase();
    }
    let second = labels[n - 2];
    let take = if labels[n - 1].len() == 2
        && ["co", "com", "net", "org", "ac", "gov", "ne", "or"].contains(&second)
    {
        3
    } else {
        2
    };
    labels[n - take.min(n)..].join(".").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn unicode_domains_become_a_labels_once() {
        assert_eq!(super::a_label("Bücher.Example"), "xn--bcher-kva.example");
        assert_eq!(super::a_label("EXAMPLE.org"), "example.org");
        assert_eq!(
            super::a_label("xn--bcher-kva.example"),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn addresses_are_percent_encoded_in_queries() {
        assert_eq!(super::percent_encode("a+b@x.org"), "a%2Bb%40x.org");
        assert_eq!(super::percent_encode("ü&x=1%"), "%C3%BC%26x%3D1%25");
    }

    #[test]
    fn base_domains_of_mail_exchangers() {
        assert_eq!(super::base_domain("aspmx.l.google.com."), "google.com");
        assert_eq!(
            super::base_domain("mx1.mail.example.co.uk"),
            "example.co.uk"
        );
        assert_eq!(super::base_domain("example.org"), "example.org");
    }
}
