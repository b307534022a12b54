//! Writing attachments to disk: a new file (never replacing one), marked as coming from
//! the internet where the system has such a mark — Mark-of-the-Web (`Zone.Identifier`,
//! zone 3) on Windows, the `com.apple.quarantine` attribute on macOS — so SmartScreen and
//! Gatekeeper look at it when it is opened later. Files opened from Petrel are written to
//! a private directory (0700, random name) that goes when Petrel quits (review L1).

use crate::{Engine, EngineError};
use petrel_core::{AccountId, OpenRisk};
use std::path::{Path, PathBuf};

/// The Zone.Identifier stream Windows writes for a file from the internet (zone 3).
pub fn zone_identifier() -> &'static str {
    "[ZoneTransfer]\r\nZoneId=3\r\n"
}

/// The `com.apple.quarantine` value: flags (0081: downloaded, user-approval needed), the
/// time in hex seconds, the agent, and no event id.
pub fn quarantine_value(unix_seconds: u64) -> String {
    format!("0081;{unix_seconds:08x};Petrel;")
}

/// Marks a file written from a message as coming from the internet (see the module notes).
pub fn mark_from_mail(path: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        let mut stream = path.as_os_str().to_owned();
        stream.push(":Zone.Identifier");
        std::fs::write(PathBuf::from(stream), zone_identifier())?;
    }
    #[cfg(target_os = "macos")]
    {
        use std::os::unix::ffi::OsStrExt;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let value = quarantine_value(now);
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let name = c"com.apple.quarantine";
        // SAFETY: both strings are valid C strings; the value is a byte slice we own.
        #[allow(unsafe_code)] // setxattr: the quarantine attribute (no safe std API)
        let rc = unsafe {
            libc::setxattr(
                c_path.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
                0,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    let _ = path;
    Ok(())
}

/// Writes `bytes` as `dir/<name>` (the name cleaned) without ever replacing a file
/// ("name (2).ext"…), marked as from the internet.
pub fn write_new_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let name = petrel_render::safe_file_name(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    for n in 1..1000 {
        let candidate = if n == 1 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(mut file) => {
                use std::io::Write;
                file.write_all(bytes)?;
                file.sync_all()?;
                mark_from_mail(&candidate)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "too many files with that name",
    ))
}

fn file_err(e: std::io::Error) -> EngineError {
    EngineError::Storage {
        context: "Writing the attachment".into(),
        source: e,
    }
}

impl Engine {
    /// Saves an attachment into `dir` under a new name; returns where it went.
    pub async fn save_attachment(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
        index: u32,
        dir: &Path,
    ) -> Result<PathBuf, EngineError> {
        let (name, bytes) = self.attachment(id, folder, uid, index).await?;
        write_new_file(dir, &name, &bytes).map_err(file_err)
    }

    /// Saves an attachment exactly at `path` (the user chose it in a Save dialog).
    pub async fn save_attachment_as(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
        index: u32,
        path: &Path,
    ) -> Result<(), EngineError> {
        let (_, bytes) = self.attachment(id, folder, uid, index).await?;
        std::fs::write(path, &bytes).map_err(file_err)?;
        mark_from_mail(path).map_err(file_err)
    }

    /// A private copy of an attachment for the system's viewer. Programs and scripts are
    /// refused (saving stays possible); other types outside the short "safe" list need
    /// `confirmed` (the user said yes to a question naming the type).
    pub async fn attachment_to_open(
        &self,
        id: &AccountId,
        folder: &str,
        uid: u32,
        index: u32,
        confirmed: bool,
    ) -> Result<PathBuf, EngineError> {
        let raw = self.raw_message(id, folder, uid).await?;
        let (name, content_type, bytes) = petrel_render::attachment_with_type(&raw, index)
            .ok_or_else(|| {
                EngineError::InvalidInput("That attachment is not part of the message.".into())
            })?;
        let head = &bytes[..bytes.len().min(16)];
        match petrel_render::open_risk(&name, &content_type, head) {
            OpenRisk::Blocked => {
                return Err(EngineError::InvalidInput(format!(
                    "“{}” is a {}: a program or script. Petrel does not open those from mail; use Save if you trust the sender and know what it is.",
                    petrel_render::safe_file_name(&name),
                    petrel_render::type_label(&name, &content_type)
                )))
            }
            OpenRisk::Ask if !confirmed => {
                return Err(EngineError::InvalidInput(format!(
                    "Opening a {} needs your confirmation first.",
                    petrel_render::type_label(&name, &content_type)
                )))
            }
            OpenRisk::Ask | OpenRisk::Safe => {}
        }
        let dir = self.open_dir()?;
        write_new_file(&dir, &name, &bytes).map_err(file_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_files_are_new_and_carry_the_internet_mark_where_the_system_has_one() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_new_file(dir.path(), "invoice\u{202E}fdp.exe", b"1").unwrap();
        let b = write_new_file(dir.path(), "invoice\u{202E}fdp.exe", b"2").unwrap();
        assert_eq!(a.file_name().unwrap(), "invoicefdp.exe");
        assert_eq!(b.file_name().unwrap(), "invoicefdp (2).exe");
        assert_eq!(std::fs::read(&a).unwrap(), b"1", "never replaced");
        assert_eq!(zone_identifier(), "[ZoneTransfer]\r\nZoneId=3\r\n");
        assert_eq!(quarantine_value(0x6550_0000), "0081;65500000;Petrel;");
        #[cfg(windows)]
        {
            let mut stream = a.as_os_str().to_owned();
            stream.push(":Zone.Identifier");
            assert_eq!(
                std::fs::read_to_string(PathBuf::from(stream)).unwrap(),
                zone_identifier()
            );
        }
    }
}
