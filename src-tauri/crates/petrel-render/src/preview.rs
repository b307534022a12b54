//! The line of a message the list shows beside its subject: the first words the sender
//! wrote — not the quoted mail they answer, the "On … wrote:" line before it, or their
//! signature. Read from the whole message or from its beginning only (a server's first
//! few kilobytes: a cut part gives what it has).

use crate::{body_text, files, mime, repair_8bit_headers};

/// Characters kept: more than any list row shows, few enough to cost nothing per row.
pub const PREVIEW_CHARS: usize = 200;

/// How much of a message a preview reads (and a server is asked for): its headers and
/// the start of its first text part, for nearly all mail.
pub const BEGINNING_BYTES: usize = 16 * 1024;

/// What a list row shows beyond its cached fields, from `raw` (a whole message or its
/// beginning): the preview line, the recipients, whether the message has a Date.
pub fn row_extra(uid: u32, raw: &[u8]) -> petrel_core::RowExtra {
    let head = &raw[..raw.len().min(BEGINNING_BYTES)];
    let repaired = repair_8bit_headers(head);
    let (to, undated) = match mime::parse_headers(repaired.as_ref()) {
        Some(msg) => (recipients(msg.to()), msg.date().is_none()),
        None => (String::new(), true),
    };
    petrel_core::RowExtra {
        uid,
        preview: preview(raw),
        to,
        undated,
    }
}

/// Recipients as a row shows them: the first two names (or addresses), then how many more.
fn recipients(to: Option<&mail_parser::Address<'_>>) -> String {
    let Some(to) = to else {
        return String::new();
    };
    let names: Vec<String> = to
        .iter()
        .map(|a| {
            let name = a
                .name()
                .map(|n| files::without_format_chars(n).trim().to_string());
            match name.filter(|n| !n.is_empty() && !n.contains('@')) {
                Some(n) => n,
                None => files::without_format_chars(a.address().unwrap_or_default()).into_owned(),
            }
        })
        .filter(|n| !n.is_empty())
        .collect();
    match names.len() {
        0..=2 => names.join(", "),
        n => format!("{} +{}", names[..2].join(", "), n - 2),
    }
}

/// The preview of `raw` (a whole message or its beginning); empty when it has no text.
pub fn preview(raw: &[u8]) -> String {
    // The first words are near the start: a whole message is read as its beginning, so a
    // large one costs no more than a small one.
    let raw = &raw[..raw.len().min(BEGINNING_BYTES)];
    let repaired = repair_8bit_headers(raw);
    let closed = closed(repaired.as_ref());
    let raw = closed.as_slice();
    let Some(msg) = mime::parse(raw) else {
        return String::new();
    };
    let text = body_text(&msg, raw)
        .or_else(|| {
            msg.body_html(0)
                .map(|h| mail_parser::decoders::html::html_to_text(&h))
        })
        .unwrap_or_default();
    first_words(&text)
}

/// `raw` with every multipart it opens closed at its end: a beginning cut inside its first
/// part parses as that part (decoded), not as raw text. After a whole message the closing
/// lines are an epilogue, which nothing reads.
fn closed(raw: &[u8]) -> Vec<u8> {
    let mut out = raw.to_vec();
    let lower = raw.to_ascii_lowercase();
    let mut boundaries = Vec::new();
    let mut at = 0;
    while let Some(found) = find(&lower[at..], b"boundary=") {
        let start = at + found + b"boundary=".len();
        let rest = &raw[start..];
        let value: Vec<u8> = match rest.first() {
            Some(b'"') => rest[1..]
                .iter()
                .take_while(|&&b| b != b'"')
                .copied()
                .collect(),
            _ => rest
                .iter()
                .take_while(|&&b| !b.is_ascii_whitespace() && b != b';')
                .copied()
                .collect(),
        };
        if !value.is_empty() && value.len() <= 200 {
            boundaries.push(value);
        }
        at = start;
    }
    for b in boundaries.iter().rev().take(8) {
        out.extend_from_slice(b"\r\n--");
        out.extend_from_slice(b);
        out.extend_from_slice(b"--\r\n");
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The sender's own first words of `text`, on one line.
fn first_words(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        // The signature separator (RFC 3676 §4.3), and whatever follows it.
        if line == "-- " || line == "--" {
            break;
        }
        let line = line.trim();
        let attribution = line.ends_with(':') && line.chars().count() < 160 && {
            let lower = line.to_lowercase();
            lower.contains("wrote") || lower.contains("schrieb") || lower.contains("a écrit")
        };
        if line.is_empty() || line.starts_with('>') || attribution {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&line.split_whitespace().collect::<Vec<_>>().join(" "));
        if out.chars().count() >= PREVIEW_CHARS {
            break;
        }
    }
    files::without_format_chars(&out.chars().take(PREVIEW_CHARS).collect::<String>()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_senders_first_words_without_quotes_attribution_or_signature() {
        let raw = b"From: a@x\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOn Mon, Ana wrote:\r\n> old words\r\n\r\nYes,   let's\tmeet\r\nat one.\r\n-- \r\nBob\r\n";
        assert_eq!(preview(raw), "Yes, let's meet at one.");
    }

    #[test]
    fn html_only_mail_and_a_cut_beginning_still_give_words() {
        let html =
            b"From: a@x\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>there</b></p><p>Second</p>";
        assert_eq!(preview(html), "Hello there Second");
        // The first bytes of a multipart message, cut inside its first part.
        let cut = b"Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus Berlin, und noch viel me";
        assert!(
            preview(cut).starts_with("Grüße aus Berlin"),
            "{}",
            preview(cut)
        );
    }

    #[test]
    fn row_extras_name_the_recipients_and_say_when_there_is_no_date() {
        let raw = b"From: me@x\r\nTo: Bob <bob@x>, \"Ana\" <ana@x>, c@x, d@x\r\nSubject: s\r\n\r\nHi all\r\n";
        let extra = row_extra(7, raw);
        assert_eq!(extra.to, "Bob, Ana +2");
        assert!(extra.undated);
        assert_eq!(extra.preview, "Hi all");
        let dated = b"To: bob@x\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n";
        let extra = row_extra(1, dated);
        assert_eq!((extra.to.as_str(), extra.undated), ("bob@x", false));
    }

    #[test]
    fn long_text_is_cut_by_characters_and_bidi_tricks_go() {
        let body = "ü".repeat(500);
        let raw = format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\u{202E}x\r\n");
        let p = preview(raw.as_bytes());
        assert_eq!(p.chars().count(), PREVIEW_CHARS);
        assert!(!preview(
            "Content-Type: text/plain; charset=utf-8\r\n\r\nab\u{202E}cd\r\n".as_bytes()
        )
        .contains('\u{202E}'));
        assert_eq!(preview(b""), "");
    }
}
