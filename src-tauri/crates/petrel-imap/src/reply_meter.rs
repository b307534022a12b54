//! Where one IMAP response ends, for the ceiling on its size (`petrel_tls::Bounded`).
//!
//! A response is lines joined by literals (RFC 3501 §4.3): a line that ends in `{N}` (or
//! `~{N}`, RFC 3516) is followed by N raw bytes and then the rest of the same response.
//! The meter follows that much of the grammar — the last bytes of the line, the literal's
//! length — and nothing else, so it costs a scan for line ends.

use crate::fetch_message::MAX_MESSAGE_BYTES;
use petrel_tls::{size_words, ReplyMeter};

/// The largest response Petrel accepts: one message body at its limit (bodies are asked
/// for with `BODY.PEEK[]<0.MAX_MESSAGE_BYTES>`, so no real response is larger), plus room
/// for the rest of its FETCH line.
pub const MAX_RESPONSE_BYTES: usize = MAX_MESSAGE_BYTES + (1 << 20);

/// The tail of a line kept to read a literal's length: `~{` + 20 digits + `}\r`.
const TAIL: usize = 24;

#[derive(Debug)]
pub(crate) struct ImapReplies {
    limit: usize,
    /// Bytes of the response being read so far.
    used: usize,
    /// Bytes of the current literal still to come.
    literal_left: usize,
    /// The last bytes of the current line.
    tail: Vec<u8>,
}

impl ImapReplies {
    pub(crate) fn new(limit: usize) -> Self {
        ImapReplies {
            limit,
            used: 0,
            literal_left: 0,
            tail: Vec::with_capacity(TAIL * 2),
        }
    }

    fn over(&self) -> String {
        format!(
            "the server sent a reply larger than {}, more than any message Petrel opens; it stopped reading",
            size_words(self.limit)
        )
    }

    fn count(&mut self, n: usize) -> Result<(), String> {
        self.used = self.used.saturating_add(n);
        if self.used > self.limit {
            return Err(self.over());
        }
        Ok(())
    }

    fn keep_tail(&mut self, bytes: &[u8]) {
        let from = bytes.len().saturating_sub(TAIL);
        self.tail.extend_from_slice(&bytes[from..]);
        if self.tail.len() > TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
    }
}

/// The length of the literal a line announces (the line's last bytes, without its LF).
fn literal_length(line_end: &[u8]) -> Option<usize> {
    let line_end = line_end.strip_suffix(b"\r").unwrap_or(line_end);
    let inside = line_end.strip_suffix(b"}")?;
    let open = inside.iter().rposition(|&b| b == b'{')?;
    let digits = &inside[open + 1..];
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Digits only, so this reads as a number; one too large for memory saturates.
    Some(digits.iter().fold(0usize, |n, d| {
        n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
    }))
}

impl ImapReplies {
    /// The reads so far ended where a response ends (or nothing was read yet): the next
    /// byte starts a response.
    pub(crate) fn between_replies(&self) -> bool {
        self.used == 0 && self.literal_left == 0 && self.tail.is_empty()
    }

    /// Bytes of the literal being read still to come (0 outside one): room a reader can
    /// make at once instead of growing its buffer as they come.
    pub(crate) fn literal_left(&self) -> usize {
        self.literal_left
    }
}

impl ReplyMeter for ImapReplies {
    fn feed(&mut self, mut bytes: &[u8]) -> Result<(), String> {
        while !bytes.is_empty() {
            let took = self.take_reply(bytes)?;
            bytes = &bytes[took..];
        }
        Ok(())
    }

    /// Every read ends at most where a response ends: async-imap then never holds bytes
    /// of the next response when it hands one over, so `read_fetches.rs` can read the
    /// stream itself between two responses.
    fn take_reply(&mut self, bytes: &[u8]) -> Result<usize, String> {
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            if self.literal_left > 0 {
                let n = self.literal_left.min(rest.len());
                self.count(n)?;
                self.literal_left -= n;
                at += n;
                continue;
            }
            match memchr::memchr(b'\n', rest) {
                None => {
                    self.count(rest.len())?;
                    self.keep_tail(rest);
                    return Ok(bytes.len());
                }
                Some(end) => {
                    self.count(end + 1)?;
                    self.keep_tail(&rest[..end]);
                    at += end + 1;
                    let literal = literal_length(&self.tail);
                    self.tail.clear();
                    match literal {
                        Some(n) => {
                            // Refused on the claim: no need to wait for the bytes.
                            if self.used.saturating_add(n) > self.limit {
                                return Err(self.over());
                            }
                            self.literal_left = n;
                        }
                        // The response is complete.
                        None => {
                            self.used = 0;
                            return Ok(at);
                        }
                    }
                }
            }
        }
        Ok(bytes.len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn feed_all(meter: &mut ImapReplies, chunks: &[&[u8]]) -> Result<(), String> {
        chunks.iter().try_for_each(|c| meter.feed(c))
    }

    #[test]
    fn responses_are_measured_one_by_one_literals_included() {
        let mut m = ImapReplies::new(40);
        // Each response is under 40 bytes, together far more.
        for _ in 0..100 {
            feed_all(&mut m, &[b"* 1 FETCH (UID 1 FLAGS ())\r\n"]).unwrap();
        }
        // A literal split across reads, its length split too: still one response.
        feed_all(
            &mut m,
            &[b"* 1 FETCH (BODY[] {1", b"2}\r", b"\nabcdefghijkl)\r\n"],
        )
        .unwrap();
        assert_eq!(m.used, 0, "the response ended");
        // The same with a 30-byte literal is over 40 in all.
        let e = feed_all(&mut m, &[b"* 1 FETCH (BODY[] {30}\r\n", &[b'a'; 30]]).unwrap_err();
        assert!(e.contains("larger than 1 KiB"), "{e}");
    }

    #[test]
    fn a_reply_is_taken_up_to_its_end_literals_included() {
        let mut m = ImapReplies::new(1 << 20);
        assert!(m.between_replies());
        let two = b"* 1 FETCH (BODY[] {5}\r\na\nb\nc)\r\n* 2 EXISTS\r\n";
        let first = m.take_reply(two).unwrap();
        assert_eq!(&two[..first], b"* 1 FETCH (BODY[] {5}\r\na\nb\nc)\r\n");
        assert!(m.between_replies());
        // Cut inside the literal: not between replies until its line ends.
        assert_eq!(m.take_reply(b"* 3 FETCH (BODY[] {2}\r\n\n").unwrap(), 24);
        assert!(!m.between_replies());
        assert_eq!(m.take_reply(b"\n)").unwrap(), 2);
        assert!(!m.between_replies());
        assert_eq!(m.take_reply(b"\r\nA1 OK\r\n").unwrap(), 2);
        assert!(m.between_replies());
    }

    #[test]
    fn a_line_that_never_ends_is_cut_at_the_ceiling() {
        let mut m = ImapReplies::new(1000);
        let chunk = [b'a'; 100];
        let fed = (0..20).take_while(|_| m.feed(&chunk).is_ok()).count();
        assert_eq!(fed, 10);
    }

    #[test]
    fn a_literal_claim_past_the_ceiling_is_refused_before_its_bytes() {
        let mut m = ImapReplies::new(MAX_RESPONSE_BYTES);
        assert!(m.feed(b"* 1 FETCH (BODY[] {4000000000}\r\n").is_err());
        let mut m = ImapReplies::new(MAX_RESPONSE_BYTES);
        assert!(m
            .feed(b"* 1 FETCH (BINARY[] ~{99999999999999999999}\r\n")
            .is_err());
        // Braces that are not a literal's end the response as usual.
        let mut m = ImapReplies::new(64);
        m.feed(b"* OK [ALERT] {not a literal}\r\n").unwrap();
        m.feed(b"* OK {12} but more after\r\n").unwrap();
        assert_eq!(m.used, 0);
    }

    #[test]
    fn literal_length_reads_only_a_line_end() {
        assert_eq!(literal_length(b"BODY[] {42}\r"), Some(42));
        assert_eq!(literal_length(b"~{7}"), Some(7));
        assert_eq!(literal_length(b"{}\r"), None);
        assert_eq!(literal_length(b"{4a}\r"), None);
        assert_eq!(literal_length(b"x}\r"), None);
    }
}
