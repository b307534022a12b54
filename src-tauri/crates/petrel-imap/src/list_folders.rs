//! LIST "" "*" → the folder tree, with roles from SPECIAL-USE attributes (RFC 6154).

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
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
    pub async fn list_folders(&mut self) -> Result<Vec<Folder>, ImapError> {
        let names: Vec<async_imap::types::Name> = with_timeout("listing folders", async {
            let stream = self.inner.list(Some(""), Some("*")).await?;
            stream.try_collect().await
        })
        .await??;
        if names.len() > MAX_FOLDERS {
            return Err(ImapError::Protocol(format!(
                "the server listed {} folders",
                names.len()
            )));
        }
        let mut folders: Vec<Folder> = names
            .iter()
            .map(|n| folder(n.name(), n.delimiter(), n.attributes()))
            .collect();
        if folders.len() <= MAX_STATUS_FOLDERS {
            for folder in folders.iter_mut().filter(|f| f.selectable) {
                let status = with_timeout(
                    "reading folder counts",
                    self.inner.status(&folder.path, "(MESSAGES UNSEEN)"),
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
        // INBOX first, then special folders, then the rest by name: what every client shows.
        folders.sort_by_key(|f| {
            (
                f.role.map(role_rank).unwrap_or(u8::MAX),
                f.path.to_lowercase(),
            )
        });
        Ok(folders)
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
}
