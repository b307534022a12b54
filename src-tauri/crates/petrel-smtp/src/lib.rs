//! Sending over SMTP submission: lettre speaks the protocol (EHLO, AUTH, MAIL/RCPT/DATA,
//! dot-stuffing) over a stream Petrel opens itself, so the same TLS rules apply as for
//! IMAP and POP3 — CA-verified or the one pinned certificate, refusals in words.
//!
//! - Port 465: implicit TLS, then lettre reads the greeting.
//! - Port 587: STARTTLS by hand and then required (no STARTTLS offered, a refusal, or any
//!   byte after the server's 220 aborts: the injection rule of RFC 3207 §6 / CVE-2011-0411).
//!   After TLS the server sends no new greeting while lettre expects one, so the TLS stream
//!   is wrapped to show lettre the greeting already received in plaintext.
#![forbid(unsafe_code)]

mod outbox;

pub use outbox::{flush, Answer, Flushed, Outbox, OutboxCounts, OutboxError, Queued};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::Rset;
use lettre::transport::smtp::extension::ClientId;
use petrel_core::sasl::BearerMechanism;
use petrel_core::{Security, ServerSettings};
use petrel_tls::TrustPolicy;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf,
};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const TIMEOUT: Duration = Duration::from_secs(60);
const MAX_LINE: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("could not reach {host}:{port}: {source}")]
    Unreachable {
        host: String,
        port: u16,
        source: std::io::Error,
    },
    #[error("the server's certificate is not trusted: {reason}")]
    CertificateUntrusted {
        reason: String,
        certificate: Box<petrel_core::CertificateDetails>,
    },
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("the server does not offer STARTTLS, and Petrel will not send the password without encryption")]
    StartTlsUnavailable,
    #[error("the server sent data before the TLS handshake (possible STARTTLS injection attack)")]
    StartTlsInjection,
    #[error("the server rejected the login: {0}")]
    AuthFailed(String),
    #[error("the server refused a recipient: {0}")]
    RecipientRefused(String),
    #[error("the message is too large for the server: {0}")]
    TooLarge(String),
    #[error("the server refused the message: {0}")]
    Refused(String),
    /// A 4xx answer: try again later (the outbox keeps the message).
    #[error("the server asks to try again later: {0}")]
    Temporary(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    #[error("{what} timed out")]
    Timeout { what: &'static str },
}

impl SmtpError {
    /// Worth retrying later with the same message (network, 4xx), as opposed to a refusal
    /// that needs the user (password, recipient, size).
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            SmtpError::Unreachable { .. }
                | SmtpError::Temporary(_)
                | SmtpError::ConnectionLost(_)
                | SmtpError::Timeout { .. }
        )
    }
}

impl SmtpError {
    /// The server's answer this error carries, as the outbox records it: a 4xx says "try
    /// later", a refusal says "not this message". `None` when no answer was read (a cut, a
    /// timeout): then whether the server has the message is unknown.
    pub fn answer(&self) -> Option<crate::Answer> {
        match self {
            SmtpError::Temporary(m) => Some(crate::Answer::TryLater(m.clone())),
            SmtpError::TooLarge(m) | SmtpError::RecipientRefused(m) | SmtpError::Refused(m) => {
                Some(crate::Answer::Refused(m.clone()))
            }
            _ => None,
        }
    }
}

impl From<petrel_tls::TlsFailure> for SmtpError {
    fn from(f: petrel_tls::TlsFailure) -> Self {
        match f {
            petrel_tls::TlsFailure::Untrusted {
                reason,
                certificate,
            } => SmtpError::CertificateUntrusted {
                reason,
                certificate,
            },
            petrel_tls::TlsFailure::Tls(m) => SmtpError::Tls(m),
            petrel_tls::TlsFailure::Lost(m) => SmtpError::ConnectionLost(m),
        }
    }
}

/// A logged-in submission session. lettre closes the connection after any error, a
/// refusal of one message included, so the session keeps what it needs to log in again
/// for the next message.
pub struct SmtpSession {
    conn: AsyncSmtpConnection,
    hook: DataEndHook,
    server: ServerSettings,
    secret: Secret,
    trust: TrustPolicy,
}

/// How the session proves who the user is.
#[derive(Clone)]
pub enum Secret {
    Password(String),
    /// An OAuth2 access token.
    Bearer(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::Password(_) => "Secret::Password(<redacted>)",
            Secret::Bearer(_) => "Secret::Bearer(<redacted>)",
        })
    }
}

/// One line of our own through lettre's connection (for AUTH exchanges lettre does not
/// know: the token after the server's 334, OAUTHBEARER).
struct Line(String);

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\r\n", self.0)
    }
}

impl SmtpSession {
    /// Connects, secures the connection as `server.security` says, and logs in.
    pub async fn login(
        server: &ServerSettings,
        password: &str,
        trust: &TrustPolicy,
    ) -> Result<SmtpSession, SmtpError> {
        Self::login_with(server, Secret::Password(password.to_string()), trust).await
    }

    /// As `login`, with a password or an OAuth2 access token.
    pub async fn login_with(
        server: &ServerSettings,
        secret: Secret,
        trust: &TrustPolicy,
    ) -> Result<SmtpSession, SmtpError> {
        let (conn, hook) = Self::open(server, &secret, trust).await?;
        Ok(SmtpSession {
            conn,
            hook,
            server: server.clone(),
            secret,
            trust: trust.clone(),
        })
    }

    async fn open(
        server: &ServerSettings,
        secret: &Secret,
        trust: &TrustPolicy,
    ) -> Result<(AsyncSmtpConnection, DataEndHook), SmtpError> {
        let host = server.host.trim().to_string();
        let tcp = timed(
            "connecting",
            TcpStream::connect((host.as_str(), server.port)),
        )
        .await?
        .map_err(|source| SmtpError::Unreachable {
            host: host.clone(),
            port: server.port,
            source,
        })?;
        let _ = tcp.set_nodelay(true);
        let (tcp, greeting) = match server.security {
            Security::Tls => (tcp, None),
            Security::StartTls => {
                let (tcp, greeting) = starttls(tcp).await?;
                (tcp, Some(greeting))
            }
        };
        let tls = timed(
            "the TLS handshake",
            petrel_tls::handshake(tcp, &host, trust, server.pinned_cert_sha256.clone()),
        )
        .await??;
        let hook = DataEndHook::default();
        let stream = Greeted {
            greeting: greeting.unwrap_or_default().into_bytes(),
            at: 0,
            inner: tls,
            hook: hook.clone(),
            marker_left: 0,
            marker_written: false,
        };
        let hello = ClientId::Domain("localhost".into());
        let mut conn = timed(
            "the server's greeting",
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello),
        )
        .await?
        .map_err(|e| classify(e, Stage::Hello))?;
        match secret {
            Secret::Password(password) => {
                let credentials = Credentials::new(server.username.clone(), password.clone());
                timed(
                    "logging in",
                    conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
                )
                .await?
                .map_err(|e| classify(e, Stage::Auth))?;
            }
            Secret::Bearer(token) => {
                timed("signing in", auth_bearer(&mut conn, server, token)).await??;
            }
        }
        Ok((conn, hook))
    }

    /// Sends one message (raw RFC 5322 bytes, Bcc already removed) to `to` from `from`.
    pub async fn send(&mut self, from: &str, to: &[String], raw: &[u8]) -> Result<(), SmtpError> {
        self.send_noting(from, to, raw, || ()).await
    }

    /// As `send`; `handed_over` runs once the end of the data (the final ".") has been
    /// written to the socket — from then on the server, not this process, decides
    /// whether the message goes out, so the outbox records it before the 250 arrives.
    pub async fn send_noting(
        &mut self,
        from: &str,
        to: &[String],
        raw: &[u8],
        handed_over: impl FnOnce() + Send + 'static,
    ) -> Result<(), SmtpError> {
        if self.conn.has_broken() {
            let (conn, hook) = Self::open(&self.server, &self.secret, &self.trust).await?;
            (self.conn, self.hook) = (conn, hook);
        }
        // A poisoned lock is taken over (one policy across Petrel): the hook must be set,
        // or a crash after the end of data would send the message twice.
        *self.hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(handed_over));
        let parse = |a: &str| {
            a.parse::<lettre::Address>()
                .map_err(|e| SmtpError::RecipientRefused(format!("{a}: {e}")))
        };
        let recipients = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        let envelope = lettre::address::Envelope::new(Some(parse(from)?), recipients)
            .map_err(|e| SmtpError::RecipientRefused(e.to_string()))?;
        let sent = timed("sending the message", self.conn.send(&envelope, raw))
            .await?
            .map_err(|e| classify(e, Stage::Send));
        if sent.is_err() && !self.conn.has_broken() {
            // A refused transaction stays open on the server: end it so the next message
            // of this session starts clean.
            let _ = timed("resetting", self.conn.command(Rset)).await;
        }
        self.hook.lock().unwrap_or_else(|p| p.into_inner()).take();
        sent.map(drop)
    }

    pub async fn quit(mut self) {
        let _ = timed("closing", self.conn.quit()).await;
    }
}

/// AUTH with an OAuth2 token: OAUTHBEARER when the EHLO offers it, else XOAUTH2, the
/// token always after the server's 334 — never on the AUTH line, which a 1–2.5 KB token
/// would take past the server's line limit (Dovecot: "500 5.5.2 Line too long"). lettre
/// drops mechanisms it does not know from its EHLO summary, so the EHLO is asked again
/// (allowed at any time, RFC 5321 §4.1.4) and read here.
async fn auth_bearer(
    conn: &mut AsyncSmtpConnection,
    server: &ServerSettings,
    token: &str,
) -> Result<(), SmtpError> {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let ehlo = conn
        .command(Line("EHLO localhost".into()))
        .await
        .map_err(|e| classify(e, Stage::Hello))?;
    let offered: Vec<String> = ehlo
        .message()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            words
                .next()?
                .eq_ignore_ascii_case("AUTH")
                .then(|| words.map(str::to_ascii_uppercase).collect::<Vec<_>>())
        })
        .flatten()
        .collect();
    let Some(mechanism) = BearerMechanism::choose(offered.iter().map(String::as_str)) else {
        return Err(SmtpError::AuthFailed(
            "the server does not offer OAuth2 sign-in (AUTH OAUTHBEARER or XOAUTH2)".into(),
        ));
    };
    conn.command(Line(format!("AUTH {}", mechanism.name())))
        .await
        .map_err(|e| classify(e, Stage::Auth))?;
    let first = mechanism.initial_response(&server.username, &server.host, server.port, token);
    let answer = conn
        .command(Line(b64(&first)))
        .await
        .map_err(|e| classify(e, Stage::Auth))?;
    if answer.code().to_string() == "235" {
        return Ok(());
    }
    // 334 with the server's error report (RFC 7628 §3.2.2): acknowledged, then its 535.
    let report = answer
        .message()
        .next()
        .and_then(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c.trim())
                .ok()
        })
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let why = petrel_core::sasl::describe_challenge(&report);
    match conn
        .command(Line(b64(mechanism.error_acknowledgement())))
        .await
    {
        Ok(_) => Err(SmtpError::AuthFailed(why)),
        Err(e) => Err(match classify(e, Stage::Auth) {
            SmtpError::AuthFailed(text) => SmtpError::AuthFailed(format!("{text} ({why})")),
            other => other,
        }),
    }
}

#[derive(Clone, Copy)]
enum Stage {
    Hello,
    Auth,
    Send,
}

fn classify(e: lettre::transport::smtp::Error, stage: Stage) -> SmtpError {
    let text = e.to_string();
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    if e.is_transient() {
        return SmtpError::Temporary(text);
    }
    match stage {
        // Microsoft 365 with "Authenticated SMTP" off for the mailbox or the organisation:
        // no password or token will help, an administrator must change a setting.
        Stage::Auth if text.contains("5.7.139") => SmtpError::AuthFailed(format!(
            "{text} — Microsoft 365 has sending with SMTP AUTH switched off for this account. \
             An administrator must turn on \"Authenticated SMTP\" for the mailbox (Microsoft 365 \
             admin center → Users → Mail → Manage email apps) or allow it for the organisation \
             (Exchange Online PowerShell: Set-TransportConfig -SmtpClientAuthenticationDisabled $false)."
        )),
        Stage::Auth if e.is_permanent() || e.is_client() => SmtpError::AuthFailed(text),
        Stage::Send if code.starts_with("552") || text.to_ascii_lowercase().contains("size") => {
            SmtpError::TooLarge(text)
        }
        Stage::Send
            if code.starts_with("550") || code.starts_with("553") || code.starts_with("551") =>
        {
            SmtpError::RecipientRefused(text)
        }
        _ if e.is_permanent() => SmtpError::Refused(text),
        _ if e.is_client() => SmtpError::Refused(text),
        _ => SmtpError::ConnectionLost(text),
    }
}

async fn timed<T>(
    what: &'static str,
    f: impl std::future::Future<Output = T>,
) -> Result<T, SmtpError> {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .map_err(|_| SmtpError::Timeout { what })
}

/// Greeting → EHLO → STARTTLS on the plain socket; returns the socket ready for TLS and the
/// greeting (re-shown to lettre after TLS).
async fn starttls(tcp: TcpStream) -> Result<(TcpStream, String), SmtpError> {
    let mut conn = BufReader::new(tcp);
    let greeting = reply(&mut conn).await?;
    if !greeting.starts_with("220") {
        return Err(SmtpError::Refused(greeting));
    }
    send(&mut conn, "EHLO localhost\r\n").await?;
    let ehlo = reply(&mut conn).await?;
    let offers = ehlo.lines().any(|l| {
        l.get(4..)
            .is_some_and(|k| k.trim().eq_ignore_ascii_case("STARTTLS"))
    });
    if !ehlo.starts_with("250") || !offers {
        return Err(SmtpError::StartTlsUnavailable);
    }
    send(&mut conn, "STARTTLS\r\n").await?;
    let go = reply(&mut conn).await?;
    if !go.starts_with("220") {
        return Err(SmtpError::StartTlsUnavailable);
    }
    if !conn.buffer().is_empty() {
        return Err(SmtpError::StartTlsInjection);
    }
    Ok((conn.into_inner(), greeting))
}

async fn send(conn: &mut BufReader<TcpStream>, line: &str) -> Result<(), SmtpError> {
    timed(
        "sending a command",
        conn.get_mut().write_all(line.as_bytes()),
    )
    .await?
    .map_err(|e| SmtpError::ConnectionLost(e.to_string()))
}

/// One SMTP reply (all its lines, "250-…" continuations included), bounded.
async fn reply(conn: &mut BufReader<TcpStream>) -> Result<String, SmtpError> {
    let mut all = String::new();
    for _ in 0..64 {
        let mut line = Vec::new();
        let n = timed("waiting for the server", async {
            let mut limited = (&mut *conn).take(MAX_LINE as u64);
            limited.read_until(b'\n', &mut line).await
        })
        .await?
        .map_err(|e| SmtpError::ConnectionLost(e.to_string()))?;
        if n == 0 {
            return Err(SmtpError::ConnectionLost(
                "the server closed the connection".into(),
            ));
        }
        if !line.ends_with(b"\n") {
            return Err(SmtpError::Refused(
                "an over-long reply line before TLS".into(),
            ));
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let more = text.as_bytes().get(3) == Some(&b'-');
        all.push_str(&text);
        // Kept with CRLF: the greeting is replayed to lettre as the server sent it.
        all.push_str("\r\n");
        if !more {
            return Ok(all);
        }
    }
    Err(SmtpError::Refused("too many reply lines before TLS".into()))
}

/// The TLS stream, first replaying the plaintext greeting for lettre (see the module docs).
struct Greeted {
    greeting: Vec<u8>,
    at: usize,
    inner: TlsStream<TcpStream>,
    hook: DataEndHook,
    /// Bytes of the end-of-data marker still to be written (lettre writes it on its own).
    marker_left: usize,
    /// The marker is written; the next completed flush puts it on the wire.
    marker_written: bool,
}

/// Lettre ends a message's data with exactly this write (RFC 5321 §4.1.1.4).
const END_OF_DATA: &[u8] = b"\r\n.\r\n";

/// Run once the end of a message's data has been handed to the operating system.
type DataEndHook = Arc<std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>>;

impl std::fmt::Debug for Greeted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Greeted").finish_non_exhaustive()
    }
}

impl AsyncRead for Greeted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.at < self.greeting.len() {
            let n = buf.remaining().min(self.greeting.len() - self.at);
            let start = self.at;
            buf.put_slice(&self.greeting[start..start + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Greeted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let marker = if data == END_OF_DATA {
            Some(END_OF_DATA.len())
        } else if self.marker_left > 0 && data.len() == self.marker_left {
            Some(self.marker_left)
        } else {
            self.marker_left = 0;
            None
        };
        let written = Pin::new(&mut self.inner).poll_write(cx, data);
        if let (Some(len), Poll::Ready(Ok(n))) = (marker, &written) {
            self.marker_left = len - n;
            self.marker_written = self.marker_left == 0;
        }
        written
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let flushed = Pin::new(&mut self.inner).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) && self.marker_written {
            self.marker_written = false;
            let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(hook) = hook {
                hook();
            }
        }
        flushed
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Greeted {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.inner.get_ref().0.peer_addr()
    }
}
