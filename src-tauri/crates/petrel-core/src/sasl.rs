//! The SASL messages that carry an OAuth2 access token to IMAP, POP3 and SMTP servers:
//! OAUTHBEARER (RFC 7628, the standard) and XOAUTH2 (Google's and Microsoft's original).
//! Shared by the three protocol crates so the token is framed the same way everywhere.

/// The bearer mechanisms, in the order Petrel prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerMechanism {
    OAuthBearer,
    XOAuth2,
}

impl BearerMechanism {
    pub fn name(self) -> &'static str {
        match self {
            BearerMechanism::OAuthBearer => "OAUTHBEARER",
            BearerMechanism::XOAuth2 => "XOAUTH2",
        }
    }

    /// The first mechanism of ours that the server's list (upper-case names) offers:
    /// OAUTHBEARER before XOAUTH2.
    pub fn choose<'a>(offered: impl IntoIterator<Item = &'a str> + Clone) -> Option<Self> {
        [BearerMechanism::OAuthBearer, BearerMechanism::XOAuth2]
            .into_iter()
            .find(|m| {
                offered
                    .clone()
                    .into_iter()
                    .any(|o| o.eq_ignore_ascii_case(m.name()))
            })
    }

    /// The client's first message (before base64): the user, the server and the token.
    pub fn initial_response(self, user: &str, host: &str, port: u16, token: &str) -> String {
        match self {
            // RFC 7628 §3.1: gs2 header with the authorization identity, then key=value
            // pairs separated by ^A, ended by two.
            BearerMechanism::OAuthBearer => format!(
                "n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01",
                gs2_escape(user)
            ),
            BearerMechanism::XOAuth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
        }
    }

    /// What the client answers when the server replies to the token with a challenge (an
    /// error report in JSON): RFC 7628 §3.2.3 says a single ^A, XOAUTH2 an empty response;
    /// the server then ends the exchange with its failure.
    pub fn error_acknowledgement(self) -> &'static str {
        match self {
            BearerMechanism::OAuthBearer => "\x01",
            BearerMechanism::XOAuth2 => "",
        }
    }
}

/// RFC 5801 §4: "," and "=" in a name are written "=2C" and "=3D".
fn gs2_escape(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// The server's error challenge in words, for the log and the user: the `status` (and
/// `scope`) of the JSON RFC 7628 §3.2.2 describes, or the text as sent.
pub fn describe_challenge(decoded: &str) -> String {
    let field = |name: &str| {
        let key = format!("\"{name}\"");
        let at = decoded.find(&key)? + key.len();
        let rest = decoded
            .get(at..)?
            .trim_start()
            .strip_prefix(':')?
            .trim_start();
        let rest = rest.strip_prefix('"')?;
        rest.split('"').next().map(str::to_string)
    };
    match field("status") {
        Some(status) => format!("the server refused the token (status {status})"),
        None => "the server refused the token".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauthbearer_frames_the_token_as_rfc_7628_says() {
        let m =
            BearerMechanism::OAuthBearer.initial_response("a,b=c@x.org", "imap.x.org", 993, "T0k");
        assert_eq!(
            m,
            "n,a=a=2Cb=3Dc@x.org,\x01host=imap.x.org\x01port=993\x01auth=Bearer T0k\x01\x01"
        );
        let x = BearerMechanism::XOAuth2.initial_response("ana@x.org", "h", 1, "T0k");
        assert_eq!(x, "user=ana@x.org\x01auth=Bearer T0k\x01\x01");
    }

    #[test]
    fn oauthbearer_is_preferred_when_both_are_offered() {
        assert_eq!(
            BearerMechanism::choose(["PLAIN", "xoauth2", "OAUTHBEARER"]),
            Some(BearerMechanism::OAuthBearer)
        );
        assert_eq!(
            BearerMechanism::choose(["PLAIN", "XOAUTH2"]),
            Some(BearerMechanism::XOAuth2)
        );
        assert_eq!(BearerMechanism::choose(["PLAIN"]), None);
    }

    #[test]
    fn error_challenges_are_described() {
        let c = r#"{"status":"invalid_token","schemes":"bearer","scope":"mail"}"#;
        assert_eq!(
            describe_challenge(c),
            "the server refused the token (status invalid_token)"
        );
        assert_eq!(
            describe_challenge("garbage"),
            "the server refused the token"
        );
    }
}
