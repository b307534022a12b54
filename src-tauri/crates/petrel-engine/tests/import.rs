//! Bringing mail over from Thunderbird and from mail files: a generated Thunderbird profile
//! (prefs.js, mbox with `>From ` quoting and deleted messages, maildir storage,
//! popstate.dat) into a POP3 account against the harness's Dovecot, which then downloads
//! only what Thunderbird did not have; an interrupted import resumed without duplicates;
//! an mbox export read back; an import into an IMAP folder on the server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{mail, pop3_form, server_flags, server_subjects, Fixture};
use petrel_core::{
    ImportProgress, ImportReport, ImportRequest, ImportSource, IncomingProtocol, LeaveOnServer,
    Security,
};
use petrel_engine::Engine;
use std::ops::ControlFlow;
use std::path::Path;

/// A message as Thunderbird's POP3 code stores it: its status header, and X-UIDL when the
/// account leaves mail on the server.
fn as_thunderbird_has_it(i: u32, status: &str) -> Vec<u8> {
    let mut out = format!("X-Mozilla-Status: {status}\r\nX-UIDL: {i}\r\n").into_bytes();
    out.extend(mail(i));
    out
}

fn mbox_of(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        // Thunderbird's own form: "From - <date>", mboxo quoting, an empty line after.
        out.extend_from_slice(b"From - Mon Nov  2 10:00:00 2026\r\n");
        for line in m.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A profile with a POP3 account on the harness (mail left on the server; Inbox, an
/// Archives/2024 sub-folder, popstate.dat), an IMAP account, and Local Folders in maildir
/// storage.
fn thunderbird_profile(dir: &Path, pop3_port: u16) {
    let prefs = format!(
        r#"// Mozilla User Preferences
user_pref("mail.accountmanager.accounts", "account2,account3,account1");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.account.account2.server", "server2");
user_pref("mail.account.account2.identities", "id1");
user_pref("mail.account.account3.server", "server3");
user_pref("mail.account.account3.identities", "id2");
user_pref("mail.identity.id1.fullName", "Alice Lima");
user_pref("mail.identity.id1.useremail", "alice@example.test");
user_pref("mail.identity.id1.smtpServer", "smtp1");
user_pref("mail.identity.id2.useremail", "alice@work.example.test");
user_pref("mail.server.server1.type", "none");
user_pref("mail.server.server1.name", "Local Folders");
user_pref("mail.server.server1.directory-rel", "[ProfD]Mail/Local Folders");
user_pref("mail.server.server1.storeContractID", "@mozilla.org/msgstore/maildirstore;1");
user_pref("mail.server.server2.type", "pop3");
user_pref("mail.server.server2.name", "alice@example.test");
user_pref("mail.server.server2.hostname", "127.0.0.1");
user_pref("mail.server.server2.port", {pop3_port});
user_pref("mail.server.server2.socketType", 3);
user_pref("mail.server.server2.userName", "alice");
user_pref("mail.server.server2.leave_on_server", true);
user_pref("mail.server.server2.directory-rel", "[ProfD]Mail/127.0.0.1");
user_pref("mail.server.server3.type", "imap");
user_pref("mail.server.server3.hostname", "imap.work.example.test");
user_pref("mail.server.server3.port", 143);
user_pref("mail.server.server3.socketType", 0);
user_pref("mail.server.server3.userName", "alice.w");
user_pref("mail.smtpserver.smtp1.hostname", "smtp.example.test");
user_pref("mail.smtpserver.smtp1.port", 465);
user_pref("mail.smtpserver.smtp1.try_ssl", 3);
user_pref("mail.smtpserver.smtp1.username", "alice");
"#
    );
    write(&dir.join("prefs.js"), prefs.as_bytes());
    let pop = dir.join("Mail/127.0.0.1");
    // Messages 1 and 2 downloaded (1 read); a third copy Thunderbird deleted but had not
    // compacted away yet.
    let mut quoted = as_thunderbird_has_it(2, "0000");
    quoted.extend_from_slice(b"From the harbour, a line mboxo quotes.\r\n");
    let mut deleted = b"X-Mozilla-Status: 0009\r\n".to_vec();
    deleted.extend(mail(7));
    write(
        &pop.join("Inbox"),
        &mbox_of(&[as_thunderbird_has_it(1, "0001"), deleted, quoted]),
    );
    write(&pop.join("Inbox.msf"), b"// an index, not mail");
    write(&pop.join("Archives"), b"");
    write(
        &pop.join("Archives.sbd/2024"),
        &mbox_of(&[mail(40).to_vec()]),
    );
    write(
        &pop.join("popstate.dat"),
        b"# POP3 State File\n# This is a generated file!  Do not edit.\n\n*127.0.0.1 alice\nk 1 1790000000\nk 2 1790000100\n",
    );
    write(&pop.join("msgFilterRules.dat"), b"version=\"9\"\n");
    let notes = dir.join("Mail/Local Folders/Notes/cur");
    write(&notes.join("1700000000.1.host:2,S"), &mail(50));
    std::fs::create_dir_all(dir.join("Mail/Local Folders/Notes/new")).unwrap();
}

async fn import(engine: &Engine, request: &ImportRequest) -> ImportReport {
    engine
        .import_mail(request, &mut |_| ControlFlow::Continue(()))
        .await
        .unwrap()
}

fn subjects_of(rows: &[petrel_core::Envelope]) -> Vec<String> {
    let mut s: Vec<String> = rows.iter().map(|r| r.subject.clone()).collect();
    s.sort();
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thunderbird_profile_comes_over_and_pop3_does_not_download_again() {
    let f = Fixture::new();
    // Dovecot's UIDLs become the UIDs, so the profile can name them.
    f.h.set_pop3_uidl_format("%u").unwrap();
    f.seed_mail("INBOX", 3);
    let profile = tempfile::tempdir().unwrap();
    thunderbird_profile(profile.path(), f.h.ports.pop3s);
    let engine = f.engine(f.cache_dir.path());

    let found = engine.read_thunderbird_profile(profile.path()).unwrap();
    assert_eq!(
        found.accounts.len(),
        2,
        "POP3 and IMAP; Local Folders is mail: {found:?}"
    );
    let pop = &found.accounts[0];
    assert_eq!(pop.protocol, IncomingProtocol::Pop3);
    assert_eq!(pop.email, "alice@example.test");
    assert_eq!(pop.display_name, "Alice Lima");
    assert_eq!(
        (
            pop.incoming.host.as_str(),
            pop.incoming.port,
            pop.incoming.security
        ),
        ("127.0.0.1", f.h.ports.pop3s, Security::Tls)
    );
    assert_eq!(pop.pop3.leave_on_server, LeaveOnServer::UntilDeletedHere);
    let smtp = pop.smtp.as_ref().unwrap();
    assert_eq!((smtp.port, smtp.security), (465, Security::Tls));
    let imap = &found.accounts[1];
    assert_eq!(imap.incoming.security, Security::StartTls);
    assert!(
        imap.notes.iter().any(|n| n.contains("without encryption")),
        "plain IMAP is said to become STARTTLS: {:?}",
        imap.notes
    );
    let stores: Vec<(&str, u32)> = found
        .stores
        .iter()
        .map(|s| (s.label.as_str(), s.folders))
        .collect();
    assert_eq!(
        stores,
        vec![("alice@example.test", 2), ("Local Folders", 1)],
        "Inbox and Archives/2024 (the empty Archives file is no folder; index and filter files are not mail)"
    );

    // The Petrel account for it, then its mail from the profile.
    let password = f.h.user("alice").password.clone();
    let mut form = pop3_form(&f, &password);
    form.pop3.leave_on_server = LeaveOnServer::UntilDeletedHere;
    let id = engine.add_account(form).await.unwrap().id;
    let mut seen: Vec<ImportProgress> = Vec::new();
    let request = ImportRequest {
        account: id.clone(),
        folder: String::new(),
        source: ImportSource::Thunderbird {
            profile: profile.path().display().to_string(),
            store: "server2".into(),
        },
    };
    let report = engine
        .import_mail(&request, &mut |p| {
            seen.push(p);
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.imported, 3, "{report:?}");
    assert_eq!(
        report.deleted, 1,
        "the deleted copy stays behind: {report:?}"
    );
    assert_eq!(report.pop3_known, 2);
    assert_eq!(
        report.folders,
        vec!["Archive/2024", "INBOX"],
        "in name order"
    );
    let last = seen.last().unwrap();
    assert_eq!(
        last.bytes_done, last.bytes_total,
        "progress reaches the end"
    );

    // Downloading now brings message 3 only: 1 and 2 came from Thunderbird.
    let inbox = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(
        subjects_of(&inbox.rows),
        vec!["message 1", "message 2", "message 3"],
        "nothing Thunderbird had is downloaded again"
    );
    let read: Vec<bool> = {
        let mut rows = inbox.rows.clone();
        rows.sort_by(|a, b| a.subject.cmp(&b.subject));
        rows.iter().map(|r| r.seen).collect()
    };
    assert_eq!(
        read,
        vec![true, false, false],
        "Thunderbird's read flag came along"
    );
    let uid = inbox
        .rows
        .iter()
        .find(|r| r.subject == "message 2")
        .unwrap()
        .uid;
    let raw = engine.raw_message(&id, "INBOX", uid).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains("\r\nFrom the harbour, a line mboxo quotes.\r\n"),
        "the >From quoting is taken off: {text}"
    );
    let archive = engine
        .envelopes(&id, "Archive/2024", 0, 50, false)
        .await
        .unwrap();
    assert_eq!(subjects_of(&archive.rows), vec!["message 40"]);

    // Local Folders (maildir storage) under a folder of its own.
    let local = engine
        .import_mail(
            &ImportRequest {
                account: id.clone(),
                folder: "Local Folders".into(),
                source: ImportSource::Thunderbird {
                    profile: profile.path().display().to_string(),
                    store: "server1".into(),
                },
            },
            &mut |_| ControlFlow::Continue(()),
        )
        .await
        .unwrap();
    assert_eq!(local.folders, vec!["Local Folders/Notes"]);
    let notes = engine
        .envelopes(&id, "Local Folders/Notes", 0, 50, false)
        .await
        .unwrap();
    assert_eq!(subjects_of(&notes.rows), vec!["message 50"]);
    assert!(notes.rows[0].seen);

    // The same import again adds nothing.
    let again = import(&engine, &request).await;
    assert_eq!((again.imported, again.already_here), (0, 3), "{again:?}");
    let inbox = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(inbox.total, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_import_resumes_without_duplicates_and_exports_as_mbox() {
    let f = Fixture::new();
    let engine = f.engine(f.cache_dir.path());
    let password = f.h.user("alice").password.clone();
    let id = engine
        .add_account(pop3_form(&f, &password))
        .await
        .unwrap()
        .id;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("old.mbox");
    let messages: Vec<Vec<u8>> = (1..=500).map(mail).collect();
    write(&source, &mbox_of(&messages));
    let request = ImportRequest {
        account: id.clone(),
        folder: "Old mail".into(),
        source: ImportSource::Mbox {
            path: source.display().to_string(),
        },
    };

    // Stopped after the first batch…
    let first = engine
        .import_mail(&request, &mut |_| ControlFlow::Break(()))
        .await
        .unwrap();
    assert!(!first.finished);
    assert_eq!(first.imported, 200);
    // …and after the second: it went on where it stopped (nothing read twice).
    let second = engine
        .import_mail(&request, &mut |_| ControlFlow::Break(()))
        .await
        .unwrap();
    assert_eq!((second.imported, second.already_here), (200, 0));
    // A crash loses the record of where it was: the messages themselves tell.
    std::fs::remove_dir_all(f.config.path().join("imports")).unwrap();
    let rest = import(&engine, &request).await;
    assert!(rest.finished);
    assert_eq!((rest.imported, rest.already_here), (100, 400), "{rest:?}");
    let listed = engine
        .envelopes(&id, "Old mail", 0, 1000, false)
        .await
        .unwrap();
    assert_eq!(listed.total, 500, "every message once");

    // Exported as mbox and read back: the same messages, byte for byte.
    let out = dir.path().join("export.mbox");
    assert_eq!(
        engine
            .export_folder_mbox(&id, "Old mail", &out)
            .await
            .unwrap(),
        500
    );
    let back = import(
        &engine,
        &ImportRequest {
            account: id.clone(),
            folder: "Round trip".into(),
            source: ImportSource::Mbox {
                path: out.display().to_string(),
            },
        },
    )
    .await;
    assert_eq!(back.imported, 500);
    let mut original: Vec<Vec<u8>> = messages.clone();
    let rows = engine
        .envelopes(&id, "Round trip", 0, 1000, false)
        .await
        .unwrap();
    let mut read_back = Vec::new();
    for r in &rows.rows {
        read_back.push(engine.raw_message(&id, "Round trip", r.uid).await.unwrap());
    }
    original.sort();
    read_back.sort();
    assert!(original == read_back, "the round trip changes no byte");

    // Not an mbox: said in words, nothing imported.
    let bad = dir.path().join("notes.txt");
    write(&bad, b"shopping list\n");
    let err = engine
        .import_mail(
            &ImportRequest {
                account: id.clone(),
                folder: "Bad".into(),
                source: ImportSource::Mbox {
                    path: bad.display().to_string(),
                },
            },
            &mut |_| ControlFlow::Continue(()),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not an mbox file"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn message_files_go_into_an_imap_folder_once() {
    let f = Fixture::new();
    let (engine, id) = f.start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 1..=3 {
        let mut raw = format!("Message-ID: <file{i}@example.test>\r\n").into_bytes();
        raw.extend(mail(60 + i));
        let path = dir.path().join(format!("m{i}.eml"));
        write(&path, &raw);
        paths.push(path.display().to_string());
    }
    let pdf = dir.path().join("scan.pdf");
    write(&pdf, b"%PDF-1.7\n");
    paths.push(pdf.display().to_string());
    let request = ImportRequest {
        account: id.clone(),
        folder: "Imported".into(),
        source: ImportSource::MessageFiles { paths },
    };
    let report = import(&engine, &request).await;
    assert_eq!((report.imported, report.skipped), (3, 1), "{report:?}");
    assert!(report.problems[0].contains("scan.pdf"), "{report:?}");
    assert_eq!(server_subjects(&f.h, "Imported").len(), 3);
    assert!(server_flags(&f.h, "Imported", "message 61").contains("\\Seen"));
    // Chosen again: the server folder's Message-IDs say they are there.
    let again = import(&engine, &request).await;
    assert_eq!((again.imported, again.already_here), (0, 3), "{again:?}");
    assert_eq!(server_subjects(&f.h, "Imported").len(), 3);
}
