//! The list's preview line against a real Dovecot: the sender's first words come from the
//! first kilobytes the server sends (no body is downloaded whole or cached for it), from a
//! multipart message's text part, decoded, without the quoted mail a reply carries; a
//! message read before gives its line from the cache.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::Fixture;

#[tokio::test(flavor = "multi_thread")]
async fn preview_lines_from_the_servers_first_kilobytes_and_from_the_cache() {
    let f = Fixture::new();
    let reply = "From: Ana <ana@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: Re: plan\r\nMessage-ID: <p1@x>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOn Sun, Bob wrote:\r\n> the old plan\r\n\r\nSounds good, let's   go.\r\n-- \r\nAna\r\n";
    let long_html = format!(
        "From: News <n@example.test>\r\nSubject: news\r\nMessage-ID: <p2@x>\r\nDate: Mon, 30 Nov 2026 11:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe aus M=FCnchen!\r\n{}\r\n--zz\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--zz--\r\n",
        "filler line of the long body\r\n".repeat(4000)
    );
    f.h.append("alice", "INBOX", reply.as_bytes()).unwrap();
    f.h.append("alice", "INBOX", long_html.as_bytes()).unwrap();
    f.h.append(
        "alice",
        "INBOX",
        b"From: x@example.test\r\nSubject: no date\r\n\r\nundated\r\n",
    )
    .unwrap();
    let (engine, id) = f.start().await;
    let rows = engine
        .envelopes(&id, "INBOX", 0, 50, true)
        .await
        .unwrap()
        .rows;
    let uid_of = |subject: &str| rows.iter().find(|r| r.subject == subject).unwrap().uid;
    let (re, news, undated) = (uid_of("Re: plan"), uid_of("news"), uid_of("no date"));

    let extras: std::collections::HashMap<u32, petrel_core::RowExtra> = engine
        .row_extras(&id, "INBOX", &[re, news, undated, 999_999])
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.uid, e))
        .collect();
    let lines: std::collections::HashMap<u32, String> = extras
        .iter()
        .map(|(u, e)| (*u, e.preview.clone()))
        .collect();
    assert_eq!(
        lines.get(&re).map(String::as_str),
        Some("Sounds good, let's go.")
    );
    assert!(
        lines
            .get(&news)
            .is_some_and(|l| l.starts_with("Grüße aus München! filler line")),
        "{lines:?}"
    );
    assert!(
        !lines.contains_key(&999_999),
        "a row not in the folder is not made up"
    );
    assert!(
        lines
            .get(&news)
            .is_some_and(|l| l.chars().count() == petrel_render::PREVIEW_CHARS),
        "one line, cut by characters"
    );
    // The recipients (what Sent and Drafts list), and whether the message has a Date.
    assert_eq!(extras[&re].to, "Bob");
    assert!(!extras[&re].undated);
    assert!(extras[&undated].undated, "{:?}", extras.get(&undated));

    // The reader follows the list's date rule: the arrival time, said so.
    let view = engine.message(&id, "INBOX", undated).await.unwrap();
    let row_date = rows.iter().find(|r| r.uid == undated).unwrap().date;
    assert!(
        view.date_is_arrival && view.date.is_some() && view.date == row_date,
        "{:?} {row_date:?}",
        view.date
    );

    // Read once: its line comes from the cached body, and the same line again.
    engine.message(&id, "INBOX", re).await.unwrap();
    let again = engine.row_extras(&id, "INBOX", &[re]).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].preview, "Sounds good, let's go.");
}
