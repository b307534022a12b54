//! A Thunderbird profile read as data: `profiles.ini` (where profiles are), `prefs.js`
//! (accounts, servers, identities), the mail stores on disk (mbox files with `.sbd`
//! sub-folder directories, or maildir folders). Pure parsing and directory walking; the
//! import itself is in `super`, and `popstate.dat` (which POP3 messages Thunderbird has)
//! is read by petrel-pop3.

use petrel_core::{
    FoundAccount, FoundStore, IncomingProtocol, LeaveOnServer, Pop3Options, ProfileContents,
    Security, ServerSettings, ThunderbirdProfile,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where Thunderbird keeps `profiles.ini` under a home directory, per system and package
/// (distribution, Snap, Flatpak; macOS; Windows' roaming AppData).
pub fn profile_roots(home: &Path) -> Vec<PathBuf> {
    let mut roots = vec![
        home.join(".thunderbird"),
        home.join("snap/thunderbird/common/.thunderbird"),
        home.join(".var/app/org.mozilla.Thunderbird/.thunderbird"),
        home.join("Library/Thunderbird"),
        home.join("AppData/Roaming/Thunderbird"),
    ];
    if let Some(appdata) = std::env::var_os("APPDATA") {
        roots.push(PathBuf::from(appdata).join("Thunderbird"));
    }
    roots
}

/// The profiles a `profiles.ini` in `root` names. The default is the one an `[Install…]`
/// section names (Thunderbird 68 and later), else the one marked `Default=1`.
pub fn profiles_ini(text: &str, root: &Path) -> Vec<ThunderbirdProfile> {
    let mut sections: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.to_string(), BTreeMap::new()));
        } else if let (Some((key, value)), Some(last)) = (line.split_once('='), sections.last_mut())
        {
            last.1
                .insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    let install_default: Option<String> = sections
        .iter()
        .filter(|(name, _)| name.starts_with("Install"))
        .find_map(|(_, keys)| keys.get("Default").cloned());
    let mut out = Vec::new();
    for (name, keys) in &sections {
        if !name.starts_with("Profile") {
            continue;
        }
        let Some(path) = keys.get("Path") else {
            continue;
        };
        let relative = keys.get("IsRelative").map(String::as_str) != Some("0");
        let dir = if relative {
            root.join(path)
        } else {
            PathBuf::from(path)
        };
        let default = match &install_default {
            Some(p) => p == path,
            None => keys.get("Default").map(String::as_str) == Some("1"),
        };
        out.push(ThunderbirdProfile {
            name: keys.get("Name").cloned().unwrap_or_else(|| path.clone()),
            path: dir.display().to_string(),
            default,
        });
    }
    out
}

/// A preference's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pref {
    Text(String),
    Number(i64),
    Bool(bool),
}

/// Every `user_pref("name", value);` of a prefs.js. Lines that are not are left.
pub fn prefs(text: &str) -> BTreeMap<String, Pref> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("user_pref(") else {
            continue;
        };
        let Some((name, rest)) = js_string(rest.trim_start()) else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix(',') else {
            continue;
        };
        let rest = rest.trim_start();
        let value = if rest.starts_with('"') {
            js_string(rest).map(|(v, _)| Pref::Text(v))
        } else {
            let token: String = rest
                .chars()
                .take_while(|c| !matches!(c, ')' | ';') && !c.is_whitespace())
                .collect();
            match token.as_str() {
                "true" => Some(Pref::Bool(true)),
                "false" => Some(Pref::Bool(false)),
                n => n.parse().ok().map(Pref::Number),
            }
        };
        if let Some(value) = value {
            out.insert(name, value);
        }
    }
    out
}

/// A double-quoted JavaScript string at the start of `s` and what follows it.
fn js_string(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[1 + i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    out.push(
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or('\u{fffd}'),
                    );
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

struct Prefs<'a>(&'a BTreeMap<String, Pref>);

impl Prefs<'_> {
    fn text(&self, key: &str) -> Option<&str> {
        match self.0.get(key) {
            Some(Pref::Text(t)) => Some(t.as_str()),
            _ => None,
        }
    }
    fn number(&self, key: &str) -> Option<i64> {
        match self.0.get(key) {
            Some(Pref::Number(n)) => Some(*n),
            _ => None,
        }
    }
    fn flag(&self, key: &str) -> Option<bool> {
        match self.0.get(key) {
            Some(Pref::Bool(b)) => Some(*b),
            _ => None,
        }
    }
    fn list(&self, key: &str) -> Vec<String> {
        self.text(key)
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// A server of the profile: its type, and where its mail is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDir {
    pub key: String,
    pub dir: PathBuf,
    /// Folders are maildirs (Thunderbird's "one file per message"), not mbox files.
    pub maildir: bool,
}

/// Where a server's mail is: `directory-rel` (`[ProfD]Mail/pop.example.com`) resolved in
/// `profile`, else `directory`.
pub fn store_dir(prefs: &BTreeMap<String, Pref>, profile: &Path, key: &str) -> Option<StoreDir> {
    let p = Prefs(prefs);
    let base = format!("mail.server.{key}");
    let dir = match p.text(&format!("{base}.directory-rel")) {
        Some(rel) => {
            let rel = rel.strip_prefix("[ProfD]")?;
            profile.join(rel)
        }
        None => PathBuf::from(p.text(&format!("{base}.directory"))?),
    };
    let maildir = p
        .text(&format!("{base}.storeContractID"))
        .is_some_and(|c| c.contains("maildirstore"));
    Some(StoreDir {
        key: key.to_string(),
        dir,
        maildir,
    })
}

/// Thunderbird's `socketType`: 3 TLS, 2 STARTTLS, 0 none. Petrel never connects without
/// encryption, so "none" becomes STARTTLS (said in the account's notes).
fn security(socket_type: Option<i64>, port: u16, implicit_port: u16) -> (Security, bool) {
    match socket_type {
        Some(3) => (Security::Tls, false),
        Some(2) => (Security::StartTls, false),
        Some(_) => (Security::StartTls, true),
        None if port == implicit_port => (Security::Tls, false),
        None => (Security::StartTls, false),
    }
}

/// What a profile holds: its IMAP and POP3 accounts and its mail stores.
pub fn contents(profile: &Path, prefs: &BTreeMap<String, Pref>) -> ProfileContents {
    let p = Prefs(prefs);
    let mut accounts = Vec::new();
    let mut stores = Vec::new();
    for account in p.list("mail.accountmanager.accounts") {
        let Some(key) = p.text(&format!("mail.account.{account}.server")) else {
            continue;
        };
        let base = format!("mail.server.{key}");
        let kind = p.text(&format!("{base}.type")).unwrap_or_default();
        let label = p.text(&format!("{base}.name")).unwrap_or(kind).to_string();
        if kind == "none" || kind == "pop3" {
            if let Some(store) = store_dir(prefs, profile, key) {
                let (folders, bytes) = measure(&store);
                stores.push(FoundStore {
                    key: key.to_string(),
                    label: if kind == "none" {
                        "Local Folders".into()
                    } else {
                        label.clone()
                    },
                    pop3_account: (kind == "pop3").then(|| label.clone()),
                    folders,
                    bytes,
                });
            }
        }
        // Other kinds (news, feeds) are not mail accounts.
        let Ok(protocol) = kind.parse::<IncomingProtocol>() else {
            continue;
        };
        let mut notes = Vec::new();
        let implicit = protocol.tls_port();
        let port = p
            .number(&format!("{base}.port"))
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(implicit);
        let (sec, was_plain) = security(p.number(&format!("{base}.socketType")), port, implicit);
        let host = p.text(&format!("{base}.hostname")).unwrap_or_default();
        if was_plain {
            notes.push(format!(
                "Thunderbird reached {host} without encryption; Petrel requires STARTTLS on port {port}."
            ));
        }
        let identity = p
            .list(&format!("mail.account.{account}.identities"))
            .into_iter()
            .next()
            .unwrap_or_default();
        let id = format!("mail.identity.{identity}");
        let email = p.text(&format!("{id}.useremail")).unwrap_or_default();
        let smtp_key = p
            .text(&format!("{id}.smtpServer"))
            .map(str::to_string)
            .or_else(|| p.text("mail.smtp.defaultserver").map(str::to_string));
        let smtp = smtp_key.and_then(|k| {
            let s = format!("mail.smtpserver.{k}");
            let host = p.text(&format!("{s}.hostname"))?.to_string();
            let port = p
                .number(&format!("{s}.port"))
                .and_then(|n| u16::try_from(n).ok())
                .filter(|&n| n != 0)
                .unwrap_or(587);
            let (security, was_plain) = security(p.number(&format!("{s}.try_ssl")), port, 465);
            if was_plain {
                notes.push(format!(
                    "Thunderbird sent through {host} without encryption; Petrel requires STARTTLS on port {port}."
                ));
            }
            Some(ServerSettings {
                host,
                port,
                security,
                username: p.text(&format!("{s}.username")).unwrap_or_default().to_string(),
                pinned_cert_sha256: None,
            })
        });
        let leave = p.flag(&format!("{base}.leave_on_server")).unwrap_or(false);
        let by_age = p
            .flag(&format!("{base}.delete_by_age_from_server"))
            .unwrap_or(false);
        let days = p
            .number(&format!("{base}.num_days_to_leave_on_server"))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(7);
        let pop3 = Pop3Options {
            leave_on_server: match (leave, by_age) {
                (false, _) => LeaveOnServer::Never,
                (true, true) => LeaveOnServer::Days,
                (true, false) => LeaveOnServer::UntilDeletedHere,
            },
            leave_days: days,
            delete_when_deleted_here: p
                .flag(&format!("{base}.delete_mail_left_on_server"))
                .unwrap_or(false),
            headers_only: p.flag(&format!("{base}.headers_only")).unwrap_or(false),
            ..Pop3Options::default()
        };
        accounts.push(FoundAccount {
            key: key.to_string(),
            display_name: p
                .text(&format!("{id}.fullName"))
                .unwrap_or_default()
                .to_string(),
            email: email.to_string(),
            protocol,
            incoming: ServerSettings {
                host: host.to_string(),
                port,
                security: sec,
                username: p
                    .text(&format!("{base}.userName"))
                    .unwrap_or_default()
                    .to_string(),
                pinned_cert_sha256: None,
            },
            pop3,
            smtp,
            notes,
        });
    }
    ProfileContents {
        path: profile.display().to_string(),
        accounts,
        stores,
    }
}

/// A folder of a store: its path as Thunderbird shows it ("Archives/2024") and its file
/// (an mbox) or directory (a maildir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFolder {
    pub path: String,
    pub location: PathBuf,
    pub maildir: bool,
}

/// Every folder of a store, parents before children. mbox folders are the files that start
/// with "From " (Thunderbird's index files, filters and `popstate.dat` do not); sub-folders
/// are in `<name>.sbd/`.
pub fn folders(store: &StoreDir) -> Vec<StoreFolder> {
    let mut out = Vec::new();
    walk(&store.dir, "", store.maildir, &mut out);
    out
}

fn walk(dir: &Path, prefix: &str, maildir: bool, out: &mut Vec<StoreFolder>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if name.ends_with(".sbd") || name.ends_with(".msf") {
            continue;
        }
        let folder = if maildir {
            path.join("cur").is_dir()
        } else {
            path.is_file() && starts_like_mbox(&path)
        };
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if folder {
            out.push(StoreFolder {
                path: full.clone(),
                location: path.clone(),
                maildir,
            });
        }
        let children = dir.join(format!("{name}.sbd"));
        if children.is_dir() {
            walk(&children, &full, maildir, out);
        }
    }
}

fn starts_like_mbox(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"From "
}

/// Folders and bytes of mail in a store (for the progress bar and the choice).
fn measure(store: &StoreDir) -> (u32, u64) {
    let found = folders(store);
    let bytes = found.iter().map(folder_bytes).sum();
    (found.len() as u32, bytes)
}

pub fn folder_bytes(folder: &StoreFolder) -> u64 {
    if folder.maildir {
        ["cur", "new"]
            .iter()
            .flat_map(|sub| {
                std::fs::read_dir(folder.location.join(sub))
                    .into_iter()
                    .flatten()
            })
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    } else {
        std::fs::metadata(&folder.location)
            .map(|m| m.len())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_ini_names_profiles_and_the_install_default() {
        let ini = "[General]\nStartWithLastProfile=1\n\n[Profile1]\nName=old\nIsRelative=1\nPath=Profiles/aaa.old\nDefault=1\n\n[Profile0]\nName=default-release\nIsRelative=0\nPath=/data/tb/bbb.default-release\n\n[Install4F96D1932A9F858E]\nDefault=/data/tb/bbb.default-release\nLocked=1\n";
        let got = profiles_ini(ini, Path::new("/home/ana/.thunderbird"));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].path, "/home/ana/.thunderbird/Profiles/aaa.old");
        assert!(
            !got[0].default,
            "the Install section's default wins over Default=1"
        );
        assert_eq!(got[1].name, "default-release");
        assert!(got[1].default);
    }

    #[test]
    fn prefs_js_values_are_read_with_their_escapes() {
        let js = r#"// Mozilla User Preferences
user_pref("mail.identity.id1.fullName", "Ana \"Nana\" Lima \u00e9");
user_pref("mail.server.server2.port", 995);
user_pref("mail.server.server2.leave_on_server", true);
user_pref("broken", );
"#;
        let got = prefs(js);
        assert_eq!(
            got.get("mail.identity.id1.fullName"),
            Some(&Pref::Text("Ana \"Nana\" Lima é".into()))
        );
        assert_eq!(
            got.get("mail.server.server2.port"),
            Some(&Pref::Number(995))
        );
        assert_eq!(
            got.get("mail.server.server2.leave_on_server"),
            Some(&Pref::Bool(true))
        );
        assert!(!got.contains_key("broken"));
    }
}
