//! A TLS failure tells the user what to check for the server that failed: the POP3 ports
//! for a POP3 server, the submission ports for the outgoing server (review: every failure
//! used to carry IMAP's "993/143" hint).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{pop3_form, submission, Fixture};
use petrel_core::{ErrorCode, IpcError, NewAccount, Security, ServerSettings};

fn assert_tls_hint(e: &IpcError, ours: &[&str], theirs: &[&str]) {
    assert_eq!(e.code, ErrorCode::Tls, "{}", e.message);
    for port in ours {
        assert!(e.message.contains(port), "no {port} in: {}", e.message);
    }
    for port in theirs {
        assert!(!e.message.contains(port), "{port} in: {}", e.message);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_tls_failure_names_the_pop3_ports() {
    let f = Fixture::new();
    let engine = f.engine(f.cache_dir.path());
    let password = f.h.user("alice").password.clone();
    // Implicit TLS against Dovecot's plaintext POP3 port: its greeting is not a handshake.
    let mut form = pop3_form(&f, &password);
    form.imap.port = f.h.ports.pop3;
    let err = engine.add_account(form).await.unwrap_err();
    assert_tls_hint(
        &IpcError::from(&err),
        &["995", "110"],
        &["993", "143", "465", "587"],
    );
    assert!(engine.accounts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smtp_tls_failure_names_the_submission_ports() {
    let f = Fixture::new();
    let engine = f.engine(f.cache_dir.path());
    let alice = f.h.user("alice");
    // IMAP is right; the outgoing server is implicit TLS against the STARTTLS port.
    let form = NewAccount {
        display_name: "Alice".into(),
        email: alice.login.clone(),
        imap: ServerSettings {
            host: "localhost".into(),
            port: f.h.ports.imaps,
            security: Security::Tls,
            username: alice.login.clone(),
            pinned_cert_sha256: None,
        },
        password: alice.password.clone(),
        protocol: Default::default(),
        pop3: Default::default(),
        smtp: Some(submission(&f, "alice", f.h.ports.submission)),
        sending: Default::default(),
        sign_in: Default::default(),
        sign_in_ticket: None,
    };
    let err = engine.add_account(form).await.unwrap_err();
    assert_tls_hint(
        &IpcError::from(&err),
        &["465", "587"],
        &["993", "143", "995", "110"],
    );
    assert!(engine.accounts().is_empty());
}
