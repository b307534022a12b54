//! Petrel as a desktop program: the tray icon (unread count, Get mail / Write / Show–Hide /
//! Quit), the window hidden instead of closed when the user wants Petrel kept running,
//! starting at login (the autostart plugin), started hidden. The options themselves live in
//! the engine (`desktop.json`).

use crate::events::tell;
use petrel_core::{DesktopOptions, UiEvent};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt;

/// Whether closing the window only hides it (and a tray icon is there to bring it back).
static KEEP_RUNNING: AtomicBool = AtomicBool::new(false);
const TRAY_ID: &str = "petrel";
/// What a start at login passes, so the start can stay hidden when the user asked.
pub const AUTOSTART_ARG: &str = "--autostart";

/// The saved options (defaults when there are none).
pub fn options() -> DesktopOptions {
    petrel_engine::default_config_dir()
        .map(|dir| petrel_engine::load_desktop_options(&dir))
        .unwrap_or_default()
}

/// Whether this launch should show no window: a start at login with "start hidden".
pub fn start_hidden(args: &[String], options: &DesktopOptions) -> bool {
    options.start_hidden && args.iter().any(|a| a == AUTOSTART_ARG)
}

/// Applies and saves the options (the login item is created or removed here).
pub fn apply(app: &AppHandle, options: DesktopOptions) -> Result<(), String> {
    let dir = petrel_engine::default_config_dir().ok_or("no configuration directory")?;
    let launcher = app.autolaunch();
    let listed = launcher.is_enabled().unwrap_or(false);
    if options.start_at_login != listed {
        let done = if options.start_at_login {
            launcher.enable()
        } else {
            launcher.disable()
        };
        done.map_err(|e| format!("Starting at login could not be changed: {e}"))?;
    }
    petrel_engine::save_desktop_options(&dir, &options).map_err(|e| e.to_string())?;
    KEEP_RUNNING.store(options.keep_running_in_tray, Ordering::SeqCst);
    Ok(())
}

/// The tray icon and its menu. A desktop without a tray just has none (logged, not fatal).
pub fn install_tray(app: &AppHandle, options: &DesktopOptions) {
    KEEP_RUNNING.store(options.keep_running_in_tray, Ordering::SeqCst);
    if let Err(e) = build_tray(app) {
        tracing::warn!(error = %e, "no tray icon on this desktop");
    }
}

fn build_tray(app: &AppHandle) -> tauri::Result<()> {
    let menu = Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, "get-mail", "Get mail", true, None::<&str>)?,
            &MenuItem::with_id(app, "write", "Write a message", true, None::<&str>)?,
            &MenuItem::with_id(app, "show-hide", "Show or hide Petrel", true, None::<&str>)?,
            &MenuItem::with_id(app, "quit", "Quit Petrel", true, None::<&str>)?,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .menu(&menu)
        .tooltip("Petrel")
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "get-mail" => tell(app, UiEvent::GetMail),
            "write" => {
                show(app);
                tell(app, UiEvent::Compose(Box::default()));
            }
            "show-hide" => toggle(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                toggle(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// The unread count on the tray icon (tooltip; the label beside it on Linux).
pub fn show_unread(app: &AppHandle, unread: u32) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let text = match unread {
        0 => "Petrel".to_string(),
        1 => "Petrel — 1 unread message".to_string(),
        n => format!("Petrel — {n} unread messages"),
    };
    let _ = tray.set_tooltip(Some(&text));
    #[cfg(target_os = "linux")]
    let _ = tray.set_title((unread > 0).then(|| unread.to_string()));
}

/// The window to the front (restored, shown, focused): a later launch, a notification's
/// click, the tray.
pub fn show(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

fn toggle(app: &AppHandle) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    if window.is_visible().unwrap_or(false) {
        let _ = window.hide();
    } else {
        show(app);
    }
}

/// Closing the window: hidden instead when Petrel is to keep running in the tray.
pub fn on_close_requested(window: &tauri::Window, api: &tauri::CloseRequestApi) {
    if KEEP_RUNNING.load(Ordering::SeqCst) && window.app_handle().tray_by_id(TRAY_ID).is_some() {
        api.prevent_close();
        let _ = window.hide();
    }
}

/// What of the window is remembered (not visibility: a window hidden in the tray must not
/// start hidden next time).
pub fn window_state_flags() -> tauri_plugin_window_state::StateFlags {
    use tauri_plugin_window_state::StateFlags;
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// Moves and resizes bump this; the state is written once they stop for a moment.
static WINDOW_CHANGES: AtomicU64 = AtomicU64::new(0);

/// The window moved or was resized: its state is saved when that settles (the plugin itself
/// writes only at a clean exit, which a crash or a killed process never reaches).
pub fn window_changed(app: &AppHandle) {
    use tauri_plugin_window_state::AppHandleExt;
    let change = WINDOW_CHANGES.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        if WINDOW_CHANGES.load(Ordering::SeqCst) == change {
            if let Err(e) = app.save_window_state(window_state_flags()) {
                tracing::info!(error = %e, "window size and position not saved");
            }
        }
    });
}
