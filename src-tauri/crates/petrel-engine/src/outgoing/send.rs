//! Sending: the message is built once (with its Message-ID), stored in the account's
//! outbox, then sent; its Sent copy is filed (IMAP APPEND to Sent, or the local Sent of a
//! POP3 account) and only then does it leave the outbox. While the server cannot be reached
//! it stays queued; the watcher retries with a backoff (`outbox_retry`).

use crate::account::Incoming;
use crate::{Engine, EngineError};
use petrel_core::{
    AccountId, AccountSettings, ComposeKind, Composition, FolderRole, QueuedMessage, ServerSettings,
};
use petrel_smtp::{Outbox, Queued, SmtpError, SmtpSession};
use std::collections::HashSet;

pub use petrel_core::{Composition as Outgoing, SendReport};

/// A form that cannot become a message: the user's to fix.
pub(crate) fn invalid(e: petrel_compose::BuildError) -> EngineError {
    EngineError::InvalidInput(e.0)
}

pub(crate) fn outbox_err(e: impl std::fmt::Display) -> EngineError {
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
        smtp: Option<ServerSettings>,
    ) -> Result<AccountSettings, EngineError> {
        self.update_account(id, |a| a.smtp = smtp.map(ServerSettings::normalized))
    }

    /// Signature, identities and whether the server files sent mail itself.
    pub fn set_sending(
        &self,
        id: &AccountId,
        sending: petrel_core::SendingOptions,
    ) -> Result<AccountSettings, EngineError> {
        for identity in &sending.identities {
            if !identity.email.contains('@') || identity.email.trim().contains(char::is_whitespace)
            {
                return Err(EngineError::InvalidInput(format!(
                    "“{}” is not an email address.",
                    identity.email
                )));
            }
        }
        self.update_account(id, |a| a.sending = sending)
    }

    /// A reply, reply all or forward of a message, ready for the composer.
    pub async fn start_composition(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
        kind: ComposeKind,
    ) -> Result<Composition, EngineError> {
        let raw = self.raw_message(id, folder, uid).await?;
        let answers = petrel_core::MessageRef {
            folder: folder.to_string(),
            uid,
        };
        self.composition_from(id, &raw, kind, Some(answers))
    }

    /// The composer's start answering or forwarding `raw` from account `id`; `answers` is
    /// the message to mark answered once the reply goes (none for a file).
    pub(crate) fn composition_from(
        &self,
        id: &AccountId,
        raw: &[u8],
        kind: ComposeKind,
        answers: Option<petrel_core::MessageRef>,
    ) -> Result<Composition, EngineError> {
        let account = self.account(id)?;
        let raw = petrel_pop3::ledger::without_stamp(raw);
        let original = petrel_compose::Original::parse(raw);
        let mut mine: Vec<&str> = vec![account.email.as_str()];
        mine.extend(account.sending.identities.iter().map(|i| i.email.as_str()));
        let (start, attachments) = match kind {
            ComposeKind::Reply => (
                petrel_compose::reply(&original, petrel_compose::ReplyTo::Sender, &mine),
                vec![],
            ),
            ComposeKind::ReplyAll => (
                petrel_compose::reply(&original, petrel_compose::ReplyTo::All, &mine),
                vec![],
            ),
            // An inline forward carries the original's files along.
            ComposeKind::Forward => (
                petrel_compose::forward(&original),
                petrel_compose::files(raw)
                    .into_iter()
                    .map(|f| petrel_compose::attachment(f.name, f.content_type, &f.bytes))
                    .collect(),
            ),
            ComposeKind::ForwardAsAttachment => {
                let mut start = petrel_compose::forward(&original);
                start.body.clear();
                let name = petrel_compose::eml_name(&original.subject);
                (
                    start,
                    vec![petrel_compose::attachment(
                        name,
                        "message/rfc822".into(),
                        raw,
                    )],
                )
            }
        };
        // The reply comes from the address the original was sent to, when it is one of ours.
        let to_me = original
            .to
            .iter()
            .chain(&original.cc)
            .find(|m| {
                account
                    .sending
                    .identities
                    .iter()
                    .any(|i| i.email.eq_ignore_ascii_case(&m.email))
            })
            .map(|m| m.email.clone());
        let list = |v: Vec<petrel_compose::Mailbox>| v.iter().map(|m| m.display()).collect();
        let replying = matches!(kind, ComposeKind::Reply | ComposeKind::ReplyAll);
        Ok(Composition {
            from: to_me.unwrap_or_default(),
            to: list(start.to),
            cc: list(start.cc),
            subject: start.subject,
            body: start.body,
            in_reply_to: start.in_reply_to,
            references: start.references,
            attachments,
            answers: answers.filter(|_| replying),
            ..Composition::default()
        })
    }

    fn outbox(&self, id: &AccountId) -> Result<Outbox, EngineError> {
        Outbox::open(&self.shared.outbox_dir(id)).map_err(outbox_err)
    }

    /// Builds the message, stores it in the outbox, and sends what the outbox holds. A
    /// refusal of this message (bad address, too large…) takes it back out of the outbox
    /// and is the error: the composer still has it. Unreachable or "try later" → `queued`.
    pub async fn send_message(
        &self,
        id: &AccountId,
        msg: Outgoing,
    ) -> Result<SendReport, EngineError> {
        let account = self.account(id)?;
        let Some(smtp) = account.smtp.clone() else {
            return Err(EngineError::InvalidInput(
                "Set the outgoing (SMTP) server of this account first.".into(),
            ));
        };
        let built = petrel_compose::build(
            &account,
            &msg,
            petrel_compose::Purpose::Send,
            self.shared.now(),
        )
        .map_err(invalid)?;
        let outbox = self.outbox(id)?;
        let path = outbox
            .enqueue(&built.sender, &built.recipients, &built.raw)
            .map_err(outbox_err)?;
        let name = petrel_maildir::unique_of(&path);
        self.remember_addresses(&msg);
        let report = self.flush_outbox(id).await;
        let this = outbox.find(&name).map_err(outbox_err)?;
        if let Some(q) = this.as_ref().filter(|q| q.refused) {
            outbox.remove(&q.name).map_err(outbox_err)?;
            return Err(EngineError::smtp(format!("Sending through {}", smtp.host))(
                SmtpError::Refused(q.note.clone().unwrap_or_default()),
            ));
        }
        let report = match report {
            Ok(r) => r,
            // Unreachable, or an OAuth2 sign-in to renew in the browser: the message waits
            // in the outbox and goes once the account is back.
            Err(e) if e.is_connection_problem() || matches!(e, EngineError::SignIn(_)) => {
                SendReport {
                    sent: 0,
                    queued: self.outbox_counts(id)?.0,
                }
            }
            Err(e) => {
                // Not tried (the password, a certificate): the composer keeps it.
                if this.as_ref().is_some_and(|q| q.waiting()) {
                    outbox.remove(&name).map_err(outbox_err)?;
                }
                return Err(e);
            }
        };
        if let Some(original) = &msg.answers {
            self.mark_answered(id, &original.folder, original.uid).await;
        }
        // The draft copies are now superseded by the message in the outbox or Sent.
        if let Err(e) = self.discard_draft(id, &built.message_id).await {
            tracing::warn!(account = %id, error = %e, "could not remove the draft copies");
        }
        Ok(report)
    }

    /// Sends the account's queued messages. Unreachable → they stay queued (`queued`).
    pub async fn flush_outbox(&self, id: &AccountId) -> Result<SendReport, EngineError> {
        let account = self.account(id)?;
        let Some(smtp) = account.smtp.clone() else {
            return Ok(SendReport::default());
        };
        let account_object = self.get(id)?;
        let _one_pass = account_object.state().outbox_turn.lock().await;
        let outbox = self.outbox(id)?;
        let all = outbox.queued().map_err(outbox_err)?;
        if all.iter().all(|q| q.refused) {
            return Ok(SendReport::default());
        }
        // Only messages the server may have (handed over, outcome unknown) or has (sent,
        // their copy maybe filed just before a crash) are looked for in Sent. A waiting
        // message is never: a corrected resend with the same Message-ID must go out,
        // whatever an earlier refused copy left behind.
        let taken: Vec<Queued> = all
            .iter()
            .filter(|q| q.handed_over || q.sent || q.unsure)
            .cloned()
            .collect();
        let in_sent = self.already_in_sent(id, &taken).await;
        let context = format!("Sending through {}", smtp.host);
        let queued_now = |outbox: &Outbox| -> Result<u32, EngineError> {
            Ok(outbox.counts().map_err(outbox_err)?.waiting as u32)
        };
        let mut flushed = petrel_smtp::Flushed::default();
        // Sent ones only wait for their Sent copy: no login needed for them.
        if all.iter().any(|q| q.waiting() || q.handed_over) {
            let account = self.get(id)?;
            let (smtp, trust) = (&smtp, &self.shared.trust);
            let login = account.state().with_credential(&self.shared, |credential| {
                let context = context.clone();
                async move {
                    SmtpSession::login_with(smtp, credential.smtp(), trust)
                        .await
                        .map_err(EngineError::smtp(context))
                }
            });
            let mut session = match login.await {
                Ok(s) => s,
                Err(e) => {
                    if e.is_connection_problem() {
                        tracing::warn!(account = %id, error = %e, "outgoing server unreachable, keeping the outbox");
                    }
                    // A sign-in to renew concerns the whole account: its status says so.
                    if matches!(e, EngineError::SignIn(_)) {
                        account.state().connection_lost(&e);
                    }
                    return Err(e);
                }
            };
            let result = petrel_smtp::flush(&outbox, &mut session, |mid| in_sent.contains(mid))
                .await
                .map_err(outbox_err);
            session.quit().await;
            flushed = result?;
        } else {
            for q in all {
                let found =
                    q.unsure && q.message_id.as_deref().is_some_and(|m| in_sent.contains(m));
                if q.sent {
                    flushed.done.push(q);
                } else if found {
                    flushed.done.push(outbox.mark_sent(&q).map_err(outbox_err)?);
                }
            }
        }
        let mut sent = 0;
        for q in flushed.done {
            let mid = q.message_id.clone().unwrap_or_default();
            if !in_sent.contains(&mid) {
                if let Err(e) = self.file_sent_copy(id, &outbox, &q).await {
                    // Sent but not yet filed: it stays (in the sent state) and the next
                    // pass files it; it is never sent again.
                    tracing::warn!(account = %id, error = %e, "Sent copy not filed yet");
                    continue;
                }
            }
            outbox.remove(&q.name).map_err(outbox_err)?;
            sent += 1;
        }
        let stopped = flushed
            .stopped
            .or_else(|| flushed.deferred.into_iter().next().map(|(_, e)| e));
        if let Some(e) = stopped {
            tracing::warn!(account = %id, error = %e, "sending paused, the rest stays queued");
            if sent == 0 {
                return Err(match e {
                    SmtpError::Unrecorded(why) => EngineError::Storage {
                        context: "Recording the message in the outbox before it left".into(),
                        source: std::io::Error::other(format!("{why}; nothing was sent")),
                    },
                    e => EngineError::smtp(context)(e),
                });
            }
        }
        Ok(SendReport {
            sent,
            queued: queued_now(&outbox)?,
        })
    }

    /// (messages waiting for the server, messages that still need a pass: waiting, or sent
    /// with their Sent copy not filed yet) in the account's outbox; file names only, so
    /// cheap. Refused messages wait for the user and need no pass.
    pub fn outbox_counts(&self, id: &AccountId) -> Result<(u32, u32), EngineError> {
        let c = self.outbox(id)?.counts().map_err(outbox_err)?;
        Ok((c.waiting as u32, (c.waiting + c.unfiled) as u32))
    }

    /// Messages in the account's outbox that the user sees there: waiting for the server,
    /// or for the user (refused, or may have been sent); file names only.
    pub fn outbox_shown(&self, id: &AccountId) -> Result<u32, EngineError> {
        let c = self.outbox(id)?.counts().map_err(outbox_err)?;
        Ok((c.waiting + c.refused + c.unsure) as u32)
    }

    /// What waits in the account's outbox for the server or for the user (refused, or may
    /// have been sent).
    pub fn outbox_messages(&self, id: &AccountId) -> Result<Vec<QueuedMessage>, EngineError> {
        let outbox = self.outbox(id)?;
        let mut out = Vec::new();
        for q in outbox.queued().map_err(outbox_err)? {
            if !q.shown() {
                continue;
            }
            let raw = outbox.message(&q).map_err(outbox_err)?;
            let original = petrel_compose::Original::parse(&raw);
            out.push(QueuedMessage {
                last_error: q.note.clone(),
                refused: q.refused,
                unsure: q.unsure,
                message_id: q.message_id.clone().unwrap_or_default(),
                subject: original.subject,
                to: q.to.clone(),
                size: raw.len() as u32,
            });
        }
        Ok(out)
    }

    /// Takes a queued message back out of the outbox, for the composer (Edit) or to drop
    /// it: the caller decides what to do with what it gets back.
    pub async fn unqueue(
        &self,
        id: &AccountId,
        message_id: &str,
    ) -> Result<Composition, EngineError> {
        let account_object = self.get(id)?;
        let _one_pass = account_object.state().outbox_turn.lock().await;
        let outbox = self.outbox(id)?;
        let q = queued_with_id(&outbox, message_id, Queued::shown)?.ok_or_else(|| {
            EngineError::InvalidInput("That message has already been sent.".into())
        })?;
        let raw = outbox.message(&q).map_err(outbox_err)?;
        let mut composition = petrel_compose::composition_of(&petrel_compose::Draft::parse(&raw));
        // Bcc recipients live only in the envelope.
        let shown: HashSet<String> = composition
            .to
            .iter()
            .chain(&composition.cc)
            .map(|a| petrel_compose::address_of(a).to_ascii_lowercase())
            .collect();
        composition.bcc =
            q.to.iter()
                .filter(|a| !shown.contains(&a.to_ascii_lowercase()))
                .cloned()
                .collect();
        outbox.remove(&q.name).map_err(outbox_err)?;
        Ok(composition)
    }

    /// The user's answer for a message that may have been sent (Petrel stopped as it left,
    /// and Sent has no copy): `arrived` — a recipient has it — files it in Sent and takes
    /// it out of the outbox; otherwise it waits once more. The outbox is tried now.
    pub async fn settle_unsure(
        &self,
        id: &AccountId,
        message_id: &str,
        arrived: bool,
    ) -> Result<SendReport, EngineError> {
        {
            let account_object = self.get(id)?;
            let _one_pass = account_object.state().outbox_turn.lock().await;
            let outbox = self.outbox(id)?;
            let q = queued_with_id(&outbox, message_id, |q| q.unsure)?.ok_or_else(|| {
                EngineError::InvalidInput("That message no longer waits for your decision.".into())
            })?;
            if arrived {
                outbox.mark_sent(&q).map_err(outbox_err)?;
            } else {
                outbox.send_again(&q.name).map_err(outbox_err)?;
            }
        }
        self.flush_outbox(id).await
    }

    /// Message-IDs of messages the server took (or may have) that Sent already holds: not
    /// filed twice (a crash may come between filing the copy and leaving the outbox, or a
    /// server files Sent itself).
    async fn already_in_sent(&self, id: &AccountId, unknown: &[Queued]) -> HashSet<String> {
        let mut found = HashSet::new();
        let Ok(account) = self.get(id) else {
            return found;
        };
        for mid in unknown.iter().filter_map(|q| q.message_id.as_deref()) {
            if account.has_copy(&self.shared, FolderRole::Sent, mid).await {
                found.insert(mid.to_string());
            }
        }
        found
    }

    async fn file_sent_copy(
        &self,
        id: &AccountId,
        outbox: &Outbox,
        q: &Queued,
    ) -> Result<(), EngineError> {
        let raw = outbox.message(q).map_err(outbox_err)?;
        self.get(id)?
            .file_copy(&self.shared, FolderRole::Sent, &raw, None)
            .await
    }

    /// Marks the original of a reply answered (best effort: the reply is what matters).
    async fn mark_answered(&self, id: &AccountId, folder: &str, uid: u32) {
        let done = match self.get(id) {
            Ok(account) => account.mark_answered(&self.shared, folder, uid).await,
            Err(e) => Err(e),
        };
        match done {
            Ok(()) => {
                let folder_ref = petrel_store::FolderRef::new(id, folder);
                if let Ok(Some(mut row)) = self.shared.cache.envelope(&folder_ref, uid) {
                    row.answered = true;
                    let _ = self.shared.cache.upsert(&folder_ref, &[row]);
                    self.shared.cache_changed();
                }
            }
            Err(e) => {
                tracing::warn!(account = %id, folder, uid, error = %e, "original not marked answered")
            }
        }
    }
}

/// The outbox's message with this Message-ID in the state `wanted` asks for; `Err` when the
/// outbox cannot be read.
fn queued_with_id(
    outbox: &Outbox,
    message_id: &str,
    wanted: impl Fn(&Queued) -> bool,
) -> Result<Option<Queued>, EngineError> {
    Ok(outbox
        .queued()
        .map_err(outbox_err)?
        .into_iter()
        .find(|q| wanted(q) && q.message_id.as_deref() == Some(message_id)))
}

/// The composer's start for a `mailto:` link (from a message, a browser or the command
/// line): only to, cc, bcc, subject and body are taken (see `petrel_compose::mailto`).
pub fn mailto_composition(uri: &str) -> Result<Composition, EngineError> {
    let m = petrel_compose::mailto::parse(uri)
        .ok_or_else(|| EngineError::InvalidInput("That is not a mailto: link.".into()))?;
    Ok(Composition {
        to: m.to,
        cc: m.cc,
        bcc: m.bcc,
        subject: m.subject,
        body: m.body,
        ..Composition::default()
    })
}
