//! A logged-in IMAP session. One per account in the engine; dropped on any error.

use crate::connect::{connect, Stream};
use crate::{ImapError, TrustPolicy, COMMAND_TIMEOUT};
use petrel_core::{Security, ServerSettings};
use std::collections::HashSet;
use std::future::Future;

pub struct ImapSession {
    pub(crate) inner: async_imap::Session<Stream>,
    /// Capabilities after login (upper case). Pre-login ones are never trusted: a STARTTLS
    /// attacker or a server that changes them at login could lie.
    pub(crate) caps: HashSet<String>,
    /// QRESYNC (RFC 7162) was enabled on this session: VANISHED replaces EXPUNGE.
    pub(crate) qresync: bool,
}

impl std::fmt::Debug for ImapSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImapSession")
    }
}

impl ImapSession {
    /// Connects under the TLS policy and logs in. The password is used for LOGIN only.
    pub async fn login(
        server: &ServerSettings,
        password: &str,
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
        match with_timeout("login", client.login(&server.username, password)).await? {
            Ok(inner) => {
                let mut session = ImapSession {
                    inner,
                    caps: HashSet::new(),
                    qresync: false,
                };
                session.load_capabilities().await?;
                if session.has("QRESYNC") {
                    with_timeout("enabling QRESYNC", async {
                        session
                            .inner
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
                Err(ImapError::AuthFailed(text.trim().to_string()))
            }
            Err((other, _)) => Err(other.into()),
        }
    }

    async fn load_capabilities(&mut self) -> Result<(), ImapError> {
        let caps = with_timeout("reading capabilities", self.inner.capabilities()).await??;
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
        with_timeout("NOOP", self.inner.noop()).await??;
        Ok(())
    }

    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.inner.logout()).await;
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
