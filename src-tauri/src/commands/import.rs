//! Import from Thunderbird and mail files (with `ImportProgress` events), and export as
//! mbox.

use crate::AppState;
use petrel_core::{
    AccountId, ErrorCode, ImportReport, ImportRequest, IpcError, ProfileContents,
    ThunderbirdProfile, UiEvent,
};
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use tauri_plugin_dialog::DialogExt;

/// The Thunderbird profiles on this computer, the default first.
#[tauri::command]
pub async fn thunderbird_profiles(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<ThunderbirdProfile>, IpcError> {
    Ok(state.engine()?.thunderbird_profiles())
}

/// What a Thunderbird profile directory holds.
#[tauri::command]
pub async fn read_thunderbird_profile(
    state: tauri::State<'_, AppState>,
    path: String,
) -> Result<ProfileContents, IpcError> {
    Ok(state
        .engine()?
        .read_thunderbird_profile(std::path::Path::new(&path))?)
}

/// The system's file chooser for an import: `kind` "mbox" (one file), "files" (message
/// files) or "folder" (a Maildir or a Thunderbird profile). Empty when cancelled.
#[tauri::command]
pub async fn pick_import_paths(
    app: tauri::AppHandle,
    kind: String,
) -> Result<Vec<String>, IpcError> {
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        let dialog = app.dialog().file();
        match kind.as_str() {
            "files" => dialog
                .add_filter("Email messages", &["eml"])
                .blocking_pick_files()
                .unwrap_or_default(),
            "folder" => dialog.blocking_pick_folder().into_iter().collect(),
            _ => dialog.blocking_pick_file().into_iter().collect(),
        }
    })
    .await
    .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(chosen
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .map(|p| p.display().to_string())
        .collect())
}

/// Imports mail, telling the window how far it is; "Stop" ends it after the current batch
/// (running it again goes on from there).
#[tauri::command]
pub async fn import_mail(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    request: ImportRequest,
) -> Result<ImportReport, IpcError> {
    let engine = state.engine()?;
    let Ok(_one) = state.importing.try_lock() else {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "An import is running already: wait for it to finish or stop it first.",
        ));
    };
    state.stop_import.store(false, Ordering::SeqCst);
    let stop = &state.stop_import;
    let mut progress = |p: petrel_core::ImportProgress| {
        crate::events::tell(&app, UiEvent::ImportProgress(p));
        if stop.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    Ok(engine.import_mail(&request, &mut progress).await?)
}

/// Stops the running import after its current batch.
#[tauri::command]
pub async fn stop_import(state: tauri::State<'_, AppState>) -> Result<(), IpcError> {
    state.stop_import.store(true, Ordering::SeqCst);
    Ok(())
}

/// Saves a folder as one mbox file where the user chooses; returns the count and where
/// (0 and "" when cancelled).
#[tauri::command]
pub async fn export_folder_mbox(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
) -> Result<(u32, String), IpcError> {
    let name = petrel_render::safe_file_name(&format!("{}.mbox", folder.replace('/', " - ")));
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_file_name(name)
            .add_filter("mbox", &["mbox"])
            .blocking_save_file()
    })
    .await
    .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    let Some(dest) = chosen.and_then(|p| p.into_path().ok()) else {
        return Ok((0, String::new()));
    };
    let count = state
        .engine()?
        .export_folder_mbox(&account, &folder, &dest)
        .await?;
    Ok((count, dest.display().to_string()))
}
