//! Engine changes pushed to the window. For now a periodic background check of the folders
//! opened since start (IDLE on INBOX comes with the per-account actor); each changed folder
//! is sent as a typed `folder-changed` event so the UI reloads just its visible rows.

use petrel_engine::Engine;
use std::sync::Arc;
use std::time::Duration;
use tauri::Emitter;

/// Event name the UI listens to; its payload is `FolderChange` (ui/src/bindings).
pub const FOLDER_CHANGED: &str = "folder-changed";
/// Default interval between background checks; `PETREL_CHECK_SECONDS` overrides it.
const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(120);

fn check_interval() -> Duration {
    std::env::var("PETREL_CHECK_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_CHECK_INTERVAL)
}

pub fn spawn_background_check(app: tauri::AppHandle, engine: Arc<Engine>) {
    let interval = check_interval();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            for change in engine.check_for_changes().await {
                if let Err(e) = app.emit(FOLDER_CHANGED, &change) {
                    tracing::warn!(error = %e, "could not notify the window");
                }
            }
        }
    });
}
