//! Search against a real Dovecot: the index follows what happens on the server and here,
//! server search covers bodies never downloaded, POP3 mail is searchable once downloaded,
//! and a lost index is rebuilt from the cache.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::{pop3_form, Fixture};
use petrel_core::{SearchOrder, SearchResults, ServerSearch};
use petrel_engine::Engine;

fn letter(n: u32, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Dora Quinn <dora@example.test>\r\nTo: alice@example.test\r\nSubject: {subject}\r\n\
Message-ID: <letter{n}@example.test>\r\nDate: Mon, 02 Nov 2026 10:{n:02}:00 +0000\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn search(engine: &Engine, text: &str) -> SearchResults {
    engine
        .search(text, SearchOrder::Newest, 50, false)
        .await
        .unwrap()
}

fn places(r: &SearchResults) -> Vec<(String, String)> {
    let mut found: Vec<_> = r
        .hits
        .iter()
        .map(|h| (h.folder.clone(), h.envelope.subject.clone()))
        .collect();
    found.sort();
    found
}

fn at(folder: &str, subject: &str) -> (String, String) {
    (folder.into(), subject.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_index_follows_mail_arriving_read_moved_and_expunged_elsewhere() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &[
            letter(1, "Walrus report", "one"),
            letter(2, "Penguin census", "two"),
            letter(3, "Puffin sightings", "three"),
        ],
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    assert_eq!(
        places(&search(&engine, "walrus").await),
        vec![at("INBOX", "Walrus report")]
    );
    assert_eq!(search(&engine, "is:unread").await.hits.len(), 3);

    // Another device: a message arrives, one is read, one moved to Archive, one expunged.
    f.h.append("alice", "INBOX", &letter(4, "Albatross news", "four"))
        .unwrap();
    f.h.doveadm(
        "alice",
        &["flags", "add"],
        &["\\Seen", "mailbox", "INBOX", "HEADER", "Subject", "Walrus"],
    )
    .unwrap();
    f.h.doveadm(
        "alice",
        &["move"],
        &[
            "Archive", "mailbox", "INBOX", "HEADER", "Subject", "Penguin",
        ],
    )
    .unwrap();
    f.h.doveadm(
        "alice",
        &["expunge"],
        &["mailbox", "INBOX", "HEADER", "Subject", "Puffin"],
    )
    .unwrap();
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    engine.envelopes(&id, "Archive", 0, 50, true).await.unwrap();

    assert_eq!(
        places(&search(&engine, "albatross").await),
        vec![at("INBOX", "Albatross news")]
    );
    assert_eq!(
        places(&search(&engine, "walrus is:read").await),
        vec![at("INBOX", "Walrus report")]
    );
    assert!(search(&engine, "walrus is:unread").await.hits.is_empty());
    assert_eq!(
        places(&search(&engine, "penguin").await),
        vec![at("Archive", "Penguin census")]
    );
    assert_eq!(
        places(&search(&engine, "in:archive").await),
        vec![at("Archive", "Penguin census")]
    );
    assert!(
        search(&engine, "puffin").await.hits.is_empty(),
        "expunged elsewhere"
    );
    // Caught up, the index lets go of its writer (its memory and its lock) until the next
    // change: another writer can be had on the same directory now.
    assert!(engine.update_search_index().await.unwrap());
    let (other, _) =
        petrel_search::SearchIndex::open(&f.config.path().join("search-index")).unwrap();
    other
        .delete("nobody", "INBOX", 1)
        .expect("the engine let go of its writer once caught up");
    drop(other);
    // A query that cannot be run says why.
    let err = engine
        .search("frm:dora", SearchOrder::Newest, 50, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("frm:"), "{err}");

    // A lost index (of an older version) is rebuilt from the cache.
    drop(engine);
    let index_dir = f.config.path().join("search-index");
    std::fs::write(index_dir.join("petrel-index-version"), "0").unwrap();
    let engine = f.engine(f.cache_dir.path());
    assert_eq!(
        places(&search(&engine, "albatross OR penguin").await),
        vec![
            at("Archive", "Penguin census"),
            at("INBOX", "Albatross news"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_search_finds_a_message_whose_body_was_never_downloaded() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &[
            letter(1, "Minutes", "We agreed on the xylophone budget."),
            letter(2, "Agenda", "Nothing about instruments. Réunion à Zürich."),
        ],
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    let page = engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();

    // Only the list rows are here: the body word is not found locally…
    assert!(search(&engine, "xylophone").await.hits.is_empty());
    // …but the server finds it, and the result says where it was found.
    let found = engine
        .search("xylophone", SearchOrder::Newest, 50, true)
        .await
        .unwrap();
    assert_eq!(places(&found), vec![at("INBOX", "Minutes")]);
    assert!(found.hits[0].on_server);
    assert_eq!(found.server, ServerSearch::Searched { folders: 1 });
    // Non-ASCII words go to the server as UTF-8.
    let found = engine
        .search("zürich", SearchOrder::Newest, 50, true)
        .await
        .unwrap();
    assert_eq!(places(&found), vec![at("INBOX", "Agenda")]);

    // Opening it brings the body here: then it is a local result, with the word marked.
    let uid = page
        .rows
        .iter()
        .find(|r| r.subject == "Minutes")
        .unwrap()
        .uid;
    engine.message(&id, "INBOX", uid).await.unwrap();
    let local = search(&engine, "xylophone").await;
    assert_eq!(places(&local), vec![at("INBOX", "Minutes")]);
    assert!(!local.hits[0].on_server);
    assert!(local.hits[0]
        .snippet
        .iter()
        .any(|m| m.matched && m.text == "xylophone"));
    // With the server asked too, still once.
    let both = engine
        .search("xylophone", SearchOrder::Newest, 50, true)
        .await
        .unwrap();
    assert_eq!(both.hits.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_search_while_offline_gives_local_results_and_says_so() {
    let f = Fixture::with_proxy();
    f.h.seed(
        "alice",
        "INBOX",
        &[letter(1, "Harbour plans", "kelp")],
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    f.proxy().set_up(false);
    f.proxy().cut_all();
    let found = engine
        .search("harbour", SearchOrder::Newest, 50, true)
        .await
        .unwrap();
    assert_eq!(places(&found), vec![at("INBOX", "Harbour plans")]);
    assert!(
        matches!(found.server, ServerSearch::Offline { .. }),
        "{:?}",
        found.server
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pop3_mail_is_searchable_after_download() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &[letter(1, "Receipt", "Your order of marzipan shipped.")],
        false,
    )
    .unwrap();
    let engine = f.engine(f.cache_dir.path());
    let password = f.h.user("alice").password.clone();
    let id = engine
        .add_account(pop3_form(&f, &password))
        .await
        .unwrap()
        .id;
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
    let found = search(&engine, "marzipan").await;
    assert_eq!(places(&found), vec![at("INBOX", "Receipt")]);
    assert!(found.hits[0]
        .snippet
        .iter()
        .any(|m| m.matched && m.text == "marzipan"));
    assert_eq!(
        places(&search(&engine, "from:dora@example.test").await),
        vec![at("INBOX", "Receipt")]
    );
    // Moved to a local folder here: the index follows.
    let uid = found.hits[0].envelope.uid;
    engine
        .move_messages(&id, "INBOX", &[uid], "Archive")
        .await
        .unwrap();
    assert_eq!(
        places(&search(&engine, "marzipan").await),
        vec![at("Archive", "Receipt")]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_result_opens_in_its_conversation() {
    let f = Fixture::new();
    let reply = "From: Dora Quinn <dora@example.test>\r\nTo: alice@example.test\r\n\
Subject: Re: Trip\r\nMessage-ID: <trip2@example.test>\r\nIn-Reply-To: <letter1@example.test>\r\n\
References: <letter1@example.test>\r\nDate: Mon, 02 Nov 2026 10:05:00 +0000\r\n\r\n\
Ask the harbourmaster about the mooring.\r\n";
    f.h.seed(
        "alice",
        "INBOX",
        &[
            letter(1, "Trip", "Shall we sail on Sunday?"),
            reply.as_bytes().to_vec(),
            letter(9, "Newer", "Something else entirely."),
        ],
        false,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();

    // The body word is on the server only; the result is the reply, second in its
    // conversation, which is the second conversation (the newest comes first).
    let found = engine
        .search("harbourmaster", SearchOrder::Newest, 50, true)
        .await
        .unwrap();
    assert_eq!(places(&found), vec![at("INBOX", "Re: Trip")]);
    let hit = &found.hits[0];
    let spot = engine
        .conversation_of(&id, &hit.folder, hit.envelope.uid)
        .await
        .unwrap()
        .expect("the message is in its folder's conversations");
    assert_eq!(spot.position, 2);
    let open = engine
        .threads(
            &id,
            "INBOX",
            spot.position,
            1,
            false,
            &Default::default(),
            std::slice::from_ref(&spot.thread),
        )
        .await
        .unwrap();
    assert_eq!(open.rows[0].envelope.uid, hit.envelope.uid);
    assert_eq!(open.rows[0].thread, spot.thread);
    assert_eq!(open.rows[0].depth, 1);

    // A message gone from the folder has no place.
    assert_eq!(
        engine.conversation_of(&id, "INBOX", 999).await.unwrap(),
        None
    );
}
