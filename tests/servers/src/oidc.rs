//! A real OpenID Connect provider on loopback (npm `oidc-provider`, `oidc/provider.mjs`)
//! for sign-in tests, and what Dovecot needs to accept its access tokens (passdb oauth2
//! with token introspection).

use crate::{io, random_hex, HarnessError, Result};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// How the provider behaves.
#[derive(Debug, Clone, Copy)]
pub struct OidcOptions {
    /// Access token lifetime.
    pub access_ttl_secs: u64,
    /// Access tokens as JWTs over 2 KB (Microsoft's are 1–2.5 KB).
    pub big_tokens: bool,
}

impl Default for OidcOptions {
    fn default() -> Self {
        OidcOptions {
            access_ttl_secs: 3600,
            big_tokens: false,
        }
    }
}

/// The client id Petrel uses with the test provider (a native public client).
pub const CLIENT_ID: &str = "petrel-test";

pub struct Oidc {
    child: Child,
    /// The issuer URL (`http://127.0.0.1:<port>`).
    pub issuer: String,
    /// The secret of Dovecot's introspection client.
    pub(crate) introspection_secret: String,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.issuer)
            .finish()
    }
}

/// `tests/servers/oidc/`: the provider and the tests' browser.
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// The command a test sets as `PETREL_OAUTH_BROWSER`: signs in as `login` on the provider's
/// pages, as a person in a browser would.
pub fn browser_command() -> String {
    format!("node {}", scripts_dir().join("browser.mjs").display())
}

impl Oidc {
    pub fn start(options: OidcOptions) -> Result<Oidc> {
        let secret = random_hex(16);
        let mut child = Command::new("node")
            .arg(scripts_dir().join("provider.mjs"))
            .env("OIDC_PORT", "0")
            .env("OIDC_ACCESS_TTL", options.access_ttl_secs.to_string())
            .env(
                "OIDC_BIG_TOKENS",
                if options.big_tokens { "1" } else { "0" },
            )
            .env("OIDC_INTROSPECTION_SECRET", &secret)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // PETREL_OIDC_LOG=1 shows what the provider says (its warnings, its crashes).
            .stderr(if std::env::var_os("PETREL_OIDC_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .map_err(io(
                "starting the OIDC provider (node; npm install puts oidc-provider in node_modules)",
            ))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| HarnessError::Setup("the OIDC provider has no stdout".into()))?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(io("reading the OIDC provider's first line"))?;
        // The pipe stays read: a provider writing to a closed pipe dies of EPIPE.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let Some(issuer) = line.trim().strip_prefix("READY ") else {
            let _ = child.kill();
            return Err(HarnessError::Setup(format!(
                "the OIDC provider did not start: {line:?}"
            )));
        };
        Ok(Oidc {
            issuer: issuer.to_string(),
            child,
            introspection_secret: secret,
        })
    }

    /// The part of dovecot.conf that accepts the provider's tokens (OAUTHBEARER, XOAUTH2).
    pub(crate) fn dovecot_passdb(&self, dir: &std::path::Path) -> Result<String> {
        let issuer = self.issuer.trim_start_matches("http://");
        let ext = dir.join("dovecot-oauth2.conf.ext");
        std::fs::write(
            &ext,
            format!(
                "introspection_mode = post\n\
                 introspection_url = http://dovecot:{secret}@{issuer}/token/introspection\n\
                 username_attribute = sub\n\
                 active_attribute = active\n\
                 active_value = true\n",
                secret = self.introspection_secret,
            ),
        )
        .map_err(io("writing dovecot-oauth2.conf.ext"))?;
        Ok(format!(
            "passdb {{\n  driver = oauth2\n  mechanisms = oauthbearer xoauth2\n  args = {}\n}}\n",
            ext.display()
        ))
    }
}

impl Drop for Oidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
