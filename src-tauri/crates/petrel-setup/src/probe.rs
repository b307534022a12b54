//! Probing a server without credentials: connect, TLS (strict: the certificate must be
//! valid for the host), then only CAPABILITY (IMAP), CAPA (POP3) or EHLO (SMTP). What the
//! server says is evidence for the advisor; an untrusted certificate is reported (with the
//! certificate) so the user can decide, never accepted here.

use crate::network::Network;
use petrel_core::{CertificateDetails, Security};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Imap,
    Pop3,
    Smtp,
}

/// What a probe learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// TLS with a valid certificate; the server's capabilities (upper-case words/lines).
    Secure { capabilities: Vec<String> },
    /// The server answered but its certificate is not valid for the host.
    Untrusted {
        reason: String,
        certificate: Box<CertificateDetails>,
    },
    /// Nothing usable (closed port, not this protocol, no STARTTLS, timeout).
    Failed(String),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Longest line read from a server that has not logged us in.
const MAX_LINE: usize = 8 * 1024;

pub async fn probe(
    net: &Network,
    service: Service,
    host: &str,
    port: u16,
    security: Security,
) -> Probe {
    match tokio::time::timeout(net.timeout, run(net, service, host, port, security)).await {
        Ok(p) => p,
        Err(_) => Probe::Failed(format!("no answer within {} s", net.timeout.as_secs())),
    }
}

async fn run(net: &Network, service: Service, host: &str, port: u16, security: Security) -> Probe {
    let addrs = match net.addresses(host).await {
        Ok(a) if !a.is_empty() => a,
        Ok(_) => return Probe::Failed(format!("{host} has no address")),
        Err(e) => return Probe::Failed(format!("{host}: {e}")),
    };
    let mut tcp = None;
    let mut last = String::new();
    for ip in addrs.iter().take(2) {
        match TcpStream::connect((*ip, port)).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = e.to_string(),
        }
    }
    let Some(tcp) = tcp else {
        return Probe::Failed(format!("cannot connect to {host}:{port}: {last}"));
    };
    let tcp = match security {
        Security::Tls => tcp,
        Security::StartTls => match starttls(service, tcp).await {
            Ok(t) => t,
            Err(e) => return Probe::Failed(e),
        },
    };
    let tls = match petrel_tls::handshake(tcp, host, &net.trust, None).await {
        Ok(t) => t,
        Err(petrel_tls::TlsFailure::Untrusted {
            reason,
            certificate,
        }) => {
            return Probe::Untrusted {
                reason,
                certificate,
            }
        }
        Err(petrel_tls::TlsFailure::Tls(e)) | Err(petrel_tls::TlsFailure::Lost(e)) => {
            return Probe::Failed(format!("TLS: {e}"))
        }
    };
    let mut conn = BufReader::new(Box::new(tls) as Box<dyn Stream>);
    // After STARTTLS there is no new greeting.
    let greeted = security == Security::StartTls;
    match capabilities(service, &mut conn, greeted).await {
        Ok(capabilities) => Probe::Secure { capabilities },
        Err(e) => Probe::Failed(e),
    }
}

async fn line<S: AsyncRead + Unpin>(r: &mut BufReader<S>) -> Result<String, String> {
    let mut buf = Vec::new();
    let n = (&mut *r)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut buf)
        .await
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("the server closed the connection".into());
    }
    Ok(String::from_utf8_lossy(&buf).trim_end().to_string())
}

async fn send<S: AsyncWrite + Unpin>(w: &mut S, text: &str) -> Result<(), String> {
    w.write_all(text.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    w.flush().await.map_err(|e| e.to_string())
}

use tokio::io::AsyncReadExt;

/// Plain-text start of a STARTTLS session; the stream is handed over untouched after the
/// server's "go ahead" (bytes after it would be an injection: refused).
async fn starttls(service: Service, tcp: TcpStream) -> Result<TcpStream, String> {
    let mut r = BufReader::new(tcp);
    let greeting = line(&mut r).await?;
    let ok = match service {
        Service::Imap => {
            if !greeting.starts_with("* OK") {
                return Err(format!("not an IMAP server: {greeting}"));
            }
            send(r.get_mut(), "p1 STARTTLS\r\n").await?;
            loop {
                let l = line(&mut r).await?;
                if l.starts_with("p1 ") {
                    break l.starts_with("p1 OK");
                }
            }
        }
        Service::Pop3 => {
            if !greeting.starts_with("+OK") {
                return Err(format!("not a POP3 server: {greeting}"));
            }
            send(r.get_mut(), "STLS\r\n").await?;
            line(&mut r).await?.starts_with("+OK")
        }
        Service::Smtp => {
            let mut l = greeting;
            while l.starts_with("220-") {
                l = line(&mut r).await?;
            }
            if !l.starts_with("220") {
                return Err(format!("not an SMTP server: {l}"));
            }
            send(r.get_mut(), "EHLO petrel.invalid\r\n").await?;
            loop {
                let l = line(&mut r).await?;
                if !l.starts_with("250-") {
                    break;
                }
            }
            send(r.get_mut(), "STARTTLS\r\n").await?;
            line(&mut r).await?.starts_with("220")
        }
    };
    if !ok {
        return Err("the server does not offer STARTTLS".into());
    }
    if !r.buffer().is_empty() {
        return Err("the server sent data before TLS started (refused)".into());
    }
    Ok(r.into_inner())
}

async fn capabilities(
    service: Service,
    r: &mut BufReader<Box<dyn Stream>>,
    greeted: bool,
) -> Result<Vec<String>, String> {
    let mut caps = Vec::new();
    match service {
        Service::Imap => {
            if !greeted {
                let g = line(r).await?;
                if !g.starts_with("* OK") && !g.starts_with("* PREAUTH") {
                    return Err(format!("not an IMAP server: {g}"));
                }
            }
            send(r.get_mut(), "p2 CAPABILITY\r\np3 LOGOUT\r\n").await?;
            loop {
                let l = line(r).await?;
                if let Some(rest) = l.strip_prefix("* CAPABILITY ") {
                    caps.extend(rest.split_whitespace().map(|c| c.to_ascii_uppercase()));
                }
                if l.starts_with("p2 ") {
                    break;
                }
            }
        }
        Service::Pop3 => {
            if !greeted {
                let g = line(r).await?;
                if !g.starts_with("+OK") {
                    return Err(format!("not a POP3 server: {g}"));
                }
            }
            send(r.get_mut(), "CAPA\r\n").await?;
            if line(r).await?.starts_with("+OK") {
                loop {
                    let l = line(r).await?;
                    if l == "." {
                        break;
                    }
                    caps.push(l.to_ascii_uppercase());
                }
            }
            let _ = send(r.get_mut(), "QUIT\r\n").await;
        }
        Service::Smtp => {
            if !greeted {
                let mut g = line(r).await?;
                while g.starts_with("220-") {
                    g = line(r).await?;
                }
                if !g.starts_with("220") {
                    return Err(format!("not an SMTP server: {g}"));
                }
            }
            send(r.get_mut(), "EHLO petrel.invalid\r\n").await?;
            loop {
                let l = line(r).await?;
                if let Some(c) = l.get(4..) {
                    caps.push(c.to_ascii_uppercase());
                }
                if !l.starts_with("250-") {
                    if !l.starts_with("250") {
                        return Err(format!("EHLO refused: {l}"));
                    }
                    break;
                }
            }
            let _ = send(r.get_mut(), "QUIT\r\n").await;
        }
    }
    Ok(caps)
}
