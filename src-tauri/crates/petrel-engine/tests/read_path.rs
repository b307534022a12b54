//! The thin read path against a real Dovecot (harness) and the real OS keychain
//! (Secret Service; run under `dbus-run-session` with an unlocked gnome-keyring).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{ErrorCode, FolderRole, IpcError, NewAccount, Security, ServerSettings};
use petrel_engine::{AccountsFile, Engine, KeychainSecrets, MemoryCache, SecretStore, TrustPolicy};
use petrel_harness::Harness;
use std::path::Path;
use std::sync::Arc;

/// The harness shared by this binary's concurrent tests, seeded with the sample mailbox.
fn harness() -> Arc<Harness> {
    petrel_harness::shared(|h| {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/servers/sample");
        assert_eq!(h.seed_eml_dir("alice", "INBOX", &sample).unwrap(), 5);
        h.seed(
            "alice",
            "Projects/Petrel",
            &[b"Subject: nested\r\n\r\nin a nested folder".to_vec()],
            true,
        )
        .unwrap();
    })
}

/// A keychain service name of each test's own (tests run in parallel), so "nothing was
/// stored" can be checked by listing the service's entries.
fn secrets() -> (Arc<KeychainSecrets>, String) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let service = format!("org.petrel.mail.test.{}.{n}", std::process::id());
    (
        Arc::new(KeychainSecrets::with_service(service.clone())),
        service,
    )
}

/// Entries the Secret Service holds for `service`, listed with `secret-tool` — a client
/// independent of Petrel's keyring crate.
fn keychain_entries(service: &str) -> usize {
    let out = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", service])
        .output()
        .expect("secret-tool (libsecret-tools) is installed by scripts/install-deps.sh");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines().filter(|l| l.starts_with('[')).count()
}

/// An engine over `dir` with a memory cache: these tests are about accounts and the keychain.
fn engine_in(dir: &Path, secrets: Arc<KeychainSecrets>, trust: TrustPolicy) -> Engine {
    Engine::open(dir, secrets, trust, Arc::new(MemoryCache::new())).unwrap()
}

fn trust(h: &Harness) -> TrustPolicy {
    TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap()
}

fn form(h: &Harness, port: u16, security: Security, password: &str) -> NewAccount {
    let alice = h.user("alice");
    NewAccount {
        display_name: "Alice".into(),
        email: alice.login.clone(),
        imap: ServerSettings {
            host: "localhost".into(),
            port,
            security,
            username: alice.login.clone(),
            pinned_cert_sha256: None,
        },
        password: password.into(),
        protocol: Default::default(),
        pop3: Default::default(),
        smtp: None,
        sending: Default::default(),
        sign_in: Default::default(),
        sign_in_ticket: None,
    }
}

fn assert_nothing_saved(dir: &Path, service: &str, engine: &Engine) {
    assert!(
        engine.accounts().is_empty(),
        "no account may be kept after a failed add"
    );
    assert!(
        !AccountsFile::path(dir).exists(),
        "no settings file may be written after a failed add"
    );
    assert_eq!(
        keychain_entries(service),
        0,
        "no password may stay in the keychain after a failed add"
    );
}

fn grep_dir(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            hits.extend(grep_dir(&path, needle));
        } else if std::fs::read(&path)
            .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread")]
async fn add_account_lists_folders_and_reads_a_message_over_tls_and_starttls() {
    let h = harness();
    for (port, security) in [
        (h.ports.imaps, Security::Tls),
        (h.ports.imap, Security::StartTls),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (secrets, service) = secrets();
        let engine = engine_in(dir.path(), secrets.clone(), trust(&h));
        let password = h.user("alice").password.clone();
        let account = engine
            .add_account(form(&h, port, security, &password))
            .await
            .expect("account is added");
        // Positive control for keychain_entries(): the password is in the Secret Service.
        assert_eq!(
            keychain_entries(&service),
            1,
            "the password is stored in the keychain"
        );

        let folders = engine.folders(&account.id).await.unwrap();
        let paths: Vec<&str> = folders.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            folders[0].role,
            Some(FolderRole::Inbox),
            "INBOX comes first: {paths:?}"
        );
        for expected in ["Drafts", "Sent", "Trash", "Projects/Petrel"] {
            assert!(
                paths.contains(&expected),
                "{expected} missing from {paths:?}"
            );
        }
        let nested = folders
            .iter()
            .find(|f| f.path == "Projects/Petrel")
            .unwrap();
        assert_eq!(
            (nested.name.as_str(), nested.parent.as_deref()),
            ("Petrel", Some("Projects"))
        );

        let page = engine
            .envelopes(&account.id, "INBOX", 0, 200, false)
            .await
            .unwrap();
        assert_eq!(page.total, 5);
        assert_eq!(page.rows.len(), 5);
        assert!(
            page.rows.windows(2).all(|w| w[0].uid > w[1].uid),
            "newest first"
        );
        let subjects: Vec<&str> = page.rows.iter().map(|r| r.subject.as_str()).collect();
        assert!(
            subjects.contains(&"Reunión del lunes"),
            "RFC 2047 subject decoded: {subjects:?}"
        );
        assert!(page.rows.iter().any(|r| r.from == "José García"));

        let welcome = page
            .rows
            .iter()
            .find(|r| r.subject == "Welcome to Petrel")
            .unwrap();
        let view = engine
            .message(&account.id, "INBOX", welcome.uid)
            .await
            .unwrap();
        assert!(
            view.text.contains("The petrel is a seabird"),
            "body text: {:?}",
            view.text
        );
        assert_eq!(view.from, "Ana Lima <ana@example.test>");

        // Paging by position: rows 2..4 are the 3rd and 4th newest.
        let window = engine
            .envelopes(&account.id, "INBOX", 2, 2, false)
            .await
            .unwrap();
        assert_eq!(
            window.rows.iter().map(|r| r.uid).collect::<Vec<_>>(),
            page.rows[2..4].iter().map(|r| r.uid).collect::<Vec<_>>()
        );

        // Malformed mail is listed and readable.
        let broken = page
            .rows
            .iter()
            .find(|r| r.subject.starts_with("Latin-1"))
            .expect("malformed mail is listed");
        let view = engine
            .message(&account.id, "INBOX", broken.uid)
            .await
            .unwrap();
        assert!(view.text.contains("unterminated multipart"));

        // The settings survive a restart; the password comes back from the keychain.
        drop(engine);
        let engine = engine_in(dir.path(), secrets.clone(), trust(&h));
        assert_eq!(engine.accounts(), vec![account.clone()]);
        assert_eq!(
            engine
                .envelopes(&account.id, "INBOX", 0, 10, false)
                .await
                .unwrap()
                .total,
            5
        );

        assert!(
            grep_dir(dir.path(), &password).is_empty(),
            "password found on disk"
        );
        engine.remove_account(&account.id, true).await.unwrap();
        assert_eq!(
            keychain_entries(&service),
            0,
            "removing the account deletes its keychain entry"
        );
        assert!(
            secrets.password(&account.id).is_err(),
            "removing the account deletes its keychain entry"
        );
        assert!(engine.accounts().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_auth_failed_and_saves_nothing() {
    let h = harness();
    let dir = tempfile::tempdir().unwrap();
    let (secrets, service) = secrets();
    let engine = engine_in(dir.path(), secrets.clone(), trust(&h));
    let err = engine
        .add_account(form(&h, h.ports.imaps, Security::Tls, "not-the-password"))
        .await
        .unwrap_err();
    let ipc = IpcError::from(&err);
    assert_eq!(ipc.code, ErrorCode::AuthFailed, "{ipc:?}");
    assert!(
        ipc.message.contains("password"),
        "the message tells the user what to check: {}",
        ipc.message
    );
    assert_nothing_saved(dir.path(), &service, &engine);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_host_is_reported_and_saves_nothing() {
    let h = harness();
    let dir = tempfile::tempdir().unwrap();
    let (secrets, service) = secrets();
    let engine = engine_in(dir.path(), secrets.clone(), trust(&h));
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = engine
        .add_account(form(&h, port, Security::Tls, "x"))
        .await
        .unwrap_err();
    let ipc = IpcError::from(&err);
    assert_eq!(ipc.code, ErrorCode::Unreachable, "{ipc:?}");
    assert!(ipc.retryable);
    assert_nothing_saved(dir.path(), &service, &engine);
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusted_certificate_is_shown_and_can_be_pinned() {
    let h = harness();
    let dir = tempfile::tempdir().unwrap();
    let (secrets, service) = secrets();
    // No harness CA: the server's certificate is unknown to this engine.
    let engine = engine_in(dir.path(), secrets.clone(), TrustPolicy::default());
    let password = h.user("alice").password.clone();
    let err = engine
        .add_account(form(&h, h.ports.imaps, Security::Tls, &password))
        .await
        .unwrap_err();
    let ipc = IpcError::from(&err);
    assert_eq!(ipc.code, ErrorCode::CertificateUntrusted, "{ipc:?}");
    let cert = ipc
        .certificate
        .expect("the refused certificate is described");
    assert_eq!(
        cert.sha256,
        h.server_cert_sha256(),
        "the fingerprint shown is the server's"
    );
    assert!(
        cert.subject.contains("localhost"),
        "subject: {}",
        cert.subject
    );
    assert!(
        cert.issuer.contains("Petrel Test CA"),
        "issuer: {}",
        cert.issuer
    );
    assert_nothing_saved(dir.path(), &service, &engine);

    // A wrong pin is still refused.
    let mut wrong = form(&h, h.ports.imaps, Security::Tls, &password);
    wrong.imap.pinned_cert_sha256 = Some("00".repeat(32));
    let err = engine.add_account(wrong).await.unwrap_err();
    assert_eq!(IpcError::from(&err).code, ErrorCode::CertificateUntrusted);

    // The user trusts exactly that certificate: the account is added, the pin saved.
    let mut pinned = form(&h, h.ports.imaps, Security::Tls, &password);
    pinned.imap.pinned_cert_sha256 = Some(cert.sha256.clone());
    let account = engine
        .add_account(pinned)
        .await
        .expect("pinned certificate is accepted");
    assert_eq!(
        account.imap.pinned_cert_sha256.as_deref(),
        Some(h.server_cert_sha256())
    );
    assert_eq!(
        engine
            .envelopes(&account.id, "INBOX", 0, 50, false)
            .await
            .unwrap()
            .total,
        5
    );
    engine.remove_account(&account.id, true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_on_the_implicit_tls_port_fails_cleanly() {
    let h = harness();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), secrets().0, trust(&h));
    let password = h.user("alice").password.clone();
    // Implicit TLS chosen against the plaintext port: the handshake fails with a clear error.
    let err = engine
        .add_account(form(&h, h.ports.imap, Security::Tls, &password))
        .await
        .unwrap_err();
    let ipc = IpcError::from(&err);
    assert!(
        matches!(ipc.code, ErrorCode::Tls | ErrorCode::Unreachable),
        "{ipc:?}"
    );
    assert!(engine.accounts().is_empty());
}
