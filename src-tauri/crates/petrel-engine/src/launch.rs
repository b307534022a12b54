//! What a launch of Petrel asks for, from its command line (or the OS's "open this"):
//! `petrel mailto:…` writes a message, `petrel message.eml` (or a `file://` URI, which is
//! what a file manager passes for `Exec=petrel %U`) shows a message file. Options
//! (`--…`) are the shell's; anything else is named in the log and left.

use crate::account::Incoming;
use crate::outgoing::send::mailto_composition;
use crate::{Engine, EngineError};
use petrel_core::{AccountId, ComposeKind, Composition, MessageFile};
use std::path::{Path, PathBuf};

/// Largest message file read (a message with big attachments; anything larger is not mail).
pub(crate) const MAX_MESSAGE_FILE: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchRequest {
    /// A composer with this start (only to, cc, bcc, subject and body of the link).
    Compose(Box<Composition>),
    /// A message file to show.
    OpenFile(PathBuf),
}

/// What one launch argument is.
enum Arg<'a> {
    Mailto(&'a str),
    FileUri(&'a str),
    /// The shell's options (e.g. --hidden), or nothing.
    Option,
    /// Some other URI: named in the log and left.
    OtherUri,
    Path(&'a str),
}

fn classify(arg: &str) -> Arg<'_> {
    let trimmed = arg.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("mailto:") {
        Arg::Mailto(trimmed)
    } else if lower.starts_with("file:") {
        Arg::FileUri(trimmed)
    } else if trimmed.starts_with('-') || trimmed.is_empty() {
        Arg::Option
    } else if trimmed.contains("://") {
        Arg::OtherUri
    } else {
        Arg::Path(trimmed)
    }
}

/// The requests in `args` (without the program's own name), relative paths taken from `cwd`.
pub fn launch_requests(args: &[String], cwd: &Path) -> Vec<LaunchRequest> {
    let mut out = Vec::new();
    for arg in args {
        match classify(arg) {
            Arg::Mailto(link) => match mailto_composition(link) {
                Ok(start) => out.push(LaunchRequest::Compose(Box::new(start))),
                Err(e) => tracing::warn!(error = %e, "a mailto: argument was not understood"),
            },
            Arg::FileUri(uri) => match url::Url::parse(uri)
                .ok()
                .and_then(|u| u.to_file_path().ok())
            {
                Some(path) => out.push(LaunchRequest::OpenFile(path)),
                None => tracing::warn!("a file: argument names no local file"),
            },
            Arg::Option => {}
            Arg::OtherUri => {
                tracing::warn!(
                    "a launch argument that is neither a file nor a mailto: link was left"
                )
            }
            Arg::Path(path) => out.push(LaunchRequest::OpenFile(cwd.join(path))),
        }
    }
    out
}

/// `args` for handing over to the running Petrel: file paths made absolute from this
/// process's `cwd` (the running one has its own), everything else as it was.
pub fn with_absolute_paths(args: &[String], cwd: &Path) -> Vec<String> {
    args.iter()
        .map(|arg| match classify(arg) {
            Arg::Path(path) if Path::new(path).is_relative() => {
                cwd.join(path).display().to_string()
            }
            _ => arg.clone(),
        })
        .collect()
}

/// Reads a message file for the reader. Not a message (too large, unreadable, a folder) is
/// said in words naming the file.
pub fn read_message_file(path: &Path) -> Result<MessageFile, EngineError> {
    let raw = read_bounded(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(MessageFile {
        path: path.display().to_string(),
        name,
        view: petrel_render::message_view(0, &raw),
    })
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, EngineError> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| EngineError::InvalidInput(format!("Petrel cannot open {shown}: {e}.")))?;
    if !meta.is_file() {
        return Err(EngineError::InvalidInput(format!(
            "{shown} is not a file, so it cannot be shown as a message."
        )));
    }
    if meta.len() > MAX_MESSAGE_FILE {
        return Err(EngineError::InvalidInput(format!(
            "{shown} is {} MB: too large to be a mail message.",
            meta.len() / (1024 * 1024)
        )));
    }
    std::fs::read(path)
        .map_err(|e| EngineError::InvalidInput(format!("Petrel cannot read {shown}: {e}.")))
}

impl Engine {
    /// A reply to, or forward of, a message file, written from account `id`.
    pub async fn start_composition_from_file(
        &self,
        id: &AccountId,
        path: &Path,
        kind: ComposeKind,
    ) -> Result<Composition, EngineError> {
        let raw = read_bounded(path)?;
        self.composition_from(id, &raw, kind, None)
    }

    /// Copies a message file into `folder` of account `id` (a POP3 account's local folder,
    /// or an IMAP folder on the server); the file stays where it is.
    pub async fn copy_message_file(
        &self,
        id: &AccountId,
        folder: &str,
        path: &Path,
    ) -> Result<(), EngineError> {
        let raw = read_bounded(path)?;
        let account = self.get(id)?;
        account.add_message(&self.shared, folder, &raw).await?;
        self.shared.cache_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paths_handed_over_are_made_absolute_and_nothing_else_changes() {
        let got = with_absolute_paths(
            &args(&[
                "notes/old.eml",
                "/tmp/a.eml",
                "--hidden",
                "mailto:bo@example.test",
                "file:///tmp/b.eml",
            ]),
            Path::new("/home/ana"),
        );
        assert_eq!(
            got,
            args(&[
                "/home/ana/notes/old.eml",
                "/tmp/a.eml",
                "--hidden",
                "mailto:bo@example.test",
                "file:///tmp/b.eml"
            ])
        );
    }

    #[test]
    fn links_files_and_file_uris_are_requests_options_are_not() {
        let cwd = Path::new("/home/ana");
        let got = launch_requests(
            &args(&[
                "--hidden",
                "MAILTO:bo@example.test?subject=Hi%20there&attach=/etc/passwd",
                "notes/old.eml",
                "/tmp/a%20b.eml",
                "file:///tmp/caf%C3%A9%20menu.eml",
                "https://example.test/x",
                "",
            ]),
            cwd,
        );
        let LaunchRequest::Compose(start) = &got[0] else {
            panic!("a compose request first: {got:?}");
        };
        assert_eq!(start.to, vec!["bo@example.test".to_string()]);
        assert_eq!(start.subject, "Hi there");
        assert!(start.attachments.is_empty(), "attach= is never taken");
        assert_eq!(
            got[1..].to_vec(),
            vec![
                LaunchRequest::OpenFile(PathBuf::from("/home/ana/notes/old.eml")),
                // A path is a path: no percent-decoding.
                LaunchRequest::OpenFile(PathBuf::from("/tmp/a%20b.eml")),
                // A file: URI (what a file manager passes for %U) is decoded.
                LaunchRequest::OpenFile(PathBuf::from("/tmp/café menu.eml")),
            ]
        );
    }

    #[test]
    fn a_message_file_is_read_for_the_reader_and_bad_files_are_said_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Lunch.eml");
        std::fs::write(
            &path,
            "From: Ana Lima <ana@example.test>\r\nTo: me@example.test\r\nSubject: Lunch?\r\n\
Message-ID: <lunch@example.test>\r\n\r\nBy the harbour at one.\r\n",
        )
        .unwrap();
        let file = read_message_file(&path).unwrap();
        assert_eq!(file.name, "Lunch.eml");
        assert_eq!(file.view.subject, "Lunch?");
        assert!(file.view.text.contains("harbour"));

        let e = read_message_file(&dir.path().join("missing.eml")).unwrap_err();
        assert!(e.to_string().contains("missing.eml"), "{e}");
        let e = read_message_file(dir.path()).unwrap_err();
        assert!(e.to_string().contains("not a file"), "{e}");
    }
}
