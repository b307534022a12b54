//! `npm run bench -- pop3`: downloading a 10,000-message POP3S mailbox durably, Petrel
//! against getmail6 (Debian's getmail6, Maildir destination, messages left on the server)
//! on the same Dovecot in the same run. Prints `metric value unit` lines:
//! - `pop3_getmail_s`, `pop3_petrel_s`: wall time of each (Petrel: median of 3, each into a
//!   fresh Maildir and ledger);
//! - `pop3_download_vs_getmail`: Petrel's throughput over getmail's (goal >= 5).
//!
//! Both keep the same guarantee: a message is on disk (fsynced) before the client moves on
//! to deleting anything. getmail fsyncs every message; Petrel one batch at a time.
//! `PETREL_BENCH_MESSAGES` shrinks the mailbox for a quick look.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_harness::Harness;
use petrel_maildir::Maildir;
use petrel_pop3::{download, Job, Keep, Policy, Pop3Session};
use std::process::Command;
use std::time::Instant;

fn message(i: usize) -> Vec<u8> {
    // Sizes like a mailbox's: most a few kB, some larger.
    let r = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let body_len = match r % 100 {
        0..=59 => 300 + (r >> 8) % 1_700,
        60..=89 => 2_000 + (r >> 8) % 6_000,
        _ => 8_000 + (r >> 8) % 32_000,
    } as usize;
    let mut m = format!(
        "Received: from mx.example.org by mail.example.test; Mon, 02 Nov 2026 10:00:00 +0000\r\n\
         From: Sender {s} <sender{s}@example.org>\r\nTo: alice@example.test\r\n\
         Subject: Message {i}\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <p{i}@example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        s = r % 500
    );
    let line = "The quick brown fox jumps over the lazy dog, again and again.\r\n";
    while m.len() < body_len + 400 {
        m.push_str(line);
    }
    m.into_bytes()
}

fn main() {
    let count: usize = std::env::var("PETREL_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let h = Harness::start().expect("harness");
    let messages: Vec<Vec<u8>> = (0..count).map(message).collect();
    let bytes: usize = messages.iter().map(Vec::len).sum();
    h.seed("alice", "INBOX", &messages, false).expect("seed");
    eprintln!("pop3: {count} messages, {:.1} MB", bytes as f64 / 1e6);
    let work = tempfile::tempdir().expect("tempdir");
    let alice = h.user("alice");

    // getmail6: SSL retriever, Maildir destination, leave on server, its own fsync per mail.
    let ca = work.path().join("ca.pem");
    std::fs::write(&ca, h.ca_pem()).expect("ca");
    let gm_dir = work.path().join("getmail");
    let gm_maildir = work.path().join("getmail-maildir");
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(gm_maildir.join(sub)).expect("maildir");
    }
    std::fs::create_dir_all(&gm_dir).expect("getmail dir");
    // getmail refuses to deliver as root: its Maildir destination then switches to an
    // unprivileged user, who must be able to write the Maildir.
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let deliver_as = if as_root {
        let _ = Command::new("chmod").arg("755").arg(work.path()).status();
        let _ = Command::new("chown")
            .args(["-R", "nobody"])
            .arg(&gm_maildir)
            .status();
        "user = nobody\n"
    } else {
        ""
    };
    let rc = gm_dir.join("getmailrc");
    // The password comes from the environment through password_command: never in the file.
    std::fs::write(
        &rc,
        format!(
            "[retriever]\ntype = SimplePOP3SSLRetriever\nserver = localhost\nport = {port}\nusername = {user}\n\
             password_command = (\"/usr/bin/printenv\", \"PETREL_BENCH_PASSWORD\")\nca_certs = {ca}\n\n\
             [destination]\ntype = Maildir\npath = {md}/\n{deliver_as}\n\
             [options]\ndelete = false\nread_all = true\nverbose = 0\nmessage_log_syslog = false\n",
            port = h.ports.pop3s,
            user = alice.login,
            ca = ca.display(),
            md = gm_maildir.display(),
        ),
    )
    .expect("getmailrc");
    let started = Instant::now();
    let out = Command::new("getmail")
        .arg("--getmaildir")
        .arg(&gm_dir)
        .arg("--rcfile")
        .arg(&rc)
        .env("PETREL_BENCH_PASSWORD", &alice.password)
        .output()
        .expect("getmail (install-deps bench installs getmail6)");
    let getmail_s = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "getmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read_dir(gm_maildir.join("new"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(got, count, "getmail stored every message");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let trust = petrel_tls::TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).expect("trust");
    let server = ServerSettings {
        host: "localhost".into(),
        port: h.ports.pop3s,
        security: Security::Tls,
        username: alice.login.clone(),
        pinned_cert_sha256: None,
    };
    let mut runs = Vec::new();
    for run in 0..3 {
        let root = work.path().join(format!("petrel-{run}"));
        let job = Job {
            account: "bench".into(),
            inbox: Maildir::open(&root.join("INBOX")).expect("maildir"),
            ledger_path: root.join("ledger.json"),
            account_root: root.clone(),
            policy: Policy {
                keep: Keep::UntilDeletedHere,
                ..Policy::default()
            },
            reserve_bytes: petrel_pop3::RESERVE_BYTES,
        };
        let started = Instant::now();
        let report = runtime.block_on(async {
            let mut s = Pop3Session::connect(&server, &trust)
                .await
                .expect("connect");
            s.login(&alice.login, &alice.password).await.expect("login");
            download(s, &job, 1_800_000_000).await.expect("download")
        });
        runs.push(started.elapsed().as_secs_f64());
        assert_eq!(report.downloaded as usize, count);
        assert_eq!(petrel_pop3::ledger::maildir_files(&root).len(), count);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    let petrel_s = runs[1];
    println!("pop3_getmail_s {getmail_s:.2} s");
    println!("pop3_petrel_s {petrel_s:.2} s (runs {runs:.2?})");
    println!("pop3_download_vs_getmail {:.1} x", getmail_s / petrel_s);
}
