//! The index on its own: documents in, the query language out, highlights, deletions,
//! reopening, versions, and a kill in the middle of indexing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::query::{parse, Day};
use petrel_core::Envelope;
use petrel_search::{Message, Places, Ranking, SearchIndex};

struct Two;
impl Places for Two {
    fn folders(&self, name: &str) -> Vec<(String, String)> {
        match name.to_lowercase().as_str() {
            "inbox" => vec![("a".into(), "INBOX".into()), ("b".into(), "INBOX".into())],
            "archive" => vec![("a".into(), "Archive".into())],
            _ => vec![],
        }
    }
    fn accounts(&self, name: &str) -> Vec<String> {
        match name {
            "ana@example.org" | "a" => vec!["a".into()],
            "b" => vec!["b".into()],
            _ => vec![],
        }
    }
}

const TODAY: Day = Day {
    year: 2026,
    month: 12,
    day: 2,
};
const DAY: i64 = 86_400;

fn row(uid: u32, from: &str, subject: &str, days_ago: i64, seen: bool) -> Envelope {
    Envelope {
        uid,
        from: from.into(),
        subject: subject.into(),
        date: Some((TODAY.days_since_epoch() - days_ago) * DAY + 3_600),
        seen,
        flagged: false,
        answered: false,
        has_attachment: false,
        size: 2_000 * u64::from(uid),
    }
}

fn mail(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@x>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn put(index: &SearchIndex, account: &str, folder: &str, row: &Envelope, raw: Option<&[u8]>) {
    index
        .put(&Message {
            account,
            folder,
            uid: row.uid,
            row,
            links: None,
            raw,
        })
        .unwrap();
}

fn uids(index: &SearchIndex, q: &str) -> Vec<(String, String, u32)> {
    let query = parse(q).unwrap();
    let mut found: Vec<_> = index
        .search(&query, &Two, TODAY, Ranking::Newest, 0, 100)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| (h.account, h.folder, h.uid))
        .collect();
    found.sort();
    found
}

fn at(a: &str, f: &str, uid: u32) -> (String, String, u32) {
    (a.into(), f.into(), uid)
}

fn filled() -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().unwrap();
    let (index, fresh) = SearchIndex::open(&dir.path().join("search")).unwrap();
    assert!(fresh);
    let budget = mail(
        "Ana Lima <ana@example.org>",
        "Bob <bob@example.org>",
        "Budget 2027",
        "The quarterly budget is attached.\nLet us meet on Tuesday about the plan.",
    );
    let reunion = mail(
        "carl@example.net",
        "ana@example.org",
        "Réunion",
        "Rendez-vous à la réunion de lundi, budget inclus.",
    );
    put(
        &index,
        "a",
        "INBOX",
        &row(1, "Ana Lima", "Budget 2027", 3, true),
        Some(&budget),
    );
    put(
        &index,
        "a",
        "INBOX",
        &row(2, "carl@example.net", "Réunion", 40, false),
        Some(&reunion),
    );
    // Only the list row is here (an IMAP message not read yet).
    put(
        &index,
        "b",
        "INBOX",
        &row(3, "Dora", "Holiday photos", 400, false),
        None,
    );
    put(
        &index,
        "a",
        "Archive",
        &row(4, "Ana Lima", "Old plan", 800, true),
        None,
    );
    index.commit(1, 7).unwrap();
    (dir, index)
}

#[test]
fn the_query_language_finds_what_it_says() {
    let (_dir, index) = filled();
    // Words in the body, any case, accents folded both ways.
    assert_eq!(uids(&index, "quarterly"), vec![at("a", "INBOX", 1)]);
    assert_eq!(uids(&index, "REUNION"), vec![at("a", "INBOX", 2)]);
    assert_eq!(uids(&index, "réunion"), vec![at("a", "INBOX", 2)]);
    assert_eq!(
        uids(&index, "budget"),
        vec![at("a", "INBOX", 1), at("a", "INBOX", 2)]
    );
    // A phrase needs its words together, in order.
    assert_eq!(
        uids(&index, "\"meet on tuesday\""),
        vec![at("a", "INBOX", 1)]
    );
    assert!(uids(&index, "\"tuesday on meet\"").is_empty());
    // People, by address or name, in their own fields.
    assert_eq!(
        uids(&index, "from:ana@example.org"),
        vec![at("a", "INBOX", 1)]
    );
    assert_eq!(
        uids(&index, "to:ana@example.org"),
        vec![at("a", "INBOX", 2)]
    );
    assert_eq!(
        uids(&index, "from:ana"),
        vec![at("a", "Archive", 4), at("a", "INBOX", 1)]
    );
    // Row-only messages are found by their row.
    assert_eq!(uids(&index, "holiday"), vec![at("b", "INBOX", 3)]);
    // Flags, places, dates, sizes, negation, OR.
    assert_eq!(
        uids(&index, "is:unread"),
        vec![at("a", "INBOX", 2), at("b", "INBOX", 3)]
    );
    assert_eq!(uids(&index, "in:archive"), vec![at("a", "Archive", 4)]);
    assert_eq!(uids(&index, "account:b"), vec![at("b", "INBOX", 3)]);
    assert_eq!(uids(&index, "in:inbox -budget"), vec![at("b", "INBOX", 3)]);
    assert_eq!(uids(&index, "newer_than:7d"), vec![at("a", "INBOX", 1)]);
    assert_eq!(
        uids(&index, "older_than:1y"),
        vec![at("a", "Archive", 4), at("b", "INBOX", 3)]
    );
    assert_eq!(
        uids(&index, "after:2026/01/01 before:2026/11/15"),
        vec![at("a", "INBOX", 2)]
    );
    assert_eq!(
        uids(&index, "larger:5K"),
        vec![at("a", "Archive", 4), at("b", "INBOX", 3)]
    );
    assert_eq!(
        uids(&index, "holiday OR quarterly"),
        vec![at("a", "INBOX", 1), at("b", "INBOX", 3)]
    );
    assert_eq!(uids(&index, "subject:plan"), vec![at("a", "Archive", 4)]);
    // A name that means nothing is said, not an empty list.
    let err = index
        .search(
            &parse("in:nowhere").unwrap(),
            &Two,
            TODAY,
            Ranking::Newest,
            0,
            10,
        )
        .unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
}

#[test]
fn results_mark_the_matched_words_and_sort_by_date_or_relevance() {
    let (_dir, index) = filled();
    let found = index
        .search(
            &parse("budget").unwrap(),
            &Two,
            TODAY,
            Ranking::Newest,
            0,
            10,
        )
        .unwrap();
    assert_eq!(found.total, 2);
    let first = &found.hits[0];
    assert_eq!(first.uid, 1, "newest first");
    let subject: Vec<(&str, bool)> = first
        .subject
        .iter()
        .map(|m| (m.text.as_str(), m.matched))
        .collect();
    assert_eq!(subject, vec![("Budget", true), (" 2027", false)]);
    assert!(
        first
            .snippet
            .iter()
            .any(|m| m.matched && m.text == "budget"),
        "{:?}",
        first.snippet
    );
    assert!(first.whole);
    let by_relevance = index
        .search(
            &parse("budget").unwrap(),
            &Two,
            TODAY,
            Ranking::Relevance,
            0,
            10,
        )
        .unwrap();
    assert!(by_relevance.hits[0].score > 0.0);
    // Paging: the second result alone.
    let second = index
        .search(
            &parse("budget").unwrap(),
            &Two,
            TODAY,
            Ranking::Newest,
            1,
            1,
        )
        .unwrap();
    assert_eq!(
        (second.total, second.hits.len(), second.hits[0].uid),
        (2, 1, 2)
    );
}

#[test]
fn deletions_and_replacements_are_followed_and_survive_a_reopen() {
    let (dir, index) = filled();
    // Read elsewhere: the same document, new flags.
    put(
        &index,
        "a",
        "INBOX",
        &row(2, "carl@example.net", "Réunion", 40, true),
        None,
    );
    index.delete("a", "INBOX", 1).unwrap();
    index.delete_folder("a", "Archive").unwrap();
    index.commit(1, 9).unwrap();
    assert_eq!(uids(&index, "is:unread"), vec![at("b", "INBOX", 3)]);
    assert!(uids(&index, "quarterly").is_empty());
    assert!(uids(&index, "in:archive").is_empty());
    assert_eq!(index.len(), 2);
    index.mark_built().unwrap();
    drop(index);
    let (index, fresh) = SearchIndex::open(&dir.path().join("search")).unwrap();
    assert!(!fresh);
    assert_eq!(index.committed().1, 9);
    assert_eq!(index.len(), 2);
}

#[test]
fn an_index_never_marked_built_or_of_another_version_is_made_anew() {
    let (dir, index) = filled();
    drop(index);
    // Never marked built (a first build cut short): started over.
    let (index, fresh) = SearchIndex::open(&dir.path().join("search")).unwrap();
    assert!(fresh);
    assert_eq!(index.len(), 0);
    index.mark_built().unwrap();
    drop(index);
    std::fs::write(dir.path().join("search/petrel-index-version"), "0").unwrap();
    let (index, fresh) = SearchIndex::open(&dir.path().join("search")).unwrap();
    assert!(fresh);
    assert_eq!(index.committed().1, 0);
}

#[test]
fn a_kill_during_indexing_leaves_a_usable_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_petrel-index-fill"))
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for a few commits, then kill it while it adds the next batch.
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut last = 0u64;
    while last < 3 {
        last = lines.next().unwrap().unwrap().trim().parse().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(150));
    child.kill().unwrap();
    child.wait().unwrap();
    let (index, fresh) = SearchIndex::open(&path).unwrap();
    assert!(
        !fresh,
        "the helper marked the index built after its first commit"
    );
    let seq = index.committed().1;
    assert!(seq >= 3, "{seq}");
    // Every committed batch is there, whole, and nothing else: 100 messages per commit.
    assert_eq!(index.len(), seq * 100);
    let found = index
        .search(&parse("zebra").unwrap(), &Two, TODAY, Ranking::Newest, 0, 1)
        .unwrap();
    assert_eq!(found.total as u64, seq * 100);
    // And it takes writes again.
    put(
        &index,
        "a",
        "INBOX",
        &row(1_000_000, "x", "after the crash", 1, true),
        None,
    );
    index.commit(1, seq + 1).unwrap();
    assert_eq!(index.len(), seq * 100 + 1);
}
