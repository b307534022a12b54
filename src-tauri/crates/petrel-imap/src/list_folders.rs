//! LIST "" "*" → the folder tree, with roles from SPECIAL-USE attributes (RFC 6154).

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use async_imap::imap_proto::{MailboxDatum, Response, StatusAttribute};
use async_imap::types::NameAttribute;
use futures::TryStreamExt;
use petrel_core::{Folder, FolderRole};

/// Most folders accepted from one LIST; a hostile server could otherwise grow the list
/// without end.
const MAX_FOLDERS: usize = 20_000;
/// Up to this many folders get unread/total counts by one STATUS each; beyond it the round
/// trips would delay the tree (LIST-STATUS, RFC 5819, is the way for huge trees).
const MAX_STATUS_FOLDERS: usize = 200;

impl ImapSession {
    /// The folder tree with roles, subscription state and counts.
    ///
    /// With LIST-STATUS (RFC 5819) one command returns names, SPECIAL-USE roles,
    /// subscriptions and counts; otherwise LIST, LSUB and one STATUS per folder (up to
    /// [`MAX_STATUS_FOLDERS`]).
    pub async fn list_folders(&mut self) -> Result<Vec<Folder>, ImapError> {
        let mut folders = if self.has("LIST-STATUS") {
            self.list_extended().await?
        } else {
            self.list_plain().await?
        };
        guess_missing_roles(&mut folders);
        // INBOX first, then special folders, then the rest by name: what every client shows.
        folders.sort_by_key(|f| {
            (
                f.role.map(role_rank).unwrap_or(u8::MAX),
                f.path.to_lowercase(),
            )
        });
        Ok(folders)
    }

    async fn list_extended(&mut self) -> Result<Vec<Folder>, ImapError> {
        let special_use = if self.has("SPECIAL-USE") {
            " SPECIAL-USE"
        } else {
            ""
        };
        let command =
            format!("LIST \"\" \"*\" RETURN (SUBSCRIBED{special_use} STATUS (MESSAGES UNSEEN))");
        let mut folders: Vec<Folder> = Vec::new();
        let mut counts: std::collections::HashMap<String, (Option<u32>, Option<u32>)> =
            std::collections::HashMap::new();
        self.raw_command("listing folders", &command, |reply| {
            match reply {
                Response::MailboxData(MailboxDatum::List {
                    name_attributes,
                    delimiter,
                    name,
                }) => {
                    if folders.len() >= MAX_FOLDERS {
                        return Err(ImapError::Protocol(format!(
                            "the server listed more than {MAX_FOLDERS} folders"
                        )));
                    }
                    let mut f = folder(name, delimiter.as_deref(), name_attributes);
                    f.subscribed = name_attributes.iter().any(|a| {
                        matches!(a, NameAttribute::Extension(e) if e.eq_ignore_ascii_case("\\Subscribed"))
                    });
                    folders.push(f);
                }
                Response::MailboxData(MailboxDatum::Status { mailbox, status })
                    if counts.len() < MAX_FOLDERS =>
                {
                    let mut c = (None, None);
                    for attr in status {
                        match attr {
                            StatusAttribute::Messages(n) => c.0 = Some(*n),
                            StatusAttribute::Unseen(n) => c.1 = Some(*n),
                            _ => {}
                        }
                    }
                    counts.insert(mailbox.to_string(), c);
                }
                _ => {}
            }
            Ok(())
        })
        .await?;
        for f in &mut folders {
            if let Some(&(total, unread)) = counts.get(&f.path) {
                f.total = total;
                f.unread = unread;
            }
        }
        Ok(folders)
    }

    async fn list_plain(&mut self) -> Result<Vec<Folder>, ImapError> {
        let names: Vec<async_imap::types::Name> = with_timeout("listing folders", async {
            let stream = self.inner().list(Some(""), Some("*")).await?;
            stream.try_collect().await
        })
        .await??;
        if names.len() > MAX_FOLDERS {
            return Err(ImapError::Protocol(format!(
                "the server listed {} folders",
                names.len()
            )));
        }
        let subscribed: std::collections::HashSet<String> =
            with_timeout("listing subscriptions", async {
                let stream = self.inner().lsub(Some(""), Some("*")).await?;
                stream
                    .try_filter_map(|n| async move { Ok(Some(n.name().to_string())) })
                    .try_collect()
                    .await
            })
            .await??;
        let mut folders: Vec<Folder> = names
            .iter()
            .map(|n| {
                let mut f = folder(n.name(), n.delimiter(), n.attributes());
                f.subscribed = subscribed.contains(n.name());
                f
            })
            .collect();
        if folders.len() <= MAX_STATUS_FOLDERS {
            for folder in folders.iter_mut().filter(|f| f.selectable) {
                let status = with_timeout(
                    "reading folder counts",
                    self.inner().status(&folder.path, "(MESSAGES UNSEEN)"),
                )
                .await?;
                match status {
                    Ok(status) => {
                        folder.total = Some(status.exists);
                        folder.unread = status.unseen;
                    }
                    // A folder that vanished between LIST and STATUS just shows no counts.
                    Err(async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(folders)
    }
}

/// Servers without SPECIAL-USE still have a Sent and a Trash; find them by the names
/// common clients and servers use, but never override a role the server declared.
fn guess_missing_roles(folders: &mut [Folder]) {
    // English first, then the names other clients and servers create in other languages
    // (Outlook/Exchange, Thunderbird, Apple Mail, GMX/WEB.DE, Yandex…), lower-cased.
    const GUESSES: &[(FolderRole, &[&str])] = &[
        (
            FolderRole::Sent,
            &[
                "sent",
                "sent items",
                "sent messages",
                "sent mail",
                "gesendet",
                "gesendete elemente",
                "gesendete objekte",
                "envoyés",
                "éléments envoyés",
                "messages envoyés",
                "enviados",
                "elementos enviados",
                "inviati",
                "posta inviata",
                "verzonden",
                "verzonden items",
                "enviadas",
                "itens enviados",
                "wysłane",
                "elementy wysłane",
                "отправленные",
                "skickat",
                "skickade objekt",
                "sendt",
                "sendte elementer",
                "sendte",
                "lähetetyt",
                "送信済みアイテム",
                "送信済み",
                "已发送",
                "已发送邮件",
                "보낸 편지함",
            ],
        ),
        (
            FolderRole::Drafts,
            &[
                "drafts",
                "draft",
                "entwürfe",
                "brouillons",
                "borradores",
                "bozze",
                "concepten",
                "rascunhos",
                "kopie robocze",
                "черновики",
                "utkast",
                "kladder",
                "luonnokset",
                "下書き",
                "草稿",
                "임시 보관함",
            ],
        ),
        (
            FolderRole::Trash,
            &[
                "trash",
                "deleted items",
                "deleted messages",
                "bin",
                "papierkorb",
                "gelöschte elemente",
                "gelöschte objekte",
                "corbeille",
                "éléments supprimés",
                "papelera",
                "elementos eliminados",
                "cestino",
                "posta eliminata",
                "prullenbak",
                "verwijderde items",
                "lixeira",
                "lixo",
                "itens excluídos",
                "kosz",
                "elementy usunięte",
                "корзина",
                "удалённые",
                "удаленные",
                "papperskorgen",
                "borttagna objekt",
                "papirkurv",
                "slettede elementer",
                "roskakori",
                "poistetut",
                "削除済みアイテム",
                "ゴミ箱",
                "已删除",
                "已删除邮件",
                "휴지통",
            ],
        ),
        (
            FolderRole::Junk,
            &[
                "junk",
                "spam",
                "junk e-mail",
                "junk email",
                "bulk mail",
                "unerwünscht",
                "junk-e-mail",
                "courrier indésirable",
                "indésirables",
                "correo no deseado",
                "posta indesiderata",
                "ongewenste e-mail",
                "lixo eletrônico",
                "спам",
                "skräppost",
                "uønsket e-post",
                "roskaposti",
                "迷惑メール",
                "垃圾邮件",
            ],
        ),
        (
            FolderRole::Archive,
            &[
                "archive",
                "archives",
                "archiv",
                "archivio",
                "archivo",
                "arquivo",
                "archief",
                "архив",
            ],
        ),
    ];
    for (role, names) in GUESSES {
        if folders.iter().any(|f| f.role == Some(*role)) {
            continue;
        }
        // Top-level folders first (INBOX.Sent on servers with an INBOX namespace is top-level
        // in spirit), then any depth.
        let candidate = folders
            .iter()
            .enumerate()
            .filter(|(_, f)| f.role.is_none() && f.selectable)
            .filter(|(_, f)| names.contains(&f.name.to_lowercase().as_str()))
            .min_by_key(|(_, f)| {
                let parent_is_inbox = f
                    .parent
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case("INBOX"));
                (f.parent.is_some() && !parent_is_inbox, f.path.len())
            })
            .map(|(i, _)| i);
        if let Some(i) = candidate {
            folders[i].role = Some(*role);
        }
    }
}

fn role_rank(role: FolderRole) -> u8 {
    role as u8
}

pub(crate) fn folder(
    path: &str,
    delimiter: Option<&str>,
    attributes: &[NameAttribute<'_>],
) -> Folder {
    let (name, parent) = match delimiter
        .filter(|d| !d.is_empty())
        .and_then(|d| path.rsplit_once(d))
    {
        Some((parent, leaf)) if !leaf.is_empty() => (leaf.to_string(), Some(parent.to_string())),
        _ => (path.to_string(), None),
    };
    let role = if path.eq_ignore_ascii_case("INBOX") {
        Some(FolderRole::Inbox)
    } else {
        attributes.iter().find_map(|a| match a {
            NameAttribute::Drafts => Some(FolderRole::Drafts),
            NameAttribute::Sent => Some(FolderRole::Sent),
            NameAttribute::Trash => Some(FolderRole::Trash),
            NameAttribute::Junk => Some(FolderRole::Junk),
            NameAttribute::Archive => Some(FolderRole::Archive),
            NameAttribute::All => Some(FolderRole::All),
            NameAttribute::Flagged => Some(FolderRole::Flagged),
            _ => None,
        })
    };
    let selectable = !attributes
        .iter()
        .any(|a| matches!(a, NameAttribute::NoSelect));
    Folder {
        path: path.to_string(),
        name,
        parent,
        role,
        selectable,
        total: None,
        unread: None,
        subscribed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_by_delimiter_and_reads_roles() {
        let f = folder("Work/2026/Q1", Some("/"), &[]);
        assert_eq!(f.name, "Q1");
        assert_eq!(f.parent.as_deref(), Some("Work/2026"));
        assert_eq!(
            folder("inbox", Some("."), &[]).role,
            Some(FolderRole::Inbox)
        );
        assert_eq!(
            folder("Sent Items", Some("/"), &[NameAttribute::Sent]).role,
            Some(FolderRole::Sent)
        );
        assert!(!folder("Lists", None, &[NameAttribute::NoSelect]).selectable);
        // A trailing delimiter must not produce an empty name.
        assert_eq!(folder("Odd/", Some("/"), &[]).name, "Odd/");
    }

    #[test]
    fn guesses_roles_by_name_only_where_the_server_declared_none() {
        let mut folders = vec![
            folder("INBOX", Some("/"), &[]),
            folder("Deleted Items", Some("/"), &[]),
            folder("Projects/Sent", Some("/"), &[]),
            folder("Sent Items", Some("/"), &[]),
            folder("Old Trash", Some("/"), &[]),
            folder("Spam", Some("/"), &[]),
            folder("Junk", Some("/"), &[NameAttribute::Junk]),
        ];
        guess_missing_roles(&mut folders);
        let role = |p: &str| folders.iter().find(|f| f.path == p).and_then(|f| f.role);
        assert_eq!(role("Deleted Items"), Some(FolderRole::Trash));
        assert_eq!(role("Sent Items"), Some(FolderRole::Sent));
        assert_eq!(role("Projects/Sent"), None);
        assert_eq!(role("Old Trash"), None);
        // The server declared Junk: "Spam" stays a plain folder.
        assert_eq!(role("Spam"), None);
        assert_eq!(role("Junk"), Some(FolderRole::Junk));
    }

    #[test]
    fn localized_role_names_are_recognised() {
        let mut folders = vec![
            folder("INBOX", Some("."), &[]),
            folder("INBOX.Papierkorb", Some("."), &[]),
            folder("INBOX.Gesendete Elemente", Some("."), &[]),
            folder("INBOX.Entwürfe", Some("."), &[]),
            folder("Unerwünscht", Some("."), &[]),
        ];
        guess_missing_roles(&mut folders);
        let role = |p: &str| folders.iter().find(|f| f.path == p).and_then(|f| f.role);
        assert_eq!(role("INBOX.Papierkorb"), Some(FolderRole::Trash));
        assert_eq!(role("INBOX.Gesendete Elemente"), Some(FolderRole::Sent));
        assert_eq!(role("INBOX.Entwürfe"), Some(FolderRole::Drafts));
        assert_eq!(role("Unerwünscht"), Some(FolderRole::Junk));
        for name in ["Corbeille", "Папка", "Корзина", "ゴミ箱", "Cestino"] {
            let mut one = vec![folder(name, Some("/"), &[])];
            guess_missing_roles(&mut one);
            assert_eq!(one[0].role.is_some(), name != "Папка", "{name}");
        }
    }
}
