//! The outbox: every message is stored durably (a Maildir in the config dir) with its
//! envelope before the first attempt, and leaves only once the server has taken it.
//!
//! Exactly once: the moment the end of a message's data (the final ".") has been written
//! to the socket, its file is renamed to the "handed over" state (cur/ with `P`); after the
//! server's 250, to "sent" (`S`); it is removed only after the caller filed its Sent copy.
//! Each step is one atomic rename. After a crash:
//! - no mark: the final "." never left this process, so the server dropped the
//!   transaction — sending again cannot duplicate it (the caller also asks
//!   `already_sent(message_id)`, which finds copies a server filed itself);
//! - `P` or `S`: the server has it; it is never sent again, only its Sent copy is filed.
//!
//! What remains is a window of one system call between the write returning and the rename
//! (a crash there sends twice), and a server that refuses at the final "." while this
//! process dies before reading the refusal (the message then shows as sent).

use crate::{SmtpError, SmtpSession};
use petrel_maildir::{Maildir, MaildirError};
use std::path::{Path, PathBuf};

/// The first line of a queued file: who it goes to (Bcc recipients live only here).
const ENVELOPE: &str = "X-Petrel-Envelope:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub path: PathBuf,
    pub from: String,
    pub to: Vec<String>,
    pub message_id: Option<String>,
    /// Set once the server took it (waiting only for its Sent copy to be filed).
    pub sent: bool,
    /// Its data reached the server; the answer was not recorded (see the module notes).
    pub handed_over: bool,
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
        Ok(Outbox {
            maildir: Maildir::open(dir)?,
        })
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
            let flags = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split_once(":2,"))
                .map(|(_, flags)| flags.to_string())
                .unwrap_or_default();
            out.push(Queued {
                message_id: message_id(&raw),
                path,
                from,
                to,
                sent: flags.contains('S'),
                handed_over: flags.contains('P'),
            });
        }
        Ok(out)
    }

    /// (messages still waiting for the server, all files including those sent but not yet
    /// filed in Sent), from the file names alone: cheap enough to ask every few seconds,
    /// whatever the messages' sizes.
    pub fn counts(&self) -> Result<(usize, usize), OutboxError> {
        let files = self.maildir.messages()?;
        let waiting = files
            .iter()
            .filter(|p| {
                !p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.split_once(":2,"))
                    .is_some_and(|(_, flags)| flags.contains('S') || flags.contains('P'))
            })
            .count();
        Ok((waiting, files.len()))
    }

    /// The message as it goes on the wire (without the envelope line).
    pub fn message(&self, q: &Queued) -> Result<Vec<u8>, OutboxError> {
        let raw = std::fs::read(&q.path)?;
        Ok(split_envelope(&raw)
            .map(|(_, _, m)| m.to_vec())
            .unwrap_or(raw))
    }

    /// `q` marked sent (see `mark_sent`), as it now is.
    fn sent(&self, q: Queued) -> Result<Queued, OutboxError> {
        let path = self.mark_sent(&q)?;
        Ok(Queued {
            path,
            sent: true,
            ..q
        })
    }

    /// Records that the server took it: one atomic rename, made durable.
    pub fn mark_sent(&self, q: &Queued) -> Result<PathBuf, OutboxError> {
        Ok(mark(self.maildir.root(), &q.path, 'S')?)
    }

    /// Done with it (its Sent copy is filed).
    pub fn remove(&self, path: &Path) -> Result<(), OutboxError> {
        Ok(self.maildir.remove(path)?)
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Default)]
pub struct Flushed {
    /// Now in the sent state (waiting for their Sent copies).
    pub done: Vec<Queued>,
    /// Refused for good by the server (wrong address, too large…): still queued, with why.
    pub refused: Vec<(Queued, SmtpError)>,
    /// A temporary failure that ended the pass; the rest stays queued for the next one.
    pub stopped: Option<SmtpError>,
}

/// Sends what is queued and not sent yet; `already_sent(message_id)` is asked first (a
/// crash may have come between the server's acceptance and our record). A message the
/// server refuses for good does not hold up the others; a temporary failure ends the pass.
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
        // Handed over before a crash, or already in Sent: the server has it.
        if q.handed_over || q.message_id.as_deref().is_some_and(&mut already_sent) {
            out.done.push(outbox.sent(q)?);
            continue;
        }
        let raw = outbox.message(&q)?;
        let (root, path) = (outbox.maildir.root().to_path_buf(), q.path.clone());
        let handed_over = move || {
            if let Err(e) = mark(&root, &path, 'P') {
                tracing::warn!(error = %e, "could not record a message as handed over");
            }
        };
        match session.send_noting(&q.from, &q.to, &raw, handed_over).await {
            Ok(()) => out.done.push(outbox.sent(q)?),
            Err(e) if e.is_temporary() => {
                out.stopped = Some(e);
                break;
            }
            Err(e) => out.refused.push((q, e)),
        }
    }
    Ok(out)
}

/// Renames a queued file (wherever an earlier mark moved it) to carry `flag`, durably.
fn mark(root: &Path, path: &Path, flag: char) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.split(":2,").next().unwrap_or(n).to_string())
        .unwrap_or_default();
    let target = root.join("cur").join(format!("{name}:2,{flag}"));
    let current = [
        path.to_path_buf(),
        root.join("cur").join(format!("{name}:2,P")),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| path.to_path_buf());
    if current != target {
        std::fs::rename(&current, &target)?;
    }
    let _ = petrel_maildir::sync_dir(&root.join("cur"));
    let _ = petrel_maildir::sync_dir(&root.join("new"));
    Ok(target)
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
    fn queued_messages_keep_their_envelope_and_sent_state() {
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
        assert!(!q[0].sent);
        assert_eq!(outbox.counts().unwrap(), (1, 1));
        // Handed over (the final "." left), then sent: never waiting again.
        let handed = mark(dir.path(), &q[0].path, 'P').unwrap();
        let again = outbox.queued().unwrap();
        assert!(again[0].handed_over && !again[0].sent);
        assert_eq!(outbox.counts().unwrap(), (0, 1));
        let sent = outbox.mark_sent(&again[0]).unwrap();
        assert_ne!(handed, sent);
        assert!(outbox.queued().unwrap()[0].sent);
        assert_eq!(outbox.counts().unwrap(), (0, 1), "still to file in Sent");
        outbox.remove(&sent).unwrap();
        assert!(outbox.queued().unwrap().is_empty());
        assert!(matches!(
            outbox.enqueue("a@x", &[], raw),
            Err(OutboxError::NoRecipients)
        ));
    }
}
