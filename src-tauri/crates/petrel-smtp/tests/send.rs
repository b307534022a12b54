//! Sending through the harness: Dovecot's submission service (587 STARTTLS and 465 TLS)
//! relays to Postfix, which delivers to the recipient's mailbox over LMTP — a real loop.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_harness::Harness;
use petrel_smtp::{SmtpError, SmtpSession};
use petrel_tls::TrustPolicy;
use std::time::{Duration, Instant};

fn server(h: &Harness, security: Security) -> ServerSettings {
    ServerSettings {
        host: "localhost".into(),
        port: match security {
            Security::Tls => h.ports.submissions,
            Security::StartTls => h.ports.submission,
        },
        security,
        username: h.user("alice").login.clone(),
        pinned_cert_sha256: None,
    }
}

fn message(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Alice <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@petrel.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus dem Test.\r\n.leading dot line\r\n"
    )
    .into_bytes()
}

fn arrived(h: &Harness, subject: &str) -> Option<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        for f in h.inbox_files("bob") {
            if let Ok(raw) = std::fs::read(&f) {
                if String::from_utf8_lossy(&raw).contains(&format!("Subject: {subject}")) {
                    return Some(raw);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn alice_sends_to_bob_over_starttls_and_implicit_tls() {
    let h = Harness::start().unwrap();
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    let (alice, bob) = (h.user("alice"), h.user("bob"));
    for (security, subject) in [(Security::StartTls, "via-587"), (Security::Tls, "via-465")] {
        let mut s = SmtpSession::login(&server(&h, security), &alice.password, &trust)
            .await
            .unwrap();
        s.send(
            &alice.login,
            std::slice::from_ref(&bob.login),
            &message(&alice.login, &bob.login, subject),
        )
        .await
        .unwrap();
        s.quit().await;
        let raw = arrived(&h, subject).unwrap_or_else(|| panic!("{subject} never arrived"));
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("Grüße aus dem Test."), "8-bit body intact");
        assert!(
            text.contains("\n.leading dot line"),
            "dot-stuffing undone by the server: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_an_auth_error_and_not_temporary() {
    let h = Harness::start().unwrap();
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    let err = SmtpSession::login(&server(&h, Security::Tls), "wrong", &trust)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SmtpError::AuthFailed(_)), "{err:?}");
    assert!(!err.is_temporary());
    // Without the harness CA the certificate is refused with its details.
    let err = SmtpSession::login(
        &server(&h, Security::StartTls),
        "x",
        &TrustPolicy::default(),
    )
    .await
    .err()
    .unwrap();
    assert!(
        matches!(err, SmtpError::CertificateUntrusted { .. }),
        "{err:?}"
    );
}

/// Microsoft 365 with SMTP AUTH switched off for the tenant answers a valid token with
/// 535 5.7.139; no token or password can help, so the error says what an administrator
/// must change (a scripted server: a real one cannot be told to answer so).
#[tokio::test(flavor = "multi_thread")]
async fn smtp_auth_disabled_for_the_tenant_says_what_an_administrator_must_change() {
    let smtp = petrel_harness::ScriptedSmtp::start(&[]).await.unwrap();
    let server = ServerSettings {
        host: "localhost".into(),
        port: smtp.port,
        security: Security::Tls,
        username: "ana@contoso.example".into(),
        pinned_cert_sha256: Some(smtp.cert_sha256.clone()),
    };
    let trust = TrustPolicy::default();
    let e = SmtpSession::login_with(
        &server,
        petrel_smtp::Secret::Bearer("tenant-off".into()),
        &trust,
    )
    .await
    .err()
    .unwrap();
    match e {
        SmtpError::AuthFailed(text) => {
            assert!(text.contains("5.7.139"), "{text}");
            assert!(text.contains("administrator must turn on"), "{text}");
            assert!(text.contains("SmtpClientAuthenticationDisabled"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    // The same server takes another token (the path works; only the tenant setting failed).
    let ok =
        SmtpSession::login_with(&server, petrel_smtp::Secret::Bearer("fine".into()), &trust).await;
    assert!(ok.is_ok(), "{:?}", ok.err());
}

/// Review L13: lettre reads an SMTP line with no cap of its own, so a greeting that never
/// ends took memory until the 60 s timeout. Petrel's stream stops it at one long line.
#[tokio::test(flavor = "multi_thread")]
async fn a_reply_line_that_never_ends_is_cut_short() {
    let (port, cert, taken) = petrel_harness::endless_greeting().await.unwrap();
    let server = ServerSettings {
        host: "localhost".into(),
        port,
        security: Security::Tls,
        username: "u".into(),
        pinned_cert_sha256: Some(cert),
    };
    let started = Instant::now();
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        SmtpSession::login(&server, "pw", &TrustPolicy::default()),
    )
    .await
    .expect("the client must not wait for the timeout")
    .err()
    .unwrap();
    match e {
        SmtpError::ConnectionLost(words) => {
            assert!(words.contains("line longer than 4096 bytes"), "{words}")
        }
        other => panic!("expected the ceiling's words, got {other:?}"),
    }
    let taken = tokio::time::timeout(Duration::from_secs(30), taken)
        .await
        .unwrap()
        .unwrap();
    assert!(
        taken <= 16 << 20,
        "the client took {} MiB of one line",
        taken >> 20
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}
