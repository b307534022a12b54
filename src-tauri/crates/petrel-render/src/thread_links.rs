//! Message-ID, In-Reply-To and References, read from a fetched header block for threading.
//!
//! Parsed by hand rather than with the full header parser: only `<…>` tokens matter, the
//! fields can be long (References grows with every reply) and a hostile server may send
//! anything, so every token and the list are capped.

use petrel_core::ThreadLinks;

/// The header fields threading needs (for `BODY.PEEK[HEADER.FIELDS (…)]`).
pub const THREAD_HEADER_FIELDS: &str = "MESSAGE-ID IN-REPLY-TO REFERENCES";

/// Longest ID kept (RFC 5322 lines are ≤ 998 octets; real IDs are far shorter).
const MAX_ID: usize = 250;
/// Nearest ancestors kept: enough to find one present in the folder.
const MAX_PARENTS: usize = 30;

pub fn thread_links(header_block: &[u8]) -> ThreadLinks {
    let text = String::from_utf8_lossy(header_block);
    let (mut message_id, mut references, mut in_reply_to) = (None, Vec::new(), Vec::new());
    for (name, value) in unfolded_fields(&text) {
        if name.eq_ignore_ascii_case("message-id") {
            message_id = message_id.or_else(|| ids(&value).into_iter().next());
        } else if name.eq_ignore_ascii_case("references") {
            references = ids(&value);
        } else if name.eq_ignore_ascii_case("in-reply-to") {
            in_reply_to = ids(&value);
        }
    }
    // References lists the whole chain; In-Reply-To names the direct parent, which belongs
    // last when References is missing or does not end with it.
    let mut parents = references;
    if let Some(direct) = in_reply_to.into_iter().next() {
        if parents.last() != Some(&direct) {
            parents.retain(|p| p != &direct);
            parents.push(direct);
        }
    }
    if let Some(own) = &message_id {
        parents.retain(|p| p != own);
    }
    if parents.len() > MAX_PARENTS {
        parents.drain(..parents.len() - MAX_PARENTS);
    }
    ThreadLinks {
        message_id,
        parents,
    }
}

/// (name, value) of each field, continuation lines joined.
fn unfolded_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// The `<…>` tokens of a field, without brackets; a bare ID when there are none.
fn ids(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let id = after[..close].trim();
        if !id.is_empty() && id.len() <= MAX_ID && !id.contains(char::is_whitespace) {
            out.push(id.to_string());
        }
        rest = &after[close + 1..];
    }
    if out.is_empty() {
        let bare = value.trim();
        if !bare.is_empty()
            && bare.len() <= MAX_ID
            && bare.contains('@')
            && !bare.contains(char::is_whitespace)
        {
            out.push(bare.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_from_folded_fields() {
        let block =
            b"Message-ID: <c@x>\r\nReferences: <a@x>\r\n <b@x>\r\nIn-Reply-To: <b@x>\r\n\r\n";
        let links = thread_links(block);
        assert_eq!(links.message_id.as_deref(), Some("c@x"));
        assert_eq!(links.parents, vec!["a@x", "b@x"]);
    }

    #[test]
    fn in_reply_to_alone_or_disagreeing_becomes_the_direct_parent() {
        let links = thread_links(b"In-Reply-To: <p@x> (sent by Ana)\r\n");
        assert_eq!(links.parents, vec!["p@x"]);
        let links = thread_links(b"References: <a@x> <p@x>\r\nIn-Reply-To: <a@x>\r\n");
        assert_eq!(links.parents, vec!["p@x", "a@x"]);
    }

    #[test]
    fn hostile_values_are_bounded() {
        let mut refs = String::from("Message-ID: <self@x>\r\nReferences:");
        for i in 0..10_000 {
            refs.push_str(&format!(" <r{i}@x>"));
        }
        refs.push_str(" <self@x> <");
        refs.push_str(&"a".repeat(5000));
        refs.push_str(">\r\n");
        let links = thread_links(refs.as_bytes());
        assert_eq!(links.parents.len(), MAX_PARENTS);
        assert_eq!(links.parents.last().map(String::as_str), Some("r9999@x"));
        assert!(thread_links(b"\xff\xfe: <\r\n").message_id.is_none());
        assert_eq!(thread_links(b"").parents.len(), 0);
    }
}
