//! The position index of one folder: its (date, uid) keys sorted newest first. Finding the
//! keys for "rows N..N+k" is a slice; inserting or removing a key is a binary search plus a
//! memmove (100k keys are 1.2 MB: tens of microseconds), far cheaper than a scan.

#[derive(Debug, Default, Clone)]
pub(crate) struct Rank {
    /// Sorted descending by (date, uid).
    keys: Vec<(i64, u32)>,
    /// Keys inserted in batches and not merged yet, in any order. A header sync writes a
    /// batch of rows every few milliseconds; when their dates do not follow the folder's
    /// order (imported or moved mail), each merge moves most of the keys held — at a
    /// million messages, 2,000 passes over 16 MB. Batches wait here until the rank is
    /// read (the list asks for a page at most every 300 ms) or `MERGE_AT` keys wait.
    pending: Vec<(i64, u32)>,
}

/// Keys that may wait unmerged (1 MB): bounds the memory and the pass a read pays.
const MERGE_AT: usize = 1 << 16;

impl Rank {
    /// Builds from keys in any order.
    pub(crate) fn from_keys(mut keys: Vec<(i64, u32)>) -> Self {
        keys.sort_unstable_by(|a, b| b.cmp(a));
        keys.dedup();
        Rank {
            keys,
            pending: Vec::new(),
        }
    }

    /// Where `key` is, or would go, among the merged keys (call [`Rank::settle`] first).
    fn position(&self, key: (i64, u32)) -> Result<usize, usize> {
        self.keys.binary_search_by(|probe| key.cmp(probe))
    }

    /// One key (the tests' model for [`Rank::insert_many`]; the caches insert in batches).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, key: (i64, u32)) {
        self.settle();
        if let Err(at) = self.position(key) {
            self.keys.insert(at, key);
        }
    }

    /// Inserts many keys: they wait with the other batches until the rank is next read.
    pub(crate) fn insert_many(&mut self, new: Vec<(i64, u32)>) {
        self.pending.extend(new);
        if self.pending.len() >= MERGE_AT {
            self.settle();
        }
    }

    /// Merges the waiting keys in one pass from the back, so keys older than every key
    /// held (a header sync goes newest first) cost no move at all, and keys anywhere cost
    /// one pass instead of a memmove per key.
    fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut new = std::mem::take(&mut self.pending);
        new.sort_unstable_by(|a, b| b.cmp(a));
        new.dedup();
        new.retain(|k| self.position(*k).is_err());
        if new.is_empty() {
            return;
        }
        let old_len = self.keys.len();
        self.keys.resize(old_len + new.len(), (0, 0));
        let (mut i, mut j, mut out) = (old_len, new.len(), old_len + new.len());
        // Fill from the end: the smaller of the two tails goes last (descending order).
        while j > 0 {
            out -= 1;
            if i > 0 && self.keys[i - 1] < new[j - 1] {
                self.keys[out] = self.keys[i - 1];
                i -= 1;
            } else {
                self.keys[out] = new[j - 1];
                j -= 1;
            }
        }
    }

    pub(crate) fn remove(&mut self, key: (i64, u32)) {
        self.settle();
        if let Ok(at) = self.position(key) {
            self.keys.remove(at);
        }
    }

    pub(crate) fn keys(&mut self) -> &[(i64, u32)] {
        self.settle();
        &self.keys
    }

    pub(crate) fn window(&mut self, offset: usize, limit: usize) -> &[(i64, u32)] {
        self.settle();
        let start = offset.min(self.keys.len());
        let end = start.saturating_add(limit).min(self.keys.len());
        &self.keys[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_newest_first_and_ignores_duplicates() {
        let mut r = Rank::from_keys(vec![(10, 1), (30, 3), (20, 2), (30, 3)]);
        assert_eq!(r.window(0, 10), &[(30, 3), (20, 2), (10, 1)]);
        r.insert((25, 9));
        r.insert((25, 9));
        assert_eq!(r.window(1, 2), &[(25, 9), (20, 2)]);
        r.remove((30, 3));
        r.remove((99, 99));
        assert_eq!(r.window(0, 10).len(), 3);
        assert_eq!(r.window(5, 10), &[] as &[(i64, u32)]);
        // Same date: the higher UID (newer arrival) first.
        let mut r = Rank::from_keys(vec![(5, 1), (5, 2)]);
        assert_eq!(r.window(0, 2), &[(5, 2), (5, 1)]);
    }

    #[test]
    fn batches_wait_unmerged_until_the_rank_is_read() {
        let mut r = Rank::from_keys(vec![(10, 1)]);
        r.insert_many(vec![(5, 2), (20, 3), (20, 3)]);
        r.insert_many(vec![(7, 4)]);
        assert_eq!(r.pending.len(), 4, "a batch is not merged on its own");
        r.remove((5, 2)); // a key still waiting can be removed
        assert_eq!(r.window(0, 10), &[(20, 3), (10, 1), (7, 4)]);
        assert!(r.pending.is_empty());
        // Enough waiting keys are merged without a read: memory stays bounded.
        r.insert_many(
            (0..MERGE_AT as u32)
                .map(|i| (-i64::from(i), 100 + i))
                .collect(),
        );
        assert!(r.pending.is_empty());
        assert_eq!(r.keys().len(), MERGE_AT + 3);
    }

    #[test]
    fn many_keys_inserted_at_once_land_where_one_by_one_would() {
        let start: Vec<(i64, u32)> = (0..50).map(|i| ((i * 7) % 23, i as u32)).collect();
        let batches: [Vec<(i64, u32)>; 4] = [
            (50..80).map(|i| (-(i as i64), i)).collect(), // all older: appended
            (80..90).map(|i| (100 + i as i64, i)).collect(), // all newer
            (90..140).map(|i| ((i as i64 * 13) % 31, i)).collect(), // interleaved
            vec![(3, 1), (3, 1), start[4], (1_000, 7)],   // repeats and held keys
        ];
        let (mut one, mut many) = (Rank::from_keys(start.clone()), Rank::from_keys(start));
        for batch in batches {
            batch.iter().for_each(|k| one.insert(*k));
            many.insert_many(batch);
            assert_eq!(one.keys(), many.keys());
        }
        assert!(many.keys().windows(2).all(|w| w[0] > w[1]));
    }
}
