//! The bundled provider table (`providers.toml`): settings and notes for the big mail
//! services, found without any network use.

use petrel_core::{ProviderNotes, Security, ServerSettings};
use serde::Deserialize;

const TABLE: &str = include_str!("../providers.toml");

#[derive(Debug, Clone, Deserialize)]
struct File {
    provider: Vec<Provider>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Provider {
    pub name: String,
    pub domains: Vec<String>,
    #[serde(default)]
    pub mx: Vec<String>,
    pub imap: Option<Server>,
    pub pop3: Option<Server>,
    pub smtp: Option<Server>,
    pub username: UserName,
    #[serde(default)]
    pub server_files_sent: bool,
    #[serde(default)]
    pub app_password: bool,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub oauth: Option<OAuthEntry>,
}

/// How a provider signs people in with OAuth2.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthEntry {
    pub provider: OAuthKind,
    /// The SASL mechanisms its servers take (for the doctor; the client picks from what a
    /// server offers).
    pub mechanisms: Vec<String>,
    /// Whether a password (an app password) can still work.
    pub password_possible: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OAuthKind {
    Microsoft,
    Google,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UserName {
    Email,
    Local,
}

impl UserName {
    pub fn for_address(self, email: &str) -> String {
        match self {
            UserName::Email => email.to_string(),
            UserName::Local => email.split('@').next().unwrap_or(email).to_string(),
        }
    }
}

impl Provider {
    pub fn settings(&self, server: &Option<Server>, email: &str) -> Option<ServerSettings> {
        server.as_ref().map(|s| ServerSettings {
            host: s.host.clone(),
            port: s.port,
            security: s.security,
            username: self.username.for_address(email),
            pinned_cert_sha256: None,
        })
    }

    /// The provider's servers for `email`, as discovery reports any source's.
    pub fn found(&self, email: &str) -> crate::autoconfig::Found {
        crate::autoconfig::Found {
            imap: self.settings(&self.imap, email),
            pop3: self.settings(&self.pop3, email),
            smtp: self.settings(&self.smtp, email),
            display_name: Some(self.name.clone()),
        }
    }

    pub fn notes(&self) -> ProviderNotes {
        ProviderNotes {
            name: self.name.clone(),
            notes: self.notes.clone(),
            server_files_sent: self.server_files_sent,
            app_password: self.app_password,
            oauth: self.oauth.as_ref().map(|o| match o.provider {
                OAuthKind::Microsoft => petrel_core::OAuthProvider::Microsoft,
                OAuthKind::Google => petrel_core::OAuthProvider::Google,
            }),
            oauth_only: self.oauth.as_ref().is_some_and(|o| !o.password_possible),
            // Known once the engine has looked at this build's client IDs.
            oauth_ready: false,
        }
    }
}

/// Every provider of the table (it is part of the program: a broken table is a bug that
/// the unit test below catches).
pub fn all() -> Vec<Provider> {
    toml::from_str::<File>(TABLE)
        .map(|f| f.provider)
        .unwrap_or_default()
}

/// The provider serving addresses at `domain`.
pub fn by_domain(domain: &str) -> Option<Provider> {
    let domain = domain.trim().to_ascii_lowercase();
    all()
        .into_iter()
        .find(|p| p.domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)))
}

/// The provider whose mail exchangers are under `mx_base` (a custom domain hosted there).
pub fn by_mx(mx_base: &str) -> Option<Provider> {
    let base = mx_base.trim().trim_end_matches('.').to_ascii_lowercase();
    all()
        .into_iter()
        .find(|p| p.mx.iter().any(|d| d.eq_ignore_ascii_case(&base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_the_providers_the_wizard_promises() {
        let names: Vec<String> = all().into_iter().map(|p| p.name).collect();
        for wanted in [
            "Gmail",
            "Outlook.com",
            "Yahoo",
            "iCloud",
            "AOL",
            "GMX",
            "WEB.DE",
            "Fastmail",
            "Zoho",
            "Yandex",
            "mailbox.org",
            "Proton Mail",
        ] {
            assert!(
                names.iter().any(|n| n.contains(wanted)),
                "{wanted} missing: {names:?}"
            );
        }
        for p in all() {
            assert!(
                p.imap.is_some() || p.pop3.is_some(),
                "{}: no incoming server",
                p.name
            );
            assert!(p.smtp.is_some(), "{}: no outgoing server", p.name);
        }
    }

    #[test]
    fn lookups_by_domain_and_by_mail_exchanger() {
        let g = by_domain("GMail.com").unwrap();
        assert_eq!(g.name, "Gmail");
        let imap = g.settings(&g.imap, "ana@gmail.com").unwrap();
        assert_eq!((imap.host.as_str(), imap.port), ("imap.gmail.com", 993));
        assert_eq!(imap.username, "ana@gmail.com");
        assert!(g.notes().server_files_sent);
        assert!(g
            .notes()
            .notes
            .iter()
            .any(|n| n.contains("When messages are accessed with POP")));
        let icloud = by_domain("me.com").unwrap();
        assert!(icloud.pop3.is_none());
        assert_eq!(
            icloud
                .settings(&icloud.imap, "ana@me.com")
                .unwrap()
                .username,
            "ana"
        );
        assert_eq!(by_mx("google.com").unwrap().name, "Gmail");
        assert!(by_domain("example.test").is_none());
    }
}
