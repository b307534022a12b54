//! A logged-in IMAP session. One per account in the engine; dropped on any error.

use crate::connect::{connect, Stream};
use crate::{ImapError, TrustPolicy, COMMAND_TIMEOUT};
use petrel_core::{Security, ServerSettings};
use std::future::Future;

pub struct ImapSession {
    pub(crate) inner: async_imap::Session<Stream>,
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
            Ok(inner) => Ok(ImapSession { inner }),
            Err((async_imap::error::Error::No(text), _))
            | Err((async_imap::error::Error::Bad(text), _)) => {
                Err(ImapError::AuthFailed(text.trim().to_string()))
            }
            Err((other, _)) => Err(other.into()),
        }
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
