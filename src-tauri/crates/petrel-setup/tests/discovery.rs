//! Discovery against real servers on loopback: dnsmasq (Debian's DNS server) serving A, MX
//! and SRV records, a small web server serving autoconfig files over HTTPS and HTTP, and
//! the Dovecot harness answering probes. One scenario per source, plus the failures each
//! source must survive (broken XML, HTTPS refused, untrusted certificates, one protocol).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, SettingsSource};
use petrel_setup::{discover, Network, PortPlan};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// dnsmasq on a loopback port with the given records; killed on drop.
struct Dns {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_dns(records: &[String]) -> Dns {
    let port = free_udp_port();
    let child = Command::new("dnsmasq")
        .args([
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--conf-file=/dev/null",
            "--pid-file",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--log-facility=-",
        ])
        .arg(format!("--port={port}"))
        .args(records)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq (scripts/install-deps.sh test installs dnsmasq-base)");
    Dns {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    }
}

/// (host, path) → body; anything else is 404.
type Routes = Arc<HashMap<(String, String), String>>;

async fn serve(stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin, routes: Routes) {
    let mut stream = stream;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let path = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_string();
    let host = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("host: ")
                .or_else(|| l.strip_prefix("Host: "))
        })
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let mut body = routes.get(&(host, path)).cloned();
    // "SLOW <seconds> <body>": a source that answers, but late.
    if let Some(rest) = body.as_deref().and_then(|b| b.strip_prefix("SLOW ")) {
        let (secs, rest) = rest.split_once(' ').unwrap();
        tokio::time::sleep(Duration::from_secs(secs.parse().unwrap())).await;
        body = Some(rest.to_string());
    }
    let reply = match body {
        Some(body) if body.starts_with("REDIRECT ") => format!(
            "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            &body["REDIRECT ".len()..]
        ),
        Some(body) => format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()),
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    };
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A web server on two loopback ports (HTTP, HTTPS with a certificate for `names`).
struct Web {
    http: u16,
    https: u16,
    ca_pem: String,
}

async fn start_web(routes: Routes, names: &[&str]) -> Web {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf_cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let https = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let web = Web {
        http: http.local_addr().unwrap().port(),
        https: https.local_addr().unwrap().port(),
        ca_pem: ca_cert.pem(),
    };
    let r = routes.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = http.accept().await {
            tokio::spawn(serve(s, r.clone()));
        }
    });
    tokio::spawn(async move {
        while let Ok((s, _)) = https.accept().await {
            let (acceptor, routes) = (acceptor.clone(), routes.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(s).await {
                    serve(tls, routes).await;
                }
            });
        }
    });
    web
}

/// Every port on `ip` accepts connections and never says a word (a black hole).
async fn start_black_hole(ip: [u8; 4], ports: &[u16]) {
    for port in ports {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((ip, *port)))
            .await
            .unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut sink = [0u8; 1024];
                    while let Ok(n) = s.read(&mut sink).await {
                        if n == 0 {
                            break;
                        }
                    }
                });
            }
        });
    }
}

fn autoconfig(servers: &[(&str, &str, u16, &str)]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<clientConfig version=\"1.1\"><emailProvider id=\"x\"><displayName>Fixture</displayName>");
    for (kind, host, port, socket) in servers {
        let tag = if *kind == "smtp" {
            "outgoingServer"
        } else {
            "incomingServer"
        };
        xml.push_str(&format!("<{tag} type=\"{kind}\"><hostname>{host}</hostname><port>{port}</port><socketType>{socket}</socketType><username>%EMAILADDRESS%</username></{tag}>"));
    }
    xml.push_str("</emailProvider></clientConfig>");
    xml
}

#[tokio::test(flavor = "multi_thread")]
async fn every_source_in_its_place_and_every_failure_survived() {
    let h = petrel_harness::Harness::start().unwrap();
    let p = h.ports;
    let cfg = "/mail/config-v1.1.xml".to_string();
    let wk = "/.well-known/autoconfig/mail/config-v1.1.xml".to_string();
    let good = autoconfig(&[
        ("imap", "imap.petrel.test", p.imaps, "SSL"),
        ("pop3", "pop3.petrel.test", p.pop3s, "SSL"),
        ("smtp", "smtp.petrel.test", p.submissions, "SSL"),
    ]);
    let mut routes = HashMap::new();
    for host in [
        "autoconfig.autoconf.test",
        "autoconfig.hosted.test",
        "autoconfig.httponly.test",
    ] {
        routes.insert((host.to_string(), cfg.clone()), good.clone());
    }
    routes.insert(("wellknown.test".into(), wk.clone()), good.clone());
    // Plain HTTP naming only hosts under the address's own domain: used, not authenticated.
    routes.insert(
        ("autoconfig.httpinside.test".into(), cfg.clone()),
        autoconfig(&[
            ("imap", "imap.httpinside.test", p.imaps, "SSL"),
            ("smtp", "smtp.httpinside.test", p.submissions, "SSL"),
        ]),
    );
    routes.insert(
        ("ispdb.petrel.test".into(), "/v1.1/isp.test".into()),
        good.clone(),
    );
    routes.insert(
        ("autoconfig.brokenxml.test".into(), cfg.clone()),
        "<clientConfig><emailProvider>".into(),
    );
    routes.insert(
        ("autoconfig.imaponly.test".into(), cfg.clone()),
        autoconfig(&[
            ("imap", "imap.petrel.test", p.imaps, "SSL"),
            ("smtp", "smtp.petrel.test", p.submission, "STARTTLS"),
        ]),
    );
    routes.insert(
        ("autoconfig.poponly.test".into(), cfg.clone()),
        autoconfig(&[
            ("pop3", "pop.petrel.test", p.pop3, "STARTTLS"),
            ("smtp", "smtp.petrel.test", p.submissions, "SSL"),
        ]),
    );
    routes.insert(
        ("autoconfig.badcert.test".into(), cfg.clone()),
        autoconfig(&[
            ("imap", "imap.badcert.test", p.imaps, "SSL"),
            ("smtp", "smtp.badcert.test", p.submissions, "SSL"),
        ]),
    );
    // The autoconfig file answers after probing has started and found servers: the better
    // source still wins.
    routes.insert(
        ("autoconfig.slowconf.test".into(), cfg.clone()),
        format!(
            "SLOW 4 {}",
            autoconfig(&[
                ("imap", "imap.petrel.test", p.imaps, "SSL"),
                ("smtp", "smtp.petrel.test", p.submissions, "SSL"),
            ])
        ),
    );
    // HTTPS answers with a redirect down to plain HTTP (refused).
    let redirect_to = format!("REDIRECT http://autoconfig.redirect.test:9{cfg}");
    routes.insert(
        ("autoconfig.redirect.test".into(), cfg.clone()),
        redirect_to,
    );
    // HTTPS names: not autoconfig.httponly.test (its HTTPS fails, HTTP answers).
    let web = start_web(
        Arc::new(routes),
        &[
            "autoconfig.autoconf.test",
            "autoconfig.hosted.test",
            "wellknown.test",
            "ispdb.petrel.test",
            "autoconfig.brokenxml.test",
            "autoconfig.imaponly.test",
            "autoconfig.poponly.test",
            "autoconfig.badcert.test",
            "autoconfig.redirect.test",
            "autoconfig.slowconf.test",
        ],
    )
    .await;
    let mut records: Vec<String> = [
        "petrel.test",
        "autoconf.test",
        "wellknown.test",
        "isp.test",
        "hosted.test",
        "custom.test",
        "srv.test",
        "srvsend.test",
        "xn--bcher-kva.test",
        "brokenxml.test",
        "httponly.test",
        "imaponly.test",
        "poponly.test",
        "badcert.test",
        "httpinside.test",
        "redirect.test",
        "slowconf.test",
    ]
    .iter()
    .map(|d| format!("--address=/{d}/127.0.0.1"))
    .collect();
    records.push("--local=/test/".into());
    records.push("--mx-host=custom.test,mx1.hosted.test,10".into());
    // Nothing under mxonly.test resolves; its MX names a host of another domain.
    records.push("--mx-host=mxonly.test,mail.petrel.test,10".into());
    records.push(format!(
        "--srv-host=_imaps._tcp.srv.test,imap.petrel.test,{},0,0",
        p.imaps
    ));
    records.push(format!(
        "--srv-host=_submissions._tcp.srv.test,smtp.petrel.test,{},0,0",
        p.submissions
    ));
    // Sending has an SRV record of its own; incoming has none (RFC 6186 §3.1). The record
    // names the STARTTLS port, which probing would not prefer: its use is visible.
    records.push(format!(
        "--srv-host=_submission._tcp.srvsend.test,mail.srvsend.test,{},0,0",
        p.submission
    ));
    // Every name under blackhole.test, its MX host included, is a host that accepts
    // connections on every port discovery tries and never answers.
    records.push("--address=/blackhole.test/127.0.0.2".into());
    // One of the Unicode domain's usual names is a black hole too: the valid server that
    // answered first must not wait for it.
    records.push("--address=/mail.xn--bcher-kva.test/127.0.0.2".into());
    records.push("--mx-host=blackhole.test,mx.blackhole.test,10".into());
    let dns = start_dns(&records);
    let trust = petrel_tls::TrustPolicy::with_pem_roots(
        format!("{}\n{}", h.ca_pem(), web.ca_pem).as_bytes(),
    )
    .unwrap();
    let ports = PortPlan {
        http: web.http,
        https: web.https,
        imaps: p.imaps,
        imap: p.imap,
        pop3s: p.pop3s,
        pop3: p.pop3,
        submissions: p.submissions,
        submission: p.submission,
    };
    let net = Network::with_nameserver(
        dns.addr,
        trust,
        ports,
        format!("https://ispdb.petrel.test:{}/v1.1/", web.https),
    )
    .unwrap();
    start_black_hole(
        [127, 0, 0, 2],
        &[
            web.http,
            web.https,
            p.imaps,
            p.imap,
            p.pop3s,
            p.pop3,
            p.submissions,
            p.submission,
        ],
    )
    .await;
    // dnsmasq is up once it answers.
    let deadline = Instant::now() + Duration::from_secs(10);
    while net.addresses("petrel.test").await.is_err() {
        assert!(Instant::now() < deadline, "dnsmasq did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 0. A black hole: every host of blackhole.test (and its mail exchanger) accepts
    //    connections on every port and never answers. Run beside the other scenarios (its
    //    time is the point, not the CPU).
    let black_hole = {
        let net = net.clone();
        let seen: Arc<std::sync::Mutex<Vec<petrel_core::SetupProgress>>> = Default::default();
        let told = seen.clone();
        tokio::spawn(async move {
            let progress = move |p: petrel_core::SetupProgress| told.lock().unwrap().push(p);
            let started = Instant::now();
            let d = discover(&net, "ana@blackhole.test", &progress).await;
            (d, started.elapsed(), seen)
        })
    };

    let stages: std::sync::Mutex<Vec<(String, petrel_core::StageState)>> = Default::default();
    let progress = |p: petrel_core::SetupProgress| stages.lock().unwrap().push((p.stage, p.state));
    let mut summary = Vec::new();
    let run = |email: &'static str| {
        let net = &net;
        let progress = &progress;
        async move {
            let started = Instant::now();
            let d = discover(net, email, progress).await;
            (d, started.elapsed())
        }
    };

    // 1. Provider table: no network needed.
    let (d, t) = run("ana@gmail.com").await;
    assert_eq!(d.source, Some(SettingsSource::ProviderTable));
    assert_eq!(d.imap.as_ref().unwrap().host, "imap.gmail.com");
    assert!(d.provider.as_ref().unwrap().server_files_sent);
    assert!(
        d.authenticated && d.confirm_hosts.is_empty(),
        "the table vouches for its hosts"
    );
    summary.push(("provider table", t));

    // 2. autoconfig.<domain> over HTTPS.
    let (d, t) = run("ana@autoconf.test").await;
    assert_eq!(d.source, Some(SettingsSource::Autoconfig), "{:#?}", d.log);
    assert!(
        d.source_detail.contains("https://autoconfig.autoconf.test"),
        "{}",
        d.source_detail
    );
    assert_eq!(d.imap.as_ref().unwrap().port, p.imaps);
    assert!(
        d.evidence.imap_offered && d.evidence.pop3_offered,
        "{:?}",
        d.evidence
    );
    assert!(
        d.untrusted.is_empty(),
        "valid certificates: {:?}",
        d.untrusted
    );
    // HTTPS on the address's domain is authenticated, but its servers are under another
    // domain: the user confirms them by name (review H3).
    assert!(d.authenticated);
    assert_eq!(
        d.confirm_hosts,
        ["imap.petrel.test", "pop3.petrel.test", "smtp.petrel.test"]
    );
    assert!(
        d.log
            .iter()
            .any(|l| l.stage == "trust" && l.answer.contains("to confirm")),
        "the doctor shows the classification: {:#?}",
        d.log
    );
    summary.push(("autoconfig", t));

    // 3. Only the .well-known file.
    let (d, t) = run("ana@wellknown.test").await;
    assert_eq!(d.source, Some(SettingsSource::WellKnown), "{:#?}", d.log);
    summary.push((".well-known", t));

    // 4. ISPDB-like fixture.
    let (d, t) = run("ana@isp.test").await;
    assert_eq!(d.source, Some(SettingsSource::Ispdb), "{:#?}", d.log);
    summary.push(("ISPDB", t));

    // 5. MX → the mail exchanger's domain's autoconfig.
    let (d, t) = run("ana@custom.test").await;
    assert_eq!(d.source, Some(SettingsSource::MxDomain), "{:#?}", d.log);
    assert!(
        d.source_detail.contains("mx1.hosted.test"),
        "{}",
        d.source_detail
    );
    assert!(!d.authenticated, "an MX answer can be forged");
    assert!(
        d.confirm_hosts.contains(&"imap.petrel.test".to_string()),
        "{:?}",
        d.confirm_hosts
    );
    summary.push(("MX domain", t));

    // 6. SRV records only.
    let (d, t) = run("ana@srv.test").await;
    assert_eq!(d.source, Some(SettingsSource::Srv), "{:#?}", d.log);
    let imap = d.imap.as_ref().unwrap();
    assert_eq!(
        (imap.host.as_str(), imap.port, imap.security),
        ("imap.petrel.test", p.imaps, Security::Tls)
    );
    assert_eq!(d.smtp.as_ref().unwrap().port, p.submissions);
    assert!(!d.authenticated, "SRV without DNSSEC");
    assert_eq!(d.confirm_hosts, ["imap.petrel.test", "smtp.petrel.test"]);
    summary.push(("SRV", t));

    // 6b. An SRV record for sending alone is used for sending; incoming is probed.
    let (d, t) = run("ana@srvsend.test").await;
    assert_eq!(d.source, Some(SettingsSource::Probe), "{:#?}", d.log);
    assert_eq!(d.imap.as_ref().unwrap().host, "imap.srvsend.test");
    let smtp = d.smtp.as_ref().unwrap();
    assert_eq!(
        (smtp.host.as_str(), smtp.port, smtp.security),
        ("mail.srvsend.test", p.submission, Security::StartTls),
        "{:#?}",
        d.log
    );
    summary.push(("SRV for sending only", t));

    // 6c. An internationalized domain (RFC 5890/5891): DNS, probes, TLS names and the
    // certificate check use its A-label; the address stays as typed.
    let (d, t) = run("ana@Bücher.test").await;
    assert_eq!(d.source, Some(SettingsSource::Probe), "{:#?}", d.log);
    assert_eq!(d.email, "ana@Bücher.test");
    let imap = d.imap.as_ref().unwrap();
    assert_eq!(
        (imap.host.as_str(), imap.port, imap.security),
        ("imap.xn--bcher-kva.test", p.imaps, Security::Tls)
    );
    assert!(
        d.untrusted.is_empty(),
        "the certificate for the A-label name is valid: {:?}",
        d.untrusted
    );
    assert!(
        d.confirm_hosts.is_empty(),
        "imap.xn--bcher-kva.test is under Bücher.test: {:?}",
        d.confirm_hosts
    );
    assert!(
        t < Duration::from_secs(5),
        "{t:?}: the valid imap. server waited for mail., which never answers"
    );
    assert!(
        d.unicode_hosts
            .iter()
            .any(|n| n.ascii == "imap.xn--bcher-kva.test" && n.unicode == "imap.bücher.test"),
        "shown in Unicode: {:?}",
        d.unicode_hosts
    );
    summary.push(("Unicode domain", t));

    // 6d. The MX host as the last guess: a foreign host, to be confirmed by name.
    let (d, t) = run("ana@mxonly.test").await;
    assert_eq!(d.source, Some(SettingsSource::MxDomain), "{:#?}", d.log);
    let imap = d.imap.as_ref().unwrap();
    assert_eq!(
        (imap.host.as_str(), imap.port, imap.security),
        ("mail.petrel.test", p.imaps, Security::Tls)
    );
    assert!(!d.authenticated);
    assert!(
        d.confirm_hosts.iter().any(|h| h == "mail.petrel.test"),
        "{:?}",
        d.confirm_hosts
    );
    summary.push(("MX host as a last guess", t));

    // 6e. A domain that does not exist ends quickly, with nothing found and the log saying
    // why (issue 15, point 4: within 5 s).
    let (d, t) = run("ana@nosuch.test").await;
    assert_eq!(d.source, None, "{:#?}", d.log);
    assert!(d.imap.is_none() && d.pop3.is_none() && d.smtp.is_none());
    assert!(
        t < Duration::from_secs(5),
        "{t:?} for a domain that does not exist"
    );
    summary.push(("domain that does not exist", t));

    // 7. Nothing but probing: the usual names on the usual ports, strict TLS first.
    let (d, t) = run("ana@petrel.test").await;
    assert_eq!(d.source, Some(SettingsSource::Probe), "{:#?}", d.log);
    let imap = d.imap.as_ref().unwrap();
    assert_eq!(
        (imap.host.as_str(), imap.port, imap.security),
        ("imap.petrel.test", p.imaps, Security::Tls)
    );
    assert_eq!(d.pop3.as_ref().unwrap().port, p.pop3s);
    assert_eq!(d.smtp.as_ref().unwrap().host, "smtp.petrel.test");
    assert!(d.untrusted.is_empty());
    assert!(
        d.authenticated && d.confirm_hosts.is_empty(),
        "its own names, TLS-verified"
    );
    summary.push(("probing", t));

    // 8. Broken XML: logged, the next sources tried (here probing finds untrusted servers).
    let (d, t) = run("ana@brokenxml.test").await;
    assert_ne!(d.source, Some(SettingsSource::Autoconfig));
    assert!(
        d.log.iter().any(|l| l.answer.contains("not valid XML")),
        "{:#?}",
        d.log
    );
    summary.push(("broken XML", t));

    // 9. HTTPS refused (certificate not valid for the name) → HTTP, which names servers
    //    outside the domain: ignored (anyone on the path can write a plain HTTP answer).
    let (d, t) = run("ana@httponly.test").await;
    assert_ne!(d.source, Some(SettingsSource::Autoconfig), "{:#?}", d.log);
    assert!(
        d.log
            .iter()
            .any(|l| l.tried.starts_with("https://autoconfig.httponly.test")),
        "HTTPS tried first"
    );
    assert!(
        d.log
            .iter()
            .any(|l| l.tried.starts_with("http://autoconfig.httponly.test")
                && l.answer.contains("ignored: over plain HTTP")),
        "{:#?}",
        d.log
    );
    summary.push(("HTTP naming others", t));

    // 9b. Plain HTTP naming only the domain's own servers: used, marked unauthenticated.
    let (d, t) = run("ana@httpinside.test").await;
    assert_eq!(d.source, Some(SettingsSource::Autoconfig), "{:#?}", d.log);
    assert!(d
        .source_detail
        .contains("http://autoconfig.httpinside.test"));
    assert!(!d.authenticated);
    assert!(d.confirm_hosts.is_empty(), "all under httpinside.test");
    summary.push(("HTTP, own hosts", t));

    // 9c. A redirect from https down to http is not followed.
    let (d, t) = run("ana@redirect.test").await;
    assert!(
        d.log
            .iter()
            .any(|l| l.tried.starts_with("https://autoconfig.redirect.test")
                && l.answer.contains("https to plain http")),
        "{:#?}",
        d.log
    );
    summary.push(("https→http redirect", t));

    // 10. IMAP-only server: the advisor has no choice to offer.
    let (d, t) = run("ana@imaponly.test").await;
    assert!(
        d.pop3.is_none() && d.evidence.imap_offered && !d.evidence.pop3_offered,
        "{:?}",
        d.evidence
    );
    let advice = petrel_setup::advisor::advise(&Default::default(), &d.evidence, None);
    assert!(advice.only_choice && advice.recommended == petrel_core::IncomingProtocol::Imap);
    summary.push(("IMAP only", t));

    // 11. POP3-only server (STARTTLS): its EXPIRE/LOGIN-DELAY are read when offered.
    let (d, t) = run("ana@poponly.test").await;
    assert!(
        d.imap.is_none() && d.evidence.pop3_offered && !d.evidence.imap_offered,
        "{:?} {:#?}",
        d.evidence,
        d.log
    );
    let advice = petrel_setup::advisor::advise(&Default::default(), &d.evidence, None);
    assert!(advice.only_choice && advice.recommended == petrel_core::IncomingProtocol::Pop3);
    summary.push(("POP3 only", t));

    // 12. Bad certificate: reported with the certificate, not accepted.
    let (d, t) = run("ana@badcert.test").await;
    assert_eq!(d.source, Some(SettingsSource::Autoconfig));
    assert!(
        d.untrusted
            .iter()
            .any(|c| c.host == "imap.badcert.test" && c.sha256 == h.server_cert_sha256()),
        "{:?}",
        d.untrusted
    );
    assert!(
        d.imap.as_ref().unwrap().pinned_cert_sha256.is_none(),
        "nothing pinned without the user"
    );
    summary.push(("bad certificate", t));

    // 13. A better source that answers late still wins over probing that answered first
    //     (sources run side by side; best source wins, not the fastest).
    let (d, t) = run("ana@slowconf.test").await;
    assert_eq!(d.source, Some(SettingsSource::Autoconfig), "{:#?}", d.log);
    assert_eq!(d.imap.as_ref().unwrap().host, "imap.petrel.test");
    assert!(
        d.log
            .iter()
            .any(|l| l.stage == "probing IMAP" && l.tried.starts_with("imap.slowconf.test")),
        "probing ran while the file was on its way: {:#?}",
        d.log
    );
    assert!(
        d.untrusted.is_empty(),
        "probed servers that lost raise no certificate question: {:?}",
        d.untrusted
    );
    summary.push(("late better source", t));

    // 0, ended: within 30 s (issue 15, point 4), nothing found, and the log says what
    // went unanswered.
    let (d, t, seen) = black_hole.await.unwrap();
    assert_eq!(d.source, None, "{:#?}", d.log);
    assert!(
        t <= Duration::from_secs(30),
        "{t:?} for a black-hole domain"
    );
    for (stage, tried) in [
        ("autoconfig", "https://autoconfig.blackhole.test"),
        ("probing IMAP", "imap.blackhole.test"),
        ("probing the mail exchanger", "mx.blackhole.test"),
    ] {
        assert!(
            d.log.iter().any(|l| l.stage == stage
                && (l.tried.starts_with(tried) || l.answer.contains("given up"))),
            "{stage}: {:#?}",
            d.log
        );
    }
    let seen = seen.lock().unwrap();
    for stage in ["autoconfig", "probing IMAP", "probing SMTP"] {
        assert!(
            seen.iter()
                .any(|p| p.stage == stage && p.state != petrel_core::StageState::Trying),
            "progress says {stage} ended: {seen:?}"
        );
    }
    summary.push(("black hole", t));

    for (name, t) in &summary {
        eprintln!("{name:<26} {t:?}");
    }
    let stages = stages.lock().unwrap();
    for s in [
        "provider table",
        "autoconfig",
        "well-known",
        "ISPDB",
        "mail exchanger",
        "DNS SRV",
        "probing IMAP",
        "probing the mail exchanger",
        "checking the server",
    ] {
        assert!(
            stages.iter().any(|(x, _)| x == s),
            "progress never named {s}"
        );
    }
    // A source that a better one made unnecessary is said to have stopped (autoconf.test:
    // probing was still waiting when the file answered).
    assert!(
        stages
            .iter()
            .any(|(x, state)| x == "probing IMAP" && *state == petrel_core::StageState::Stopped),
        "no stage was ever stopped"
    );
}
