use crate::AppState;
use petrel_core::{
    AccountId, AccountStatus, ActionOutcome, ConversationSpot, EnvelopePage, FlagsRequest, Folder,
    FolderRefresh, IpcError, MessageView, PageRequest, Quota, SearchOrder, SearchResults,
    ThreadPage, ThreadsRequest, UnifiedPage, UnifiedView,
};

#[tauri::command]
pub async fn list_folders(
    state: tauri::State<'_, AppState>,
    account: AccountId,
) -> Result<Vec<Folder>, IpcError> {
    Ok(state.engine()?.folders(&account).await?)
}

/// Rows of a folder from the cache; never talks to the server (see `refresh_folder`).
#[tauri::command]
pub async fn list_envelopes(
    state: tauri::State<'_, AppState>,
    request: PageRequest,
) -> Result<EnvelopePage, IpcError> {
    let PageRequest {
        account,
        folder,
        offset,
        limit,
        query,
    } = request;
    Ok(state
        .engine()?
        .page(&account, &folder, offset, limit, &query.unwrap_or_default())
        .await?)
}

/// Brings a folder up to date with the server: `force` for Get mail (now, whatever the
/// backoff), else only when it was not refreshed since start (a first open).
/// New unread mail it finds is announced like the background check's (a notification).
#[tauri::command]
pub async fn refresh_folder(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    force: bool,
) -> Result<FolderRefresh, IpcError> {
    let engine = state.engine()?;
    let refresh = engine.refresh_folder(&account, &folder, force).await?;
    crate::events::announce(&app, &engine, &refresh.change);
    Ok(refresh)
}

/// The folder as conversations (with the user's replies from Sent); `expanded` names the
/// conversations shown open.
#[tauri::command]
pub async fn list_threads(
    state: tauri::State<'_, AppState>,
    request: ThreadsRequest,
) -> Result<ThreadPage, IpcError> {
    let r = request;
    Ok(state
        .engine()?
        .threads(
            &r.account,
            &r.folder,
            r.offset,
            r.limit,
            r.refresh,
            &r.query.unwrap_or_default(),
            &r.expanded,
        )
        .await?)
}

/// Searches every account (the search language of `petrel_core::query`); with `server`,
/// the IMAP servers of folders whose bodies are not all here too.
#[tauri::command]
pub async fn search_mail(
    state: tauri::State<'_, AppState>,
    text: String,
    order: SearchOrder,
    limit: u32,
    server: bool,
) -> Result<SearchResults, IpcError> {
    Ok(state
        .engine()?
        .search(&text, order, limit.min(500), server)
        .await?)
}

/// Where a message sits in its folder's conversation view (a search result opened in
/// its conversation); `null` when it is no longer there.
#[tauri::command]
pub async fn conversation_of(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uid: u32,
) -> Result<Option<ConversationSpot>, IpcError> {
    Ok(state
        .engine()?
        .conversation_of(&account, &folder, uid)
        .await?)
}

#[tauri::command]
pub async fn read_message(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uid: u32,
    mark_read: Option<bool>,
) -> Result<MessageView, IpcError> {
    Ok(state
        .engine()?
        .message_with(&account, &folder, uid, mark_read.unwrap_or(true))
        .await?)
}

/// New-mail notifications on or off (the UI sends the user's preference at start).
#[tauri::command]
pub async fn set_notifications(enabled: bool) {
    crate::events::NOTIFY.store(enabled, std::sync::atomic::Ordering::Relaxed);
}

#[tauri::command]
pub async fn set_flags(
    state: tauri::State<'_, AppState>,
    request: FlagsRequest,
) -> Result<ActionOutcome, IpcError> {
    let r = request;
    Ok(state
        .engine()?
        .set_flags(&r.account, &r.folder, &r.uids, r.seen, r.flagged)
        .await?)
}

/// "Mark all read" from a folder's menu.
#[tauri::command]
pub async fn mark_all_read(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
) -> Result<ActionOutcome, IpcError> {
    Ok(state.engine()?.mark_all_read(&account, &folder).await?)
}

#[tauri::command]
pub async fn move_messages(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uids: Vec<u32>,
    to: String,
) -> Result<ActionOutcome, IpcError> {
    Ok(state
        .engine()?
        .move_messages(&account, &folder, &uids, &to)
        .await?)
}

#[tauri::command]
pub async fn copy_messages(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uids: Vec<u32>,
    to: String,
) -> Result<ActionOutcome, IpcError> {
    Ok(state
        .engine()?
        .copy_messages(&account, &folder, &uids, &to)
        .await?)
}

#[tauri::command]
pub async fn delete_messages(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uids: Vec<u32>,
    how: petrel_engine::Deletion,
) -> Result<ActionOutcome, IpcError> {
    Ok(state
        .engine()?
        .delete_messages(&account, &folder, &uids, how)
        .await?)
}

#[tauri::command]
pub async fn archive_messages(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    folder: String,
    uids: Vec<u32>,
) -> Result<ActionOutcome, IpcError> {
    Ok(state
        .engine()?
        .archive_messages(&account, &folder, &uids)
        .await?)
}

#[tauri::command]
pub async fn account_status(
    state: tauri::State<'_, AppState>,
    account: AccountId,
) -> Result<AccountStatus, IpcError> {
    Ok(state.engine()?.account_status(&account))
}

#[tauri::command]
pub async fn account_quota(
    state: tauri::State<'_, AppState>,
    account: AccountId,
) -> Result<Option<Quota>, IpcError> {
    Ok(state.engine()?.quota(&account).await?)
}

#[tauri::command]
pub async fn list_unified(
    state: tauri::State<'_, AppState>,
    view: UnifiedView,
    offset: u32,
    limit: u32,
) -> Result<UnifiedPage, IpcError> {
    Ok(state.engine()?.unified(view, offset, limit).await?)
}
