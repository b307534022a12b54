//! `petrel-harness serve`: runs one harness until SIGINT/SIGTERM, for the E2E tests and
//! `npm run demo`. Prints one JSON line (ports, users, CA path) on stdout when ready.
//!
//! Options:
//!   --seed DIR            seed alice's INBOX with DIR/*.eml (default: the sample mailbox)
//!   --petrel-config DIR   also write a Petrel config in DIR with a ready "Demo" account for
//!                         alice (server certificate pinned, password in the OS keychain)

use petrel_core::{AccountId, AccountSettings, Security, ServerSettings};
use petrel_engine::{AccountsFile, KeychainSecrets, SecretStore};
use petrel_harness::Harness;
use std::path::PathBuf;

fn main() {
    if let Err(e) = run() {
        eprintln!("petrel-harness: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    if command != "serve" {
        return Err("usage: petrel-harness serve [--seed DIR] [--petrel-config DIR]".into());
    }
    let mut seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample");
    let mut petrel_config: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seed" => seed = value()?.into(),
            "--petrel-config" => petrel_config = Some(value()?.into()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let harness = Harness::start().map_err(|e| e.to_string())?;
    let seeded = harness.seed_eml_dir("alice", "INBOX", &seed).map_err(|e| e.to_string())?;
    harness
        .seed(
            "alice",
            "Projects/Petrel",
            &[b"From: Bob <bob@example.test>\r\nSubject: Nested folder test\r\nDate: Fri, 06 Nov 2026 08:00:00 +0000\r\n\r\nA message in a nested folder.\r\n".to_vec()],
            true,
        )
        .map_err(|e| e.to_string())?;

    let demo_account = AccountId("demo-alice".into());
    if let Some(dir) = &petrel_config {
        let alice = harness.user("alice");
        let file = AccountsFile {
            version: 1,
            accounts: vec![AccountSettings {
                id: demo_account.clone(),
                display_name: "Alice (demo)".into(),
                email: alice.login.clone(),
                imap: ServerSettings {
                    host: "127.0.0.1".into(),
                    port: harness.ports.imaps,
                    security: Security::Tls,
                    username: alice.login.clone(),
                    pinned_cert_sha256: Some(harness.server_cert_sha256().to_string()),
                },
            }],
        };
        file.save(dir).map_err(|e| e.to_string())?;
        KeychainSecrets::default().set_password(&demo_account, &alice.password).map_err(|e| e.to_string())?;
    }

    let info = serde_json::json!({
        "dir": harness.dir(),
        "ports": harness.ports,
        "users": harness.users,
        "ca_path": harness.ca_path(),
        "server_cert_sha256": harness.server_cert_sha256(),
        "seeded": seeded,
    });
    println!("{info}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        Ok::<(), String>(())
    })?;
    if petrel_config.is_some() {
        let _ = KeychainSecrets::default().delete_password(&demo_account);
    }
    drop(harness);
    Ok(())
}
