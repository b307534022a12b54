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
use std::sync::atomic::{AtomicU64, Ordering};

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

#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

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
        let tmp_dir = self.root.join("tmp");
        let mut written: Vec<(PathBuf, String)> = Vec::with_capacity(messages.len());
        let result = (|| {
            for raw in messages {
                let name = unique_name();
                let path = tmp_dir.join(&name);
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(io(&path))?;
                written.push((path.clone(), name));
                file.write_all(raw).map_err(io(&path))?;
                if !SYNCFS {
                    file.sync_all().map_err(io(&path))?;
                }
            }
            sync_filesystem(&self.root)?;
            let new_dir = self.root.join("new");
            let mut stored = Vec::with_capacity(written.len());
            for (path, name) in &written {
                let target = new_dir.join(name);
                fs::rename(path, &target).map_err(io(&target))?;
                stored.push(Stored { path: target });
            }
            sync_dir(&new_dir)?;
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
        out.sort();
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
}

/// Whether one `syncfs` makes the batch durable (Linux), instead of fsync per file.
const SYNCFS: bool = cfg!(target_os = "linux");

fn unique_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.M{}P{}Q{}.petrel",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(target_os = "linux")]
fn sync_filesystem(root: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let dir = File::open(root).map_err(io(root))?;
    // SAFETY: syncfs takes an open descriptor and only flushes the file system it is on.
    let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
    if rc != 0 {
        return Err(io(root)(std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_root: &Path) -> Result<()> {
    // Each file was fsynced as it was written.
    Ok(())
}

/// Makes a directory's entries (renames, new files) durable; a no-op where directories
/// cannot be opened for syncing.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(unix)]
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
}
