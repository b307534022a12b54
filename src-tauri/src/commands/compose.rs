use crate::AppState;
use petrel_core::{
    AccountId, AccountSettings, ComposeKind, Composition, IpcError, SendReport, ServerSettings,
};

/// A reply, reply all or forward of a message, for the composer.
#[tauri::command]
pub async fn start_composition(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uid: u32,
    kind: ComposeKind,
) -> Result<Composition, IpcError> {
    Ok(state
        .engine()?
        .start_composition(&account, &folder, uid, kind)
        .await?)
}

/// Sends (through the durable outbox); `queued` when the server could not be reached yet.
#[tauri::command]
pub async fn send_message(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    message: Composition,
) -> Result<SendReport, IpcError> {
    Ok(state.engine()?.send_message(&account, message).await?)
}

/// The account's outgoing (SMTP) server.
#[tauri::command]
pub fn set_smtp(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    smtp: Option<ServerSettings>,
) -> Result<AccountSettings, IpcError> {
    Ok(state.engine()?.set_smtp(&account, smtp)?)
}
