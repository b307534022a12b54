use crate::AppState;
use petrel_core::{AccountId, AccountSettings, IpcError, NewAccount, SyncOptions};

#[tauri::command]
pub async fn list_accounts(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<AccountSettings>, IpcError> {
    Ok(state.engine()?.accounts())
}

#[tauri::command]
pub async fn add_account(
    state: tauri::State<'_, AppState>,
    form: NewAccount,
    confirmed_hosts: Vec<String>,
) -> Result<AccountSettings, IpcError> {
    Ok(state
        .engine()?
        .add_confirmed_account(form, &confirmed_hosts)
        .await?)
}

/// Removes an account; local-only mail is deleted only when asked. Returns the directory
/// where kept local mail is ("" when there is none).
#[tauri::command]
pub async fn remove_account(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    delete_local_mail: bool,
) -> Result<String, IpcError> {
    let kept = state
        .engine()?
        .remove_account(&account, delete_local_mail)
        .await?;
    Ok(kept.map(|p| p.display().to_string()).unwrap_or_default())
}

#[tauri::command]
pub async fn set_pop3_options(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    options: petrel_core::Pop3Options,
) -> Result<AccountSettings, IpcError> {
    Ok(state.engine()?.set_pop3_options(&account, options)?)
}

#[tauri::command]
pub async fn set_sync_options(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    options: SyncOptions,
) -> Result<AccountSettings, IpcError> {
    Ok(state.engine()?.set_sync_options(&account, options)?)
}

/// What this launch's command line asked for (a mailto: link, a message file): the window
/// asks once it listens; later launches' requests come as events.
#[tauri::command]
pub async fn take_launch_requests(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<petrel_core::UiEvent>, IpcError> {
    let mut pending = state
        .launch
        .lock()
        .map_err(|_| IpcError::new(petrel_core::ErrorCode::Internal, "launch requests"))?;
    Ok(std::mem::take(&mut *pending))
}

/// How Petrel behaves as a desktop program (tray, start at login, start hidden).
#[tauri::command]
pub async fn desktop_options() -> Result<petrel_core::DesktopOptions, IpcError> {
    Ok(crate::desktop::options())
}

/// Applies and saves the desktop options (creating or removing the login item).
#[tauri::command]
pub async fn set_desktop_options(
    app: tauri::AppHandle,
    options: petrel_core::DesktopOptions,
) -> Result<(), IpcError> {
    crate::desktop::apply(&app, options)
        .map_err(|e| IpcError::new(petrel_core::ErrorCode::Storage, e))
}
