//! STARTTLS on 587 is required once chosen: a server that does not offer it, or sends bytes
//! after its 220 (an injection), gets neither the password nor the message.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_smtp::{SmtpError, SmtpSession};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

async fn scripted(offer: bool, inject: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (r, mut w) = tcp.into_split();
        let mut r = BufReader::new(r);
        let _ = w.write_all(b"220 scripted ESMTP\r\n").await;
        let mut line = String::new();
        while r.read_line(&mut line).await.unwrap_or(0) > 0 {
            let reply: &[u8] = if line.starts_with("EHLO") {
                if offer {
                    b"250-scripted\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"
                } else {
                    b"250-scripted\r\n250 AUTH PLAIN\r\n"
                }
            } else if line.starts_with("STARTTLS") {
                if inject {
                    b"220 go ahead\r\n250 injected\r\n"
                } else {
                    b"220 go ahead\r\n"
                }
            } else {
                b"250 ok\r\n"
            };
            if w.write_all(reply).await.is_err() {
                return;
            }
            line.clear();
        }
    });
    port
}

fn settings(port: u16) -> ServerSettings {
    ServerSettings {
        host: "localhost".into(),
        port,
        security: Security::StartTls,
        username: "u".into(),
        pinned_cert_sha256: None,
    }
}

#[tokio::test]
async fn no_starttls_offered_means_no_login() {
    let port = scripted(false, false).await;
    let err = SmtpSession::login(&settings(port), "secret", &Default::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SmtpError::StartTlsUnavailable), "{err:?}");
}

#[tokio::test]
async fn bytes_after_the_starttls_answer_abort() {
    let port = scripted(true, true).await;
    let err = SmtpSession::login(&settings(port), "secret", &Default::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SmtpError::StartTlsInjection), "{err:?}");
}
