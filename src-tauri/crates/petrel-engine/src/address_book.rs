//! Addresses seen in mail — senders and recipients of messages opened here and of mail
//! sent from here — to complete To/Cc/Bcc. Kept in the config dir (`addresses.json`),
//! ranked by how often and how recently they were used.

use petrel_core::AddressSuggestion;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const FILE: &str = "addresses.json";
/// Most addresses remembered; the least used go first.
const MAX_ADDRESSES: usize = 20_000;
/// Weight of an address the user sent to (seen in incoming mail: 1).
const SENT: u32 = 5;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AddressBook {
    /// Lower-cased address → entry.
    entries: HashMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    name: String,
    email: String,
    /// Uses: sending to it counts more than seeing it.
    score: u32,
    /// Seconds since the epoch of the last use.
    last: i64,
}

impl AddressBook {
    /// Records `Name <address>` (or a bare address); `weight` 1 for seen, 5 for sent to.
    fn note(&mut self, display: &str, weight: u32, now: i64) -> bool {
        let (name, email) = split(display);
        if !email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace) {
            return false;
        }
        let e = self
            .entries
            .entry(email.to_ascii_lowercase())
            .or_insert_with(|| Entry {
                name: String::new(),
                email: email.to_string(),
                score: 0,
                last: 0,
            });
        // Incoming mail may name an address only when nobody has yet; it never renames
        // one (review L6: a stranger's "Alice Boss" <alice@evil> would otherwise replace
        // how a known address shows). What the user typed when sending always wins.
        if !name.is_empty() && (e.name.is_empty() || weight >= SENT) {
            e.name = name.chars().filter(|c| !c.is_control()).collect();
        }
        e.score = e.score.saturating_add(weight);
        e.last = now;
        true
    }

    fn suggest(&self, query: &str, limit: usize) -> Vec<AddressSuggestion> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return vec![];
        }
        let mut hits: Vec<&Entry> = self
            .entries
            .values()
            .filter(|e| {
                e.email.to_lowercase().starts_with(&q)
                    || e.name
                        .to_lowercase()
                        .split(|c: char| c.is_whitespace() || c == '.' || c == ',')
                        .any(|w| w.starts_with(&q))
                    || e.name.to_lowercase().starts_with(&q)
            })
            .collect();
        hits.sort_by(|a, b| b.score.cmp(&a.score).then(b.last.cmp(&a.last)));
        hits.into_iter()
            .take(limit)
            .map(|e| AddressSuggestion {
                display: if e.name.is_empty() {
                    e.email.clone()
                } else {
                    format!("{} <{}>", e.name, e.email)
                },
                email: e.email.clone(),
            })
            .collect()
    }

    fn trim(&mut self) {
        if self.entries.len() <= MAX_ADDRESSES {
            return;
        }
        let mut ranked: Vec<(String, u32, i64)> = self
            .entries
            .iter()
            .map(|(k, e)| (k.clone(), e.score, e.last))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
        for (k, _, _) in ranked.into_iter().skip(MAX_ADDRESSES) {
            self.entries.remove(&k);
        }
    }
}

fn split(display: &str) -> (&str, &str) {
    let d = display.trim();
    match (d.rfind('<'), d.rfind('>')) {
        (Some(a), Some(b)) if a < b => (d[..a].trim().trim_matches('"').trim(), d[a + 1..b].trim()),
        _ => ("", d),
    }
}

/// The address book of a config dir: loaded on first use, changed in memory at once and
/// saved on a blocking thread soon after. Opening a message notes its people; writing the
/// whole book durably (up to 20,000 entries) on the reader's path cost every opening a
/// serialisation and an fsync, on a slow disk tens of milliseconds.
pub(crate) struct Addresses {
    dir: std::path::PathBuf,
    book: std::sync::Mutex<Option<AddressBook>>,
    /// A save is queued and has not read the book yet: later changes go with it.
    save_queued: std::sync::atomic::AtomicBool,
    /// One save writes at a time (they share the temporary file's name).
    writing: std::sync::Mutex<()>,
    #[cfg(test)]
    saves: std::sync::atomic::AtomicUsize,
}

impl Drop for Addresses {
    /// A save still queued when the engine goes (its task never ran) is written here.
    fn drop(&mut self) {
        self.flush();
    }
}

impl Addresses {
    pub fn new(config_dir: &std::path::Path) -> std::sync::Arc<Addresses> {
        std::sync::Arc::new(Addresses {
            dir: config_dir.to_path_buf(),
            book: std::sync::Mutex::new(None),
            save_queued: std::sync::atomic::AtomicBool::new(false),
            writing: std::sync::Mutex::new(()),
            #[cfg(test)]
            saves: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn with_book<T>(&self, f: impl FnOnce(&mut AddressBook) -> T) -> T {
        let mut guard = crate::error::lock(&self.book);
        let book = guard.get_or_insert_with(|| {
            std::fs::read(self.dir.join(FILE))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default()
        });
        f(book)
    }

    fn note<'a>(
        self: &std::sync::Arc<Self>,
        addresses: impl IntoIterator<Item = &'a String>,
        weight: u32,
        now: i64,
    ) {
        let changed = self.with_book(|book| {
            let mut changed = false;
            for a in addresses {
                for one in a.split(',') {
                    changed |= book.note(one, weight, now);
                }
            }
            book.trim();
            changed
        });
        if changed {
            self.save_soon();
        }
    }

    /// Queues a save unless one is queued already (it will write this change too).
    fn save_soon(self: &std::sync::Arc<Self>) {
        use std::sync::atomic::Ordering::SeqCst;
        if self.save_queued.swap(true, SeqCst) {
            return;
        }
        let me = std::sync::Arc::clone(self);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || me.save_now());
            }
            Err(_) => me.save_now(),
        }
    }

    fn save_now(&self) {
        let _one_at_a_time = crate::error::lock(&self.writing);
        self.save_while_writing();
    }

    /// The save itself; the caller holds `writing`.
    fn save_while_writing(&self) {
        // Cleared before the book is read: a change after this point queues the next save.
        self.save_queued
            .store(false, std::sync::atomic::Ordering::SeqCst);
        #[cfg(test)]
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let saved = self
            .with_book(|book| serde_json::to_vec(book))
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::durable::write_atomically(&self.dir, FILE, &bytes));
        if let Err(e) = saved {
            tracing::warn!(error = %e, "address book not saved");
        }
    }

    /// Returns once every change so far is on disk: waits for a save being written,
    /// writes a queued one (the engine closing; tests).
    pub fn flush(&self) {
        let _one_at_a_time = crate::error::lock(&self.writing);
        if self.save_queued.load(std::sync::atomic::Ordering::SeqCst) {
            self.save_while_writing();
        }
    }

    /// The people of a message opened in the reader (at `now`, seconds since the epoch).
    pub fn remember_seen(self: &std::sync::Arc<Self>, view: &petrel_core::MessageView, now: i64) {
        self.note(
            std::iter::once(&view.from).chain(&view.to).chain(&view.cc),
            1,
            now,
        );
    }

    /// The recipients of a message sent from here.
    pub fn remember_sent(self: &std::sync::Arc<Self>, msg: &petrel_core::Composition, now: i64) {
        self.note(msg.to.iter().chain(&msg.cc).chain(&msg.bcc), SENT, now);
    }

    /// Addresses whose address or name starts with `query`, most used first.
    pub fn suggestions(&self, query: &str, limit: u32) -> Vec<AddressSuggestion> {
        self.with_book(|book| book.suggest(query, limit.clamp(1, 50) as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_match_address_or_name_words_most_used_first() {
        let mut book = AddressBook::default();
        book.note("Ana Lima <ana@x.test>", 1, 10);
        book.note("\"Anders Berg\" <berg@y.test>", 5, 5);
        book.note("carl@z.test", 1, 1);
        book.note("not an address", 1, 1);
        book.note("ANA@X.TEST", 1, 20);
        let s = book.suggest("an", 10);
        assert_eq!(
            s.iter().map(|s| s.display.as_str()).collect::<Vec<_>>(),
            ["Anders Berg <berg@y.test>", "Ana Lima <ana@x.test>"]
        );
        assert_eq!(book.suggest("lim", 10)[0].email, "ana@x.test");
        assert_eq!(book.suggest("car", 10)[0].display, "carl@z.test");
        assert!(book.suggest("zzz", 10).is_empty());
        assert_eq!(book.entries.len(), 3);
    }

    /// Noting people changes the book at once and saves it soon after, off the caller's
    /// thread: a burst of changes is a few saves, not one durable rewrite each, and all of
    /// it is on disk once the saves are done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_are_saved_soon_after_in_few_writes() {
        let dir = tempfile::tempdir().unwrap();
        let book = Addresses::new(dir.path());
        let people: Vec<String> = (0..200).map(|i| format!("P{i} <p{i}@x.test>")).collect();
        for (i, person) in people.iter().enumerate() {
            book.note(std::iter::once(person), 1, 1);
            let now = book.suggestions(&format!("p{i}@"), 1);
            assert_eq!(now[0].display, *person, "known at once");
        }
        book.flush();
        let saves = book.saves.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..50).contains(&saves), "{saves} saves for 200 changes");
        drop(book);
        let again = Addresses::new(dir.path());
        for (i, person) in people.iter().enumerate() {
            let saved = again.suggestions(&format!("p{i}@"), 1);
            assert_eq!(saved[0].display, *person, "on disk");
        }
    }

    #[test]
    fn incoming_mail_never_renames_a_known_address() {
        let mut book = AddressBook::default();
        book.note("Alice Smith <alice@x.test>", SENT, 1);
        book.note("\"Alice Boss (CEO)\" <alice@x.test>", 1, 2);
        assert_eq!(
            book.suggest("ali", 1)[0].display,
            "Alice Smith <alice@x.test>"
        );
        // An address first seen without a name may get one from mail; the user's wins.
        book.note("bob@x.test", 1, 1);
        book.note("Bob <bob@x.test>", 1, 2);
        assert_eq!(book.suggest("bob", 1)[0].display, "Bob <bob@x.test>");
        book.note("Robert <bob@x.test>", SENT, 3);
        assert_eq!(book.suggest("bob", 1)[0].display, "Robert <bob@x.test>");
    }
}
