//! Building a message from the composer's form, once: the bytes that are sent, filed in
//! Sent or kept in Drafts, with its envelope and Message-ID. Pure: the time is passed in.

use crate::base_subject;
use petrel_core::{AccountSettings, Composition, OutgoingAttachment};
use std::time::SystemTime;

/// Why the form cannot become a message, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(pub String);

/// The base64 form the composer holds attachments in.
pub fn attachment(name: String, content_type: String, bytes: &[u8]) -> OutgoingAttachment {
    use base64::Engine as _;
    OutgoingAttachment {
        name,
        content_type,
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

/// A draft (or a queued message) as the composer shows it again.
pub fn composition_of(d: &crate::Draft) -> Composition {
    let list = |v: &[crate::Mailbox]| v.iter().map(|m| m.display()).collect();
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

/// The address of "Name <address>" (or the whole text when it has no brackets).
pub fn address_of(display: &str) -> &str {
    match (display.rfind('<'), display.rfind('>')) {
        (Some(a), Some(b)) if a < b => &display[a + 1..b],
        _ => display.trim(),
    }
}

/// The file name of a message forwarded as an attachment: its subject, cleaned by the one
/// file-name rule of `petrel_render` (slashes kept as part of the name, not as folders).
pub fn eml_name(subject: &str) -> String {
    let stem: String = base_subject(subject)
        .chars()
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .take(80)
        .collect();
    let stem = stem.trim();
    let stem = if stem.is_empty() { "message" } else { stem };
    petrel_render::safe_file_name(&format!("{stem}.eml"))
}

/// What a message is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Send,
    /// Kept in Drafts: Bcc stays in the headers, recipients may be missing, the answered
    /// message is noted.
    Draft,
}

pub struct Built {
    pub raw: Vec<u8>,
    pub sender: String,
    pub recipients: Vec<String>,
    pub message_id: String,
}

/// A new Message-ID on the sender's domain, unique by the time it is made (`now`) and
/// this process.
pub fn new_message_id(email: &str, now: SystemTime) -> String {
    let domain = email.rsplit('@').next().unwrap_or("petrel.invalid");
    let nanos = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}.{}@{domain}", std::process::id())
}

/// The message, built once: as sent (Bcc left out of the headers) or as a draft.
pub fn build(
    account: &AccountSettings,
    msg: &Composition,
    purpose: Purpose,
    now: SystemTime,
) -> Result<Built, BuildError> {
    use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
    use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
    let bad = |what: &str, e: &dyn std::fmt::Display| BuildError(format!("{what}: {e}"));
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
        .unwrap_or_else(|| new_message_id(&email, now));
    let mut b = lettre::Message::builder()
        .from(from)
        .subject(msg.subject.clone())
        .message_id(Some(format!("<{message_id}>")))
        .date(now);
    if purpose == Purpose::Draft {
        b = b.keep_bcc();
        if let Some(a) = &msg.answers {
            let value = format!("{} {}", a.uid, a.folder.replace(['\r', '\n'], ""));
            if let Ok(header) = HeaderName::new_from_ascii(crate::ANSWERS_HEADER.into()) {
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
            return Err(BuildError("Add at least one recipient.".into()));
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
        .map(crate::clean_html);
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
                .or_else(|_| ContentType::parse("application/octet-stream"))
                .map_err(|e| bad(&format!("The attachment {}", a.name), &e))?;
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
fn sender(account: &AccountSettings, from: &str) -> Result<(String, String), BuildError> {
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
    Err(BuildError(format!(
        "{from} is not an address of this account."
    )))
}
