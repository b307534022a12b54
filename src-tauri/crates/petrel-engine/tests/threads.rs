//! The conversation view against the harness's Dovecot: threading headers are fetched on
//! first use, the user's replies in Sent join their conversations, expanding shows every
//! message in reply order, and new replies from elsewhere join on the next page.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

mod common;

use common::Fixture;
use petrel_core::ListQuery;

fn msg(id: &str, parents: &[&str], from: &str, subject: &str, minute: u32) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nSubject: {subject}\r\nDate: Mon, 02 Nov 2026 10:{minute:02}:00 +0000\r\nMessage-ID: <{id}>\r\n"
    );
    if let Some(last) = parents.last() {
        let refs: Vec<String> = parents.iter().map(|p| format!("<{p}>")).collect();
        m.push_str(&format!(
            "In-Reply-To: <{last}>\r\nReferences: {}\r\n",
            refs.join("\r\n ")
        ));
    }
    m.push_str("\r\nbody\r\n");
    m.into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn conversations_include_own_replies_from_sent_and_follow_new_mail() {
    let f = Fixture::new();
    f.h.seed(
        "alice",
        "INBOX",
        &[
            msg("plan@b", &[], "Bob <bob@x>", "Plan", 1),
            msg("lunch@c", &[], "Cy <cy@x>", "Lunch", 2),
            msg(
                "plan2@b",
                &["plan@b", "mine@a"],
                "Bob <bob@x>",
                "Re: Plan",
                5,
            ),
        ],
        false,
    )
    .unwrap();
    f.h.seed(
        "alice",
        "Sent",
        &[
            msg("mine@a", &["plan@b"], "Alice <alice@x>", "Re: Plan", 3),
            msg("elsewhere@a", &[], "Alice <alice@x>", "Unrelated", 4),
        ],
        true,
    )
    .unwrap();
    let (engine, id) = f.start().await;
    engine.folders(&id).await.unwrap();
    let q = ListQuery::default();

    let collapsed = engine
        .threads(&id, "INBOX", 0, 50, false, &q, &[])
        .await
        .unwrap();
    assert_eq!((collapsed.total, collapsed.threads), (2, 2));
    let heads: Vec<(&str, u32)> = collapsed
        .rows
        .iter()
        .map(|r| (r.envelope.subject.as_str(), r.count))
        .collect();
    assert_eq!(
        heads,
        vec![("Plan", 3), ("Lunch", 1)],
        "newest conversation first"
    );
    assert_eq!(collapsed.rows[0].thread, "plan@b");

    let open = engine
        .threads(&id, "INBOX", 0, 50, false, &q, &["plan@b".to_string()])
        .await
        .unwrap();
    let rows: Vec<(&str, &str, u32)> = open
        .rows
        .iter()
        .map(|r| (r.folder.as_str(), r.envelope.from.as_str(), r.depth))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("INBOX", "Bob", 0),
            ("Sent", "Alice", 1),
            ("INBOX", "Bob", 2),
            ("INBOX", "Cy", 0)
        ]
    );
    assert_eq!(open.total, 4);
    // Positions page like a folder's: the second row alone.
    let second = engine
        .threads(&id, "INBOX", 1, 1, false, &q, &["plan@b".to_string()])
        .await
        .unwrap();
    assert_eq!(second.rows.len(), 1);
    assert_eq!(second.rows[0].folder, "Sent");

    // Another device answers Cy: the reply joins on the next refresh.
    f.h.append(
        "alice",
        "INBOX",
        &msg("lunch2@d", &["lunch@c"], "Dee <dee@x>", "Re: Lunch", 9),
    )
    .unwrap();
    let after = engine
        .threads(&id, "INBOX", 0, 50, true, &q, &[])
        .await
        .unwrap();
    let heads: Vec<(&str, u32)> = after
        .rows
        .iter()
        .map(|r| (r.envelope.subject.as_str(), r.count))
        .collect();
    assert_eq!(heads, vec![("Lunch", 2), ("Plan", 3)]);
}
