//! A ceiling on what one server reply may hold (security review L13).
//!
//! The protocol libraries buffer a reply whole before handing it over — async-imap up to
//! 512 MiB per response on each connection, lettre an SMTP line with no cap at all — so a
//! server that never ends a line or a literal could take that much memory, or all of it,
//! before a timeout. The stream under them measures each reply with the protocol's
//! [`ReplyMeter`] and fails the read once the reply passes the meter's ceiling: a hostile
//! server then costs at most the ceiling, and the session ends with words that say why.

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Knows where one reply of a protocol ends, and how large one may be.
pub trait ReplyMeter {
    /// Takes the next bytes read from the server; `Err(why)` once the reply being read is
    /// larger than the protocol allows.
    fn feed(&mut self, bytes: &[u8]) -> Result<(), String>;

    /// Takes the next bytes up to the end of the first reply among them and returns how
    /// many it took (at least one of a non-empty `bytes`); the rest wait for a later read.
    /// A meter that overrides this makes every read of [`Bounded`] end at most at a reply's
    /// end, so a reader that parses replies as they come never holds bytes of the next one
    /// (and another reader can take over the stream between two replies). By default all
    /// bytes are taken.
    fn take_reply(&mut self, bytes: &[u8]) -> Result<usize, String> {
        self.feed(bytes)?;
        Ok(bytes.len())
    }
}

/// The error a read fails with past the ceiling (inside an `io::Error` of kind
/// `InvalidData`; find it with [`ReplyTooLarge::of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTooLarge(pub String);

impl std::fmt::Display for ReplyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReplyTooLarge {}

impl ReplyTooLarge {
    /// The ceiling's words, when `e` (or an error it wraps) is a reply over the ceiling.
    pub fn of<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a ReplyTooLarge> {
        let mut next = Some(e);
        while let Some(e) = next {
            if let Some(found) = e.downcast_ref::<ReplyTooLarge>() {
                return Some(found);
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if let Some(found) = io.get_ref().and_then(|i| i.downcast_ref::<ReplyTooLarge>()) {
                    return Some(found);
                }
            }
            next = e.source();
        }
        None
    }
}

/// A stream whose reads are measured by `M`; writes pass through untouched.
#[derive(Debug)]
pub struct Bounded<S, M> {
    inner: S,
    meter: M,
    /// Set once the ceiling was passed: every later read fails the same way.
    over: Option<String>,
    /// Bytes read from `inner` past the end of a reply (see [`ReplyMeter::take_reply`]),
    /// handed on by the next reads from `ahead_from` on.
    ahead: Vec<u8>,
    ahead_from: usize,
}

impl<S, M> Bounded<S, M> {
    pub fn new(inner: S, meter: M) -> Self {
        Bounded {
            inner,
            meter,
            over: None,
            ahead: Vec::new(),
            ahead_from: 0,
        }
    }

    /// The meter, to ask where in a reply the reads so far ended.
    pub fn meter(&self) -> &M {
        &self.meter
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

fn too_large(why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        ReplyTooLarge(why.to_string()),
    )
}

impl<S, M: ReplyMeter> Bounded<S, M> {
    /// Runs the meter over `bytes`; `Err` once past the ceiling (from then on, for good).
    fn take(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self.meter.take_reply(bytes) {
            // A meter must take something of what it is given, or reads would stall.
            Ok(took) => Ok(took.clamp(usize::from(!bytes.is_empty()), bytes.len())),
            Err(why) => {
                let error = too_large(&why);
                self.over = Some(why);
                Err(error)
            }
        }
    }
}

impl<S: AsyncRead + Unpin, M: ReplyMeter + Unpin> AsyncRead for Bounded<S, M> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Some(why) = &this.over {
            return Poll::Ready(Err(too_large(why)));
        }
        if this.ahead_from < this.ahead.len() {
            let ahead = std::mem::take(&mut this.ahead);
            let n = buf.remaining().min(ahead.len() - this.ahead_from);
            let chunk = &ahead[this.ahead_from..this.ahead_from + n];
            let took = this.take(chunk);
            if let Ok(took) = took {
                buf.put_slice(&chunk[..took]);
                this.ahead_from += took;
            }
            this.ahead = ahead;
            if this.ahead_from == this.ahead.len() {
                this.ahead.clear();
                this.ahead_from = 0;
            }
            return Poll::Ready(took.map(|_| ()));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read {
            let fresh = &buf.filled()[before..];
            match this.take(fresh) {
                Ok(took) if took < fresh.len() => {
                    this.ahead.extend_from_slice(&fresh[took..]);
                    buf.set_filled(before + took);
                }
                Ok(_) => {}
                Err(error) => {
                    // The bytes of this read are not handed on: the reply is refused whole.
                    buf.set_filled(before);
                    return Poll::Ready(Err(error));
                }
            }
        }
        read
    }
}

impl<S: AsyncWrite + Unpin, M: Unpin> AsyncWrite for Bounded<S, M> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A size in the words a person reads ("64 MiB", "4 KiB").
pub fn size_words(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Lines of at most 8 bytes.
    struct Lines(usize);
    impl ReplyMeter for Lines {
        fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
            for &b in bytes {
                self.0 = if b == b'\n' { 0 } else { self.0 + 1 };
                if self.0 > 8 {
                    return Err("a line longer than 8 bytes".into());
                }
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn reads_pass_until_the_meter_refuses_and_fail_from_then_on() {
        let (mut server, client) = tokio::io::duplex(64);
        let mut bounded = Bounded::new(client, Lines(0));
        tokio::io::AsyncWriteExt::write_all(&mut server, b"short\n")
            .await
            .unwrap();
        let mut buf = [0u8; 6];
        bounded.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"short\n");
        tokio::io::AsyncWriteExt::write_all(&mut server, b"far too long a line")
            .await
            .unwrap();
        let e = bounded.read(&mut [0u8; 64]).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(
            ReplyTooLarge::of(&e).map(|r| r.0.as_str()),
            Some("a line longer than 8 bytes")
        );
        // No later read gets through, even of a good line.
        tokio::io::AsyncWriteExt::write_all(&mut server, b"ok\n")
            .await
            .unwrap();
        assert!(bounded.read(&mut [0u8; 64]).await.is_err());
        assert_eq!(size_words(65 << 20), "65 MiB");
        assert_eq!(size_words(4096), "4 KiB");
    }

    /// `Lines`, each read ending at a line's end.
    struct SplitLines(Lines);
    impl ReplyMeter for SplitLines {
        fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
            self.0.feed(bytes)
        }
        fn take_reply(&mut self, bytes: &[u8]) -> Result<usize, String> {
            let end = bytes
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| i + 1);
            self.0.feed(&bytes[..end])?;
            Ok(end)
        }
    }

    #[tokio::test]
    async fn a_splitting_meter_ends_every_read_at_a_reply_and_loses_nothing() {
        let (mut server, client) = tokio::io::duplex(256);
        let mut bounded = Bounded::new(client, SplitLines(Lines(0)));
        tokio::io::AsyncWriteExt::write_all(&mut server, b"a\nbb\nccc\ndd")
            .await
            .unwrap();
        let mut reads = Vec::new();
        for _ in 0..4 {
            let mut buf = [0u8; 64];
            let n = bounded.read(&mut buf).await.unwrap();
            reads.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
        assert_eq!(reads, ["a\n", "bb\n", "ccc\n", "dd"]);
        // A small buffer takes what fits of a reply held back, the rest comes next.
        tokio::io::AsyncWriteExt::write_all(&mut server, b"\nxyz\nw\n")
            .await
            .unwrap();
        assert_eq!(bounded.read(&mut [0u8; 64]).await.unwrap(), 1, "dd's end");
        let mut two = [0u8; 2];
        assert_eq!(bounded.read(&mut two).await.unwrap(), 2);
        assert_eq!(&two, b"xy");
        let mut rest = [0u8; 64];
        let n = bounded.read(&mut rest).await.unwrap();
        assert_eq!(&rest[..n], b"z\n");
        let n = bounded.read(&mut rest).await.unwrap();
        assert_eq!(&rest[..n], b"w\n");
        // A reply held back is still measured: past the ceiling it fails as one read would.
        tokio::io::AsyncWriteExt::write_all(&mut server, b"ok\nfar too long a line\n")
            .await
            .unwrap();
        assert_eq!(bounded.read(&mut rest).await.unwrap(), 3);
        assert!(bounded.read(&mut rest).await.is_err());
        assert!(bounded.read(&mut rest).await.is_err(), "and stays failed");
    }
}
