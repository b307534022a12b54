//! Access tokens from the real OpenID Connect provider, accepted by Dovecot (passdb oauth2,
//! token introspection) for IMAP, POP3 and submission — with tokens of 2,300 characters,
//! the size of Microsoft's, so no line gets too long — and refused when they are wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{OAuthProvider, Security, ServerSettings};
use petrel_harness::{browser_command, Harness, OidcOptions, OIDC_CLIENT_ID};
use petrel_imap::{ImapError, ImapSession, Login};
use petrel_oauth::{sign_in, CommandBrowser, Endpoints, Http};
use petrel_pop3::{Pop3Error, Pop3Session};
use petrel_smtp::{Secret, SmtpError, SmtpSession};
use petrel_tls::TrustPolicy;
use std::time::{Duration, Instant};

fn server(h: &Harness, port: u16, security: Security) -> ServerSettings {
    ServerSettings {
        host: "localhost".into(),
        port,
        security,
        username: h.user("alice").login.clone(),
        pinned_cert_sha256: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn long_tokens_sign_in_to_imap_pop3_and_submission_and_wrong_ones_are_refused() {
    let h = Harness::start_with_oidc(OidcOptions {
        big_tokens: true,
        ..Default::default()
    })
    .unwrap();
    let issuer = h.oidc.as_ref().unwrap().issuer.clone();
    let http = Http::new(&Default::default()).unwrap();
    let endpoints =
        Endpoints::resolve(&OAuthProvider::Oidc { issuer }, Some(OIDC_CLIENT_ID), &http)
            .await
            .unwrap();
    let browser = CommandBrowser::from_command_line(&browser_command()).unwrap();
    let tokens = sign_in(&http, &endpoints, None, &browser, Duration::from_secs(60))
        .await
        .unwrap();
    let token = tokens.access.clone();
    assert!(
        token.len() > 2000,
        "a Microsoft-sized token: {} bytes",
        token.len()
    );
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    let p = h.ports;

    // IMAP, implicit TLS and STARTTLS.
    for (port, security) in [(p.imaps, Security::Tls), (p.imap, Security::StartTls)] {
        let mut s =
            ImapSession::login_with(&server(&h, port, security), Login::Bearer(&token), &trust)
                .await
                .unwrap();
        s.noop().await.unwrap();
        s.logout().await;
    }
    let e = ImapSession::login_with(
        &server(&h, p.imaps, Security::Tls),
        Login::Bearer("forged"),
        &trust,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ImapError::AuthFailed(_)), "{e:?}");

    // POP3.
    let pop = server(&h, p.pop3s, Security::Tls);
    let mut s = Pop3Session::connect(&pop, &trust).await.unwrap();
    s.login_bearer(&pop.username, &pop.host, pop.port, &token)
        .await
        .unwrap();
    s.stat().await.unwrap();
    s.quit().await.unwrap();
    let mut s = Pop3Session::connect(&pop, &trust).await.unwrap();
    let e = s
        .login_bearer(&pop.username, &pop.host, pop.port, "forged")
        .await
        .unwrap_err();
    assert!(matches!(e, Pop3Error::AuthFailed(_)), "{e:?}");

    // Submission: the token after the 334, then a message delivered to bob.
    let (alice, bob) = (h.user("alice"), h.user("bob"));
    for (port, security, subject) in [
        (p.submissions, Security::Tls, "oauth-465"),
        (p.submission, Security::StartTls, "oauth-587"),
    ] {
        let mut s = SmtpSession::login_with(
            &server(&h, port, security),
            Secret::Bearer(token.clone()),
            &trust,
        )
        .await
        .unwrap();
        let raw = format!(
            "From: <{a}>\r\nTo: <{b}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@petrel.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nSent with a token.\r\n",
            a = alice.login,
            b = bob.login
        );
        s.send(
            &alice.login,
            std::slice::from_ref(&bob.login),
            raw.as_bytes(),
        )
        .await
        .unwrap();
        s.quit().await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let arrived = loop {
            let found = h.inbox_files("bob").iter().any(|f| {
                std::fs::read_to_string(f).is_ok_and(|t| t.contains(&format!("Subject: {subject}")))
            });
            if found || Instant::now() > deadline {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(arrived, "{subject} reached bob");
    }
    let e = SmtpSession::login_with(
        &server(&h, p.submissions, Security::Tls),
        Secret::Bearer("forged".into()),
        &trust,
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(e, SmtpError::AuthFailed(_)), "{e:?}");
}
