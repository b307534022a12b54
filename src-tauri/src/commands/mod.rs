//! `#[tauri::command]` adapters: DTO in → engine call → DTO or `IpcError` out. No logic.

pub mod accounts;
pub mod compose;
pub mod folders;
pub mod import;
pub mod mail;
pub mod reader;
pub mod setup;
pub mod sign_in;
