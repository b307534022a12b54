//! Sign-in against a real OpenID Connect provider on loopback (npm `oidc-provider`, started
//! by the test harness), driven by the tests' scripted browser, which signs in on the
//! provider's own pages as a person would.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::OAuthProvider;
use petrel_harness::{browser_command, Oidc, OidcOptions, OIDC_CLIENT_ID};
use petrel_oauth::{
    refresh, revoke, sign_in, Browser, CommandBrowser, Endpoints, Http, OAuthError,
};
use std::time::Duration;

async fn setup(options: OidcOptions) -> (Oidc, Http, Endpoints) {
    let oidc = Oidc::start(options).unwrap();
    let http = Http::new(&Default::default()).unwrap();
    let endpoints = Endpoints::resolve(
        &OAuthProvider::Oidc {
            issuer: oidc.issuer.clone(),
        },
        Some(OIDC_CLIENT_ID),
        &http,
    )
    .await
    .unwrap();
    (oidc, http, endpoints)
}

fn browser() -> CommandBrowser {
    CommandBrowser::from_command_line(&browser_command()).unwrap()
}

/// Runs the scripted browser on a URL changed by `tamper` first, with extra environment.
struct Tampering {
    tamper: fn(&str) -> String,
    env: Vec<(&'static str, &'static str)>,
}

impl Browser for Tampering {
    fn open(&self, url: &str) -> Result<(), String> {
        let line = browser_command();
        let mut words = line.split_whitespace();
        let mut command = std::process::Command::new(words.next().unwrap());
        command
            .args(words)
            .arg((self.tamper)(url))
            .envs(self.env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = command.spawn().map_err(|e| e.to_string())?;
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

/// The query value `key` of `url`.
fn param(url: &str, key: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// Petrel's redirect address called straight, with this sign-in's state, a stolen code and
/// `extra` parameters — the browser never went to the provider.
fn forged_answer(url: &str, extra: &str) -> String {
    let state = param(url, "state");
    let redirect = param(url, "redirect_uri");
    format!("{redirect}?code=stolen&state={state}{extra}")
}

#[tokio::test]
async fn sign_in_with_pkce_gives_tokens_and_the_address_and_refreshes() {
    let (_oidc, http, endpoints) = setup(OidcOptions::default()).await;
    assert!(endpoints.iss_required, "oidc-provider advertises RFC 9207");
    let tokens = sign_in(&http, &endpoints, None, &browser(), Duration::from_secs(60))
        .await
        .unwrap();
    assert!(!tokens.access.is_empty());
    assert_eq!(tokens.email.as_deref(), Some("alice@example.test"));
    let refresh_token = tokens
        .refresh
        .clone()
        .expect("offline_access gives a refresh token");
    assert!(
        !format!("{tokens:?}").contains(&tokens.access)
            && !format!("{tokens:?}").contains(&refresh_token),
        "Debug never shows a token"
    );
    let renewed = refresh(&http, &endpoints, &refresh_token).await.unwrap();
    assert!(!renewed.access.is_empty() && renewed.access != tokens.access);
}

#[tokio::test]
async fn an_answer_with_another_state_is_refused() {
    let (_oidc, http, endpoints) = setup(OidcOptions::default()).await;
    let b = Tampering {
        tamper: |url| {
            let state = param(url, "state");
            url.replace(&format!("state={state}"), "state=forged")
        },
        env: vec![],
    };
    let e = sign_in(&http, &endpoints, None, &b, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Mismatch(_)), "{e:?}");
}

#[tokio::test]
async fn an_answer_from_another_issuer_is_refused() {
    let (_oidc, http, endpoints) = setup(OidcOptions::default()).await;
    // A mix-up (RFC 9207): the answer reaches Petrel's address with the right state but
    // names another authorization server.
    let b = Tampering {
        tamper: |url| forged_answer(url, "&iss=http%3A%2F%2Fattacker.example"),
        env: vec![],
    };
    let e = sign_in(&http, &endpoints, None, &b, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(e, OAuthError::Mismatch(m) if m.contains("issuer")),
        "{e:?}"
    );
    // The same answer without any `iss`, from a provider that says it always sends one.
    let b = Tampering {
        tamper: |url| forged_answer(url, ""),
        env: vec![],
    };
    let e = sign_in(&http, &endpoints, None, &b, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Mismatch(_)), "{e:?}");
}

#[tokio::test]
async fn cancelling_in_the_browser_and_never_answering_end_the_sign_in() {
    let (_oidc, http, endpoints) = setup(OidcOptions::default()).await;
    let deny = Tampering {
        tamper: |url| url.to_string(),
        env: vec![("OIDC_BROWSER_ACTION", "deny")],
    };
    let e = sign_in(&http, &endpoints, None, &deny, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(e, OAuthError::Refused(ref w) if w.contains("access_denied")),
        "{e:?}"
    );

    struct Nobody;
    impl Browser for Nobody {
        fn open(&self, _: &str) -> Result<(), String> {
            Ok(())
        }
    }
    let e = sign_in(&http, &endpoints, None, &Nobody, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::TimedOut(_)), "{e:?}");
    assert!(e.to_string().contains("Try again"));
}

#[tokio::test]
async fn a_revoked_refresh_token_means_sign_in_again() {
    let (_oidc, http, endpoints) = setup(OidcOptions::default()).await;
    let tokens = sign_in(&http, &endpoints, None, &browser(), Duration::from_secs(60))
        .await
        .unwrap();
    let refresh_token = tokens.refresh.unwrap();
    assert!(endpoints.revocation.is_some());
    revoke(&http, &endpoints, &refresh_token).await.unwrap();
    let e = refresh(&http, &endpoints, &refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::SignInAgain), "{e:?}");
}

#[tokio::test]
async fn an_issuer_whose_document_names_another_issuer_is_refused() {
    let oidc = Oidc::start(OidcOptions::default()).unwrap();
    let http = Http::new(&Default::default()).unwrap();
    // The same server under another name: its document's issuer is not the one asked for.
    let other = oidc.issuer.replace("127.0.0.1", "localhost");
    let e = Endpoints::resolve(
        &OAuthProvider::Oidc { issuer: other },
        Some(OIDC_CLIENT_ID),
        &http,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, OAuthError::Discovery { .. }), "{e:?}");
    // A provider this build has no client ID for says so.
    let e = Endpoints::resolve(
        &OAuthProvider::Oidc {
            issuer: oidc.issuer.clone(),
        },
        None,
        &http,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, OAuthError::NoClientId(_)), "{e:?}");
}
