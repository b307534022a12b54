//! Per-message entries packed 64 to a sled key: the rows whose UIDs share `uid >> 6` live
//! in one block, sorted by UID, each as `uid` (4 bytes, big-endian), its length (LEB128)
//! and its bytes. sled's cost is per key written (17–20 µs here whatever the size), so a
//! header sync of 100k rows writes 1,563 keys instead of 100k.
//!
//! Blocks (of rows, ~6 kB; of dates, ~830 bytes) live in the folder's rows file and sled
//! keeps where ([`Stored`]): as values, sled wrote each one about six times over (every
//! split of a tree node, and every tenth change of one, writes the whole node again: 221 MB
//! of log for 300k rows).

use crate::bodies::{FolderFiles, Stored};
use crate::{Result, StoreError};
use std::collections::BTreeMap;

/// Entries per key: `uid >> BLOCK_SHIFT` names an entry's block.
const BLOCK_SHIFT: u32 = 6;

/// The block a UID's entry lives in.
pub(crate) fn block_of(uid: u32) -> u32 {
    uid >> BLOCK_SHIFT
}

/// The key of block `n` of folder `id` in key space `space`.
pub(crate) fn block_key(space: u8, id: u64, n: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(13);
    k.push(space);
    k.extend_from_slice(&id.to_be_bytes());
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// The entries of one stored block, in UID order; a malformed block is `Corrupt` (the
/// cache is then rebuilt from the server), never a panic.
pub(crate) fn entries(block: &[u8]) -> impl Iterator<Item = Result<(u32, &[u8])>> {
    let mut rest = block;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let entry = next_entry(rest);
        match entry {
            Ok((uid, bytes, after)) => {
                rest = after;
                Some(Ok((uid, bytes)))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// The bytes of `uid`'s entry in a stored block: its length prefixes let a lookup skip
/// the other entries without decoding them.
pub(crate) fn find(block: &[u8], uid: u32) -> Result<Option<&[u8]>> {
    for entry in entries(block) {
        let (at, bytes) = entry?;
        if at == uid {
            return Ok(Some(bytes));
        }
        if at > uid {
            break;
        }
    }
    Ok(None)
}

fn next_entry(block: &[u8]) -> Result<(u32, &[u8], &[u8])> {
    let corrupt = || StoreError::Corrupt("a packed block of the cache".into());
    let (uid, rest) = block.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let (mut len, mut shift, mut used) = (0usize, 0u32, 0usize);
    loop {
        let byte = *rest.get(used).ok_or_else(corrupt)?;
        used += 1;
        len |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return Err(corrupt());
        }
    }
    let rest = &rest[used..];
    if rest.len() < len {
        return Err(corrupt());
    }
    let (bytes, after) = rest.split_at(len);
    Ok((u32::from_be_bytes(*uid), bytes, after))
}

/// One block as a write leaves it: its entries in UID order, each the place of its bytes in
/// `bytes` — the block as read (entries decoded in place, nothing copied) followed by every
/// entry set since. A replaced entry's old bytes stay until the block is encoded.
#[derive(Default)]
struct Block {
    entries: Vec<(u32, std::ops::Range<usize>)>,
    bytes: Vec<u8>,
}

impl Block {
    fn read(stored: Vec<u8>) -> Result<Block> {
        let mut entries = Vec::with_capacity(1 << BLOCK_SHIFT);
        let mut rest = stored.as_slice();
        while !rest.is_empty() {
            let (uid, bytes, after) = next_entry(rest)?;
            let start = stored.len() - after.len() - bytes.len();
            entries.push((uid, start..start + bytes.len()));
            rest = after;
        }
        Ok(Block {
            entries,
            bytes: stored,
        })
    }

    fn at(&self, uid: u32) -> std::result::Result<usize, usize> {
        self.entries.binary_search_by_key(&uid, |(at, _)| *at)
    }

    fn get(&self, uid: u32) -> Option<&[u8]> {
        let i = self.at(uid).ok()?;
        self.bytes.get(self.entries[i].1.clone())
    }

    fn set(&mut self, uid: u32, bytes: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        let place = (uid, start..self.bytes.len());
        match self.at(uid) {
            Ok(i) => self.entries[i] = place,
            // A sync's rows come in UID order: the new entry goes last, nothing moves.
            Err(i) => self.entries.insert(i, place),
        }
    }

    fn remove(&mut self, uid: u32) -> Option<&[u8]> {
        let i = self.at(uid).ok()?;
        let (_, place) = self.entries.remove(i);
        self.bytes.get(place)
    }

    fn encode(&self) -> Vec<u8> {
        let size: usize = self.entries.iter().map(|(_, r)| r.len() + 9).sum();
        let mut out = Vec::with_capacity(size);
        for (uid, place) in &self.entries {
            let bytes = &self.bytes[place.clone()];
            out.extend_from_slice(&uid.to_be_bytes());
            let mut len = bytes.len();
            loop {
                let low = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    out.push(low);
                    break;
                }
                out.push(low | 0x80);
            }
            out.extend_from_slice(bytes);
        }
        out
    }
}

/// Block `n` of folder `id` in key space `space`, read from its place in `files`: `None`
/// when there is no block.
pub(crate) fn read_block(
    tree: &sled::Db,
    files: &FolderFiles,
    space: u8,
    id: u64,
    n: u32,
) -> Result<Option<Vec<u8>>> {
    let key = block_key(space, id, n);
    // A second look when the bytes do not match: the file may have been rewritten without
    // its dead blocks between reading the place and reading the bytes.
    for _ in 0..2 {
        let Some(v) = tree.get(&key)? else {
            return Ok(None);
        };
        let at = Stored::from_bytes(&v).ok_or_else(missing)?;
        if let Some(block) = files.read(id, at)? {
            return Ok(Some(block));
        }
    }
    Err(missing())
}

/// A block whose place or bytes are damaged: the folder's rows are not what was written.
fn missing() -> StoreError {
    StoreError::Corrupt("a block of rows missing from its folder's file".into())
}

/// The blocks one write changes, each read once and written once.
pub(crate) struct Blocks<'a> {
    space: u8,
    id: u64,
    /// Where the blocks live: the folder's file (sled keeps their places).
    files: &'a FolderFiles,
    blocks: BTreeMap<u32, Block>,
    /// Bytes of the file the blocks read so far took: dead once they are written again.
    replaced: u64,
}

/// What a write did to the blocks' file: bytes it made dead, bytes it added, and the
/// file's end after it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FileWrite {
    pub replaced: u64,
    pub added: u64,
    pub end: Option<u64>,
}

impl<'a> Blocks<'a> {
    /// Blocks stored in the folder's file in `files` (sled keeps their places).
    pub(crate) fn in_file(space: u8, id: u64, files: &'a FolderFiles) -> Self {
        Blocks {
            space,
            id,
            files,
            blocks: BTreeMap::new(),
            replaced: 0,
        }
    }

    fn block(&mut self, tree: &sled::Db, uid: u32) -> Result<&mut Block> {
        let n = block_of(uid);
        match self.blocks.entry(n) {
            std::collections::btree_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::btree_map::Entry::Vacant(e) => {
                let block = match read_block(tree, self.files, self.space, self.id, n)? {
                    Some(v) => {
                        self.replaced += v.len() as u64;
                        Block::read(v)?
                    }
                    None => Block::default(),
                };
                Ok(e.insert(block))
            }
        }
    }

    /// The entry of `uid` as this write leaves it so far.
    pub(crate) fn get(&mut self, tree: &sled::Db, uid: u32) -> Result<Option<&[u8]>> {
        Ok(self.block(tree, uid)?.get(uid))
    }

    /// Sets `uid`'s entry to `bytes` (copied: a caller can encode each row into one buffer).
    pub(crate) fn set(&mut self, tree: &sled::Db, uid: u32, bytes: &[u8]) -> Result<()> {
        self.block(tree, uid)?.set(uid, bytes);
        Ok(())
    }

    /// Removes `uid`'s entry, giving its bytes as they were.
    pub(crate) fn remove(&mut self, tree: &sled::Db, uid: u32) -> Result<Option<&[u8]>> {
        Ok(self.block(tree, uid)?.remove(uid))
    }

    /// Appends every changed block of `sets` (blocks of one folder's file: its rows and its
    /// dates) to that file in one write and adds their places to `batch`; an emptied block is
    /// removed. Nothing to append, no file touched.
    pub(crate) fn write_all<const N: usize>(
        sets: [Blocks<'_>; N],
        batch: &mut sled::Batch,
    ) -> Result<FileWrite> {
        let mut done = FileWrite::default();
        let mut written = Vec::new();
        let mut target = None;
        for set in sets {
            done.replaced += set.replaced;
            for (n, block) in set.blocks {
                let k = block_key(set.space, set.id, n);
                if block.entries.is_empty() {
                    batch.remove(k);
                } else {
                    written.push((k, block.encode()));
                }
            }
            target = Some((set.files, set.id));
        }
        let Some((files, id)) = target.filter(|_| !written.is_empty()) else {
            return Ok(done);
        };
        let places = files.append(id, written.iter().map(|(_, b)| b.as_slice()))?;
        for ((k, _), at) in written.into_iter().zip(places) {
            done.added += u64::from(at.len);
            done.end = Some(at.offset + u64::from(at.len));
            batch.insert(k, &at.to_bytes()[..]);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_are_found_without_decoding_the_others() {
        let mut map = BTreeMap::new();
        map.insert(3, vec![]);
        map.insert(7, vec![1u8; 200]); // a two-byte length
        map.insert(9, b"nine".to_vec());
        let mut built = Block::default();
        // Out of order, and one entry set twice: the block keeps UID order and the last.
        for uid in [9, 3, 7] {
            built.set(uid, b"first");
        }
        for (uid, bytes) in &map {
            built.set(*uid, bytes);
        }
        let block = built.encode();
        let back: Vec<(u32, Vec<u8>)> = entries(&block)
            .map(|e| e.map(|(u, b)| (u, b.to_vec())))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(back, map.clone().into_iter().collect::<Vec<_>>());
        assert_eq!(find(&block, 9).unwrap(), Some(&b"nine"[..]));
        assert_eq!(find(&block, 8).unwrap(), None);
        // Read back in place, changed, and encoded again.
        let mut read = Block::read(block.clone()).unwrap();
        assert_eq!(read.get(7), Some(&[1u8; 200][..]));
        assert_eq!(read.remove(3), Some(&[][..]));
        assert_eq!(read.remove(3), None);
        read.set(8, b"eight");
        let again: Vec<(u32, Vec<u8>)> = entries(&read.encode())
            .map(|e| e.map(|(u, b)| (u, b.to_vec())))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            again,
            vec![
                (7, vec![1u8; 200]),
                (8, b"eight".to_vec()),
                (9, b"nine".to_vec())
            ]
        );
        // Cut anywhere, a block is reported corrupt, never read past its end.
        for cut in 1..block.len() {
            let partial = &block[..cut];
            let all: Result<Vec<_>> = entries(partial).collect();
            let whole_entries = [5, 5 + 4 + 2 + 200].contains(&cut);
            assert_eq!(all.is_ok(), whole_entries, "cut at {cut}");
            assert_eq!(Block::read(partial.to_vec()).is_ok(), whole_entries);
        }
    }
}
