//! The conversation view: a folder's messages grouped by References / In-Reply-To, with
//! the user's own replies from Sent placed in their conversations.
//!
//! Threading headers are not part of the list sync (that would slow every first sync for
//! a view many never use): they are fetched for the messages that lack them when the view
//! is opened, kept in the cache beside the rows, and the grouping is kept until the cache
//! changes. Rows are served by position like a folder's, with expanded conversations open.

use super::list_query::{sort_key, Filter};
use super::Views;
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::{
    ConversationSpot, Envelope, ListQuery, SortKey, ThreadLinks, ThreadPage, ThreadRow,
};
use petrel_store::FolderRef;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// One message as threading sees it. `folder` 0 is the open folder, 1 is Sent.
pub(crate) struct Node {
    pub folder: u8,
    pub envelope: Envelope,
    pub links: ThreadLinks,
}

/// A member of a conversation, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub folder: u8,
    pub uid: u32,
    pub depth: u32,
}

#[derive(Debug)]
pub(crate) struct Thread {
    pub key: String,
    pub members: Vec<Member>,
    pub unread: u32,
    pub latest: Option<i64>,
}

#[derive(Debug, Default)]
pub(crate) struct ThreadIndex {
    folders: Vec<FolderRef>,
    threads: Vec<Thread>,
}

/// (folder, Sent folder, query, cache generation) → the grouping.
pub(crate) type ThreadCache = Option<(FolderRef, ListQuery, u64, Arc<ThreadIndex>)>;

/// Deepest indentation reported (the UI would run out of width long before).
const MAX_DEPTH: u32 = 32;

impl Views {
    pub(crate) fn thread_index(
        &self,
        cx: &Shared,
        folders: Vec<FolderRef>,
        query: &ListQuery,
    ) -> Result<Arc<ThreadIndex>, EngineError> {
        super::list_query::check_filter(query)?;
        let generation = cx.cache_generation.load(Ordering::SeqCst);
        {
            let cached = crate::error::lock(&self.thread);
            if let Some((f, q, g, index)) = cached.as_ref() {
                if f == &folders[0] && q == query && *g == generation {
                    return Ok(index.clone());
                }
            }
        }
        let cache_err = || EngineError::cache("Reading the cache");
        let mut nodes = Vec::new();
        for (n, folder) in folders.iter().enumerate() {
            let mut links: HashMap<u32, ThreadLinks> = cx
                .cache
                .thread_links(folder)
                .map_err(cache_err())?
                .into_iter()
                .collect();
            for envelope in cx
                .cache
                .page(folder, 0, u32::MAX)
                .map_err(cache_err())?
                .rows
            {
                let links = links.remove(&envelope.uid).unwrap_or_default();
                nodes.push(Node {
                    folder: n as u8,
                    envelope,
                    links,
                });
            }
        }
        let index = Arc::new(ThreadIndex {
            threads: group(nodes, query),
            folders: folders.clone(),
        });
        {
            let mut cached = crate::error::lock(&self.thread);
            *cached = Some((folders[0].clone(), query.clone(), generation, index.clone()));
        }
        Ok(index)
    }

    pub(crate) fn thread_page(
        &self,
        cx: &Shared,
        index: &ThreadIndex,
        offset: u32,
        limit: u32,
        expanded: &[String],
    ) -> Result<ThreadPage, EngineError> {
        let open: HashSet<&str> = expanded.iter().map(String::as_str).collect();
        let (start, end) = (offset as usize, offset as usize + limit as usize);
        let mut position = 0usize;
        let mut rows = Vec::new();
        for thread in &index.threads {
            let is_open = thread.members.len() > 1 && open.contains(thread.key.as_str());
            let shown = if is_open { thread.members.len() } else { 1 };
            if position + shown > start && position < end {
                for (k, m) in thread.members.iter().take(shown).enumerate() {
                    let p = position + k;
                    if p < start || p >= end {
                        continue;
                    }
                    let folder = &index.folders[m.folder as usize];
                    let Some(envelope) = cx
                        .cache
                        .envelope(folder, m.uid)
                        .map_err(EngineError::cache("Reading the cache"))?
                    else {
                        continue;
                    };
                    let head = k == 0;
                    rows.push(ThreadRow {
                        folder: folder.path.clone(),
                        envelope,
                        depth: m.depth,
                        thread: thread.key.clone(),
                        head,
                        count: if head { thread.members.len() as u32 } else { 0 },
                        unread: if head { thread.unread } else { 0 },
                        latest: if head { thread.latest } else { None },
                        expanded: is_open,
                    });
                }
            }
            position += shown;
        }
        Ok(ThreadPage {
            offset,
            total: position as u32,
            threads: index.threads.len() as u32,
            rows,
            offline: false,
        })
    }
}

impl ThreadIndex {
    /// Where message `uid` of `folder` is: its conversation and its row with that
    /// conversation open (the others closed).
    pub(crate) fn spot(&self, folder: &str, uid: u32) -> Option<ConversationSpot> {
        let n = self.folders.iter().position(|f| f.path == folder)? as u8;
        // Every conversation before it shows as one row (closed).
        for (position, thread) in self.threads.iter().enumerate() {
            if let Some(k) = thread
                .members
                .iter()
                .position(|m| m.folder == n && m.uid == uid)
            {
                return Some(ConversationSpot {
                    thread: thread.key.clone(),
                    position: (position + k) as u32,
                });
            }
        }
        None
    }
}

/// Groups messages into conversations (a simplified JWZ threading): messages that share
/// any ID in their Message-ID/References/In-Reply-To chains are one conversation; each
/// message hangs under its nearest ancestor present here. Only conversations with a
/// message of the open folder (node folder 0) are kept, a copy in Sent of a message
/// already there is dropped, and the query's filter keeps conversations with a matching
/// message of the open folder.
pub(crate) fn group(nodes: Vec<Node>, query: &ListQuery) -> Vec<Thread> {
    // The open folder's Message-IDs: a Sent copy of one of them adds nothing.
    let here: HashSet<String> = nodes
        .iter()
        .filter(|n| n.folder == 0)
        .filter_map(|n| n.links.message_id.clone())
        .collect();
    let nodes: Vec<Node> = nodes
        .into_iter()
        .filter(|n| {
            n.folder == 0
                || n.links
                    .message_id
                    .as_ref()
                    .is_none_or(|id| !here.contains(id))
        })
        .collect();

    // Union-find over every ID mentioned; a message without Message-ID gets its own slot.
    let mut slots: HashMap<&str, usize> = HashMap::new();
    let mut uf = UnionFind::default();
    let mut own_slot = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let own = match node.links.message_id.as_deref() {
            Some(id) => *slots.entry(id).or_insert_with(|| uf.add()),
            None => uf.add(),
        };
        for p in &node.links.parents {
            let s = *slots.entry(p.as_str()).or_insert_with(|| uf.add());
            uf.union(own, s);
        }
        own_slot.push(own);
    }

    // The message each ID names (the first with it).
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        if let Some(id) = node.links.message_id.as_deref() {
            by_id.entry(id).or_insert(i);
        }
    }
    // Parent: the nearest ancestor present, unless that would make a loop (forged or
    // broken headers can reference each other).
    let mut parent: Vec<Option<usize>> = vec![None; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for p in node.links.parents.iter().rev() {
            let Some(&candidate) = by_id.get(p.as_str()) else {
                continue;
            };
            if candidate != i && !is_ancestor(&parent, i, candidate) {
                parent[i] = Some(candidate);
                break;
            }
        }
    }

    let mut components: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, &slot) in own_slot.iter().enumerate() {
        components.entry(uf.find(slot)).or_default().push(i);
    }
    let date = |i: usize| {
        (
            nodes[i].envelope.date.unwrap_or(i64::MIN),
            nodes[i].envelope.uid,
        )
    };
    let filter = Filter::new(query);
    let mut threads: Vec<(String, Thread)> = Vec::new();
    for members in components.into_values() {
        if !members.iter().any(|&i| nodes[i].folder == 0) {
            continue;
        }
        if !members
            .iter()
            .any(|&i| nodes[i].folder == 0 && filter.matches(&nodes[i].envelope))
        {
            continue;
        }
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for &i in &members {
            match parent[i] {
                Some(p) => children.entry(p).or_default().push(i),
                None => roots.push(i),
            }
        }
        roots.sort_by_key(|&i| date(i));
        for list in children.values_mut() {
            list.sort_by_key(|&i| date(i));
        }
        // The oldest root heads the conversation; other roots (replies to a message that
        // is not here) hang under it.
        let head = roots[0];
        let mut order = Vec::with_capacity(members.len());
        let mut stack: Vec<(usize, u32)> = roots[1..].iter().rev().map(|&r| (r, 1)).collect();
        stack.push((head, 0));
        while let Some((i, depth)) = stack.pop() {
            order.push(Member {
                folder: nodes[i].folder,
                uid: nodes[i].envelope.uid,
                depth: depth.min(MAX_DEPTH),
            });
            if let Some(kids) = children.get(&i) {
                stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
        let head_node = &nodes[head];
        let key = match &head_node.links.message_id {
            Some(id) => id.clone(),
            None => format!("{}:{}", head_node.folder, head_node.envelope.uid),
        };
        let thread = Thread {
            key,
            unread: members.iter().filter(|&&i| !nodes[i].envelope.seen).count() as u32,
            latest: members.iter().filter_map(|&i| nodes[i].envelope.date).max(),
            members: order,
        };
        threads.push((sort_key(&head_node.envelope, query.sort), thread));
    }
    // Newest conversation first (by its newest message); other orders by the first
    // message's sender or subject, newest first among equals.
    threads.sort_by(|a, b| {
        let newest = (b.1.latest, &b.1.key).cmp(&(a.1.latest, &a.1.key));
        match query.sort {
            SortKey::Date if query.ascending => newest.reverse(),
            SortKey::Date => newest,
            _ => {
                let c = a.0.cmp(&b.0);
                (if query.ascending { c } else { c.reverse() }).then(newest)
            }
        }
    });
    threads.into_iter().map(|(_, t)| t).collect()
}

/// Whether `node` is `candidate` or one of its ancestors (so `candidate` cannot be its
/// parent). Bounded: a chain longer than the cap is treated as a loop.
fn is_ancestor(parent: &[Option<usize>], node: usize, candidate: usize) -> bool {
    let mut at = Some(candidate);
    for _ in 0..10_000 {
        match at {
            Some(i) if i == node => return true,
            Some(i) => at = parent[i],
            None => return false,
        }
    }
    true
}

#[derive(Default)]
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn add(&mut self) -> usize {
        self.parent.push(self.parent.len());
        self.parent.len() - 1
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(folder: u8, uid: u32, date: i64, id: &str, parents: &[&str]) -> Node {
        Node {
            folder,
            envelope: Envelope {
                uid,
                from: format!("sender {uid}"),
                subject: format!("subject {uid}"),
                date: Some(date),
                seen: uid.is_multiple_of(2) || folder == 1,
                flagged: false,
                answered: false,
                has_attachment: false,
                size: 1,
            },
            links: ThreadLinks {
                message_id: (!id.is_empty()).then(|| id.to_string()),
                parents: parents.iter().map(|p| p.to_string()).collect(),
            },
        }
    }

    fn shape(threads: &[Thread]) -> Vec<Vec<(u8, u32, u32)>> {
        threads
            .iter()
            .map(|t| {
                t.members
                    .iter()
                    .map(|m| (m.folder, m.uid, m.depth))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn replies_hang_under_their_parents_and_own_replies_come_from_sent() {
        let nodes = vec![
            node(0, 1, 100, "a@x", &[]),
            node(0, 2, 200, "b@x", &["a@x"]),
            node(1, 7, 250, "mine@x", &["a@x", "b@x"]),
            node(0, 3, 300, "c@x", &["a@x", "b@x", "mine@x"]),
            node(0, 4, 150, "lone@x", &[]),
            node(1, 8, 400, "other@x", &[]),
        ];
        let threads = group(nodes, &ListQuery::default());
        assert_eq!(
            shape(&threads),
            vec![
                vec![(0, 1, 0), (0, 2, 1), (1, 7, 2), (0, 3, 3)],
                vec![(0, 4, 0)],
            ],
            "newest conversation first; Sent-only conversations left out"
        );
        assert_eq!(threads[0].key, "a@x");
        assert_eq!(threads[0].latest, Some(300));
        assert_eq!(threads[0].unread, 2, "uids 1 and 3 are unread");
    }

    #[test]
    fn replies_to_a_missing_message_share_a_conversation() {
        let nodes = vec![
            node(0, 5, 500, "r2@x", &["gone@x"]),
            node(0, 4, 400, "r1@x", &["gone@x"]),
            node(0, 6, 600, "r3@x", &["gone@x", "r1@x"]),
        ];
        let threads = group(nodes, &ListQuery::default());
        assert_eq!(shape(&threads), vec![vec![(0, 4, 0), (0, 6, 1), (0, 5, 1)]]);
    }

    #[test]
    fn loops_duplicates_and_missing_ids_do_not_break_it() {
        let nodes = vec![
            node(0, 1, 100, "a@x", &["b@x"]),
            node(0, 2, 200, "b@x", &["a@x"]),
            node(0, 3, 300, "", &[]),
            node(0, 4, 400, "", &["a@x"]),
            node(0, 5, 500, "a@x", &[]),
            node(1, 9, 900, "a@x", &[]),
        ];
        let threads = group(nodes, &ListQuery::default());
        let mut all: Vec<u32> = threads
            .iter()
            .flat_map(|t| t.members.iter().map(|m| m.uid))
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            vec![1, 2, 3, 4, 5],
            "every message once; the Sent copy of a@x dropped"
        );
        assert_eq!(threads.len(), 2);
    }

    #[test]
    fn filters_keep_conversations_with_a_matching_message() {
        let nodes = vec![
            node(0, 1, 100, "a@x", &[]),
            node(0, 2, 200, "b@x", &["a@x"]),
            node(0, 4, 150, "c@x", &[]),
        ];
        let unread = ListQuery {
            unread_only: true,
            ..Default::default()
        };
        assert_eq!(
            shape(&group(nodes, &unread)),
            vec![vec![(0, 1, 0), (0, 2, 1)]]
        );
    }

    #[test]
    fn many_messages_group_quickly_enough() {
        // 100k messages in 25k conversations of four.
        let ids: Vec<String> = (0..100_000).map(|i| format!("m{i}@x")).collect();
        let nodes: Vec<Node> = (0..100_000u32)
            .map(|i| {
                let root = &ids[(i - i % 4) as usize];
                let parents: Vec<&str> = if i % 4 == 0 {
                    vec![]
                } else {
                    vec![root.as_str()]
                };
                node(0, i + 1, i64::from(i), &ids[i as usize], &parents)
            })
            .collect();
        let threads = group(nodes, &ListQuery::default());
        assert_eq!(threads.len(), 25_000);
        assert!(threads.iter().all(|t| t.members.len() == 4));
    }
}
