//! Finding an address's server settings. Sources are ranked by how much they can be
//! trusted — the bundled provider table, the domain's own autoconfig file (HTTPS, then
//! HTTP), the .well-known location, Mozilla's ISPDB, the settings of the domain's mail
//! exchanger's provider, DNS SRV records, probing the usual host names, and last probing
//! the mail exchanger itself — and the best source that names an incoming server wins.
//!
//! After the provider table, the sources run side by side under one deadline, so a domain
//! whose hosts accept connections and never answer costs one timeout, not one per source
//! (issue 15: the whole discovery answers within 30 s). A source's answer is taken as soon
//! as every better source has finished; a probe, which knocks on many doors, waits until
//! every better source has finished or its head start has passed (2 s for the domain's
//! usual hosts, 8 s for the mail exchanger, the last guess). Every step is logged for the
//! connection doctor. No credentials are sent anywhere here.

use crate::autoconfig;
use crate::network::Network;
use crate::probe::{probe, Probe, Service};
use crate::providers;
use futures::StreamExt;
use petrel_core::{
    CertificateDetails, Discovery, DoctorLine, HostName, ProviderNotes, Security, ServerEvidence,
    ServerSettings, SettingsSource, SetupProgress, StageState,
};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Delay between the starts of parallel probes (not all at once at a server).
const STAGGER: Duration = Duration::from_millis(250);

/// How long probing waits for the look-ups (files, DNS) before knocking on the usual
/// hosts anyway: most domains that publish settings answer well within it, and then no
/// probe is sent at all.
const PROBE_HEAD_START: Duration = Duration::from_secs(2);

/// How long the mail exchanger waits for the domain's own hosts before it is probed
/// anyway (it is the last guess, but a black-hole domain must not push it past the
/// deadline: 8 s + 4 staggered probes of 10 s end before [`SOURCES_DEADLINE`]).
const MX_PROBE_HEAD_START: Duration = Duration::from_secs(8);

/// When the sources stop: what has answered by then is used. Leaves the check of the
/// chosen servers the rest of [`WHOLE`].
const SOURCES_DEADLINE: Duration = Duration::from_secs(22);

/// The whole discovery, the servers' check included (issue 15: within 30 s).
const WHOLE: Duration = Duration::from_secs(28);

const MX_PROBE_STAGE: &str = "probing the mail exchanger";

/// The sources that run side by side, best first: when several answer, the earliest in
/// this order wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Autoconfig,
    WellKnown,
    Ispdb,
    MxProvider,
    Srv,
    Probe,
    MxProbe,
}

impl Source {
    const ORDER: [Source; 7] = [
        Source::Autoconfig,
        Source::WellKnown,
        Source::Ispdb,
        Source::MxProvider,
        Source::Srv,
        Source::Probe,
        Source::MxProbe,
    ];

    /// A look-up (files and DNS) rather than a probe.
    fn is_lookup(self) -> bool {
        !matches!(self, Source::Probe | Source::MxProbe)
    }

    /// How long a probe waits for every better source to finish before it starts anyway.
    fn head_start(self) -> Duration {
        match self {
            Source::Probe => PROBE_HEAD_START,
            Source::MxProbe => MX_PROBE_HEAD_START,
            _ => Duration::ZERO,
        }
    }

    /// The wizard's stages this source reports under.
    fn stages(self) -> &'static [&'static str] {
        match self {
            Source::Autoconfig => &["autoconfig"],
            Source::WellKnown => &["well-known"],
            Source::Ispdb => &["ISPDB"],
            Source::MxProvider => &["mail exchanger"],
            Source::Srv => &["DNS SRV"],
            Source::Probe => &["probing IMAP", "probing POP3", "probing SMTP"],
            Source::MxProbe => &[MX_PROBE_STAGE],
        }
    }
}

/// What one source found, and how it is described and trusted.
struct Outcome {
    found: autoconfig::Found,
    source: SettingsSource,
    detail: String,
    /// Fetched over HTTPS (or TLS-verified probes).
    https: bool,
    provider: Option<ProviderNotes>,
}

/// Where the race stands: wait for a better source, this one won, or none found anything.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Wait,
    Winner(usize),
    Nothing,
}

/// The best source that found an incoming server. With `wait_for_better`, a finished
/// source wins only once every source before it has finished (best source wins, not the
/// fastest); without (time is up), the best of those that finished.
fn decide(outcomes: &[Option<Option<Outcome>>], wait_for_better: bool) -> Decision {
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            None if wait_for_better => return Decision::Wait,
            Some(Some(o)) if o.found.has_incoming() => return Decision::Winner(i),
            _ => {}
        }
    }
    Decision::Nothing
}

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
        self.tell(stage, trying, StageState::Trying);
    }

    fn tell(&self, stage: &str, trying: &str, state: StageState) {
        (self.progress)(SetupProgress {
            stage: stage.into(),
            trying: trying.into(),
            state,
        });
    }

    fn finished(&self, stage: &str, found: bool) {
        let state = if found {
            StageState::Found
        } else {
            StageState::Nothing
        };
        self.tell(stage, "", state);
    }

    /// A run of its own for one source: its log and certificates are merged back in the
    /// sources' order, whatever order they finished in.
    fn fork(&self) -> Self {
        Run {
            net: self.net,
            email: self.email.clone(),
            domain: self.domain.clone(),
            progress: self.progress,
            log: Vec::new(),
            untrusted: Vec::new(),
        }
    }

    fn absorb(&mut self, other: Run) {
        self.log.extend(other.log);
        for c in other.untrusted {
            if !self
                .untrusted
                .iter()
                .any(|u| u.sha256 == c.sha256 && u.host == c.host)
            {
                self.untrusted.push(c);
            }
        }
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
            unicode_hosts: unicode_hosts(&self.domain, &autoconfig::Found::default()),
            untrusted: self.untrusted,
            log: self.log,
        }
    }

    /// The three services probed side by side on `names` (the domain's usual names when
    /// None, or its MX hosts).
    async fn probe_all(&mut self, names: Option<Vec<String>>) -> autoconfig::Found {
        let (mut a, mut b, mut c) = (self.fork(), self.fork(), self.fork());
        let (imap, pop3, smtp) = tokio::join!(
            a.probe_one(Service::Imap, &names),
            b.probe_one(Service::Pop3, &names),
            c.probe_one(Service::Smtp, &names),
        );
        for run in [a, b, c] {
            self.absorb(run);
        }
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
            Some(n) => self.probe_hosts(service, n.clone(), MX_PROBE_STAGE).await,
            None => {
                let stage = match service {
                    Service::Imap => "probing IMAP",
                    Service::Pop3 => "probing POP3",
                    Service::Smtp => "probing SMTP",
                };
                let found = self
                    .probe_hosts(service, self.usual_names(service), stage)
                    .await;
                self.finished(stage, found.is_some());
                found
            }
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

    /// The usual host names of one service under the address's domain, most likely first.
    fn usual_names(&self, service: Service) -> Vec<String> {
        let d = &self.domain;
        match service {
            Service::Imap => vec![format!("imap.{d}"), format!("mail.{d}"), d.clone()],
            Service::Pop3 => vec![
                format!("pop3.{d}"),
                format!("pop.{d}"),
                format!("mail.{d}"),
                d.clone(),
            ],
            Service::Smtp => vec![format!("smtp.{d}"), format!("mail.{d}"), d.clone()],
        }
    }

    /// Tries `names` for one service on its usual ports (implicit TLS first), staggered
    /// and in parallel; the first valid one in that order wins. An untrusted server is
    /// kept only when nothing valid answers.
    async fn probe_hosts(
        &mut self,
        service: Service,
        names: Vec<String>,
        stage: &str,
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
        self.stage(stage, &names.join(", "));
        let net = self.net;
        let mut results: Vec<Option<Probe>> = candidates.iter().map(|_| None).collect();
        {
            let mut running: futures::stream::FuturesUnordered<_> = candidates
                .iter()
                .enumerate()
                .map(|(i, (host, port, security))| async move {
                    tokio::time::sleep(STAGGER * i as u32).await;
                    (i, probe(net, service, host, *port, *security).await)
                })
                .collect();
            // Done once a valid server answered and every better candidate has finished:
            // a host that never answers (a firewall dropping port 993 of the bare domain)
            // does not hold up the one that did.
            while let Some((i, result)) = running.next().await {
                results[i] = Some(result);
                let settled = results
                    .iter()
                    .map_while(|r| r.as_ref())
                    .any(|r| matches!(r, Probe::Secure { .. }));
                if settled {
                    break;
                }
            }
        }
        let mut fallback = None;
        let mut chosen = None;
        for ((host, port, security), result) in candidates.into_iter().zip(results) {
            let Some(result) = result else {
                continue;
            };
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

    /// What the found servers say about themselves (no login). Both are asked at once, and
    /// only until `deadline`.
    async fn evidence(&mut self, found: &autoconfig::Found, deadline: Instant) -> ServerEvidence {
        let stage = "checking the server";
        let net = self.net;
        let ask = |service: Service, settings: &Option<ServerSettings>| {
            let settings = settings.clone();
            async move {
                let s = settings?;
                let answer = tokio::time::timeout_at(
                    deadline,
                    probe(net, service, &s.host, s.port, s.security),
                )
                .await
                .unwrap_or_else(|_| {
                    Probe::Failed("no answer before discovery's time ran out".into())
                });
                Some((service, s, answer))
            }
        };
        let shown: Vec<String> = [&found.imap, &found.pop3]
            .into_iter()
            .flatten()
            .map(|s| format!("{}:{}", s.host, s.port))
            .collect();
        self.stage(stage, &shown.join(", "));
        let (imap, pop3) = tokio::join!(
            ask(Service::Imap, &found.imap),
            ask(Service::Pop3, &found.pop3)
        );
        let mut ev = ServerEvidence::default();
        for (service, s, answer) in [imap, pop3].into_iter().flatten() {
            let tried = format!("{}:{}", s.host, s.port);
            match answer {
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
        self.finished(stage, ev.imap_offered || ev.pop3_offered);
        ev
    }

    /// A probe's wait: until every better source has finished (`finished` holds a flag
    /// per source, in order), or its head start from `started` has passed.
    async fn head_start(
        source: Source,
        started: Instant,
        mut finished: watch::Receiver<Vec<bool>>,
    ) {
        let Some(me) = Source::ORDER.iter().position(|s| *s == source) else {
            return;
        };
        let better_done = finished.wait_for(|f| f.iter().take(me).all(|d| *d));
        let _ = tokio::time::timeout_at(started + source.head_start(), better_done).await;
    }

    /// One source, start to end; probes first give better sources their head start.
    async fn source(
        &mut self,
        source: Source,
        started: Instant,
        finished: watch::Receiver<Vec<bool>>,
    ) -> Option<Outcome> {
        let domain = self.domain.clone();
        let outcome = match source {
            Source::Autoconfig => self
                .autoconfig_host(&domain)
                .await
                .map(|(found, url)| Outcome {
                    found,
                    source: SettingsSource::Autoconfig,
                    detail: format!("the provider's autoconfig file at {url}"),
                    https: url.starts_with("https://"),
                    provider: None,
                }),
            Source::WellKnown => {
                let path = "/.well-known/autoconfig/mail/config-v1.1.xml";
                let mut outcome = None;
                for scheme in ["https", "http"] {
                    let url = self.url(scheme, &domain, path);
                    if let Some(found) = self.autoconfig("well-known", &url).await {
                        outcome = Some(Outcome {
                            found,
                            source: SettingsSource::WellKnown,
                            detail: format!("the domain's autoconfig file at {url}"),
                            https: scheme == "https",
                            provider: None,
                        });
                        break;
                    }
                }
                outcome
            }
            Source::Ispdb => self.ispdb(&domain).await.map(|(found, url)| Outcome {
                found,
                source: SettingsSource::Ispdb,
                detail: format!("Mozilla's database of mail providers ({url})"),
                https: url.starts_with("https://"),
                provider: None,
            }),
            Source::MxProvider => self.mx_provider().await,
            // Kept even with no incoming server: its sending record is used with probing's
            // answer (RFC 6186 §3.1).
            Source::Srv => Some(Outcome {
                found: self.srv().await,
                source: SettingsSource::Srv,
                detail: format!("the DNS service records of {domain} (RFC 6186)"),
                https: false,
                provider: None,
            }),
            Source::Probe => {
                Self::head_start(source, started, finished).await;
                Some(Outcome {
                    found: self.probe_all(None).await,
                    source: SettingsSource::Probe,
                    detail: format!("servers of {domain} that answered on the usual ports"),
                    https: true,
                    provider: None,
                })
            }
            // The last guess: the hosts the MX records name (implicit TLS first). They are
            // another domain's: what they offer is a foreign host the user confirms by name
            // before any password goes there.
            Source::MxProbe => {
                let mut hosts = self.net.mx(&domain).await.unwrap_or_default();
                hosts.truncate(2);
                if hosts.is_empty() {
                    None
                } else {
                    Self::head_start(source, started, finished).await;
                    let found = self.probe_all(Some(hosts.clone())).await;
                    self.finished(MX_PROBE_STAGE, found.has_incoming());
                    Some(Outcome {
                        found,
                        source: SettingsSource::MxDomain,
                        detail: format!(
                            "the mail exchanger of {domain} ({}), which answered on the usual ports",
                            hosts.join(", ")
                        ),
                        https: false,
                        provider: None,
                    })
                }
            }
        };
        if source.is_lookup() {
            let found = outcome.as_ref().is_some_and(|o| o.found.has_incoming());
            for stage in source.stages() {
                self.finished(stage, found);
            }
        }
        outcome
    }

    /// The settings of the provider that handles the domain's mail, when its MX records
    /// name another domain: the provider table, then that domain's autoconfig and ISPDB.
    async fn mx_provider(&mut self) -> Option<Outcome> {
        let domain = self.domain.clone();
        self.stage("mail exchanger", &domain);
        let mx = match self.net.mx(&domain).await {
            Ok(mx) if !mx.is_empty() => mx,
            Ok(_) => {
                self.note("mail exchanger", &domain, "no MX record");
                return None;
            }
            Err(e) => {
                self.note("mail exchanger", &domain, e);
                return None;
            }
        };
        let host = mx[0].clone();
        let base = base_domain(&host);
        self.note(
            "mail exchanger",
            &domain,
            format!("{host} (provider domain {base})"),
        );
        if base == domain {
            return None;
        }
        let handled = format!("mail for {domain} is handled by {host}");
        let (found, detail, provider) = if let Some(p) = providers::by_mx(&base) {
            (
                p.found(&self.email),
                format!("{handled}: {}", p.name),
                Some(p.notes()),
            )
        } else if let Some((f, url)) = self.autoconfig_host(&base).await {
            (f, format!("{handled}: the autoconfig file at {url}"), None)
        } else {
            let (f, url) = self.ispdb(&base).await?;
            (f, format!("{handled}: Mozilla's database ({url})"), None)
        };
        Some(Outcome {
            found,
            source: SettingsSource::MxDomain,
            detail,
            https: false,
            provider,
        })
    }

    /// Every source side by side until the best one that found an incoming server is
    /// known, or `deadline` passes (then the best of those that finished). The sources'
    /// logs are merged in their order; one that did not finish says why.
    async fn race(&mut self, deadline: Instant) -> Option<Outcome> {
        let mut forks: Vec<Run> = Source::ORDER.iter().map(|_| self.fork()).collect();
        let mut outcomes: Vec<Option<Option<Outcome>>> =
            Source::ORDER.iter().map(|_| None).collect();
        let started = Instant::now();
        let (tell_finished, finished) = watch::channel(vec![false; Source::ORDER.len()]);
        let mut decision = Decision::Wait;
        {
            let mut running: futures::stream::FuturesUnordered<_> = forks
                .iter_mut()
                .zip(Source::ORDER)
                .enumerate()
                .map(|(i, (run, source))| {
                    let finished = finished.clone();
                    async move { (i, run.source(source, started, finished).await) }
                })
                .collect();
            while decision == Decision::Wait {
                match tokio::time::timeout_at(deadline, running.next()).await {
                    Ok(Some((i, outcome))) => {
                        outcomes[i] = Some(outcome);
                        tell_finished.send_modify(|f| f[i] = true);
                        decision = decide(&outcomes, true);
                    }
                    // Time is up (or, impossibly, nothing is left running).
                    Ok(None) | Err(_) => {
                        decision = decide(&outcomes, false);
                        if decision == Decision::Wait {
                            decision = Decision::Nothing;
                        }
                    }
                }
            }
        }
        let winner = match decision {
            Decision::Winner(i) => Some(i),
            _ => None,
        };
        let why_stopped = match winner {
            Some(i) => format!(
                "stopped: {} answered first",
                Source::ORDER[i]
                    .stages()
                    .first()
                    .copied()
                    .unwrap_or("a better source")
            ),
            None => format!(
                "no answer within {} s: given up",
                SOURCES_DEADLINE.as_secs()
            ),
        };
        for (i, mut fork) in forks.into_iter().enumerate() {
            if outcomes[i].is_none() {
                for stage in Source::ORDER[i].stages() {
                    fork.note(stage, "", why_stopped.clone());
                    fork.tell(stage, "", StageState::Stopped);
                }
            }
            self.absorb(fork);
        }
        let srv_smtp = Source::ORDER
            .iter()
            .position(|s| *s == Source::Srv)
            .and_then(|i| outcomes[i].as_ref())
            .and_then(|o| o.as_ref())
            .and_then(|o| o.found.smtp.clone());
        let mut outcome = outcomes.get_mut(winner?)?.take().flatten()?;
        // A sending record of the domain's own beats a guessed sending server.
        if matches!(Source::ORDER[winner?], Source::Probe | Source::MxProbe) {
            if let Some(smtp) = srv_smtp {
                outcome.found.smtp = Some(smtp);
            }
        }
        Some(outcome)
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
        .map(|(_, d)| petrel_core::a_label(d.trim().trim_end_matches('.')))
        .unwrap_or_default();
    let mut run = Run {
        net,
        email: email.clone(),
        domain: domain.clone(),
        progress,
        log: Vec::new(),
        untrusted: Vec::new(),
    };
    let started = Instant::now();
    let mut provider = None;
    run.stage("provider table", &domain);
    let mut result = None;
    if let Some(p) = providers::by_domain(&domain) {
        run.note("provider table", &domain, p.name.clone());
        result = Some(Outcome {
            found: p.found(&email),
            source: SettingsSource::ProviderTable,
            detail: format!("Petrel's table of mail providers ({})", p.name),
            https: true,
            provider: Some(p.notes()),
        });
    } else {
        run.note("provider table", &domain, "not a listed provider");
    }
    run.finished("provider table", result.is_some());
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
        result = run.race(started + SOURCES_DEADLINE).await;
    }
    let Some(Outcome {
        found,
        source,
        detail,
        https,
        provider: found_provider,
    }) = result
    else {
        return run.nothing(
            email,
            "nothing found: type the settings your provider gives".into(),
            provider,
        );
    };
    provider = found_provider.or(provider);
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
    let evidence = run.evidence(&found, started + WHOLE).await;
    let unicode_hosts = unicode_hosts(&domain, &found);
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
        unicode_hosts,
        untrusted: run.untrusted,
        log: run.log,
    }
}

/// The address's domain and the found hosts whose Unicode form differs from the A-label
/// they are stored in.
fn unicode_hosts(domain: &str, found: &autoconfig::Found) -> Vec<HostName> {
    let hosts = [&found.imap, &found.pop3, &found.smtp]
        .into_iter()
        .flatten()
        .map(|s| s.host.as_str());
    let mut names: Vec<HostName> = Vec::new();
    for host in std::iter::once(domain).chain(hosts) {
        let (unicode, errors) = idna::domain_to_unicode(host);
        if errors.is_ok() && unicode != host && !names.iter().any(|n| n.ascii == host) {
            names.push(HostName {
                ascii: host.to_string(),
                unicode,
            });
        }
    }
    names
}

/// Percent-encoding of a query value (RFC 3986: only unreserved characters stay), so an
/// address with `+`, `%`, `&` or non-ASCII letters arrives as typed (review L10).
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
