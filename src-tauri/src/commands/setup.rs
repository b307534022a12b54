//! The setup wizard: discovery (with `SetupProgress` events), the advisor, and the
//! connection doctor's log. Verifying and saving is `add_account`.

use crate::AppState;
use petrel_core::{
    Advice, AdvisorAnswers, Discovery, DoctorLine, ErrorCode, IpcError, ProviderNotes,
    ServerEvidence, UiEvent,
};

/// Finds the settings for an address, telling the window which source is being tried.
#[tauri::command]
pub async fn discover_settings(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    email: String,
) -> Result<Discovery, IpcError> {
    let progress =
        move |p: petrel_core::SetupProgress| crate::events::tell(&app, UiEvent::SetupProgress(p));
    Ok(state.engine()?.discover(&email, &progress).await?)
}

/// POP3 or IMAP, for these answers and what the servers said.
#[tauri::command]
pub async fn advise(
    state: tauri::State<'_, AppState>,
    answers: AdvisorAnswers,
    evidence: ServerEvidence,
    provider: Option<ProviderNotes>,
) -> Result<Advice, IpcError> {
    Ok(state
        .engine()?
        .advise(&answers, &evidence, provider.as_ref()))
}

/// Storage use and limit of a found IMAP server (after the user saw it), for the advisor.
#[tauri::command]
pub async fn server_quota(
    state: tauri::State<'_, AppState>,
    email: String,
    imap: petrel_core::ServerSettings,
    password: String,
    confirmed_hosts: Vec<String>,
) -> Result<Option<petrel_core::Quota>, IpcError> {
    Ok(state
        .engine()?
        .confirmed_server_quota(&email, &imap, &password, &confirmed_hosts)
        .await?)
}

/// Saves the connection log (redacted) where the user chooses; the path, "" if cancelled.
#[tauri::command]
pub async fn export_setup_log(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    lines: Vec<DoctorLine>,
    email: String,
) -> Result<String, IpcError> {
    use tauri_plugin_dialog::DialogExt;
    let text = state.engine()?.export_setup_log(&lines, &email);
    // The dialog blocks its thread until the user answers: not an async worker's.
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_file_name("petrel-connection-log.txt")
            .blocking_save_file()
    })
    .await
    .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    let Some(path) = chosen.and_then(|p| p.into_path().ok()) else {
        return Ok(String::new());
    };
    std::fs::write(&path, text)
        .map_err(|e| IpcError::new(ErrorCode::Storage, format!("Could not save the log: {e}")))?;
    Ok(path.display().to_string())
}

/// Edits an account's name, address and incoming server after a successful test login.
#[tauri::command]
pub async fn update_incoming(
    state: tauri::State<'_, AppState>,
    update: petrel_core::IncomingUpdate,
) -> Result<petrel_core::AccountSettings, IpcError> {
    let u = update;
    Ok(state
        .engine()?
        .update_incoming(
            &u.account,
            &u.display_name,
            &u.email,
            u.incoming,
            u.password,
        )
        .await?)
}
