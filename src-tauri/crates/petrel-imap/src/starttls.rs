//! STARTTLS by hand (RFC 3501 §6.2.1, RFC 2595), because the upgrade has rules a generic
//! client does not enforce: the capability must be advertised (else we refuse rather than
//! log in in plaintext), a PREAUTH greeting on a plaintext connection is refused, and any
//! byte the server sent after its OK but before the handshake is an injection attempt
//! (CVE-2011-0411 class) and aborts the connection. Nothing learnt before TLS is kept.

use crate::ImapError;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest line accepted before TLS: greeting and CAPABILITY lines are short; more is hostile.
const MAX_PRE_TLS_LINE: usize = 8 * 1024;
/// Most lines accepted while waiting for one tagged reply before TLS.
const MAX_PRE_TLS_LINES: usize = 64;

/// Runs greeting → CAPABILITY → STARTTLS on a plain socket and returns it ready for the TLS
/// handshake.
pub(crate) async fn negotiate(tcp: TcpStream) -> Result<TcpStream, ImapError> {
    let mut conn = BufReader::new(tcp);
    let greeting = read_line(&mut conn).await?;
    check_greeting(&greeting)?;

    send(&mut conn, "S1 CAPABILITY\r\n").await?;
    let (untagged, status) = read_until_tagged(&mut conn, "S1").await?;
    if !status_is_ok(&status, "S1") {
        return Err(ImapError::Protocol(format!("CAPABILITY failed: {status}")));
    }
    if !untagged.iter().any(|l| advertises_starttls(l)) {
        return Err(ImapError::StartTlsUnavailable);
    }

    send(&mut conn, "S2 STARTTLS\r\n").await?;
    let (_, status) = read_until_tagged(&mut conn, "S2").await?;
    if !status_is_ok(&status, "S2") {
        return Err(ImapError::StartTlsUnavailable);
    }
    if !conn.buffer().is_empty() {
        return Err(ImapError::StartTlsInjection);
    }
    Ok(conn.into_inner())
}

async fn send(conn: &mut BufReader<TcpStream>, line: &str) -> Result<(), ImapError> {
    conn.get_mut()
        .write_all(line.as_bytes())
        .await
        .map_err(|e| ImapError::ConnectionLost(e.to_string()))
}

async fn read_line(conn: &mut BufReader<TcpStream>) -> Result<String, ImapError> {
    let mut line = Vec::new();
    loop {
        let buf = conn
            .fill_buf()
            .await
            .map_err(|e| ImapError::ConnectionLost(e.to_string()))?;
        if buf.is_empty() {
            return Err(ImapError::ConnectionLost(
                "the server closed the connection before TLS".into(),
            ));
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        line.extend_from_slice(chunk);
        let used = chunk.len();
        conn.consume(used);
        if line.len() > MAX_PRE_TLS_LINE {
            return Err(ImapError::Protocol("over-long line before TLS".into()));
        }
        if done {
            return Ok(String::from_utf8_lossy(&line).trim_end().to_string());
        }
    }
}

async fn read_until_tagged(
    conn: &mut BufReader<TcpStream>,
    tag: &str,
) -> Result<(Vec<String>, String), ImapError> {
    let mut untagged = Vec::new();
    for _ in 0..MAX_PRE_TLS_LINES {
        let line = read_line(conn).await?;
        if line.starts_with(&format!("{tag} ")) {
            return Ok((untagged, line));
        }
        untagged.push(line);
    }
    Err(ImapError::Protocol("too many lines before TLS".into()))
}

pub(crate) fn check_greeting(line: &str) -> Result<(), ImapError> {
    let upper = line.to_ascii_uppercase();
    if upper.starts_with("* OK") {
        Ok(())
    } else if upper.starts_with("* PREAUTH") {
        // A pre-authenticated plaintext session can never be upgraded (RFC 3501 §6.2.1).
        Err(ImapError::StartTlsUnavailable)
    } else {
        Err(ImapError::Protocol(format!(
            "unexpected greeting: {}",
            truncate(line)
        )))
    }
}

pub(crate) fn status_is_ok(line: &str, tag: &str) -> bool {
    line.get(tag.len() + 1..)
        .map(|rest| rest.to_ascii_uppercase().starts_with("OK"))
        .unwrap_or(false)
}

pub(crate) fn advertises_starttls(line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    upper.starts_with("* CAPABILITY ") && upper.split_ascii_whitespace().any(|w| w == "STARTTLS")
}

fn truncate(s: &str) -> String {
    s.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_capability_and_status_lines() {
        assert!(advertises_starttls(
            "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED"
        ));
        assert!(!advertises_starttls("* CAPABILITY IMAP4rev1 XSTARTTLS"));
        assert!(!advertises_starttls("* OK [CAPABILITY STARTTLS] hi"));
        assert!(status_is_ok("S2 OK Begin TLS", "S2"));
        assert!(status_is_ok("S2 ok begin", "S2"));
        assert!(!status_is_ok("S2 NO nope", "S2"));
        assert!(!status_is_ok("S2", "S2"));
        assert!(check_greeting("* PREAUTH hi").is_err());
        assert!(check_greeting("* OK ready").is_ok());
    }
}
