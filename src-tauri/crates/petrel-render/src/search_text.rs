//! What the search index reads from a whole message: the people, the subject, the words
//! of every text part (HTML turned into text), the attachments' names, the Message-ID.

use crate::{body_text, files, mime, repair_8bit_headers};
use mail_parser::{Address, MimeHeaders, PartType};

/// A hostile or huge message must not make the index hold megabytes of one body.
const MAX_BODY_CHARS: usize = 512 * 1024;

/// The searchable text of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchText {
    /// "Name <address>" of each sender, recipient and copy, joined.
    pub from: String,
    pub to: String,
    pub cc: String,
    pub subject: String,
    /// The text parts in order (HTML parts as text when a message has no plain part).
    pub body: String,
    pub attachments: Vec<String>,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub date: Option<i64>,
}

/// Reads the searchable text of `raw`; malformed mail gives what could be read.
pub fn search_text(raw: &[u8]) -> SearchText {
    let repaired = repair_8bit_headers(raw);
    let raw = repaired.as_ref();
    let Some(msg) = mime::parse(raw) else {
        return SearchText {
            body: bounded(String::from_utf8_lossy(raw).into_owned()),
            ..SearchText::default()
        };
    };
    let mut body = String::new();
    for (n, &part) in msg.text_body.iter().enumerate() {
        let text = if n == 0 {
            body_text(&msg, raw)
        } else {
            msg.body_text(n).map(|t| t.into_owned())
        };
        if let Some(text) = text {
            // A text part made from HTML by mail-parser is fine; a real HTML part becomes
            // text below.
            let is_html = matches!(
                msg.parts.get(part as usize).map(|p| &p.body),
                Some(PartType::Html(_))
            );
            let text = if is_html {
                mail_parser::decoders::html::html_to_text(&text)
            } else {
                text
            };
            body.push_str(&text);
            body.push('\n');
        }
        if body.len() > MAX_BODY_CHARS {
            break;
        }
    }
    let attachments = msg
        .attachments
        .iter()
        .filter_map(|&i| msg.parts.get(i as usize))
        .filter_map(|p| p.attachment_name())
        .map(files::safe_file_name)
        .collect();
    SearchText {
        from: people(msg.from()),
        to: people(msg.to()),
        cc: people(msg.cc()),
        subject: files::without_format_chars(msg.subject().unwrap_or_default()).into_owned(),
        body: bounded(body),
        attachments,
        message_id: msg.message_id().map(str::to_string),
        date: msg.date().map(|d| d.to_timestamp()),
    }
}

fn people(list: Option<&Address<'_>>) -> String {
    let Some(list) = list else {
        return String::new();
    };
    list.iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(n), Some(addr)) => format!("{n} <{addr}>"),
            (Some(n), None) => n.to_string(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cuts at a character boundary, never inside one.
fn bounded(mut text: String) -> String {
    if text.len() > MAX_BODY_CHARS {
        let mut end = MAX_BODY_CHARS;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_people_words_files_and_id_of_a_message() {
        let raw =
            b"From: Ana Lima <ana@example.org>\r\nTo: bob@example.org, Carl <carl@example.org>\r\n\
Subject: =?UTF-8?Q?R=C3=A9union?=\r\nMessage-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>Hello <b>budget</b> world</p>\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"plan\xe2\x80\xaefdp.exe\"\r\n\r\nxx\r\n--b--\r\n";
        let t = search_text(raw);
        assert_eq!(t.from, "Ana Lima <ana@example.org>");
        assert_eq!(t.to, "bob@example.org, Carl <carl@example.org>");
        assert_eq!(t.subject, "Réunion");
        assert!(t.body.contains("budget"), "{:?}", t.body);
        assert!(!t.body.contains("<b>"), "{:?}", t.body);
        assert_eq!(t.attachments, vec!["planfdp.exe".to_string()]);
        assert_eq!(t.message_id.as_deref(), Some("m1@example.org"));
    }

    #[test]
    fn a_huge_body_is_cut_at_a_character_boundary() {
        let mut raw = b"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n".to_vec();
        raw.extend("é".repeat(MAX_BODY_CHARS).as_bytes());
        let t = search_text(&raw);
        assert!(t.body.len() <= MAX_BODY_CHARS);
        assert!(t.body.chars().all(|c| c == 'é' || c == '\n'));
    }
}
