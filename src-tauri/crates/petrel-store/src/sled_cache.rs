//! The [`MailCache`] on sled 0.34.
//!
//! One tree, four key spaces, so every change is a single atomic `apply_batch`:
//! - `N` account `\0` path → folder id (u64, from `generate_id`)
//! - `S` id → [`FolderState`] (postcard)
//! - `R` id block → where the [`Envelope`]s (postcard) of the rows whose UIDs share
//!   `uid >> 6` are in the folder's rows file (`rows/<id>`, [`crate::bodies`])
//! - `D` id block → where the date index of the same rows (8 bytes each) is in the same
//!   file; read to build a folder's rank without decoding a row.
//!
//!   Both packed 64 to a block ([`crate::blocks`]): sled's cost is per key written, and one
//!   key per row made the cache writer the slowest part of a header sync. Both in the file,
//!   sled holding 16 bytes per block: as sled values, the ~830-byte date blocks made 81 of
//!   the 254 MB written for a million rows (sled rewrites whole leaves); in the file, 21.
//! - `B` id uid → where the message's raw bytes are in the folder's file (`bodies/<id>`,
//!   [`crate::bodies`]), for messages read or downloaded for offline use
//! - `W` id → the bytes of the folder's file still in use (u64), so the space of removed
//!   messages is taken back once it is most of the file; `U` id, the same for its rows file
//! - `F` id → where the folder's rows file ended after the last write (u64): a shorter file
//!   at open means a crash lost its end, and the folder is fetched again
//! - `T` id uid → [`ThreadLinks`] (postcard), fetched for the conversation view
//! - `L` account → the account's folder tree (postcard), shown while offline
//! - `J` seq → [`CacheChange`] (postcard): the journal derived stores follow, written in
//!   the batch of the change it records; `seq` from `generate_id` (grows across crashes)
//!
//! Integers are big-endian so byte order is numeric order; dates are offset by 2^63 so
//! negative timestamps sort before positive ones.

use crate::blocks::{self, Blocks};
use crate::bodies::{FolderFiles, Stored};
use crate::rank::Rank;
use crate::{order_key, CacheChange, FolderRef, FolderState, MailCache, Page, Result, StoreError};
use petrel_core::{AccountId, Envelope, Folder, ThreadLinks};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

/// sled's page cache defaults to 1 GiB; the mail cache must stay within the app's memory
/// goal. Pages of the list read a few hundred rows; the OS page cache holds the rest.
const CACHE_CAPACITY: u64 = 8 * 1024 * 1024;

pub struct SledCache {
    tree: sled::Db,
    /// Serialises writers: counts are read-modify-write.
    write: Mutex<()>,
    /// Rank per folder id, built on first use.
    ranks: Mutex<HashMap<u64, Rank>>,
    journal_id: u64,
    bodies: FolderFiles,
    rows: FolderFiles,
}

/// A folder's file is rewritten without its removed messages once they are more than this
/// and more than the messages still in it.
const WASTE_BEFORE_REWRITE: u64 = 8 << 20;

impl SledCache {
    /// Opens (or creates) the cache in `dir`. sled releases its file lock from a background
    /// thread after a drop, so a reopen right after a close may briefly find it held: that
    /// is retried for up to 2 s; a lock held longer means another Petrel uses this cache
    /// ([`StoreError::Locked`], which must never be "fixed" by deleting the cache).
    pub fn open(dir: &Path) -> Result<Self> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            match sled::Config::new()
                .path(dir)
                .cache_capacity(CACHE_CAPACITY)
                .open()
            {
                Ok(tree) => {
                    check_format(&tree)?;
                    let journal_id = journal_id(&tree)?;
                    let cache = SledCache {
                        tree,
                        write: Mutex::new(()),
                        ranks: Mutex::new(HashMap::new()),
                        journal_id,
                        bodies: FolderFiles::open(&dir.join("bodies"))?,
                        rows: FolderFiles::open(&dir.join("rows"))?,
                    };
                    cache.drop_cut_folders()?;
                    return Ok(cache);
                }
                Err(e) if is_lock_error(&e) => {
                    if std::time::Instant::now() > deadline {
                        return Err(StoreError::Locked(e.to_string()));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Writes everything to disk now (sled also does so every 500 ms).
    pub fn flush(&self) -> Result<()> {
        self.tree.flush()?;
        Ok(())
    }

    fn name_key(folder: &FolderRef) -> Vec<u8> {
        let mut k = Vec::with_capacity(2 + folder.account.0.len() + folder.path.len());
        k.push(b'N');
        k.extend_from_slice(folder.account.0.as_bytes());
        k.push(0);
        k.extend_from_slice(folder.path.as_bytes());
        k
    }

    fn id(&self, folder: &FolderRef) -> Result<Option<u64>> {
        Ok(self.tree.get(Self::name_key(folder))?.map(|v| be_u64(&v)))
    }

    fn id_or_create(&self, folder: &FolderRef) -> Result<u64> {
        if let Some(id) = self.id(folder)? {
            return Ok(id);
        }
        let id = self.tree.generate_id()?;
        self.tree
            .insert(Self::name_key(folder), &id.to_be_bytes())?;
        Ok(id)
    }

    fn state(&self, id: u64) -> Result<FolderState> {
        match self.tree.get(key(b'S', id, &[]))? {
            Some(bytes) => Ok(postcard::from_bytes(&bytes)?),
            None => Ok(FolderState::default()),
        }
    }

    /// What `read` makes of the stored row `uid`, found in its block without decoding
    /// the others.
    fn with_row<T>(
        &self,
        id: u64,
        uid: u32,
        read: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.row_block(id, blocks::block_of(uid))? {
            Some(block) => blocks::find(&block, uid)?.map(read).transpose(),
            None => Ok(None),
        }
    }

    /// Block `n` of the folder's rows.
    fn row_block(&self, id: u64, n: u32) -> Result<Option<Vec<u8>>> {
        blocks::read_block(&self.tree, &self.rows, b'R', id, n)
    }

    /// The blocks of the folder's rows, written to its rows file.
    fn row_blocks(&self, id: u64) -> Blocks<'_> {
        Blocks::in_file(b'R', id, &self.rows)
    }

    /// The blocks of the folder's date index, written to its rows file too.
    fn date_blocks(&self, id: u64) -> Blocks<'_> {
        Blocks::in_file(b'D', id, &self.rows)
    }

    /// Writes the folder's changed blocks of rows and dates (one append to its rows file)
    /// into `batch` with the file's bytes in use and its end.
    fn write_row_blocks(
        &self,
        id: u64,
        rows: Blocks<'_>,
        dates: Blocks<'_>,
        batch: &mut sled::Batch,
    ) -> Result<()> {
        let done = Blocks::write_all([rows, dates], batch)?;
        let live = self.used_bytes(b'U', id)?;
        let live = live.saturating_sub(done.replaced) + done.added;
        batch.insert(key(b'U', id, &[]), &live.to_be_bytes()[..]);
        if let Some(end) = done.end {
            batch.insert(key(b'F', id, &[]), &end.to_be_bytes()[..]);
        }
        Ok(())
    }

    /// Calls `each` with every block of the folder in key space `space` (`R`, `D`), in
    /// block order, read from the place the scan found; read again (with the retry) only
    /// when its bytes do not match, as after a rewrite between the two.
    fn each_block(
        &self,
        space: u8,
        id: u64,
        mut each: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let prefix = key(space, id, &[]);
        for entry in self.tree.scan_prefix(&prefix) {
            let (k, place) = entry?;
            let block = match Stored::from_bytes(&place) {
                Some(at) => self.rows.read(id, at)?,
                None => None,
            };
            let block = match block {
                Some(block) => block,
                None => {
                    let n = be_u32(k.get(prefix.len()..).unwrap_or_default());
                    blocks::read_block(&self.tree, &self.rows, space, id, n)?.unwrap_or_default()
                }
            };
            each(&block)?;
        }
        Ok(())
    }

    /// Drops the cached rows of every folder whose rows file is shorter than its last
    /// write left it (the machine stopped before the file's end reached the disk, after
    /// sled's places did): their sync state goes with them, so the next sync fetches the
    /// folder again, where reading them would fail.
    fn drop_cut_folders(&self) -> Result<()> {
        let mut cut = Vec::new();
        for entry in self.tree.scan_prefix(b"N") {
            let (name, id) = entry?;
            let id = be_u64(&id);
            let end = self.tree.get(key(b'F', id, &[]))?.map_or(0, |v| be_u64(&v));
            if self.rows.len(id) < end {
                cut.push((folder_of_name(&name), id));
            }
        }
        for (folder, id) in cut {
            self.forget_rows(id, folder.as_ref(), sled::Batch::default())?;
        }
        Ok(())
    }

    /// Forgets the folder's rows, bodies and sync state, with whatever else `batch` holds
    /// (its name, when the folder goes too), so its next sync fetches it all again. Caller
    /// holds `write`.
    fn forget_rows(
        &self,
        id: u64,
        folder: Option<&FolderRef>,
        mut batch: sled::Batch,
    ) -> Result<()> {
        self.clear_rows(id, &mut batch)?;
        batch.remove(key(b'S', id, &[]));
        if let Some(folder) = folder {
            self.journal(&mut batch, &CacheChange::Folder(folder.clone()))?;
        }
        self.tree.apply_batch(batch)?;
        self.ranks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        self.remove_files(id)
    }

    /// Runs `op` on the folder's rows. When they cannot be read (a block damaged, or its
    /// file deleted under the running app) the folder is forgotten and `op` runs again on
    /// nothing: its next sync fetches it again, where every read would fail until a
    /// restart. `locked`: the caller holds `write`.
    fn healing<T>(
        &self,
        id: u64,
        folder: &FolderRef,
        locked: bool,
        op: impl Fn() -> Result<T>,
    ) -> Result<T> {
        match op() {
            Err(StoreError::Corrupt(_)) => {
                let _w = (!locked).then(|| self.write.lock().unwrap_or_else(|p| p.into_inner()));
                self.forget_rows(id, Some(folder), sled::Batch::default())?;
                op()
            }
            other => other,
        }
    }

    /// Removes the folder's files (their records are gone from sled already).
    fn remove_files(&self, id: u64) -> Result<()> {
        self.bodies.remove(id)?;
        self.rows.remove(id)
    }

    fn row(&self, id: u64, uid: u32) -> Result<Option<Envelope>> {
        self.with_row(id, uid, |bytes| Ok(postcard::from_bytes(bytes)?))
    }

    fn has_row(&self, id: u64, uid: u32) -> Result<bool> {
        Ok(self.with_row(id, uid, |_| Ok(()))?.is_some())
    }

    /// Runs `f` with the folder's rank, building it from the date index if needed.
    fn with_rank<T>(&self, id: u64, f: impl FnOnce(&mut Rank) -> T) -> Result<T> {
        let mut ranks = self.ranks.lock().unwrap_or_else(|p| p.into_inner());
        let rank = match ranks.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(self.load_rank(id)?),
        };
        Ok(f(rank))
    }

    /// Reads the folder's date index: far cheaper than decoding every row.
    fn load_rank(&self, id: u64) -> Result<Rank> {
        let mut keys = Vec::new();
        self.each_block(b'D', id, |block| {
            for entry in blocks::entries(block) {
                let (uid, date) = entry?;
                keys.push((decode_date(date)?, uid));
            }
            Ok(())
        })?;
        Ok(Rank::from_keys(keys))
    }

    /// Writes rows in one batch with the folder's counts: a row already cached is replaced
    /// rather than counted twice (its block is read anyway). Caller holds `write`.
    fn write_rows(
        &self,
        folder: &FolderRef,
        id: u64,
        rows: BTreeMap<u32, &Envelope>,
    ) -> Result<()> {
        let mut state = self.state(id)?;
        let mut batch = sled::Batch::default();
        self.journal(
            &mut batch,
            &CacheChange::messages(folder, rows.keys().copied()),
        )?;
        let (mut added, mut removed) = (Vec::with_capacity(rows.len()), Vec::new());
        let mut stored = self.row_blocks(id);
        let mut dates = self.date_blocks(id);
        // Each row is encoded into this one buffer and copied into its block.
        let mut encoded = Vec::new();
        for row in rows.into_values() {
            let mut placed = false;
            if let Some(old) = stored.get(&self.tree, row.uid)? {
                let old: Envelope = postcard::from_bytes(old)?;
                // A flag change keeps the row's place: the rank is left as it is.
                placed = order_key(&old) == order_key(row);
                if !placed {
                    removed.push(order_key(&old));
                }
                state.total = state.total.saturating_sub(1);
                state.unread = state.unread.saturating_sub(u32::from(!old.seen));
            }
            encoded.clear();
            encoded = postcard::to_extend(row, encoded)?;
            stored.set(&self.tree, row.uid, &encoded)?;
            if !placed {
                dates.set(&self.tree, row.uid, &encode_date(order_key(row).0))?;
                added.push(order_key(row));
            }
            state.total += 1;
            state.unread += u32::from(!row.seen);
        }
        self.write_row_blocks(id, stored, dates, &mut batch)?;
        batch.insert(key(b'S', id, &[]), postcard::to_stdvec(&state)?);
        self.tree.apply_batch(batch)?;
        self.with_rank(id, |rank| {
            removed.into_iter().for_each(|k| rank.remove(k));
            rank.insert_many(added);
        })?;
        // Housekeeping, as after a removal: the write stands either way.
        let _ = self.take_back_space(id);
        Ok(())
    }

    /// Records `change` in the journal, in the batch that makes it.
    fn journal(&self, batch: &mut sled::Batch, change: &CacheChange) -> Result<()> {
        let seq = self.tree.generate_id()?;
        batch.insert(
            [&[b'J'][..], &seq.to_be_bytes()].concat(),
            postcard::to_stdvec(change)?,
        );
        Ok(())
    }

    fn clear_rows(&self, id: u64, batch: &mut sled::Batch) -> Result<()> {
        for prefix in [
            key(b'R', id, &[]),
            key(b'D', id, &[]),
            key(b'B', id, &[]),
            key(b'T', id, &[]),
        ] {
            for k in self.tree.scan_prefix(prefix).keys() {
                batch.remove(k?);
            }
        }
        for space in [b'W', b'U', b'F'] {
            batch.remove(key(space, id, &[]));
        }
        Ok(())
    }

    /// Bytes of the folder's body file in use.
    fn live_bytes(&self, id: u64) -> Result<u64> {
        self.used_bytes(b'W', id)
    }

    /// Bytes in use of the folder's file whose count is kept under `space` (`W` bodies,
    /// `U` rows).
    fn used_bytes(&self, space: u8, id: u64) -> Result<u64> {
        Ok(self
            .tree
            .get(key(space, id, &[]))?
            .map_or(0, |v| be_u64(&v)))
    }

    /// Where the body of `uid` is, if it has one.
    fn stored(&self, id: u64, uid: u32) -> Result<Option<Stored>> {
        Ok(self
            .tree
            .get(key(b'B', id, &uid.to_be_bytes()))?
            .and_then(|v| Stored::from_bytes(&v)))
    }

    /// Stores `bodies` of cached rows (others are left out: a body without its row would
    /// never be removed); returns the UIDs stored. Caller holds `write`.
    fn write_bodies(&self, folder: &FolderRef, bodies: &[(u32, &[u8])]) -> Result<Vec<u32>> {
        let Some(id) = self.id(folder)? else {
            return Ok(Vec::new());
        };
        let mut kept = Vec::with_capacity(bodies.len());
        for &(uid, raw) in bodies {
            if self.has_row(id, uid)? {
                kept.push((uid, raw));
            }
        }
        if kept.is_empty() {
            return Ok(Vec::new());
        }
        let places = self.bodies.append(id, kept.iter().map(|&(_, raw)| raw))?;
        let mut live = self.live_bytes(id)?;
        let mut batch = sled::Batch::default();
        for (&(uid, _), at) in kept.iter().zip(places) {
            if let Some(old) = self.stored(id, uid)? {
                live = live.saturating_sub(u64::from(old.len));
            }
            live += u64::from(at.len);
            batch.insert(key(b'B', id, &uid.to_be_bytes()), &at.to_bytes()[..]);
        }
        let stored: Vec<u32> = kept.iter().map(|&(uid, _)| uid).collect();
        batch.insert(key(b'W', id, &[]), &live.to_be_bytes()[..]);
        self.journal(&mut batch, &CacheChange::messages(folder, stored.clone()))?;
        self.tree.apply_batch(batch)?;
        Ok(stored)
    }

    /// Rows `offset..offset + limit` of the folder, newest first.
    fn page_of(&self, id: u64, offset: u32, limit: u32) -> Result<Page> {
        let keys: Vec<(i64, u32)> = self.with_rank(id, |rank| {
            rank.window(offset as usize, limit as usize).to_vec()
        })?;
        let mut rows = Vec::with_capacity(keys.len());
        // Rows of a page mostly share blocks (UIDs follow dates): each block read once.
        let mut read: HashMap<u32, Option<Vec<u8>>> = HashMap::new();
        for (_, uid) in keys {
            let n = blocks::block_of(uid);
            let block = match read.entry(n) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(self.row_block(id, n)?),
            };
            let Some(block) = block.as_deref() else {
                continue;
            };
            if let Some(bytes) = blocks::find(block, uid)? {
                rows.push(postcard::from_bytes(bytes)?);
            }
        }
        Ok(Page {
            offset,
            total: self.state(id)?.total,
            rows,
        })
    }

    /// Rewrites the folder's body and rows files without the bytes of removed (or
    /// rewritten) records once they are most of the file. Caller holds `write`.
    fn take_back_space(&self, id: u64) -> Result<()> {
        self.take_back(id, &self.bodies, b"B", b'W')?;
        self.take_back(id, &self.rows, b"RD", b'U')
    }

    /// One file of the folder: its places under the key spaces `places`, its bytes in use
    /// under `used`.
    /// A record whose bytes were already bad is dropped (for rows, the next sync finds
    /// them missing and fetches them again).
    fn take_back(&self, id: u64, files: &FolderFiles, places: &[u8], used: u8) -> Result<()> {
        let live = self.used_bytes(used, id)?;
        let waste = files.len(id).saturating_sub(live);
        if waste <= WASTE_BEFORE_REWRITE || waste <= live {
            return Ok(());
        }
        let mut keys = Vec::new();
        let mut at = Vec::new();
        for &space in places {
            for entry in self.tree.scan_prefix(key(space, id, &[])) {
                let (k, v) = entry?;
                if let Some(place) = Stored::from_bytes(&v) {
                    keys.push(k);
                    at.push(place);
                }
            }
        }
        let moved = files.rewrite(id, &at)?;
        let mut batch = sled::Batch::default();
        let mut live = 0u64;
        for (k, at) in keys.into_iter().zip(moved) {
            match at {
                Some(at) => {
                    live += u64::from(at.len);
                    batch.insert(k, &at.to_bytes()[..]);
                }
                None => batch.remove(k),
            }
        }
        batch.insert(key(used, id, &[]), &live.to_be_bytes()[..]);
        if used == b'U' {
            // The rewritten file holds exactly what is in use.
            batch.insert(key(b'F', id, &[]), &live.to_be_bytes()[..]);
        }
        self.tree.apply_batch(batch)?;
        Ok(())
    }
}

impl MailCache for SledCache {
    fn folder_state(&self, folder: &FolderRef) -> Result<Option<FolderState>> {
        match self.id(folder)? {
            Some(id) => Ok(Some(self.state(id)?)),
            None => Ok(None),
        }
    }

    fn set_sync_state(
        &self,
        folder: &FolderRef,
        uidvalidity: u32,
        uidnext: u32,
        highestmodseq: u64,
    ) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let id = self.id_or_create(folder)?;
        let mut state = self.state(id)?;
        let mut batch = sled::Batch::default();
        let cleared = state.uidvalidity != 0 && state.uidvalidity != uidvalidity;
        if cleared {
            self.clear_rows(id, &mut batch)?;
            self.journal(&mut batch, &CacheChange::Folder(folder.clone()))?;
            state = FolderState::default();
            self.ranks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
        }
        state.uidvalidity = uidvalidity;
        state.uidnext = uidnext;
        state.highestmodseq = highestmodseq;
        batch.insert(key(b'S', id, &[]), postcard::to_stdvec(&state)?);
        self.tree.apply_batch(batch)?;
        if cleared {
            self.remove_files(id)?;
        }
        Ok(())
    }

    fn upsert(&self, folder: &FolderRef, rows: &[Envelope]) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let id = self.id_or_create(folder)?;
        self.healing(id, folder, true, || {
            self.write_rows(folder, id, by_uid(rows))
        })
    }

    fn remove(&self, folder: &FolderRef, uids: &[u32]) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let Some(id) = self.id(folder)? else {
            return Ok(());
        };
        self.healing(id, folder, true, || {
            let mut state = self.state(id)?;
            let mut batch = sled::Batch::default();
            let mut removed = Vec::new();
            let mut stored = self.row_blocks(id);
            let mut dates = self.date_blocks(id);
            let uids: std::collections::BTreeSet<u32> = uids.iter().copied().collect();
            self.journal(
                &mut batch,
                &CacheChange::messages(folder, uids.iter().copied()),
            )?;
            let mut live = self.live_bytes(id)?;
            for uid in uids {
                if let Some(old) = stored.remove(&self.tree, uid)? {
                    let old: Envelope = postcard::from_bytes(old)?;
                    if let Some(body) = self.stored(id, uid)? {
                        live = live.saturating_sub(u64::from(body.len));
                    }
                    batch.remove(key(b'B', id, &uid.to_be_bytes()));
                    batch.remove(key(b'T', id, &uid.to_be_bytes()));
                    dates.remove(&self.tree, uid)?;
                    removed.push(order_key(&old));
                    state.total = state.total.saturating_sub(1);
                    state.unread = state.unread.saturating_sub(u32::from(!old.seen));
                }
            }
            self.write_row_blocks(id, stored, dates, &mut batch)?;
            batch.insert(key(b'S', id, &[]), postcard::to_stdvec(&state)?);
            batch.insert(key(b'W', id, &[]), &live.to_be_bytes()[..]);
            self.tree.apply_batch(batch)?;
            self.with_rank(id, |rank| removed.into_iter().for_each(|k| rank.remove(k)))?;
            // Taking space back is housekeeping: the removal stands whether or not it succeeds
            // (it fails where a reader still has the file open on Windows), and the next
            // removal tries again.
            Ok(())
        })?;
        let _ = self.take_back_space(id);
        Ok(())
    }

    fn set_flags(&self, folder: &FolderRef, uid: u32, seen: bool, flagged: bool) -> Result<bool> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let Some(id) = self.id(folder)? else {
            return Ok(false);
        };
        let changed = self.healing(id, folder, true, || {
            let mut stored = self.row_blocks(id);
            let Some(bytes) = stored.get(&self.tree, uid)? else {
                return Ok(false);
            };
            let mut row: Envelope = postcard::from_bytes(bytes)?;
            let mut state = self.state(id)?;
            state.unread = state.unread.saturating_sub(u32::from(!row.seen)) + u32::from(!seen);
            row.seen = seen;
            row.flagged = flagged;
            stored.set(&self.tree, uid, &row_bytes(&row)?)?;
            let mut batch = sled::Batch::default();
            self.journal(&mut batch, &CacheChange::messages(folder, [uid]))?;
            // A flag change leaves the date index as it is.
            self.write_row_blocks(id, stored, self.date_blocks(id), &mut batch)?;
            batch.insert(key(b'S', id, &[]), postcard::to_stdvec(&state)?);
            self.tree.apply_batch(batch)?;
            Ok(true)
        })?;
        let _ = self.take_back_space(id);
        Ok(changed)
    }

    fn envelope(&self, folder: &FolderRef, uid: u32) -> Result<Option<Envelope>> {
        match self.id(folder)? {
            Some(id) => self.healing(id, folder, false, || self.row(id, uid)),
            None => Ok(None),
        }
    }

    fn page(&self, folder: &FolderRef, offset: u32, limit: u32) -> Result<Page> {
        let Some(id) = self.id(folder)? else {
            return Ok(Page {
                offset,
                total: 0,
                rows: vec![],
            });
        };
        self.healing(id, folder, false, || self.page_of(id, offset, limit))
    }

    fn order_keys(&self, folder: &FolderRef) -> Result<Vec<(i64, u32)>> {
        let Some(id) = self.id(folder)? else {
            return Ok(vec![]);
        };
        self.with_rank(id, |rank| rank.keys().to_vec())
    }

    fn uids(&self, folder: &FolderRef) -> Result<Vec<u32>> {
        let Some(id) = self.id(folder)? else {
            return Ok(vec![]);
        };
        self.healing(id, folder, false, || {
            let mut uids = Vec::new();
            self.each_block(b'R', id, |block| {
                for entry in blocks::entries(block) {
                    uids.push(entry?.0);
                }
                Ok(())
            })?;
            Ok(uids)
        })
    }

    fn drop_folder(&self, folder: &FolderRef) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let Some(id) = self.id(folder)? else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        batch.remove(Self::name_key(folder));
        self.forget_rows(id, Some(folder), batch)
    }

    fn set_body(&self, folder: &FolderRef, uid: u32, raw: &[u8]) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        self.write_bodies(folder, &[(uid, raw)])?;
        Ok(())
    }

    fn body(&self, folder: &FolderRef, uid: u32) -> Result<Option<Vec<u8>>> {
        let Some(id) = self.id(folder)? else {
            return Ok(None);
        };
        // A second look when the bytes do not match: the file may have been rewritten
        // (`take_back_space`) between reading the place and reading the bytes.
        for _ in 0..2 {
            let Some(at) = self.stored(id, uid)? else {
                return Ok(None);
            };
            if let Some(body) = self.bodies.read(id, at)? {
                return Ok(Some(body));
            }
        }
        Ok(None)
    }

    fn body_uids(&self, folder: &FolderRef) -> Result<Vec<u32>> {
        let Some(id) = self.id(folder)? else {
            return Ok(vec![]);
        };
        let prefix = key(b'B', id, &[]);
        let mut uids = Vec::new();
        for k in self.tree.scan_prefix(&prefix).keys() {
            let k = k?;
            uids.push(be_u32(k.get(prefix.len()..).unwrap_or_default()));
        }
        Ok(uids)
    }

    fn set_bodies(&self, folder: &FolderRef, bodies: &[(u32, Vec<u8>)]) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let bodies: Vec<(u32, &[u8])> = bodies.iter().map(|(u, b)| (*u, b.as_slice())).collect();
        self.write_bodies(folder, &bodies)?;
        Ok(())
    }

    fn set_thread_links(&self, folder: &FolderRef, links: &[(u32, ThreadLinks)]) -> Result<()> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let Some(id) = self.id(folder)? else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        let mut stored = Vec::with_capacity(links.len());
        for (uid, l) in links {
            // Only for cached rows: links without their row would never be removed.
            if self.has_row(id, *uid)? {
                batch.insert(key(b'T', id, &uid.to_be_bytes()), postcard::to_stdvec(l)?);
                stored.push(*uid);
            }
        }
        self.journal(&mut batch, &CacheChange::messages(folder, stored))?;
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    fn thread_links(&self, folder: &FolderRef) -> Result<Vec<(u32, ThreadLinks)>> {
        let Some(id) = self.id(folder)? else {
            return Ok(vec![]);
        };
        let prefix = key(b'T', id, &[]);
        let mut out = Vec::new();
        for entry in self.tree.scan_prefix(&prefix) {
            let (k, v) = entry?;
            let uid = be_u32(k.get(prefix.len()..).unwrap_or_default());
            out.push((uid, postcard::from_bytes(&v)?));
        }
        Ok(out)
    }

    fn set_folder_list(&self, account: &AccountId, folders: &[Folder]) -> Result<()> {
        self.tree
            .insert(list_key(account), postcard::to_stdvec(folders)?)?;
        Ok(())
    }

    fn folder_list(&self, account: &AccountId) -> Result<Option<Vec<Folder>>> {
        match self.tree.get(list_key(account))? {
            Some(bytes) => Ok(Some(postcard::from_bytes(&bytes)?)),
            None => Ok(None),
        }
    }

    fn cached_folders(&self, account: &AccountId) -> Result<Vec<String>> {
        let mut prefix = vec![b'N'];
        prefix.extend_from_slice(account.0.as_bytes());
        prefix.push(0);
        let mut folders = Vec::new();
        for k in self.tree.scan_prefix(&prefix).keys() {
            let k = k?;
            folders.push(
                String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or_default()).into_owned(),
            );
        }
        Ok(folders)
    }

    fn drop_account(&self, account: &AccountId) -> Result<()> {
        for path in self.cached_folders(account)? {
            self.drop_folder(&FolderRef::new(account, &path))?;
        }
        self.tree.remove(list_key(account))?;
        Ok(())
    }

    fn changes(&self, after: u64, limit: usize) -> Result<Vec<(u64, CacheChange)>> {
        let from = [&[b'J'][..], &after.saturating_add(1).to_be_bytes()].concat();
        let mut out = Vec::new();
        for entry in self.tree.range(from..[b'K'].to_vec()).take(limit) {
            let (k, v) = entry?;
            out.push((
                be_u64(k.get(1..).unwrap_or_default()),
                postcard::from_bytes(&v)?,
            ));
        }
        Ok(out)
    }

    fn journal_id(&self) -> u64 {
        self.journal_id
    }

    fn last_change(&self) -> Result<u64> {
        match self
            .tree
            .range([b'J'].to_vec()..[b'K'].to_vec())
            .keys()
            .next_back()
        {
            Some(k) => Ok(be_u64(k?.get(1..).unwrap_or_default())),
            None => Ok(0),
        }
    }

    fn forget_changes(&self, through: u64) -> Result<()> {
        let end = [&[b'J'][..], &through.to_be_bytes()].concat();
        let mut batch = sled::Batch::default();
        for k in self.tree.range([b'J'].to_vec()..=end).keys() {
            batch.remove(k?);
        }
        self.tree.apply_batch(batch)?;
        Ok(())
    }
}

/// Rows keyed by UID, the last occurrence winning: reads inside a write see the tree, not
/// the pending batch, so a UID must appear once per batch.
fn by_uid(rows: &[Envelope]) -> BTreeMap<u32, &Envelope> {
    rows.iter().map(|r| (r.uid, r)).collect()
}

/// Version of the row encoding. Rows are postcard (not self-describing): a cache written
/// by another version cannot be read, so it is refused as `Corrupt` and the app rebuilds
/// it from the server. Bump whenever `Envelope`, `FolderState` or a key's layout change
/// (3: the date index packed 64 rows to a key; 4: the rows too; 5: bodies in files; 6: the
/// blocks of rows in files; 7: the date blocks in the rows files too).
const FORMAT: u32 = 7;
const FORMAT_KEY: &[u8] = b"V";

fn check_format(tree: &sled::Db) -> Result<()> {
    match tree.get(FORMAT_KEY)? {
        Some(v) if v.len() == 4 && be_u32(&v) == FORMAT => Ok(()),
        None if tree.is_empty() => {
            tree.insert(FORMAT_KEY, &FORMAT.to_be_bytes())?;
            Ok(())
        }
        _ => Err(StoreError::Corrupt(format!(
            "the cache was written by another version of Petrel (format {FORMAT} expected)"
        ))),
    }
}

/// The cache's journal number, made when the cache is.
fn journal_id(tree: &sled::Db) -> Result<u64> {
    if let Some(v) = tree.get(b"I")? {
        return Ok(be_u64(&v));
    }
    let id = crate::new_journal_id();
    tree.insert(b"I", &id.to_be_bytes())?;
    Ok(id)
}

/// The folder an `N` key names (`N` account `\0` path); `None` for a malformed key.
fn folder_of_name(name: &[u8]) -> Option<FolderRef> {
    let rest = name.get(1..)?;
    let at = rest.iter().position(|&b| b == 0)?;
    let account = std::str::from_utf8(&rest[..at]).ok()?;
    let path = std::str::from_utf8(&rest[at + 1..]).ok()?;
    Some(FolderRef::new(&AccountId(account.into()), path))
}

fn list_key(account: &AccountId) -> Vec<u8> {
    let mut k = vec![b'L'];
    k.extend_from_slice(account.0.as_bytes());
    k
}

fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock"))
}

/// A row as stored (postcard), in one allocation: `to_stdvec` grows its buffer from
/// nothing (8, 16, 32 … bytes: four or five reallocations for a typical row). For one row
/// (a flag change); `write_rows` encodes its many into one reused buffer.
fn row_bytes(row: &Envelope) -> Result<Vec<u8>> {
    // The fixed fields take at most 40 bytes (varints, the date's tag, four flags); more
    // would only grow the buffer.
    let room = 40 + row.from.len() + row.subject.len();
    Ok(postcard::to_extend(row, Vec::with_capacity(room))?)
}

fn key(space: u8, id: u64, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + rest.len());
    k.push(space);
    k.extend_from_slice(&id.to_be_bytes());
    k.extend_from_slice(rest);
    k
}

fn encode_date(date: i64) -> [u8; 8] {
    ((date as u64) ^ (1 << 63)).to_be_bytes()
}

fn decode_date(bytes: &[u8]) -> Result<i64> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a date of the date index".into()))?;
    Ok((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = bytes.len().min(8);
    b[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(b)
}

fn be_u32(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    let n = bytes.len().min(4);
    b[..n].copy_from_slice(&bytes[..n]);
    u32::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_encoded_as_postcard_in_one_allocation() {
        let widest = |from: &str, subject: &str| Envelope {
            uid: u32::MAX,
            from: from.into(),
            subject: subject.into(),
            date: Some(i64::MIN),
            seen: true,
            flagged: true,
            answered: true,
            has_attachment: true,
            size: u64::MAX,
        };
        for row in [
            widest("", ""),
            widest("Ana Lima", "Re: the plan"),
            widest(&"é".repeat(300), &"x".repeat(20_000)),
        ] {
            let bytes = row_bytes(&row).unwrap();
            assert_eq!(bytes, postcard::to_stdvec(&row).unwrap());
            // Never grown: the room reserved covers the widest fixed fields.
            assert_eq!(
                bytes.capacity(),
                40 + row.from.len() + row.subject.len(),
                "{} bytes",
                bytes.len()
            );
        }
    }

    #[test]
    fn date_encoding_sorts_like_the_numbers() {
        let dates = [i64::MIN, -5, -1, 0, 1, 1_700_000_000, i64::MAX];
        for pair in dates.windows(2) {
            assert!(encode_date(pair[0]) < encode_date(pair[1]), "{pair:?}");
        }
        for d in dates {
            assert_eq!(decode_date(&encode_date(d)).unwrap(), d);
        }
    }
}
