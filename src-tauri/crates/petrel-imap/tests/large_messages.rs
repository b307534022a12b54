//! Messages over the size Petrel opens (64 MiB), against a real Dovecot: bodies are asked
//! for cut at the limit with their true size, so a large message is set aside in words and
//! never costs the connection or the rest of its batch (review L13's ceiling).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{Security, ServerSettings};
use petrel_harness::Harness;
use petrel_imap::{ImapError, ImapSession, TrustPolicy, MAX_MESSAGE_BYTES};

fn small(i: u32) -> Vec<u8> {
    format!("Subject: small {i}\r\nMessage-ID: <s{i}@x>\r\n\r\nhello {i}\r\n").into_bytes()
}

#[tokio::test]
async fn a_message_past_the_limit_is_set_aside_and_the_rest_arrives() {
    let h = Harness::start().unwrap();
    h.append("alice", "INBOX", &small(1)).unwrap();
    let mut big = b"Subject: big\r\nMessage-ID: <big@x>\r\n\r\n".to_vec();
    let line = [b"x".repeat(998), b"\r\n".to_vec()].concat();
    while big.len() <= MAX_MESSAGE_BYTES + (2 << 20) {
        big.extend_from_slice(&line);
    }
    h.append("alice", "INBOX", &big).unwrap();
    h.append("alice", "INBOX", &small(3)).unwrap();

    let alice = h.user("alice");
    let server = ServerSettings {
        host: "localhost".into(),
        port: h.ports.imaps,
        security: Security::Tls,
        username: alice.login.clone(),
        pinned_cert_sha256: None,
    };
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    let mut s = ImapSession::login(&server, &alice.password, &trust)
        .await
        .unwrap();
    let bodies = s.fetch_bodies("INBOX", &[1, 2, 3]).await.unwrap();
    let got: Vec<u32> = bodies.iter().map(|(uid, _)| *uid).collect();
    assert_eq!(
        got,
        vec![1, 3],
        "the large one is left for opening on demand"
    );
    assert_eq!(bodies[0].1, small(1), "whole, byte for byte");
    match s.fetch_message("INBOX", 2).await {
        Err(ImapError::Protocol(words)) => assert!(
            words.contains("larger than the 64 MiB Petrel opens"),
            "{words}"
        ),
        other => panic!(
            "expected words about the size, got {:?}",
            other.map(|b| b.len())
        ),
    }
    // The same session goes on.
    assert_eq!(s.fetch_message("INBOX", 3).await.unwrap(), small(3));
}
