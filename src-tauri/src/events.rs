//! Engine events pushed to the window: `folder-changed` (payload `FolderChange`) when new
//! mail, flag changes or removals reach the cache without the user asking (IDLE on INBOX,
//! polling of the other opened folders), and `account-status` (payload `AccountStatus`) when
//! an account goes offline, fails to log in, or comes back, and `sync-progress` (payload
//! `SyncProgress`) while a folder's list rows arrive.

use petrel_engine::{Engine, EngineEvent};
use std::sync::Arc;
use std::time::Duration;
use tauri::Emitter;

pub const FOLDER_CHANGED: &str = "folder-changed";
pub const ACCOUNT_STATUS: &str = "account-status";
pub const SYNC_PROGRESS: &str = "sync-progress";
/// Default interval between polls of opened folders other than INBOX (which has IDLE);
/// `PETREL_CHECK_SECONDS` overrides it.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(120);

fn poll_interval() -> Duration {
    std::env::var("PETREL_CHECK_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_POLL_INTERVAL)
}

pub fn spawn_watchers(app: tauri::AppHandle, engine: Arc<Engine>) {
    let poll = poll_interval();
    tauri::async_runtime::spawn(async move {
        let sink = Arc::new(move |event: EngineEvent| {
            let sent = match &event {
                EngineEvent::FolderChanged(change) => app.emit(FOLDER_CHANGED, change),
                EngineEvent::Status(status) => app.emit(ACCOUNT_STATUS, status),
                EngineEvent::SyncProgress(progress) => app.emit(SYNC_PROGRESS, progress),
            };
            if let Err(e) = sent {
                tracing::warn!(error = %e, "could not notify the window");
            }
        });
        // Lives as long as the app: dropping it would stop the watchers.
        let _watch = engine.watch(poll, sink);
        std::future::pending::<()>().await;
    });
}
