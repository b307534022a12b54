//! Accounts as the user configures them. Secrets are never part of these types: the
//! password lives only in the OS keychain, keyed by [`AccountId`].

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable identifier of an account; also the keychain entry's user name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
pub struct AccountId(pub String);

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the connection is secured. There is deliberately no plaintext option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (IMAP 993). The default.
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143); the upgrade is required.
    StartTls,
}

/// Where and how to reach one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// SHA-256 of a certificate the user chose to trust although no CA vouches for it
    /// (lower-case hex). Only that exact certificate is accepted besides CA-verified ones.
    #[serde(default)]
    pub pinned_cert_sha256: Option<String>,
}

impl ServerSettings {
    /// The settings as saved and used: the host trimmed, without a final dot, in its
    /// A-label form, so a host typed as "imap.Bücher.de" is "imap.xn--bcher-kva.de" for DNS,
    /// the TLS server name and the certificate check alike (RFC 5891).
    pub fn normalized(mut self) -> Self {
        self.host = a_label(self.host.trim().trim_end_matches('.'));
        self
    }
}

/// A domain or host name as DNS and TLS want it: the A-label form ("bücher.example" →
/// "xn--bcher-kva.example"), lower case (UTS 46). A name IDNA refuses (an IPv6 address,
/// say) is kept as typed, lower-cased: its look-ups then fail with the resolver's words.
pub fn a_label(domain: &str) -> String {
    idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase())
}

/// How an account proves who it is to its servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SignIn {
    /// A password (or app password) kept in the keychain.
    #[default]
    Password,
    /// OAuth2: a refresh token in the keychain, access tokens in memory only.
    #[serde(rename = "oauth2")]
    OAuth2 {
        provider: OAuthProvider,
        /// Overrides the client ID this build carries for the provider (or names one for
        /// a self-hosted issuer).
        #[serde(default)]
        client_id: Option<String>,
    },
}

/// Who signs the user in with OAuth2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OAuthProvider {
    /// Outlook.com, Hotmail and Microsoft 365 (the `common` tenant).
    Microsoft,
    Google,
    /// Any OpenID Connect issuer, by its URL (its discovery document says the rest).
    Oidc {
        issuer: String,
    },
}

/// A saved account, as written to the config file (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccountSettings {
    pub id: AccountId,
    pub display_name: String,
    pub email: String,
    pub imap: ServerSettings,
    #[serde(default)]
    pub sync: SyncOptions,
    /// IMAP (mail stays on the server) or POP3 (mail comes to this computer); `imap` then
    /// holds the POP3 server.
    #[serde(default)]
    pub protocol: IncomingProtocol,
    /// What happens to POP3 mail on the server (POP3 accounts only).
    #[serde(default)]
    pub pop3: Pop3Options,
    /// The outgoing (SMTP submission) server; it logs in with the account's password.
    #[serde(default)]
    pub smtp: Option<ServerSettings>,
    /// Signature, other sender addresses, how Sent is kept.
    #[serde(default)]
    pub sending: SendingOptions,
    /// A password, or OAuth2 with a provider (the same for incoming and outgoing).
    #[serde(default)]
    pub sign_in: SignIn,
}

/// How the account sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendingOptions {
    /// Added under new messages (after "-- "); empty → none.
    #[serde(default)]
    pub signature: String,
    /// Other addresses this account sends as (aliases), each with its own signature.
    #[serde(default)]
    pub identities: Vec<Identity>,
    /// The server files a copy of sent mail in Sent by itself (Gmail, Outlook.com…):
    /// Petrel then does not APPEND one.
    #[serde(default)]
    pub server_files_sent: bool,
}

/// A sender address of an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Identity {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub signature: String,
}

/// How mail is read from the incoming server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IncomingProtocol {
    #[default]
    Imap,
    Pop3,
}

impl IncomingProtocol {
    /// The port for TLS from the first byte (RFC 8314): IMAP 993, POP3 995.
    pub fn tls_port(self) -> u16 {
        match self {
            IncomingProtocol::Imap => 993,
            IncomingProtocol::Pop3 => 995,
        }
    }
}

/// A protocol as other programs name it ("imap", "pop3"; Thunderbird's server types).
impl std::str::FromStr for IncomingProtocol {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "imap" => Ok(IncomingProtocol::Imap),
            "pop3" | "pop" => Ok(IncomingProtocol::Pop3),
            other => Err(format!("{other} is not a mail protocol Petrel reads")),
        }
    }
}

/// How long POP3 mail stays on the server after it is downloaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LeaveOnServer {
    /// Deleted from the server once it is safely stored here.
    Never,
    /// For `leave_days` days.
    #[default]
    Days,
    /// Until it is deleted here.
    UntilDeletedHere,
}

/// A POP3 account's policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Pop3Options {
    pub leave_on_server: LeaveOnServer,
    pub leave_days: u32,
    /// With `Days`: also delete from the server what is deleted here before then.
    pub delete_when_deleted_here: bool,
    /// Only headers are downloaded; the rest on demand.
    pub headers_only: bool,
    /// Messages larger than this many KiB come as headers and the first lines.
    pub large_over_kib: Option<u32>,
    /// Minutes between checks (and one at start).
    pub check_minutes: u32,
}

impl Default for Pop3Options {
    /// Leaving mail 14 days keeps a server copy for other devices and as a backup for a
    /// while, without filling the server.
    fn default() -> Self {
        Pop3Options {
            leave_on_server: LeaveOnServer::Days,
            leave_days: 14,
            delete_when_deleted_here: true,
            headers_only: false,
            large_over_kib: None,
            check_minutes: 10,
        }
    }
}

/// How much of the server's mail this computer keeps, and whether its arrival is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncOptions {
    /// List only messages received in the last N days (`None`: all of them). Smaller
    /// windows sync faster and keep the cache small on huge mailboxes.
    pub window_days: Option<u32>,
    /// Download whole messages (within the window) so they can be read offline.
    pub keep_offline: bool,
    /// A desktop notification when new mail arrives in this account's INBOX.
    #[serde(default = "notify_by_default")]
    pub notify: bool,
}

fn notify_by_default() -> bool {
    true
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            window_days: None,
            keep_offline: false,
            notify: true,
        }
    }
}

/// What the "Add account" form sends. The password is consumed by the engine, stored in
/// the keychain and dropped; it never reaches a file or a log.
#[derive(Clone, Serialize, Deserialize, TS)]
pub struct NewAccount {
    pub display_name: String,
    pub email: String,
    pub imap: ServerSettings,
    pub password: String,
    #[serde(default)]
    pub protocol: IncomingProtocol,
    #[serde(default)]
    pub pop3: Pop3Options,
    #[serde(default)]
    pub smtp: Option<ServerSettings>,
    /// From the setup wizard: e.g. "the server files sent mail itself" for known providers.
    #[serde(default)]
    pub sending: SendingOptions,
    #[serde(default)]
    pub sign_in: SignIn,
    /// With OAuth2: the ticket of the sign-in the engine holds (its tokens never reach the
    /// window); `password` is then empty.
    #[serde(default)]
    pub sign_in_ticket: Option<String>,
}

impl std::fmt::Debug for NewAccount {
    // A derived Debug would print the password into any log line that formats the form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("display_name", &self.display_name)
            .field("email", &self.email)
            .field("imap", &self.imap)
            .field("password", &"<redacted>")
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl NewAccount {
    /// Checks what can be checked without a network; returns a message for the user.
    pub fn validate(&self) -> Result<(), String> {
        if self.display_name.trim().is_empty() {
            return Err("Enter a display name.".into());
        }
        if !self.email.contains('@') || self.email.trim() != self.email {
            return Err("Enter an email address such as ana@example.org.".into());
        }
        let host = self.imap.host.trim();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err("Enter the IMAP server's host name.".into());
        }
        if self.imap.port == 0 {
            return Err("Enter the IMAP port (usually 993 for TLS, 143 for STARTTLS).".into());
        }
        if self.imap.username.is_empty() {
            return Err("Enter the user name for the IMAP server.".into());
        }
        match (&self.sign_in, &self.sign_in_ticket) {
            (SignIn::Password, _) if self.password.is_empty() => {
                return Err("Enter the password.".into())
            }
            (SignIn::OAuth2 { .. }, None) => return Err("Sign in with your provider first.".into()),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> NewAccount {
        NewAccount {
            display_name: "Ana".into(),
            email: "ana@example.org".into(),
            imap: ServerSettings {
                host: "imap.example.org".into(),
                port: 993,
                security: Security::Tls,
                username: "ana".into(),
                pinned_cert_sha256: None,
            },
            password: "hunter2-secret".into(),
            protocol: Default::default(),
            pop3: Default::default(),
            smtp: None,
            sending: Default::default(),
            sign_in: Default::default(),
            sign_in_ticket: None,
        }
    }

    #[test]
    fn debug_output_never_contains_the_password() {
        let text = format!("{:?}", form());
        assert!(
            !text.contains("hunter2-secret"),
            "password leaked into Debug: {text}"
        );
        assert!(text.contains("imap.example.org"));
    }

    #[test]
    fn hosts_are_saved_as_a_labels() {
        assert_eq!(a_label("Bücher.Example"), "xn--bcher-kva.example");
        assert_eq!(a_label("EXAMPLE.org"), "example.org");
        assert_eq!(a_label("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(a_label("127.0.0.1"), "127.0.0.1");
        let mut s = form().imap;
        s.host = " imap.Bücher.de. ".into();
        assert_eq!(s.normalized().host, "imap.xn--bcher-kva.de");
    }

    #[test]
    fn validation_names_the_missing_field() {
        assert_eq!(form().validate(), Ok(()));
        let mut f = form();
        f.imap.host = " ".into();
        assert!(f.validate().unwrap_err().contains("host"));
        let mut f = form();
        f.email = "not-an-address".into();
        assert!(f.validate().unwrap_err().contains("email"));
        let mut f = form();
        f.password.clear();
        assert!(f.validate().unwrap_err().contains("password"));
        let mut f = form();
        f.imap.port = 0;
        assert!(f.validate().unwrap_err().contains("port"));
    }
}

/// Petrel as a desktop program (all off by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DesktopOptions {
    /// Closing the window hides it; Petrel keeps checking mail in the tray (Quit ends it).
    #[serde(default)]
    pub keep_running_in_tray: bool,
    /// Started when the user logs in.
    #[serde(default)]
    pub start_at_login: bool,
    /// A start at login shows only the tray icon, not the window.
    #[serde(default)]
    pub start_hidden: bool,
}
