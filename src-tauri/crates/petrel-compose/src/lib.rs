//! What a reply or a forward starts with: recipients, subject, threading headers and the
//! quoted original. Pure functions over a parsed message, so every rule is a unit test.
//!
//! Rules (RFC 5322 §3.6.4 for threading, and what Thunderbird and Apple Mail do):
//! - Reply goes to Reply-To if present, else From; replying to one's own message goes to
//!   its recipients instead.
//! - Reply all adds the original To and Cc to Cc, without the user's own addresses and
//!   without anyone already addressed (compared case-insensitively).
//! - In-Reply-To is the original Message-ID; References are the original References (or
//!   its In-Reply-To) plus its Message-ID, the oldest kept and the list bounded.
//! - "Re: " / "Fwd: " once, whatever prefixes (Re, RE, AW, SV, Fwd, FW, WG) were there.
//! - The quote is an attribution line, then the original text with "> " before each line.
#![forbid(unsafe_code)]

mod build;
mod draft;
pub mod mailto;

pub use build::{
    address_of, attachment, build, composition_of, eml_name, new_message_id, BuildError, Built,
    Purpose,
};
pub use draft::{clean_html, files, Draft, File, ANSWERS_HEADER};
use mail_parser::Address;

/// A mailbox: display name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub email: String,
}

impl Mailbox {
    /// `Name <email>` or the bare address.
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => format!("{} <{}>", n.trim(), self.email),
            _ => self.email.clone(),
        }
    }

    fn same(&self, other: &str) -> bool {
        self.email.eq_ignore_ascii_case(other.trim())
    }
}

/// The parts of the original message that replies and forwards use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Original {
    pub from: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The Date header as written (shown in the attribution and forward header).
    pub date: Option<String>,
    pub text: String,
}

impl Original {
    /// Reads the original from its raw bytes (malformed mail gives what can be read).
    pub fn parse(raw: &[u8]) -> Original {
        let Some(msg) = petrel_render::mime::parse(raw) else {
            return Original::default();
        };
        Original {
            from: mailboxes(msg.from()),
            reply_to: mailboxes(msg.reply_to()),
            to: mailboxes(msg.to()),
            cc: mailboxes(msg.cc()),
            subject: msg.subject().unwrap_or_default().to_string(),
            message_id: msg.message_id().map(str::to_string),
            in_reply_to: message_ids(msg.in_reply_to()).into_iter().next(),
            references: message_ids(msg.references()),
            date: msg.date().map(|d| d.to_rfc822()),
            text: petrel_render::body_text(&msg, raw).unwrap_or_default(),
        }
    }
}

/// The Message-IDs of an In-Reply-To or References header.
pub(crate) fn message_ids(v: &mail_parser::HeaderValue) -> Vec<String> {
    match v {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => vec![],
    }
}

fn mailboxes(addr: Option<&Address>) -> Vec<Mailbox> {
    let Some(addr) = addr else { return vec![] };
    addr.iter()
        .filter_map(|a| {
            Some(Mailbox {
                name: a.name().map(str::to_string),
                email: a.address()?.to_string(),
            })
        })
        .collect()
}

/// How a reply is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyTo {
    Sender,
    All,
}

/// The start of a new message: what the composer opens with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Start {
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body: String,
}

/// Most References kept: the first (the thread's root) and the newest ones.
const MAX_REFERENCES: usize = 20;

/// A reply to `original` by a user whose addresses are `mine`.
pub fn reply(original: &Original, kind: ReplyTo, mine: &[&str]) -> Start {
    let is_mine = |m: &Mailbox| mine.iter().any(|me| m.same(me));
    let from_me = !original.from.is_empty() && original.from.iter().all(is_mine);
    let mut to: Vec<Mailbox> = if from_me {
        // Answering one's own message continues with the same recipients.
        original.to.clone()
    } else if !original.reply_to.is_empty() {
        original.reply_to.clone()
    } else {
        original.from.clone()
    };
    dedupe(&mut to, &[], &[]);
    let mut cc = Vec::new();
    if kind == ReplyTo::All {
        cc.extend(original.to.iter().cloned());
        cc.extend(original.cc.iter().cloned());
        let taken: Vec<String> = to.iter().map(|m| m.email.clone()).collect();
        dedupe(&mut cc, &taken, mine);
    }
    to.retain(|m| !is_mine(m) || from_me);
    Start {
        to,
        cc,
        subject: prefixed("Re: ", &original.subject),
        in_reply_to: original.message_id.clone(),
        references: references(original),
        body: quote(original),
    }
}

/// A forward with the original inline (headers block, then its text).
pub fn forward(original: &Original) -> Start {
    let list = |v: &[Mailbox]| {
        v.iter()
            .map(Mailbox::display)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut body = String::from("\n\n---------- Forwarded message ----------\n");
    body.push_str(&format!("From: {}\n", list(&original.from)));
    if let Some(date) = &original.date {
        body.push_str(&format!("Date: {date}\n"));
    }
    body.push_str(&format!("Subject: {}\n", original.subject));
    body.push_str(&format!("To: {}\n", list(&original.to)));
    if !original.cc.is_empty() {
        body.push_str(&format!("Cc: {}\n", list(&original.cc)));
    }
    body.push('\n');
    body.push_str(&normalize_newlines(&original.text));
    Start {
        subject: prefixed("Fwd: ", &original.subject),
        // A forward starts a new conversation but may point back to the original.
        references: original.message_id.iter().cloned().collect(),
        body,
        ..Start::default()
    }
}

/// "Re: " or "Fwd: " once, before the subject without any reply/forward prefixes.
pub fn prefixed(prefix: &str, subject: &str) -> String {
    format!("{prefix}{}", base_subject(subject))
}

/// A subject without its reply/forward prefixes ("Re: AW: Fwd: Plan" → "Plan"), also with
/// counters ("Re[2]: ") and list tags left in place.
pub fn base_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let mut cut = None;
        for p in ["re", "fwd", "fw", "aw", "sv", "wg", "tr"] {
            if let Some(rest) = lower.strip_prefix(p) {
                let skip_counter = rest
                    .strip_prefix('[')
                    .and_then(|r| r.find(']').map(|i| i + 2))
                    .unwrap_or(0);
                if rest.get(skip_counter..).is_some_and(|r| r.starts_with(':')) {
                    cut = Some(p.len() + skip_counter + 1);
                    break;
                }
            }
        }
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => break,
        }
    }
    s.to_string()
}

fn references(original: &Original) -> Vec<String> {
    let mut refs = if original.references.is_empty() {
        original.in_reply_to.iter().cloned().collect()
    } else {
        original.references.clone()
    };
    if let Some(id) = &original.message_id {
        if refs.last() != Some(id) {
            refs.push(id.clone());
        }
    }
    if refs.len() > MAX_REFERENCES {
        let root = refs[0].clone();
        let keep = refs.split_off(refs.len() - (MAX_REFERENCES - 1));
        refs = std::iter::once(root).chain(keep).collect();
    }
    refs
}

/// The attribution line and the original text quoted with "> ".
pub fn quote(original: &Original) -> String {
    let who = original
        .from
        .first()
        .map(|m| {
            m.name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| m.email.clone())
        })
        .unwrap_or_else(|| "someone".to_string());
    let mut out = match &original.date {
        Some(date) => format!("\n\nOn {date}, {who} wrote:\n"),
        None => format!("\n\n{who} wrote:\n"),
    };
    let text = normalize_newlines(&original.text);
    for line in text.trim_end().split('\n') {
        if line.starts_with('>') {
            out.push('>');
        } else {
            out.push_str("> ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Removes duplicates (first kept), those in `taken`, and the user's own addresses.
fn dedupe(list: &mut Vec<Mailbox>, taken: &[String], mine: &[&str]) {
    let mut seen: Vec<String> = taken.iter().map(|t| t.to_ascii_lowercase()).collect();
    list.retain(|m| {
        let key = m.email.to_ascii_lowercase();
        if seen.contains(&key) || mine.iter().any(|me| m.same(me)) {
            return false;
        }
        seen.push(key);
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"From: Ana Lima <ana@example.org>\r\n\
To: me@example.test, Bob <bob@example.org>\r\n\
Cc: carl@example.org, ME@example.test, bob@example.org\r\n\
Subject: RE: AW: Plan for Friday\r\n\
Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\
Message-ID: <m3@example.org>\r\n\
In-Reply-To: <m2@example.org>\r\n\
References: <m1@example.org> <m2@example.org>\r\n\r\n\
Shall we meet at ten?\r\n> earlier quote\r\n";

    fn emails(v: &[Mailbox]) -> Vec<&str> {
        v.iter().map(|m| m.email.as_str()).collect()
    }

    #[test]
    fn reply_goes_to_the_sender_with_threading_headers_and_a_quote() {
        let o = Original::parse(RAW);
        let r = reply(&o, ReplyTo::Sender, &["me@example.test"]);
        assert_eq!(emails(&r.to), vec!["ana@example.org"]);
        assert!(r.cc.is_empty());
        assert_eq!(r.subject, "Re: Plan for Friday");
        assert_eq!(r.in_reply_to.as_deref(), Some("m3@example.org"));
        assert_eq!(
            r.references,
            vec!["m1@example.org", "m2@example.org", "m3@example.org"]
        );
        assert!(
            r.body
                .contains("On Mon, 23 Nov 2026 09:00:00 +0000, Ana Lima wrote:\n"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("> Shall we meet at ten?\n>> earlier quote\n"),
            "{}",
            r.body
        );
    }

    #[test]
    fn reply_all_copies_everyone_once_but_not_me() {
        let o = Original::parse(RAW);
        let r = reply(&o, ReplyTo::All, &["me@example.test"]);
        assert_eq!(emails(&r.to), vec!["ana@example.org"]);
        assert_eq!(emails(&r.cc), vec!["bob@example.org", "carl@example.org"]);
    }

    #[test]
    fn reply_to_header_and_own_messages() {
        let mut o = Original::parse(RAW);
        o.reply_to = vec![Mailbox {
            name: None,
            email: "list@example.org".into(),
        }];
        assert_eq!(
            emails(&reply(&o, ReplyTo::Sender, &["me@example.test"]).to),
            vec!["list@example.org"]
        );
        // Answering my own sent message: it goes to whom I wrote to.
        let mine = Original::parse(
            b"From: me@example.test\r\nTo: ana@example.org\r\nSubject: Plan\r\n\r\nx\r\n",
        );
        let r = reply(&mine, ReplyTo::Sender, &["me@example.test"]);
        assert_eq!(emails(&r.to), vec!["ana@example.org"]);
    }

    #[test]
    fn subjects_get_one_prefix() {
        assert_eq!(prefixed("Re: ", "Re: re: Fwd: Plan"), "Re: Plan");
        assert_eq!(prefixed("Re: ", "Re[2]: Plan"), "Re: Plan");
        assert_eq!(prefixed("Fwd: ", "FW: SV: WG: Termin"), "Fwd: Termin");
        assert_eq!(
            prefixed("Re: ", "Reunion"),
            "Re: Reunion",
            "a word starting with re is not a prefix"
        );
        assert_eq!(prefixed("Re: ", ""), "Re: ");
    }

    #[test]
    fn forward_inline_carries_the_original_headers_and_text() {
        let o = Original::parse(RAW);
        let f = forward(&o);
        assert_eq!(f.subject, "Fwd: Plan for Friday");
        assert!(f.to.is_empty() && f.in_reply_to.is_none());
        assert!(f.body.contains("From: Ana Lima <ana@example.org>\n"));
        assert!(f.body.contains("Subject: RE: AW: Plan for Friday\n"));
        assert!(f.body.contains("Shall we meet at ten?"));
    }

    #[test]
    fn references_stay_bounded_and_keep_the_root() {
        let mut o = Original::parse(RAW);
        o.references = (0..50).map(|i| format!("r{i}@x")).collect();
        let r = reply(&o, ReplyTo::Sender, &[]);
        assert_eq!(r.references.len(), MAX_REFERENCES);
        assert_eq!(r.references[0], "r0@x");
        assert_eq!(
            r.references.last().map(String::as_str),
            Some("m3@example.org")
        );
    }

    #[test]
    fn broken_mail_gives_an_empty_but_usable_start() {
        let o = Original::parse(b"\xff\xfe garbage without headers");
        let r = reply(&o, ReplyTo::All, &["me@example.test"]);
        assert!(r.to.is_empty() && r.subject == "Re: ");
    }
}
