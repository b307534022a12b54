//! Turns raw RFC 5322 bytes into what Petrel shows: list rows from header blocks and the
//! reader's view from whole messages. Pure functions over bytes (mail-parser does the MIME
//! and charset work); malformed input yields best-effort text, never a panic.
#![forbid(unsafe_code)]

mod charset;
mod files;
mod flowed;
mod html;
pub mod mime;
mod plain_headers;
mod preview;
mod search_text;
mod thread_links;

pub use files::{open_risk, safe_file_name, true_extension, type_label};
pub use html::{sanitize, SafeHtml};
use mail_parser::{Address, MimeHeaders, PartType};
use petrel_core::{Attachment, MessageView};
pub use preview::{preview, row_extra, BEGINNING_BYTES, PREVIEW_CHARS};
pub use search_text::{search_text, SearchText};
use std::collections::HashMap;
pub use thread_links::{thread_links, THREAD_HEADER_FIELDS};

/// Largest inline (`cid:`) image put into the reader, and the most for one message: a
/// hostile mail must not make the UI move hundreds of MB.
const MAX_INLINE_IMAGE: usize = 5 * 1024 * 1024;
const MAX_INLINE_TOTAL: usize = 20 * 1024 * 1024;

/// The header fields a list row needs; fetched with `BODY.PEEK[HEADER.FIELDS (...)]`.
pub const LIST_HEADER_FIELDS: &str = "FROM SUBJECT DATE CONTENT-TYPE";

/// Fields of a message list row decoded from its header block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListHeaders {
    pub from: String,
    pub subject: String,
    pub date: Option<i64>,
    /// multipart/mixed: the usual sign of attached files.
    pub has_attachment: bool,
}

/// Decodes the header block fetched for a list row (RFC 2047 words, charsets).
pub fn list_headers(header_block: &[u8]) -> ListHeaders {
    // Most blocks are plain: read without building a parsed message (a header sync does
    // this 100k times); any other goes to mail-parser, which reads plain ones the same.
    if let Some(plain) = std::str::from_utf8(header_block)
        .ok()
        .and_then(plain_headers::read)
    {
        return ListHeaders {
            from: sender_display(plain.name.as_deref(), plain.address),
            subject: files::without_format_chars(&plain.subject).into_owned(),
            date: plain.date,
            has_attachment: plain.has_attachment,
        };
    }
    parsed_list_headers(header_block)
}

/// [`list_headers`] through mail-parser, whatever the block's shape.
fn parsed_list_headers(header_block: &[u8]) -> ListHeaders {
    let header_block = repair_8bit_headers(header_block);
    let Some(msg) = mime::parse_headers(header_block.as_ref()) else {
        return ListHeaders::default();
    };
    ListHeaders {
        from: first_address(msg.from()),
        subject: files::without_format_chars(msg.subject().unwrap_or_default()).into_owned(),
        date: msg.date().map(|d| d.to_timestamp()),
        has_attachment: msg.content_type().is_some_and(|c| {
            c.ctype().eq_ignore_ascii_case("multipart")
                && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("mixed"))
        }),
    }
}

/// The first text body of a parsed message (`raw` is the bytes it was parsed from), with
/// the charset corrections of `charset.rs`.
pub fn body_text(msg: &mail_parser::Message<'_>, raw: &[u8]) -> Option<String> {
    let id = *msg.text_body.first()?;
    let text = charset::corrected_text(msg, raw, id)
        .or_else(|| msg.body_text(0).map(|t| t.into_owned()))?;
    // format=flowed (RFC 3676): paragraphs rejoined, so they wrap to the window.
    let flowed = msg
        .parts
        .get(id as usize)
        .and_then(|p| p.content_type())
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("text")
                && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))
        })
        .filter(|ct| {
            ct.attribute("format")
                .is_some_and(|f| f.trim().eq_ignore_ascii_case("flowed"))
        })
        .map(|ct| {
            ct.attribute("delsp")
                .is_some_and(|d| d.trim().eq_ignore_ascii_case("yes"))
        });
    Some(match flowed {
        Some(delsp) => flowed::unflow(&text, delsp),
        None => text,
    })
}

/// Builds the reader's view of a full message.
pub fn message_view(uid: u32, raw: &[u8]) -> MessageView {
    let repaired = repair_8bit_headers(raw);
    let raw = repaired.as_ref();
    let Some(msg) = mime::parse(raw) else {
        // Not even a header could be found: show the bytes rather than nothing.
        return MessageView {
            uid,
            from: String::new(),
            to: vec![],
            cc: vec![],
            subject: String::new(),
            date: None,
            text: String::from_utf8_lossy(raw).into_owned(),
            html: None,
            remote_content: false,
            sender: None,
            attachments: vec![],
            partial: false,
            date_is_arrival: false,
        };
    };
    let text = body_text(&msg, raw)
        .or_else(|| {
            msg.body_html(0)
                .map(|h| mail_parser::decoders::html::html_to_text(&h))
        })
        .or_else(|| first_text_part(&msg))
        .unwrap_or_default();
    // Only a real HTML part (mail-parser would otherwise make HTML out of plain text).
    let safe = msg
        .html_body
        .iter()
        .filter_map(|&i| msg.parts.get(i as usize))
        .find_map(|p| match &p.body {
            PartType::Html(h) => Some(h.as_ref()),
            _ => None,
        })
        .map(|h| sanitize(h, inline_images(&msg)));
    let attachments = msg
        .attachments
        .iter()
        .filter_map(|&i| msg.parts.get(i as usize).map(|p| (i, p)))
        // Inline images shown in the HTML are not listed as files.
        .filter(|(_, p)| !(p.content_id().is_some() && is_image(p) && safe.is_some()))
        .map(|(i, p)| {
            // Shown as it will be saved: cleaned of bidi tricks and path parts.
            let raw_name = p
                .attachment_name()
                .map(str::to_string)
                .unwrap_or_else(|| format!("attachment-{i}"));
            let content_type = content_type(p);
            let contents = p.contents();
            let head = &contents[..contents.len().min(16)];
            Attachment {
                index: i,
                name: safe_file_name(&raw_name),
                extension: true_extension(&raw_name),
                risk: open_risk(&raw_name, &content_type, head),
                type_label: type_label(&raw_name, &content_type),
                content_type,
                size: contents.len().min(u32::MAX as usize) as u32,
            }
        })
        .collect();
    MessageView {
        uid,
        from: all_addresses(msg.from()).join(", "),
        to: all_addresses(msg.to()),
        cc: all_addresses(msg.cc()),
        subject: msg.subject().unwrap_or_default().to_string(),
        date: msg.date().map(|d| d.to_timestamp()),
        text,
        remote_content: safe.as_ref().is_some_and(|s| s.remote_content),
        html: safe.map(|s| s.html),
        sender: msg
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|a| a.to_ascii_lowercase()),
        attachments,
        partial: false,
        date_is_arrival: false,
    }
}

/// The decoded bytes and file name of attachment `index` (as listed in [`MessageView`]).
pub fn attachment(raw: &[u8], index: u32) -> Option<(String, Vec<u8>)> {
    attachment_with_type(raw, index).map(|(name, _, bytes)| (name, bytes))
}

/// As [`attachment`], with its content type: (name as sent, content type, bytes).
pub fn attachment_with_type(raw: &[u8], index: u32) -> Option<(String, String, Vec<u8>)> {
    let msg = mime::parse(raw)?;
    if !msg.attachments.contains(&index) {
        return None;
    }
    let i = index;
    let part = msg.parts.get(index as usize)?;
    let name = part
        .attachment_name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("attachment-{i}"));
    Some((name, content_type(part), part.contents().to_vec()))
}

fn is_image(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_type()
        .is_some_and(|c| c.ctype().eq_ignore_ascii_case("image"))
}

fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type()
        .map(|c| match c.subtype() {
            Some(sub) => format!("{}/{}", c.ctype(), sub).to_ascii_lowercase(),
            None => c.ctype().to_ascii_lowercase(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
}

/// `cid:` → `data:` URLs for the inline images of a message, within size limits.
fn inline_images(msg: &mail_parser::Message<'_>) -> HashMap<String, String> {
    use base64::Engine as _;
    let mut out = HashMap::new();
    let mut total = 0;
    for part in &msg.parts {
        let (Some(cid), true) = (part.content_id(), is_image(part)) else {
            continue;
        };
        let bytes = part.contents();
        if bytes.len() > MAX_INLINE_IMAGE || total + bytes.len() > MAX_INLINE_TOTAL {
            continue;
        }
        total += bytes.len();
        let ctype = content_type(part);
        // Only raster types a browser shows as images; SVG can carry script.
        if !matches!(
            ctype.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/bmp"
        ) {
            continue;
        }
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        out.insert(
            cid.trim_matches(['<', '>']).to_string(),
            format!("data:{ctype};base64,{data}"),
        );
    }
    out
}

/// Raw 8-bit bytes in headers are not allowed (RFC 5322) but common; when the header section
/// is not valid UTF-8 it is almost always Latin-1/Windows-1252 from an old client. Decoding
/// it as Latin-1 shows "été" instead of replacement characters. Valid UTF-8 is left alone.
fn repair_8bit_headers(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    // Nearly all mail is valid UTF-8 throughout: one fast check, no search for the end.
    if std::str::from_utf8(raw).is_ok() {
        return std::borrow::Cow::Borrowed(raw);
    }
    let end = memchr::memmem::find(raw, b"\r\n\r\n")
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
/// The sender as a list shows it: the name when there is one, else the address. Bidi and
/// invisible characters go (they can reorder what is shown), and a name that looks like an
/// address ("service@bank.example" <x@evil.example>) is shown with the real address
/// (review L7).
fn first_address(addr: Option<&Address<'_>>) -> String {
    addr.and_then(|a| a.first())
        .map(|a| sender_display(a.name(), a.address().unwrap_or_default()))
        .unwrap_or_default()
}

/// How a sender shows in the list: the name, else the address; a name that looks like
/// another address shows the real one beside it.
fn sender_display(name: Option<&str>, address: &str) -> String {
    let name = name.map(files::without_format_chars);
    match name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) if n.contains('@') && !n.eq_ignore_ascii_case(address) => {
            format!("{n} <{address}>")
        }
        Some(n) => n.to_string(),
        None => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "From: =?UTF-8?Q?Ana_L=C3=ADma?= <ana@example.org>\r\nTo: Bo <bo@example.org>, cy@example.org\r\nSubject: =?UTF-8?B?T2zDoSDwn5Go?=\r\nDate: Tue, 03 Mar 2026 10:00:00 +0000\r\n\r\nHello Bo,\r\nsee you.\r\n";

    #[test]
    fn flowed_plain_text_is_read_as_paragraphs() {
        let raw = "From: a@example.org\r\nSubject: f\r\nContent-Type: text/plain; charset=utf-8; format=flowed; delsp=no\r\n\r\nThe boat leaves \r\nat nine.\r\n> Quoted \r\n> on.\r\n";
        assert_eq!(
            message_view(1, raw.as_bytes()).text,
            "The boat leaves at nine.\n> Quoted on.\n"
        );
        // Not flowed: the lines stay as they were.
        let fixed = raw.replace("; format=flowed; delsp=no", "");
        assert!(
            message_view(1, fixed.as_bytes())
                .text
                .contains("leaves \r\nat")
                || message_view(1, fixed.as_bytes())
                    .text
                    .contains("leaves \nat")
        );
    }

    #[test]
    fn a_sender_name_that_looks_like_an_address_shows_the_real_one() {
        let row = list_headers(
            "From: \"service@bank.example\" <x@evil.example>\r\nSubject: Pay\u{202e}now\r\n\r\n"
                .as_bytes(),
        );
        assert_eq!(row.from, "service@bank.example <x@evil.example>");
        assert_eq!(row.subject, "Paynow", "no bidi override in the list");
        let plain = list_headers(b"From: Ana Lima <ana@x.test>\r\n\r\n");
        assert_eq!(plain.from, "Ana Lima");
        let same = list_headers(b"From: \"ana@x.test\" <ana@x.test>\r\n\r\n");
        assert_eq!(same.from, "ana@x.test");
    }

    #[test]
    fn list_headers_decode_encoded_words() {
        let h = list_headers(PLAIN.as_bytes());
        assert_eq!(h.from, "Ana Líma");
        assert_eq!(h.subject, "Olá 👨");
        assert_eq!(h.date, Some(1_772_532_000));
        assert!(!h.has_attachment);
        let mixed =
            list_headers(b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
        assert!(mixed.has_attachment);
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

#[cfg(test)]
mod attack_corpus {
    /// Every message of the HTML attack corpus comes out of the sanitizer without anything
    /// that runs, submits, frames, refreshes or loads — except remote images and CSS image
    /// URLs, which are reported (`remote_content`) and loaded only if the user allows.
    #[test]
    fn nothing_active_survives_sanitizing() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/servers/attack");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "eml") {
                continue;
            }
            let raw = std::fs::read_to_string(&path)
                .unwrap()
                .replace("{{BEACON}}", "http://127.0.0.1:9");
            let view = super::message_view(1, raw.as_bytes());
            let html = view.html.expect("an HTML view").to_ascii_lowercase();
            for banned in [
                "<script",
                "onload",
                "onerror",
                "onmouseover",
                "onfocus",
                "javascript:",
                "<iframe",
                "<object",
                "<embed",
                "<frame",
                "<form",
                "formaction",
                "<input",
                "<meta",
                "<link",
                "<style",
                "@import",
                "<svg",
                "<base",
                "srcset",
                "<video",
                "<audio",
                "poster",
                "background=",
                "data:text/html",
                "data:image/svg",
                "relative.png",
            ] {
                assert!(
                    !html.contains(banned),
                    "{} keeps {banned}: {html}",
                    path.display()
                );
            }
            assert!(html.contains("attack"), "the text stays: {html}");
            let remote = view.remote_content;
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("10-") || name.starts_with("06-") {
                assert!(remote, "{name}: remote images must be reported");
            }
            if name.starts_with("10-") {
                assert!(
                    html.contains("http://127.0.0.1:9/pixel.gif"),
                    "kept for 'Show': {html}"
                );
            }
            n += 1;
        }
        assert!(n >= 11);
    }

    #[test]
    fn cid_images_are_inlined_and_links_open_outside() {
        let raw = "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p><a href=\"https://example.org/x\">site</a><img src=\"cid:logo@x\"></p>\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
        let view = super::message_view(1, raw.as_bytes());
        let html = view.html.unwrap();
        assert!(
            html.contains("src=\"data:image/png;base64,iVBORw0KGgo=\""),
            "{html}"
        );
        assert!(
            html.contains("target=\"_blank\"") && html.contains("noopener"),
            "{html}"
        );
        assert!(!view.remote_content);
        assert!(
            view.attachments.is_empty(),
            "the inline logo is not a file to save"
        );
    }

    #[test]
    fn attachments_are_listed_and_extracted() {
        let raw = "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
        let view = super::message_view(1, raw.as_bytes());
        assert_eq!(view.attachments.len(), 1);
        let a = &view.attachments[0];
        assert_eq!(
            (a.name.as_str(), a.content_type.as_str(), a.size),
            ("report.pdf", "application/pdf", 9)
        );
        let (name, bytes) = super::attachment(raw.as_bytes(), a.index).unwrap();
        assert_eq!(
            (name.as_str(), bytes.as_slice()),
            ("report.pdf", &b"%PDF-1.4\n"[..])
        );
        assert!(
            super::attachment(raw.as_bytes(), 0).is_none(),
            "only listed parts"
        );
    }
}
