//! The authorization code flow of a native app (RFC 8252): the system browser, a
//! one-time listener on loopback, PKCE, `state` and `iss` checked, then the code traded.

use crate::tokens::{client, exchange_error, Tokens};
use crate::{Endpoints, Http, OAuthError};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What opens the authorization page: the system browser in the app; a scripted browser in
/// tests (`PETREL_OAUTH_BROWSER`).
pub trait Browser: Send + Sync {
    fn open(&self, url: &str) -> Result<(), String>;
}

/// A browser run as a command with the URL as its last argument (`xdg-open`, or the tests'
/// `node tests/servers/oidc/browser.mjs`). The URL is one argument, never through a shell.
#[derive(Debug, Clone)]
pub struct CommandBrowser {
    program: String,
    args: Vec<String>,
}

impl CommandBrowser {
    /// `line` split at spaces: the program, then fixed arguments.
    pub fn from_command_line(line: &str) -> Option<CommandBrowser> {
        let mut words = line.split_whitespace().map(str::to_string);
        Some(CommandBrowser {
            program: words.next()?,
            args: words.collect(),
        })
    }
}

impl Browser for CommandBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        let mut child = std::process::Command::new(&self.program)
            .args(&self.args)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", self.program))?;
        // Reaped in the background: the browser may outlive the sign-in.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

const CALLBACK: &str = "/oauth/callback";
/// Longest request head the loopback listener reads.
const MAX_HEAD: usize = 16 * 1024;

/// Signs in: opens the provider's page in `browser` and waits (at most `timeout`) for it
/// to come back to Petrel's loopback address. Dropping the future cancels the sign-in
/// (the listener closes; a late browser finds nobody there).
pub async fn sign_in(
    http: &Http,
    endpoints: &Endpoints,
    login_hint: Option<&str>,
    browser: &dyn Browser,
    timeout: Duration,
) -> Result<Tokens, OAuthError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| OAuthError::Browser(format!("no loopback port for the answer: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| OAuthError::Browser(e.to_string()))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}{CALLBACK}");
    let client = client(endpoints, Some(&redirect))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in &endpoints.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    for (key, value) in &endpoints.extra {
        request = request.add_extra_param(key.clone(), value.clone());
    }
    if let Some(hint) = login_hint {
        request = request.add_extra_param("login_hint", hint.to_string());
    }
    let (url, state) = request.url();
    tracing::info!(provider = %endpoints.name, port, "sign-in: opening the browser");
    browser.open(url.as_str()).map_err(OAuthError::Browser)?;
    let (mut stream, answer) = tokio::time::timeout(timeout, redirect_of(&listener))
        .await
        .map_err(|_| OAuthError::TimedOut(timeout.as_secs().div_ceil(60)))?;
    let verdict = judge(&answer, state.secret(), endpoints);
    let page = match &verdict {
        Ok(_) => "Petrel has your sign-in. You can close this tab.",
        Err(_) => "Petrel did not accept this answer. Go back to Petrel to see why.",
    };
    let _ = stream
        .write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{page}",
                page.len()
            )
            .as_bytes(),
        )
        .await;
    let _ = stream.shutdown().await;
    let code = verdict?;
    let answer = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http.client)
        .await
        .map_err(exchange_error)?;
    Ok(Tokens::from_answer(&answer, SystemTime::now()))
}

/// The code, once the answer proves to be the one this sign-in asked for: the same
/// `state` (RFC 6749 §10.12), and the issuer's `iss` when the provider sends it or says it
/// always does (RFC 9207 §2.4).
fn judge(
    answer: &HashMap<String, String>,
    state: &str,
    endpoints: &Endpoints,
) -> Result<String, OAuthError> {
    if answer.get("state").map(String::as_str) != Some(state) {
        return Err(OAuthError::Mismatch("its state is not this sign-in's"));
    }
    match (answer.get("iss"), &endpoints.issuer) {
        (Some(iss), Some(expected))
            if iss.trim_end_matches('/') != expected.trim_end_matches('/') =>
        {
            return Err(OAuthError::Mismatch("it comes from another issuer"))
        }
        (None, _) if endpoints.iss_required => {
            return Err(OAuthError::Mismatch("it does not name its issuer"))
        }
        _ => {}
    }
    if let Some(error) = answer.get("error") {
        let words = match answer.get("error_description") {
            Some(d) => format!("{error}: {d}"),
            None => error.clone(),
        };
        return Err(OAuthError::Refused(words));
    }
    answer
        .get("code")
        .cloned()
        .ok_or(OAuthError::Mismatch("it carries no code"))
}

/// Waits for the browser's request for the callback path; anything else (a favicon) gets a
/// 404 and the wait goes on.
async fn redirect_of(listener: &TcpListener) -> (TcpStream, HashMap<String, String>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let mut head = Vec::new();
        let mut buf = [0u8; 2048];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
        let text = String::from_utf8_lossy(&head);
        let target = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("GET "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("");
        let parsed = url::Url::parse(&format!("http://127.0.0.1{target}")).ok();
        match parsed {
            Some(u) if u.path() == CALLBACK => {
                let pairs = u.query_pairs().into_owned().collect();
                return (stream, pairs);
            }
            _ => {
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
            }
        }
    }
}
