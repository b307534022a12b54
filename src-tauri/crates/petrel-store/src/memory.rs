//! An in-memory [`MailCache`] for engine tests that are not about storage.

use crate::rank::Rank;
use crate::{order_key, CacheChange, FolderRef, FolderState, MailCache, Page, Result};
use petrel_core::{AccountId, Envelope};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct Folder {
    state: FolderState,
    rows: BTreeMap<u32, Envelope>,
    rank: Rank,
    bodies: HashMap<u32, Vec<u8>>,
    links: BTreeMap<u32, petrel_core::ThreadLinks>,
}

pub struct MemoryCache {
    folders: Mutex<HashMap<FolderRef, Folder>>,
    trees: Mutex<HashMap<AccountId, Vec<petrel_core::Folder>>>,
    /// The last sequence number given, and the entries not forgotten yet.
    journal: Mutex<(u64, BTreeMap<u64, CacheChange>)>,
    journal_id: u64,
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache {
            folders: Mutex::default(),
            trees: Mutex::default(),
            journal: Mutex::default(),
            journal_id: crate::new_journal_id(),
        }
    }
}

impl MemoryCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn note(&self, change: CacheChange) {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        journal.0 += 1;
        let seq = journal.0;
        journal.1.insert(seq, change);
    }

    fn with<T>(&self, folder: &FolderRef, f: impl FnOnce(&mut Folder) -> T) -> T {
        let mut map = self.folders.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry(folder.clone()).or_default())
    }
}

impl MailCache for MemoryCache {
    fn folder_state(&self, folder: &FolderRef) -> Result<Option<FolderState>> {
        let map = self.folders.lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(folder).map(|f| f.state))
    }

    fn set_sync_state(
        &self,
        folder: &FolderRef,
        uidvalidity: u32,
        uidnext: u32,
        highestmodseq: u64,
    ) -> Result<()> {
        self.with(folder, |f| {
            if f.state.uidvalidity != 0 && f.state.uidvalidity != uidvalidity {
                *f = Folder::default();
                self.note(CacheChange::Folder(folder.clone()));
            }
            f.state.uidvalidity = uidvalidity;
            f.state.uidnext = uidnext;
            f.state.highestmodseq = highestmodseq;
        });
        Ok(())
    }

    fn upsert(&self, folder: &FolderRef, rows: &[Envelope]) -> Result<()> {
        self.note(CacheChange::messages(folder, rows.iter().map(|r| r.uid)));
        self.with(folder, |f| {
            // The new keys go in as one batch, as the sled cache's do: one at a time, each
            // was a move of the keys after it (113 s for the imap bench's million rows).
            let mut added = Vec::with_capacity(rows.len());
            // A UID twice in one batch: the last wins (its first key is not in the rank yet).
            let rows: BTreeMap<u32, &Envelope> = rows.iter().map(|r| (r.uid, r)).collect();
            for row in rows.into_values() {
                if let Some(old) = f.rows.insert(row.uid, row.clone()) {
                    f.rank.remove(order_key(&old));
                    f.state.total -= 1;
                    f.state.unread -= u32::from(!old.seen);
                }
                added.push(order_key(row));
                f.state.total += 1;
                f.state.unread += u32::from(!row.seen);
            }
            f.rank.insert_many(added);
        });
        Ok(())
    }

    fn remove(&self, folder: &FolderRef, uids: &[u32]) -> Result<()> {
        self.note(CacheChange::messages(folder, uids.iter().copied()));
        self.with(folder, |f| {
            for uid in uids {
                f.bodies.remove(uid);
                f.links.remove(uid);
                if let Some(old) = f.rows.remove(uid) {
                    f.rank.remove(order_key(&old));
                    f.state.total -= 1;
                    f.state.unread -= u32::from(!old.seen);
                }
            }
        });
        Ok(())
    }

    fn set_flags(&self, folder: &FolderRef, uid: u32, seen: bool, flagged: bool) -> Result<bool> {
        self.note(CacheChange::messages(folder, [uid]));
        Ok(self.with(folder, |f| match f.rows.get_mut(&uid) {
            Some(row) => {
                f.state.unread = f.state.unread - u32::from(!row.seen) + u32::from(!seen);
                row.seen = seen;
                row.flagged = flagged;
                true
            }
            None => false,
        }))
    }

    fn envelope(&self, folder: &FolderRef, uid: u32) -> Result<Option<Envelope>> {
        Ok(self.with(folder, |f| f.rows.get(&uid).cloned()))
    }

    fn page(&self, folder: &FolderRef, offset: u32, limit: u32) -> Result<Page> {
        Ok(self.with(folder, |f| Page {
            offset,
            total: f.state.total,
            rows: f
                .rank
                .window(offset as usize, limit as usize)
                .iter()
                .filter_map(|(_, uid)| f.rows.get(uid).cloned())
                .collect(),
        }))
    }

    fn order_keys(&self, folder: &FolderRef) -> Result<Vec<(i64, u32)>> {
        Ok(self.with(folder, |f| f.rank.keys().to_vec()))
    }

    fn uids(&self, folder: &FolderRef) -> Result<Vec<u32>> {
        Ok(self.with(folder, |f| f.rows.keys().copied().collect()))
    }

    fn drop_folder(&self, folder: &FolderRef) -> Result<()> {
        self.note(CacheChange::Folder(folder.clone()));
        self.folders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(folder);
        Ok(())
    }

    fn set_body(&self, folder: &FolderRef, uid: u32, raw: &[u8]) -> Result<()> {
        self.note(CacheChange::messages(folder, [uid]));
        self.with(folder, |f| {
            if f.rows.contains_key(&uid) {
                f.bodies.insert(uid, raw.to_vec());
            }
        });
        Ok(())
    }

    fn body(&self, folder: &FolderRef, uid: u32) -> Result<Option<Vec<u8>>> {
        Ok(self.with(folder, |f| f.bodies.get(&uid).cloned()))
    }

    fn body_uids(&self, folder: &FolderRef) -> Result<Vec<u32>> {
        Ok(self.with(folder, |f| {
            let mut uids: Vec<u32> = f.bodies.keys().copied().collect();
            uids.sort_unstable();
            uids
        }))
    }

    fn set_thread_links(
        &self,
        folder: &FolderRef,
        links: &[(u32, petrel_core::ThreadLinks)],
    ) -> Result<()> {
        self.note(CacheChange::messages(folder, links.iter().map(|l| l.0)));
        self.with(folder, |f| {
            for (uid, l) in links {
                if f.rows.contains_key(uid) {
                    f.links.insert(*uid, l.clone());
                }
            }
        });
        Ok(())
    }

    fn thread_links(&self, folder: &FolderRef) -> Result<Vec<(u32, petrel_core::ThreadLinks)>> {
        Ok(self.with(folder, |f| {
            f.links.iter().map(|(u, l)| (*u, l.clone())).collect()
        }))
    }

    fn set_folder_list(&self, account: &AccountId, folders: &[petrel_core::Folder]) -> Result<()> {
        self.trees
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.clone(), folders.to_vec());
        Ok(())
    }

    fn folder_list(&self, account: &AccountId) -> Result<Option<Vec<petrel_core::Folder>>> {
        Ok(self
            .trees
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .cloned())
    }

    fn cached_folders(&self, account: &AccountId) -> Result<Vec<String>> {
        Ok(self
            .folders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|f| &f.account == account)
            .map(|f| f.path.clone())
            .collect())
    }

    fn drop_account(&self, account: &AccountId) -> Result<()> {
        for path in self.cached_folders(account)? {
            self.note(CacheChange::Folder(FolderRef::new(account, &path)));
        }
        self.trees
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
        self.folders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|f, _| &f.account != account);
        Ok(())
    }

    fn changes(&self, after: u64, limit: usize) -> Result<Vec<(u64, CacheChange)>> {
        let journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        Ok(journal
            .1
            .range(after.saturating_add(1)..)
            .take(limit)
            .map(|(s, c)| (*s, c.clone()))
            .collect())
    }

    fn journal_id(&self) -> u64 {
        self.journal_id
    }

    fn last_change(&self) -> Result<u64> {
        let journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        Ok(journal.1.keys().next_back().copied().unwrap_or(0))
    }

    fn forget_changes(&self, through: u64) -> Result<()> {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        journal.1 = journal.1.split_off(&through.saturating_add(1));
        Ok(())
    }
}
