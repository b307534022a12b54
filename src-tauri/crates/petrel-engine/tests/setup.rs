//! The wizard's last step against the harness: the incoming login and the SMTP login
//! (EHLO + AUTH) are both checked before anything is saved — a wrong password or an SMTP
//! refusal leaves no account and no keychain entry; a good form is saved with its outgoing
//! server and the provider's "files sent mail itself".
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::Fixture;
use petrel_core::{NewAccount, Security, SendingOptions, ServerSettings};
use petrel_engine::SecretStore;

fn form(f: &Fixture, password: &str, smtp_user: &str) -> NewAccount {
    let alice = f.h.user("alice");
    let server = |port| ServerSettings {
        host: "localhost".into(),
        port,
        security: Security::Tls,
        username: alice.login.clone(),
        pinned_cert_sha256: None,
    };
    NewAccount {
        display_name: "Alice".into(),
        email: alice.login.clone(),
        imap: server(f.h.ports.imaps),
        password: password.into(),
        protocol: Default::default(),
        pop3: Default::default(),
        smtp: Some(ServerSettings {
            username: smtp_user.into(),
            ..server(f.h.ports.submissions)
        }),
        sending: SendingOptions {
            server_files_sent: true,
            ..Default::default()
        },
        sign_in: Default::default(),
        sign_in_ticket: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn incoming_and_outgoing_logins_are_checked_before_saving() {
    let f = Fixture::new();
    let engine = f.engine(f.cache_dir.path());
    let alice = f.h.user("alice").clone();

    // Wrong password: refused at the incoming server.
    let e = engine
        .add_account(form(&f, "wrong", &alice.login))
        .await
        .unwrap_err();
    assert_eq!(
        petrel_core::IpcError::from(e).code,
        petrel_core::ErrorCode::AuthFailed
    );
    assert!(engine.accounts().is_empty());

    // Right password, but the outgoing server refuses the login.
    let e = engine
        .add_account(form(&f, &alice.password, "nobody@example.test"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("outgoing server"), "{e}");
    assert_eq!(
        petrel_core::IpcError::from(e).code,
        petrel_core::ErrorCode::AuthFailed
    );
    assert!(engine.accounts().is_empty(), "nothing saved");

    // Both right: saved with the outgoing server and the sending option.
    let saved = engine
        .add_account(form(&f, &alice.password, &alice.login))
        .await
        .unwrap();
    assert_eq!(saved.smtp.as_ref().unwrap().port, f.h.ports.submissions);
    assert!(saved.sending.server_files_sent);
    assert_eq!(f.secrets.password(&saved.id).unwrap(), alice.password);
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_an_account_keeps_local_mail_unless_asked() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &[b"From: a@example.test\r\nSubject: kept here\r\n\r\nx\r\n".to_vec()],
        false,
    )
    .unwrap();
    let engine = f.engine(f.cache_dir.path());
    let alice = f.h.user("alice").clone();
    let pop = |keep| NewAccount {
        protocol: petrel_core::IncomingProtocol::Pop3,
        imap: ServerSettings {
            port: f.h.ports.pop3s,
            ..form(&f, &alice.password, &alice.login).imap
        },
        smtp: None,
        pop3: petrel_core::Pop3Options {
            leave_on_server: keep,
            ..Default::default()
        },
        ..form(&f, &alice.password, &alice.login)
    };
    // Kept: the mail downloaded here stays on disk, the rest is gone.
    let a = engine
        .add_account(pop(petrel_core::LeaveOnServer::UntilDeletedHere))
        .await
        .unwrap();
    assert_eq!(
        engine
            .envelopes(&a.id, "INBOX", 0, 10, true)
            .await
            .unwrap()
            .rows
            .len(),
        1
    );
    let kept = engine
        .remove_account(&a.id, false)
        .await
        .unwrap()
        .expect("local mail kept");
    assert!(kept.exists(), "{}", kept.display());
    assert!(engine.accounts().is_empty());
    assert!(f.secrets.password(&a.id).is_err(), "keychain entry deleted");
    // Deleted when asked.
    let b = engine
        .add_account(pop(petrel_core::LeaveOnServer::UntilDeletedHere))
        .await
        .unwrap();
    engine.envelopes(&b.id, "INBOX", 0, 10, true).await.unwrap();
    let root = f.config.path().join("mail").join(&b.id.0);
    assert!(root.exists());
    assert_eq!(engine.remove_account(&b.id, true).await.unwrap(), None);
    assert!(!root.exists(), "local mail deleted as asked");
}

/// Lines of Dovecot's log that record a login attempt for `user` (any protocol).
fn login_attempts(f: &Fixture, user: &str) -> usize {
    std::fs::read_to_string(f.h.dir().join("dovecot.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("-login:") && l.contains(user))
        .count()
}

/// Review H3: the password goes only to servers under the address's domain (or its
/// provider's) unless the user confirmed the host by name — checked before any login,
/// the quota look-up included.
#[tokio::test(flavor = "multi_thread")]
async fn no_password_goes_to_an_unconfirmed_foreign_host() {
    let f = Fixture::new();
    let engine = f.engine(f.cache_dir.path());
    let password = f.h.user("alice").password.clone();
    let alice = f.h.user("alice").login.clone();
    let before = login_attempts(&f, &alice);
    let form = form(&f, &password, &alice);
    // "localhost" is not part of example.test.
    let refused = engine
        .add_confirmed_account(form.clone(), &[])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("localhost"), "{refused}");
    let quota = engine
        .confirmed_server_quota(&alice, &form.imap, &password, &[])
        .await
        .unwrap_err();
    assert!(
        quota.to_string().contains("not part of example.test"),
        "{quota}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        login_attempts(&f, &alice),
        before,
        "no login reached the server"
    );
    assert!(engine.accounts().is_empty());
    // Confirmed by name: the same form goes through.
    let added = engine
        .add_confirmed_account(form, &["localhost".into()])
        .await
        .unwrap();
    assert_eq!(added.email, alice);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        login_attempts(&f, &alice) > before,
        "positive control: Dovecot's log records logins"
    );
}
