//! kill -9 at random points of a 2,000-message download (delete after download, the policy
//! where a mistake loses mail): after every kill each message is on the server or stored
//! here; after the next successful run, all 2,000 are here exactly once and the server is
//! empty. `PETREL_KILL_SEED` reproduces a run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_harness::Harness;
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MESSAGES: u32 = 2000;
const KILLS: u32 = 50;

fn mail(i: u32) -> Vec<u8> {
    format!(
        "From: s{i}@example.test\r\nSubject: message {i}\r\nMessage-ID: <k{i}@example.test>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n{}\r\n",
        "body line\r\n".repeat((i % 40) as usize)
    )
    .into_bytes()
}

/// Message-ID → copies, for every file under `dir` (recursively: INBOX and any folder).
fn message_ids(dir: &std::path::Path) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                // tmp/ holds unfinished files, never counted as stored mail.
                if p.file_name().is_some_and(|n| n != "tmp") {
                    stack.push(p);
                }
            } else if let Ok(raw) = std::fs::read(&p) {
                if let Some(id) = String::from_utf8_lossy(&raw)
                    .lines()
                    .find_map(|l| l.strip_prefix("Message-ID: ").map(String::from))
                {
                    *out.entry(id).or_insert(0) += 1;
                }
            }
        }
    }
    out
}

/// Message-ID → copies on the server, asked of Dovecot (doveadm), not read from its
/// Maildir: Dovecot renames new/ → cur/ while a session logs in, and a directory walk can
/// miss a file in flight.
fn server_ids(h: &Harness) -> HashMap<String, u32> {
    let out = h
        .doveadm(
            "alice",
            &["fetch"],
            &["hdr.message-id", "mailbox", "INBOX", "all"],
        )
        .unwrap();
    let mut ids = HashMap::new();
    for line in out.lines() {
        if let Some(id) = line.strip_prefix("hdr.message-id:") {
            *ids.entry(id.trim().to_string()).or_insert(0) += 1;
        }
    }
    ids
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn kill_9_at_random_points_loses_and_duplicates_nothing() {
    let h = Harness::start().unwrap();
    let fill_inbox = |h: &Harness| {
        h.seed(
            "alice",
            "INBOX",
            &(1..=MESSAGES).map(mail).collect::<Vec<_>>(),
            false,
        )
        .unwrap()
    };
    fill_inbox(&h);
    let here = tempfile::tempdir().unwrap();
    let ca = here.path().join("ca.pem");
    std::fs::write(&ca, h.ca_pem()).unwrap();
    let root = here.path().join("account");
    let alice = h.user("alice");
    let seed = std::env::var("PETREL_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(7)
        });
    eprintln!("PETREL_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    let run = |wait: Option<Duration>| -> (bool, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_petrel-pop3-fetch"))
            .args(["--host", "localhost", "--port", &h.ports.pop3s.to_string()])
            .args([
                "--user",
                &alice.login,
                "--account",
                "alice-pop",
                "--keep",
                "delete",
            ])
            .arg("--ca")
            .arg(&ca)
            .arg("--root")
            .arg(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{}\n", alice.password).as_bytes())
            .unwrap();
        match wait {
            Some(delay) => {
                let started = Instant::now();
                while started.elapsed() < delay {
                    if child.try_wait().unwrap().is_some() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                let alive = child.try_wait().unwrap().is_none();
                let _ = child.kill(); // SIGKILL
                let out = child.wait_with_output().unwrap();
                (alive, String::from_utf8_lossy(&out.stderr).into_owned())
            }
            None => {
                let out = child.wait_with_output().unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                (false, String::from_utf8_lossy(&out.stdout).into_owned())
            }
        }
    };
    let all: Vec<String> = (1..=MESSAGES)
        .map(|i| format!("<k{i}@example.test>"))
        .collect();
    let reseed = || {
        std::fs::remove_dir_all(&root).unwrap();
        fill_inbox(&h);
    };
    // How long one whole run takes on this machine, now: the kill points are spread over
    // that (and a little past it), so as many land mid-run on a fast machine as on a
    // loaded one (a fixed 2.5 s once put 30 of 50 after the end).
    let started = Instant::now();
    run(None);
    let whole = started.elapsed();
    eprintln!("one uncut run of {MESSAGES} messages: {whole:?}");
    reseed();
    let limit = (whole.as_millis() as u64 * 6 / 5).max(50);
    let mut killed_mid_run = 0;
    for k in 0..KILLS {
        // Kill points spread over a whole run, sometimes right at the start.
        let delay = Duration::from_millis(rng.below(limit));
        let (alive, _) = run(Some(delay));
        killed_mid_run += u32::from(alive);
        let server = server_ids(&h);
        let local = message_ids(&root);
        for id in &all {
            assert!(
                server.contains_key(id) || local.contains_key(id),
                "after kill {k} ({delay:?}): {id} is neither on the server nor here"
            );
        }
        if !alive {
            // That run finished: put the mail back for the next kill to interrupt.
            let missing: Vec<u32> = (1..=MESSAGES)
                .filter(|i| !server.contains_key(&format!("<k{i}@example.test>")))
                .collect();
            if missing.len() as u32 == MESSAGES {
                reseed();
            }
        }
    }
    eprintln!("{killed_mid_run} of {KILLS} kills landed while the download ran");
    assert!(
        killed_mid_run >= KILLS / 2,
        "too few kills hit a running download: {killed_mid_run}"
    );
    let (_, report) = run(None);
    eprintln!("final run: {report}");
    let local = message_ids(&root);
    let server = server_ids(&h);
    assert_eq!(
        local.len(),
        MESSAGES as usize,
        "all {MESSAGES} here (0 lost)"
    );
    let duplicated: Vec<_> = local.iter().filter(|(_, &n)| n > 1).collect();
    assert!(duplicated.is_empty(), "duplicates: {duplicated:?}");
    assert!(
        server.is_empty(),
        "the server copies went after the last run: {}",
        server.len()
    );
}
