//! One POP3 download run from the command line, for the kill -9 test (which kills it at
//! random points) and the benchmark. The password is read from standard input, never
//! from arguments or files.
//!
//! petrel-pop3-fetch --host H --port P [--starttls] --user U --ca CA.pem --root DIR
//!                   --account ID [--keep delete|until-deleted|days:N] [--now UNIX]
//! Prints the report as one line: `downloaded=… deleted=… remapped=… batches=…`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_maildir::Maildir;
use petrel_pop3::{download, Job, Keep, Policy, Pop3Session};
use std::io::BufRead;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("petrel-pop3-fetch: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let (mut host, mut port, mut user, mut ca, mut root, mut account) =
        (None, None, None, None, None, None);
    let mut security = Security::Tls;
    let mut keep = Keep::DeleteAfterDownload;
    let mut now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--host" => host = Some(value()?),
            "--port" => port = Some(value()?.parse::<u16>().map_err(|e| e.to_string())?),
            "--starttls" => security = Security::StartTls,
            "--user" => user = Some(value()?),
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--root" => root = Some(PathBuf::from(value()?)),
            "--account" => account = Some(value()?),
            "--now" => {
                now = value()?
                    .parse()
                    .map_err(|e: std::num::ParseIntError| e.to_string())?
            }
            "--keep" => {
                keep = match value()?.as_str() {
                    "delete" => Keep::DeleteAfterDownload,
                    "until-deleted" => Keep::UntilDeletedHere,
                    other => match other.strip_prefix("days:") {
                        Some(n) => {
                            Keep::Days(n.parse().map_err(|_| format!("bad --keep {other}"))?)
                        }
                        None => return Err(format!("bad --keep {other}")),
                    },
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let need = |o: Option<String>, name: &str| o.ok_or(format!("--{name} is required"));
    let host = need(host, "host")?;
    let user = need(user, "user")?;
    let account = need(account, "account")?;
    let port = port.ok_or("--port is required")?;
    let root = root.ok_or("--root is required")?;
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| e.to_string())?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let trust = match ca {
        Some(path) => {
            let pem = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            petrel_tls::TrustPolicy::with_pem_roots(&pem)?
        }
        None => petrel_tls::TrustPolicy::default(),
    };
    let server = ServerSettings {
        host,
        port,
        security,
        username: user.clone(),
        pinned_cert_sha256: None,
    };
    let job = Job {
        account: account.clone(),
        inbox: Maildir::open(&root.join("INBOX")).map_err(|e| e.to_string())?,
        ledger_path: root.join("pop3-ledger.json"),
        account_root: root,
        policy: Policy {
            keep,
            ..Policy::default()
        },
        reserve_bytes: petrel_pop3::RESERVE_BYTES,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut session = Pop3Session::connect(&server, &trust)
            .await
            .map_err(|e| e.to_string())?;
        session
            .login(&user, &password)
            .await
            .map_err(|e| e.to_string())?;
        let r = download(session, &job, now)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "downloaded={} partial={} deleted={} remapped={} batches={} left={}",
            r.downloaded, r.partial, r.deleted_on_server, r.remapped, r.batches, r.left_on_server
        ))
    })
}
