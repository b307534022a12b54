//! Queued mail is retried in the background: every account with messages in its outbox is
//! tried again after 30 s, then 1, 2, 4… minutes (at most 15) while the server stays out of
//! reach; a success resets the wait. The first wait comes in with the watch configuration.

use crate::events::{sleep_or_stop, EngineEvent, EventSink};
use crate::Engine;
use petrel_core::{AccountId, OutboxState};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// How often the outboxes are looked at (cheap: a directory listing each).
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// The next wait after `failures` failed tries in a row.
pub(crate) fn backoff(first: Duration, failures: u32) -> Duration {
    first
        .saturating_mul(1 << failures.min(16))
        .min(LONGEST_WAIT.max(first))
}

pub(crate) async fn retry_outboxes(
    engine: Arc<Engine>,
    first: Duration,
    sink: EventSink,
    stop: Arc<Notify>,
) {
    // account → (failures in a row, next try, last count told).
    let mut plans: HashMap<AccountId, (u32, Instant, u32)> = HashMap::new();
    loop {
        for account in engine.accounts() {
            let id = account.id;
            // Sent messages whose Sent copy is not filed yet also need a pass; refused ones
            // wait for the user and need none.
            let (queued, needs_pass) = engine.outbox_counts(&id).unwrap_or((0, 0));
            if needs_pass == 0 {
                if plans.remove(&id).is_some_and(|p| p.2 > 0) {
                    sink(EngineEvent::Outbox(OutboxState {
                        account: id,
                        queued: 0,
                        retry_in_seconds: None,
                    }));
                }
                continue;
            }
            let plan = plans.entry(id.clone()).or_insert_with(|| {
                // Said at once, so the Outbox shows when the first try comes (not only
                // after it failed).
                sink(EngineEvent::Outbox(OutboxState {
                    account: id.clone(),
                    queued,
                    retry_in_seconds: (queued > 0).then_some(first.as_secs() as u32),
                }));
                (0, Instant::now() + first, queued)
            });
            if Instant::now() < plan.1 {
                continue;
            }
            let result = engine.flush_outbox(&id).await;
            let left = engine.outbox_counts(&id).map(|c| c.0).unwrap_or(queued);
            match &result {
                Ok(report) if report.sent > 0 || left == 0 => plan.0 = 0,
                Ok(_) => plan.0 += 1,
                Err(e) => {
                    tracing::info!(account = %id, error = %e, "outbox retry failed");
                    plan.0 += 1;
                }
            }
            let wait = backoff(first, plan.0);
            plan.1 = Instant::now() + wait;
            plan.2 = left;
            sink(EngineEvent::Outbox(OutboxState {
                account: id,
                queued: left,
                retry_in_seconds: (left > 0).then_some(wait.as_secs() as u32),
            }));
        }
        if sleep_or_stop(LOOK_EVERY.min(first), &stop).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_fifteen_minutes() {
        let s = |n| backoff(Duration::from_secs(30), n).as_secs();
        assert_eq!([s(0), s(1), s(2), s(3)], [30, 60, 120, 240]);
        assert_eq!(s(5), 900);
        assert_eq!(s(40), 900);
    }
}
