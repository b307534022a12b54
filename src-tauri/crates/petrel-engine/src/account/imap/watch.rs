//! The IMAP watcher: a second connection IDLEs on INBOX (new mail shows within a second
//! or two), and every `poll` interval the other folders opened since start are re-synced
//! (one round trip each with QRESYNC). A lost connection is retried with the backoff of
//! the account's link; the UI hears about folder and status changes through the events.

use super::ImapAccount;
use crate::events::{sleep_or_stop, EngineEvent};
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::AccountStatus;
use petrel_imap::{IdleOutcome, ImapError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

impl ImapAccount {
    pub(super) async fn watch_idle(&self, cx: Arc<Shared>, poll: Duration, stop: Arc<Notify>) {
        let id = self.state.id.clone();
        let mut last_status: Option<AccountStatus> = None;
        let report_status = |last: &mut Option<AccountStatus>| {
            let now = self.state.status(cx.pending_count(&id));
            let changed = last.as_ref().is_none_or(|l| {
                (l.state, l.pending_actions, &l.message)
                    != (now.state, now.pending_actions, &now.message)
            });
            if changed {
                cx.emit(EngineEvent::Status(now.clone()));
                *last = Some(now);
            }
        };
        loop {
            let session = self.login(&cx).await;
            report_status(&mut last_status);
            let mut session = match session {
                Ok(s) => s,
                Err(e) => {
                    let wait = self
                        .state
                        .status(0)
                        .retry_in_seconds
                        .map(|s| Duration::from_secs(s.into()))
                        .unwrap_or(poll)
                        .min(poll);
                    tracing::info!(account = %id, error = %e, ?wait, "watcher cannot log in yet");
                    if sleep_or_stop(wait, &stop).await {
                        return;
                    }
                    continue;
                }
            };
            // (Re)connected: catch up on what happened meanwhile, and send queued actions.
            self.catch_up(&cx).await;
            report_status(&mut last_status);
            let mut next_poll = tokio::time::Instant::now() + poll;
            loop {
                let wait = next_poll.saturating_duration_since(tokio::time::Instant::now());
                match session.idle("INBOX", wait, &stop).await {
                    Ok((s, IdleOutcome::Changed | IdleOutcome::TimedOut)) => {
                        session = s;
                        self.catch_up(&cx).await;
                        report_status(&mut last_status);
                        next_poll = tokio::time::Instant::now() + poll;
                    }
                    Ok((s, IdleOutcome::Stopped)) => {
                        s.logout().await;
                        return;
                    }
                    Err(ImapError::Refused(reason)) => {
                        // No IDLE on this server: poll only.
                        tracing::info!(account = %id, %reason, "polling without IDLE");
                        loop {
                            if sleep_or_stop(poll, &stop).await {
                                return;
                            }
                            self.catch_up(&cx).await;
                            report_status(&mut last_status);
                        }
                    }
                    Err(e) => {
                        let e = EngineError::imap("Waiting for new mail")(e);
                        tracing::info!(account = %id, error = %e, "IDLE connection lost");
                        self.state.connection_lost(&e);
                        report_status(&mut last_status);
                        break;
                    }
                }
            }
        }
    }

    /// INBOX and the folders opened since start synced (queued actions first), the
    /// changes told, and offline copies made for accounts that keep mail here (errors only
    /// logged: the next round tries again).
    async fn catch_up(&self, cx: &Shared) {
        for change in self.check(cx, Some("INBOX")).await {
            cx.emit(EngineEvent::FolderChanged(change));
        }
        if let Err(e) = self.download_for_offline(cx).await {
            tracing::info!(account = %self.state.id, error = %e, "offline download paused");
        }
    }
}
