//! FETCH replies read off the connection by Petrel itself, for the two reads that come by
//! the ten thousand: a header sync's rows and an offline download's bodies.
//!
//! async-imap parses every reply with nom into a freshly zeroed buffer and copies what
//! follows it into another; on a 100k-row sync that was a third of Petrel's CPU, on a
//! machine where Petrel and the server share two cores. Here a reply is read whole into one
//! reused buffer (the stream ends every read at a reply's end: `ImapReplies::take_reply`,
//! so async-imap never holds bytes of a reply read here), and a FETCH of the usual shape —
//! `* n FETCH (UID … FLAGS (…) RFC822.SIZE … INTERNALDATE "…" MODSEQ (…) BODY[…] {n}…)` —
//! is read by a scan of its bytes. Any other reply, and any FETCH this scan does not
//! recognise to the byte, goes to imap-proto, the parser async-imap itself uses: nothing
//! is read differently, only faster.

use crate::raw_command::{closed, goodbye};
use crate::reply_meter::ImapReplies;
use crate::session::{with_timeout, ImapSession};
use crate::sync_folder::{flags_named, Flags};
use crate::ImapError;
use async_imap::imap_proto::{self, AttributeValue, Response, Status};
use std::borrow::Cow;
use tokio::io::AsyncReadExt;

/// What a FETCH reply says that Petrel reads in bulk.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FetchItems<'a> {
    /// The message's sequence number.
    pub position: u32,
    pub uid: Option<u32>,
    pub flags: Option<Flags>,
    pub size: Option<u32>,
    pub internal_date: Option<Cow<'a, str>>,
    /// The data of the (last) BODY[…] section; `None` for none or NIL.
    pub body: Option<Cow<'a, [u8]>>,
}

/// One reply, as read by [`ImapSession::next_reply`].
#[derive(Debug)]
pub(crate) enum Reply<'a> {
    Fetch(FetchItems<'a>),
    Other(Response<'a>),
}

/// Room kept free for the next read: TLS hands over at most a 16 kB record at a time.
const READ_ROOM: usize = 32 * 1024;

impl ImapSession {
    /// Reads the next whole reply into `buf` (emptied first), past async-imap, and parses
    /// it; a BYE is the connection's end, an error. Only between two replies — after a
    /// command is sent, or after a reply async-imap handed over.
    pub(crate) async fn next_reply<'b>(
        &mut self,
        buf: &'b mut Vec<u8>,
    ) -> Result<Reply<'b>, ImapError> {
        read_whole_reply(self.conn.get_mut(), buf).await?;
        let reply = parse_reply(buf)?;
        if let Reply::Other(other) = &reply {
            if let Some(e) = goodbye(other) {
                return Err(e);
            }
        }
        Ok(reply)
    }
}

/// Reads from `stream` until the bytes in `buf` (emptied first) are one whole reply: the
/// stream ends its reads at reply ends, so the first read that leaves its meter between
/// replies ends the reply.
async fn read_whole_reply<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut petrel_tls::Bounded<S, ImapReplies>,
    buf: &mut Vec<u8>,
) -> Result<(), ImapError> {
    buf.clear();
    loop {
        // A literal's length is known from its line: room for all of it at once (it is
        // within the reply ceiling, or the meter has refused it already).
        let wanted = stream.meter().literal_left() + READ_ROOM / 2;
        if buf.capacity() - buf.len() < wanted {
            buf.reserve(wanted.max(READ_ROOM));
        }
        if stream.read_buf(buf).await? == 0 {
            return Err(closed());
        }
        if stream.meter().between_replies() {
            return Ok(());
        }
    }
}

impl ImapSession {
    /// Sends `command` (a FETCH) and reads its replies here until its tagged answer, each
    /// FETCH's items to `each`; other untagged replies are left out, as async-imap's
    /// `fetch` leaves them. `what` names the step in a timeout's words.
    pub(crate) async fn fetch_replies(
        &mut self,
        what: &'static str,
        command: &str,
        mut each: impl FnMut(FetchItems<'_>),
    ) -> Result<(), ImapError> {
        with_timeout(what, async {
            let tag = self.conn.run_command(command).await?;
            let mut buf = Vec::new();
            loop {
                match self.next_reply(&mut buf).await? {
                    Reply::Fetch(items) => each(items),
                    Reply::Other(Response::Done {
                        tag: done,
                        status,
                        information,
                        ..
                    }) if done == tag => {
                        let words = information.as_deref().unwrap_or("").trim().to_string();
                        return match status {
                            Status::Ok => Ok(()),
                            _ => Err(ImapError::Refused(words)),
                        };
                    }
                    Reply::Other(_) => {}
                }
            }
        })
        .await?
    }
}

/// Reads one whole reply (as [`read_whole_reply`] leaves it in its buffer).
pub(crate) fn parse_reply(bytes: &[u8]) -> Result<Reply<'_>, ImapError> {
    if let Some(items) = scan_fetch(bytes) {
        return Ok(Reply::Fetch(items));
    }
    match imap_proto::parser::parse_response(bytes) {
        Ok((_, Response::Fetch(position, attrs))) => Ok(Reply::Fetch(items_of(position, attrs))),
        Ok((_, other)) => Ok(Reply::Other(other)),
        Err(_) => {
            let shown: String = String::from_utf8_lossy(bytes).chars().take(120).collect();
            Err(ImapError::Protocol(format!(
                "a reply Petrel cannot read: {shown}"
            )))
        }
    }
}

/// imap-proto's reading of a FETCH, as the same items.
fn items_of(position: u32, attrs: Vec<AttributeValue<'_>>) -> FetchItems<'_> {
    let mut items = FetchItems {
        position,
        ..FetchItems::default()
    };
    for attr in attrs {
        match attr {
            AttributeValue::Uid(u) => items.uid = Some(u),
            AttributeValue::Flags(names) => items.flags = Some(flags_named(&names)),
            AttributeValue::Rfc822Size(n) => items.size = Some(n),
            AttributeValue::InternalDate(d) => items.internal_date = Some(d),
            AttributeValue::BodySection { data, .. } => items.body = data,
            _ => {}
        }
    }
    items
}

/// The bytes of a reply, read from the front.
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        let found = self.rest().starts_with(word);
        if found {
            self.at += word.len();
        }
        found
    }

    /// Bytes up to (not including) the first that `stop` is true of; `None` if none is.
    fn until(&mut self, stop: impl Fn(u8) -> bool) -> Option<&'a [u8]> {
        let rest = self.rest();
        let n = rest.iter().position(|&b| stop(b))?;
        self.at += n;
        rest.get(..n)
    }

    fn number(&mut self) -> Option<u64> {
        let digits = self.until(|b| !b.is_ascii_digit())?;
        if digits.is_empty() || digits.len() > 19 {
            return None;
        }
        digits.iter().try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
    }

    fn number32(&mut self) -> Option<u32> {
        u32::try_from(self.number()?).ok()
    }

    /// A quoted string of 7-bit text without escapes, not empty (any other is left to
    /// imap-proto).
    fn quoted(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b"\"") {
            return None;
        }
        let inside = self.until(|b| !is_plain_text(b))?;
        (!inside.is_empty() && self.eat(b"\"")).then_some(inside)
    }

    /// NIL, a literal or a quoted string.
    fn nstring(&mut self) -> Option<Option<&'a [u8]>> {
        if self.eat(b"NIL") {
            return Some(None);
        }
        if !self.eat(b"{") {
            return self.quoted().map(Some);
        }
        let n = usize::try_from(self.number()?).ok()?;
        if !self.eat(b"}\r\n") {
            return None;
        }
        let data = self.rest().get(..n)?;
        self.at += n;
        Some(Some(data))
    }
}

/// A byte of a quoted string that needs no escape: 7-bit, no NUL, CR, LF, `"` or `\`.
fn is_plain_text(b: u8) -> bool {
    matches!(b, 0x01..=0x7f) && !b"\r\n\"\\".contains(&b)
}

/// A BODY section Petrel asks for: the whole message, or some header fields.
fn is_asked_section(section: &[u8]) -> bool {
    let Some(names) = section
        .strip_prefix(b"HEADER.FIELDS (")
        .and_then(|s| s.strip_suffix(b")"))
    else {
        return section.is_empty();
    };
    names.split(|&b| b == b' ').all(|name| {
        !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// A flag as servers write it: an atom, or a system flag (`\Seen`).
fn is_flag(name: &[u8]) -> bool {
    let atom = name.strip_prefix(b"\\").unwrap_or(name);
    !atom.is_empty()
        && atom
            .iter()
            .all(|&b| b.is_ascii_graphic() && !b"(){%*\"\\]".contains(&b))
}

/// A FETCH reply of the usual shape, every byte accounted for; `None` for anything else.
fn scan_fetch(bytes: &[u8]) -> Option<FetchItems<'_>> {
    let mut s = Scan { bytes, at: 0 };
    if !s.eat(b"* ") {
        return None;
    }
    let mut items = FetchItems {
        position: s.number32()?,
        ..FetchItems::default()
    };
    if !s.eat(b" FETCH (") {
        return None;
    }
    loop {
        if s.eat(b"UID ") {
            items.uid = Some(s.number32()?);
        } else if s.eat(b"RFC822.SIZE ") {
            items.size = Some(s.number32()?);
        } else if s.eat(b"MODSEQ (") {
            s.number()?;
            if !s.eat(b")") {
                return None;
            }
        } else if s.eat(b"INTERNALDATE ") {
            let date = std::str::from_utf8(s.quoted()?).ok()?;
            items.internal_date = Some(Cow::Borrowed(date));
        } else if s.eat(b"FLAGS (") {
            let (mut seen, mut flagged, mut answered) = (false, false, false);
            while !s.eat(b")") {
                let name = s.until(|b| b == b' ' || b == b')')?;
                if !is_flag(name) {
                    return None;
                }
                seen |= name.eq_ignore_ascii_case(b"\\Seen");
                flagged |= name.eq_ignore_ascii_case(b"\\Flagged");
                answered |= name.eq_ignore_ascii_case(b"\\Answered");
                if s.rest().starts_with(b" )") {
                    return None;
                }
                s.eat(b" ");
            }
            items.flags = Some((seen, flagged, answered));
        } else if s.eat(b"BODY[") {
            let section = s.until(|b| b == b']' || b == b'\r' || b == b'\n' || b == b'"')?;
            if !s.eat(b"]") || !is_asked_section(section) {
                return None;
            }
            if s.eat(b"<") {
                s.number32()?;
                if !s.eat(b">") {
                    return None;
                }
            }
            if !s.eat(b" ") {
                return None;
            }
            items.body = s.nstring()?.map(Cow::Borrowed);
        } else {
            return None;
        }
        if s.eat(b")") {
            break;
        }
        if !s.eat(b" ") {
            return None;
        }
    }
    (s.eat(b"\r\n") && s.at == bytes.len()).then_some(items)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    /// imap-proto's reading of a FETCH reply, or `None` when it reads none.
    fn by_imap_proto(bytes: &[u8]) -> Option<FetchItems<'_>> {
        match imap_proto::parser::parse_response(bytes) {
            Ok(([], Response::Fetch(n, attrs))) => Some(items_of(n, attrs)),
            _ => None,
        }
    }

    #[test]
    fn the_usual_replies_are_scanned_as_imap_proto_reads_them() {
        let replies: [&[u8]; 6] = [
            b"* 12 FETCH (UID 40 FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 BODY[HEADER.FIELDS (FROM SUBJECT)] {22}\r\nSubject: hi\r\nFrom: a\r\n)\r\n",
            b"* 1 FETCH (UID 7 MODSEQ (12345678901) FLAGS () BODY[]<0> {5}\r\n(\r\n)\")\r\n",
            b"* 3 FETCH (FLAGS (\\Answered \\Flagged \\Recent) UID 9)\r\n",
            b"* 4 FETCH (UID 9 BODY[] NIL)\r\n",
            b"* 5 FETCH (UID 9 BODY[] \"short\")\r\n",
            b"* 6 FETCH (UID 9 BODY[] {0}\r\n)\r\n",
        ];
        for reply in replies {
            let scanned = scan_fetch(reply).expect("scanned");
            assert_eq!(Some(&scanned), by_imap_proto(reply).as_ref());
        }
        let first = scan_fetch(replies[0]).unwrap();
        assert_eq!(first.flags, Some((true, false, false)));
        assert_eq!(
            first.body.as_deref(),
            Some(&b"Subject: hi\r\nFrom: a\r\n"[..])
        );
    }

    #[test]
    fn anything_unusual_is_left_to_imap_proto() {
        let unusual: [&[u8]; 8] = [
            b"* 1 fetch (UID 1)\r\n",
            b"* 1 FETCH (UID 1 ENVELOPE NIL)\r\n",
            b"* 1 FETCH (UID 1 BODY[] \"a\\\"b\")\r\n",
            b"* 1 FETCH (UID 1 BINARY[] ~{1}\r\nx)\r\n",
            b"* 1 FETCH (UID 1 FLAGS (\\Seen ))\r\n",
            b"* 1 FETCH (UID 99999999999)\r\n",
            b"* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n",
            b"* 1 FETCH (UID 1  FLAGS ())\r\n",
        ];
        for reply in unusual {
            assert!(
                scan_fetch(reply).is_none(),
                "{}",
                String::from_utf8_lossy(reply)
            );
        }
        // …and read there as before (imap-proto keeps a quoted string's escapes).
        match parse_reply(unusual[2]).unwrap() {
            Reply::Fetch(items) => assert_eq!(Some(items), by_imap_proto(unusual[2])),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_reply(b"A1 OK done\r\n").unwrap(),
            Reply::Other(Response::Done { .. })
        ));
        let e = parse_reply(b"* 1 FETCH (UID\r\n").unwrap_err();
        assert!(matches!(e, ImapError::Protocol(_)), "{e}");
    }

    fn item() -> impl Strategy<Value = Vec<u8>> {
        let flag = prop_oneof![
            Just("\\Seen".to_string()),
            Just("\\Flagged".to_string()),
            Just("\\answered".to_string()),
            Just("\\Recent".to_string()),
            "[A-Za-z$][A-Za-z0-9_.-]{0,8}",
        ];
        prop_oneof![
            any::<u32>().prop_map(|u| format!("UID {u}").into_bytes()),
            any::<u32>().prop_map(|n| format!("RFC822.SIZE {n}").into_bytes()),
            any::<u64>().prop_map(|n| format!("MODSEQ ({})", n >> 1).into_bytes()),
            "[0-9A-Za-z :+-]{1,30}".prop_map(|d| format!("INTERNALDATE \"{d}\"").into_bytes()),
            proptest::collection::vec(flag, 0..4)
                .prop_map(|f| format!("FLAGS ({})", f.join(" ")).into_bytes()),
            (
                "(|HEADER\\.FIELDS \\(FROM DATE\\)|HEADER\\.FIELDS \\(Message-ID\\))",
                proptest::option::of(0u32..100),
                proptest::collection::vec(any::<u8>(), 0..60)
            )
                .prop_map(|(section, origin, data)| {
                    let origin = origin.map(|o| format!("<{o}>")).unwrap_or_default();
                    let mut item =
                        format!("BODY[{section}]{origin} {{{}}}\r\n", data.len()).into_bytes();
                    item.extend_from_slice(&data);
                    item
                }),
            Just(b"BODY[] NIL".to_vec()),
        ]
    }

    fn reply() -> impl Strategy<Value = Vec<u8>> {
        (any::<u32>(), proptest::collection::vec(item(), 1..6)).prop_map(|(n, items)| {
            let mut reply = format!("* {n} FETCH (").into_bytes();
            reply.extend_from_slice(&items.join(&b' '));
            reply.extend_from_slice(b")\r\n");
            reply
        })
    }

    /// What `replies` become when the server's writes cut them at `cuts` (offsets into
    /// their concatenation) and Petrel's reader reads them one by one.
    fn read_back(replies: &[Vec<u8>], cuts: &[usize]) -> Vec<Vec<u8>> {
        let wire: Vec<u8> = replies.concat();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        cuts.push(wire.len());
        cuts.sort_unstable();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, mut server) = tokio::io::duplex(1 << 16);
            let writer = tokio::spawn(async move {
                let mut from = 0;
                for cut in cuts {
                    tokio::io::AsyncWriteExt::write_all(&mut server, &wire[from..cut])
                        .await
                        .unwrap();
                    tokio::io::AsyncWriteExt::flush(&mut server).await.unwrap();
                    tokio::task::yield_now().await;
                    from = cut;
                }
            });
            let mut stream =
                petrel_tls::Bounded::new(client, ImapReplies::new(crate::MAX_RESPONSE_BYTES));
            let mut read = Vec::new();
            let mut buf = Vec::new();
            for _ in replies {
                read_whole_reply(&mut stream, &mut buf).await.unwrap();
                read.push(buf.clone());
            }
            writer.await.unwrap();
            read
        })
    }

    #[test]
    fn a_read_stops_at_the_end_of_a_reply_sent_with_others() {
        let replies = vec![
            b"* 1 FETCH (UID 1 BODY[] {12}\r\nline\r\n{3}\r\n)\r\n".to_vec(),
            b"* 2 EXISTS\r\n".to_vec(),
            b"A1 OK done\r\n".to_vec(),
        ];
        assert_eq!(read_back(&replies, &[]), replies, "all in one write");
        assert_eq!(
            read_back(&replies, &[3, 22, 23, 40]),
            replies,
            "cut inside literals"
        );
    }

    proptest! {
        #![proptest_config(petrel_core::fuzz::config())]

        /// Replies cut anywhere by the network come out of the reader whole, one by one.
        #[test]
        fn replies_cut_anywhere_are_read_whole_one_by_one(
            replies in proptest::collection::vec(
                prop_oneof![reply(), Just(b"A7 OK fetched\r\n".to_vec()), Just(b"* 3 EXPUNGE\r\n".to_vec())],
                1..8,
            ),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            prop_assert_eq!(read_back(&replies, &cuts), replies);
        }

        /// Whatever the scan reads, imap-proto reads the same.
        #[test]
        fn scanned_replies_read_as_imap_proto_reads_them(reply in reply()) {
            let scanned = scan_fetch(&reply);
            prop_assert!(scanned.is_some(), "{}", String::from_utf8_lossy(&reply));
            prop_assert_eq!(scanned, by_imap_proto(&reply));
        }

        /// The same with a byte changed, cut or added anywhere: the scan either reads what
        /// imap-proto reads or leaves the reply to it.
        #[test]
        fn changed_replies_are_scanned_right_or_not_at_all(
            reply in reply(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            how in 0..3u8,
        ) {
            let mut changed = reply.clone();
            let i = at.index(changed.len());
            match how {
                0 => changed[i] = byte,
                1 => changed.truncate(i),
                _ => changed.insert(i, byte),
            }
            if let Some(scanned) = scan_fetch(&changed) {
                prop_assert_eq!(Some(scanned), by_imap_proto(&changed),
                    "{}", String::from_utf8_lossy(&changed));
            }
        }
    }
}
