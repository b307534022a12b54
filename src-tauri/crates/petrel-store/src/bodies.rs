//! Records in one append-only file per folder; sled keeps where each one is. Two sets of
//! such files: message bodies (`bodies/`) and the blocks of list rows (`rows/`).
//!
//! Whole messages as sled values cost a third of an offline download's time: sled keeps
//! values inside its tree nodes, so every node split and page rewrite copied the messages
//! again. Here a batch of records is one append to the folder's file, and sled stores 16
//! bytes per record ([`Stored`]). Nothing is fsynced: this is a cache of what the server
//! holds, and each record carries a CRC of its bytes, so a record whose bytes never reached
//! the disk (a crash between sled's flush and the file's) is never read as other bytes: a
//! body reads as missing and is fetched again; for rows see `SledCache::open`.

use crate::Result;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where one body is in its folder's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored {
    pub offset: u64,
    pub len: u32,
    crc: u32,
}

impl Stored {
    pub const BYTES: usize = 16;

    pub fn to_bytes(self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        out[..8].copy_from_slice(&self.offset.to_be_bytes());
        out[8..12].copy_from_slice(&self.len.to_be_bytes());
        out[12..].copy_from_slice(&self.crc.to_be_bytes());
        out
    }

    /// `None` for a value that is not a record (a cache of another format is refused
    /// before this is ever read, so that means damage: the body reads as missing).
    pub fn from_bytes(bytes: &[u8]) -> Option<Stored> {
        let bytes: &[u8; Self::BYTES] = bytes.try_into().ok()?;
        let (offset, rest) = bytes.split_at(8);
        let (len, crc) = rest.split_at(4);
        Some(Stored {
            offset: u64::from_be_bytes(offset.try_into().ok()?),
            len: u32::from_be_bytes(len.try_into().ok()?),
            crc: u32::from_be_bytes(crc.try_into().ok()?),
        })
    }
}

/// Open files are kept for reading, at most this many (one per folder read lately).
const OPEN_READERS: usize = 32;

pub(crate) struct FolderFiles {
    dir: PathBuf,
    readers: Mutex<HashMap<u64, Arc<File>>>,
}

impl FolderFiles {
    pub fn open(dir: &Path) -> Result<FolderFiles> {
        std::fs::create_dir_all(dir)?;
        Ok(FolderFiles {
            dir: dir.to_path_buf(),
            readers: Mutex::new(HashMap::new()),
        })
    }

    fn path(&self, folder: u64) -> PathBuf {
        self.dir.join(folder.to_string())
    }

    /// The file's size: what the next append starts at.
    pub fn len(&self, folder: u64) -> u64 {
        std::fs::metadata(self.path(folder)).map_or(0, |m| m.len())
    }

    /// Appends `bodies` (records) to the folder's file, in one write; returns where each went.
    /// Callers hold the cache's write lock: there is one writer per file.
    pub fn append<'a>(
        &self,
        folder: u64,
        bodies: impl ExactSizeIterator<Item = &'a [u8]> + Clone,
    ) -> Result<Vec<Stored>> {
        let open = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(folder))
        };
        let mut file = match open() {
            // The directory was deleted under the running app (a cache cleaner, a test's
            // temporary dir): sled goes on in its open files, so these go on too.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.dir)?;
                open()?
            }
            file => file?,
        };
        let mut offset = file.metadata()?.len();
        if offset == 0 {
            // A new file where an old one was (removed with its folder, or with the whole
            // directory): a reader kept open would read the old one.
            self.forget_reader(folder);
        }
        let mut places = Vec::with_capacity(bodies.len());
        let mut out = Vec::with_capacity(bodies.clone().map(<[u8]>::len).sum());
        for body in bodies {
            let len = u32::try_from(body.len()).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "a message over 4 GiB")
            })?;
            places.push(Stored {
                offset,
                len,
                crc: crc32fast::hash(body),
            });
            out.extend_from_slice(body);
            offset += u64::from(len);
        }
        file.write_all(&out)?;
        Ok(places)
    }

    /// The record at `at`; `None` when its bytes are not there (the file is shorter, or
    /// they are not the bytes stored).
    pub fn read(&self, folder: u64, at: Stored) -> Result<Option<Vec<u8>>> {
        let Some(file) = self.reader(folder)? else {
            return Ok(None);
        };
        let mut body = vec![0u8; at.len as usize];
        match read_exact_at(&file, &mut body, at.offset) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        Ok((crc32fast::hash(&body) == at.crc).then_some(body))
    }

    fn reader(&self, folder: u64) -> Result<Option<Arc<File>>> {
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = readers.get(&folder) {
            return Ok(Some(file.clone()));
        }
        let file = match File::open(self.path(folder)) {
            Ok(file) => Arc::new(file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if readers.len() >= OPEN_READERS {
            readers.clear();
        }
        readers.insert(folder, file.clone());
        Ok(Some(file))
    }

    /// Forgets the folder's file (its records are gone from sled already).
    pub fn remove(&self, folder: u64) -> Result<()> {
        self.forget_reader(folder);
        match std::fs::remove_file(self.path(folder)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn forget_reader(&self, folder: u64) {
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&folder);
    }

    /// Writes the records at `live` into a fresh file that replaces the folder's; returns
    /// where each now is (`None` for one whose bytes were already bad: it is dropped).
    /// A crash after the swap, before sled has the new places, leaves records whose CRCs
    /// do not match (see the module's note).
    pub fn rewrite(&self, folder: u64, live: &[Stored]) -> Result<Vec<Option<Stored>>> {
        let fresh = self.dir.join(format!("{folder}.new"));
        let rewritten = self.rewrite_to(folder, live, &fresh);
        if rewritten.is_err() {
            let _ = std::fs::remove_file(&fresh);
        }
        rewritten
    }

    fn rewrite_to(
        &self,
        folder: u64,
        live: &[Stored],
        fresh: &Path,
    ) -> Result<Vec<Option<Stored>>> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, File::create(fresh)?);
        let mut offset = 0u64;
        let mut places = Vec::with_capacity(live.len());
        for &at in live {
            match self.read(folder, at)? {
                Some(body) => {
                    out.write_all(&body)?;
                    places.push(Some(Stored { offset, ..at }));
                    offset += u64::from(at.len);
                }
                None => places.push(None),
            }
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        self.forget_reader(folder);
        std::fs::rename(fresh, self.path(folder))?;
        Ok(places)
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    // seek_read moves the file's cursor, which no one here relies on: appends open their
    // own handle in append mode.
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
