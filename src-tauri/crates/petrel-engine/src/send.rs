//! Sending: the message is built once (with its Message-ID), stored in the account's
//! outbox, then sent; its Sent copy is filed (IMAP APPEND to Sent, or the local Sent of a
//! POP3 account) and only then does it leave the outbox. While the server cannot be reached
//! it stays queued; the watcher retries with a backoff (`outbox_retry`).

use crate::{Engine, EngineError};
use petrel_core::{
    AccountId, AccountSettings, ComposeKind, Composition, FolderRole, IncomingProtocol,
    OutgoingAttachment, QueuedMessage,
};
use petrel_smtp::{Outbox, Queued, SmtpError, SmtpSession};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::Mutex as AsyncMutex;

pub use petrel_core::{Composition as Outgoing, SendReport};

/// Per account: one pass over the outbox at a time (a second pass could send a message the
/// first is sending). The server's words about each message live in the outbox itself.
#[derive(Default)]
pub(crate) struct OutboxState {
    locks: HashMap<AccountId, Arc<AsyncMutex<()>>>,
}

pub(crate) fn smtp_err(context: String) -> impl FnOnce(SmtpError) -> EngineError {
    EngineError::smtp(context)
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
        smtp: Option<petrel_core::ServerSettings>,
    ) -> Result<AccountSettings, EngineError> {
        self.update_account(id, |a| a.smtp = smtp)
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
        let account = self.account(id)?;
        let raw = self.raw_message(id, folder, uid).await?;
        let raw = crate::pop3_account::without_stamp(&raw);
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
                    .map(|f| attachment(f.name, f.content_type, &f.bytes))
                    .collect(),
            ),
            ComposeKind::ForwardAsAttachment => {
                let mut start = petrel_compose::forward(&original);
                start.body.clear();
                let name = format!(
                    "{}.eml",
                    sanitize_file_name(&petrel_compose::base_subject(&original.subject))
                );
                (start, vec![attachment(name, "message/rfc822".into(), raw)])
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
            answers: replying.then(|| petrel_core::MessageRef {
                folder: folder.to_string(),
                uid,
            }),
            ..Composition::default()
        })
    }

    fn outbox(&self, id: &AccountId) -> Result<Outbox, EngineError> {
        Outbox::open(&self.config_dir().join("outbox").join(&id.0)).map_err(outbox_err)
    }

    fn outbox_lock(&self, id: &AccountId) -> Arc<AsyncMutex<()>> {
        match self.outbox_state.lock() {
            Ok(mut s) => s.locks.entry(id.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        }
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
        let built = build(&account, &msg, Purpose::Send)?;
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
            return Err(smtp_err(format!("Sending through {}", smtp.host))(
                SmtpError::Refused(q.note.clone().unwrap_or_default()),
            ));
        }
        let report = match report {
            Ok(r) => r,
            // Anything but a refusal (e.g. the password): the message waits in the outbox.
            Err(e) if e.is_connection_problem() => SendReport {
                sent: 0,
                queued: self.outbox_counts(id)?.0,
            },
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
        let lock = self.outbox_lock(id);
        let _one_pass = lock.lock().await;
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
            .filter(|q| q.handed_over || q.sent)
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
            let password = self.secrets.password(id)?;
            let mut session = match SmtpSession::login(&smtp, &password, &self.trust).await {
                Ok(s) => s,
                Err(e) => {
                    if e.is_temporary() {
                        tracing::warn!(account = %id, error = %e, "outgoing server unreachable, keeping the outbox");
                    }
                    return Err(smtp_err(context)(e));
                }
            };
            let result = petrel_smtp::flush(&outbox, &mut session, |mid| in_sent.contains(mid))
                .await
                .map_err(outbox_err);
            session.quit().await;
            flushed = result?;
        } else {
            flushed.done = all.into_iter().filter(|q| q.sent).collect();
        }
        let mut sent = 0;
        for q in flushed.done {
            let mid = q.message_id.clone().unwrap_or_default();
            if !in_sent.contains(&mid) {
                if let Err(e) = self.file_sent_copy(id, &account, &outbox, &q).await {
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
                return Err(smtp_err(context)(e));
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

    /// What waits in the account's outbox for the server or for the user (refused).
    pub fn outbox_messages(&self, id: &AccountId) -> Result<Vec<QueuedMessage>, EngineError> {
        let outbox = self.outbox(id)?;
        let mut out = Vec::new();
        for q in outbox.queued().map_err(outbox_err)? {
            if !q.waiting() && !q.refused {
                continue;
            }
            let raw = outbox.message(&q).map_err(outbox_err)?;
            let original = petrel_compose::Original::parse(&raw);
            out.push(QueuedMessage {
                last_error: q.note.clone(),
                refused: q.refused,
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
        let lock = self.outbox_lock(id);
        let _one_pass = lock.lock().await;
        let outbox = self.outbox(id)?;
        let q = outbox
            .queued()
            .map_err(outbox_err)?
            .into_iter()
            .find(|q| (q.waiting() || q.refused) && q.message_id.as_deref() == Some(message_id))
            .ok_or_else(|| {
                EngineError::InvalidInput("That message has already been sent.".into())
            })?;
        let raw = outbox.message(&q).map_err(outbox_err)?;
        let mut composition = composition_of(&petrel_compose::Draft::parse(&raw));
        // Bcc recipients live only in the envelope.
        let shown: HashSet<String> = composition
            .to
            .iter()
            .chain(&composition.cc)
            .map(|a| address_of(a).to_ascii_lowercase())
            .collect();
        composition.bcc =
            q.to.iter()
                .filter(|a| !shown.contains(&a.to_ascii_lowercase()))
                .cloned()
                .collect();
        outbox.remove(&q.name).map_err(outbox_err)?;
        Ok(composition)
    }

    /// Message-IDs of messages the server took (or may have) that Sent already holds: not
    /// filed twice (a crash may come between filing the copy and leaving the outbox, or a
    /// server files Sent itself).
    async fn already_in_sent(&self, id: &AccountId, unknown: &[Queued]) -> HashSet<String> {
        let mut found = HashSet::new();
        if unknown.is_empty() {
            return found;
        }
        if self.is_pop3(id) {
            let ids: Vec<&str> = unknown
                .iter()
                .filter_map(|q| q.message_id.as_deref())
                .collect();
            if ids.is_empty() {
                return found;
            }
            if let Ok(sent) = petrel_maildir::Maildir::open(&self.local_dir(id, "Sent")) {
                for mid in ids {
                    if !crate::drafts::local_copies(&sent, mid).is_empty() {
                        found.insert(mid.to_string());
                    }
                }
            }
            return found;
        }
        let Some(sent) = self.folder_with_role(id, FolderRole::Sent) else {
            return found;
        };
        for q in unknown {
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

    pub(crate) fn folder_with_role(&self, id: &AccountId, role: FolderRole) -> Option<String> {
        self.cache
            .folder_list(id)
            .ok()
            .flatten()?
            .into_iter()
            .find(|f| f.role == Some(role))
            .map(|f| f.path)
    }

    async fn file_sent_copy(
        &self,
        id: &AccountId,
        account: &AccountSettings,
        outbox: &Outbox,
        q: &Queued,
    ) -> Result<(), EngineError> {
        let raw = outbox.message(q).map_err(outbox_err)?;
        if account.protocol == IncomingProtocol::Pop3 {
            let sent =
                petrel_maildir::Maildir::open(&self.local_dir(id, "Sent")).map_err(outbox_err)?;
            sent.deliver_batch(&[raw]).map_err(outbox_err)?;
            let _ = self.index_local(&petrel_store::FolderRef::new(id, "Sent"));
            return Ok(());
        }
        if account.sending.server_files_sent {
            return Ok(());
        }
        let folder = self
            .folder_with_role(id, FolderRole::Sent)
            .unwrap_or_else(|| "Sent".to_string());
        self.with_session(id, move |s| {
            let folder = folder.clone();
            let raw = raw.clone();
            Box::pin(async move {
                s.append(&folder, &raw, &["\\Seen"])
                    .await
                    .map_err(EngineError::imap("Filing the Sent copy"))
            })
        })
        .await
    }

    /// Marks the original of a reply answered (best effort: the reply is what matters).
    async fn mark_answered(&self, id: &AccountId, folder: &str, uid: u32) {
        let folder_ref = petrel_store::FolderRef::new(id, folder);
        let done = if self.is_pop3(id) {
            self.set_local_answered(&folder_ref, uid)
        } else {
            let f = folder.to_string();
            self.with_session(id, move |s| {
                let f = f.clone();
                Box::pin(async move {
                    s.store_flag(&f, &[uid], "\\Answered", true)
                        .await
                        .map_err(EngineError::imap("Marking the original answered"))
                })
            })
            .await
        };
        match done {
            Ok(()) => {
                if let Ok(Some(mut row)) = self.cache.envelope(&folder_ref, uid) {
                    row.answered = true;
                    let _ = self.cache.upsert(&folder_ref, &[row]);
                    self.cache_changed();
                }
            }
            Err(e) => {
                tracing::warn!(account = %id, folder, uid, error = %e, "original not marked answered")
            }
        }
    }
}

/// The base64 form the composer holds attachments in.
pub(crate) fn attachment(name: String, content_type: String, bytes: &[u8]) -> OutgoingAttachment {
    use base64::Engine as _;
    OutgoingAttachment {
        name,
        content_type,
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

/// A draft (or a queued message) as the composer shows it again.
pub(crate) fn composition_of(d: &petrel_compose::Draft) -> Composition {
    let list = |v: &[petrel_compose::Mailbox]| v.iter().map(|m| m.display()).collect();
    Composition {
        from: d.from.first().map(|m| m.email.clone()).unwrap_or_default(),
        to: list(&d.to),
        cc: list(&d.cc),
        bcc: list(&d.bcc),
        subject: d.subject.clone(),
        body: d.text.trim_end_matches(['\r', '\n']).to_string(),
        html: d.html.clone(),
        in_reply_to: d.in_reply_to.clone(),
        references: d.references.clone(),
        attachments: d
            .files
            .iter()
            .map(|f| attachment(f.name.clone(), f.content_type.clone(), &f.bytes))
            .collect(),
        message_id: d.message_id.clone(),
        answers: d
            .answers
            .clone()
            .map(|(folder, uid)| petrel_core::MessageRef { folder, uid }),
    }
}

fn address_of(display: &str) -> &str {
    match (display.rfind('<'), display.rfind('>')) {
        (Some(a), Some(b)) if a < b => &display[a + 1..b],
        _ => display.trim(),
    }
}

fn sanitize_file_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(80)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        "message".into()
    } else {
        cleaned
    }
}

/// What a message is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Send,
    /// Kept in Drafts: Bcc stays in the headers, recipients may be missing, the answered
    /// message is noted.
    Draft,
}

pub(crate) struct Built {
    pub raw: Vec<u8>,
    pub sender: String,
    pub recipients: Vec<String>,
    pub message_id: String,
}

/// A new Message-ID on the sender's domain.
pub(crate) fn new_message_id(email: &str) -> String {
    let domain = email.rsplit('@').next().unwrap_or("petrel.invalid");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}.{}@{domain}", std::process::id())
}

/// The message, built once: as sent (Bcc left out of the headers) or as a draft.
pub(crate) fn build(
    account: &AccountSettings,
    msg: &Outgoing,
    purpose: Purpose,
) -> Result<Built, EngineError> {
    use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
    use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
    let bad =
        |what: &str, e: &dyn std::fmt::Display| EngineError::InvalidInput(format!("{what}: {e}"));
    let (name, email) = sender(account, &msg.from)?;
    let from: Mailbox = format!("{name} <{email}>")
        .parse()
        .or_else(|_| email.parse())
        .map_err(|e| bad("The sender address", &e))?;
    let message_id = msg
        .message_id
        .clone()
        .filter(|m| !m.trim().is_empty())
        .map(|m| m.trim_matches(['<', '>', ' ']).to_string())
        .unwrap_or_else(|| new_message_id(&email));
    let mut b = lettre::Message::builder()
        .from(from)
        .subject(msg.subject.clone())
        .message_id(Some(format!("<{message_id}>")))
        .date_now();
    if purpose == Purpose::Draft {
        b = b.keep_bcc();
        if let Some(a) = &msg.answers {
            let value = format!("{} {}", a.uid, a.folder.replace(['\r', '\n'], ""));
            if let Ok(header) = HeaderName::new_from_ascii(petrel_compose::ANSWERS_HEADER.into()) {
                b = b.raw_header(HeaderValue::new(header, value));
            }
        }
    }
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
        if purpose == Purpose::Send {
            return Err(EngineError::InvalidInput(
                "Add at least one recipient.".into(),
            ));
        }
        // A draft may have no recipient yet; the builder still wants an envelope (unused).
        if let Ok(me) = email.parse::<lettre::Address>() {
            if let Ok(envelope) = lettre::address::Envelope::new(Some(me.clone()), vec![me]) {
                b = b.envelope(envelope);
            }
        }
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
    let html = msg
        .html
        .as_deref()
        .filter(|h| !h.trim().is_empty())
        .map(petrel_compose::clean_html);
    let text_part = || SinglePart::plain(msg.body.clone());
    let message = if msg.attachments.is_empty() {
        match html {
            Some(h) => b.multipart(MultiPart::alternative_plain_html(msg.body.clone(), h)),
            None => b.singlepart(text_part()),
        }
    } else {
        let mut mixed = match html {
            Some(h) => {
                MultiPart::mixed().multipart(MultiPart::alternative_plain_html(msg.body.clone(), h))
            }
            None => MultiPart::mixed().singlepart(text_part()),
        };
        for a in &msg.attachments {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a.data.as_bytes())
                .map_err(|e| bad(&format!("The attachment {}", a.name), &e))?;
            let content_type = ContentType::parse(&a.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
            // A message/rfc822 part may not be base64 (RFC 2046 §5.2.1): 8bit when its
            // lines allow, else base64 as every reader still opens it.
            let body = if a.content_type.eq_ignore_ascii_case("message/rfc822") {
                Body::new_with_encoding(bytes.clone(), ContentTransferEncoding::EightBit)
                    .unwrap_or_else(|_| Body::new(bytes))
            } else {
                Body::new(bytes)
            };
            mixed = mixed.singlepart(Attachment::new(a.name.clone()).body(body, content_type));
        }
        b.multipart(mixed)
    }
    .map_err(|e| bad("The message", &e))?;
    Ok(Built {
        raw: message.formatted(),
        sender: email,
        recipients: all,
        message_id,
    })
}

/// Name and address a message goes out from: the account's, or one of its identities'.
fn sender(account: &AccountSettings, from: &str) -> Result<(String, String), EngineError> {
    // Empty is the account's own address; an identity may share it (another name).
    let from = from.trim();
    if from.is_empty() {
        return Ok((account.display_name.clone(), account.email.clone()));
    }
    if let Some(i) = account
        .sending
        .identities
        .iter()
        .find(|i| i.email.eq_ignore_ascii_case(from))
    {
        let name = if i.name.trim().is_empty() {
            account.display_name.clone()
        } else {
            i.name.clone()
        };
        return Ok((name, i.email.clone()));
    }
    if from.eq_ignore_ascii_case(&account.email) {
        return Ok((account.display_name.clone(), account.email.clone()));
    }
    Err(EngineError::InvalidInput(format!(
        "{from} is not an address of this account."
    )))
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
