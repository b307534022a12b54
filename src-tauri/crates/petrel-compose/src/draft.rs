//! Reading a saved draft back into its parts, the files a message carries, and cleaning the
//! composer's rich text before it leaves.

use crate::{mailboxes, message_ids, Mailbox};
use mail_parser::MimeHeaders;

/// Header that ties a draft to the message it answers (folder and UID), so a reopened reply
/// still marks the original answered when it is finally sent.
pub const ANSWERS_HEADER: &str = "X-Petrel-Answers";

/// A file carried by a message: name, content type, decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Everything a draft holds, as the composer needs it again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub from: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub subject: String,
    pub text: String,
    /// The HTML alternative, when the draft was written as rich text.
    pub html: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// (folder, uid) from [`ANSWERS_HEADER`].
    pub answers: Option<(String, u32)>,
    pub files: Vec<File>,
}

impl Draft {
    /// Reads a draft (malformed input gives what can be read).
    pub fn parse(raw: &[u8]) -> Draft {
        let Some(msg) = petrel_render::mime::parse(raw) else {
            return Draft::default();
        };
        let answers = msg.header_raw(ANSWERS_HEADER).and_then(|v| {
            let (uid, folder) = v.trim().split_once(' ')?;
            Some((folder.trim().to_string(), uid.parse().ok()?))
        });
        let has_html = msg.html_body.iter().any(|&i| {
            msg.part(i)
                .is_some_and(|p| matches!(p.body, mail_parser::PartType::Html(_)))
        });
        Draft {
            from: mailboxes(msg.from()),
            to: mailboxes(msg.to()),
            cc: mailboxes(msg.cc()),
            bcc: mailboxes(msg.bcc()),
            subject: msg.subject().unwrap_or_default().to_string(),
            text: petrel_render::body_text(&msg, raw).unwrap_or_default(),
            // Cleaned here, before it can reach the composer in the app's own window: a
            // draft's HTML may come from another client or a hostile server (review M5).
            html: has_html
                .then(|| msg.body_html(0).map(|t| clean_html(&t)))
                .flatten(),
            message_id: msg.message_id().map(str::to_string),
            in_reply_to: message_ids(msg.in_reply_to()).into_iter().next(),
            references: message_ids(msg.references()),
            answers,
            files: files(raw),
        }
    }
}

/// The attachments of a message (inline images included), in order.
pub fn files(raw: &[u8]) -> Vec<File> {
    let Some(msg) = petrel_render::mime::parse(raw) else {
        return vec![];
    };
    msg.attachments()
        .enumerate()
        .map(|(i, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase();
            let name = part
                .attachment_name()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    if content_type == "message/rfc822" {
                        format!("message-{}.eml", i + 1)
                    } else {
                        format!("attachment-{}", i + 1)
                    }
                });
            File {
                name,
                content_type,
                bytes: part.contents().to_vec(),
            }
        })
        .collect()
}

/// The composer's rich text, reduced to what simple formatting needs: no scripts, styles,
/// forms, frames, remote images or event handlers; links keep only http(s) and mailto.
pub fn clean_html(html: &str) -> String {
    let tags = [
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "u",
        "ul",
    ];
    ammonia::Builder::default()
        .tags(tags.into_iter().collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_html_is_cleaned_before_it_reaches_the_composer() {
        let raw = b"From: a@x\r\nMessage-ID: <d@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\"><style>body{display:none}</style></head><body><p onclick=\"x()\">Hi <b>there</b></p><img src=\"http://tracker.example/p.gif\"><script>alert(1)</script><a href=\"javascript:x()\">j</a></body></html>\r\n";
        let html = Draft::parse(raw).html.unwrap();
        for bad in [
            "<style",
            "<meta",
            "refresh",
            "<img",
            "tracker.example",
            "<script",
            "onclick",
            "javascript:",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
        assert!(html.contains("<b>there</b>"), "{html}");
    }

    #[test]
    fn a_draft_reads_back_with_bcc_answers_and_files() {
        let raw = b"From: Alice <a@x.test>\r\nTo: Bob <b@x.test>\r\nBcc: c@x.test\r\n\
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <d1@x.test>\r\nIn-Reply-To: <o@x.test>\r\n\
References: <r@x.test> <o@x.test>\r\nX-Petrel-Answers: 42 INBOX/Sub folder\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
AAEC\r\n--b--\r\n";
        let d = Draft::parse(raw);
        assert_eq!(d.bcc[0].email, "c@x.test");
        assert_eq!(d.subject, "Grüße");
        assert_eq!(d.message_id.as_deref(), Some("d1@x.test"));
        assert_eq!(d.references, ["r@x.test", "o@x.test"]);
        assert_eq!(d.answers, Some(("INBOX/Sub folder".into(), 42)));
        assert_eq!(d.text.trim(), "hello");
        assert_eq!(d.html, None);
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.files[0].name, "r.pdf");
        assert_eq!(d.files[0].content_type, "application/pdf");
        assert_eq!(d.files[0].bytes, [0, 1, 2]);
    }

    #[test]
    fn rich_text_keeps_formatting_and_loses_active_content() {
        let dirty = "<p onclick=\"x()\"><b>bold</b> <a href=\"javascript:alert(1)\">j</a> \
<a href=\"https://x.test/\">ok</a><img src=\"https://t.test/p.gif\"><script>alert(1)</script>\
<style>p{}</style><ul><li>one</li></ul></p>";
        let clean = clean_html(dirty);
        assert!(clean.contains("<b>bold</b>"), "{clean}");
        assert!(clean.contains("<li>one</li>"), "{clean}");
        assert!(clean.contains("href=\"https://x.test/\""), "{clean}");
        for bad in [
            "onclick",
            "javascript",
            "<img",
            "<script",
            "<style",
            "alert",
        ] {
            assert!(!clean.contains(bad), "{bad} left in {clean}");
        }
    }
}
