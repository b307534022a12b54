//! A scripted POP3 server (implicit TLS) that never locks its maildrop and answers slowly:
//! several sessions of one account overlap on it, as they can on servers without
//! `pop3_lock_session` under load. It counts how many sessions were logged in at once.

use crate::{test_certificates, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub struct ScriptedPop3 {
    pub port: u16,
    /// Pin this certificate (its SHA-256, hex) in the account's settings.
    pub cert_sha256: String,
    active: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedPop3 {
    /// Serves `messages` (UIDLs "m1", "m2"…) to any login; each RETR waits `retr_delay`.
    pub async fn start(messages: Vec<Vec<u8>>, retr_delay: Duration) -> Result<ScriptedPop3> {
        let certs = test_certificates()?;
        let acceptor = crate::tls_acceptor(&certs)?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(crate::io("binding the scripted POP3 server"))?;
        let port = listener
            .local_addr()
            .map_err(crate::io("scripted POP3 address"))?
            .port();
        let (active, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let messages = Arc::new(messages);
        let (a, m) = (active.clone(), most.clone());
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, messages, a, m) =
                    (acceptor.clone(), messages.clone(), a.clone(), m.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = serve(tls, &messages, retr_delay, &a, &m).await;
                    }
                });
            }
        });
        Ok(ScriptedPop3 {
            port,
            cert_sha256: certs.cert_sha256,
            active,
            most,
            task,
        })
    }

    /// The most sessions that were logged in at the same time.
    pub fn most_at_once(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }

    /// Sessions logged in now.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptedPop3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    messages: &[Vec<u8>],
    retr_delay: Duration,
    active: &AtomicUsize,
    most: &AtomicUsize,
) -> std::io::Result<()> {
    let (r, mut w) = tokio::io::split(tls);
    let mut r = BufReader::new(r);
    w.write_all(b"+OK scripted POP3\r\n").await?;
    w.flush().await?;
    let mut logged_in = false;
    let mut line = String::new();
    let result = async {
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let mut words = line.split_whitespace();
            let cmd = words.next().unwrap_or("").to_ascii_uppercase();
            let arg: Option<usize> = words.next().and_then(|n| n.parse().ok());
            let reply = match cmd.as_str() {
                "CAPA" => "+OK\r\nUSER\r\nUIDL\r\n.\r\n".to_string(),
                "USER" => "+OK\r\n".to_string(),
                "PASS" => {
                    if !logged_in {
                        logged_in = true;
                        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                    }
                    "+OK logged in\r\n".to_string()
                }
                "STAT" => format!(
                    "+OK {} {}\r\n",
                    messages.len(),
                    messages.iter().map(Vec::len).sum::<usize>()
                ),
                "UIDL" => format!(
                    "+OK\r\n{}.\r\n",
                    (1..=messages.len())
                        .map(|n| format!("{n} m{n}\r\n"))
                        .collect::<String>()
                ),
                "LIST" => format!(
                    "+OK\r\n{}.\r\n",
                    messages
                        .iter()
                        .enumerate()
                        .map(|(i, m)| format!("{} {}\r\n", i + 1, m.len()))
                        .collect::<String>()
                ),
                "RETR" | "TOP" => match arg.and_then(|n| messages.get(n.wrapping_sub(1))) {
                    Some(m) => {
                        tokio::time::sleep(retr_delay).await;
                        let text = String::from_utf8_lossy(m).replace("\r\n.", "\r\n..");
                        format!("+OK\r\n{text}\r\n.\r\n")
                    }
                    None => "-ERR no such message\r\n".to_string(),
                },
                "QUIT" => {
                    w.write_all(b"+OK bye\r\n").await?;
                    w.flush().await?;
                    return Ok(());
                }
                "NOOP" | "DELE" | "RSET" => "+OK\r\n".to_string(),
                _ => "-ERR unknown command\r\n".to_string(),
            };
            w.write_all(reply.as_bytes()).await?;
            // TLS keeps what the socket could not take yet: flush, or a client waiting
            // for the rest of a reply and a server waiting for the next command stall.
            w.flush().await?;
        }
    }
    .await;
    if logged_in {
        active.fetch_sub(1, Ordering::SeqCst);
    }
    result
}
