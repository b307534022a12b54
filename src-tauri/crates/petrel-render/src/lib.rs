//! Turns raw RFC 5322 bytes into what Petrel shows: list rows from header blocks and the
//! reader's view from whole messages. Pure functions over bytes (mail-parser does the MIME
//! and charset work); malformed input yields best-effort text, never a panic.

use mail_parser::{Address, MessageParser, PartType};
use petrel_core::MessageView;

/// The header fields a list row needs; fetched with `BODY.PEEK[HEADER.FIELDS (...)]`.
pub const LIST_HEADER_FIELDS: &str = "FROM SUBJECT DATE";

/// Fields of a message list row decoded from its header block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListHeaders {
    pub from: String,
    pub subject: String,
    pub date: Option<i64>,
}

/// Decodes the header block fetched for a list row (RFC 2047 words, charsets).
pub fn list_headers(header_block: &[u8]) -> ListHeaders {
    let header_block = repair_8bit_headers(header_block);
    let Some(msg) = MessageParser::new().parse_headers(header_block.as_ref()) else {
        return ListHeaders::default();
    };
    ListHeaders {
        from: first_address(msg.from()),
        subject: msg.subject().unwrap_or_default().to_string(),
        date: msg.date().map(|d| d.to_timestamp()),
    }
}

/// Builds the reader's view of a full message.
pub fn message_view(uid: u32, raw: &[u8]) -> MessageView {
    let repaired = repair_8bit_headers(raw);
    let raw = repaired.as_ref();
    let Some(msg) = MessageParser::new().parse(raw) else {
        // Not even a header could be found: show the bytes rather than nothing.
        return MessageView {
            uid,
            from: String::new(),
            to: vec![],
            cc: vec![],
            subject: String::new(),
            date: None,
            text: String::from_utf8_lossy(raw).into_owned(),
        };
    };
    let text = msg
        .body_text(0)
        .map(|t| t.into_owned())
        .or_else(|| {
            msg.body_html(0)
                .map(|h| mail_parser::decoders::html::html_to_text(&h))
        })
        .or_else(|| first_text_part(&msg))
        .unwrap_or_default();
    MessageView {
        uid,
        from: all_addresses(msg.from()).join(", "),
        to: all_addresses(msg.to()),
        cc: all_addresses(msg.cc()),
        subject: msg.subject().unwrap_or_default().to_string(),
        date: msg.date().map(|d| d.to_timestamp()),
        text,
    }
}

/// Raw 8-bit bytes in headers are not allowed (RFC 5322) but common; when the header section
/// is not valid UTF-8 it is almost always Latin-1/Windows-1252 from an old client. Decoding
/// it as Latin-1 shows "été" instead of replacement characters. Valid UTF-8 is left alone.
fn repair_8bit_headers(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap_or(raw.len());
    let (head, body) = raw.split_at(end);
    if std::str::from_utf8(head).is_ok() {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut fixed: Vec<u8> = head
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .into_bytes();
    fixed.extend_from_slice(body);
    std::borrow::Cow::Owned(fixed)
}

/// Broken structure (e.g. a multipart that never closes) can leave the only text filed as
/// an attachment; the reader should still show it rather than an empty page.
fn first_text_part(msg: &mail_parser::Message<'_>) -> Option<String> {
    msg.parts.iter().find_map(|part| match &part.body {
        PartType::Text(text) => Some(text.to_string()),
        PartType::Html(html) => Some(mail_parser::decoders::html::html_to_text(html)),
        _ => None,
    })
}

fn display(name: Option<&str>, address: Option<&str>) -> String {
    match (name.map(str::trim).filter(|n| !n.is_empty()), address) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (Some(n), None) => n.to_string(),
        (None, Some(a)) => a.to_string(),
        (None, None) => String::new(),
    }
}

fn all_addresses(addr: Option<&Address<'_>>) -> Vec<String> {
    let Some(addr) = addr else { return vec![] };
    addr.iter()
        .map(|a| display(a.name(), a.address()))
        .collect()
}

/// The sender as a list shows it: the name when there is one, else the address.
fn first_address(addr: Option<&Address<'_>>) -> String {
    addr.and_then(|a| a.first())
        .map(
            |a| match a.name().map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) => n.to_string(),
                None => a.address().unwrap_or_default().to_string(),
            },
        )
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "From: =?UTF-8?Q?Ana_L=C3=ADma?= <ana@example.org>\r\nTo: Bo <bo@example.org>, cy@example.org\r\nSubject: =?UTF-8?B?T2zDoSDwn5Go?=\r\nDate: Tue, 03 Mar 2026 10:00:00 +0000\r\n\r\nHello Bo,\r\nsee you.\r\n";

    #[test]
    fn list_headers_decode_encoded_words() {
        let h = list_headers(PLAIN.as_bytes());
        assert_eq!(h.from, "Ana Líma");
        assert_eq!(h.subject, "Olá 👨");
        assert_eq!(h.date, Some(1_772_532_000));
    }

    #[test]
    fn reader_view_in_lf_and_crlf_is_the_same() {
        let crlf = message_view(7, PLAIN.as_bytes());
        let lf = message_view(7, PLAIN.replace("\r\n", "\n").as_bytes());
        assert_eq!(
            crlf.text.replace("\r\n", "\n"),
            lf.text.replace("\r\n", "\n")
        );
        assert!(crlf.text.contains("Hello Bo,"));
        assert_eq!(
            crlf.to,
            vec![
                "Bo <bo@example.org>".to_string(),
                "cy@example.org".to_string()
            ]
        );
        assert_eq!(crlf.from, "Ana Líma <ana@example.org>");
    }

    #[test]
    fn html_only_mail_becomes_text_without_markup() {
        let raw = "From: a@b.c\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p><script>x()</script>";
        let v = message_view(1, raw.as_bytes());
        assert!(v.text.contains("Hi there"), "got {:?}", v.text);
        assert!(!v.text.contains("<b>"));
    }

    #[test]
    fn latin1_bytes_in_headers_are_shown_as_latin1() {
        let h = list_headers(b"From: Zo\xe9 <z@example.org>\r\nSubject: \xe9t\xe9\r\n\r\n");
        assert_eq!(h.subject, "été");
        assert_eq!(h.from, "Zoé");
        // Valid UTF-8 stays as it is.
        assert_eq!(
            list_headers("Subject: été\r\n\r\n".as_bytes()).subject,
            "été"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"From:\r\n\r\n",
            b"Subject: =?x?Q?=ZZ?=\r\n",
            b"\r\n\r\n\r\n",
        ] {
            let _ = message_view(1, raw);
            let _ = list_headers(raw);
        }
    }
}

#[cfg(test)]
mod corpus {
    /// Every message of the sample mailbox (which includes malformed mail) yields a readable
    /// text, in LF and CRLF form alike.
    #[test]
    fn sample_mailbox_is_readable() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/servers/sample");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let raw = std::fs::read(entry.unwrap().path()).unwrap();
            let lf: Vec<u8> = String::from_utf8_lossy(&raw)
                .replace("\r\n", "\n")
                .into_bytes();
            for bytes in [raw.clone(), lf] {
                let view = super::message_view(1, &bytes);
                assert!(
                    !view.text.trim().is_empty(),
                    "no text for {}",
                    String::from_utf8_lossy(&raw)
                );
            }
            n += 1;
        }
        assert!(n >= 5);
    }
}
