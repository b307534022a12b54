//! Where mail-parser's charset decoding is known to go wrong, the text is decoded again
//! from the part's own bytes:
//! - UTF-7 (RFC 2152): a shift ended by a character other than `-` ("+AOE, ") loses that
//!   character in mail-parser 0.11.9; here it is kept, as the RFC says.
//! - A `us-ascii` label (or none) on 8-bit bytes is a lie by definition; when the bytes
//!   are valid UTF-8 (what the sender's software almost always wrote) they are read so,
//!   rather than as windows-1252 mojibake ("GrÃ¼ÃŸe").

use mail_parser::{Encoding, Message, MimeHeaders};

/// The text of part `id`, when it has to be decoded differently (see the module notes).
pub(crate) fn corrected_text(msg: &Message<'_>, raw: &[u8], id: u32) -> Option<String> {
    let part = msg.parts.get(id as usize)?;
    let label = part
        .content_type()
        .and_then(|c| c.attribute("charset"))
        .map(|c| c.trim().to_ascii_lowercase());
    let utf7 = matches!(
        label.as_deref(),
        Some("utf-7" | "unicode-1-1-utf-7" | "csunicode11utf7")
    );
    let ascii = matches!(
        label.as_deref(),
        None | Some("us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "us")
    );
    if !utf7 && !ascii {
        return None;
    }
    let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    let bytes = match part.encoding {
        Encoding::None => body.to_vec(),
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body)?,
        Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)?
        }
    };
    if utf7 {
        return Some(decode_utf7(&bytes));
    }
    (!bytes.is_ascii())
        .then(|| std::str::from_utf8(&bytes).ok().map(str::to_string))
        .flatten()
}

/// The value of a base64 symbol (`A`–`Z`, `a`–`z`, `0`–`9`, `+`, `/`); `None` for any other byte.
pub(crate) fn base64_value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// UTF-7 (RFC 2152): `+` starts modified base64 of UTF-16BE, ended by any non-base64
/// character (a `-` is absorbed, anything else is itself); `+-` is a plain `+`.
pub fn decode_utf7(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c != b'+' {
            out.push(if c.is_ascii() { c as char } else { '\u{FFFD}' });
            i += 1;
            continue;
        }
        i += 1;
        if bytes.get(i) == Some(&b'-') {
            out.push('+');
            i += 1;
            continue;
        }
        let (mut bits, mut nbits, mut units) = (0u32, 0u32, Vec::new());
        while let Some(v) = bytes.get(i).copied().and_then(base64_value) {
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push(((bits >> nbits) & 0xFFFF) as u16);
            }
            bits &= (1 << nbits) - 1;
            i += 1;
        }
        out.extend(char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')));
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decode_utf7;

    #[test]
    fn utf7_as_rfc_2152_writes_it() {
        assert_eq!(decode_utf7(b"Hi Mom -+Jjo--!"), "Hi Mom -\u{263A}-!");
        assert_eq!(decode_utf7(b"+ZeVnLIqe-"), "日本語");
        assert_eq!(decode_utf7(b"Ol+AOE, +ThZ1TA."), "Olá, 世界.");
        assert_eq!(decode_utf7(b"A+ImIDkQ."), "A\u{2262}\u{391}.");
        assert_eq!(decode_utf7(b"1 +- 1"), "1 + 1");
        // Broken input reads as something, never a panic.
        for bad in [&b"+"[..], b"+\xff", b"+2D3", b"\xc3\xa9+-+"] {
            let _ = decode_utf7(bad);
        }
    }
}
