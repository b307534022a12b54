//! A POP3 session: connect (implicit TLS, or STLS that must succeed), CAPA, log in, and the
//! commands of RFC 1939 with RFC 2449 pipelining where offered.

use crate::wire::{timed, Wire, MAX_LISTING};
use crate::Pop3Error;
use base64::Engine as _;
use petrel_core::sasl::BearerMechanism;
use petrel_core::{Security, ServerSettings};
use petrel_tls::TrustPolicy;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// RETRs sent ahead of their replies when the server pipelines.
const PIPELINE_WINDOW: usize = 16;

/// What the server said it can do (CAPA, RFC 2449).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub lines: Vec<String>,
}

impl Capabilities {
    pub fn has(&self, name: &str) -> bool {
        self.lines.iter().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(name))
        })
    }

    /// SASL mechanisms offered.
    pub fn sasl(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                let first = words.next()?;
                first
                    .eq_ignore_ascii_case("SASL")
                    .then(|| words.map(str::to_ascii_uppercase).collect::<Vec<_>>())
            })
            .flatten()
            .collect()
    }

    /// `EXPIRE n` (days the server keeps mail after download; `NEVER` → None), RFC 2449.
    pub fn expire_days(&self) -> Option<u32> {
        self.value("EXPIRE").and_then(|v| v.parse().ok())
    }

    /// `LOGIN-DELAY n` (seconds between logins the server allows), RFC 2449.
    pub fn login_delay(&self) -> Option<u32> {
        self.value("LOGIN-DELAY").and_then(|v| v.parse().ok())
    }

    fn value(&self, name: &str) -> Option<String> {
        self.lines.iter().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next()?.eq_ignore_ascii_case(name)).then(|| words.next().map(String::from))?
        })
    }
}

/// One entry of UIDL/LIST: message number and the unique id or size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub number: u32,
    pub uidl: String,
    pub size: u64,
}

pub struct Pop3Session {
    wire: Wire<TlsStream<TcpStream>>,
    pub capabilities: Capabilities,
    /// The APOP timestamp of the greeting (`<…@…>`), when the server sent one.
    apop_stamp: Option<String>,
}

impl Pop3Session {
    /// Connects and reads the greeting and capabilities (not logged in yet).
    pub async fn connect(server: &ServerSettings, trust: &TrustPolicy) -> Result<Self, Pop3Error> {
        let host = server.host.trim().to_string();
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((host.as_str(), server.port)),
        )
        .await
        .map_err(|_| Pop3Error::Unreachable {
            host: host.clone(),
            port: server.port,
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 15 s"),
        })?
        .map_err(|source| Pop3Error::Unreachable {
            host: host.clone(),
            port: server.port,
            source,
        })?;
        let _ = tcp.set_nodelay(true);
        let (tcp, plain_greeting) = match server.security {
            Security::Tls => (tcp, None),
            Security::StartTls => {
                let (tcp, greeting) = stls(tcp).await?;
                (tcp, Some(greeting))
            }
        };
        let tls = timed(
            "the TLS handshake",
            petrel_tls::handshake(tcp, &host, trust, server.pinned_cert_sha256.clone()),
        )
        .await??;
        let mut wire = Wire::new(tls);
        // With implicit TLS the greeting comes over TLS; after STLS there is none, and what
        // was learnt before TLS is forgotten (RFC 2595 §4) except the APOP challenge.
        let greeting = match plain_greeting {
            Some(g) => g,
            None => wire.status().await?,
        };
        let mut session = Pop3Session {
            wire,
            capabilities: Capabilities::default(),
            apop_stamp: apop_stamp(&greeting),
        };
        session.capabilities = session.capa().await.unwrap_or_default();
        Ok(session)
    }

    /// CAPA; servers without it answer -ERR (then nothing optional is used).
    pub async fn capa(&mut self) -> Result<Capabilities, Pop3Error> {
        self.wire.send("CAPA\r\n").await?;
        match self.wire.status().await {
            Ok(_) => {}
            Err(Pop3Error::Refused(_)) => return Ok(Capabilities::default()),
            Err(e) => return Err(e),
        }
        let data = self.wire.data(64 * 1024).await?;
        Ok(Capabilities {
            lines: String::from_utf8_lossy(&data)
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        })
    }

    /// Logs in with the best mechanism offered: SASL PLAIN, SASL LOGIN, USER/PASS, APOP.
    /// Capabilities are read again afterwards (they may change, RFC 2449 §5).
    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), Pop3Error> {
        let sasl = self.capabilities.sasl();
        let result = if sasl.iter().any(|m| m == "PLAIN") {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
            self.wire.send(&format!("AUTH PLAIN {token}\r\n")).await?;
            self.auth_reply().await
        } else if sasl.iter().any(|m| m == "LOGIN") {
            self.sasl_login(user, password).await
        } else if self.capabilities.has("USER") || self.apop_stamp.is_none() {
            self.wire.send(&format!("USER {user}\r\n")).await?;
            match self.wire.status().await {
                Ok(_) => {
                    self.wire.send(&format!("PASS {password}\r\n")).await?;
                    self.auth_reply().await
                }
                Err(Pop3Error::Refused(t)) => Err(crate::error::login_refusal(t)),
                Err(e) => Err(e),
            }
        } else {
            let stamp = self.apop_stamp.clone().unwrap_or_default();
            let digest = hex::encode(<md5::Md5 as md5::Digest>::digest(format!(
                "{stamp}{password}"
            )));
            self.wire.send(&format!("APOP {user} {digest}\r\n")).await?;
            self.auth_reply().await
        };
        result?;
        if let Ok(caps) = self.capa().await {
            if !caps.lines.is_empty() {
                self.capabilities = caps;
            }
        }
        Ok(())
    }

    /// Logs in with an OAuth2 access token (RFC 5034 AUTH): OAUTHBEARER when offered, else
    /// XOAUTH2. The token goes after the server's "+" (no initial response on the AUTH
    /// line: a 2 KB token would make it too long). `host` and `port` are the server's, as
    /// OAUTHBEARER carries them.
    pub async fn login_bearer(
        &mut self,
        user: &str,
        host: &str,
        port: u16,
        token: &str,
    ) -> Result<(), Pop3Error> {
        let sasl = self.capabilities.sasl();
        let Some(mechanism) = BearerMechanism::choose(sasl.iter().map(String::as_str)) else {
            return Err(Pop3Error::AuthFailed(
                "the server does not offer OAuth2 sign-in (SASL OAUTHBEARER or XOAUTH2)".into(),
            ));
        };
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        self.wire
            .send(&format!("AUTH {}\r\n", mechanism.name()))
            .await?;
        let mut line = Vec::new();
        self.wire
            .line(crate::wire::MAX_STATUS_LINE, &mut line)
            .await?;
        if !line.starts_with(b"+ ") && line != b"+" {
            return Err(crate::error::login_refusal(
                String::from_utf8_lossy(&line).into_owned(),
            ));
        }
        let first = mechanism.initial_response(user, host, port, token);
        self.wire.send(&format!("{}\r\n", b64(&first))).await?;
        line.clear();
        self.wire
            .line(crate::wire::MAX_STATUS_LINE, &mut line)
            .await?;
        let text = String::from_utf8_lossy(&line).into_owned();
        if let Some(challenge) = text.strip_prefix("+ ") {
            // The server's error report (RFC 7628 §3.2.2): acknowledged, then its -ERR.
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(challenge.trim())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let why = petrel_core::sasl::describe_challenge(&decoded);
            self.wire
                .send(&format!("{}\r\n", b64(mechanism.error_acknowledgement())))
                .await?;
            return match self.wire.status().await {
                Ok(_) => Err(Pop3Error::Protocol(
                    "the server accepted a refused token".into(),
                )),
                Err(Pop3Error::Refused(t)) => {
                    Err(crate::error::login_refusal(format!("{t} ({why})")))
                }
                Err(e) => Err(e),
            };
        }
        if text.starts_with("+OK") {
            if let Ok(caps) = self.capa().await {
                if !caps.lines.is_empty() {
                    self.capabilities = caps;
                }
            }
            return Ok(());
        }
        Err(crate::error::login_refusal(
            text.strip_prefix("-ERR")
                .unwrap_or(&text)
                .trim()
                .to_string(),
        ))
    }

    async fn sasl_login(&mut self, user: &str, password: &str) -> Result<(), Pop3Error> {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        self.wire.send("AUTH LOGIN\r\n").await?;
        for answer in [b64(user), b64(password)] {
            let mut line = Vec::new();
            self.wire
                .line(crate::wire::MAX_STATUS_LINE, &mut line)
                .await?;
            if !line.starts_with(b"+ ") && line != b"+" {
                return Err(Pop3Error::AuthFailed(
                    String::from_utf8_lossy(&line).into_owned(),
                ));
            }
            self.wire.send(&format!("{answer}\r\n")).await?;
        }
        self.auth_reply().await
    }

    async fn auth_reply(&mut self) -> Result<(), Pop3Error> {
        match self.wire.status().await {
            Ok(_) => Ok(()),
            Err(Pop3Error::Refused(t)) => Err(crate::error::login_refusal(t)),
            Err(e) => Err(e),
        }
    }

    /// (messages, octets) in the mailbox.
    pub async fn stat(&mut self) -> Result<(u32, u64), Pop3Error> {
        self.wire.send("STAT\r\n").await?;
        let text = self.wire.status().await?;
        let mut words = text.split_whitespace();
        let count = words.next().and_then(|w| w.parse().ok());
        let size = words.next().and_then(|w| w.parse().ok());
        match (count, size) {
            (Some(c), Some(s)) => Ok((c, s)),
            _ => Err(Pop3Error::Protocol(format!("STAT reply {text:?}"))),
        }
    }

    /// UIDL of every message; `Refused` when the server has no UIDL.
    pub async fn uidl_all(&mut self) -> Result<Vec<(u32, String)>, Pop3Error> {
        self.wire.send("UIDL\r\n").await?;
        self.wire.status().await?;
        let data = self.wire.data(MAX_LISTING).await?;
        let mut out = Vec::new();
        for line in String::from_utf8_lossy(&data).lines() {
            let mut words = line.split_whitespace();
            let (Some(n), Some(id)) = (words.next(), words.next()) else {
                continue;
            };
            // RFC 1939 §7: 1–70 characters 0x21–0x7E.
            let valid =
                !id.is_empty() && id.len() <= 70 && id.bytes().all(|b| (0x21..=0x7e).contains(&b));
            match n.parse::<u32>() {
                Ok(n) if valid => out.push((n, id.to_string())),
                _ => return Err(Pop3Error::Protocol(format!("UIDL line {line:?}"))),
            }
        }
        Ok(out)
    }

    /// Size of every message.
    pub async fn list_all(&mut self) -> Result<Vec<(u32, u64)>, Pop3Error> {
        self.wire.send("LIST\r\n").await?;
        self.wire.status().await?;
        let data = self.wire.data(MAX_LISTING).await?;
        let mut out = Vec::new();
        for line in String::from_utf8_lossy(&data).lines() {
            let mut words = line.split_whitespace();
            match (
                words.next().and_then(|w| w.parse::<u32>().ok()),
                words.next().and_then(|w| w.parse::<u64>().ok()),
            ) {
                (Some(n), Some(s)) => out.push((n, s)),
                _ => return Err(Pop3Error::Protocol(format!("LIST line {line:?}"))),
            }
        }
        Ok(out)
    }

    /// UIDL and size of every message (UIDL + LIST).
    pub async fn listing(&mut self) -> Result<Vec<Listed>, Pop3Error> {
        let uidls = self.uidl_all().await?;
        let sizes: std::collections::HashMap<u32, u64> =
            self.list_all().await?.into_iter().collect();
        Ok(uidls
            .into_iter()
            .map(|(number, uidl)| Listed {
                number,
                size: sizes.get(&number).copied().unwrap_or(0),
                uidl,
            })
            .collect())
    }

    /// The whole message `n`, up to `max` bytes.
    pub async fn retr(&mut self, n: u32, max: usize) -> Result<Vec<u8>, Pop3Error> {
        self.wire.send(&format!("RETR {n}\r\n")).await?;
        self.wire.status().await?;
        self.wire.data(max).await
    }

    /// Messages `numbers` in order, handed to `each` as they arrive; pipelined (a window of
    /// commands ahead) when the server offers PIPELINING. Stops at the first error.
    pub async fn retr_each(
        &mut self,
        numbers: &[u32],
        max: usize,
        mut each: impl FnMut(u32, Vec<u8>) -> Result<(), Pop3Error>,
    ) -> Result<(), Pop3Error> {
        if !self.capabilities.has("PIPELINING") {
            for &n in numbers {
                let raw = self.retr(n, max).await?;
                each(n, raw)?;
            }
            return Ok(());
        }
        for window in numbers.chunks(PIPELINE_WINDOW) {
            let commands: Vec<String> = window.iter().map(|n| format!("RETR {n}\r\n")).collect();
            self.wire.send_many(&commands).await?;
            for &n in window {
                // Every reply of the window is read even after a refusal, so the
                // connection stays in step.
                match self.wire.status().await {
                    Ok(_) => {
                        let raw = self.wire.data(max).await?;
                        each(n, raw)?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// The header and the first `lines` body lines of message `n` (TOP, RFC 1939 §7).
    pub async fn top(&mut self, n: u32, lines: u32) -> Result<Vec<u8>, Pop3Error> {
        self.wire.send(&format!("TOP {n} {lines}\r\n")).await?;
        self.wire.status().await?;
        self.wire.data(crate::MAX_MESSAGE_BYTES).await
    }

    /// Marks message `n` deleted; the server removes it only at a clean QUIT.
    pub async fn dele(&mut self, n: u32) -> Result<(), Pop3Error> {
        self.wire.send(&format!("DELE {n}\r\n")).await?;
        self.wire.status().await.map(|_| ())
    }

    pub async fn noop(&mut self) -> Result<(), Pop3Error> {
        self.wire.send("NOOP\r\n").await?;
        self.wire.status().await.map(|_| ())
    }

    /// Unmarks every message marked deleted in this session.
    pub async fn rset(&mut self) -> Result<(), Pop3Error> {
        self.wire.send("RSET\r\n").await?;
        self.wire.status().await.map(|_| ())
    }

    /// Ends the session: the server now removes the messages marked deleted (UPDATE state).
    pub async fn quit(mut self) -> Result<(), Pop3Error> {
        self.wire.send("QUIT\r\n").await?;
        self.wire.status().await.map(|_| ())
    }

    /// Drops the connection without QUIT: the server deletes nothing (RFC 1939 §6). Used
    /// on any local error, so a message marked for deletion is never lost.
    pub fn abandon(self) {
        drop(self);
    }
}

/// The `<…>` challenge in a greeting, for APOP.
fn apop_stamp(greeting: &str) -> Option<String> {
    let start = greeting.find('<')?;
    let end = start + greeting[start..].find('>')?;
    let stamp = &greeting[start..=end];
    stamp.contains('@').then(|| stamp.to_string())
}

/// Greeting → CAPA → STLS on the plain socket; any byte after the STLS +OK is refused as
/// an injection (the same rule as IMAP's STARTTLS). Returns the socket and the greeting.
async fn stls(tcp: TcpStream) -> Result<(TcpStream, String), Pop3Error> {
    let mut wire = Wire::new(tcp);
    let greeting = wire.status().await?;
    wire.send("CAPA\r\n").await?;
    let caps = match wire.status().await {
        Ok(_) => Capabilities {
            lines: String::from_utf8_lossy(&wire.data(64 * 1024).await?)
                .lines()
                .map(|l| l.trim().to_string())
                .collect(),
        },
        Err(Pop3Error::Refused(_)) => Capabilities::default(),
        Err(e) => return Err(e),
    };
    if !caps.has("STLS") {
        return Err(Pop3Error::StlsUnavailable);
    }
    wire.send("STLS\r\n").await?;
    match wire.status().await {
        Ok(_) => {}
        Err(Pop3Error::Refused(_)) => return Err(Pop3Error::StlsUnavailable),
        Err(e) => return Err(e),
    }
    if !wire.io.buffer().is_empty() {
        return Err(Pop3Error::StlsInjection);
    }
    Ok((wire.io.into_inner(), greeting))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_read_case_insensitively() {
        let caps = Capabilities {
            lines: vec![
                "TOP".into(),
                "UIDL".into(),
                "SASL PLAIN login".into(),
                "EXPIRE 30".into(),
                "LOGIN-DELAY 900".into(),
                "pipelining".into(),
            ],
        };
        assert!(caps.has("PIPELINING") && caps.has("uidl") && !caps.has("STLS"));
        assert_eq!(caps.sasl(), vec!["PLAIN", "LOGIN"]);
        assert_eq!(
            (caps.expire_days(), caps.login_delay()),
            (Some(30), Some(900))
        );
    }

    #[test]
    fn apop_stamps() {
        assert_eq!(
            apop_stamp("POP3 ready <1896.697170952@dbc.mtview.ca.us>").as_deref(),
            Some("<1896.697170952@dbc.mtview.ca.us>")
        );
        assert_eq!(apop_stamp("Dovecot ready."), None);
    }
}
