//! Importing mail from another program's files, and exporting a folder as mbox.
//!
//! An import must be safe to interrupt and run again: into a local folder (a POP3
//! account's), each message is stored under a name made from a hash of its bytes, so a
//! message already there is recognised and not stored twice whatever happened before
//! (a crash mid-batch, the same file chosen again). Into a server folder (IMAP), a message
//! whose Message-ID the folder holds is not sent again (a message without one could come
//! twice after a crash in the moment of its APPEND). A
//! small journal keeps where each source was left, so a resumed import does not read
//! gigabytes again.

pub mod thunderbird;

use crate::account::import_into::{content_key, Arrival, ImportInto};
use crate::account::Incoming;
use crate::launch::MAX_MESSAGE_FILE;
use crate::{Engine, EngineError};
use petrel_core::{
    AccountId, FolderRole, ImportProgress, ImportReport, ImportRequest, ImportSource,
    ProfileContents, ThunderbirdProfile,
};
use petrel_maildir::mbox::{self, MboxReader};
use petrel_pop3::popstate::{popstate, PopState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Messages per durable batch into a local folder (one syncfs each), and bytes.
const BATCH_MESSAGES: usize = 200;
const BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Lines of "what was left out" kept for the report.
const MAX_PROBLEMS: usize = 40;

/// Where each source was left.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    /// Source location → offset (mbox) or files done (Maildir, message files).
    positions: BTreeMap<String, u64>,
}

struct JournalFile {
    path: PathBuf,
    journal: Journal,
}

impl JournalFile {
    fn open(path: PathBuf) -> JournalFile {
        let journal = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        JournalFile { path, journal }
    }

    fn save(&self) -> Result<(), EngineError> {
        let storage = |source| EngineError::Storage {
            context: "Recording how far the import is".into(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(storage)?;
        }
        let bytes =
            serde_json::to_vec(&self.journal).map_err(|e| storage(std::io::Error::other(e)))?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, bytes).map_err(storage)?;
        std::fs::rename(&tmp, &self.path).map_err(storage)
    }

    /// The import is complete: nothing to resume.
    fn finish(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A Thunderbird folder's path in the target account: under `base` as it was, or at the
/// top level with Inbox, Sent, Drafts, Trash and Archives filed in the account's own.
fn target_path(
    base: &str,
    source: &str,
    role_folder: &dyn Fn(FolderRole) -> Option<String>,
) -> String {
    if !base.trim().is_empty() {
        return format!("{}/{source}", base.trim().trim_matches('/'));
    }
    let (first, rest) = match source.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (source, None),
    };
    let role = match first.to_lowercase().as_str() {
        "inbox" => Some(FolderRole::Inbox),
        "sent" => Some(FolderRole::Sent),
        "drafts" => Some(FolderRole::Drafts),
        "trash" => Some(FolderRole::Trash),
        "archives" => Some(FolderRole::Archive),
        _ => None,
    };
    let first = role
        .and_then(role_folder)
        .unwrap_or_else(|| first.to_string());
    match rest {
        Some(r) => format!("{first}/{r}"),
        None => first,
    }
}

/// One folder's source.
enum FolderSource {
    Mbox(PathBuf),
    Maildir(PathBuf),
    Files(Vec<PathBuf>),
}

impl FolderSource {
    fn location(&self) -> String {
        match self {
            FolderSource::Mbox(p) | FolderSource::Maildir(p) => p.display().to_string(),
            FolderSource::Files(f) => format!(
                "{} files from {}",
                f.len(),
                f.first()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            FolderSource::Mbox(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            FolderSource::Maildir(p) => thunderbird::folder_bytes(&thunderbird::StoreFolder {
                path: String::new(),
                location: p.clone(),
                maildir: true,
            }),
            FolderSource::Files(files) => files
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum(),
        }
    }
}

/// The import under way: counts and the progress callback.
struct Run<'p> {
    account: AccountId,
    report: ImportReport,
    bytes_done: u64,
    bytes_total: u64,
    progress: &'p mut (dyn FnMut(ImportProgress) -> ControlFlow<()> + Send),
}

impl Run<'_> {
    fn problem(&mut self, what: String) {
        self.report.skipped += 1;
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(what);
        }
    }

    /// Tells the progress; `Break` when the user stopped the import.
    fn tell(&mut self, folder: &str) -> ControlFlow<()> {
        let p = ImportProgress {
            account: self.account.clone(),
            folder: folder.to_string(),
            messages: self.report.imported + self.report.already_here,
            bytes_done: self.bytes_done.min(self.bytes_total),
            bytes_total: self.bytes_total,
        };
        (self.progress)(p)
    }
}

impl Engine {
    /// The Thunderbird profiles on this computer (every `profiles.ini` in the places
    /// Thunderbird's packages keep it), the default first.
    pub fn thunderbird_profiles(&self) -> Vec<ThunderbirdProfile> {
        let Some(home) = dirs::home_dir() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for root in thunderbird::profile_roots(&home) {
            if let Ok(text) = std::fs::read_to_string(root.join("profiles.ini")) {
                out.extend(
                    thunderbird::profiles_ini(&text, &root)
                        .into_iter()
                        .filter(|p| Path::new(&p.path).join("prefs.js").is_file()),
                );
            }
        }
        out.sort_by_key(|p| !p.default);
        out
    }

    /// What a Thunderbird profile directory holds (accounts without passwords, mail stores).
    pub fn read_thunderbird_profile(&self, profile: &Path) -> Result<ProfileContents, EngineError> {
        let prefs = std::fs::read_to_string(profile.join("prefs.js")).map_err(|e| {
            EngineError::InvalidInput(format!(
                "{} is not a Thunderbird profile (no readable prefs.js: {e}).",
                profile.display()
            ))
        })?;
        Ok(thunderbird::contents(profile, &thunderbird::prefs(&prefs)))
    }

    /// Imports mail into an account (see the module note); `progress` after each batch,
    /// which stops the import by answering `Break` (the report then says not finished; the
    /// same request later goes on from there). Safe to run again after an interruption of
    /// any kind: what is already here is not added twice.
    pub async fn import_mail(
        &self,
        request: &ImportRequest,
        progress: &mut (dyn FnMut(ImportProgress) -> ControlFlow<()> + Send),
    ) -> Result<ImportReport, EngineError> {
        let account = self.get(&request.account)?;
        // The sources, each with its folder as the other program named it.
        let mut sources: Vec<(Option<String>, FolderSource)> = Vec::new();
        let mut pop3_state: Option<PathBuf> = None;
        let base = request.folder.trim().trim_matches('/').to_string();
        match &request.source {
            ImportSource::Mbox { path } => {
                sources.push((None, FolderSource::Mbox(PathBuf::from(path))))
            }
            ImportSource::Maildir { path } => {
                sources.push((None, FolderSource::Maildir(PathBuf::from(path))))
            }
            ImportSource::MessageFiles { paths } => {
                let mut files: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
                files.sort();
                sources.push((None, FolderSource::Files(files)))
            }
            ImportSource::Thunderbird { profile, store } => {
                let profile = Path::new(profile);
                let prefs = std::fs::read_to_string(profile.join("prefs.js")).map_err(|e| {
                    EngineError::InvalidInput(format!(
                        "Petrel cannot read the Thunderbird profile {}: {e}.",
                        profile.display()
                    ))
                })?;
                let prefs = thunderbird::prefs(&prefs);
                let dir = thunderbird::store_dir(&prefs, profile, store).ok_or_else(|| {
                    EngineError::InvalidInput(format!(
                        "The Thunderbird profile has no mail store named {store}."
                    ))
                })?;
                pop3_state = Some(dir.dir.join("popstate.dat"));
                for f in thunderbird::folders(&dir) {
                    let source = if f.maildir {
                        FolderSource::Maildir(f.location)
                    } else {
                        FolderSource::Mbox(f.location)
                    };
                    sources.push((Some(f.path), source));
                }
            }
        }
        let pop3_known: HashMap<String, PopState> = pop3_state
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| {
                popstate(&text)
                    .into_iter()
                    .map(|s| (s.uidl.clone(), s))
                    .collect()
            })
            .unwrap_or_default();
        let mut into = account.import_into(&self.shared, pop3_known).await?;
        let folders: Vec<(String, FolderSource)> = sources
            .into_iter()
            .map(|(named, source)| {
                let folder = match named {
                    Some(path) => {
                        target_path(&base, &path, &|role| into.role_folder(&self.shared, role))
                    }
                    None => base.clone(),
                };
                (folder, source)
            })
            .collect();
        if folders.iter().any(|(name, _)| name.is_empty()) {
            return Err(EngineError::InvalidInput(
                "Choose the folder the messages go into.".into(),
            ));
        }
        let mut run = Run {
            account: request.account.clone(),
            report: ImportReport::default(),
            bytes_done: 0,
            bytes_total: folders.iter().map(|(_, s)| s.bytes()).sum(),
            progress,
        };
        let journal_key = content_key(
            format!(
                "{}\n{}\n{:?}",
                request.account, request.folder, request.source
            )
            .as_bytes(),
        );
        let mut journal = JournalFile::open(
            self.shared
                .config_dir
                .join("imports")
                .join(format!("{journal_key}.json")),
        );
        let mut stopped = false;
        for (folder, source) in &folders {
            stopped = self
                .fill_folder(&mut into, folder, source, &mut journal, &mut run)
                .await?
                .is_break();
            run.report.folders.push(folder.clone());
            if stopped {
                break;
            }
        }
        run.report.pop3_known = into.finish(&self.shared, &run.report.folders).await?;
        if !stopped {
            journal.finish();
        }
        run.report.finished = !stopped;
        self.shared.cache_changed();
        Ok(run.report)
    }

    async fn fill_folder(
        &self,
        into: &mut ImportInto,
        folder: &str,
        source: &FolderSource,
        journal: &mut JournalFile,
        run: &mut Run<'_>,
    ) -> Result<ControlFlow<()>, EngineError> {
        let location = source.location();
        let start = journal
            .journal
            .positions
            .get(&location)
            .copied()
            .unwrap_or(0);
        let mut batch: Vec<Arrival> = Vec::new();
        let mut batch_bytes = 0usize;
        let mut position = start;
        let mut items = read_source(source, start);
        into.open(&self.shared, folder).await?;
        loop {
            let next = items.next();
            let done = next.is_none();
            if let Some(entry) = next {
                match entry {
                    SourceItem::Message {
                        raw,
                        flags,
                        deleted,
                        next,
                        bytes,
                    } => {
                        position = next;
                        run.bytes_done += bytes;
                        if deleted {
                            run.report.deleted += 1;
                        } else {
                            batch_bytes += raw.len();
                            batch.push(Arrival { raw, flags });
                        }
                    }
                    SourceItem::Skipped { what, next, bytes } => {
                        position = next;
                        run.bytes_done += bytes;
                        run.problem(what);
                    }
                    SourceItem::Failed(e) => return Err(e),
                }
            }
            if batch.len() >= BATCH_MESSAGES || batch_bytes >= BATCH_BYTES || done {
                let outcome = into.store(&self.shared, folder, &batch).await?;
                run.report.imported += outcome.stored;
                run.report.already_here += outcome.already_here;
                batch.clear();
                batch_bytes = 0;
                journal.journal.positions.insert(location.clone(), position);
                journal.save()?;
                if run.tell(folder).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            if done {
                return Ok(ControlFlow::Continue(()));
            }
        }
    }

    /// Writes a folder's messages as one mbox file at `dest` (mboxrd quoting, the messages
    /// as the server or download gave them). Returns how many.
    pub async fn export_folder_mbox(
        &self,
        id: &AccountId,
        folder: &str,
        dest: &Path,
    ) -> Result<u32, EngineError> {
        let account = self.get(id)?;
        // The listing brought up to date first (a local folder's files, a server folder).
        account.refresh(&self.shared, folder, false).await?;
        // Oldest first, as mail programs append.
        let mut order = self
            .shared
            .cache
            .order_keys(&petrel_store::FolderRef::new(id, folder))
            .map_err(EngineError::cache("Listing the folder"))?;
        order.sort_unstable();
        let uids = order.into_iter().map(|(_, uid)| uid);
        let storage = |source| EngineError::Storage {
            context: format!("Writing {}", dest.display()),
            source,
        };
        let tmp = dest.with_extension("mbox.part");
        let file = std::fs::File::create(&tmp).map_err(storage)?;
        let mut out = std::io::BufWriter::new(file);
        let mut count = 0;
        for uid in uids {
            let raw = account.raw_message(&self.shared, folder, uid).await?;
            let raw = petrel_pop3::ledger::without_stamp(&raw);
            let date = petrel_render::list_headers(raw).date.unwrap_or(0);
            mbox::write_message(&mut out, raw, "MAILER-DAEMON", date).map_err(storage)?;
            count += 1;
        }
        let file = out.into_inner().map_err(|e| storage(e.into_error()))?;
        file.sync_all().map_err(storage)?;
        std::fs::rename(&tmp, dest).map_err(storage)?;
        Ok(count)
    }
}

/// One step of reading a source.
enum SourceItem {
    Message {
        raw: Vec<u8>,
        flags: String,
        deleted: bool,
        /// The position after it (resume there).
        next: u64,
        bytes: u64,
    },
    Skipped {
        what: String,
        next: u64,
        bytes: u64,
    },
    Failed(EngineError),
}

/// The messages of a source from `start` (an mbox offset, or files already done).
fn read_source(source: &FolderSource, start: u64) -> Box<dyn Iterator<Item = SourceItem> + Send> {
    match source {
        FolderSource::Mbox(path) => read_mbox(path.clone(), start),
        FolderSource::Maildir(dir) => {
            let mut files: Vec<PathBuf> = ["cur", "new"]
                .iter()
                .flat_map(|sub| std::fs::read_dir(dir.join(sub)).into_iter().flatten())
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            petrel_maildir::sort_oldest_first(&mut files);
            read_files(files, start, true)
        }
        FolderSource::Files(files) => read_files(files.clone(), start, false),
    }
}

fn read_mbox(path: PathBuf, start: u64) -> Box<dyn Iterator<Item = SourceItem> + Send> {
    use std::io::{Seek, SeekFrom};
    let shown = path.display().to_string();
    let opened = std::fs::File::open(&path).and_then(|mut f| {
        f.seek(SeekFrom::Start(start))?;
        Ok(f)
    });
    let file = match opened {
        Ok(f) => f,
        Err(e) => {
            return Box::new(std::iter::once(SourceItem::Failed(
                EngineError::InvalidInput(format!("Petrel cannot read {shown}: {e}.")),
            )))
        }
    };
    let reader = MboxReader::new(std::io::BufReader::with_capacity(256 * 1024, file), start);
    Box::new(reader.map(move |m| match m {
        Ok(m) if m.oversized => SourceItem::Skipped {
            what: format!(
                "A message at byte {} of {shown} is larger than {} MB (a damaged file?).",
                m.start,
                mbox::MAX_MESSAGE / (1024 * 1024)
            ),
            next: m.end,
            bytes: m.end - m.start,
        },
        Ok(m) => {
            let status = mbox::status(&m.raw);
            SourceItem::Message {
                next: m.end,
                bytes: m.end - m.start,
                raw: m.raw,
                flags: status.flags,
                deleted: status.deleted,
            }
        }
        Err(mbox::MboxError::NotMbox) => SourceItem::Failed(EngineError::InvalidInput(format!(
            "{shown} is not an mbox file (it does not start with a \"From \" line)."
        ))),
        Err(mbox::MboxError::Io(e)) => SourceItem::Failed(EngineError::InvalidInput(format!(
            "Petrel cannot read {shown}: {e}."
        ))),
    }))
}

fn read_files(
    files: Vec<PathBuf>,
    start: u64,
    maildir: bool,
) -> Box<dyn Iterator<Item = SourceItem> + Send> {
    Box::new(
        files
            .into_iter()
            .enumerate()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .map(move |(i, path)| {
                let next = i as u64 + 1;
                let shown = path.display().to_string();
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if size > MAX_MESSAGE_FILE {
                    return SourceItem::Skipped {
                        what: format!("{shown} is too large to be a mail message."),
                        next,
                        bytes: size,
                    };
                }
                let raw = match std::fs::read(&path) {
                    Ok(raw) => raw,
                    Err(e) => {
                        return SourceItem::Skipped {
                            what: format!("Petrel cannot read {shown}: {e}."),
                            next,
                            bytes: size,
                        }
                    }
                };
                if !looks_like_mail(&raw) {
                    return SourceItem::Skipped {
                        what: format!("{shown} is not a mail message."),
                        next,
                        bytes: size,
                    };
                }
                let (flags, deleted) = if maildir {
                    let flags = petrel_maildir::flags_of(&path);
                    let deleted = flags.contains('T');
                    let kept: String = flags.chars().filter(|c| "SRF".contains(*c)).collect();
                    (kept, deleted)
                } else {
                    // A message someone saved as a file was read.
                    ("S".to_string(), false)
                };
                SourceItem::Message {
                    raw,
                    flags,
                    deleted,
                    next,
                    bytes: size,
                }
            }),
    )
}

/// A header block first: a "Name: value" line (or an mbox-style "From " line some tools
/// leave at the top, which the reader copes with).
fn looks_like_mail(raw: &[u8]) -> bool {
    let first = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    match first.split_once(':') {
        Some((name, _)) => {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic() && c != ':')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thunderbird_folders_land_in_the_accounts_own_role_folders() {
        let roles = |role: FolderRole| match role {
            FolderRole::Sent => Some("Sent Items".to_string()),
            FolderRole::Inbox => Some("INBOX".to_string()),
            _ => None,
        };
        assert_eq!(target_path("", "Inbox", &roles), "INBOX");
        assert_eq!(target_path("", "Sent", &roles), "Sent Items");
        assert_eq!(target_path("", "Archives/2024", &roles), "Archives/2024");
        assert_eq!(
            target_path("", "Projects/Petrel", &roles),
            "Projects/Petrel"
        );
        assert_eq!(
            target_path("Local Folders", "Inbox", &roles),
            "Local Folders/Inbox"
        );
    }

    #[test]
    fn files_that_are_not_mail_are_told_apart() {
        assert!(looks_like_mail(b"Subject: hi\r\n\r\nbody"));
        assert!(!looks_like_mail(b"%PDF-1.7\n"));
        assert!(!looks_like_mail(b""));
    }
}
