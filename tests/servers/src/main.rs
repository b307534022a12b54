//! `petrel-harness serve [--seed DIR] [--watch-pid PID] [--oidc]`: runs one harness until SIGINT/SIGTERM, for the E2E
//! tests and `npm run demo`. Seeds alice's INBOX with DIR/*.eml (default: the sample
//! mailbox) and prints one JSON line (ports, users, CA path, certificate fingerprint).
//!
//! `petrel-harness demo-account --petrel-config DIR < info.json`: writes a Petrel config with
//! a ready account for alice. Separate from `serve` because the servers need root while the
//! keychain entry must belong to the desktop user.

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
    let mut seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample");
    let mut petrel_config: Option<PathBuf> = None;
    let mut remove = false;
    let mut user = "alice".to_string();
    let mut watch_pid: Option<u32> = None;
    let mut bulk = 0usize;
    let mut oidc = false;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seed" => seed = value()?.into(),
            "--petrel-config" => petrel_config = Some(value()?.into()),
            "--remove" => remove = true,
            "--oidc" => oidc = true,
            "--user" => user = value()?,
            "--bulk" => bulk = value()?.parse().map_err(|e| format!("--bulk: {e}"))?,
            "--watch-pid" => {
                watch_pid = Some(value()?.parse().map_err(|e| format!("--watch-pid: {e}"))?)
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    match (command.as_str(), petrel_config) {
        ("serve", _) => serve(&seed, watch_pid, bulk, oidc),
        ("demo-account", Some(dir)) => demo_account(&dir, &user, remove),
        _ => Err(USAGE.into()),
    }
}

const USAGE: &str = "usage: petrel-harness serve [--seed DIR] [--watch-pid PID] [--bulk N] [--oidc]\n       petrel-harness demo-account --petrel-config DIR [--user alice|bob] [--remove] < serve-output.json";

/// Serves until SIGINT/SIGTERM, or until process `watch_pid` is gone (so a demo script that
/// is killed outright does not leave the servers running).
fn serve(
    seed: &std::path::Path,
    watch_pid: Option<u32>,
    bulk: usize,
    oidc: bool,
) -> Result<(), String> {
    let harness = if oidc {
        Harness::start_with_oidc(Default::default())
    } else {
        Harness::start()
    }
    .map_err(|e| e.to_string())?;
    if bulk > 0 {
        // A large folder for the UI benchmark: alice's "Bulk", one message a minute.
        harness
            .seed_generated(
                "alice",
                "Bulk",
                bulk,
                |i| {
                    format!(
                        "From: Sender {s} <s{s}@example.org>\r\nTo: alice@example.test\r\nSubject: Bulk message {i}\r\nDate: Mon, 02 Nov 2026 {h:02}:{m:02}:{sec:02} +0000\r\nMessage-ID: <bulk{i}@example.org>\r\n\r\nBody of message {i}.\r\n",
                        s = i % 97,
                        h = (i / 3600) % 24,
                        m = (i / 60) % 60,
                        sec = i % 60
                    )
                    .into_bytes()
                },
                true,
            )
            .map_err(|e| e.to_string())?;
    }
    let seeded = harness
        .seed_eml_dir("alice", "INBOX", seed)
        .map_err(|e| e.to_string())?;
    harness
        .seed(
            "alice",
            "Projects/Petrel",
            &[b"From: Bob <bob@example.test>\r\nSubject: Nested folder test\r\nDate: Fri, 06 Nov 2026 08:00:00 +0000\r\n\r\nA message in a nested folder.\r\n".to_vec()],
            true,
        )
        .map_err(|e| e.to_string())?;
    let info = serde_json::json!({
        "dir": harness.dir(),
        "ports": harness.ports,
        "users": harness.users,
        "ca_path": harness.ca_path(),
        "server_cert_sha256": harness.server_cert_sha256(),
        "seeded": seeded,
        // With --oidc: the provider's issuer; sign in as a harness user's login.
        "oidc_issuer": harness.oidc.as_ref().map(|o| o.issuer.clone()),
    });
    println!("{info}");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| e.to_string())?;
        let watched_gone = async {
            match watch_pid {
                Some(pid) => {
                    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = watched_gone => {}
        }
        Ok::<(), String>(())
    })?;
    drop(harness);
    Ok(())
}

/// Writes a Petrel config with alice's account (server certificate pinned) and puts her
/// password in the OS keychain of the user running this: run it as the desktop user, not root.
fn demo_account(dir: &std::path::Path, user: &str, remove: bool) -> Result<(), String> {
    // The demo account's id, also its keychain entry: "demo-alice", "demo-bob".
    let id = AccountId(format!("demo-{user}"));
    if remove {
        return KeychainSecrets::default()
            .delete_password(&id)
            .map_err(|e| e.to_string());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let info: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| format!("expected serve's JSON on stdin: {e}"))?;
    let alice = info["users"]
        .as_array()
        .and_then(|users| {
            users.iter().find(|u| {
                u["login"]
                    .as_str()
                    .is_some_and(|l| l.starts_with(&format!("{user}@")))
            })
        })
        .ok_or(format!("no {user} in the harness info"))?;
    let login = alice["login"].as_str().unwrap_or_default().to_string();
    let password = alice["password"].as_str().unwrap_or_default();
    let port = info["ports"]["imaps"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("no IMAPS port")?;
    // Added to the accounts already there (a second demo account), replacing its own.
    let mut file = AccountsFile::load(dir).map_err(|e| e.to_string())?;
    file.version = 1;
    file.accounts.retain(|a| a.id != id);
    let mut name: Vec<char> = user.chars().collect();
    if let Some(first) = name.first_mut() {
        *first = first.to_ascii_uppercase();
    }
    file.accounts.push(AccountSettings {
        id: id.clone(),
        display_name: format!("{} (demo)", name.into_iter().collect::<String>()),
        email: login.clone(),
        imap: ServerSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::Tls,
            username: login,
            pinned_cert_sha256: info["server_cert_sha256"].as_str().map(str::to_string),
        },
        sync: Default::default(),
        protocol: Default::default(),
        pop3: Default::default(),
        smtp: None,
        sending: Default::default(),
        sign_in: Default::default(),
    });
    KeychainSecrets::default()
        .set_password(&id, password)
        .map_err(|e| e.to_string())?;
    file.save(dir).map_err(|e| e.to_string())
}
