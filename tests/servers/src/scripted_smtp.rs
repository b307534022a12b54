//! A scripted SMTP submission server (implicit TLS) for the replies a real server gives only
//! under conditions a test cannot arrange on demand: a size, spam or rate-limit answer
//! *after* the end of DATA. It answers each message's final "." with the next reply of its
//! script (then "250"), and keeps every message it accepted.

use crate::{test_certificates, Result};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The longest line the script reads (RFC 5321 §4.5.3.1.6 allows 1000 with CRLF).
const MAX_LINE: usize = 64 * 1024;

pub struct ScriptedSmtp {
    pub port: u16,
    /// Pin this certificate (its SHA-256, hex) in the account's SMTP settings.
    pub cert_sha256: String,
    accepted: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedSmtp {
    /// Starts on 127.0.0.1; `after_data` are the replies to the first messages' final ".",
    /// in order ("552 5.3.4 too big"); later messages are accepted.
    pub async fn start(after_data: &[&str]) -> Result<ScriptedSmtp> {
        let certs = test_certificates()?;
        let acceptor = crate::tls_acceptor(&certs)?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(crate::io("binding the scripted SMTP server"))?;
        let port = listener
            .local_addr()
            .map_err(crate::io("scripted SMTP address"))?
            .port();
        let script: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(
            after_data.iter().rev().map(|s| s.to_string()).collect(),
        ));
        let accepted: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let kept = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, script, kept) = (acceptor.clone(), script.clone(), kept.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = serve(tls, script, kept).await;
                    }
                });
            }
        });
        Ok(ScriptedSmtp {
            port,
            cert_sha256: certs.cert_sha256,
            accepted,
            task,
        })
    }

    /// The messages accepted so far (as received, dot-unstuffed), in order.
    pub fn accepted(&self) -> Vec<Vec<u8>> {
        self.accepted.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

/// A server whose greeting never ends: "220-" and then a line without its end, in 1 MiB
/// writes, up to 600 MiB. Gives the port, the certificate to pin, and (once the client
/// stopped reading) how many bytes of the greeting it took.
pub async fn endless_greeting() -> Result<(u16, String, tokio::sync::oneshot::Receiver<u64>)> {
    let certs = test_certificates()?;
    let acceptor = crate::tls_acceptor(&certs)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(crate::io("binding the endless SMTP server"))?;
    let port = listener
        .local_addr()
        .map_err(crate::io("endless SMTP address"))?
        .port();
    let (taken_tx, taken) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut tls) = acceptor.accept(tcp).await else {
            return;
        };
        let mut sent = 0u64;
        if tls.write_all(b"220-").await.is_ok() {
            let chunk = vec![b'a'; 1 << 20];
            while sent < 600 << 20 {
                if tls.write_all(&chunk).await.is_err() || tls.flush().await.is_err() {
                    break;
                }
                sent += chunk.len() as u64;
            }
        }
        let _ = taken_tx.send(sent);
    });
    Ok((port, certs.cert_sha256, taken))
}

impl Drop for ScriptedSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    script: Arc<Mutex<Vec<String>>>,
    kept: Arc<Mutex<Vec<Vec<u8>>>>,
) -> std::io::Result<()> {
    let (r, mut w) = tokio::io::split(tls);
    let mut r = BufReader::new(r);
    w.write_all(b"220 scripted.test ESMTP\r\n").await?;
    w.flush().await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if read_line(&mut r, &mut line).await? == 0 {
            return Ok(());
        }
        let cmd = String::from_utf8_lossy(&line)
            .trim_end()
            .to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("EHLO") {
            b"250-scripted.test\r\n250-AUTH PLAIN LOGIN XOAUTH2\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if cmd == "AUTH XOAUTH2" {
            // As Microsoft 365 answers a valid token when its tenant has SMTP AUTH off
            // (the token "tenant-off"); any other token is accepted.
            w.write_all(b"334 \r\n").await?;
            w.flush().await?;
            line.clear();
            read_line(&mut r, &mut line).await?;
            use base64::Engine as _;
            let token = base64::engine::general_purpose::STANDARD
                .decode(String::from_utf8_lossy(&line).trim())
                .unwrap_or_default();
            if String::from_utf8_lossy(&token).contains("auth=Bearer tenant-off") {
                b"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.\r\n"
            } else {
                b"235 2.7.0 accepted\r\n"
            }
        } else if cmd.starts_with("AUTH PLAIN ") {
            b"235 2.7.0 accepted\r\n"
        } else if cmd.starts_with("AUTH") {
            // PLAIN without an initial response, or LOGIN: prompts until a 235.
            w.write_all(b"334 \r\n").await?;
            w.flush().await?;
            line.clear();
            read_line(&mut r, &mut line).await?;
            if cmd.contains("LOGIN") {
                w.write_all(b"334 \r\n").await?;
                w.flush().await?;
                line.clear();
                read_line(&mut r, &mut line).await?;
            }
            b"235 2.7.0 accepted\r\n"
        } else if cmd.starts_with("DATA") {
            w.write_all(b"354 go ahead\r\n").await?;
            w.flush().await?;
            let mut message = Vec::new();
            loop {
                line.clear();
                if read_line(&mut r, &mut line).await? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" {
                    break;
                }
                let body = if line.starts_with(b"..") {
                    &line[1..]
                } else {
                    &line[..]
                };
                message.extend_from_slice(body);
            }
            let next = script.lock().ok().and_then(|mut s| s.pop());
            match next {
                Some(reply) => {
                    w.write_all(format!("{reply}\r\n").as_bytes()).await?;
                }
                None => {
                    if let Ok(mut k) = kept.lock() {
                        k.push(message);
                    }
                    w.write_all(b"250 2.0.0 queued\r\n").await?;
                }
            }
            w.flush().await?;
            continue;
        } else if cmd.starts_with("QUIT") {
            w.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            // MAIL, RCPT, RSET, NOOP.
            b"250 2.0.0 ok\r\n"
        };
        w.write_all(reply).await?;
        // See scripted_pop3: TLS must be flushed before waiting for the next command.
        w.flush().await?;
    }
}

async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt;
    let mut limited = r.take(MAX_LINE as u64);
    limited.read_until(b'\n', line).await
}
