//! The one door through which mail bytes reach the MIME parser. mail-parser 0.11.9 trips a
//! `debug_assert!` on some hostile structures ("Invalid part ID, could not find
//! multipart": parts under a one-character boundary, found by the property tests in
//! `tests/hostile_input.rs`) — a panic in debug builds and tests, silently skipped in
//! release. Mail from the network must never panic Petrel in any build, and a later
//! version may turn it into a real panic, so a parse that panics is a message that could
//! not be parsed.

use mail_parser::{Message, MessageParser};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The whole message, or `None` when it cannot be parsed.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    catch_unwind(AssertUnwindSafe(|| MessageParser::new().parse(raw))).unwrap_or_else(|_| {
        tracing_note(raw.len());
        None
    })
}

/// Only the header block, or `None` when it cannot be parsed.
pub fn parse_headers(raw: &[u8]) -> Option<Message<'_>> {
    catch_unwind(AssertUnwindSafe(|| MessageParser::new().parse_headers(raw))).unwrap_or_else(
        |_| {
            tracing_note(raw.len());
            None
        },
    )
}

fn tracing_note(len: usize) {
    // No message content in the log: only that one was unreadable.
    eprintln!("petrel: a message of {len} bytes could not be parsed (parser panic caught)");
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_structure_that_panicked_the_parser_is_just_unreadable() {
        let raw = b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"=\"\n\n--=\nContent-Type: message/rfc822; charset=utf-8; name=\"\"\nContent-Transfer-Encoding: 7bit\nContent-Disposition: attachment; filename*=utf-8''\nContent-ID: <>\n\n\x00\n--=\nContent-Type: message/rfc822; charset=utf-8; name=\"\"\nContent-Transfer-Encoding: 7bit\nContent-Disposition: attachment; filename*=utf-8''\nContent-ID: <>\n\n\x00\n--=\nContent-Type: text/plain; charset=utf-8; name=\"\"\nContent-Transfer-Encoding: 7bit\nContent-Disposition: attachment; filename*=utf-8''\nContent-ID: <>\n\n\n--=--\n";
        let _ = super::parse(raw);
        let view = crate::message_view(1, raw);
        assert!(view.attachments.len() <= 3);
    }
}
