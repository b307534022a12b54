//! Bringing one folder of the cache up to date with the server.
//!
//! 1. EXAMINE (raw, so every response code is seen). With QRESYNC (RFC 7162) the cached
//!    UIDVALIDITY and HIGHESTMODSEQ go along and the server answers with only what changed:
//!    `VANISHED (EARLIER)` for removed UIDs and FETCH for changed or new ones. An unchanged
//!    folder costs this one round trip.
//! 2. With CONDSTORE only: an unchanged HIGHESTMODSEQ/UIDNEXT/EXISTS ends the sync there;
//!    otherwise `UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE m)`.
//! 3. A new UIDVALIDITY makes every cached UID meaningless → the cache drops them.
//! 4. The shortcut is checked: cached count must equal EXISTS. If not (the cache lost a
//!    write, or the server has no mod-sequences) the full RFC 3501 diff runs:
//!    `UID FETCH 1:* (UID FLAGS)`, remove what is gone, update flags.
//! 5. UIDs the cache lacks get their list fields, newest first, in batches, so the list
//!    fills from the top while a large folder syncs. A folder the cache holds nothing of
//!    skips step 4's listing: its rows are fetched by position (`FETCH n-499:n`, newest
//!    first), and the count is checked after; a count that does not add up (a message
//!    expunged in between) runs the full diff for the rest.
//! 6. Only then is the new HIGHESTMODSEQ recorded: a sync cut halfway is redone next time.

use crate::fetch_envelopes::{Fetched, RowsWanted};
use crate::raw_command::quoted;
use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use async_imap::imap_proto::{AttributeValue, MailboxDatum, Response, ResponseCode};
use async_imap::types::Flag;
use futures::TryStreamExt;
use petrel_store::{FolderRef, MailCache};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::Arc;

/// UIDs per header FETCH: large enough to amortise the round trip, small enough that the
/// first rows appear quickly and one reply stays a few hundred kB.
pub const HEADER_BATCH: usize = 500;

/// Header FETCHes on the wire at once: the next is sent before the one before is read, so
/// the server is never idle while Petrel reads a batch.
const IN_FLIGHT: usize = 2;
/// Most messages accepted in one folder; beyond this a server reply is treated as hostile.
pub const MAX_FOLDER_MESSAGES: usize = 10_000_000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    pub added: usize,
    pub removed: usize,
    pub flags_changed: usize,
    /// The cached folder was dropped because UIDVALIDITY changed.
    pub uidvalidity_reset: bool,
    /// Commands sent (each one a round trip); an unchanged folder with QRESYNC or
    /// CONDSTORE needs one.
    pub round_trips: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Cache(#[from] petrel_store::StoreError),
}

/// What EXAMINE told us.
#[derive(Debug, Default)]
struct Opened {
    uidvalidity: u32,
    uidnext: u32,
    /// 0 when the server keeps no mod-sequences for this folder (NOMODSEQ) or has none.
    highestmodseq: u64,
    exists: u32,
    /// QRESYNC: UID ranges removed since the cached mod-sequence. Never expanded.
    vanished: Vec<RangeInclusive<u32>>,
    /// QRESYNC: messages changed or added since the cached mod-sequence.
    changed: Vec<(u32, Flags)>,
    qresync: bool,
}

impl ImapSession {
    /// Syncs `folder` into `cache`; `progress(done, total)` is called after each batch.
    pub async fn sync_folder(
        &mut self,
        cache: Arc<dyn MailCache>,
        folder: &FolderRef,
        progress: impl FnMut(usize, usize),
    ) -> Result<SyncReport, SyncError> {
        self.sync_folder_within(cache, folder, None, progress).await
    }

    /// As [`ImapSession::sync_folder`], listing only messages received in the last
    /// `window_days` (by INTERNALDATE, `UID SEARCH SINCE`) when set. Messages that age out
    /// stay cached; new mail always comes in.
    pub async fn sync_folder_within(
        &mut self,
        cache: Arc<dyn MailCache>,
        folder: &FolderRef,
        window_days: Option<u32>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let previous = cache.folder_state(folder)?;
        let opened = self.examine_for_sync(folder, previous, &mut report).await?;
        report.uidvalidity_reset =
            previous.is_some_and(|s| s.uidvalidity != 0 && s.uidvalidity != opened.uidvalidity);
        let previous = previous.filter(|p| p.uidvalidity == opened.uidvalidity);
        if previous.is_none() {
            // New or reset folder: drops stale rows, and records no mod-sequence until done.
            cache.set_sync_state(folder, opened.uidvalidity, 0, 0)?;
        }

        let mut missing = match previous {
            Some(p) if p.highestmodseq != 0 && opened.highestmodseq != 0 => {
                self.changes_since(
                    cache.as_ref(),
                    folder,
                    &p,
                    &opened,
                    window_days.is_some(),
                    &mut report,
                )
                .await?
            }
            _ => None,
        };
        if missing.is_none() && window_days.is_none() && opened.exists > 0 {
            missing = self
                .fetch_first_sync(cache.clone(), folder, &opened, &mut report, &mut progress)
                .await?;
        }
        if missing.is_none() {
            let mut all = self
                .full_diff(cache.as_ref(), folder, &opened, &mut report)
                .await?;
            if let Some(days) = window_days.filter(|_| !all.is_empty()) {
                let since = imap_date_days_ago(days);
                report.round_trips += 1;
                let recent = with_timeout(
                    "finding recent messages",
                    self.inner().uid_search(format!("SINCE {since}")),
                )
                .await?
                .map_err(ImapError::from)?;
                all.retain(|uid| recent.contains(uid));
            }
            missing = Some(all);
        }
        let mut missing = missing.unwrap_or_default();
        missing.sort_unstable_by(|a, b| b.cmp(a));
        missing.dedup();
        self.fetch_headers(
            cache.clone(),
            folder,
            ToFetch::Uids(&missing),
            &mut report,
            &mut progress,
        )
        .await?;
        cache.set_sync_state(
            folder,
            opened.uidvalidity,
            opened.uidnext,
            opened.highestmodseq,
        )?;
        // Searches and fetches leave the folder open: the message the user opens next
        // needs no EXAMINE of its own.
        self.keep(crate::session::Selected {
            folder: folder.path.clone(),
            writable: false,
            uid_validity: (opened.uidvalidity != 0).then_some(opened.uidvalidity),
            uid_next: (opened.uidnext != 0).then_some(opened.uidnext),
        });
        Ok(report)
    }

    async fn examine_for_sync(
        &mut self,
        folder: &FolderRef,
        previous: Option<petrel_store::FolderState>,
        report: &mut SyncReport,
    ) -> Result<Opened, ImapError> {
        let mut command = format!("EXAMINE {}", quoted(&folder.path)?);
        let mut opened = Opened::default();
        if let Some(p) =
            previous.filter(|p| self.qresync && p.uidvalidity != 0 && p.highestmodseq != 0)
        {
            command.push_str(&format!(
                " (QRESYNC ({} {}))",
                p.uidvalidity, p.highestmodseq
            ));
            opened.qresync = true;
        } else if self.has("CONDSTORE") && !self.qresync {
            command.push_str(" (CONDSTORE)");
        }
        report.round_trips += 1;
        let mut count = 0usize;
        self.raw_command("opening the folder", &command, |reply| {
            match reply {
                Response::Data {
                    code: Some(code), ..
                } => match code {
                    ResponseCode::UidValidity(v) => opened.uidvalidity = *v,
                    ResponseCode::UidNext(n) => opened.uidnext = *n,
                    ResponseCode::HighestModSeq(m) => opened.highestmodseq = *m,
                    _ => {}
                },
                Response::MailboxData(MailboxDatum::Exists(n)) => opened.exists = *n,
                Response::Vanished { uids, .. } => {
                    count += uids.len();
                    opened.vanished.extend(uids.iter().cloned());
                }
                Response::Fetch(_, attrs) => {
                    count += 1;
                    let (mut uid, mut flags) = (None, (false, false, false));
                    for attr in attrs {
                        match attr {
                            AttributeValue::Uid(u) => uid = Some(*u),
                            AttributeValue::Flags(names) => flags = flags_named(names),
                            _ => {}
                        }
                    }
                    if let Some(uid) = uid {
                        opened.changed.push((uid, flags));
                    }
                }
                _ => {}
            }
            if count > MAX_FOLDER_MESSAGES {
                return Err(ImapError::Protocol(format!(
                    "more than {MAX_FOLDER_MESSAGES} changes in one folder"
                )));
            }
            Ok(())
        })
        .await?;
        if opened.exists as usize > MAX_FOLDER_MESSAGES {
            return Err(ImapError::Protocol(format!(
                "{} messages in one folder",
                opened.exists
            )));
        }
        Ok(opened)
    }

    /// The mod-sequence shortcut. Returns the UIDs whose headers must be fetched, or `None`
    /// when the shortcut cannot be trusted and the full diff must run.
    async fn changes_since(
        &mut self,
        cache: &dyn MailCache,
        folder: &FolderRef,
        previous: &petrel_store::FolderState,
        opened: &Opened,
        windowed: bool,
        report: &mut SyncReport,
    ) -> Result<Option<Vec<u32>>, SyncError> {
        // With a sync window the cache holds only part of the folder, so counts cannot be
        // compared with EXISTS: QRESYNC is trusted as is; CONDSTORE (which cannot name
        // removed messages) takes the full diff unless nothing changed.
        let unchanged = opened.highestmodseq == previous.highestmodseq
            && opened.uidnext == previous.uidnext
            && opened.exists == previous.total;
        if windowed && !opened.qresync && !unchanged {
            return Ok(None);
        }
        let changed: Vec<(u32, Flags)> = if opened.qresync {
            if !opened.vanished.is_empty() {
                let gone = in_ranges(&cache.uids(folder)?, &opened.vanished);
                report.removed += gone.len();
                cache.remove(folder, &gone)?;
            }
            opened.changed.clone()
        } else if opened.highestmodseq == previous.highestmodseq
            && opened.uidnext == previous.uidnext
            && opened.exists == previous.total
        {
            Vec::new()
        } else {
            report.round_trips += 1;
            let query = format!("(UID FLAGS) (CHANGEDSINCE {})", previous.highestmodseq);
            self.uid_flags(&query).await?.into_iter().collect()
        };
        let (mut missing, mut updated) = (Vec::new(), Vec::new());
        for (uid, server_flags) in changed {
            match cache.envelope(folder, uid)? {
                Some(row) => updated.extend(with_flags(&row, server_flags)),
                None => missing.push(uid),
            }
        }
        report.flags_changed += write_flags(cache, folder, &updated)?;
        if windowed {
            // Only new arrivals join the list; older messages outside the window whose
            // flags changed stay out of it.
            missing.retain(|&uid| uid >= previous.uidnext);
            return Ok(Some(missing));
        }
        // Consistency check: what the cache will hold must be exactly what the server has.
        let cached = cache.folder_state(folder)?.map(|s| s.total).unwrap_or(0);
        if cached as usize + missing.len() != opened.exists as usize {
            tracing::info!(
                folder = %folder.path,
                cached,
                new = missing.len(),
                exists = opened.exists,
                "mod-sequence shortcut does not add up, running the full diff"
            );
            return Ok(None);
        }
        Ok(Some(missing))
    }

    /// A folder the cache holds no row of: every row fetched by position, newest first, with
    /// no listing of UIDs and flags before (on 100k messages that listing is a round trip of
    /// 100k replies before the first row shows). Returns `Some(nothing more to fetch)`, or
    /// `None` when the cache does not hold exactly the folder's count after (positions moved
    /// under the sync, or the server answered short): then the full diff fetches the rest.
    async fn fetch_first_sync(
        &mut self,
        cache: Arc<dyn MailCache>,
        folder: &FolderRef,
        opened: &Opened,
        report: &mut SyncReport,
        progress: &mut impl FnMut(usize, usize),
    ) -> Result<Option<Vec<u32>>, SyncError> {
        let cached = |cache: &dyn MailCache| -> Result<u32, SyncError> {
            Ok(cache.folder_state(folder)?.map_or(0, |s| s.total))
        };
        if cached(cache.as_ref())? != 0 {
            return Ok(None);
        }
        self.fetch_headers(
            cache.clone(),
            folder,
            ToFetch::Newest(opened.exists),
            report,
            progress,
        )
        .await?;
        let now = cached(cache.as_ref())?;
        if now != opened.exists {
            tracing::info!(
                folder = %folder.path,
                cached = now,
                exists = opened.exists,
                "rows fetched by position do not add up, running the full diff"
            );
            return Ok(None);
        }
        Ok(Some(Vec::new()))
    }

    /// The RFC 3501 way: every UID and its flags, compared with the cache.
    async fn full_diff(
        &mut self,
        cache: &dyn MailCache,
        folder: &FolderRef,
        opened: &Opened,
        report: &mut SyncReport,
    ) -> Result<Vec<u32>, SyncError> {
        let server: HashMap<u32, Flags> = if opened.exists == 0 {
            HashMap::new()
        } else {
            report.round_trips += 1;
            self.uid_flags("(UID FLAGS)").await?
        };

        let cached = cache.uids(folder)?;
        let gone: Vec<u32> = cached
            .iter()
            .copied()
            .filter(|u| !server.contains_key(u))
            .collect();
        report.removed += gone.len();
        cache.remove(folder, &gone)?;

        let cached_set: std::collections::HashSet<u32> = cached.into_iter().collect();
        report.flags_changed += update_flags(cache, folder, &server)?;
        Ok(server
            .keys()
            .copied()
            .filter(|u| !cached_set.contains(u))
            .collect())
    }

    /// `UID FETCH 1:* <query>` → UID → (seen, flagged). Each reply is reduced to its three
    /// values as it arrives: async-imap keeps a ≥4 kB buffer per reply, so collecting 100k
    /// replies first would cost hundreds of MB.
    async fn uid_flags(&mut self, query: &str) -> Result<HashMap<u32, Flags>, SyncError> {
        let mut server = HashMap::new();
        with_timeout("listing the folder's messages", async {
            let mut stream = self.inner().uid_fetch("1:*", query).await?;
            while let Some(fetch) = stream.try_next().await? {
                if let Some(uid) = fetch.uid {
                    server.insert(uid, flags(&fetch));
                }
                if server.len() > MAX_FOLDER_MESSAGES {
                    return Err(ImapError::Protocol(format!(
                        "more than {MAX_FOLDER_MESSAGES} messages in one folder"
                    )));
                }
            }
            Ok(())
        })
        .await??;
        Ok(server)
    }

    /// List fields of `missing` (newest first), written to the cache batch by batch.
    async fn fetch_headers(
        &mut self,
        cache: Arc<dyn MailCache>,
        folder: &FolderRef,
        missing: ToFetch<'_>,
        report: &mut SyncReport,
        progress: &mut impl FnMut(usize, usize),
    ) -> Result<(), SyncError> {
        let batches = missing.batches();
        if batches.is_empty() {
            return Ok(());
        }
        // Header parsing and cache writes run on a blocking thread while the next batch is
        // fetched: on two cores this overlaps them with the network and the IMAP parser. The
        // channel holds at most two batches, so memory stays bounded however large the
        // folder. Progress counts rows the writer has committed, so a page read on a progress
        // event finds them in the cache.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Fetched>>(2);
        let committed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let writer = {
            let folder = folder.clone();
            let committed = committed.clone();
            tokio::task::spawn_blocking(move || -> Result<(), petrel_store::StoreError> {
                while let Some(fetched) = rx.blocking_recv() {
                    let rows: Vec<_> = fetched.iter().map(Fetched::envelope).collect();
                    cache.insert_new(&folder, &rows)?;
                    committed.fetch_add(rows.len(), std::sync::atomic::Ordering::SeqCst);
                }
                Ok(())
            })
        };
        let total = missing.len();
        let mut report_progress = |_: usize, _: usize| {
            progress(committed.load(std::sync::atomic::Ordering::SeqCst), total)
        };
        let fetched = self
            .fetch_missing(batches, total, &tx, report, &mut report_progress)
            .await;
        drop(tx);
        let written = writer
            .await
            .map_err(|e| ImapError::Protocol(format!("cache writer stopped: {e}")))?;
        fetched?;
        written?;
        progress(committed.load(std::sync::atomic::Ordering::SeqCst), total);
        Ok(())
    }

    /// Fetches `batches` (of `total` rows), `IN_FLIGHT` on the wire at once, handing each
    /// to the writer as its tagged answer arrives. A UID already handed over is left out
    /// (positions can repeat a message if the folder changes under the sync).
    async fn fetch_missing(
        &mut self,
        batches: Vec<RowsWanted<'_>>,
        total: usize,
        tx: &tokio::sync::mpsc::Sender<Vec<Fetched>>,
        report: &mut SyncReport,
        progress: &mut impl FnMut(usize, usize),
    ) -> Result<(), SyncError> {
        let mut batches = batches.into_iter();
        let mut flying = std::collections::VecDeque::with_capacity(IN_FLIGHT);
        let mut handed = std::collections::HashSet::with_capacity(total);
        let mut writing = true;
        loop {
            while writing && flying.len() < IN_FLIGHT {
                let Some(batch) = batches.next() else { break };
                report.round_trips += 1;
                flying.push_back(self.send_row_batch(batch).await?);
            }
            // A batch the server refused still lets the ones behind it finish, so the
            // session is left with nothing in flight.
            let batch = match self.next_row_batch(&mut flying).await {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(e @ ImapError::Refused(_)) => {
                    while !flying.is_empty() {
                        let _ = self.next_row_batch(&mut flying).await?;
                    }
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            };
            if !writing {
                continue;
            }
            let mut rows = batch.rows;
            rows.retain(|row| handed.insert(row.uid));
            report.added += rows.len();
            if tx.send(rows).await.is_err() {
                // The writer failed (its error is reported by the caller): read what is in
                // flight, send nothing more.
                writing = false;
                continue;
            }
            progress(report.added, total);
        }
        Ok(())
    }
}

/// What a header sync fetches.
#[derive(Debug, Clone, Copy)]
enum ToFetch<'a> {
    /// These UIDs, newest first.
    Uids(&'a [u32]),
    /// The folder's `n` messages by position, newest first.
    Newest(u32),
}

impl<'a> ToFetch<'a> {
    fn len(&self) -> usize {
        match self {
            ToFetch::Uids(uids) => uids.len(),
            ToFetch::Newest(n) => *n as usize,
        }
    }

    fn batches(&self) -> Vec<RowsWanted<'a>> {
        match *self {
            ToFetch::Uids(uids) => uids.chunks(HEADER_BATCH).map(RowsWanted::Uids).collect(),
            ToFetch::Newest(n) => {
                let step = HEADER_BATCH as u32;
                let mut out = Vec::with_capacity(n.div_ceil(step) as usize);
                let mut high = n;
                while high >= 1 {
                    let low = high.saturating_sub(step - 1).max(1);
                    out.push(RowsWanted::Positions(low..=high));
                    high = low - 1;
                }
                out
            }
        }
    }
}

/// (seen, flagged, answered): the flags a list row shows.
pub(crate) type Flags = (bool, bool, bool);

/// The flags a row shows among a FETCH's FLAGS (names compared without case).
pub(crate) fn flags_named(names: &[std::borrow::Cow<'_, str>]) -> Flags {
    let has = |name: &str| names.iter().any(|f| f.eq_ignore_ascii_case(name));
    (has("\\Seen"), has("\\Flagged"), has("\\Answered"))
}

pub(crate) fn flags(fetch: &async_imap::types::Fetch) -> Flags {
    let (mut seen, mut flagged, mut answered) = (false, false, false);
    for flag in fetch.flags() {
        match flag {
            Flag::Seen => seen = true,
            Flag::Flagged => flagged = true,
            Flag::Answered => answered = true,
            _ => {}
        }
    }
    (seen, flagged, answered)
}

/// The cached row with the server's flags, if they differ.
fn with_flags(
    row: &petrel_core::Envelope,
    (seen, flagged, answered): Flags,
) -> Option<petrel_core::Envelope> {
    ((row.seen, row.flagged, row.answered) != (seen, flagged, answered)).then(|| {
        let mut updated = row.clone();
        updated.seen = seen;
        updated.flagged = flagged;
        updated.answered = answered;
        updated
    })
}

/// Writes changed rows in one cache write (it keeps the unread count): a flag change
/// rewrites the row's whole block, so one write per row would rewrite a block per row.
fn write_flags(
    cache: &dyn MailCache,
    folder: &FolderRef,
    updated: &[petrel_core::Envelope],
) -> Result<usize, SyncError> {
    if !updated.is_empty() {
        cache.upsert(folder, updated)?;
    }
    Ok(updated.len())
}

fn update_flags(
    cache: &dyn MailCache,
    folder: &FolderRef,
    server: &HashMap<u32, Flags>,
) -> Result<usize, SyncError> {
    let mut changed = 0;
    let total = cache.folder_state(folder)?.map(|s| s.total).unwrap_or(0);
    let mut offset = 0;
    while offset < total {
        let page = cache.page(folder, offset, 2_000)?;
        if page.rows.is_empty() {
            break;
        }
        offset += page.rows.len() as u32;
        let updated: Vec<petrel_core::Envelope> = page
            .rows
            .iter()
            .filter_map(|row| with_flags(row, *server.get(&row.uid)?))
            .collect();
        changed += write_flags(cache, folder, &updated)?;
    }
    Ok(changed)
}

/// The IMAP date (RFC 3501 `date`, e.g. `3-Nov-2026`) `days` before now, UTC.
fn imap_date_days_ago(days: u32) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    imap_date(now / 86_400 - i64::from(days))
}

/// Days since 1970-01-01 → `d-Mon-yyyy` (RFC 3501's date).
fn imap_date(days: i64) -> String {
    let (year, month, day) = petrel_core::calendar::civil_from_days(days);
    format!("{day}-{}-{year}", petrel_core::calendar::MONTHS[month - 1])
}

/// The members of `uids` inside any of `ranges`, without expanding the ranges (a hostile
/// `VANISHED 1:4294967295` is two numbers, not four billion).
pub(crate) fn in_ranges(uids: &[u32], ranges: &[RangeInclusive<u32>]) -> Vec<u32> {
    let mut merged: Vec<(u32, u32)> = ranges
        .iter()
        .map(|r| (*r.start().min(r.end()), *r.start().max(r.end())))
        .collect();
    merged.sort_unstable();
    let mut joined: Vec<(u32, u32)> = Vec::with_capacity(merged.len());
    for (start, end) in merged {
        match joined.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => joined.push((start, end)),
        }
    }
    uids.iter()
        .copied()
        .filter(|&uid| {
            let i = joined.partition_point(|&(start, _)| start <= uid);
            i > 0 && uid <= joined[i - 1].1
        })
        .collect()
}

/// Compact IMAP sequence set for ascending or descending UIDs: "7:9,12,20:25".
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{imap_date, in_ranges, uid_set};

    #[test]
    fn imap_dates_are_rfc3501_dates() {
        assert_eq!(imap_date(0), "1-Jan-1970");
        assert_eq!(imap_date(20_415), "23-Nov-2025");
        assert_eq!(imap_date(11_016), "29-Feb-2000");
    }

    #[test]
    fn vanished_ranges_are_matched_without_expanding_them() {
        let cached = [1, 2, 5, 9, 10, 4_000_000_000];
        assert_eq!(in_ranges(&cached, &[9..=9, 1..=2]), vec![1, 2, 9]);
        assert_eq!(in_ranges(&cached, &[1..=u32::MAX]), cached.to_vec());
        // Reversed and overlapping ranges as a careless server might send them.
        assert_eq!(
            in_ranges(&cached, &[std::ops::RangeInclusive::new(10, 3), 4..=6]),
            vec![5, 9, 10]
        );
        assert!(in_ranges(&cached, &[]).is_empty());
    }

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[9, 8, 7, 12, 20, 21, 22]), "7:9,12,20:22");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[3, 3, 4]), "3:4");
        assert_eq!(uid_set(&[]), "");
    }
}
