//! Small files that must survive a crash whole: written to a temp file, fsynced, renamed
//! over the old one, and the directory fsynced, so a crash leaves the old or the new file,
//! never half of one.

use std::io::Write;
use std::path::Path;

pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

pub(crate) fn remove_durably(dir: &Path, name: &str) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(name)) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The directory flush lives with the Maildir code (one owner, every platform).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    petrel_maildir::sync_dir(dir).map_err(|e| std::io::Error::other(e.to_string()))
}
