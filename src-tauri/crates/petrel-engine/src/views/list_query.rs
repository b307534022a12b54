//! Other orders and the quick filter for a folder's list. The default order (newest
//! first) comes from the cache's date index; other orders and filters need every row's
//! fields once, so the result (UIDs in order) is kept until the cache changes — a 100k
//! folder is read once (~0.1–0.2 s), then each page is a slice.

use super::Views;
use crate::shared::Shared;
use crate::EngineError;
use petrel_core::{Envelope, EnvelopePage, ListQuery, SortKey};
use petrel_store::FolderRef;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub(crate) type QueryCache = Option<(FolderRef, ListQuery, u64, Arc<Vec<u32>>)>;

impl Views {
    pub(crate) fn query_page(
        &self,
        cx: &Shared,
        folder: &FolderRef,
        query: &ListQuery,
        offset: u32,
        limit: u32,
    ) -> Result<EnvelopePage, EngineError> {
        let uids = self.query_index(cx, folder, query)?;
        let start = (offset as usize).min(uids.len());
        let end = start.saturating_add(limit as usize).min(uids.len());
        let mut rows = Vec::with_capacity(end - start);
        for &uid in &uids[start..end] {
            if let Some(row) = cx
                .cache
                .envelope(folder, uid)
                .map_err(EngineError::cache("Reading the cache"))?
            {
                rows.push(row);
            }
        }
        Ok(EnvelopePage {
            offset,
            total: uids.len() as u32,
            rows,
            offline: false,
        })
    }

    fn query_index(
        &self,
        cx: &Shared,
        folder: &FolderRef,
        query: &ListQuery,
    ) -> Result<Arc<Vec<u32>>, EngineError> {
        check_filter(query)?;
        let generation = cx.cache_generation.load(Ordering::SeqCst);
        {
            let cached = crate::error::lock(&self.query);
            if let Some((f, q, g, uids)) = cached.as_ref() {
                if f == folder && q == query && *g == generation {
                    return Ok(uids.clone());
                }
            }
        }
        let rows = cx
            .cache
            .page(folder, 0, u32::MAX)
            .map_err(EngineError::cache("Reading the cache"))?
            .rows;
        let uids = Arc::new(order(rows, query));
        {
            let mut cached = crate::error::lock(&self.query);
            *cached = Some((folder.clone(), query.clone(), generation, uids.clone()));
        }
        Ok(uids)
    }
}

/// Filters and orders rows (given newest first) and returns their UIDs.
pub(crate) fn order(rows: Vec<Envelope>, query: &ListQuery) -> Vec<u32> {
    let filter = Filter::new(query);
    let mut kept: Vec<(String, Envelope)> = rows
        .into_iter()
        .filter(|r| filter.matches(r))
        .map(|r| (sort_key(&r, query.sort), r))
        .collect();
    // Stable sort over rows that arrive newest first: equal keys stay newest first.
    match query.sort {
        SortKey::Date => {
            if query.ascending {
                kept.reverse();
            }
        }
        // Descending reverses only the key comparison, so equal keys stay newest first.
        _ => kept.sort_by(|a, b| {
            let c = a.0.cmp(&b.0);
            if query.ascending {
                c
            } else {
                c.reverse()
            }
        }),
    }
    kept.into_iter().map(|(_, r)| r.uid).collect()
}

/// The quick filter of a query: its text in the search language (`petrel_core::query`,
/// the same parse as the search box), and the toggles.
pub(crate) struct Filter<'q> {
    query: &'q ListQuery,
    text: Option<petrel_core::query::Query>,
    today: petrel_core::query::Day,
}

/// Refuses a quick filter the search language cannot read, in words for the user.
pub(crate) fn check_filter(query: &ListQuery) -> Result<(), EngineError> {
    if query.text.trim().is_empty() {
        return Ok(());
    }
    petrel_core::query::parse(&query.text)
        .map(|_| ())
        .map_err(|e| EngineError::InvalidInput(format!("The filter: {}", e.message)))
}

impl<'q> Filter<'q> {
    pub(crate) fn new(query: &'q ListQuery) -> Self {
        // Checked before (`check_filter`): a text that does not parse filters nothing.
        let text = (!query.text.trim().is_empty())
            .then(|| petrel_core::query::parse(&query.text).ok())
            .flatten();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let today = petrel_core::query::Day::from_days_since_epoch(now.div_euclid(86_400));
        Filter { query, text, today }
    }

    pub(crate) fn matches(&self, r: &Envelope) -> bool {
        let q = self.query;
        if (q.unread_only && r.seen)
            || (q.flagged_only && !r.flagged)
            || (q.attachments_only && !r.has_attachment)
        {
            return false;
        }
        match &self.text {
            Some(q) => petrel_core::query::matches_row(q, r, self.today),
            None => true,
        }
    }
}

/// What a row sorts by under `sort` (dates sort by position, so no key).
pub(crate) fn sort_key(r: &Envelope, sort: SortKey) -> String {
    match sort {
        SortKey::Date => String::new(),
        SortKey::Sender => r.from.to_lowercase(),
        SortKey::Subject => base_subject(&r.subject),
    }
}

/// A subject without its reply/forward prefixes, lower case: "Re: Fwd: Plan" → "plan".
pub(crate) fn base_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "fwd:", "fw:", "aw:", "sv:", "wg:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => break,
        }
    }
    s.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(uid: u32, from: &str, subject: &str, seen: bool, flagged: bool) -> Envelope {
        Envelope {
            uid,
            from: from.into(),
            subject: subject.into(),
            date: Some(uid as i64),
            seen,
            flagged,
            answered: false,
            has_attachment: false,
            size: 1,
        }
    }

    fn rows() -> Vec<Envelope> {
        // Newest first, as the cache gives them.
        vec![
            row(5, "bob", "Re: Plan", true, false),
            row(4, "Ana", "lunch", false, true),
            row(3, "carl", "Fwd: plan", false, false),
            row(2, "ana", "Budget", true, true),
            row(1, "Bob", "agenda", false, false),
        ]
    }

    #[test]
    fn sorts_by_sender_and_subject_with_newest_first_among_equals() {
        let by = |sort, ascending| {
            order(
                rows(),
                &ListQuery {
                    sort,
                    ascending,
                    ..Default::default()
                },
            )
        };
        assert_eq!(by(SortKey::Sender, true), vec![4, 2, 5, 1, 3]);
        assert_eq!(by(SortKey::Subject, true), vec![1, 2, 4, 5, 3]);
        assert_eq!(by(SortKey::Date, true), vec![1, 2, 3, 4, 5]);
        assert_eq!(by(SortKey::Date, false), vec![5, 4, 3, 2, 1]);
        assert_eq!(by(SortKey::Sender, false), vec![3, 5, 1, 4, 2]);
    }

    #[test]
    fn filters_by_words_unread_and_flagged() {
        let q = |text: &str, unread_only, flagged_only| {
            order(
                rows(),
                &ListQuery {
                    text: text.into(),
                    unread_only,
                    flagged_only,
                    ..Default::default()
                },
            )
        };
        assert_eq!(q("plan", false, false), vec![5, 3]);
        assert_eq!(q("ANA", false, false), vec![4, 2]);
        assert_eq!(q("bob plan", false, false), vec![5]);
        // The search language, parsed once, over the row's fields.
        assert_eq!(q("from:ana -budget", false, false), vec![4]);
        assert_eq!(q("lunch OR agenda", false, false), vec![4, 1]);
        assert_eq!(q("is:flagged", false, false), vec![4, 2]);
        assert_eq!(q("\"re: plan\"", false, false), vec![5]);
        assert_eq!(q("", true, false), vec![4, 3, 1]);
        assert_eq!(q("", false, true), vec![4, 2]);
        assert_eq!(q("", true, true), vec![4]);
        let mut with_files = rows();
        with_files[1].has_attachment = true;
        with_files[3].has_attachment = true;
        let files = ListQuery {
            attachments_only: true,
            ..Default::default()
        };
        assert_eq!(order(with_files, &files), vec![4, 2]);
    }

    #[test]
    fn base_subjects_drop_reply_prefixes() {
        assert_eq!(base_subject("Re: Fwd: RE: Plan"), "plan");
        assert_eq!(base_subject("AW: Termin"), "termin");
    }
}
