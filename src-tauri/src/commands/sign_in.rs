//! OAuth2 sign-in from the window: the engine does the browser round trip (tokens stay in
//! the engine); the window shows "waiting for the browser" with Cancel.

use crate::AppState;
use petrel_core::{
    AccountId, AccountSettings, ErrorCode, IpcError, OAuthProvider, SignIn, SignedIn,
};
use std::time::Duration;

/// How long Petrel waits for the browser before giving up.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The system browser, or `PETREL_OAUTH_BROWSER` (a command given the URL; the tests'
/// scripted browser) when set.
fn browser(app: &tauri::AppHandle) -> Box<dyn petrel_oauth::Browser> {
    match std::env::var("PETREL_OAUTH_BROWSER")
        .ok()
        .and_then(|c| petrel_oauth::CommandBrowser::from_command_line(&c))
    {
        Some(command) => Box::new(command),
        None => Box::new(SystemBrowser(app.clone())),
    }
}

struct SystemBrowser(tauri::AppHandle);

impl petrel_oauth::Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        use tauri_plugin_opener::OpenerExt;
        self.0
            .opener()
            .open_url(url, None::<&str>)
            .map_err(|e| e.to_string())
    }
}

fn cancelled() -> IpcError {
    IpcError::new(ErrorCode::InvalidInput, "Sign-in cancelled.")
}

/// Signs in with `provider` in the browser; the window gets a ticket for `add_account`
/// and the address the provider names.
#[tauri::command]
pub async fn sign_in(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    provider: OAuthProvider,
    client_id: Option<String>,
    login_hint: Option<String>,
) -> Result<SignedIn, IpcError> {
    let engine = state.engine()?;
    let browser = browser(&app);
    let signing_in = engine.sign_in(
        &provider,
        client_id.as_deref(),
        login_hint.as_deref(),
        browser.as_ref(),
        BROWSER_TIMEOUT,
    );
    until_cancelled(&state, signing_in).await
}

/// Runs a sign-in until it ends or the window's Cancel wakes `cancel_sign_in`.
async fn until_cancelled<T>(
    state: &AppState,
    signing_in: impl std::future::Future<Output = Result<T, petrel_engine::EngineError>>,
) -> Result<T, IpcError> {
    tokio::select! {
        result = signing_in => Ok(result?),
        _ = state.cancel_sign_in.notified() => Err(cancelled()),
    }
}

/// Signs an OAuth2 account in again ("Sign in again" in its status).
#[tauri::command]
pub async fn sign_in_again(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    account: AccountId,
) -> Result<(), IpcError> {
    let engine = state.engine()?;
    let browser = browser(&app);
    let signing_in = engine.sign_in_again(&account, browser.as_ref(), BROWSER_TIMEOUT);
    until_cancelled(&state, signing_in).await
}

/// Cancel on the "waiting for the browser" step.
#[tauri::command]
pub async fn cancel_sign_in(state: tauri::State<'_, AppState>) -> Result<(), IpcError> {
    state.cancel_sign_in.notify_waiters();
    Ok(())
}

/// Switches an account between a password and OAuth2 (Account options): tested first.
#[tauri::command]
pub async fn change_sign_in(
    state: tauri::State<'_, AppState>,
    account: AccountId,
    sign_in: SignIn,
    password: Option<String>,
    ticket: Option<String>,
) -> Result<AccountSettings, IpcError> {
    Ok(state
        .engine()?
        .change_sign_in(&account, sign_in, password, ticket)
        .await?)
}
