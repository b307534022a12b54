//! Where imported messages go, by account kind: a POP3 account's local folders, where each
//! message is stored under a name made from a hash of its bytes (so one already there is
//! found whatever interrupted the last run), or an IMAP account's server folders (APPEND,
//! after asking whether the folder holds the Message-ID). The import itself (sources,
//! journal, progress) is in `crate::import` and does not ask which kind it fills.

use super::{cached_role_folder, Account, FolderEdit, Incoming};
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::FolderRole;
use petrel_maildir::Keyed;
use petrel_pop3::popstate::PopState;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One message on its way in, with its Maildir-style flags ("S", "R", "F").
pub(crate) struct Arrival {
    pub raw: Vec<u8>,
    pub flags: String,
}

/// What storing a batch did.
pub(crate) struct BatchOutcome {
    pub stored: u32,
    pub already_here: u32,
}

pub(crate) enum ImportInto {
    Local {
        account: Arc<Account>,
        /// Unique names in each filled folder, read once.
        here: HashMap<String, HashSet<String>>,
        /// Thunderbird's popstate.dat entries: a copy whose X-UIDL is one of them is stamped
        /// as downloaded by this account.
        pop3_known: HashMap<String, PopState>,
    },
    Server {
        account: Arc<Account>,
        known: HashSet<String>,
        /// Folders this run created: empty before, nothing in them to look up.
        created: HashSet<String>,
    },
}

/// A 128-bit FNV-1a of `bytes` (two 64-bit lanes with different offsets), in hex, with the
/// length: a Maildir name that stays the same across runs and Rust versions.
pub(crate) fn content_key(bytes: &[u8]) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for &byte in bytes {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = b.rotate_left(5);
    }
    format!("imp-{a:016x}{b:016x}-{}", bytes.len())
}

impl Account {
    /// Where an import into this account puts messages; `pop3_known`: what another POP3
    /// client downloaded (kept only where POP3 downloads happen).
    pub(crate) async fn import_into(
        self: &Arc<Self>,
        cx: &Shared,
        pop3_known: HashMap<String, PopState>,
    ) -> Result<ImportInto, EngineError> {
        Ok(match &**self {
            Account::Pop3(_) => ImportInto::Local {
                account: self.clone(),
                here: HashMap::new(),
                pop3_known,
            },
            Account::Imap(_) => ImportInto::Server {
                account: self.clone(),
                known: self
                    .folders(cx)
                    .await?
                    .into_iter()
                    .map(|f| f.path)
                    .collect(),
                created: HashSet::new(),
            },
        })
    }
}

impl ImportInto {
    /// The account's folder of `role` (local names for POP3, the server's for IMAP).
    pub(crate) fn role_folder(&self, cx: &Shared, role: FolderRole) -> Option<String> {
        match self {
            ImportInto::Local { .. } => super::pop3::LOCAL_FOLDERS
                .iter()
                .find(|(_, r)| *r == role)
                .map(|(n, _)| n.to_string()),
            ImportInto::Server { account, .. } => cached_role_folder(cx, &account.state().id, role),
        }
    }

    /// Makes `folder` ready (created where missing; parents too for local folders).
    pub(crate) async fn open(&mut self, cx: &Shared, folder: &str) -> Result<(), EngineError> {
        match self {
            ImportInto::Local { account, here, .. } => {
                let Account::Pop3(a) = &**account else {
                    return Ok(());
                };
                // Parents too: "Archives/2024" shows under an "Archives" folder.
                let mut prefix = String::new();
                for part in folder.split('/') {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(part);
                    let maildir = a.import_maildir(cx, &prefix)?;
                    if prefix == folder && !here.contains_key(folder) {
                        let names = maildir
                            .unique_names()
                            .map_err(super::pop3::maildir_err("Reading a local folder"))?;
                        here.insert(folder.to_string(), names);
                    }
                }
                Ok(())
            }
            ImportInto::Server {
                account,
                known,
                created,
            } => {
                if !known.contains(folder) {
                    account
                        .change_folder(cx, FolderEdit::Create(folder))
                        .await?;
                    known.insert(folder.to_string());
                    created.insert(folder.to_string());
                }
                Ok(())
            }
        }
    }

    /// Stores a batch in `folder`; what is there already is counted, not stored again.
    pub(crate) async fn store(
        &mut self,
        cx: &Shared,
        folder: &str,
        batch: &[Arrival],
    ) -> Result<BatchOutcome, EngineError> {
        match self {
            ImportInto::Local {
                account,
                here,
                pop3_known,
            } => {
                let Account::Pop3(a) = &**account else {
                    return Ok(BatchOutcome {
                        stored: 0,
                        already_here: 0,
                    });
                };
                let id = account.state().id.0.clone();
                let stamped: Vec<(String, Vec<u8>, &str)> = batch
                    .iter()
                    .map(|m| {
                        let key = content_key(&m.raw);
                        let raw =
                            match header_value(&m.raw, "X-UIDL").and_then(|u| pop3_known.get(&u)) {
                                Some(state) => {
                                    let mut out = petrel_pop3::ledger::stamp_line(
                                        &id,
                                        &state.uidl,
                                        state.time,
                                        m.raw.len() as u64,
                                        matches!(state.flag, 'b' | 'f'),
                                    )
                                    .into_bytes();
                                    out.extend_from_slice(&m.raw);
                                    out
                                }
                                None => m.raw.clone(),
                            };
                        (key, raw, m.flags.as_str())
                    })
                    .collect();
                let keyed: Vec<Keyed<'_>> = stamped
                    .iter()
                    .map(|(key, raw, flags)| Keyed {
                        unique: key.clone(),
                        raw,
                        flags: Some(flags),
                    })
                    .collect();
                let maildir = a.import_maildir(cx, folder)?;
                let names = here.entry(folder.to_string()).or_default();
                let stored = maildir
                    .deliver_keyed(&keyed, names)
                    .map_err(super::pop3::maildir_err(&format!(
                        "Importing into {folder}"
                    )))?
                    .len() as u32;
                Ok(BatchOutcome {
                    stored,
                    already_here: batch.len() as u32 - stored,
                })
            }
            ImportInto::Server {
                account, created, ..
            } => {
                let Account::Imap(a) = &**account else {
                    return Ok(BatchOutcome {
                        stored: 0,
                        already_here: 0,
                    });
                };
                let fresh = created.contains(folder);
                let mut outcome = BatchOutcome {
                    stored: 0,
                    already_here: 0,
                };
                for m in batch {
                    // Already there (an import run again, or resumed after a crash in the
                    // moment of an APPEND): one SEARCH, unless the folder is this run's.
                    if let Some(id) = message_id(&m.raw).filter(|_| !fresh) {
                        if a.holds_message_id(cx, folder, &id).await {
                            outcome.already_here += 1;
                            continue;
                        }
                    }
                    a.append_flagged(cx, folder, &m.raw, &m.flags).await?;
                    outcome.stored += 1;
                }
                if !batch.is_empty() {
                    a.refresh_after_import(cx, folder).await;
                }
                Ok(outcome)
            }
        }
    }

    /// After the last batch: the POP3 ledger learns what Thunderbird had (returns how many
    /// of its UIDLs it now holds), and the filled local folders are listed.
    pub(crate) async fn finish(&self, cx: &Shared, folders: &[String]) -> Result<u32, EngineError> {
        let ImportInto::Local {
            account,
            pop3_known,
            ..
        } = self
        else {
            return Ok(0);
        };
        let Account::Pop3(a) = &**account else {
            return Ok(0);
        };
        let known = if pop3_known.is_empty() {
            0
        } else {
            a.record_downloaded(cx, pop3_known).await?
        };
        for folder in folders {
            a.index_folder(cx, folder)?;
        }
        Ok(known)
    }
}

/// The Message-ID without its angle brackets (as the server search wants it).
fn message_id(raw: &[u8]) -> Option<String> {
    header_value(raw, "Message-ID")
        .map(|id| id.trim_start_matches('<').trim_end_matches('>').to_string())
        .filter(|id| !id.is_empty())
}

/// A header's first value from the header block (unfolded lines are enough for these).
fn header_value(raw: &[u8], name: &str) -> Option<String> {
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(line);
        if let Some((key, value)) = text.split_once(':') {
            if key.trim().eq_ignore_ascii_case(name) {
                let value = value.trim();
                return (!value.is_empty()).then(|| value.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keys_are_stable_and_tell_messages_apart() {
        assert_eq!(content_key(b"abc"), content_key(b"abc"));
        assert_ne!(content_key(b"abc"), content_key(b"abd"));
        // A Maildir unique name: no separator characters.
        assert!(content_key(b"x")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
