use petrel_core::CertificateDetails;

/// What went wrong talking IMAP, in terms the engine can turn into a user message.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("could not reach {host}:{port}: {source}")]
    Unreachable {
        host: String,
        port: u16,
        source: std::io::Error,
    },
    #[error("{what} timed out")]
    Timeout { what: &'static str },
    #[error("the server's certificate is not trusted: {reason}")]
    CertificateUntrusted {
        reason: String,
        certificate: Box<CertificateDetails>,
    },
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("the server does not offer STARTTLS, and Petrel will not log in without encryption")]
    StartTlsUnavailable,
    #[error("the server sent data before the TLS handshake (possible STARTTLS injection attack)")]
    StartTlsInjection,
    #[error("the server rejected the login: {0}")]
    AuthFailed(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("unexpected reply from the server: {0}")]
    Protocol(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// The folder's UIDVALIDITY is not the one the UIDs were taken under (RFC 3501
    /// §2.3.1.1): the folder was recreated or the server migrated, so those UIDs may now
    /// name other messages.
    #[error("{folder} changed on the server since the action was made (its messages were renumbered), so it was not applied")]
    UidValidityChanged { folder: String },
}

impl From<std::io::Error> for ImapError {
    fn from(e: std::io::Error) -> Self {
        match petrel_tls::ReplyTooLarge::of(&e) {
            Some(over) => ImapError::Protocol(over.0.clone()),
            None => ImapError::ConnectionLost(e.to_string()),
        }
    }
}

/// The server's words from a NO/BAD as async-imap reports it — `code: Some(TryCreate),
/// info: Some("Mailbox doesn't exist")`, Rust debug text — made fit to show: the text
/// itself (with any `[CODE]` the server put in it), else the code's name. Text in any other
/// form is kept as it is.
pub(crate) fn server_words(raw: &str) -> String {
    let raw = raw.trim();
    let Some(rest) = raw.strip_prefix("code: ") else {
        return raw.to_string();
    };
    let Some((code, info)) = rest.split_once(", info: ") else {
        return raw.to_string();
    };
    let text = info
        .strip_prefix("Some(\"")
        .and_then(|i| i.strip_suffix("\")"))
        .map(unescape_debug)
        .unwrap_or_default();
    let code = code
        .strip_prefix("Some(")
        .and_then(|c| c.strip_suffix(')'))
        .unwrap_or_default();
    match (text.trim(), code) {
        ("", "") => "no reason given".to_string(),
        ("", code) => code.to_string(),
        (text, _) => text.to_string(),
    }
}

/// Undoes Rust's `{:?}` escaping of a string (\", \\, \n, \t, \r, \u{…}).
fn unescape_debug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        use async_imap::error::Error as E;
        match e {
            E::Io(io) => io.into(),
            E::ConnectionLost => {
                ImapError::ConnectionLost("the server closed the connection".into())
            }
            E::No(text) | E::Bad(text) => ImapError::Refused(server_words(&text)),
            other => ImapError::Protocol(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_the_servers_words_not_debug_text() {
        let no = async_imap::error::Error::No(
            r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#.into(),
        );
        assert_eq!(
            ImapError::from(no).to_string(),
            "the server refused: [AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(
            server_words(
                r#"code: Some(TryCreate), info: Some("Mailbox \"Ärger\" doesn't exist\u{1f4e7}")"#
            ),
            "Mailbox \"Ärger\" doesn't exist\u{1f4e7}"
        );
        assert_eq!(
            server_words("code: Some(TryCreate), info: None"),
            "TryCreate"
        );
        assert_eq!(server_words("Mailbox is full"), "Mailbox is full");
    }
}
