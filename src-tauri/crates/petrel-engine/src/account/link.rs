//! Per-account connection health: how long to wait before the next automatic login after
//! a failure, and the status the UI shows.
//!
//! Offline → retry after 2, 4, 8 … seconds, at most 5 minutes apart. A refused password or
//! an untrusted certificate will not fix itself, and retrying a wrong password can lock the
//! account at the provider, so those wait 15 minutes (or until the user asks: "Get mail").

use crate::error::ServerError;
use crate::EngineError;
use petrel_core::ConnectionState;
use std::time::{Duration, Instant};

const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(300);
const USER_MUST_ACT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub state: ConnectionState,
    pub message: Option<String>,
    failures: u32,
    retry_at: Option<Instant>,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            state: ConnectionState::Unknown,
            message: None,
            failures: 0,
            retry_at: None,
        }
    }
}

impl Link {
    /// Time left before an automatic login may be tried, if any.
    pub fn wait_left(&self, now: Instant) -> Option<Duration> {
        self.retry_at
            .and_then(|at| at.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    pub fn succeeded(&mut self) {
        *self = Link {
            state: ConnectionState::Online,
            ..Link::default()
        };
    }

    /// Records a failed login or a lost connection.
    pub fn failed(&mut self, error: &EngineError, now: Instant) {
        use petrel_oauth::OAuthError;
        let must_act = match (error, error.server_error()) {
            // The provider could not be reached: like a server that cannot be.
            (EngineError::SignIn(OAuthError::Network(_) | OAuthError::Discovery { .. }), _) => None,
            // The provider no longer takes the refresh token (or sign-in is incomplete):
            // only the user, in the browser, can mend it.
            (EngineError::SignIn(_), _) => Some(ConnectionState::SignInAgain),
            (_, Some(ServerError::AuthFailed(_))) => Some(ConnectionState::AuthFailed),
            (
                _,
                Some(
                    ServerError::CertificateUntrusted { .. }
                    | ServerError::Tls(_)
                    | ServerError::NoStartTls(_)
                    | ServerError::StartTlsInjection(_),
                ),
            ) => Some(ConnectionState::CertificateProblem),
            _ => None,
        };
        let (state, wait) = match must_act {
            Some(state) => (state, USER_MUST_ACT),
            None => {
                self.failures = self.failures.saturating_add(1);
                let wait = FIRST_RETRY
                    .saturating_mul(1 << self.failures.saturating_sub(1).min(16))
                    .min(MAX_RETRY);
                (ConnectionState::Offline, wait)
            }
        };
        self.state = state;
        self.message = Some(error.to_string());
        self.retry_at = Some(now + wait);
    }

    /// The user asked ("Get mail", Retry): the next call tries at once.
    pub fn retry_now(&mut self) {
        self.retry_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrel_imap::ImapError;

    fn offline() -> EngineError {
        EngineError::imap("Connecting")(ImapError::ConnectionLost("reset".into()))
    }

    #[test]
    fn offline_waits_grow_and_cap_and_success_resets() {
        let now = Instant::now();
        let mut link = Link::default();
        let mut waits = Vec::new();
        for _ in 0..12 {
            link.failed(&offline(), now);
            waits.push(link.wait_left(now).unwrap().as_secs());
        }
        assert_eq!(&waits[..5], &[2, 4, 8, 16, 32]);
        assert_eq!(*waits.last().unwrap(), 300);
        assert_eq!(link.state, ConnectionState::Offline);
        link.succeeded();
        assert_eq!(link.state, ConnectionState::Online);
        assert_eq!(link.wait_left(now), None);
    }

    #[test]
    fn a_refused_password_is_not_retried_soon_but_the_user_can_force_it() {
        let now = Instant::now();
        let mut link = Link::default();
        link.failed(
            &EngineError::imap("Connecting")(ImapError::AuthFailed("no".into())),
            now,
        );
        assert_eq!(link.state, ConnectionState::AuthFailed);
        assert!(link.wait_left(now).unwrap() >= Duration::from_secs(900));
        link.retry_now();
        assert_eq!(link.wait_left(now), None);
    }
}
