//! The Petrel app shell: builds the Tauri app, owns the engine, and exposes thin commands.
//! All mail logic lives in the Tauri-free crates under `src-tauri/crates/`.

mod commands;
mod desktop;
mod events;
mod logging;

use petrel_core::{ErrorCode, IpcError};
use petrel_engine::StoreError;
use petrel_engine::{Engine, KeychainSecrets, MailCache, MemoryCache, SledCache, TrustPolicy};
use std::sync::Arc;

/// What every command reaches through `tauri::State`.
pub struct AppState {
    engine: Result<Arc<Engine>, IpcError>,
    /// What this launch's command line asked for (a mailto: link, a message file), kept
    /// until the window asks for it (it may load after the events would have gone).
    pub(crate) launch: std::sync::Mutex<Vec<petrel_core::UiEvent>>,
    /// Wakes a sign-in waiting for the browser when the user presses Cancel.
    pub(crate) cancel_sign_in: tokio::sync::Notify,
    /// Set by "Stop" to end the running import after its current batch.
    pub(crate) stop_import: std::sync::atomic::AtomicBool,
    /// One import at a time (two would read the same files into the same folders).
    pub(crate) importing: tokio::sync::Mutex<()>,
}

impl AppState {
    pub(crate) fn engine(&self) -> Result<Arc<Engine>, IpcError> {
        self.engine.clone()
    }
}

/// What opening the engine gave: the engine, or why not — with "another Petrel has this
/// config dir" told apart (then this launch hands its arguments over and exits).
enum Opened {
    Engine(Arc<Engine>),
    AlreadyRunning(std::path::PathBuf),
    Failed(IpcError),
}

fn open_engine() -> Opened {
    let Some(dir) = petrel_engine::default_config_dir() else {
        return Opened::Failed(IpcError::new(
            ErrorCode::Storage,
            "This system has no configuration directory for Petrel.",
        ));
    };
    match Engine::open(
        &dir,
        Arc::new(KeychainSecrets::default()),
        TrustPolicy::default(),
        open_cache(),
    ) {
        Ok(engine) => Opened::Engine(Arc::new(engine)),
        Err(petrel_engine::EngineError::AlreadyRunning { .. }) => Opened::AlreadyRunning(dir),
        Err(e) => Opened::Failed(e.into()),
    }
}

/// What `args` (without the program's name) ask the window to do: a composer for a
/// `mailto:` link (only to, cc, bcc, subject and body are taken), a reader for a message
/// file, or why a file cannot be shown.
fn launch_events(args: &[String]) -> Vec<petrel_core::UiEvent> {
    use petrel_core::UiEvent;
    use petrel_engine::LaunchRequest;
    let cwd = std::env::current_dir().unwrap_or_default();
    petrel_engine::launch_requests(args, &cwd)
        .into_iter()
        .map(|request| match request {
            LaunchRequest::Compose(start) => UiEvent::Compose(start),
            LaunchRequest::OpenFile(path) => match petrel_engine::read_message_file(&path) {
                Ok(file) => UiEvent::OpenMessageFile(Box::new(file)),
                Err(e) => UiEvent::LaunchFailed(e.to_string()),
            },
        })
        .collect()
}

/// A later launch's arguments (or the OS's "open with Petrel"): the window comes to the
/// front and does what they ask.
fn launched_again(app: &tauri::AppHandle, args: &[String]) {
    desktop::show(app);
    for event in launch_events(args) {
        events::tell(app, event);
    }
}

/// The mail cache holds only what the server can give again, so a cache that will not open
/// (corrupt, from a newer version) is deleted and started afresh; memory is the last resort.
fn open_cache() -> Arc<dyn MailCache> {
    let Some(dir) = petrel_engine::default_cache_dir() else {
        tracing::warn!("no cache directory on this system; caching in memory");
        return Arc::new(MemoryCache::new());
    };
    // Message bodies live here: readable by this user only (review L2).
    if let Err(e) = petrel_engine::instance::create_private_dir(&dir) {
        tracing::warn!(error = %e, "could not make the cache directory private");
    }
    match SledCache::open(&dir) {
        Ok(cache) => return Arc::new(cache),
        // Another Petrel is running on this cache: never delete it from under that one.
        Err(e @ StoreError::Locked(_)) => {
            tracing::warn!(error = %e, "caching in memory for this window");
            return Arc::new(MemoryCache::new());
        }
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "mail cache unreadable, rebuilding it")
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    match SledCache::open(&dir) {
        Ok(cache) => Arc::new(cache),
        Err(e) => {
            tracing::error!(error = %e, "mail cache cannot be created; caching in memory");
            Arc::new(MemoryCache::new())
        }
    }
}

/// Links a person may open from a message: web pages and mail addresses, nothing that runs.
pub(crate) fn is_external_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

/// Opens a link from a message: a web page in the system browser; a `mailto:` link in
/// Petrel's own composer (to, cc, bcc, subject and body only), never the system's mail
/// handler, which may honour `attach=` (review M9).
pub(crate) fn open_external_link(app: &tauri::AppHandle, url: &str) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    if url.trim().to_ascii_lowercase().starts_with("mailto:") {
        let start = petrel_engine::mailto_composition(url).map_err(|e| e.to_string())?;
        events::tell(app, petrel_core::UiEvent::Compose(Box::new(start)));
        return Ok(());
    }
    if !is_external_link(url) {
        return Err("Only web and mailto links can be opened.".into());
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| format!("Could not open the link: {e}"))
}

/// The app's own pages, exactly: its origin (`tauri://localhost`, `http(s)://tauri.localhost`
/// on Windows), the reader frame's `about:srcdoc`/`about:blank`, and the dev server only in
/// debug builds (review L8: not any `localhost` URL of any scheme or port, not `data:`).
fn is_app_url(url: &tauri::Url) -> bool {
    let host = url.host_str();
    match url.scheme() {
        "tauri" => host == Some("localhost"),
        "about" => matches!(url.path(), "blank" | "srcdoc"),
        "http" | "https" if host == Some("tauri.localhost") => true,
        "http" => cfg!(debug_assertions) && host == Some("localhost") && url.port() == Some(5173),
        _ => false,
    }
}

/// The window from tauri.conf.json (`create: false` there), with the rules for what mail
/// content may do: a link clicked in a message (a new-window request from the sandboxed
/// frame) opens in the system browser, never in Petrel; the window itself never navigates
/// away from the app.
fn open_main_window(app: &mut tauri::App, hidden: bool) -> tauri::Result<()> {
    let Some(config) = app.config().app.windows.first().cloned() else {
        return Ok(());
    };
    let handle = app.handle().clone();
    let navigate_handle = app.handle().clone();
    tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?
        .on_new_window(move |url, _features| {
            if is_external_link(url.as_str()) {
                if let Err(e) = open_external_link(&handle, url.as_str()) {
                    tracing::warn!(error = %e, "could not open a link");
                }
            }
            tauri::webview::NewWindowResponse::Deny
        })
        .on_navigation(move |url| {
            let internal = is_app_url(url);
            if !internal && is_external_link(url.as_str()) {
                if let Err(e) = open_external_link(&navigate_handle, url.as_str()) {
                    tracing::warn!(error = %e, "could not open a link");
                }
            }
            internal
        })
        // Files dropped on the window reach the page as HTML drag-and-drop (the composer's
        // attachments) instead of being taken by the native handler.
        .disable_drag_drop_handler()
        // A start at login with "start hidden": only the tray icon.
        .visible(!hidden)
        .build()?;
    Ok(())
}

#[cfg(target_os = "linux")]
const COMPOSITING_VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Memory settings, applied before any thread or the webview starts.
fn lean_memory() {
    petrel_engine::heap::tune();
    // WebKitGTK's compositing mode keeps GPU layers (software GL without a GPU) for a
    // window of lists and text that gains nothing from them; off, the web process holds
    // ~60 MB less (UI benchmark). A user's own setting is kept ("0" brings it back). The
    // hang once blamed on the reader in this mode is WebKitWebDriver's screenshot, with
    // any page (tests/webkit/screenshot-hang.mjs), not something a user meets.
    #[cfg(target_os = "linux")]
    if std::env::var_os(COMPOSITING_VAR).is_none() {
        std::env::set_var(COMPOSITING_VAR, "1");
    }
}

/// macOS hands mailto: links and opened files to the running app as events, not arguments.
fn on_run_event(app: &tauri::AppHandle, event: tauri::RunEvent) {
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    if let tauri::RunEvent::Opened { urls } = &event {
        let args: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
        launched_again(app, &args);
    }
    let _ = (app, event);
}

/// `--bench-floor-window`: the memory floor for `npm run bench -- ui` — this same Tauri
/// build with the same settings and window, showing an empty page: no engine, no plugins,
/// no UI. What Petrel adds is measured over it.
const FLOOR_WINDOW_ARG: &str = "--bench-floor-window";

fn floor_window() {
    let result = tauri::Builder::default()
        .setup(|app| {
            if let Some(mut config) = app.config().app.windows.first().cloned() {
                config.url = tauri::WebviewUrl::App("floor.html".into());
                tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?
                    .disable_drag_drop_handler()
                    .build()?;
            }
            Ok(())
        })
        .run(context());
    if let Err(e) = result {
        eprintln!("the floor window could not start: {e}");
        std::process::exit(1);
    }
}

/// The app's context (config and embedded UI), generated once for both entries.
fn context() -> tauri::Context {
    tauri::generate_context!()
}

pub fn run() {
    // The start's steps are logged with their time from here (the UI bench's cold start).
    let started = std::time::Instant::now();
    let step = move |what: &str| {
        tracing::info!(ms = started.elapsed().as_millis() as u64, "start: {what}");
    };
    lean_memory();
    if std::env::args().any(|a| a == FLOOR_WINDOW_ARG) {
        return floor_window();
    }
    logging::init();
    // Big work (a first sync, indexing) leaves its freed memory resident unless given back.
    petrel_engine::heap::keep_lean();
    let engine = match open_engine() {
        Opened::Engine(engine) => Ok(engine),
        // One Petrel per config dir (review M2): the running one gets this launch's
        // arguments and comes to the front; this process ends.
        Opened::AlreadyRunning(dir) => {
            // Relative file names mean this process's folder, not the running one's.
            let cwd = std::env::current_dir().unwrap_or_default();
            let args: Vec<String> = std::env::args().collect();
            let args = petrel_engine::with_absolute_paths(&args, &cwd);
            match petrel_engine::instance::hand_over(&dir, &args) {
                Ok(()) => {
                    tracing::info!("Petrel is already running: handed over to it");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "Petrel is already running and did not answer");
                    Err(petrel_engine::EngineError::AlreadyRunning {
                        dir: dir.display().to_string(),
                    }
                    .into())
                }
            }
        }
        Opened::Failed(e) => {
            tracing::error!(error = %e.message, "engine failed to open");
            Err(e)
        }
    };
    step("engine opened");
    let background = engine.as_ref().ok().cloned();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let launch = std::sync::Mutex::new(launch_events(&args));
    let desktop_options = desktop::options();
    let hidden = desktop::start_hidden(&args, &desktop_options);
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        // Window size, position and maximized state, remembered.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(desktop::window_state_flags())
                .build(),
        )
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![desktop::AUTOSTART_ARG]),
        ))
        .on_window_event(|window, event| match event {
            tauri::WindowEvent::CloseRequested { api, .. } => {
                desktop::on_close_requested(window, api)
            }
            tauri::WindowEvent::Resized(_) | tauri::WindowEvent::Moved(_) => {
                desktop::window_changed(tauri::Manager::app_handle(window))
            }
            _ => {}
        })
        .setup(move |app| {
            step("Tauri set up");
            open_main_window(app, hidden)?;
            step("window created");
            desktop::install_tray(app.handle(), &desktop_options);
            {
                use tauri_plugin_notification::NotificationExt;
                let handle = app.handle().clone();
                let _ = app
                    .notification()
                    .on_action(move |performed| events::notification_clicked(&handle, performed));
            }
            if let Some(engine) = &background {
                match engine.listen_for_launches() {
                    Ok(listener) => {
                        let handle = app.handle().clone();
                        std::thread::spawn(move || {
                            while let Some(args) = listener.next() {
                                launched_again(&handle, args.get(1..).unwrap_or_default());
                            }
                        });
                    }
                    Err(e) => tracing::warn!(error = %e, "later launches cannot hand over"),
                }
            }
            if let Some(engine) = background {
                events::spawn_watchers(app.handle().clone(), engine);
            }
            Ok(())
        })
        .manage(AppState {
            engine,
            launch,
            cancel_sign_in: tokio::sync::Notify::new(),
            stop_import: Default::default(),
            importing: Default::default(),
        })
        .invoke_handler(tauri::generate_handler![
            commands::accounts::list_accounts,
            commands::accounts::add_account,
            commands::accounts::remove_account,
            commands::accounts::set_sync_options,
            commands::accounts::set_pop3_options,
            commands::mail::list_folders,
            commands::mail::list_envelopes,
            commands::mail::refresh_folder,
            commands::mail::list_threads,
            commands::mail::search_mail,
            commands::mail::conversation_of,
            commands::mail::read_message,
            commands::mail::set_flags,
            commands::mail::mark_all_read,
            commands::mail::move_messages,
            commands::mail::copy_messages,
            commands::mail::delete_messages,
            commands::mail::archive_messages,
            commands::mail::account_status,
            commands::mail::account_quota,
            commands::mail::list_unified,
            commands::mail::set_notifications,
            commands::folders::create_folder,
            commands::folders::rename_folder,
            commands::folders::delete_folder,
            commands::folders::set_subscribed,
            commands::reader::open_link,
            commands::reader::save_attachment,
            commands::reader::export_message,
            commands::reader::message_source,
            commands::reader::row_extras,
            commands::compose::start_composition,
            commands::compose::start_composition_from_file,
            commands::compose::copy_message_file,
            commands::accounts::take_launch_requests,
            commands::accounts::desktop_options,
            commands::accounts::set_desktop_options,
            commands::compose::send_message,
            commands::compose::set_smtp,
            commands::compose::set_sending,
            commands::compose::save_draft,
            commands::compose::discard_draft,
            commands::compose::open_draft,
            commands::compose::list_outbox,
            commands::compose::outbox_count,
            commands::compose::unqueue,
            commands::compose::settle_unsure,
            commands::compose::flush_outbox,
            commands::compose::address_suggestions,
            commands::setup::discover_settings,
            commands::setup::advise,
            commands::setup::server_quota,
            commands::setup::update_incoming,
            commands::setup::export_setup_log,
            commands::sign_in::sign_in,
            commands::sign_in::sign_in_again,
            commands::sign_in::cancel_sign_in,
            commands::sign_in::change_sign_in,
            commands::reader::export_folder,
            commands::import::thunderbird_profiles,
            commands::import::read_thunderbird_profile,
            commands::import::pick_import_paths,
            commands::import::import_mail,
            commands::import::stop_import,
            commands::import::export_folder_mbox,
            commands::reader::open_attachment,
        ])
        .build(context())
        .map(|app| app.run(on_run_event));
    if let Err(e) = result {
        tracing::error!(error = %e, "Petrel stopped with an error");
        eprintln!("Petrel could not start: {e}");
        std::process::exit(1);
    }
}
