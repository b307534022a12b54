//! Test helper: indexes batches of 100 messages into the index at the given path forever,
//! committing after each and printing the commit's number — for the test that kills it in
//! the middle of a batch.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test helper: failing loudly is the point

use petrel_core::Envelope;
use petrel_search::{Message, SearchIndex};

fn main() {
    let path = std::env::args_os().nth(1).expect("index path");
    let (index, _) = SearchIndex::open(std::path::Path::new(&path)).unwrap();
    let body = "zebra ".repeat(2_000);
    for batch in 1u64.. {
        for i in 0..100u32 {
            let uid = (batch as u32) * 100 + i;
            let row = Envelope {
                uid,
                from: "Filler".into(),
                subject: format!("message {uid}"),
                date: Some(1_700_000_000),
                seen: false,
                flagged: false,
                answered: false,
                has_attachment: false,
                size: 10,
            };
            let raw = format!("Subject: message {uid}\r\n\r\n{body}\r\n");
            index
                .put(&Message {
                    account: "a",
                    folder: "INBOX",
                    uid,
                    row: &row,
                    links: None,
                    raw: Some(raw.as_bytes()),
                })
                .unwrap();
        }
        index.commit(1, batch).unwrap();
        if batch == 1 {
            index.mark_built().unwrap();
        }
        println!("{batch}");
    }
}
