//! OAuth2 accounts in the engine, end to end against real components: the OpenID Connect
//! provider (npm oidc-provider) signs alice in through the tests' scripted browser, Dovecot
//! accepts its tokens (passdb oauth2) for IMAP and submission, Postfix delivers, and the
//! refresh token lives in the real Secret Service (gnome-keyring) only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{ConnectionState, NewAccount, OAuthProvider, Security, ServerSettings, SignIn};
use petrel_engine::{Engine, KeychainSecrets, MemoryCache, Outgoing, SecretStore, TrustPolicy};
use petrel_harness::{browser_command, Harness, OidcOptions, OIDC_CLIENT_ID};
use petrel_oauth::{CommandBrowser, Endpoints, Http};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn server(h: &Harness, port: u16) -> ServerSettings {
    ServerSettings {
        host: "localhost".into(),
        port,
        security: Security::Tls,
        username: h.user("alice").login.clone(),
        pinned_cert_sha256: None,
    }
}

/// An engine on `config` with a memory cache, trusting the harness's CA.
fn engine_at(config: &Path, secrets: Arc<KeychainSecrets>, h: &Harness) -> Engine {
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    Engine::open(config, secrets, trust, Arc::new(MemoryCache::new())).unwrap()
}

/// A short message to `to`.
fn note(to: &str, subject: &str, body: &str) -> Outgoing {
    Outgoing {
        to: vec![to.to_string()],
        subject: subject.into(),
        body: body.into(),
        ..Default::default()
    }
}

async fn arrived(h: &Harness, subject: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if h.inbox_files("bob").iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|t| t.contains(&format!("Subject: {subject}")))
        }) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oauth_account_reads_sends_renews_and_signs_in_again_without_losing_work() {
    // Access tokens live 3 s: every step below outlives the one before it.
    let h = Harness::start_with_oidc(OidcOptions {
        access_ttl_secs: 3,
        big_tokens: false,
    })
    .unwrap();
    h.seed(
        "alice",
        "INBOX",
        &[b"From: Bob <bob@example.test>\r\nSubject: hello\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nhi\r\n".to_vec()],
        false,
    )
    .unwrap();
    let issuer = h.oidc.as_ref().unwrap().issuer.clone();
    let service = format!("org.petrel.mail.test.oauth.{}", std::process::id());
    let secrets = Arc::new(KeychainSecrets::with_service(service.clone()));
    let config = tempfile::tempdir().unwrap();
    let engine = engine_at(config.path(), secrets.clone(), &h);
    let browser = CommandBrowser::from_command_line(&browser_command()).unwrap();
    let provider = OAuthProvider::Oidc {
        issuer: issuer.clone(),
    };
    let (alice, bob) = (h.user("alice").login.clone(), h.user("bob").login.clone());

    // Sign in; the window would get a ticket and the address, never a token.
    let signed = engine
        .sign_in(
            &provider,
            Some(OIDC_CLIENT_ID),
            None,
            &browser,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(signed.email.as_deref(), Some(alice.as_str()));
    let form = NewAccount {
        display_name: "Alice".into(),
        email: alice.clone(),
        imap: server(&h, h.ports.imaps),
        password: String::new(),
        protocol: Default::default(),
        pop3: Default::default(),
        smtp: Some(server(&h, h.ports.submissions)),
        sending: Default::default(),
        sign_in: SignIn::OAuth2 {
            provider: provider.clone(),
            client_id: Some(OIDC_CLIENT_ID.into()),
        },
        sign_in_ticket: Some(signed.ticket.clone()),
    };
    let id = engine.add_account(form.clone()).await.unwrap().id;
    let refresh = secrets
        .refresh_token(&id)
        .unwrap()
        .expect("in the keychain");
    assert!(
        secrets.password(&id).is_err(),
        "no password entry for an OAuth2 account"
    );
    // A ticket is spent once.
    let again = NewAccount {
        email: "other@example.test".into(),
        ..form
    };
    assert!(engine.add_account(again).await.is_err());

    // INBOX listed and a message sent, both with tokens.
    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(page.total, 1);
    engine
        .send_message(&id, note(&bob, "oauth-first", "Sent with a token.\n"))
        .await
        .unwrap();
    assert!(arrived(&h, "oauth-first").await);

    // The access token expires: the next login renews it from the refresh token first.
    tokio::time::sleep(Duration::from_secs(4)).await;
    engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    engine
        .send_message(&id, note(&bob, "oauth-renewed", "Sent after a renewal.\n"))
        .await
        .unwrap();
    assert!(arrived(&h, "oauth-renewed").await);

    // The provider revokes the sign-in (the user removed Petrel's access): once the access
    // token ends, the account says "Sign in again"; work waits.
    let http = Http::new(&Default::default()).unwrap();
    let endpoints = Endpoints::resolve(&provider, Some(OIDC_CLIENT_ID), &http)
        .await
        .unwrap();
    let current = secrets.refresh_token(&id).unwrap().unwrap();
    petrel_oauth::revoke(&http, &endpoints, &current)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = engine
        .send_message(
            &id,
            note(&bob, "oauth-waited", "Sent after signing in again.\n"),
        )
        .await
        .unwrap();
    assert_eq!(report.queued, 1, "the message waits in the outbox");
    let status = engine.account_status(&id);
    assert_eq!(
        status.state,
        ConnectionState::SignInAgain,
        "{:?}",
        status.message
    );
    // Petrel restarts meanwhile (the IMAP session it had ends): still "Sign in again",
    // and a change made now waits for the server.
    drop(engine);
    let engine = engine_at(config.path(), secrets.clone(), &h);
    let e = engine.refresh_folder(&id, "INBOX", true).await.unwrap_err();
    assert_eq!(
        engine.account_status(&id).state,
        ConnectionState::SignInAgain,
        "{e}"
    );
    assert!(e.to_string().contains("sign in again"), "{e}");
    let outcome = engine
        .set_flags(&id, "INBOX", &[page.rows[0].uid], Some(true), None)
        .await
        .unwrap();
    assert_eq!(outcome.pending, 1, "the action waits: {outcome:?}");
    assert_eq!(engine.pending_actions(&id), 1);

    // Sign in again: the waiting action reaches the server and the message goes.
    engine
        .sign_in_again(&id, &browser, Duration::from_secs(60))
        .await
        .unwrap();
    engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    let sent = engine.flush_outbox(&id).await.unwrap();
    assert_eq!(sent.sent, 1);
    assert!(arrived(&h, "oauth-waited").await);
    assert_eq!(engine.pending_actions(&id), 0);
    assert_eq!(engine.account_status(&id).state, ConnectionState::Online);
    let seen = h
        .inbox_files("alice")
        .iter()
        .any(|f| f.to_string_lossy().ends_with(":2,S"));
    assert!(seen, "the queued \"read\" reached Dovecot");

    // No token anywhere on disk: not the refresh tokens seen, not a bearer line.
    let latest = secrets.refresh_token(&id).unwrap().unwrap();
    for token in [&refresh, &current, &latest] {
        assert!(
            files_containing(config.path(), token).is_empty(),
            "a refresh token on disk"
        );
    }
    assert!(files_containing(config.path(), "Bearer").is_empty());

    // Removing the account removes its token from the keychain.
    engine.remove_account(&id, true).await.unwrap();
    assert_eq!(secrets.refresh_token(&id).unwrap(), None);
}

#[test]
fn a_long_refresh_token_is_kept_in_keychain_pieces_windows_can_hold() {
    let service = format!("org.petrel.mail.test.pieces.{}", std::process::id());
    let secrets = KeychainSecrets::with_service(service.clone());
    let id = petrel_core::AccountId("pieces".into());
    let token: String = (0..3000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    secrets.set_refresh_token(&id, &token).unwrap();
    assert_eq!(
        secrets.refresh_token(&id).unwrap().as_deref(),
        Some(token.as_str())
    );
    // Each entry stays within Windows Credential Manager's 2,560 bytes (UTF-16).
    let out = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", &service])
        .output()
        .expect("secret-tool (libsecret-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    let secrets_listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("secret = "))
        .collect();
    assert_eq!(secrets_listed.len(), 3, "{text}");
    assert!(secrets_listed
        .iter()
        .all(|s| s.encode_utf16().count() * 2 <= 2560));
    // A shorter token replaces it whole (no stale piece left behind).
    secrets.set_refresh_token(&id, "short").unwrap();
    assert_eq!(
        secrets.refresh_token(&id).unwrap().as_deref(),
        Some("short")
    );
    secrets.delete_refresh_token(&id).unwrap();
    assert_eq!(secrets.refresh_token(&id).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_switches_from_password_to_oauth2_and_back() {
    let h = Harness::start_with_oidc(OidcOptions::default()).unwrap();
    let issuer = h.oidc.as_ref().unwrap().issuer.clone();
    let service = format!("org.petrel.mail.test.switch.{}", std::process::id());
    let secrets = Arc::new(KeychainSecrets::with_service(service));
    let config = tempfile::tempdir().unwrap();
    let engine = engine_at(config.path(), secrets.clone(), &h);
    let alice = h.user("alice");
    let id = engine
        .add_account(NewAccount {
            display_name: "Alice".into(),
            email: alice.login.clone(),
            imap: server(&h, h.ports.imaps),
            password: alice.password.clone(),
            protocol: Default::default(),
            pop3: Default::default(),
            smtp: None,
            sending: Default::default(),
            sign_in: SignIn::Password,
            sign_in_ticket: None,
        })
        .await
        .unwrap()
        .id;
    let provider = OAuthProvider::Oidc { issuer };
    let browser = CommandBrowser::from_command_line(&browser_command()).unwrap();

    // A ticket that does not exist changes nothing.
    let oauth = SignIn::OAuth2 {
        provider: provider.clone(),
        client_id: Some(OIDC_CLIENT_ID.into()),
    };
    assert!(engine
        .change_sign_in(&id, oauth.clone(), None, Some("nope".into()))
        .await
        .is_err());
    let now = |engine: &Engine| {
        engine
            .accounts()
            .into_iter()
            .find(|a| a.id == id)
            .unwrap()
            .sign_in
    };
    assert_eq!(now(&engine), SignIn::Password);

    let signed = engine
        .sign_in(
            &provider,
            Some(OIDC_CLIENT_ID),
            None,
            &browser,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let saved = engine
        .change_sign_in(&id, oauth, None, Some(signed.ticket))
        .await
        .unwrap();
    assert!(matches!(saved.sign_in, SignIn::OAuth2 { .. }));
    assert!(secrets.refresh_token(&id).unwrap().is_some());
    assert!(
        secrets.password(&id).is_err(),
        "the password left the keychain"
    );
    engine.refresh_folder(&id, "INBOX", true).await.unwrap();

    // Back to the password: a wrong one is refused and changes nothing.
    assert!(engine
        .change_sign_in(&id, SignIn::Password, Some("wrong".into()), None)
        .await
        .is_err());
    assert!(secrets.refresh_token(&id).unwrap().is_some());
    engine
        .change_sign_in(&id, SignIn::Password, Some(alice.password.clone()), None)
        .await
        .unwrap();
    assert_eq!(secrets.refresh_token(&id).unwrap(), None);
    assert_eq!(secrets.password(&id).unwrap(), alice.password);
    engine.refresh_folder(&id, "INBOX", true).await.unwrap();
    engine.remove_account(&id, true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_account_signed_in_with_oauth2_downloads_mail() {
    let h = Harness::start_with_oidc(OidcOptions::default()).unwrap();
    h.seed(
        "alice",
        "INBOX",
        &[b"From: Bob <bob@example.test>\r\nSubject: by pop3\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nhi\r\n".to_vec()],
        false,
    )
    .unwrap();
    let issuer = h.oidc.as_ref().unwrap().issuer.clone();
    let service = format!("org.petrel.mail.test.pop3oauth.{}", std::process::id());
    let secrets = Arc::new(KeychainSecrets::with_service(service));
    let config = tempfile::tempdir().unwrap();
    let engine = engine_at(config.path(), secrets.clone(), &h);
    let provider = OAuthProvider::Oidc { issuer };
    let browser = CommandBrowser::from_command_line(&browser_command()).unwrap();
    let signed = engine
        .sign_in(
            &provider,
            Some(OIDC_CLIENT_ID),
            None,
            &browser,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let id = engine
        .add_account(NewAccount {
            display_name: "Alice (POP3)".into(),
            email: h.user("alice").login.clone(),
            imap: server(&h, h.ports.pop3s),
            password: String::new(),
            protocol: petrel_core::IncomingProtocol::Pop3,
            pop3: Default::default(),
            smtp: None,
            sending: Default::default(),
            sign_in: SignIn::OAuth2 {
                provider,
                client_id: Some(OIDC_CLIENT_ID.into()),
            },
            sign_in_ticket: Some(signed.ticket),
        })
        .await
        .unwrap()
        .id;
    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(page.total, 1, "downloaded over POP3 with a token");
    engine.remove_account(&id, true).await.unwrap();
}
