//! IMAP IDLE (RFC 2177): the server tells us about new mail and changes as they happen.
//!
//! RFC 2177 says to re-issue IDLE at least every 29 minutes, since servers may drop an idle
//! client after 30. async-imap's own timeout restarts on every keep-alive the server sends
//! (Dovecot: every 2 minutes), so it would never fire; the deadline here is a hard one
//! around the whole wait. The caller may also stop the wait at any time (`stop`), e.g. when
//! the account is removed or the app quits.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use async_imap::extensions::idle::IdleResponse;
use std::time::Duration;

/// Longest single IDLE before it is ended and sent again.
pub const IDLE_REISSUE: Duration = Duration::from_secs(29 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleOutcome {
    /// The server reported something (EXISTS, EXPUNGE, FETCH…): time to sync.
    Changed,
    /// The deadline passed quietly.
    TimedOut,
    /// The caller asked to stop.
    Stopped,
}

impl ImapSession {
    /// Opens `folder` read-only and waits in IDLE for at most `wait` (capped at 29 minutes).
    /// Gives the session back after DONE, ready for the next IDLE or other commands.
    pub async fn idle(
        self,
        folder: &str,
        wait: Duration,
        stop: &tokio::sync::Notify,
    ) -> Result<(ImapSession, IdleOutcome), ImapError> {
        if !self.has("IDLE") {
            return Err(ImapError::Refused("the server does not offer IDLE".into()));
        }
        let ImapSession {
            conn: mut inner,
            caps,
            qresync,
            ..
        } = self;
        with_timeout("opening the folder", inner.examine(folder)).await??;
        // Whatever arrived before IDLE (e.g. EXISTS from EXAMINE) is not news.
        while inner.unsolicited_responses.try_recv().is_ok() {}
        let mut handle = inner.idle();
        with_timeout("starting IDLE", handle.init()).await??;
        let outcome = {
            // The inner timeout (reset by keep-alives) is longer than ours, so ours decides.
            let (wait_fut, interrupt) =
                handle.wait_with_timeout(IDLE_REISSUE + Duration::from_secs(60));
            let deadline = wait.min(IDLE_REISSUE);
            tokio::select! {
                reply = tokio::time::timeout(deadline, wait_fut) => match reply {
                    Ok(Ok(IdleResponse::NewData(_))) => IdleOutcome::Changed,
                    Ok(Ok(IdleResponse::Timeout)) | Err(_) => IdleOutcome::TimedOut,
                    Ok(Ok(IdleResponse::ManualInterrupt)) => IdleOutcome::Stopped,
                    Ok(Err(e)) => return Err(e.into()),
                },
                _ = stop.notified() => {
                    drop(interrupt);
                    IdleOutcome::Stopped
                }
            }
        };
        let inner = with_timeout("ending IDLE", handle.done()).await??;
        Ok((
            ImapSession {
                conn: inner,
                caps,
                qresync,
                selected: None,
            },
            outcome,
        ))
    }
}
