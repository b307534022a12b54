//! A Maildir (tmp/, new/, cur/) written so that a message reported stored survives a crash
//! or power cut: files are written in tmp/, made durable, renamed into new/, and the
//! directory entry is made durable too (DESIGN §2).
//!
//! Durability is paid once per batch, not per message: on Linux one `syncfs` covers every
//! file of the batch (and again the renames), where fsync per file would cost 4–7 ms each
//! here; elsewhere each file and the directory are fsynced.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

pub mod mbox;

#[derive(Debug, thiserror::Error)]
pub enum MaildirError {
    #[error("not enough free disk space in {path}: {needed} bytes needed, {free} free")]
    DiskFull {
        path: PathBuf,
        needed: u64,
        free: u64,
    },
    #[error("not enough free disk space in {path}: the disk filled up while writing mail")]
    NoSpace { path: PathBuf },
    #[error("writing mail to {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, MaildirError>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MaildirError + '_ {
    move |source| {
        if source.raw_os_error() == Some(28) {
            // ENOSPC: say it in words.
            return MaildirError::NoSpace {
                path: path.to_path_buf(),
            };
        }
        MaildirError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A message file in the Maildir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub path: PathBuf,
}

/// A message to store under a chosen unique name (see [`Maildir::deliver_keyed`]).
#[derive(Debug, Clone)]
pub struct Keyed<'a> {
    /// The name's unique part: letters, digits, '.', '-' and '_' only.
    pub unique: String,
    pub raw: &'a [u8],
    /// Maildir flags ("S" seen, "R" replied, "F" flagged); `None`: a new message.
    pub flags: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The character between a message's unique name and its info ("name:2,FS"). `:` is
/// reserved in Windows file names (refused, or read as an NTFS stream name), so there it is
/// `;`, as isync's `InfoDelimiter` and Dovecot's `maildir_info_separator` do it. Files
/// written with either are read.
const PLATFORM_SEPARATOR: char = if cfg!(windows) { ';' } else { ':' };
static SEPARATOR: AtomicU32 = AtomicU32::new(PLATFORM_SEPARATOR as u32);

/// The info separator used for the names this process writes.
pub fn info_separator() -> char {
    char::from_u32(SEPARATOR.load(Ordering::Relaxed)).unwrap_or(PLATFORM_SEPARATOR)
}

/// Writes names with `separator` from now on: tests run the Windows form (`;`) on Linux.
pub fn set_info_separator(separator: char) {
    SEPARATOR.store(separator as u32, Ordering::Relaxed);
}

/// A Maildir file name's unique part and its flags ("name:2,FS" or "name;2,FS" →
/// ("name", "FS")); a name without info has no flags.
pub fn split_name(file: &str) -> (&str, &str) {
    for sep in [":2,", ";2,"] {
        if let Some((name, flags)) = file.split_once(sep) {
            return (name, flags);
        }
    }
    (file, "")
}

/// The flags of the file at `path` (see [`split_name`]).
pub fn flags_of(path: &Path) -> String {
    file_name(path)
        .map(|n| split_name(&n).1.to_string())
        .unwrap_or_default()
}

/// The unique part of the name of the file at `path`, whatever its flags.
pub fn unique_of(path: &Path) -> String {
    file_name(path)
        .map(|n| split_name(&n).0.to_string())
        .unwrap_or_default()
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Flags in the order Maildir wants them (ASCII order, each once).
fn sorted_flags(flags: &str) -> String {
    let mut f: Vec<char> = flags.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    f.sort_unstable();
    f.dedup();
    f.into_iter().collect()
}

impl Maildir {
    /// Opens (creating if needed) the Maildir at `root`.
    pub fn open(root: &Path) -> Result<Self> {
        for sub in ["tmp", "new", "cur"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        Ok(Maildir {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes free for this Maildir's file system.
    pub fn free_bytes(&self) -> Result<u64> {
        free_bytes(&self.root)
    }

    /// Refuses a batch of `needed` bytes unless it fits with `reserve` bytes to spare.
    pub fn check_space(&self, needed: u64, reserve: u64) -> Result<()> {
        let free = self.free_bytes()?;
        if free < needed.saturating_add(reserve) {
            return Err(MaildirError::DiskFull {
                path: self.root.clone(),
                needed: needed.saturating_add(reserve),
                free,
            });
        }
        Ok(())
    }

    /// Stores every message of the batch durably in new/, or none is reported stored:
    /// on an error the batch's tmp files are removed (renamed ones are complete messages).
    pub fn deliver_batch(&self, messages: &[Vec<u8>]) -> Result<Vec<Stored>> {
        let items: Vec<Keyed<'_>> = messages
            .iter()
            .map(|raw| Keyed {
                unique: unique_name(),
                raw,
                flags: None,
            })
            .collect();
        self.deliver(&items)
    }

    /// Stores a batch under names the caller chose, each with its flags (`Some("")` files
    /// it in cur/ as seen by a program, `None` in new/), durably and all-or-nothing like
    /// [`Maildir::deliver_batch`]. A name in `here` (read once with
    /// [`Maildir::unique_names`], then kept up to date by this call) is left alone, so a
    /// batch delivered again after a crash adds no second copy: imports resume this way.
    pub fn deliver_keyed(
        &self,
        items: &[Keyed<'_>],
        here: &mut std::collections::HashSet<String>,
    ) -> Result<Vec<Stored>> {
        let mut fresh: Vec<Keyed<'_>> = Vec::with_capacity(items.len());
        for item in items {
            if !here.contains(&item.unique) && !fresh.iter().any(|f| f.unique == item.unique) {
                fresh.push(item.clone());
            }
        }
        let stored = self.deliver(&fresh)?;
        here.extend(fresh.into_iter().map(|k| k.unique));
        Ok(stored)
    }

    /// The unique part of every message's name.
    pub fn unique_names(&self) -> Result<std::collections::HashSet<String>> {
        Ok(self.messages()?.iter().map(|p| unique_of(p)).collect())
    }

    fn deliver(&self, items: &[Keyed<'_>]) -> Result<Vec<Stored>> {
        let tmp_dir = self.root.join("tmp");
        let mut written: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(items.len());
        let result = (|| {
            // Opened before the first write: syncfs reports only writeback errors raised
            // after its descriptor was opened (Linux ≥ 5.8, `f_sb_err`).
            let batch = BatchSync::begin(&self.root)?;
            for item in items {
                let path = tmp_dir.join(&item.unique);
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(io(&path))?;
                let target = match item.flags {
                    None => self.root.join("new").join(&item.unique),
                    Some(flags) => self.root.join("cur").join(format!(
                        "{}{}2,{}",
                        item.unique,
                        info_separator(),
                        sorted_flags(flags)
                    )),
                };
                written.push((path.clone(), target));
                file.write_all(item.raw).map_err(io(&path))?;
                if batch.per_file {
                    file.sync_all().map_err(io(&path))?;
                }
            }
            batch.finish(&self.root)?;
            let mut stored = Vec::with_capacity(written.len());
            for (path, target) in &written {
                fs::rename(path, target).map_err(io(target))?;
                stored.push(Stored {
                    path: target.clone(),
                });
            }
            for sub in ["new", "cur"] {
                if written
                    .iter()
                    .any(|(_, t)| t.parent() == Some(&self.root.join(sub)))
                {
                    sync_dir(&self.root.join(sub))?;
                }
            }
            Ok(stored)
        })();
        if result.is_err() {
            for (path, _) in &written {
                let _ = fs::remove_file(path);
            }
        }
        result
    }

    /// Every message file in new/ and cur/.
    pub fn messages(&self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.root.join(sub);
            for entry in fs::read_dir(&dir).map_err(io(&dir))? {
                let entry = entry.map_err(io(&dir))?;
                if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                    out.push(entry.path());
                }
            }
        }
        sort_oldest_first(&mut out);
        Ok(out)
    }

    /// Replaces a stored message's content durably (e.g. a headers-only download completed).
    pub fn replace(&self, path: &Path, raw: &[u8]) -> Result<()> {
        let tmp = self.root.join("tmp").join(unique_name());
        let mut file = File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(raw).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, path).map_err(io(path))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// Removes a message for good.
    pub fn remove(&self, path: &Path) -> Result<()> {
        fs::remove_file(path).map_err(io(path))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// Where the message with this unique name is now, whatever its flags or sub-directory
    /// (a mark renames the file, so a path kept from earlier may be stale).
    pub fn find(&self, unique: &str) -> Option<PathBuf> {
        ["new", "cur"].into_iter().find_map(|sub| {
            let dir = self.root.join(sub);
            let plain = dir.join(unique);
            if sub == "new" && plain.is_file() {
                return Some(plain);
            }
            fs::read_dir(&dir).ok()?.flatten().find_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (split_name(&name).0 == unique).then(|| e.path())
            })
        })
    }

    /// Removes the message with this unique name (see [`Maildir::find`]); gone already is
    /// fine.
    pub fn remove_named(&self, unique: &str) -> Result<()> {
        match self.find(unique) {
            Some(path) => self.remove(&path),
            None => Ok(()),
        }
    }

    /// Gives the message (found by the unique name of `path`) exactly `flags`: one atomic
    /// rename into cur/, made durable. Returns its new path.
    pub fn set_flags(&self, path: &Path, flags: &str) -> Result<PathBuf> {
        let unique = unique_of(path);
        // The path given is usually still right: no directory scan then (the outbox marks
        // "handed over" in the moment after the final "." is written, and every
        // microsecond of that window is one in which a crash would send twice).
        let current = Some(path.to_path_buf())
            .filter(|p| p.is_file())
            .or_else(|| self.find(&unique))
            .ok_or_else(|| MaildirError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "message not found"),
            })?;
        let target = self.root.join("cur").join(format!(
            "{unique}{}2,{}",
            info_separator(),
            sorted_flags(flags)
        ));
        if current != target {
            fs::rename(&current, &target).map_err(io(&target))?;
            sync_dir(&self.root.join("cur"))?;
            if current.parent() != target.parent() {
                if let Some(dir) = current.parent() {
                    sync_dir(dir)?;
                }
            }
        }
        Ok(target)
    }

    /// Puts the message back in new/ without flags (a message no one has looked at).
    pub fn clear_flags(&self, path: &Path) -> Result<PathBuf> {
        let unique = unique_of(path);
        let current = self.find(&unique).ok_or_else(|| MaildirError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "message not found"),
        })?;
        let target = self.root.join("new").join(&unique);
        if current != target {
            fs::rename(&current, &target).map_err(io(&target))?;
            sync_dir(&self.root.join("new"))?;
            if let Some(dir) = current.parent() {
                sync_dir(dir)?;
            }
        }
        Ok(target)
    }

    /// Moves the message at `path` into `target` (keeping its name and flags), durably.
    pub fn move_to(&self, path: &Path, target: &Maildir) -> Result<PathBuf> {
        let unique = unique_of(path);
        let flags = flags_of(path);
        let dest = target.root.join("cur").join(format!(
            "{unique}{}2,{}",
            info_separator(),
            sorted_flags(&flags)
        ));
        fs::rename(path, &dest).map_err(io(&dest))?;
        sync_dir(&target.root.join("cur"))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(dest)
    }
}

fn unique_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Microseconds padded, so that names also sort as text in the order they were made.
    format!(
        "{}.M{:06}P{}Q{}.petrel",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Orders message files by when their names say they were made, whichever folder (new/,
/// cur/) they are in: the outbox sends in this order and imports keep it.
pub fn sort_oldest_first(paths: &mut [PathBuf]) {
    paths.sort_by_cached_key(|p| {
        let unique = unique_of(p);
        (age_of(&unique), unique)
    });
}

/// When a unique name says it was made, as numbers: (seconds, microseconds, counter) from
/// "secs.M<µs>P<pid>Q<n>.host" (ours, Dovecot's and most writers' form, digits unpadded);
/// names of another form sort after them, by text.
fn age_of(unique: &str) -> (u64, u64, u64) {
    let unknown = (u64::MAX, 0, 0);
    let Some((secs, rest)) = unique.split_once('.') else {
        return unknown;
    };
    let Ok(secs) = secs.parse() else {
        return unknown;
    };
    let fields = rest.split('.').next().unwrap_or("");
    let number_after = |tag: char| -> u64 {
        fields
            .split_once(tag)
            .map(|(_, after)| {
                after
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0)
    };
    (secs, number_after('M'), number_after('Q'))
}

/// How a batch is made durable: one `syncfs` over a descriptor opened before the writes
/// (Linux 5.8 and later, where syncfs reports writeback errors), else fsync per file.
struct BatchSync {
    per_file: bool,
    #[cfg(target_os = "linux")]
    root: Option<File>,
}

impl BatchSync {
    fn begin(root: &Path) -> Result<BatchSync> {
        #[cfg(target_os = "linux")]
        {
            if syncfs_reports_errors() {
                let dir = File::open(root).map_err(io(root))?;
                return Ok(BatchSync {
                    per_file: false,
                    root: Some(dir),
                });
            }
            Ok(BatchSync {
                per_file: true,
                root: None,
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = root;
            Ok(BatchSync { per_file: true })
        }
    }

    fn finish(self, root: &Path) -> Result<()> {
        #[cfg(target_os = "linux")]
        if let Some(dir) = &self.root {
            use std::os::fd::AsRawFd;
            // SAFETY: syncfs takes an open descriptor and only flushes the file system it is on.
            #[allow(unsafe_code)]
            let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
            if rc != 0 {
                return Err(io(root)(std::io::Error::last_os_error()));
            }
        }
        let _ = root;
        Ok(())
    }
}

/// syncfs returns file-data writeback errors only from Linux 5.8 on (commit 735e4ae5ba28);
/// before that it can report success after an I/O error, so each file is fsynced instead.
#[cfg(target_os = "linux")]
fn syncfs_reports_errors() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .and_then(|r| kernel_at_least(&r, (5, 8)))
            .unwrap_or(false)
    })
}

/// Whether a kernel release string ("6.1.0-18-amd64") is at least `want`.
#[cfg(any(target_os = "linux", test))]
fn kernel_at_least(release: &str, want: (u32, u32)) -> Option<bool> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    Some((major, minor) >= want)
}

/// Makes a directory's entries (renames, new files) durable. On Windows a directory handle
/// (FILE_FLAG_BACKUP_SEMANTICS) is flushed with FlushFileBuffers, which NTFS honours for
/// directories: the rename into new/ is on disk before the server is told to DELE (review
/// M8, Windows half).
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        /// FILE_FLAG_BACKUP_SEMANTICS: the only way to open a directory handle.
        const BACKUP_SEMANTICS: u32 = 0x0200_0000;
        OpenOptions::new()
            .write(true)
            .custom_flags(BACKUP_SEMANTICS)
            .open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    #[cfg(not(any(unix, windows)))]
    let _ = dir;
    Ok(())
}

#[cfg(unix)]
#[allow(unsafe_code)] // statvfs: the free space before a download (no safe std API)
fn free_bytes(path: &Path) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| MaildirError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path with NUL"),
    })?;
    // SAFETY: statvfs writes into the zeroed struct we own; `c` is a valid C string.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return Err(io(path)(std::io::Error::last_os_error()));
    }
    #[allow(clippy::unnecessary_cast)]
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(not(unix))]
fn free_bytes(_path: &Path) -> Result<u64> {
    Ok(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases_are_compared_by_number() {
        assert_eq!(kernel_at_least("6.1.0-18-amd64", (5, 8)), Some(true));
        assert_eq!(kernel_at_least("5.8.0", (5, 8)), Some(true));
        assert_eq!(kernel_at_least("5.4.0-150-generic", (5, 8)), Some(false));
        assert_eq!(kernel_at_least("4.19.0", (5, 8)), Some(false));
        assert_eq!(kernel_at_least("garbage", (5, 8)), None);
    }

    /// The outbox sends oldest first by this order: a name's microseconds went unpadded
    /// ("M98000" sorts after "M103000") and cur/ sorted before new/, so two messages sent
    /// 5 ms apart could leave in the wrong order.
    #[test]
    fn messages_come_oldest_first_whatever_their_digits_and_folder() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path()).unwrap();
        let names = [
            ("new", "1764000000.M98000P7Q0.petrel"),
            ("cur", "1764000000.M103000P7Q1.petrel:2,S"),
            ("new", "1764000000.M103000P7Q2.petrel"),
            ("cur", "1764000001.M5P7Q3.petrel:2,T"),
            ("new", "1764000001.M40P7Q4.petrel"),
        ];
        for (sub, name) in names.iter().rev() {
            fs::write(dir.path().join(sub).join(name), b"x").unwrap();
        }
        let order: Vec<String> = md
            .messages()
            .unwrap()
            .iter()
            .map(|p| unique_of(p))
            .collect();
        let expected: Vec<String> = names
            .iter()
            .map(|(_, n)| split_name(n).0.to_string())
            .collect();
        assert_eq!(order, expected);
        // Names written now sort the same way as text and as time.
        let a = unique_name();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = unique_name();
        assert!(a < b, "{a} then {b}");
    }

    #[test]
    fn flags_are_found_and_set_by_unique_name_in_either_separator_form() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path()).unwrap();
        let stored = md
            .deliver_batch(&[b"Subject: a\r\n\r\n1\r\n".to_vec()])
            .unwrap();
        let unique = unique_of(&stored[0].path);
        let marked = md.set_flags(&stored[0].path, "SF").unwrap();
        assert_eq!(flags_of(&marked), "FS", "flags sorted");
        // A stale path (the file moved) still finds the message.
        let again = md.set_flags(&stored[0].path, "P").unwrap();
        assert_eq!(md.find(&unique), Some(again.clone()));
        // A file written on Windows (";2,") is read and renamed like one written here.
        let windows = dir.path().join("cur").join(format!("{unique};2,S"));
        fs::rename(&again, &windows).unwrap();
        assert_eq!(split_name(&format!("{unique};2,S")), (unique.as_str(), "S"));
        assert_eq!(md.find(&unique), Some(windows.clone()));
        let back = md.clear_flags(&windows).unwrap();
        assert_eq!(back, dir.path().join("new").join(&unique));
        md.remove_named(&unique).unwrap();
        assert!(md.messages().unwrap().is_empty());
        md.remove_named(&unique).unwrap();
    }

    #[test]
    fn a_batch_lands_in_new_and_tmp_is_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path()).unwrap();
        let stored = md
            .deliver_batch(&[
                b"Subject: a\r\n\r\n1\r\n".to_vec(),
                b"Subject: b\r\n\r\n2\r\n".to_vec(),
            ])
            .unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(md.messages().unwrap().len(), 2);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert_eq!(
            fs::read(&stored[1].path).unwrap(),
            b"Subject: b\r\n\r\n2\r\n"
        );
        assert!(md.free_bytes().unwrap() > 0);
        assert!(matches!(
            md.check_space(u64::MAX / 2, 0),
            Err(MaildirError::DiskFull { .. })
        ));
    }

    mod fuzz {
        use super::super::split_name;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(petrel_core::fuzz::config())]

            /// File names of any shape (another client's, or Windows' ";2,") split into
            /// a unique part and flags without a panic; a name Petrel writes reads back.
            #[test]
            fn maildir_names_of_any_shape(name in "\\PC{0,80}", flags in "[A-Z]{0,6}", sep in prop_oneof![Just(':'), Just(';')]) {
                let _ = split_name(&name);
                let unique: String = name.chars().filter(|c| *c != ':' && *c != ';').collect();
                let written = format!("{unique}{sep}2,{flags}");
                prop_assert_eq!(split_name(&written), (unique.as_str(), flags.as_str()));
            }
        }
    }
}
