//! POP3 downloads against the harness's real Dovecot (POP3S, and POP3 + STLS): every
//! policy with time passed in, headers-only then the rest, a UIDL format change, and a
//! full disk mid-batch. The server's side is read from its Maildir, not through Petrel.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_harness::Harness;
use petrel_maildir::Maildir;
use petrel_pop3::{
    download, fetch_rest, mark_deleted_here, DownloadError, Job, Keep, Policy, Pop3Session,
};
use petrel_tls::TrustPolicy;
use std::path::Path;

const DAY: i64 = 86_400;
const T0: i64 = 1_800_000_000;

fn mail(i: u32) -> Vec<u8> {
    format!(
        "From: Sender {i} <s{i}@example.test>\r\nSubject: message {i}\r\nMessage-ID: <m{i}@example.test>\r\nDate: Mon, 02 Nov 2026 10:{:02}:00 +0000\r\n\r\nbody {i}\r\nline two\r\n",
        i % 60
    )
    .into_bytes()
}

struct Setup {
    h: Harness,
    root: tempfile::TempDir,
}

impl Setup {
    fn new(messages: u32) -> Setup {
        let h = Harness::start().unwrap();
        h.seed(
            "alice",
            "INBOX",
            &(1..=messages).map(mail).collect::<Vec<_>>(),
            false,
        )
        .unwrap();
        Setup {
            h,
            root: tempfile::tempdir().unwrap(),
        }
    }

    fn job(&self, policy: Policy) -> Job {
        let root = self.root.path();
        Job {
            account: "alice-pop".into(),
            inbox: Maildir::open(&root.join("INBOX")).unwrap(),
            ledger_path: root.join("ledger.json"),
            account_root: root.to_path_buf(),
            policy,
            reserve_bytes: 0,
        }
    }

    async fn session(&self, security: Security) -> Pop3Session {
        let alice = self.h.user("alice");
        let port = match security {
            Security::Tls => self.h.ports.pop3s,
            Security::StartTls => self.h.ports.pop3,
        };
        let server = ServerSettings {
            host: "localhost".into(),
            port,
            security,
            username: alice.login.clone(),
            pinned_cert_sha256: None,
        };
        let trust = TrustPolicy::with_pem_roots(self.h.ca_pem().as_bytes()).unwrap();
        let mut s = Pop3Session::connect(&server, &trust).await.unwrap();
        s.login(&alice.login, &alice.password).await.unwrap();
        s
    }

    async fn run(&self, policy: Policy, now: i64) -> Result<petrel_pop3::Report, DownloadError> {
        let s = self.session(Security::Tls).await;
        download(s, &self.job(policy), now).await
    }

    fn on_server(&self) -> usize {
        self.h.inbox_files("alice").len()
    }

    fn local(&self) -> Vec<Vec<u8>> {
        petrel_pop3::ledger::maildir_files(self.root.path())
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }
}

fn keep(keep: Keep) -> Policy {
    Policy {
        keep,
        delete_when_deleted_here: false,
        ..Policy::default()
    }
}

fn subjects(files: &[Vec<u8>]) -> Vec<String> {
    let mut s: Vec<String> = files
        .iter()
        .filter_map(|f| {
            String::from_utf8_lossy(f)
                .lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(String::from))
        })
        .collect();
    s.sort();
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_after_download_moves_the_mail_here_once() {
    let s = Setup::new(5);
    let r = s.run(keep(Keep::DeleteAfterDownload), T0).await.unwrap();
    assert_eq!((r.downloaded, r.deleted_on_server), (5, 5));
    assert_eq!(s.on_server(), 0);
    let local = s.local();
    assert_eq!(local.len(), 5);
    // Byte for byte what was seeded, under Petrel's stamp.
    let first = String::from_utf8_lossy(&local[0]).into_owned();
    assert!(
        first.starts_with("X-Petrel-POP3: account=alice-pop fetched=1800000000 "),
        "{first}"
    );
    s.h.append("alice", "INBOX", &mail(6)).unwrap();
    let r = s
        .run(keep(Keep::DeleteAfterDownload), T0 + 60)
        .await
        .unwrap();
    assert_eq!((r.downloaded, r.deleted_on_server), (1, 1));
    assert_eq!(subjects(&s.local()).len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn leave_for_n_days_deletes_only_when_the_days_have_passed() {
    let s = Setup::new(4);
    let policy = keep(Keep::Days(14));
    let r = s.run(policy.clone(), T0).await.unwrap();
    assert_eq!(
        (r.downloaded, r.deleted_on_server, r.left_on_server),
        (4, 0, 4)
    );
    let r = s.run(policy.clone(), T0 + 13 * DAY).await.unwrap();
    assert_eq!(
        (r.downloaded, r.deleted_on_server),
        (0, 0),
        "nothing new, nothing old enough"
    );
    assert_eq!(s.on_server(), 4);
    let r = s.run(policy, T0 + 14 * DAY).await.unwrap();
    assert_eq!((r.downloaded, r.deleted_on_server), (0, 4));
    assert_eq!(s.on_server(), 0);
    assert_eq!(s.local().len(), 4, "nothing lost here");
}

#[tokio::test(flavor = "multi_thread")]
async fn until_deleted_here_and_delete_when_deleted_here() {
    let s = Setup::new(3);
    let policy = keep(Keep::UntilDeletedHere);
    s.run(policy.clone(), T0).await.unwrap();
    assert_eq!(s.on_server(), 3);
    // The user deletes "message 2" here.
    let job = s.job(policy.clone());
    let files = petrel_pop3::ledger::maildir_files(s.root.path());
    let victim = files
        .iter()
        .find(|p| {
            String::from_utf8_lossy(&std::fs::read(p).unwrap()).contains("Subject: message 2\r\n")
        })
        .unwrap()
        .clone();
    let stamp = petrel_pop3::ledger::read_stamp(&victim).unwrap();
    mark_deleted_here(&job, &stamp.uidl).unwrap();
    std::fs::remove_file(&victim).unwrap();
    let r = s.run(policy.clone(), T0 + 1).await.unwrap();
    assert_eq!(
        (r.downloaded, r.deleted_on_server),
        (0, 1),
        "not downloaded again, deleted there"
    );
    assert_eq!(s.on_server(), 2);
    // With "leave 30 days" + "delete when deleted here", a local delete also goes at once.
    let days = Policy {
        keep: Keep::Days(30),
        delete_when_deleted_here: true,
        ..Policy::default()
    };
    let other = petrel_pop3::ledger::maildir_files(s.root.path())[0].clone();
    mark_deleted_here(&job, &petrel_pop3::ledger::read_stamp(&other).unwrap().uidl).unwrap();
    let r = s.run(days, T0 + 2).await.unwrap();
    assert_eq!(r.deleted_on_server, 1);
    assert_eq!(s.on_server(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_only_then_the_rest_on_demand_over_stls() {
    let s = Setup::new(2);
    let policy = Policy {
        keep: Keep::DeleteAfterDownload,
        headers_only: true,
        ..Policy::default()
    };
    let session = s.session(Security::StartTls).await;
    let r = download(session, &s.job(policy.clone()), T0).await.unwrap();
    assert_eq!(
        (r.partial, r.downloaded, r.deleted_on_server),
        (2, 0, 0),
        "partial mail stays on the server"
    );
    let local = s.local();
    assert!(local
        .iter()
        .all(|f| !String::from_utf8_lossy(f).contains("body")));
    let path = petrel_pop3::ledger::maildir_files(s.root.path())[0].clone();
    let session = s.session(Security::Tls).await;
    fetch_rest(session, &s.job(policy.clone()), &path)
        .await
        .unwrap();
    let whole = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
    assert!(
        whole.contains("partial=0") && whole.contains("body "),
        "{whole}"
    );
    // Now complete, it is deleted from the server on the next run; the partial one is not.
    let r = s.run(policy, T0 + 5).await.unwrap();
    assert_eq!((r.downloaded, r.deleted_on_server), (0, 1));
    assert_eq!(s.on_server(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_uidl_format_change_re_maps_instead_of_downloading_again() {
    let s = Setup::new(30);
    let policy = keep(Keep::Days(7));
    assert_eq!(s.run(policy.clone(), T0).await.unwrap().downloaded, 30);
    s.h.set_pop3_uidl_format("%g").unwrap();
    let r = s.run(policy.clone(), T0 + 60).await.unwrap();
    assert_eq!((r.downloaded, r.remapped), (0, 30), "0 re-downloads");
    assert_eq!(s.local().len(), 30, "0 duplicates");
    // The ledger follows the new UIDLs: the 7-day rule still counts from the first download.
    let r = s.run(policy, T0 + 7 * DAY).await.unwrap();
    assert_eq!((r.downloaded, r.deleted_on_server), (0, 30));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_ledger_is_rebuilt_from_the_maildir() {
    let s = Setup::new(5);
    let policy = keep(Keep::Days(3));
    s.run(policy.clone(), T0).await.unwrap();
    std::fs::remove_file(s.root.path().join("ledger.json")).unwrap();
    let r = s.run(policy, T0 + 3 * DAY).await.unwrap();
    assert_eq!(
        (r.downloaded, r.deleted_on_server),
        (0, 5),
        "known from the Maildir stamps"
    );
    assert_eq!(s.local().len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_mid_batch_deletes_nothing_and_says_so() {
    let s = Setup::new(40);
    // A 96 KiB file system: the batch's sizes (40 × ~200 B) pass the check, but every file
    // takes a 4 KiB page, so the disk fills part-way through the batch.
    let mount = s.root.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=96k", "tmpfs"])
        .arg(&mount)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "mounting a small tmpfs needs root (CI runs as root)"
    );
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mount);
    let job = Job {
        account: "alice-pop".into(),
        inbox: Maildir::open(&mount.join("INBOX")).unwrap(),
        ledger_path: s.root.path().join("ledger.json"),
        account_root: mount.clone(),
        policy: keep(Keep::DeleteAfterDownload),
        reserve_bytes: 0,
    };
    let session = s.session(Security::Tls).await;
    let err = download(session, &job, T0).await.unwrap_err();
    assert!(
        err.to_string().contains("not enough free disk space"),
        "{err}"
    );
    assert_eq!(s.on_server(), 40, "nothing deleted on the server");
    assert_eq!(
        std::fs::read_dir(mount.join("INBOX/new")).unwrap().count(),
        0,
        "the failed batch left nothing half-stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn large_messages_come_as_headers_and_first_lines_and_stay_on_the_server() {
    let s = Setup::new(1);
    let mut big =
        b"From: big@example.test\r\nSubject: big one\r\nMessage-ID: <big@example.test>\r\n\r\n"
            .to_vec();
    for i in 0..5000 {
        big.extend_from_slice(
            format!("line {i} of a large message, padded to be long enough\r\n").as_bytes(),
        );
    }
    s.h.append("alice", "INBOX", &big).unwrap();
    let policy = Policy {
        keep: Keep::DeleteAfterDownload,
        large_over_kib: Some(100),
        ..Policy::default()
    };
    let r = s.run(policy, T0).await.unwrap();
    assert_eq!(
        (r.downloaded, r.partial, r.deleted_on_server),
        (1, 1, 1),
        "the small one moved, the large one stays"
    );
    assert_eq!(s.on_server(), 1);
    let large = s
        .local()
        .into_iter()
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .find(|t| t.contains("Subject: big one"))
        .unwrap();
    assert!(
        large.contains("partial=1")
            && large.contains("line 19 of")
            && !large.contains("line 20 of"),
        "headers and 20 lines"
    );
}
