//! The harness itself: servers come up on their ports, mail sent by one user arrives for
//! the other, and dropping it stops everything.

use petrel_harness::Harness;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn greeting(port: u16) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("port is open");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line
}

/// Speaks plain SMTP to Postfix directly; Dovecot submission is exercised by the app's tests.
fn smtp_send(port: u16, from: &str, to: &str, body: &str) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    let mut expect = |code: &str| loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with(code), "SMTP wanted {code}, got {line:?}");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    expect("220");
    for (cmd, code) in [
        ("EHLO test\r\n".to_string(), "250"),
        (format!("MAIL FROM:<{from}>\r\n"), "250"),
        (format!("RCPT TO:<{to}>\r\n"), "250"),
        ("DATA\r\n".to_string(), "354"),
        (format!("{body}\r\n.\r\n"), "250"),
        ("QUIT\r\n".to_string(), "221"),
    ] {
        w.write_all(cmd.as_bytes()).unwrap();
        expect(code);
    }
}

#[test]
fn servers_answer_relay_delivers_and_stop_closes_ports() {
    let mut h = Harness::start().expect("harness starts");
    assert!(greeting(h.ports.imap).starts_with("* OK"), "IMAP greets");
    assert!(greeting(h.ports.pop3).starts_with("+OK"), "POP3 greets");
    assert!(
        greeting(h.ports.submission).starts_with("220"),
        "submission greets"
    );
    assert!(greeting(h.ports.smtp).starts_with("220"), "Postfix greets");

    let alice = h.user("alice").login.clone();
    let bob = h.user("bob").login.clone();
    assert!(h.inbox_files("bob").is_empty());
    smtp_send(
        h.ports.smtp,
        &alice,
        &bob,
        &format!("From: {alice}\r\nTo: {bob}\r\nSubject: relay check\r\n\r\nrelayed body"),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.inbox_files("bob").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let files = h.inbox_files("bob");
    assert_eq!(
        files.len(),
        1,
        "Postfix must deliver over LMTP into bob's Maildir"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("relayed body"));

    let port = h.ports.imap;
    let dir = h.dir().to_path_buf();
    h.stop();
    drop(h);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "IMAP port must close after stop"
    );
    assert!(!dir.exists(), "harness dir must be removed");
}

#[test]
fn two_harnesses_are_isolated() {
    let a = Harness::start().unwrap();
    let b = Harness::start().unwrap();
    assert_ne!(a.ports.imap, b.ports.imap);
    assert_ne!(
        a.user("alice").password,
        b.user("alice").password,
        "passwords are random per run"
    );
    a.seed(
        "alice",
        "INBOX",
        &[b"Subject: only in a\r\n\r\nx".to_vec()],
        false,
    )
    .unwrap();
    assert_eq!(a.inbox_files("alice").len(), 1);
    assert_eq!(b.inbox_files("alice").len(), 0);
}

#[test]
fn a_killed_owner_leaves_no_servers_behind() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_petrel-harness"))
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value =
        serde_json::from_str(&line).expect("serve prints its info as JSON");
    let port = info["ports"]["imap"].as_u64().unwrap() as u16;
    let dir = std::path::PathBuf::from(info["dir"].as_str().unwrap());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    child.kill().unwrap(); // SIGKILL: no destructor runs, only the guard can clean up.
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while (TcpStream::connect(("127.0.0.1", port)).is_ok() || dir.exists())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "Dovecot must stop when its owner is killed"
    );
    assert!(
        !dir.exists(),
        "the harness dir must be removed when its owner is killed"
    );
}
