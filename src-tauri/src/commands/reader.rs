use crate::AppState;
use petrel_core::{AccountId, AttachmentRef, ErrorCode, IpcError, RowExtra};
use tauri_plugin_opener::OpenerExt;

/// Opens a link from a message in the system browser, or a mailto: link in Petrel's
/// composer (the `compose` event).
#[tauri::command]
pub async fn open_link(app: tauri::AppHandle, url: String) -> Result<(), IpcError> {
    if !crate::is_external_link(&url) {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "Only web and mailto links can be opened.",
        ));
    }
    crate::open_external_link(&app, &url).map_err(|e| IpcError::new(ErrorCode::Internal, e))
}

/// Saves an attachment and returns where it went (empty when the user cancelled). `ask`:
/// the system's "Save as" dialog; otherwise the Downloads folder, under a new name if one
/// exists. Saved files carry the system's "from the internet" mark.
#[tauri::command]
pub async fn save_attachment(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    attachment: AttachmentRef,
    ask: Option<bool>,
) -> Result<String, IpcError> {
    let AttachmentRef {
        account,
        folder,
        uid,
        index,
    } = attachment;
    let engine = state.engine()?;
    if ask.unwrap_or(false) {
        use tauri_plugin_dialog::DialogExt;
        let (name, _) = engine.attachment(&account, &folder, uid, index).await?;
        let suggested = petrel_render::safe_file_name(&name);
        // The dialog blocks its thread until the user answers: not an async worker's.
        let chosen = tauri::async_runtime::spawn_blocking(move || {
            app.dialog()
                .file()
                .set_file_name(suggested)
                .blocking_save_file()
        })
        .await
        .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
        let Some(path) = chosen.and_then(|p| p.into_path().ok()) else {
            return Ok(String::new());
        };
        engine
            .save_attachment_as(&account, &folder, uid, index, &path)
            .await?;
        return Ok(path.display().to_string());
    }
    let dir = dirs::download_dir()
        .or_else(dirs::home_dir)
        .ok_or_else(|| IpcError::new(ErrorCode::Storage, "No Downloads folder on this system."))?;
    let path = engine
        .save_attachment(&account, &folder, uid, index, &dir)
        .await?;
    Ok(path.display().to_string())
}

/// What some rows of a folder show beyond their cached fields (preview line, recipients,
/// no Date), asked for after the rows are painted.
#[tauri::command]
pub async fn row_extras(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uids: Vec<u32>,
) -> Result<Vec<RowExtra>, IpcError> {
    Ok(state.engine()?.row_extras(&account, &folder, &uids).await?)
}

/// A message's source as text ("View source"): the first megabyte, and the whole size.
#[tauri::command]
pub async fn message_source(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uid: u32,
) -> Result<(String, u64), IpcError> {
    Ok(state
        .engine()?
        .message_source(&account, &folder, uid)
        .await?)
}

/// Saves a message as an `.eml` file where the user chooses; returns the path (empty when
/// cancelled).
#[tauri::command]
pub async fn export_message(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uid: u32,
) -> Result<String, IpcError> {
    use tauri_plugin_dialog::DialogExt;
    let (name, bytes) = state
        .engine()?
        .export_message(&account, &folder, uid)
        .await?;
    // The dialog blocks its thread until the user answers: not an async worker's.
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_file_name(name)
            .add_filter("Email message", &["eml"])
            .blocking_save_file()
    })
    .await
    .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    let Some(path) = chosen.and_then(|p| p.into_path().ok()) else {
        return Ok(String::new());
    };
    std::fs::write(&path, &bytes).map_err(storage)?;
    Ok(path.display().to_string())
}

/// Exports a local folder as a Maildir into a directory the user picks (a new `<folder>`
/// directory inside it); returns the count and where (count 0 and "" when cancelled).
#[tauri::command]
pub async fn export_folder(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
) -> Result<(u32, String), IpcError> {
    use tauri_plugin_dialog::DialogExt;
    let chosen =
        tauri::async_runtime::spawn_blocking(move || app.dialog().file().blocking_pick_folder())
            .await
            .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    let Some(dir) = chosen.and_then(|p| p.into_path().ok()) else {
        return Ok((0, String::new()));
    };
    let dest = dir.join(petrel_render::safe_file_name(&folder.replace('/', " - ")));
    let engine = state.engine()?;
    let count = engine.export_folder(&account, &folder, &dest)?;
    Ok((count, dest.display().to_string()))
}

/// Opens an attachment with the system's app for its type, from a private copy. Programs
/// and scripts are refused (the engine says why); other types outside the safe list need
/// `confirmed` (the user answered the question naming the type).
#[tauri::command]
pub async fn open_attachment(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    attachment: AttachmentRef,
    confirmed: Option<bool>,
) -> Result<(), IpcError> {
    let a = attachment;
    let path = state
        .engine()?
        .attachment_to_open(
            &a.account,
            &a.folder,
            a.uid,
            a.index,
            confirmed.unwrap_or(false),
        )
        .await?;
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| IpcError::new(ErrorCode::Internal, format!("Could not open the file: {e}")))
}

fn storage(e: std::io::Error) -> IpcError {
    IpcError::new(ErrorCode::Storage, format!("Could not write the file: {e}"))
}
