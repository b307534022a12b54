//! Scripted servers for STARTTLS faults a real Dovecot will not produce.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_imap::{ImapError, ImapSession, TrustPolicy};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Serves one connection: greets, answers CAPABILITY with `caps`, and answers STARTTLS with
/// `starttls_reply` written in a single packet (so injected bytes arrive with the OK).
async fn scripted_server(caps: &'static str, starttls_reply: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"* OK scripted server ready\r\n")
            .await
            .unwrap();
        let mut line = String::new();
        while r.read_line(&mut line).await.unwrap_or(0) > 0 {
            let tag = line.split_whitespace().next().unwrap_or("").to_string();
            let cmd = line.to_ascii_uppercase();
            if cmd.contains("CAPABILITY") {
                w.write_all(format!("* CAPABILITY {caps}\r\n{tag} OK done\r\n").as_bytes())
                    .await
                    .unwrap();
            } else if cmd.contains("STARTTLS") {
                w.write_all(starttls_reply.replace("TAG", &tag).as_bytes())
                    .await
                    .unwrap();
            } else {
                w.write_all(format!("{tag} BAD no\r\n").as_bytes())
                    .await
                    .unwrap();
            }
            line.clear();
        }
    });
    port
}

fn settings(port: u16) -> ServerSettings {
    ServerSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::StartTls,
        username: "u".into(),
        pinned_cert_sha256: None,
    }
}

#[tokio::test]
async fn bytes_injected_after_starttls_ok_abort_the_connection() {
    let port = scripted_server(
        "IMAP4rev1 STARTTLS",
        "TAG OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n",
    )
    .await;
    let err = ImapSession::login(&settings(port), "pw", &TrustPolicy::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImapError::StartTlsInjection),
        "injection must be detected, got {err:?}"
    );
}

#[tokio::test]
async fn missing_starttls_capability_is_an_error_not_a_plaintext_login() {
    let port = scripted_server("IMAP4rev1 AUTH=PLAIN", "TAG OK begin TLS\r\n").await;
    let err = ImapSession::login(&settings(port), "pw", &TrustPolicy::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ImapError::StartTlsUnavailable), "got {err:?}");
}

#[tokio::test]
async fn refused_starttls_is_an_error() {
    let port = scripted_server("IMAP4rev1 STARTTLS", "TAG NO not today\r\n").await;
    let err = ImapSession::login(&settings(port), "pw", &TrustPolicy::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ImapError::StartTlsUnavailable), "got {err:?}");
}
