//! List headers of the usual shape, read without the MIME parser.
//!
//! A header sync decodes one header block per message (100k in a big folder), and
//! mail-parser's general parse of four fields was a fifth of Petrel's CPU in it. Most
//! blocks are plain: one line per field, a sender as `Name <addr>`, `"Name" <addr>` or
//! `addr`, a subject without encoded words, an RFC 5322 date with a numeric zone. Those are
//! read here by a scan of the bytes; anything else — encoded words outside a subject or
//! an unquoted sender name, folded lines, comments, quoting with escapes, groups, obsolete
//! dates, a field twice, control characters — makes the scan decline, and mail-parser
//! reads the block as before. A subject and an unquoted name may hold UTF-8 encoded words
//! (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`, RFC 2047): most mail not in English has them. The
//! property tests hold the line: whatever the scan reads, mail-parser reads the same.

use mail_parser::DateTime;
use std::borrow::Cow;

/// The sender (name, address) as mail-parser's first address gives them, the subject,
/// the date and whether the type is multipart/mixed — or `None`: not the plain shape.
pub(crate) struct Plain<'a> {
    pub name: Option<Cow<'a, str>>,
    pub address: &'a str,
    pub subject: Cow<'a, str>,
    pub date: Option<i64>,
    pub has_attachment: bool,
}

/// Reads `block` (a header block, valid UTF-8) if every field a list row needs has the
/// plain shape; `None` leaves it to mail-parser. Every delimiter looked for is ASCII, so
/// the byte positions found are character boundaries of the text.
pub(crate) fn read(block: &str) -> Option<Plain<'_>> {
    let mut plain = Plain {
        name: None,
        address: "",
        subject: Cow::Borrowed(""),
        date: None,
        has_attachment: false,
    };
    let mut seen = [false; 4];
    let mut rest = block;
    while !rest.is_empty() {
        let line;
        (line, rest) = next_line(rest)?;
        if line.is_empty() {
            break; // the end of the header block
        }
        let colon = memchr::memchr(b':', line.as_bytes())?;
        let (name, value) = (line.get(..colon)?, line.get(colon + 1..)?);
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return None;
        }
        let Some(field) = Field::named(name) else {
            // Not a list field (HEADER.FIELDS sends none): skipped with its folds.
            while is_fold(rest) {
                (_, rest) = next_line(rest)?;
            }
            continue;
        };
        let readable = match field {
            Field::Subject | Field::From => !has_controls(value),
            _ => is_plain_text(value),
        };
        if std::mem::replace(&mut seen[field as usize], true) || !readable {
            // A field twice (which one counts is mail-parser's call), or text to decode.
            return None;
        }
        match field {
            Field::ContentType => {
                plain.has_attachment = multipart_mixed(value)?;
                // Parameters may go on over folded lines; the type is read before them.
                while is_fold(rest) {
                    let next;
                    (next, rest) = next_line(rest)?;
                    if !is_plain_text(next) || !plain_parameters(next.as_bytes()) {
                        return None;
                    }
                }
            }
            // A folded From, Subject or Date is declined on the next line: a fold starts
            // with a blank, which is no field name.
            Field::From => (plain.name, plain.address) = sender(value)?,
            Field::Subject => plain.subject = subject(value)?,
            Field::Date => plain.date = Some(rfc5322_date(value)?.to_timestamp()),
        }
    }
    Some(plain)
}

/// The first line of `text` without its line end, and the text after it; `None` when the
/// line does not end (mail-parser reads a last field without a line end as empty).
fn next_line(text: &str) -> Option<(&str, &str)> {
    let end = memchr::memchr(b'\n', text.as_bytes())?;
    let line = text.get(..end)?;
    let line = match line.as_bytes().last() {
        Some(b'\r') => line.get(..end - 1)?,
        _ => line,
    };
    Some((line, text.get(end + 1..)?))
}

/// Whether `rest` starts with a folded line (a field's continuation).
fn is_fold(rest: &str) -> bool {
    matches!(rest.as_bytes().first(), Some(b' ' | b'\t'))
}

fn trim_blanks(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

#[derive(Clone, Copy)]
enum Field {
    From,
    Subject,
    Date,
    ContentType,
}

impl Field {
    fn named(name: &str) -> Option<Field> {
        [
            ("from", Field::From),
            ("subject", Field::Subject),
            ("date", Field::Date),
            ("content-type", Field::ContentType),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, field)| field)
    }
}

/// No ASCII control characters but tab, and no encoded word (`=?`): those are
/// mail-parser's.
fn is_plain_text(value: &str) -> bool {
    !has_controls(value) && encoded_word_at(value).is_none()
}

/// ASCII control characters other than tab.
fn has_controls(value: &str) -> bool {
    // Without early exits the loop compiles to vector instructions: values are short.
    value.bytes().fold(false, |seen, b| {
        seen | ((b < b' ' && b != b'\t') | (b == 0x7f))
    })
}

/// Where the first `=?` (the start of what may be an encoded word) is.
fn encoded_word_at(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'=', bytes).find(|&i| bytes.get(i + 1) == Some(&b'?'))
}

/// A subject as mail-parser's unstructured text: runs of plain text (without the blanks
/// at their ends) and decoded words, one space between any two except between two
/// decoded words (RFC 2047 drops the blanks there), whether or not the line had one.
/// `None` for an encoded word of another shape than [`utf8_word`] reads.
fn subject(value: &str) -> Option<Cow<'_, str>> {
    if encoded_word_at(value).is_none() {
        return Some(Cow::Borrowed(trim_blanks(value)));
    }
    joined_words(value, |_, _| true).map(Cow::Owned)
}

/// `text`'s plain runs and decoded words joined as [`subject`] says; `plain_ok(run,
/// before_a_word)` sees each plain run as it stands in `text` and may decline it.
fn joined_words(text: &str, plain_ok: impl Fn(&str, bool) -> bool) -> Option<String> {
    let mut joined = String::with_capacity(text.len());
    let mut rest = text;
    // mail-parser puts no space before a leading decoded word; a decoded word counts as a
    // token even when empty (a plain run after it gets its space). Only the first plain run
    // can come before any token.
    let (mut last_decoded, mut tokens) = (true, false);
    loop {
        let at = encoded_word_at(rest);
        let run = rest.get(..at.unwrap_or(rest.len()))?;
        if !plain_ok(run, at.is_some()) {
            return None;
        }
        let plain = trim_blanks(run);
        if !plain.is_empty() {
            if tokens {
                joined.push(' ');
            }
            joined.push_str(plain);
            last_decoded = false;
        }
        let Some(at) = at else {
            break;
        };
        let (decoded, after) = utf8_word(rest.get(at..)?)?;
        if !last_decoded {
            joined.push(' ');
        }
        joined.push_str(&decoded);
        (last_decoded, tokens) = (true, true);
        rest = after;
    }
    Some(joined)
}

/// `word` starting with one encoded word of the common shape — charset UTF-8, Q with
/// printable ASCII (no blank, no `?`) and `=XX` escapes, or B with canonical padding —
/// whose text is UTF-8 without control characters: that text and what follows the word.
fn utf8_word(word: &str) -> Option<(String, &str)> {
    let rest = word.strip_prefix("=?")?;
    let (charset, rest) = rest.split_once('?')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let (encoding, rest) = rest.split_once('?')?;
    let (data, after) = rest.split_once("?=")?;
    if data.contains('?') {
        return None;
    }
    let bytes = match encoding {
        "Q" | "q" => q_decoded(data.as_bytes())?,
        "B" | "b" => b_decoded(data.as_bytes())?,
        _ => return None,
    };
    let text = String::from_utf8(bytes).ok()?;
    if has_controls(&text) || text.contains('\t') {
        return None;
    }
    Some((text, after))
}

fn q_decoded(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let high = char::from(*data.get(i + 1)?).to_digit(16)?;
                let low = char::from(*data.get(i + 2)?).to_digit(16)?;
                out.push(u8::try_from(high * 16 + low).ok()?);
                i += 2;
            }
            b'!'..=b'~' => out.push(b),
            _ => return None,
        }
        i += 1;
    }
    Some(out)
}

fn b_decoded(data: &[u8]) -> Option<Vec<u8>> {
    // Whole groups of four, the last one padded with at most two '='.
    let padding = data.iter().rev().take_while(|&&b| b == b'=').count();
    if !data.len().is_multiple_of(4) || padding > 2 {
        return None;
    }
    let symbols = data.get(..data.len() - padding)?;
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3 + 2);
    for group in symbols.chunks(4) {
        let mut bits = 0u32;
        for (n, &b) in group.iter().enumerate() {
            bits |= crate::charset::base64_value(b)? << (18 - 6 * n);
        }
        let whole = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        // 2, 3 or 4 symbols carry 1, 2 or 3 bytes.
        out.extend_from_slice(whole.get(..group.len() - 1)?);
    }
    Some(out)
}

/// `addr`, `Name Words <addr>` or `"Quoted Name" <addr>`, as mail-parser's address parser
/// reads them: a name's words, or what the quotes hold, are taken as they are.
fn sender(value: &str) -> Option<(Option<Cow<'_, str>>, &str)> {
    let value = trim_blanks(value);
    let Some(before) = value.strip_suffix('>') else {
        // A bare address: one token with an @.
        let plain = value.contains('@')
            && !value.bytes().any(|b| is_blank(b) || is_special(b))
            && encoded_word_at(value).is_none();
        return plain.then_some((None, value));
    };
    let open = memchr::memrchr(b'<', before.as_bytes())?;
    let (name, address) = (before.get(..open)?, before.get(open + 1..)?);
    if address.is_empty()
        || address.bytes().any(|b| is_blank(b) || is_special(b))
        || encoded_word_at(address).is_some()
    {
        return None;
    }
    let name = name.trim_end_matches([' ', '\t']);
    if name.is_empty() {
        return Some((None, address));
    }
    if let Some(quoted) = name.strip_prefix('"') {
        let inner = quoted.strip_suffix('"')?;
        if inner.bytes().any(|b| b == b'"' || b == b'\\') || encoded_word_at(inner).is_some() {
            return None;
        }
        return Some(((!inner.is_empty()).then_some(Cow::Borrowed(inner)), address));
    }
    if encoded_word_at(name).is_some() {
        return Some((Some(Cow::Owned(encoded_name(name)?)), address));
    }
    // Unquoted words: mail-parser takes them from the first to the last, as they are.
    (!name.bytes().any(is_special)).then_some((Some(Cow::Borrowed(name)), address))
}

/// An unquoted display name with encoded words, as mail-parser's address parser reads it:
/// the runs joined as in a subject ([`joined_words`]), a word decoded only where a token
/// starts (at the start, after a blank or right after another word). Plain runs with
/// specials or an `@` (which would make mail-parser take them for the address) are left to
/// it.
fn encoded_name(name: &str) -> Option<String> {
    joined_words(name, |run, before_a_word| {
        let starts_token = run.is_empty() || run.bytes().last().is_some_and(is_blank);
        (starts_token || !before_a_word) && !run.bytes().any(|b| is_special(b) || b == b'@')
    })
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Characters with a meaning in an address field (RFC 5322 specials and the comment and
/// quoting ones): a value with any of them is left to mail-parser.
fn is_special(b: u8) -> bool {
    matches!(
        b,
        b'<' | b'>' | b'(' | b')' | b'[' | b']' | b',' | b';' | b':' | b'"' | b'\\'
    )
}

/// `[Dow, ]D Mon YYYY HH:MM:SS +ZZZZ`, the fields as mail-parser's date parser fills them.
fn rfc5322_date(value: &str) -> Option<DateTime> {
    let mut parts = value
        .as_bytes()
        .split(|&b| is_blank(b))
        .filter(|p| !p.is_empty());
    let mut day = parts.next()?;
    if let [a, b, c, b','] = day {
        if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) {
            day = parts.next()?;
        }
    }
    let (month, year, time, zone) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let month = MONTHS
        .iter()
        .position(|m| m.as_bytes().eq_ignore_ascii_case(month))
        .and_then(|i| u8::try_from(i + 1).ok())?;
    // Two-digit years are widened by mail-parser; a four-digit one below 100 would be too.
    let year = digits(year, 4, 4).filter(|&y| y >= 100)?;
    let [h1, h2, b':', m1, m2, b':', s1, s2] = time else {
        return None;
    };
    let (sign, zone) = zone.split_first()?;
    let zone = digits(zone, 4, 4)?;
    Some(DateTime {
        year: u16::try_from(year).ok()?,
        month,
        day: u8::try_from(digits(day, 1, 2)?).ok()?,
        hour: u8::try_from(digits(&[*h1, *h2], 2, 2)?).ok()?,
        minute: u8::try_from(digits(&[*m1, *m2], 2, 2)?).ok()?,
        second: u8::try_from(digits(&[*s1, *s2], 2, 2)?).ok()?,
        tz_before_gmt: match sign {
            b'+' => false,
            b'-' => true,
            _ => return None,
        },
        // mail-parser's reduction of a zone, kept so both read the same instant.
        tz_hour: u8::try_from((zone / 100) % 24).ok()?,
        tz_minute: u8::try_from((zone % 100) % 60).ok()?,
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The number `text` spells if it is `min..=max` ASCII digits.
fn digits(text: &[u8], min: usize, max: usize) -> Option<u32> {
    if !(min..=max).contains(&text.len()) {
        return None;
    }
    text.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// Whether a Content-Type value of the plain shape (`type/subtype`, then nothing or
/// parameters) is multipart/mixed.
fn multipart_mixed(value: &str) -> Option<bool> {
    let value = value.trim_start_matches([' ', '\t']).as_bytes();
    let slash = memchr::memchr(b'/', value)?;
    let (kind, rest) = (value.get(..slash)?, value.get(slash + 1..)?);
    let end = rest
        .iter()
        .position(|&b| b == b';' || is_blank(b))
        .unwrap_or(rest.len());
    let (subtype, parameters) = rest.split_at_checked(end)?;
    let token = |t: &[u8]| {
        !t.is_empty()
            && t.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+' | b'_'))
    };
    if !token(kind) || !token(subtype) {
        return None;
    }
    let parameters = match parameters.iter().position(|&b| !is_blank(b)) {
        Some(start) => parameters.get(start..)?,
        None => &[],
    };
    if !(parameters.is_empty() || parameters.first() == Some(&b';'))
        || !plain_parameters(parameters)
    {
        return None;
    }
    Some(kind.eq_ignore_ascii_case(b"multipart") && subtype.eq_ignore_ascii_case(b"mixed"))
}

/// Parameters without the characters that send mail-parser's Content-Type parser down
/// other paths (continuations `*`, escapes, comments, encoded words). None of them has
/// been seen to change the type it reads; they are left to it all the same.
fn plain_parameters(text: &[u8]) -> bool {
    !text
        .iter()
        .any(|b| matches!(b, b'*' | b'\\' | b'(' | b')' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::read;
    use crate::{list_headers, parsed_list_headers};
    use proptest::prelude::*;

    /// What the scan makes of `block`, checked against mail-parser; whether it read it.
    fn agrees(block: &str) -> Result<bool, TestCaseError> {
        let scanned = read(block).is_some();
        if scanned {
            prop_assert_eq!(
                list_headers(block.as_bytes()),
                parsed_list_headers(block.as_bytes()),
                "block {:?}",
                block
            );
        }
        Ok(scanned)
    }

    #[test]
    fn the_usual_shapes_are_read_by_the_scan_as_mail_parser_reads_them() {
        let usual = [
            // A header sync's rows (the imap bench's shape).
            "From: Sender 12 <sender12@example.org>\r\nSubject: Invoice 7 for November\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            "FROM: ana@example.org\r\nSUBJECT:  Lunch?  \r\nDATE: 2 Nov 2026 23:59:59 -0530\r\n\r\n",
            "From: \"Lima, Ana\" <ana@example.org>\r\nSubject: Re: [list] Photos (3 attached)\r\nDate: Tue, 31 Mar 2026 08:05:09 +0200\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"----=_Part_1\"\r\n\r\n",
            "From: José Núñez <jose@example.org>\nSubject: Ünïcode ✓\nDate: Sun, 01 Jan 2006 00:00:00 +1400\n\n",
            "From: <bare@example.org>\r\nSubject:\r\nContent-Type: Multipart/Mixed; boundary=b\r\n\r\n",
            "From: \"ana@other.example\" <ana@example.org>\r\n\r\n",
            "Subject: only a subject\r\n",
            "\r\n",
            // Encoded words in a subject (the imap bench's fifth row; B, adjacent words,
            // words next to text without a blank).
            "From: Sender 3 <s3@example.org>\r\nSubject: =?UTF-8?Q?R=C3=A9union_du_4?= and agenda\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n",
            "Subject: =?utf-8?b?4pyTIGRvbmU=?=\r\n\r\n",
            "Subject: Re: =?UTF-8?Q?caf=c3=a9?=  =?UTF-8?B?w6k=?=, ok\r\n\r\n",
            "Subject: x=?UTF-8?Q?y?=z\r\n\r\n",
            // And in a sender's name.
            "From: =?UTF-8?Q?Ana_L=C3=ADma?= <ana@example.org>\r\n\r\n",
            "From: Dr. =?UTF-8?Q?Jos=C3=A9?= =?UTF-8?B?IE7DusOxZXo=?= <j@example.org>\r\n\r\n",
        ];
        for block in usual {
            assert!(read(block).is_some(), "not read by the scan: {block:?}");
            assert_eq!(
                list_headers(block.as_bytes()),
                parsed_list_headers(block.as_bytes()),
                "{block:?}"
            );
        }
        let read_as = list_headers(usual[2].as_bytes());
        assert_eq!(read_as.from, "Lima, Ana");
        assert!(read_as.has_attachment);
        assert_eq!(read_as.date, Some(1_774_937_109));
        let subjects: Vec<String> = usual[8..]
            .iter()
            .map(|b| list_headers(b.as_bytes()).subject)
            .collect();
        assert_eq!(
            subjects[..4],
            [
                "Réunion du 4 and agenda",
                "✓ done",
                "Re: caféé , ok",
                "x y z"
            ]
        );
        let senders: Vec<String> = usual[12..]
            .iter()
            .map(|b| list_headers(b.as_bytes()).from)
            .collect();
        assert_eq!(senders, ["Ana Líma", "Dr. José Núñez"]);
    }

    #[test]
    fn other_shapes_are_left_to_mail_parser() {
        for block in [
            "Subject: folded\r\n over two lines\r\n\r\n",
            // Encoded words in a sender outside the plain shape: in quotes, inside a word,
            // next to an @ or a comment, in the address.
            "From: \"=?UTF-8?Q?Ana?=\" <a@example.org>\r\n\r\n",
            "From: Ana=?UTF-8?Q?x?= <a@example.org>\r\n\r\n",
            "From: =?UTF-8?Q?Ana?= ana@x <a@example.org>\r\n\r\n",
            "From: =?UTF-8?Q?Ana?= (c) <a@example.org>\r\n\r\n",
            "From: (c) =?UTF-8?Q?Ana?= <a@example.org>\r\n\r\n",
            "From: Lima, =?UTF-8?Q?Ana?= <a@example.org>\r\n\r\n",
            "From: Ana <a=?UTF-8?Q?x?=@example.org>\r\n\r\n",
            "From: =?ISO-8859-1?Q?Ana?= <a@example.org>\r\n\r\n",
            "From: ana@example.org (Ana)\r\n\r\n",
            "From: \"A \\\"B\\\" C\" <a@example.org>\r\n\r\n",
            "From: \"A\\B\" <a@example.org>\r\n\r\n",
            "From: Ana\r\n Lima <ana@example.org>\r\n\r\n",
            "From: Friends: ana@example.org, bo@example.org;\r\n\r\n",
            "Date: Mon, 02 Nov 2026 10:00:00 GMT\r\n\r\n",
            "Date: Mon, 02 Nov 26 10:00:00 +0000\r\n\r\n",
            "Subject: one\r\nSubject: two\r\n\r\n",
            "Subject: a\u{7}bell\r\n\r\n",
            "Subject: no line end",
            // Encoded words the scan leaves to mail-parser: other charsets, a blank or a
            // question mark in the data, bad escapes or padding, text that is not UTF-8 or
            // holds control characters.
            "Subject: =?ISO-8859-1?Q?caf=E9?=\r\n\r\n",
            "Subject: =?UTF-8*en?Q?x?=\r\n\r\n",
            "Subject: =?UTF-8?Q?a b?=\r\n\r\n",
            "Subject: =?UTF-8?Q?a?b?=\r\n\r\n",
            "Subject: =?UTF-8?Q?=G1?=\r\n\r\n",
            "Subject: =?UTF-8?B?w6?=\r\n\r\n",
            "Subject: =?UTF-8?B?w6k?=\r\n\r\n",
            "Subject: =?UTF-8?Q?=FF?=\r\n\r\n",
            "Subject: =?UTF-8?Q?a=07?=\r\n\r\n",
            "Subject: =?UTF-8?X?a?=\r\n\r\n",
            "Subject: a =? b\r\n\r\n",
        ] {
            assert!(read(block).is_none(), "read by the scan: {block:?}");
        }
    }

    fn field_name() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "From",
            "FROM",
            "from",
            "Subject",
            "subject",
            "Date",
            "DATE",
            "Content-Type",
            "content-TYPE",
            "X-Other",
            "Fr om",
            "Subject ",
            "",
        ])
    }

    fn sender() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "a@b.example",
                " Ana Lima <ana@x.example>",
                "\"Lima, Ana\" <ana@x>",
                "\" Ana \" <a@x>",
                "\"\" <a@x>",
                "<a@x>",
                "<nobody>",
                "Ana  Lima <a@x>",
                "Ana\tLima <a@x>",
                "ana@x (Ana)",
                "=?UTF-8?Q?Ana?= <a@x>",
                "=?UTF-8?Q?Ana_L=C3=ADma?= <ana@x>",
                "=?UTF-8?B?w4lsaWU=?= =?UTF-8?Q?_Dupont?= <e@x>",
                "Dr. =?UTF-8?Q?Jos=C3=A9?= Lima <j@x>",
                "=?UTF-8?Q?Ana?==?UTF-8?Q?Bo?=<a@x>",
                "=?UTF-8?Q?a?=b <a@x>",
                "Ana=?UTF-8?Q?x?= <a@x>",
                "\"=?UTF-8?Q?Ana?=\" <a@x>",
                "=?UTF-8?Q?Ana?= ana@x <a@x>",
                "=?UTF-8?Q?Ana?= (c) <a@x>",
                "=?UTF-8?Q??= <a@x>",
                "=?UTF-8?Q?=40?= <a@x>",
                "=?ISO-8859-1?Q?Ana?= <a@x>",
                "Ana <a=?UTF-8?Q?x?=@x>",
                "=?UTF-8?Q?a@x?=",
                "Group: a@x;",
                "a@x, b@y",
                "\"A\\\"B\" <a@x>",
                "José <j@x>",
                "Ana",
                "Ana <a@x> ",
                "Ana <a b@x>",
                "a@b@c",
                "Ana@home <ana@x>",
                "\"ana@y\" <ana@x>",
                "",
                "  ",
                "Ana <a@x> <b@y>",
                "\"Ana\" Lima <a@x>",
                "Dr. O'Neil <o@x>",
                "\"A\\B\" <a@x>",
                "A\\B <a@x>",
                "\u{202e}Eve <e@x>",
            ])
            .prop_map(String::from),
            "[A-Za-z0-9 .'@<>\"(),:;\\\\-]{0,24}",
        ]
    }

    fn subject() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "Hello",
                "  Hello  world ",
                "Re: [x] y",
                "=?UTF-8?Q?R=C3=A9?= x",
                "a =? b",
                "Tab\there",
                "",
                "Ünïcode ✓",
                "a\u{200e}b",
                "x =?utf-8?b?w6k=?=",
                "=?UTF-8?Q?R=C3=A9union_du_3?= and agenda",
                "=?utf-8?B?4pyT?==?UTF-8?q?_x_?=",
                "=?UTF-8?Q?a?= \t =?UTF-8?Q?b?= c",
                "x=?UTF-8?Q?y?=z",
                "=?UTF-8?Q?a=3F=3d?=",
                "=?UTF-8?B?8J+RqA==?= =?UTF-8?B?YWJj?=",
                "=?UTF-8?B?YQ=?=",
                "=?UTF-8?B?YR==?=",
                "=?UTF-8?Q?=e2=9c=93?= ",
                "=?UTF-8?Q??=",
                "=?UTF-8?B??= x",
                "=?ISO-8859-1?Q?caf=E9?=",
                "=?UTF-8?Q?=0D=0A?=",
            ])
            .prop_map(String::from),
            "[ -~\t]{0,30}",
        ]
    }

    fn date() -> impl Strategy<Value = String> {
        let valid = (
            prop::option::of(prop::sample::select(vec!["Mon", "tue", "XYZ"])),
            0u32..=32,
            prop::sample::select(vec![
                "Jan", "feb", "MAR", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
                "Nox", "June",
            ]),
            prop_oneof![1900u32..=2100, 0u32..=9999],
            (0u32..=25, 0u32..=61, 0u32..=61),
            prop::sample::select(vec!["+", "-", "~"]),
            0u32..=9999,
        )
            .prop_map(|(dow, d, m, y, (hh, mm, ss), sign, zone)| {
                let dow = dow.map(|w| format!("{w}, ")).unwrap_or_default();
                format!("{dow}{d:02} {m} {y:04} {hh:02}:{mm:02}:{ss:02} {sign}{zone:04}")
            });
        prop_oneof![
            valid,
            prop::sample::select(vec![
                "2 Nov 2026 10:00:00 -0530",
                "Mon, 2 Nov 26 10:00:00 +0000",
                "Mon, 02 Nov 2026 10:00 +0000",
                "Mon, 02 Nov 2026 10:00:00 GMT",
                "Mon, 02 Nov 2026 10:00:00 +0000 (UTC)",
                "Mon, 02 Nov 2026 10:00:00 +00",
                "02 Nov 0049 10:00:00 +0000",
                "xx",
                "",
                "Mon,02 Nov 2026 10:00:00 +0000",
                "Mon, 02 Nov 2026 1:00:00 +0000",
                "Mon, 02 Nov 2026 10:00:00:00 +0000",
            ])
            .prop_map(String::from),
        ]
    }

    fn content_type() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "text/plain; charset=utf-8",
            "multipart/mixed; boundary=\"b1\"",
            "Multipart/Mixed",
            "multipart/mixed;\r\n\tboundary=\"x\"",
            "multipart/alternative",
            "multipart / mixed",
            "(c) multipart/mixed",
            "multipart/mixed; name*=utf-8''x",
            "text/plain; name=\"a/b\"",
            "",
            "multipart/mixed (comment)",
            "multipart/mixed;boundary=\"a;b\"",
            "multipart",
            "multipart/mixed; a=b;\r\n c=\"d e\";\r\n\tf=g",
            " multipart/mixed ; x=y",
            "multipart/mixed\r\n ; boundary=z",
            "=?utf-8?q?multipart?=/mixed",
        ])
        .prop_map(String::from)
    }

    fn block() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            (Just("From"), sender()),
            (Just("Subject"), subject()),
            (Just("Date"), date()),
            (Just("Content-Type"), content_type()),
            (field_name(), subject()),
        ];
        (
            prop::collection::vec((line, field_name(), any::<bool>(), any::<bool>()), 0..6),
            prop::sample::select(vec!["\r\n", "\n"]),
            any::<bool>(),
        )
            .prop_map(|(lines, _, ends)| {
                let mut block = String::new();
                for ((name, value), other_name, rename, fold) in lines {
                    let name = if rename { other_name } else { name };
                    let value = if fold {
                        value.replacen(' ', "\r\n ", 1)
                    } else {
                        value
                    };
                    block.push_str(&format!("{name}: {value}\r\n"));
                }
                if ends {
                    block.push_str("\r\n");
                }
                block
            })
            .prop_flat_map(|block| {
                let lf = block.replace("\r\n", "\n");
                prop_oneof![Just(block), Just(lf)]
            })
    }

    /// `block` with one character put in, replaced or taken out at a character position.
    fn mutated() -> impl Strategy<Value = String> {
        (
            block(),
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                ' ', '\t', '"', '<', '>', '(', ')', ',', ':', ';', '@', '=', '?', '\\', '\r', '\n',
                'a', '/', '*', 'é', '\u{0}',
            ]),
            0u8..3,
        )
            .prop_map(|(block, at, c, how)| {
                let mut chars: Vec<char> = block.chars().collect();
                if chars.is_empty() {
                    return c.to_string();
                }
                let i = at.index(chars.len());
                match how {
                    0 => chars.insert(i, c),
                    1 => chars[i] = c,
                    _ => {
                        chars.remove(i);
                    }
                }
                chars.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]

        #[test]
        fn whatever_the_scan_reads_mail_parser_reads_the_same(block in block()) {
            agrees(&block)?;
        }

        #[test]
        fn with_a_character_changed_anywhere_the_scan_agrees_or_declines(block in mutated()) {
            agrees(&block)?;
        }
    }
}
