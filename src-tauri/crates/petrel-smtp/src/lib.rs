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
/// Lines of one reply (an EHLO answer has about fifteen).
const MAX_REPLY_LINES: usize = 64;

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
    /// The outbox could not record the message as leaving, so its end was not sent and
    /// the server dropped it: nothing went out.
    #[error("the message was not sent: the outbox could not record it as leaving ({0})")]
    Unrecorded(String),
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
            inner: petrel_tls::Bounded::new(tls, SmtpReplies::default()),
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
        let handover = Handover {
            before: Box::new(|| Ok(())),
            after: Box::new(|| ()),
        };
        self.send_noting(from, to, raw, handover).await
    }

    /// As `send`, with `handover` run around the end of the data (the final "."): from
    /// then on the server, not this process, decides whether the message goes out, so the
    /// outbox records it on both sides of that moment (see [`Handover`]).
    pub async fn send_noting(
        &mut self,
        from: &str,
        to: &[String],
        raw: &[u8],
        handover: Handover,
    ) -> Result<(), SmtpError> {
        if self.conn.has_broken() || self.was_cut() {
            let (conn, hook) = Self::open(&self.server, &self.secret, &self.trust).await?;
            (self.conn, self.hook) = (conn, hook);
        }
        // A poisoned lock is taken over (one policy across Petrel): the hooks must be set,
        // or a crash around the end of data could send the message twice.
        self.hook.lock().unwrap_or_else(|p| p.into_inner()).handover = Some(handover);
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
        if sent.is_err() && !self.conn.has_broken() && !self.was_cut() {
            // A refused transaction stays open on the server: end it so the next message
            // of this session starts clean.
            let _ = timed("resetting", self.conn.command(Rset)).await;
        }
        self.hook
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .handover
            .take();
        sent.map(drop)
    }

    /// The last message's data was cut short (its end not written): the server still
    /// reads data, so the connection can carry no other command.
    fn was_cut(&self) -> bool {
        self.hook.lock().unwrap_or_else(|p| p.into_inner()).cut
    }

    pub async fn quit(mut self) {
        if !self.was_cut() {
            let _ = timed("closing", self.conn.quit()).await;
        }
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
    // Past the ceiling the reply was not read: no answer, as for a cut.
    if let Some(over) = petrel_tls::ReplyTooLarge::of(&e) {
        return SmtpError::ConnectionLost(over.0.clone());
    }
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
    for _ in 0..MAX_REPLY_LINES {
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

/// Where one SMTP reply ends ("250-" lines continue it, "250 " ends it), for the ceiling on
/// replies after TLS (`petrel_tls::Bounded`, review L13): lettre reads a line with no cap
/// of its own, so a server that never ends one would otherwise take memory until the
/// timeout. The same bounds as the plaintext replies before TLS.
#[derive(Debug, Default)]
struct SmtpReplies {
    /// Bytes of the current line so far, and its first four.
    line: usize,
    head: [u8; 4],
    /// Lines of the current reply so far.
    lines: usize,
}

impl petrel_tls::ReplyMeter for SmtpReplies {
    fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
        for &b in bytes {
            if b == b'\n' {
                self.lines += 1;
                // "250-…" continues the reply; anything else ends it.
                if self.head[3] == b'-' {
                    if self.lines >= MAX_REPLY_LINES {
                        return Err(format!(
                            "the server sent a reply of more than {MAX_REPLY_LINES} lines"
                        ));
                    }
                } else {
                    self.lines = 0;
                }
                (self.line, self.head) = (0, [0; 4]);
                continue;
            }
            if let Some(slot) = self.head.get_mut(self.line) {
                *slot = b;
            }
            self.line += 1;
            if self.line > MAX_LINE {
                return Err(format!(
                    "the server sent a reply line longer than {MAX_LINE} bytes"
                ));
            }
        }
        Ok(())
    }
}

/// The TLS stream, first replaying the plaintext greeting for lettre (see the module docs).
struct Greeted {
    greeting: Vec<u8>,
    at: usize,
    inner: petrel_tls::Bounded<TlsStream<TcpStream>, SmtpReplies>,
    hook: DataEndHook,
    /// Bytes of the end-of-data marker still to be written (lettre writes it on its own).
    marker_left: usize,
    /// The marker is written; the next completed flush puts it on the wire.
    marker_written: bool,
}

/// Lettre ends a message's data with exactly this write (RFC 5321 §4.1.1.4).
const END_OF_DATA: &[u8] = b"\r\n.\r\n";

/// What the sender records around the end of a message's data, the moment after which
/// only the server knows whether the message goes out.
pub struct Handover {
    /// Run before the end is written. An error keeps it unwritten (the write fails with
    /// the words), so the server drops the unfinished message: nothing leaves that its
    /// sender has not first recorded as leaving.
    pub before: Box<dyn FnOnce() -> Result<(), String> + Send>,
    /// Run once the end has been handed to the operating system.
    pub after: Box<dyn FnOnce() + Send>,
}

/// The handover of the message being sent, shared by the session and its stream.
#[derive(Default)]
struct HookSlot {
    handover: Option<Handover>,
    /// `before` refused: the message's end was never written (see `SmtpSession::was_cut`).
    cut: bool,
}

type DataEndHook = Arc<std::sync::Mutex<HookSlot>>;

impl Greeted {
    fn is_cut(&self) -> bool {
        self.hook.lock().unwrap_or_else(|p| p.into_inner()).cut
    }
}

fn cut_error() -> std::io::Error {
    std::io::Error::other("the message's data was cut short, so the connection is closed")
}

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
        if self.is_cut() {
            return Poll::Ready(Err(cut_error()));
        }
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
        // After a cut, lettre's own QUIT would wait for a reply the server (still reading
        // data) never sends: nothing more goes on this connection.
        if self.is_cut() {
            return Poll::Ready(Err(cut_error()));
        }
        let marker = if data == END_OF_DATA {
            if self.marker_left == 0 {
                let before = {
                    let mut slot = self.hook.lock().unwrap_or_else(|p| p.into_inner());
                    slot.handover
                        .as_mut()
                        .map(|h| std::mem::replace(&mut h.before, Box::new(|| Ok(()))))
                };
                if let Some(Err(why)) = before.map(|before| before()) {
                    let mut slot = self.hook.lock().unwrap_or_else(|p| p.into_inner());
                    (slot.handover, slot.cut) = (None, true);
                    return Poll::Ready(Err(std::io::Error::other(why)));
                }
            }
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
            let hook = self
                .hook
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .handover
                .take();
            if let Some(hook) = hook {
                (hook.after)();
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
        self.inner.get_ref().get_ref().0.peer_addr()
    }
}
