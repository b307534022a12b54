use crate::AppState;
use petrel_core::{
    AccountId, AccountSettings, AddressSuggestion, ComposeKind, Composition, IpcError,
    QueuedMessage, SendReport, SendingOptions, ServerSettings,
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

/// A reply, reply all or forward of a message file opened from outside, from `account`.
#[tauri::command]
pub async fn start_composition_from_file(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    path: String,
    kind: ComposeKind,
) -> Result<Composition, IpcError> {
    Ok(state
        .engine()?
        .start_composition_from_file(&account, std::path::Path::new(&path), kind)
        .await?)
}

/// Copies a message file opened from outside into `folder` of `account`.
#[tauri::command]
pub async fn copy_message_file(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    path: String,
) -> Result<(), IpcError> {
    Ok(state
        .engine()?
        .copy_message_file(&account, &folder, std::path::Path::new(&path))
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
pub async fn set_smtp(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    smtp: Option<ServerSettings>,
) -> Result<AccountSettings, IpcError> {
    Ok(state.engine()?.set_smtp(&account, smtp)?)
}

/// Signature, identities, and whether the server files sent mail itself.
#[tauri::command]
pub async fn set_sending(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    sending: SendingOptions,
) -> Result<AccountSettings, IpcError> {
    Ok(state.engine()?.set_sending(&account, sending)?)
}

/// Saves the composition in Drafts (replacing its previous copy); returns its Message-ID.
#[tauri::command]
pub async fn save_draft(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    message: Composition,
) -> Result<String, IpcError> {
    Ok(state.engine()?.save_draft(&account, message).await?)
}

/// Removes every copy of a draft.
#[tauri::command]
pub async fn discard_draft(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    message_id: String,
) -> Result<(), IpcError> {
    Ok(state.engine()?.discard_draft(&account, &message_id).await?)
}

/// A draft, to continue writing it.
#[tauri::command]
pub async fn open_draft(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uid: u32,
) -> Result<Composition, IpcError> {
    Ok(state.engine()?.open_draft(&account, &folder, uid).await?)
}

/// What waits in the account's outbox (every message is read: off the async workers).
#[tauri::command]
pub async fn list_outbox(
    state: tauri::State<'_, AppState>,
    account: AccountId,
) -> Result<Vec<QueuedMessage>, IpcError> {
    let engine = state.engine()?;
    tauri::async_runtime::spawn_blocking(move || engine.outbox_messages(&account))
        .await
        .map_err(|e| IpcError::new(petrel_core::ErrorCode::Internal, e.to_string()))?
        .map_err(IpcError::from)
}

/// How many messages the account's outbox shows (waiting or refused; file names only, so
/// cheap: the folder tree's count).
#[tauri::command]
pub async fn outbox_count(
    state: tauri::State<'_, AppState>,
    account: AccountId,
) -> Result<u32, IpcError> {
    Ok(state.engine()?.outbox_shown(&account)?)
}

/// Takes a message back out of the outbox (to edit it, or to drop it).
#[tauri::command]
pub async fn unqueue(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    message_id: String,
) -> Result<Composition, IpcError> {
    Ok(state.engine()?.unqueue(&account, &message_id).await?)
}

/// The user's answer for a message that may have been sent (Petrel stopped as it left):
/// `arrived` files it in Sent, otherwise it is sent again.
#[tauri::command]
pub async fn settle_unsure(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    message_id: String,
    arrived: bool,
) -> Result<SendReport, IpcError> {
    Ok(state
        .engine()?
        .settle_unsure(&account, &message_id, arrived)
        .await?)
}

/// Tries the outbox now ("Send now").
#[tauri::command]
pub async fn flush_outbox(
    state: tauri::State<'_, AppState>,
    account: AccountId,
) -> Result<SendReport, IpcError> {
    Ok(state.engine()?.flush_outbox(&account).await?)
}

/// Addresses seen in mail that start with `query`.
#[tauri::command]
pub async fn address_suggestions(
    state: tauri::State<'_, AppState>,
    query: String,
) -> Result<Vec<AddressSuggestion>, IpcError> {
    Ok(state.engine()?.address_suggestions(&query, 8))
}
