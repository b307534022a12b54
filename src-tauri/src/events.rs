//! Engine events pushed to the window: `folder-changed` (payload `FolderChange`) when new
//! mail, flag changes or removals reach the cache without the user asking (IDLE on INBOX,
//! polling of the other opened folders), and `account-status` (payload `AccountStatus`) when
//! an account goes offline, fails to log in, or comes back, and `sync-progress` (payload
//! `SyncProgress`) while a folder's list rows arrive, and `outbox-changed` (payload
//! `OutboxState`) when a retry sends queued mail or plans the next try.

use petrel_core::{UiEvent, UI_EVENT_CHANNEL};
use petrel_engine::{Engine, EngineEvent, WatchConfig};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::{Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

/// The user's "notify me of new mail" preference (sent by the UI at start and on change).
pub static NOTIFY: AtomicBool = AtomicBool::new(true);

/// Tells the window something on the one event channel (see `petrel_core::UiEvent`).
pub fn tell(app: &tauri::AppHandle, event: UiEvent) {
    if let Err(e) = app.emit(UI_EVENT_CHANNEL, &event) {
        tracing::warn!(error = %e, "could not notify the window");
    }
}
/// Default interval between polls of opened folders other than INBOX (which has IDLE).
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(120);

/// The pace of background work, read once here: `PETREL_CHECK_SECONDS` sets IMAP polls and
/// POP3 checks, `PETREL_OUTBOX_SECONDS` the first outbox retry (tests and demos).
fn watch_config() -> WatchConfig {
    let seconds = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&s| s > 0)
            .map(Duration::from_secs)
    };
    let check = seconds("PETREL_CHECK_SECONDS");
    let mut config = WatchConfig::every(check.unwrap_or(DEFAULT_POLL_INTERVAL));
    config.pop3_every = check;
    if let Some(first) = seconds("PETREL_OUTBOX_SECONDS") {
        config.outbox_first_wait = first;
    }
    config
}

pub fn spawn_watchers(app: tauri::AppHandle, engine: Arc<Engine>) {
    let config = watch_config();
    tauri::async_runtime::spawn(async move {
        let counts = engine.clone();
        let sink = Arc::new(move |event: EngineEvent| {
            if let EngineEvent::FolderChanged(change) = &event {
                announce(&app, &counts, change);
            }
            tell(
                &app,
                match event {
                    EngineEvent::FolderChanged(change) => UiEvent::FolderChanged(change),
                    EngineEvent::Status(status) => UiEvent::AccountStatus(status),
                    EngineEvent::SyncProgress(progress) => UiEvent::SyncProgress(progress),
                    EngineEvent::Outbox(state) => UiEvent::Outbox(state),
                    EngineEvent::IndexProgress(p) => UiEvent::IndexProgress(p),
                },
            );
        });
        // Lives as long as the app: dropping it would stop the watchers.
        let _watch = engine.watch_with(config, sink);
        std::future::pending::<()>().await;
    });
}

/// What a folder change means outside the window: the unread count (title, badge, tray)
/// and a notification for new unread mail. Every check's changes come here, whether the
/// background found them or the user asked (Get mail, in the window or the tray).
pub fn announce(app: &tauri::AppHandle, engine: &Engine, change: &petrel_core::FolderChange) {
    show_unread_count(app, engine.inbox_unread_total());
    notify_new_mail(app, engine, change);
}

/// The unread count of all INBOXes in the window title (every OS) and as the app badge
/// where the desktop has one (macOS dock, Unity-style launchers).
fn show_unread_count(app: &tauri::AppHandle, unread: u32) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let title = if unread == 0 {
        "Petrel".to_string()
    } else {
        format!("Petrel ({unread} unread)")
    };
    let _ = window.set_title(&title);
    let _ = window.set_badge_count((unread > 0).then_some(i64::from(unread)));
    crate::desktop::show_unread(app, unread);
}

/// A desktop notification for unread mail that arrived in an INBOX (one message by sender
/// and subject, several as one notice), if the user wants them and for this account.
fn notify_new_mail(app: &tauri::AppHandle, engine: &Engine, change: &petrel_core::FolderChange) {
    if !NOTIFY.load(Ordering::Relaxed) {
        return;
    }
    let Some(account) = engine
        .accounts()
        .into_iter()
        .find(|a| a.id == change.account)
    else {
        return;
    };
    if !account.sync.notify {
        return;
    }
    let label = if account.display_name.trim().is_empty() {
        account.email.clone()
    } else {
        account.display_name.clone()
    };
    let Some(notice) = petrel_engine::new_mail_notice(change, &label) else {
        return;
    };
    let id = NEXT_NOTICE.fetch_add(1, Ordering::SeqCst);
    remember(id, notice.opens);
    if let Err(e) = app
        .notification()
        .builder()
        .id(id)
        .title(notice.title)
        .body(notice.body)
        .show()
    {
        tracing::info!(error = %e, "no desktop notification");
    }
}

/// Notifications shown, by id, with the message a click on each shows (the last few).
static NEXT_NOTICE: AtomicI32 = AtomicI32::new(1);
static CLICK_TARGETS: Mutex<Vec<(i32, petrel_core::MessageAt)>> = Mutex::new(Vec::new());
const TARGETS_KEPT: usize = 64;

fn remember(id: i32, target: petrel_core::MessageAt) {
    let mut targets = CLICK_TARGETS.lock().unwrap_or_else(|e| e.into_inner());
    targets.push((id, target));
    let extra = targets.len().saturating_sub(TARGETS_KEPT);
    targets.drain(..extra);
}

/// A click on a new-mail notification: the window comes to the front with that message.
pub fn notification_clicked(
    app: &tauri::AppHandle,
    performed: &tauri_plugin_notification::ActionPerformed,
) {
    if performed.action_id() != "tap" {
        return;
    }
    let Some(id) = performed.notification().map(|n| n.id()) else {
        return;
    };
    let target = CLICK_TARGETS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(shown, _)| *shown == id)
        .map(|(_, target)| target.clone());
    if let Some(target) = target {
        crate::desktop::show(app);
        tell(app, UiEvent::OpenMessage(target));
    }
}
