//! Sending: the message is built once (with its Message-ID), stored in the account's
//! outbox, then sent; its Sent copy is filed (IMAP APPEND to Sent, or the local Sent of a
//! POP3 account) and only then does it leave the outbox. While the server cannot be reached
//! it stays queued and the next attempt sends it.

use crate::{Engine, EngineError};
use petrel_core::{AccountId, ComposeKind, Composition, FolderRole, IncomingProtocol};
use petrel_smtp::{Outbox, Queued, SmtpError, SmtpSession};
use std::collections::HashSet;

pub use petrel_core::{Composition as Outgoing, SendReport};

fn smtp_err(context: String) -> impl FnOnce(SmtpError) -> EngineError {
    move |e| EngineError::Imap {
        context,
        source: match e {
            SmtpError::Unreachable { host, port, source } => {
                petrel_imap::ImapError::Unreachable { host, port, source }
            }
            SmtpError::CertificateUntrusted {
                reason,
                certificate,
            } => petrel_imap::ImapError::CertificateUntrusted {
                reason,
                certificate,
            },
            SmtpError::AuthFailed(m) => petrel_imap::ImapError::AuthFailed(m),
            SmtpError::ConnectionLost(m) | SmtpError::Temporary(m) => {
                petrel_imap::ImapError::ConnectionLost(m)
            }
            SmtpError::Timeout { what } => petrel_imap::ImapError::Timeout { what },
            SmtpError::Tls(m) => petrel_imap::ImapError::Tls(m),
            SmtpError::StartTlsUnavailable => petrel_imap::ImapError::StartTlsUnavailable,
            SmtpError::StartTlsInjection => petrel_imap::ImapError::StartTlsInjection,
            other => petrel_imap::ImapError::Refused(other.to_string()),
        },
    }
}

fn outbox_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Storage {
        context: "The outbox".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

impl Engine {
    /// Sets (or clears) the account's outgoing server.
    pub fn set_smtp(
        &self,
        id: &AccountId,
        smtp: Option<petrel_core::ServerSettings>,
    ) -> Result<petrel_core::AccountSettings, EngineError> {
        self.update_account(id, |a| a.smtp = smtp)
    }

    /// A reply, reply all or forward of a message, ready for the composer.
    pub async fn start_composition(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
        kind: ComposeKind,
    ) -> Result<Composition, EngineError> {
        let account = self.account(id)?;
        let raw = self.raw_message(id, folder, uid).await?;
        let original = petrel_compose::Original::parse(crate::pop3_account::without_stamp(&raw));
        let mine = [account.email.as_str()];
        let start = match kind {
            ComposeKind::Reply => {
                petrel_compose::reply(&original, petrel_compose::ReplyTo::Sender, &mine)
            }
            ComposeKind::ReplyAll => {
                petrel_compose::reply(&original, petrel_compose::ReplyTo::All, &mine)
            }
            ComposeKind::Forward => petrel_compose::forward(&original),
        };
        let list = |v: Vec<petrel_compose::Mailbox>| v.iter().map(|m| m.display()).collect();
        Ok(Composition {
            to: list(start.to),
            cc: list(start.cc),
            bcc: vec![],
            subject: start.subject,
            body: start.body,
            in_reply_to: start.in_reply_to,
            references: start.references,
        })
    }

    fn outbox(&self, id: &AccountId) -> Result<Outbox, EngineError> {
        Outbox::open(&self.config_dir().join("outbox").join(&id.0)).map_err(outbox_err)
    }

    /// Builds the message, stores it in the outbox, and sends what the outbox holds.
    pub async fn send_message(
        &self,
        id: &AccountId,
        msg: Outgoing,
    ) -> Result<SendReport, EngineError> {
        let account = self.account(id)?;
        if account.smtp.is_none() {
            return Err(EngineError::InvalidInput(
                "Set the outgoing (SMTP) server of this account first.".into(),
            ));
        }
        let raw_and_envelope = build(&account, &msg)?;
        self.outbox(id)?
            .enqueue(&account.email, &raw_and_envelope.1, &raw_and_envelope.0)
            .map_err(outbox_err)?;
        self.flush_outbox(id).await
    }

    /// Sends the account's queued messages. Unreachable → they stay queued (`queued`).
    pub async fn flush_outbox(&self, id: &AccountId) -> Result<SendReport, EngineError> {
        let account = self.account(id)?;
        let Some(smtp) = account.smtp.clone() else {
            return Ok(SendReport::default());
        };
        let outbox = self.outbox(id)?;
        let waiting = outbox.queued().map_err(outbox_err)?;
        if waiting.is_empty() {
            return Ok(SendReport::default());
        }
        // A crash may have come between the server's acceptance and our record: what the
        // Sent folder already holds is not sent again.
        let in_sent = self.already_in_sent(id, &waiting).await;
        let password = self.secrets.password(id)?;
        let context = format!("Sending through {}", smtp.host);
        let mut session = match SmtpSession::login(&smtp, &password, &self.trust).await {
            Ok(s) => s,
            Err(e) if e.is_temporary() => {
                tracing::warn!(account = %id, error = %e, "outgoing server unreachable, keeping the outbox");
                return Ok(SendReport {
                    sent: 0,
                    queued: waiting.iter().filter(|q| !q.sent).count() as u32,
                });
            }
            Err(e) => return Err(smtp_err(context)(e)),
        };
        let flushed = petrel_smtp::flush(&outbox, &mut session, |mid| in_sent.contains(mid)).await;
        session.quit().await;
        let done = match flushed {
            Ok(done) => done,
            Err(petrel_smtp::FlushError::Smtp(e)) if e.is_temporary() => {
                return Ok(SendReport {
                    sent: 0,
                    queued: outbox.queued().map_err(outbox_err)?.len() as u32,
                });
            }
            Err(petrel_smtp::FlushError::Smtp(e)) => return Err(smtp_err(context)(e)),
            Err(e) => return Err(outbox_err(e)),
        };
        let mut sent = 0;
        for q in done {
            if !q.message_id.as_deref().is_some_and(|m| in_sent.contains(m)) {
                self.file_sent_copy(id, &outbox, &q).await?;
            }
            outbox.remove(&q.path).map_err(outbox_err)?;
            sent += 1;
        }
        Ok(SendReport {
            sent,
            queued: outbox.queued().map_err(outbox_err)?.len() as u32,
        })
    }

    async fn already_in_sent(&self, id: &AccountId, waiting: &[Queued]) -> HashSet<String> {
        let mut found = HashSet::new();
        if self.is_pop3(id) {
            return found;
        }
        let Some(sent) = self.sent_folder_path(id) else {
            return found;
        };
        for q in waiting.iter().filter(|q| !q.sent) {
            let Some(mid) = q.message_id.clone() else {
                continue;
            };
            let folder = sent.clone();
            let probe = mid.clone();
            let hit = self
                .with_session(id, move |s| {
                    let folder = folder.clone();
                    let probe = probe.clone();
                    Box::pin(async move {
                        s.has_message_id(&folder, &probe)
                            .await
                            .map_err(EngineError::imap("Looking in Sent"))
                    })
                })
                .await;
            if hit.unwrap_or(false) {
                found.insert(mid);
            }
        }
        found
    }

    fn sent_folder_path(&self, id: &AccountId) -> Option<String> {
        self.cache
            .folder_list(id)
            .ok()
            .flatten()?
            .into_iter()
            .find(|f| f.role == Some(FolderRole::Sent))
            .map(|f| f.path)
    }

    async fn file_sent_copy(
        &self,
        id: &AccountId,
        outbox: &Outbox,
        q: &Queued,
    ) -> Result<(), EngineError> {
        let raw = outbox.message(q).map_err(outbox_err)?;
        let account = self.account(id)?;
        if account.protocol == IncomingProtocol::Pop3 {
            let sent =
                petrel_maildir::Maildir::open(&self.local_dir(id, "Sent")).map_err(outbox_err)?;
            sent.deliver_batch(&[raw]).map_err(outbox_err)?;
            return Ok(());
        }
        let folder = self
            .sent_folder_path(id)
            .unwrap_or_else(|| "Sent".to_string());
        self.with_session(id, move |s| {
            let folder = folder.clone();
            let raw = raw.clone();
            Box::pin(async move {
                s.append(&folder, &raw, true)
                    .await
                    .map_err(EngineError::imap("Filing the Sent copy"))
            })
        })
        .await
    }
}

/// The message as sent (Bcc left out of the headers) and all its recipients.
fn build(
    account: &petrel_core::AccountSettings,
    msg: &Outgoing,
) -> Result<(Vec<u8>, Vec<String>), EngineError> {
    use lettre::message::{header::ContentType, Mailbox};
    let bad =
        |what: &str, e: &dyn std::fmt::Display| EngineError::InvalidInput(format!("{what}: {e}"));
    let from: Mailbox = format!("{} <{}>", account.display_name, account.email)
        .parse()
        .or_else(|_| account.email.parse())
        .map_err(|e| bad("The sender address", &e))?;
    let domain = account.email.rsplit('@').next().unwrap_or("petrel.invalid");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut b = lettre::Message::builder()
        .from(from)
        .subject(msg.subject.clone())
        .message_id(Some(format!("<{nanos:x}.{}@{domain}>", std::process::id())))
        .date_now();
    let mut all = Vec::new();
    for (list, kind) in [(&msg.to, 0), (&msg.cc, 1), (&msg.bcc, 2)] {
        for a in list.iter().filter(|a| !a.trim().is_empty()) {
            let mb: Mailbox = a
                .trim()
                .parse()
                .map_err(|e| bad(&format!("The address {a}"), &e))?;
            all.push(mb.email.to_string());
            b = match kind {
                0 => b.to(mb),
                1 => b.cc(mb),
                _ => b.bcc(mb),
            };
        }
    }
    if all.is_empty() {
        return Err(EngineError::InvalidInput(
            "Add at least one recipient.".into(),
        ));
    }
    if let Some(irt) = &msg.in_reply_to {
        b = b.in_reply_to(format!("<{}>", irt.trim_matches(['<', '>'])));
    }
    if !msg.references.is_empty() {
        let refs: Vec<String> = msg
            .references
            .iter()
            .map(|r| format!("<{}>", r.trim_matches(['<', '>'])))
            .collect();
        b = b.references(refs.join(" "));
    }
    let message = b
        .header(ContentType::TEXT_PLAIN)
        .body(msg.body.clone())
        .map_err(|e| bad("The message", &e))?;
    Ok((message.formatted(), all))
}
