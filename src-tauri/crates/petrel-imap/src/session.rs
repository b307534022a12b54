//! A logged-in IMAP session. One per account in the engine; dropped on any error.

use crate::connect::{connect, Stream};
use crate::{ImapError, TrustPolicy, COMMAND_TIMEOUT};
use petrel_core::sasl::BearerMechanism;
use petrel_core::{Security, ServerSettings};
use std::collections::HashSet;
use std::future::Future;

pub struct ImapSession {
    /// The connection; commands go through [`ImapSession::inner`] so that any command sent
    /// forgets `selected`.
    pub(crate) conn: async_imap::Session<Stream>,
    /// The folder this session has open, while every command since is one known to leave
    /// it open (see [`ImapSession::open`]). A server re-reads the whole folder on each
    /// SELECT or EXAMINE (Dovecot rescans a Maildir of 20k files), and opening a message
    /// and marking it read paid three of them.
    pub(crate) selected: Option<Selected>,
    /// Capabilities after login (upper case). Pre-login ones are never trusted: a STARTTLS
    /// attacker or a server that changes them at login could lie.
    pub(crate) caps: HashSet<String>,
    /// QRESYNC (RFC 7162) was enabled on this session: VANISHED replaces EXPUNGE.
    pub(crate) qresync: bool,
}

/// How a command needs its folder open: EXAMINE or SELECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    ReadOnly,
    ReadWrite,
}

/// A folder as its SELECT or EXAMINE answered.
#[derive(Debug, Clone)]
pub(crate) struct Selected {
    pub folder: String,
    pub writable: bool,
    pub uid_validity: Option<u32>,
    pub uid_next: Option<u32>,
}

impl Selected {
    fn serves(&self, folder: &str, access: Access, uids: &[u32]) -> bool {
        self.folder == folder
            && (self.writable || access == Access::ReadOnly)
            && self
                .uid_next
                .is_some_and(|next| uids.iter().all(|&uid| uid < next))
    }
}

impl std::fmt::Debug for ImapSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImapSession")
    }
}

impl ImapSession {
    /// The connection, for any command: what it sends may change the selected folder, so
    /// the folder the session had open is forgotten.
    pub(crate) fn inner(&mut self) -> &mut async_imap::Session<Stream> {
        self.selected = None;
        &mut self.conn
    }

    /// Opens `folder` for commands on `uids` (read-write when `access` says so), or keeps
    /// it as it is open already: the same folder, writable if need be, and every one of
    /// `uids` below its UIDNEXT at that opening — so each was in the folder then, and is
    /// still in view unless expunged. A newer UID (or a server that sent no UIDNEXT) means
    /// opening again, so the newest mail is in view. The caller hands the result back to
    /// [`ImapSession::keep`] once its commands went through (after an error the state is
    /// unknown, and the next command opens afresh).
    pub(crate) async fn open(
        &mut self,
        folder: &str,
        access: Access,
        uids: &[u32],
    ) -> Result<Selected, ImapError> {
        if let Some(kept) = self
            .selected
            .take()
            .filter(|s| s.serves(folder, access, uids))
        {
            return Ok(kept);
        }
        let mailbox = match access {
            Access::ReadOnly => {
                with_timeout("opening the folder", self.conn.examine(folder)).await??
            }
            Access::ReadWrite => {
                with_timeout("opening the folder", self.conn.select(folder)).await??
            }
        };
        Ok(Selected {
            folder: folder.to_string(),
            writable: access == Access::ReadWrite,
            uid_validity: mailbox.uid_validity,
            uid_next: mailbox.uid_next,
        })
    }

    /// The folder stays open as `selected` after commands that leave it so went through.
    pub(crate) fn keep(&mut self, selected: Selected) {
        self.selected = Some(selected);
    }

    /// Connects under the TLS policy and logs in. The password is used for LOGIN only.
    pub async fn login(
        server: &ServerSettings,
        password: &str,
        trust: &TrustPolicy,
    ) -> Result<Self, ImapError> {
        Self::login_with(server, Login::Password(password), trust).await
    }

    /// Connects under the TLS policy and proves who the user is: LOGIN with a password, or
    /// AUTHENTICATE with an OAuth2 access token (OAUTHBEARER when offered, else XOAUTH2).
    pub async fn login_with(
        server: &ServerSettings,
        login: Login<'_>,
        trust: &TrustPolicy,
    ) -> Result<Self, ImapError> {
        let stream = connect(server, trust).await?;
        let mut client = async_imap::Client::new(stream);
        if server.security == Security::Tls {
            // Implicit TLS: the greeting comes inside the TLS session. (After STARTTLS the
            // server sends none: RFC 3501 §6.2.1.)
            let greeting = with_timeout("the server greeting", client.read_response())
                .await?
                .map_err(|e| ImapError::ConnectionLost(e.to_string()))?;
            if greeting.is_none() {
                return Err(ImapError::ConnectionLost(
                    "the server closed the connection after TLS".into(),
                ));
            }
        }
        let challenge = std::sync::Arc::new(std::sync::Mutex::new(None));
        let answer = match login {
            Login::Password(password) => {
                with_timeout("login", client.login(&server.username, password)).await?
            }
            Login::Bearer(token) => {
                let offered = pre_login_mechanisms(&mut client).await?;
                let Some(mechanism) = BearerMechanism::choose(offered.iter().map(String::as_str))
                else {
                    return Err(ImapError::AuthFailed(
                        "the server does not offer OAuth2 sign-in (AUTH=OAUTHBEARER or AUTH=XOAUTH2)"
                            .into(),
                    ));
                };
                let bearer = Bearer {
                    first: Some(mechanism.initial_response(
                        &server.username,
                        &server.host,
                        server.port,
                        token,
                    )),
                    mechanism,
                    challenge: challenge.clone(),
                };
                with_timeout("signing in", client.authenticate(mechanism.name(), bearer)).await?
            }
        };
        match answer {
            Ok(inner) => {
                let mut session = ImapSession {
                    conn: inner,
                    caps: HashSet::new(),
                    qresync: false,
                    selected: None,
                };
                session.load_capabilities().await?;
                if session.has("QRESYNC") {
                    with_timeout("enabling QRESYNC", async {
                        session
                            .inner()
                            .run_command_and_check_ok("ENABLE QRESYNC")
                            .await
                    })
                    .await??;
                    session.qresync = true;
                }
                Ok(session)
            }
            Err((async_imap::error::Error::No(text), _))
            | Err((async_imap::error::Error::Bad(text), _)) => {
                let why = challenge
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let text = crate::error::server_words(&text);
                Err(ImapError::AuthFailed(match why {
                    Some(why) => format!("{text} ({why})"),
                    None => text,
                }))
            }
            Err((other, _)) => Err(other.into()),
        }
    }

    async fn load_capabilities(&mut self) -> Result<(), ImapError> {
        let caps = with_timeout("reading capabilities", self.inner().capabilities()).await??;
        self.caps = caps
            .iter()
            .filter_map(|c| match c {
                async_imap::types::Capability::Atom(a) => Some(a.to_ascii_uppercase()),
                async_imap::types::Capability::Imap4rev1 => Some("IMAP4REV1".into()),
                _ => None,
            })
            .collect();
        Ok(())
    }

    /// Whether the server offers `capability` (e.g. "MOVE", "UIDPLUS", "CONDSTORE").
    pub fn has(&self, capability: &str) -> bool {
        self.caps.contains(capability)
    }

    /// Syncs with CONDSTORE even where QRESYNC is enabled: for servers whose QRESYNC is
    /// broken, and to test the CONDSTORE path against a server that offers both.
    pub fn use_condstore_only(&mut self) {
        self.qresync = false;
        self.caps.remove("QRESYNC");
    }

    /// Sends NOOP: keeps the connection alive and proves it still works.
    pub async fn noop(&mut self) -> Result<(), ImapError> {
        with_timeout("NOOP", self.inner().noop()).await??;
        Ok(())
    }

    pub async fn logout(mut self) {
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), self.inner().logout()).await;
    }
}

/// How a session proves who the user is.
#[derive(Clone, Copy)]
pub enum Login<'a> {
    Password(&'a str),
    /// An OAuth2 access token.
    Bearer(&'a str),
}

impl std::fmt::Debug for Login<'_> {
    // Never the secret itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Login::Password(_) => "Login::Password(<redacted>)",
            Login::Bearer(_) => "Login::Bearer(<redacted>)",
        })
    }
}

/// The SASL exchange of a bearer token: the token first; a challenge after it is the
/// server's error report (RFC 7628 §3.2.2), kept for the message and acknowledged so the
/// server can end the exchange with its NO.
struct Bearer {
    mechanism: BearerMechanism,
    first: Option<String>,
    challenge: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl async_imap::Authenticator for Bearer {
    type Response = String;

    fn process(&mut self, challenge: &[u8]) -> String {
        match self.first.take() {
            Some(first) => first,
            None => {
                let text = String::from_utf8_lossy(challenge);
                *self
                    .challenge
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(petrel_core::sasl::describe_challenge(&text));
                self.mechanism.error_acknowledgement().to_string()
            }
        }
    }
}

/// The SASL mechanisms the server offers before login (`AUTH=` capabilities), upper case.
/// Only used to pick a mechanism: a wrong pick fails the login, nothing more.
async fn pre_login_mechanisms(
    client: &mut async_imap::Client<Stream>,
) -> Result<Vec<String>, ImapError> {
    use async_imap::imap_proto::{Capability, Response};
    // Client (before login) has no public command call: the line goes straight onto the
    // stream, with a tag of ours, and the replies are read through the client's parser.
    use tokio::io::AsyncWriteExt as _;
    const TAG: &str = "petrelcap";
    with_timeout("asking for capabilities", async {
        let stream = client.get_mut();
        stream
            .write_all(format!("{TAG} CAPABILITY\r\n").as_bytes())
            .await?;
        stream.flush().await
    })
    .await??;
    let mut offered = Vec::new();
    loop {
        let Some(response) = with_timeout("reading capabilities", client.read_response())
            .await?
            .map_err(|e| ImapError::ConnectionLost(e.to_string()))?
        else {
            return Err(ImapError::ConnectionLost(
                "the server closed the connection".into(),
            ));
        };
        match response.parsed() {
            Response::Capabilities(caps) => {
                for c in caps {
                    if let Capability::Auth(m) = c {
                        offered.push(m.to_ascii_uppercase());
                    }
                }
            }
            Response::Done { tag, .. } if tag.0 == TAG => return Ok(offered),
            _ => {}
        }
    }
}

pub(crate) async fn with_timeout<T>(
    what: &'static str,
    fut: impl Future<Output = T>,
) -> Result<T, ImapError> {
    tokio::time::timeout(COMMAND_TIMEOUT, fut)
        .await
        .map_err(|_| ImapError::Timeout { what })
}
