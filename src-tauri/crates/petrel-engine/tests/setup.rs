//! The wizard's last step against the harness: the incoming login and the SMTP login
//! (EHLO + AUTH) are both checked before anything is saved — a wrong password or an SMTP
//! refusal leaves no account and no keychain entry; a good form is saved with its outgoing
//! server and the provider's "files sent mail itself".

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
