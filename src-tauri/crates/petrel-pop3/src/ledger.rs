//! What this computer holds of a POP3 account, by UIDL: when each message was downloaded,
//! its fingerprint, whether it was deleted here. Kept in a small JSON file written
//! atomically (tmp, fsync, rename, fsync dir) — but the Maildir is the truth: every stored
//! message carries an `X-Petrel-POP3` header with its account, UIDL, download time and
//! size, so a lost, stale or corrupt ledger is rebuilt from the Maildir and never causes a
//! re-download storm or a deletion.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The header Petrel adds at the top of each downloaded message (as Thunderbird adds
/// X-UIDL): `X-Petrel-POP3: account=<id> fetched=<unix> size=<octets> partial=<0|1> uidl=<uidl>`.
pub const HEADER: &str = "X-Petrel-POP3";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When it was downloaded (Unix seconds): "leave for N days" counts from here.
    pub fetched_at: i64,
    /// Message-ID | Date | size: matches the same message under a new UIDL.
    pub fingerprint: String,
    /// Only the header (and maybe the first lines) is here; the server copy is kept.
    pub partial: bool,
    /// Deleted here: the server copy goes when the policy says so.
    pub deleted_here: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub entries: BTreeMap<String, Entry>,
    /// Set (durably) before a download's first batch and cleared after its last is
    /// recorded: found set at start, the last run stopped mid-download and the Maildir is
    /// scanned again.
    pub in_flight: bool,
}

impl Ledger {
    /// The ledger at `path`, or `None` when it is missing or unreadable (then rebuilt).
    pub fn load(path: &Path) -> Option<Ledger> {
        let bytes = fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        // A name of this writer's own: two writers never publish each other's half file.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("json.{}.{n}.tmp", std::process::id()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(&serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        petrel_maildir::sync_dir(dir).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(())
    }

    /// Adds what the account's Maildirs hold (every folder under `account_root`: messages
    /// moved to other local folders still count as downloaded).
    pub fn merge_from_maildirs(&mut self, account: &str, account_root: &Path) {
        for file in maildir_files(account_root) {
            let Some(stored) = read_stamp(&file) else {
                continue;
            };
            if stored.account != account {
                continue;
            }
            let entry = self.entries.entry(stored.uidl).or_insert(Entry {
                fetched_at: stored.fetched_at,
                fingerprint: stored.fingerprint.clone(),
                partial: stored.partial,
                deleted_here: false,
            });
            entry.partial &= stored.partial;
        }
    }
}

/// What a stored message's `X-Petrel-POP3` header and own headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub account: String,
    pub uidl: String,
    pub fetched_at: i64,
    pub size: u64,
    pub partial: bool,
    pub fingerprint: String,
}

/// The header line to put on top of a downloaded message.
pub fn stamp_line(account: &str, uidl: &str, fetched_at: i64, size: u64, partial: bool) -> String {
    format!(
        "{HEADER}: account={account} fetched={fetched_at} size={size} partial={} uidl={uidl}\r\n",
        u8::from(partial)
    )
}

/// Reads the stamp of a stored message (its first 64 KiB suffice: the header block).
pub fn read_stamp(path: &Path) -> Option<Stamp> {
    let mut head = vec![0u8; 64 * 1024];
    let mut file = fs::File::open(path).ok()?;
    let n = file.read(&mut head).ok()?;
    head.truncate(n);
    parse_stamp(&head)
}

/// A message without Petrel's stamp line on top (for exports and the composer): what the
/// server sent.
pub fn without_stamp(raw: &[u8]) -> &[u8] {
    let mut prefix = HEADER.as_bytes().to_vec();
    prefix.push(b':');
    if raw.starts_with(&prefix) {
        if let Some(end) = raw.iter().position(|&b| b == b'\n') {
            return &raw[end + 1..];
        }
    }
    raw
}

pub fn parse_stamp(raw: &[u8]) -> Option<Stamp> {
    let fields = header_fields(raw);
    let line = fields
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(HEADER))?
        .1
        .clone();
    let mut stamp = Stamp {
        account: String::new(),
        uidl: String::new(),
        fetched_at: 0,
        size: 0,
        partial: false,
        fingerprint: String::new(),
    };
    let (before, uidl) = line.split_once("uidl=")?;
    stamp.uidl = uidl.trim().to_string();
    for pair in before.split_whitespace() {
        match pair.split_once('=') {
            Some(("account", v)) => stamp.account = v.to_string(),
            Some(("fetched", v)) => stamp.fetched_at = v.parse().ok()?,
            Some(("size", v)) => stamp.size = v.parse().ok()?,
            Some(("partial", v)) => stamp.partial = v == "1",
            _ => {}
        }
    }
    stamp.fingerprint = fingerprint(raw, stamp.size);
    (!stamp.uidl.is_empty()).then_some(stamp)
}

/// Message-ID | Date | size of a message (its header block is enough).
pub fn fingerprint(raw: &[u8], size: u64) -> String {
    let fields = header_fields(raw);
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (id, date) = (get("Message-ID"), get("Date"));
    if id.is_empty() && date.is_empty() {
        // "||size" alone would let a new message of the same size take a gone one's place
        // during a migration re-map, and be DELEd unread (review L12): the rest of the
        // header block tells such messages apart.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a, stable across Rust versions
        for (name, value) in fields
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(HEADER))
        {
            for b in name
                .to_ascii_lowercase()
                .bytes()
                .chain([b':'])
                .chain(value.bytes())
                .chain([b'\n'])
            {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        return format!("||{size}|{hash:016x}");
    }
    format!("{id}|{date}|{size}")
}

/// The header block's fields, unfolded (stops at the first empty line).
fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// Message files of every Maildir under `root` (one level of folders, plus `root` itself).
pub fn maildir_files(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(children) = fs::read_dir(root) {
        for child in children.flatten() {
            if child.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                dirs.push(child.path());
            }
        }
    }
    let mut files = Vec::new();
    for dir in dirs {
        for sub in ["new", "cur"] {
            if let Ok(entries) = fs::read_dir(dir.join(sub)) {
                files.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_drop_the_download_stamp() {
        let raw =
            b"X-Petrel-POP3: account=a fetched=1 size=2 partial=0 uidl=u\r\nSubject: s\r\n\r\nb";
        assert_eq!(without_stamp(raw), b"Subject: s\r\n\r\nb");
        assert_eq!(without_stamp(b"Subject: s\r\n"), b"Subject: s\r\n");
    }

    #[test]
    fn messages_without_id_or_date_are_told_apart_by_their_headers() {
        let a = b"From: a@x\r\nSubject: one\r\n\r\nbody";
        let b = b"From: a@x\r\nSubject: two\r\n\r\nbody";
        assert_ne!(
            fingerprint(a, 10),
            fingerprint(b, 10),
            "same size, other message"
        );
        // The stored copy (with Petrel's stamp) matches the server's TOP of the same message.
        let mut stored = stamp_line("acc", "u1", 1, 10, false).into_bytes();
        stored.extend_from_slice(a);
        assert_eq!(fingerprint(&stored, 10), fingerprint(a, 10));
        // With a Message-ID the fingerprint keeps its old form (ledgers written before).
        assert_eq!(fingerprint(b"Message-ID: <m@x>\r\n\r\n", 5), "<m@x>||5");
    }

    #[test]
    fn stamps_round_trip_with_odd_uidls() {
        let raw = format!(
            "{}Message-ID: <m@x>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nbody",
            stamp_line("acct-1", "a;b=c:~!", 1_700_000_000, 321, true)
        );
        let s = parse_stamp(raw.as_bytes()).unwrap();
        assert_eq!(
            (
                s.account.as_str(),
                s.uidl.as_str(),
                s.fetched_at,
                s.size,
                s.partial
            ),
            ("acct-1", "a;b=c:~!", 1_700_000_000, 321, true)
        );
        assert_eq!(s.fingerprint, "<m@x>|Mon, 2 Nov 2026 10:00:00 +0000|321");
        assert!(parse_stamp(b"Subject: no stamp\r\n\r\n").is_none());
    }

    #[test]
    fn a_ledger_survives_save_and_load_and_junk_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        let mut l = Ledger::default();
        l.entries.insert(
            "u1".into(),
            Entry {
                fetched_at: 5,
                fingerprint: "f".into(),
                partial: false,
                deleted_here: true,
            },
        );
        l.save(&path).unwrap();
        assert_eq!(Ledger::load(&path), Some(l));
        fs::write(&path, b"{ not json").unwrap();
        assert_eq!(Ledger::load(&path), None);
    }
}
