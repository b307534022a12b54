//! Lines on the wire: bounded reads (a hostile server can send an endless line), status
//! replies, and multi-line data with dot-unstuffing (RFC 1939 §3).

use crate::Pop3Error;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// Longest status line accepted (RFC 1939 allows 512 octets; some servers send more).
pub(crate) const MAX_STATUS_LINE: usize = 4 * 1024;
/// Longest line inside a message (RFC 5322 says 998; broken mail is longer, not this long).
pub(crate) const MAX_DATA_LINE: usize = 1024 * 1024;
/// Longest multi-line reply kept for listings (UIDL/LIST of a very large mailbox).
pub(crate) const MAX_LISTING: usize = 64 * 1024 * 1024;
/// Most time one read may wait for the server.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct Wire<S> {
    pub(crate) io: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    pub(crate) fn new(stream: S) -> Self {
        Wire {
            io: BufReader::with_capacity(64 * 1024, stream),
        }
    }

    pub(crate) async fn send(&mut self, line: &str) -> Result<(), Pop3Error> {
        let io = self.io.get_mut();
        timed("sending a command", io.write_all(line.as_bytes())).await??;
        timed("sending a command", io.flush()).await??;
        Ok(())
    }

    /// Sends several commands in one write (RFC 2449 PIPELINING).
    pub(crate) async fn send_many(&mut self, lines: &[String]) -> Result<(), Pop3Error> {
        let joined: String = lines.concat();
        self.send(&joined).await
    }

    /// One line, without its line ending; over `max` bytes is a protocol error.
    pub(crate) async fn line(&mut self, max: usize, out: &mut Vec<u8>) -> Result<(), Pop3Error> {
        out.clear();
        loop {
            // Only an empty buffer waits on the server (with the timeout): a line already
            // read in needs no timer, and a message is hundreds of lines per 64 kB read.
            if self.io.buffer().is_empty() {
                timed("waiting for the server", self.io.fill_buf()).await??;
            }
            let buf = self.io.buffer();
            if buf.is_empty() {
                return Err(Pop3Error::ConnectionLost(
                    "the server closed the connection".into(),
                ));
            }
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            if out.len() + chunk.len() > max + 2 {
                return Err(Pop3Error::Protocol(format!(
                    "a line longer than {max} bytes"
                )));
            }
            out.extend_from_slice(chunk);
            let used = chunk.len();
            self.io.consume(used);
            if done {
                while out.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
                    out.pop();
                }
                return Ok(());
            }
        }
    }

    /// A status reply: `Ok(text)` for `+OK text`, `Refused` for `-ERR text`.
    pub(crate) async fn status(&mut self) -> Result<String, Pop3Error> {
        let mut line = Vec::new();
        self.line(MAX_STATUS_LINE, &mut line).await?;
        parse_status(&line)
    }

    /// The lines of a multi-line reply after its status, dot-unstuffed, each ending in
    /// CRLF, up to `max` bytes in all.
    pub(crate) async fn data(&mut self, max: usize) -> Result<Vec<u8>, Pop3Error> {
        let mut out = Vec::new();
        // A line cut by the end of the buffer, completed by the next read.
        let mut split = Vec::new();
        loop {
            if self.io.buffer().is_empty() {
                timed("waiting for the server", self.io.fill_buf()).await??;
            }
            let buf = self.io.buffer();
            if buf.is_empty() {
                return Err(Pop3Error::ConnectionLost(
                    "the server closed the connection".into(),
                ));
            }
            // Every whole line in the buffer in one pass: a message is hundreds of lines
            // per read, and a pass per line cost a third of the download's reading time.
            let mut used = 0;
            while let Some(i) = memchr::memchr(b'\n', &buf[used..]) {
                let chunk = &buf[used..=used + i];
                used += i + 1;
                let line = if split.is_empty() {
                    chunk
                } else {
                    split.extend_from_slice(chunk);
                    split.as_slice()
                };
                if line.len() > MAX_DATA_LINE + 2 {
                    return Err(Pop3Error::Protocol(format!(
                        "a line longer than {MAX_DATA_LINE} bytes"
                    )));
                }
                let end = line
                    .iter()
                    .rposition(|&b| b != b'\n' && b != b'\r')
                    .map_or(0, |p| p + 1);
                let line = &line[..end];
                if line == b"." {
                    self.io.consume(used);
                    return Ok(out);
                }
                let body = line.strip_prefix(b".").unwrap_or(line);
                if out.len() + body.len() + 2 > max {
                    return Err(Pop3Error::Protocol(format!(
                        "a reply larger than {} MB",
                        max / (1024 * 1024)
                    )));
                }
                out.extend_from_slice(body);
                out.extend_from_slice(b"\r\n");
                split.clear();
            }
            let rest = &buf[used..];
            if split.len() + rest.len() > MAX_DATA_LINE + 2 {
                return Err(Pop3Error::Protocol(format!(
                    "a line longer than {MAX_DATA_LINE} bytes"
                )));
            }
            split.extend_from_slice(rest);
            let all = buf.len();
            self.io.consume(all);
        }
    }
}

pub(crate) fn parse_status(line: &[u8]) -> Result<String, Pop3Error> {
    let text = String::from_utf8_lossy(line);
    if let Some(rest) = text.strip_prefix("+OK") {
        Ok(rest.trim().to_string())
    } else if let Some(rest) = text.strip_prefix("-ERR") {
        Err(Pop3Error::Refused(rest.trim().to_string()))
    } else {
        Err(Pop3Error::Protocol(format!(
            "expected +OK or -ERR, got {:?}",
            text.chars().take(80).collect::<String>()
        )))
    }
}

pub(crate) async fn timed<T>(
    what: &'static str,
    f: impl std::future::Future<Output = T>,
) -> Result<T, Pop3Error> {
    tokio::time::timeout(READ_TIMEOUT, f)
        .await
        .map_err(|_| Pop3Error::Timeout { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn wire(input: &[u8]) -> Wire<tokio::io::DuplexStream> {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        b.write_all(input).await.unwrap();
        drop(b);
        Wire::new(a)
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_ends_at_the_lone_dot() {
        let mut w = wire(b"line\r\n..dotted\r\n.\r\nnext").await;
        assert_eq!(w.data(1000).await.unwrap(), b"line\r\n.dotted\r\n");
    }

    #[tokio::test]
    async fn endless_and_oversized_replies_are_errors_not_memory() {
        let mut w = wire(&vec![b'x'; MAX_STATUS_LINE + 10]).await;
        assert!(matches!(w.status().await, Err(Pop3Error::Protocol(_))));
        let mut w = wire(b"aaaa\r\nbbbb\r\ncccc\r\n.\r\n").await;
        assert!(matches!(w.data(10).await, Err(Pop3Error::Protocol(_))));
        let mut w = wire(b"no end").await;
        assert!(matches!(
            w.data(1000).await,
            Err(Pop3Error::ConnectionLost(_))
        ));
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"+OK 2 320").unwrap(), "2 320");
        assert!(matches!(parse_status(b"-ERR no"), Err(Pop3Error::Refused(t)) if t == "no"));
        assert!(matches!(
            parse_status(b"* OK imap"),
            Err(Pop3Error::Protocol(_))
        ));
    }
}

/// Property-based tests (fixed seed; see `petrel_core::fuzz`): whatever a server sends, the
/// wire reader ends with a value or an error, never a panic, and never hands back more
/// than its bound.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn read_all(
        input: &[u8],
        max: usize,
    ) -> (Result<String, Pop3Error>, Result<Vec<u8>, Pop3Error>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a test runtime");
        rt.block_on(async {
            let (a, mut b) = tokio::io::duplex(1 << 20);
            b.write_all(input).await.expect("written");
            drop(b);
            let mut w = Wire::new(a);
            let status = w.status().await;
            let data = w.data(max).await;
            (status, data)
        })
    }

    /// A server stream that hands out at most `step` bytes per read, so lines arrive cut
    /// anywhere between reads.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl tokio::io::AsyncRead for Trickle {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let end = (self.at + self.step).min(self.data.len());
            let n = (end - self.at).min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.data[at..at + n]);
            self.at += n;
            std::task::Poll::Ready(Ok(()))
        }
    }

    impl tokio::io::AsyncWrite for Trickle {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// RFC 1939 §3 line by line over the whole input: the reply's bytes, or None for an
    /// error (too long, unterminated).
    fn unstuffed(input: &[u8], max: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = input;
        loop {
            let i = rest.iter().position(|&b| b == b'\n')?;
            let (line, next) = rest.split_at(i + 1);
            rest = next;
            if line.len() > MAX_DATA_LINE + 2 {
                return None;
            }
            let end = line
                .iter()
                .rposition(|&b| b != b'\n' && b != b'\r')
                .map_or(0, |p| p + 1);
            let line = &line[..end];
            if line == b"." {
                return Some(out);
            }
            let body = line.strip_prefix(b".").unwrap_or(line);
            if out.len() + body.len() + 2 > max {
                return None;
            }
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
    }

    proptest! {
        #![proptest_config(petrel_core::fuzz::config())]

        /// However the reply is cut between reads, it reads as the line-by-line rule says.
        #[test]
        fn replies_cut_anywhere_read_as_whole_lines(
            parts in proptest::collection::vec(prop_oneof![Just(b"\r\n".to_vec()), Just(b".\r\n".to_vec()), Just(b"..x\r\n".to_vec()), Just(b"\n".to_vec()), Just(b"\r".to_vec()), proptest::collection::vec(any::<u8>(), 0..40)], 0..60),
            step in 1usize..50,
            max in 0usize..2000,
        ) {
            let input = parts.concat();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a test runtime");
            let read = rt.block_on(async {
                let mut w = Wire::new(Trickle { data: input.clone(), at: 0, step });
                w.data(max).await
            });
            prop_assert_eq!(read.ok(), unstuffed(&input, max));
        }

        #[test]
        fn status_lines_of_any_shape(line in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_status(&line);
        }

        #[test]
        fn replies_of_any_shape_are_bounded(
            input in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..3000),
                proptest::collection::vec(prop_oneof![Just(b"\r\n".to_vec()), Just(b".\r\n".to_vec()), Just(b"..x\r\n".to_vec()), Just(b"+OK\r\n".to_vec()), Just(b"-ERR [IN-USE]\r\n".to_vec()), proptest::collection::vec(any::<u8>(), 0..40)], 0..60)
                    .prop_map(|parts| parts.concat()),
            ],
            max in 0usize..2000,
        ) {
            let (_, data) = read_all(&input, max);
            if let Ok(d) = data {
                prop_assert!(d.len() <= max + 2, "{} > {max}", d.len());
            }
        }
    }
}
