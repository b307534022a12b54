use crate::AppState;
use petrel_core::{AccountId, Folder, IpcError};

#[tauri::command]
pub async fn create_folder(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    path: String,
) -> Result<Vec<Folder>, IpcError> {
    Ok(state.engine()?.create_folder(&account, &path).await?)
}

#[tauri::command]
pub async fn rename_folder(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    from: String,
    to: String,
) -> Result<Vec<Folder>, IpcError> {
    Ok(state.engine()?.rename_folder(&account, &from, &to).await?)
}

#[tauri::command]
pub async fn delete_folder(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    path: String,
) -> Result<Vec<Folder>, IpcError> {
    Ok(state.engine()?.delete_folder(&account, &path).await?)
}

#[tauri::command]
pub async fn set_subscribed(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    path: String,
    subscribed: bool,
) -> Result<Vec<Folder>, IpcError> {
    Ok(state
        .engine()?
        .set_subscribed(&account, &path, subscribed)
        .await?)
}
