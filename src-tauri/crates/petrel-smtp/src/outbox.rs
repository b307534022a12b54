//! The outbox: every message is stored durably (a Maildir in the config dir) with its
//! envelope before the first attempt, and leaves only once the server has settled it.
//!
//! A message's state is its file's Maildir flags (see `petrel_maildir` for the separator):
//! - none (in new/): waiting for a try;
//! - `H` "handing over": recorded, durably, *before* the end of its data (the final ".")
//!   is written; nothing ends a message on the wire that is not first marked so. Found
//!   after a crash, it means the end may or may not have left: the message is never sent
//!   again on its own — found in Sent it is done, else it waits for the user ("may have
//!   been sent": Send again or Delete), the one who can ask a recipient;
//! - `P` "handed over": the end of its data was written to the socket and no reply has
//!   been read yet — the outcome is unknown, so it is never sent again (the caller looks
//!   for it in Sent, and files a copy when Sent has none);
//! - `S` "sent": the server answered 2xx; it waits only for its Sent copy to be filed;
//! - `X` "refused": the server answered 5xx; kept with the server's words for the user to
//!   edit or delete, never retried or filed in Sent.
//!
//! A 4xx answer puts the message back to waiting, with the server's words kept. Any reply
//! to the end of data settles the `H`/`P` mark at once; only no reply (a cut, a timeout, a
//! crash) leaves it, and a failed write of the end puts the message back to waiting (a
//! TLS record cut short is never read by the server). Each step is one atomic rename, made
//! durable; the server's words live in `notes/<unique name>` beside the Maildir. No crash
//! point sends a message twice: before `H` the end was not written; with `H` the message
//! waits for the user.

use crate::{Handover, SmtpError, SmtpSession};
use petrel_maildir::{Maildir, MaildirError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The first line of a queued file: who it goes to (Bcc recipients live only here).
const ENVELOPE: &str = "X-Petrel-Envelope:";
const HANDING_OVER: &str = "H";
const HANDED_OVER: &str = "P";
const SENT: &str = "S";
const REFUSED: &str = "X";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub path: PathBuf,
    /// The file's unique name: it finds the message whatever marks it has since had.
    pub name: String,
    pub from: String,
    pub to: Vec<String>,
    pub message_id: Option<String>,
    /// Set once the server took it (waiting only for its Sent copy to be filed).
    pub sent: bool,
    /// Its data reached the server and no reply was read (see the module notes).
    pub handed_over: bool,
    /// Refused for good by the server: waits for the user (edit or delete).
    pub refused: bool,
    /// Petrel stopped while the end of its data was going out: it may have been sent, and
    /// waits for the user (send again or delete). See the module notes.
    pub unsure: bool,
    /// The server's words about the last try (a 4xx or a 5xx answer).
    pub note: Option<String>,
}

impl Queued {
    /// Waiting for a try: not sent, not handed over, not refused, not unsure.
    pub fn waiting(&self) -> bool {
        !self.sent && !self.handed_over && !self.refused && !self.unsure
    }

    /// Shown in the Outbox: waiting for the server, or for the user (refused, unsure).
    pub fn shown(&self) -> bool {
        self.waiting() || self.refused || self.unsure
    }
}

/// How many messages are in each state, from the file names alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting for a try.
    pub waiting: usize,
    /// Refused by the server, waiting for the user.
    pub refused: usize,
    /// May have been sent (Petrel stopped as it left), waiting for the user.
    pub unsure: usize,
    /// Sent or handed over, their Sent copies not filed yet: a pass still has work.
    pub unfiled: usize,
}

#[derive(Debug)]
pub struct Outbox {
    maildir: Maildir,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] MaildirError),
    #[error("reading the outbox: {0}")]
    Io(#[from] std::io::Error),
    #[error("the message has no recipients")]
    NoRecipients,
}

impl Outbox {
    pub fn open(dir: &Path) -> Result<Outbox, OutboxError> {
        let maildir = Maildir::open(dir)?;
        std::fs::create_dir_all(dir.join("notes"))?;
        Ok(Outbox { maildir })
    }

    /// Stores `raw` (built once, with its Message-ID) for `to`, durably, before any attempt.
    pub fn enqueue(&self, from: &str, to: &[String], raw: &[u8]) -> Result<PathBuf, OutboxError> {
        if to.is_empty() {
            return Err(OutboxError::NoRecipients);
        }
        let clean = |s: &str| s.replace(['\r', '\n', ' ', ','], "");
        let to: Vec<String> = to.iter().map(|t| clean(t)).collect();
        let mut file =
            format!("{ENVELOPE} from={} to={}\r\n", clean(from), to.join(",")).into_bytes();
        file.extend_from_slice(raw);
        let stored = self.maildir.deliver_batch(&[file])?;
        Ok(stored
            .into_iter()
            .next()
            .map(|s| s.path)
            .unwrap_or_default())
    }

    /// Everything still in the outbox, oldest first.
    pub fn queued(&self) -> Result<Vec<Queued>, OutboxError> {
        let mut out = Vec::new();
        for path in self.maildir.messages()? {
            let raw = std::fs::read(&path)?;
            let Some((from, to, _)) = split_envelope(&raw) else {
                continue;
            };
            let flags = petrel_maildir::flags_of(&path);
            let name = petrel_maildir::unique_of(&path);
            out.push(Queued {
                message_id: message_id(&raw),
                note: self.note(&name),
                name,
                path,
                from,
                to,
                sent: flags.contains(SENT),
                handed_over: flags.contains(HANDED_OVER),
                refused: flags.contains(REFUSED),
                unsure: is_unsure(&flags),
            });
        }
        Ok(out)
    }

    /// The message with this unique name, as it is now.
    pub fn find(&self, name: &str) -> Result<Option<Queued>, OutboxError> {
        Ok(self.queued()?.into_iter().find(|q| q.name == name))
    }

    /// Counts by state from the file names alone: cheap enough to ask every few seconds,
    /// whatever the messages' sizes.
    pub fn counts(&self) -> Result<OutboxCounts, OutboxError> {
        let mut counts = OutboxCounts::default();
        for path in self.maildir.messages()? {
            let flags = petrel_maildir::flags_of(&path);
            if flags.contains(REFUSED) {
                counts.refused += 1;
            } else if is_unsure(&flags) {
                counts.unsure += 1;
            } else if flags.contains(SENT) || flags.contains(HANDED_OVER) {
                counts.unfiled += 1;
            } else {
                counts.waiting += 1;
            }
        }
        Ok(counts)
    }

    /// The message as it goes on the wire (without the envelope line).
    pub fn message(&self, q: &Queued) -> Result<Vec<u8>, OutboxError> {
        let path = self.maildir.find(&q.name).unwrap_or_else(|| q.path.clone());
        let raw = std::fs::read(path)?;
        Ok(split_envelope(&raw)
            .map(|(_, _, m)| m.to_vec())
            .unwrap_or(raw))
    }

    /// Records that the server took it (2xx): one atomic rename, made durable.
    pub fn mark_sent(&self, q: &Queued) -> Result<Queued, OutboxError> {
        let path = self.maildir.set_flags(&q.path, SENT)?;
        self.set_note(&q.name, None)?;
        Ok(Queued {
            path,
            sent: true,
            handed_over: false,
            refused: false,
            unsure: false,
            note: None,
            ..q.clone()
        })
    }

    /// Settles a message by the server's answer: 2xx sent, 4xx waiting again, 5xx refused;
    /// no answer leaves it as it is (handed over, outcome unknown). Returns it as it now is.
    pub fn settle(&self, q: &Queued, answer: &Answer) -> Result<Queued, OutboxError> {
        match answer {
            Answer::Accepted => self.mark_sent(q),
            Answer::TryLater(words) => {
                self.set_note(&q.name, Some(words))?;
                let path = self.maildir.clear_flags(&q.path)?;
                Ok(Queued {
                    path,
                    sent: false,
                    handed_over: false,
                    refused: false,
                    unsure: false,
                    note: Some(words.clone()),
                    ..q.clone()
                })
            }
            Answer::Refused(words) => {
                self.set_note(&q.name, Some(words))?;
                let path = self.maildir.set_flags(&q.path, REFUSED)?;
                Ok(Queued {
                    path,
                    sent: false,
                    handed_over: false,
                    refused: true,
                    unsure: false,
                    note: Some(words.clone()),
                    ..q.clone()
                })
            }
        }
    }

    /// The user's "Send again" for a message that may have been sent: waiting once more.
    pub fn send_again(&self, name: &str) -> Result<(), OutboxError> {
        let path = self.maildir.find(name).ok_or_else(|| {
            OutboxError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the message is no longer in the outbox",
            ))
        })?;
        self.maildir.clear_flags(&path)?;
        Ok(())
    }

    /// Done with it (its Sent copy is filed, or the user took it back): found by its unique
    /// name whatever its marks.
    pub fn remove(&self, name: &str) -> Result<(), OutboxError> {
        self.maildir.remove_named(name)?;
        self.set_note(name, None)?;
        Ok(())
    }

    fn note_path(&self, name: &str) -> PathBuf {
        self.maildir.root().join("notes").join(name)
    }

    fn note(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.note_path(name)).ok()
    }

    fn set_note(&self, name: &str, words: Option<&str>) -> Result<(), OutboxError> {
        let path = self.note_path(name);
        match words {
            Some(w) => {
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, w)?;
                std::fs::rename(&tmp, &path)?;
            }
            None => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            },
        }
        Ok(())
    }
}

/// The server's answer to one message, as the outbox records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    TryLater(String),
    Refused(String),
}

/// What one pass over the outbox did.
#[derive(Debug, Default)]
pub struct Flushed {
    /// Now in the sent state (waiting for their Sent copies). `handed_over` ones are the
    /// outcome-unknown messages the caller's `already_sent` did not find.
    pub done: Vec<Queued>,
    /// Refused for good by the server in this pass (wrong address, too large…): kept, with
    /// why, for the user.
    pub refused: Vec<(Queued, SmtpError)>,
    /// Found as Petrel left them when it stopped while their end was going out, and not in
    /// Sent: they may have been sent, so they wait for the user.
    pub unsure: Vec<Queued>,
    /// Answered 4xx in this pass: waiting again, with the server's words.
    pub deferred: Vec<(Queued, SmtpError)>,
    /// A failure that ended the pass; the rest stays queued for the next one.
    pub stopped: Option<SmtpError>,
}

/// Sends what is waiting. Messages whose outcome is unknown (handed over, no reply read)
/// are never sent again: `already_sent(message_id)` tells whether Sent has a copy, and
/// either way they count as done (the caller files a copy when Sent has none). Refused
/// messages wait for the user. A message the server refuses for good does not hold up the
/// others; a 4xx answer or a lost connection ends the pass.
pub async fn flush(
    outbox: &Outbox,
    session: &mut SmtpSession,
    mut already_sent: impl FnMut(&str) -> bool,
) -> Result<Flushed, OutboxError> {
    let mut out = Flushed::default();
    for q in outbox.queued()? {
        if q.sent {
            out.done.push(q);
            continue;
        }
        if q.refused {
            continue;
        }
        if q.unsure {
            if q.message_id.as_deref().is_some_and(&mut already_sent) {
                let marked = outbox.mark_sent(&q)?;
                out.done.push(marked);
            } else {
                out.unsure.push(q);
            }
            continue;
        }
        if q.handed_over {
            let in_sent = q.message_id.as_deref().is_some_and(&mut already_sent);
            let marked = outbox.mark_sent(&q)?;
            // Still flagged as handed over for the caller: filed only when Sent lacks it.
            out.done.push(Queued {
                handed_over: !in_sent,
                ..marked
            });
            continue;
        }
        let raw = outbox.message(&q)?;
        let marks = Marks::new(outbox, &q);
        let result = session
            .send_noting(&q.from, &q.to, &raw, marks.handover())
            .await;
        let q = Queued {
            path: marks.path(),
            ..q
        };
        match result {
            Ok(()) => match outbox.mark_sent(&q) {
                Ok(q) => out.done.push(q),
                // The server has it: it must never be sent again, even if the mark failed
                // (Windows names, a full disk). Counted as sent for this pass.
                Err(e) => {
                    tracing::warn!(error = %e, "sent, but the outbox could not record it");
                    out.done.push(Queued { sent: true, ..q });
                }
            },
            Err(e) => match e.answer() {
                Some(Answer::TryLater(words)) => {
                    let q = outbox.settle(&q, &Answer::TryLater(words))?;
                    out.deferred.push((q, e));
                    break;
                }
                Some(Answer::Refused(words)) => {
                    let q = outbox.settle(&q, &Answer::Refused(words))?;
                    out.refused.push((q, e));
                }
                // No reply. Once the end was on the wire the mark stays (outcome unknown);
                // before, nothing was sent and the message waits again. (An error never
                // carries `Accepted`.)
                None | Some(Answer::Accepted) => {
                    let unrecorded = marks.unrecorded();
                    if !marks.on_wire() {
                        if let Err(e) = outbox.maildir.clear_flags(&q.path) {
                            // It stays marked: shown as "may have been sent", never resent.
                            tracing::warn!(error = %e, "could not put an unsent message back to waiting");
                        }
                    }
                    out.stopped = Some(match unrecorded {
                        Some(why) => SmtpError::Unrecorded(why),
                        None => e,
                    });
                    break;
                }
            },
        }
    }
    Ok(out)
}

/// "Handing over" without a later mark: see the module notes.
fn is_unsure(flags: &str) -> bool {
    flags.contains(HANDING_OVER)
        && !flags.contains(HANDED_OVER)
        && !flags.contains(SENT)
        && !flags.contains(REFUSED)
}

/// The marks of one message around the end of its data, and what became of them.
struct Marks {
    maildir: Maildir,
    /// Where the file is now (each mark renames it).
    path: Arc<Mutex<PathBuf>>,
    on_wire: Arc<AtomicBool>,
    unrecorded: Arc<Mutex<Option<String>>>,
}

impl Marks {
    fn new(outbox: &Outbox, q: &Queued) -> Self {
        Marks {
            maildir: outbox.maildir.clone(),
            path: Arc::new(Mutex::new(q.path.clone())),
            on_wire: Arc::default(),
            unrecorded: Arc::default(),
        }
    }

    fn handover(&self) -> Handover {
        let (maildir, path, unrecorded) = (
            self.maildir.clone(),
            self.path.clone(),
            self.unrecorded.clone(),
        );
        let before = move || {
            let mut path = path.lock().unwrap_or_else(|p| p.into_inner());
            match maildir.set_flags(&path, HANDING_OVER) {
                Ok(now) => {
                    *path = now;
                    Ok(())
                }
                Err(e) => {
                    let words = e.to_string();
                    *unrecorded.lock().unwrap_or_else(|p| p.into_inner()) = Some(words.clone());
                    Err(words)
                }
            }
        };
        let (maildir, path, on_wire) = (
            self.maildir.clone(),
            self.path.clone(),
            self.on_wire.clone(),
        );
        let after = move || {
            on_wire.store(true, Ordering::SeqCst);
            let mut path = path.lock().unwrap_or_else(|p| p.into_inner());
            match maildir.set_flags(&path, HANDED_OVER) {
                Ok(now) => *path = now,
                // It stays "handing over": never resent, shown as "may have been sent".
                Err(e) => tracing::warn!(error = %e, "could not record a message as handed over"),
            }
        };
        Handover {
            before: Box::new(before),
            after: Box::new(after),
        }
    }

    fn path(&self) -> PathBuf {
        self.path.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn on_wire(&self) -> bool {
        self.on_wire.load(Ordering::SeqCst)
    }

    fn unrecorded(&self) -> Option<String> {
        self.unrecorded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn split_envelope(raw: &[u8]) -> Option<(String, Vec<String>, &[u8])> {
    let end = raw.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&raw[..end]).ok()?.trim_end();
    let rest = line.strip_prefix(ENVELOPE)?.trim();
    let (from_part, to_part) = rest.split_once(" to=")?;
    let from = from_part.strip_prefix("from=")?.to_string();
    let to = to_part
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Some((from, to, &raw[end + 1..]))
}

fn message_id(raw: &[u8]) -> Option<String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..head_end]);
    head.split("\r\n").find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim().eq_ignore_ascii_case("message-id").then(|| {
            value
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_messages_keep_their_envelope_and_state() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let raw = b"From: a@x\r\nTo: b@x\r\nMessage-ID: <m1@x>\r\nSubject: s\r\n\r\nbody\r\n";
        outbox
            .enqueue("a@x", &["b@x".into(), "hidden-bcc@x".into()], raw)
            .unwrap();
        let q = outbox.queued().unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].from.as_str(), q[0].to.clone()),
            ("a@x", vec!["b@x".to_string(), "hidden-bcc@x".to_string()])
        );
        assert_eq!(q[0].message_id.as_deref(), Some("m1@x"));
        assert_eq!(
            outbox.message(&q[0]).unwrap(),
            raw,
            "the wire form has no envelope line"
        );
        assert!(q[0].waiting());
        let count = |w, r, u| OutboxCounts {
            waiting: w,
            refused: r,
            unfiled: u,
            unsure: 0,
        };
        assert_eq!(outbox.counts().unwrap(), count(1, 0, 0));
        // 4xx: waiting again, with the server's words.
        let later = outbox
            .settle(&q[0], &Answer::TryLater("451 4.3.0 later".into()))
            .unwrap();
        assert!(later.waiting());
        assert_eq!(
            outbox.queued().unwrap()[0].note.as_deref(),
            Some("451 4.3.0 later")
        );
        // 5xx: refused, kept with why, not waiting.
        let refused = outbox
            .settle(&later, &Answer::Refused("552 too big".into()))
            .unwrap();
        let again = outbox.queued().unwrap();
        assert!(again[0].refused && !again[0].waiting());
        assert_eq!(again[0].note.as_deref(), Some("552 too big"));
        assert_eq!(outbox.counts().unwrap(), count(0, 1, 0));
        // Handed over (from a stale path), then sent: never waiting again.
        outbox.maildir.set_flags(&q[0].path, HANDED_OVER).unwrap();
        assert!(outbox.queued().unwrap()[0].handed_over);
        assert_eq!(outbox.counts().unwrap(), count(0, 0, 1));
        let sent = outbox.mark_sent(&refused).unwrap();
        assert!(outbox.queued().unwrap()[0].sent);
        assert_eq!(outbox.queued().unwrap()[0].note, None);
        assert_eq!(
            outbox.counts().unwrap(),
            count(0, 0, 1),
            "still to file in Sent"
        );
        // Removed by its unique name, whatever path was kept.
        outbox.remove(&q[0].name).unwrap();
        assert!(outbox.queued().unwrap().is_empty());
        assert!(!sent.path.exists());
        assert!(matches!(
            outbox.enqueue("a@x", &[], raw),
            Err(OutboxError::NoRecipients)
        ));
    }
}
