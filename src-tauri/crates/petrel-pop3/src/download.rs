//! Downloading a POP3 mailbox without ever losing or duplicating a message:
//! batch RETR → durable Maildir write → ledger → only then DELE what the policy allows →
//! QUIT. On any local error the connection is dropped without QUIT, so the server deletes
//! nothing (RFC 1939 §6), and what was stored is recognised by its UIDL next time.

use crate::ledger::{fingerprint, stamp_line, Entry, Ledger};
use crate::{Listed, Pop3Error, Pop3Session, MAX_MESSAGE_BYTES};
use petrel_maildir::{Maildir, MaildirError};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// How long mail stays on the server after it is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Deleted from the server once it is safely here (the classic POP3 way).
    DeleteAfterDownload,
    /// Left for this many days (other devices can still fetch it, a backup stays).
    Days(u32),
    /// Left until it is deleted here.
    UntilDeletedHere,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub keep: Keep,
    /// With `Days`: also delete from the server what is deleted here before then.
    pub delete_when_deleted_here: bool,
    /// Only headers (TOP n 0); "Download the rest" fetches the whole message.
    pub headers_only: bool,
    /// Messages larger than this many KiB come as headers and the first 20 lines.
    pub large_over_kib: Option<u32>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            keep: Keep::DeleteAfterDownload,
            delete_when_deleted_here: true,
            headers_only: false,
            large_over_kib: None,
        }
    }
}

/// One account's download: where its mail and ledger live.
#[derive(Debug, Clone)]
pub struct Job {
    pub account: String,
    /// The account's local folders (each a Maildir); downloads go to `inbox`.
    pub account_root: PathBuf,
    pub inbox: Maildir,
    pub ledger_path: PathBuf,
    pub policy: Policy,
    /// Free space kept besides a batch (a batch that would leave less is refused).
    pub reserve_bytes: u64,
}

/// Free space kept by default besides a batch.
pub const RESERVE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub downloaded: u32,
    pub partial: u32,
    pub deleted_on_server: u32,
    /// Messages recognised under a new UIDL (server migration) instead of downloaded.
    pub remapped: u32,
    pub batches: u32,
    pub left_on_server: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(transparent)]
    Pop3(#[from] Pop3Error),
    #[error(transparent)]
    Maildir(#[from] MaildirError),
    #[error("saving the download record {path}: {source}")]
    Ledger {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("this server cannot tell messages apart (no UIDL), so Petrel cannot leave mail on it without downloading everything again each time; choose \"delete from the server after download\"")]
    NoUidl,
}

/// Messages per batch, and bytes: one durable write covers each batch.
const BATCH_MESSAGES: usize = 500;
const BATCH_BYTES: u64 = 32 * 1024 * 1024;
/// Local work longer than this is followed by a NOOP so the server does not drop us.
const KEEP_ALIVE_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs one download over a logged-in session. `now` is Unix seconds (tests pass time).
pub async fn download(
    mut session: Pop3Session,
    job: &Job,
    now: i64,
) -> Result<Report, DownloadError> {
    match run(&mut session, job, now).await {
        Ok((report, deleted)) => {
            session.quit().await?;
            // The server removed them at QUIT: their UIDLs will not come back. (If this
            // step is lost, the stale entries only name messages no longer listed.)
            if !deleted.is_empty() {
                if let Some(mut ledger) = Ledger::load(&job.ledger_path) {
                    for uidl in &deleted {
                        ledger.entries.remove(uidl);
                    }
                    save(&ledger, job)?;
                }
            }
            Ok(report)
        }
        Err(e) => {
            // Without QUIT the server deletes nothing marked in this session.
            session.abandon();
            Err(e)
        }
    }
}

async fn run(
    session: &mut Pop3Session,
    job: &Job,
    now: i64,
) -> Result<(Report, Vec<String>), DownloadError> {
    let mut report = Report::default();
    let listing = match session.listing().await {
        Ok(l) => l,
        Err(Pop3Error::Refused(_)) if job.policy.keep == Keep::DeleteAfterDownload => {
            return without_uidl(session, job, now).await.map(|r| (r, vec![]));
        }
        Err(Pop3Error::Refused(_)) => return Err(DownloadError::NoUidl),
        Err(e) => return Err(e.into()),
    };

    // The ledger, rebuilt from the Maildir when missing or left mid-batch.
    let mut ledger = match Ledger::load(&job.ledger_path) {
        Some(l) if !l.in_flight => l,
        found => {
            let mut l = found.unwrap_or_default();
            l.merge_from_maildirs(&job.account, &job.account_root);
            l.in_flight = false;
            save(&l, job)?;
            l
        }
    };

    report.remapped = remap_after_migration(session, &mut ledger, &listing, job).await?;

    // New messages, oldest first, in batches.
    let new: Vec<&Listed> = listing
        .iter()
        .filter(|m| !ledger.entries.contains_key(&m.uidl))
        .collect();
    if !new.is_empty() {
        // Durably "mid-download" before the first file lands and until the last is
        // recorded: a run stopped anywhere in between is followed by a Maildir scan, so
        // no stored message is fetched twice. One save at each end, not two per batch: the
        // ledger grows with the mailbox, and rewriting it per batch made a large first
        // download quadratic.
        ledger.in_flight = true;
        save(&ledger, job)?;
    }
    // Each batch's files are written on a blocking thread while the next batch is read
    // from the server: the disk's time and the network's overlap. At most one batch is
    // being written while one is read, so memory stays within two batches.
    let mut writing: Option<Writing> = None;
    let fetched = fetch_batches(
        session,
        job,
        now,
        &new,
        &mut writing,
        &mut ledger,
        &mut report,
    )
    .await;
    // Whatever happened, the last batch's write is waited for: its error (a full disk)
    // says more than a cut that came after it, and nothing is left writing after return.
    if let Some(last) = writing.take() {
        last.finish().await?;
    }
    fetched?;
    if !new.is_empty() {
        ledger.in_flight = false;
        save(&ledger, job)?;
    }

    // Only now, with everything stored, what the policy lets go from the server.
    let mut deleted = Vec::new();
    for m in &listing {
        let Some(entry) = ledger.entries.get(&m.uidl) else {
            continue;
        };
        if should_delete(entry, &job.policy, now) {
            session.dele(m.number).await?;
            deleted.push(m.uidl.clone());
        }
    }
    report.deleted_on_server = deleted.len() as u32;
    report.left_on_server = (listing.len() - deleted.len()) as u32;
    Ok((report, deleted))
}

/// Reads `new` batch by batch and hands each batch's files to a writer (see `run`); the
/// entries go into `ledger` in memory, saved by the caller once all is written.
async fn fetch_batches(
    session: &mut Pop3Session,
    job: &Job,
    now: i64,
    new: &[&Listed],
    writing: &mut Option<Writing>,
    ledger: &mut Ledger,
    report: &mut Report,
) -> Result<(), DownloadError> {
    for batch in batches(new) {
        let bytes: u64 = batch.iter().map(|m| m.size).sum();
        // Room for this batch besides the one still being written.
        let pending = writing.as_ref().map_or(0, |w| w.bytes);
        job.inbox
            .check_space(bytes.saturating_add(pending), job.reserve_bytes)?;
        let started = Instant::now();
        let by_number: HashMap<u32, &Listed> = batch.iter().map(|m| (m.number, *m)).collect();
        let (full, partial): (Vec<&Listed>, Vec<&Listed>) =
            batch.iter().partition(|m| !is_partial(m, &job.policy));
        let mut files = Received::new(job);
        let mut entries = Vec::with_capacity(batch.len());
        let numbers: Vec<u32> = full.iter().map(|m| m.number).collect();
        let fetched = session
            .retr_each(&numbers, MAX_MESSAGE_BYTES, |n, raw| {
                if let Some(m) = by_number.get(&n) {
                    let (file, entry) = stamped(job, m, &raw, now, false);
                    files.push(file)?;
                    entries.push((m.uidl.clone(), entry));
                }
                Ok(())
            })
            .await;
        files.failed()?;
        fetched?;
        for m in &partial {
            let lines = if job.policy.headers_only { 0 } else { 20 };
            let raw = session.top(m.number, lines).await?;
            let (file, entry) = stamped(job, m, &raw, now, true);
            files.push(file)?;
            files.failed()?;
            entries.push((m.uidl.clone(), entry));
        }
        if let Some(previous) = writing.take() {
            previous.finish().await?;
        }
        *writing = Some(Writing::start(job, files.take()));
        for (uidl, entry) in entries {
            report.partial += u32::from(entry.partial);
            report.downloaded += u32::from(!entry.partial);
            ledger.entries.insert(uidl, entry);
        }
        report.batches += 1;
        if started.elapsed() > KEEP_ALIVE_AFTER {
            session.noop().await?;
        }
    }
    Ok(())
}

/// One batch's files being written to the inbox on a blocking thread.
struct Writing {
    bytes: u64,
    task: tokio::task::JoinHandle<Result<(), MaildirError>>,
}

impl Writing {
    fn start(job: &Job, files: Vec<Vec<u8>>) -> Writing {
        let inbox = job.inbox.clone();
        Writing {
            bytes: files.iter().map(|f| f.len() as u64).sum(),
            task: tokio::task::spawn_blocking(move || {
                if files.is_empty() {
                    return Ok(());
                }
                inbox.deliver_batch(&files).map(|_| ())
            }),
        }
    }

    async fn finish(self) -> Result<(), DownloadError> {
        match self.task.await {
            Ok(written) => Ok(written?),
            Err(e) => Err(DownloadError::Pop3(Pop3Error::Protocol(format!(
                "the mail writer stopped: {e}"
            )))),
        }
    }
}

fn should_delete(entry: &Entry, policy: &Policy, now: i64) -> bool {
    if entry.deleted_here {
        return policy.keep == Keep::UntilDeletedHere
            || policy.delete_when_deleted_here
            || policy.keep == Keep::DeleteAfterDownload;
    }
    if entry.partial {
        // The rest of it exists only on the server.
        return false;
    }
    match policy.keep {
        Keep::DeleteAfterDownload => true,
        Keep::Days(days) => now.saturating_sub(entry.fetched_at) >= i64::from(days) * 86_400,
        Keep::UntilDeletedHere => false,
    }
}

fn is_partial(m: &Listed, policy: &Policy) -> bool {
    policy.headers_only
        || policy
            .large_over_kib
            .is_some_and(|kib| m.size > u64::from(kib) * 1024)
}

fn stamped(job: &Job, m: &Listed, raw: &[u8], now: i64, partial: bool) -> (Vec<u8>, Entry) {
    let mut file = stamp_line(&job.account, &m.uidl, now, m.size, partial).into_bytes();
    file.extend_from_slice(raw);
    let entry = Entry {
        fetched_at: now,
        fingerprint: fingerprint(raw, m.size),
        partial,
        deleted_here: false,
    };
    (file, entry)
}

/// Batches of at most BATCH_MESSAGES messages and BATCH_BYTES bytes (a larger message
/// makes a batch of its own).
fn batches<'a>(new: &[&'a Listed]) -> Vec<Vec<&'a Listed>> {
    let mut out: Vec<Vec<&Listed>> = Vec::new();
    let mut bytes = 0u64;
    for &m in new {
        let full = out
            .last()
            .is_none_or(|b| b.len() >= BATCH_MESSAGES || bytes + m.size > BATCH_BYTES);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += m.size;
        if let Some(last) = out.last_mut() {
            last.push(m);
        }
    }
    out
}

/// When most UIDLs on the server are unknown and most known ones are gone, the server
/// changed its UIDLs (a migration, a new UIDL format): the unknown messages' headers are
/// matched by fingerprint to what is here, and the ledger re-keyed instead of downloading
/// everything again.
async fn remap_after_migration(
    session: &mut Pop3Session,
    ledger: &mut Ledger,
    listing: &[Listed],
    job: &Job,
) -> Result<u32, DownloadError> {
    let on_server: HashSet<&str> = listing.iter().map(|m| m.uidl.as_str()).collect();
    let known = listing
        .iter()
        .filter(|m| ledger.entries.contains_key(&m.uidl))
        .count();
    let gone: Vec<String> = ledger
        .entries
        .keys()
        .filter(|u| !on_server.contains(u.as_str()))
        .cloned()
        .collect();
    if ledger.entries.is_empty()
        || known * 2 >= listing.len()
        || gone.len() * 2 < ledger.entries.len()
    {
        return Ok(0);
    }
    let mut by_fingerprint: HashMap<String, String> = HashMap::new();
    for uidl in &gone {
        if let Some(e) = ledger.entries.get(uidl) {
            by_fingerprint.insert(e.fingerprint.clone(), uidl.clone());
        }
    }
    let mut remapped = 0;
    let unknown: Vec<&Listed> = listing
        .iter()
        .filter(|m| !ledger.entries.contains_key(&m.uidl))
        .collect();
    for m in unknown {
        let head = session.top(m.number, 0).await?;
        let Some(old) = by_fingerprint.remove(&fingerprint(&head, m.size)) else {
            continue;
        };
        if let Some(entry) = ledger.entries.remove(&old) {
            ledger.entries.insert(m.uidl.clone(), entry);
            remapped += 1;
        }
    }
    tracing::info!(account = %job.account, remapped, "UIDLs changed on the server: re-mapped by fingerprint");
    save(ledger, job)?;
    Ok(remapped)
}

/// No UIDL: everything is downloaded and deleted in the same session (only allowed with
/// "delete after download"; a failed QUIT then means the next run fetches them again).
async fn without_uidl(
    session: &mut Pop3Session,
    job: &Job,
    now: i64,
) -> Result<Report, DownloadError> {
    let sizes = session.list_all().await?;
    let mut report = Report::default();
    for chunk in sizes.chunks(BATCH_MESSAGES) {
        let bytes: u64 = chunk.iter().map(|(_, s)| s).sum();
        job.inbox.check_space(bytes, job.reserve_bytes)?;
        let mut files = Received::new(job);
        let numbers: Vec<u32> = chunk.iter().map(|(n, _)| *n).collect();
        let fetched = session
            .retr_each(&numbers, MAX_MESSAGE_BYTES, |n, raw| {
                let m = Listed {
                    number: n,
                    uidl: format!("no-uidl-{now}-{n}"),
                    size: raw.len() as u64,
                };
                files.push(stamped(job, &m, &raw, now, false).0)
            })
            .await;
        files.failed()?;
        fetched?;
        report.downloaded += files.store()? as u32;
        report.batches += 1;
        for n in numbers {
            session.dele(n).await?;
            report.deleted_on_server += 1;
        }
    }
    Ok(report)
}

/// The messages of a batch as they arrive, written out (durably) whenever what was
/// *received* passes `BATCH_BYTES`: a server that claims 1 byte in LIST and sends 60 MB per
/// RETR cannot make Petrel hold a whole batch in memory (review M7). Nothing is DELEd
/// before every message of the run is stored, so an early write is only an early write.
struct Received<'a> {
    job: &'a Job,
    files: Vec<Vec<u8>>,
    bytes: u64,
    stored: usize,
    /// A local write that failed inside the RETR loop (reported after it).
    error: Option<DownloadError>,
}

impl<'a> Received<'a> {
    fn new(job: &'a Job) -> Self {
        Received {
            job,
            files: Vec::new(),
            bytes: 0,
            stored: 0,
            error: None,
        }
    }

    fn push(&mut self, file: Vec<u8>) -> Result<(), Pop3Error> {
        self.bytes += file.len() as u64;
        self.files.push(file);
        if self.bytes > BATCH_BYTES {
            if let Err(e) = self.write_out() {
                self.error = Some(e);
                // Stops the RETR loop; the caller reports `error` instead.
                return Err(Pop3Error::Protocol(
                    "stopped: writing mail here failed".into(),
                ));
            }
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<(), DownloadError> {
        if self.files.is_empty() {
            return Ok(());
        }
        self.job
            .inbox
            .check_space(self.bytes, self.job.reserve_bytes)?;
        self.job.inbox.deliver_batch(&self.files)?;
        self.stored += self.files.len();
        self.files.clear();
        self.bytes = 0;
        Ok(())
    }

    /// The local error that stopped the RETR loop, if one did.
    fn failed(&mut self) -> Result<(), DownloadError> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes what is left; returns how many messages were stored in all.
    fn store(mut self) -> Result<usize, DownloadError> {
        self.write_out()?;
        Ok(self.stored)
    }

    /// What is held and not yet written (the caller writes it).
    fn take(&mut self) -> Vec<Vec<u8>> {
        self.bytes = 0;
        std::mem::take(&mut self.files)
    }

    /// Bytes held in memory now (for tests of the bound).
    #[cfg(test)]
    fn held(&self) -> u64 {
        self.bytes
    }
}

fn save(ledger: &Ledger, job: &Job) -> Result<(), DownloadError> {
    ledger
        .save(&job.ledger_path)
        .map_err(|source| DownloadError::Ledger {
            path: job.ledger_path.clone(),
            source,
        })
}

/// "Download the rest": replaces a headers-only message (at `path`, in any of the
/// account's folders) with the whole message from the server.
pub async fn fetch_rest(
    mut session: Pop3Session,
    job: &Job,
    path: &std::path::Path,
) -> Result<(), DownloadError> {
    let result = async {
        let stamp = crate::ledger::read_stamp(path)
            .ok_or_else(|| Pop3Error::Protocol("the message has no download record".to_string()))?;
        let number = session
            .uidl_all()
            .await?
            .into_iter()
            .find(|(_, u)| *u == stamp.uidl)
            .map(|(n, _)| n)
            .ok_or_else(|| {
                Pop3Error::Refused("the message is no longer on the server".to_string())
            })?;
        let raw = session.retr(number, MAX_MESSAGE_BYTES).await?;
        let mut file = stamp_line(
            &job.account,
            &stamp.uidl,
            stamp.fetched_at,
            stamp.size,
            false,
        )
        .into_bytes();
        file.extend_from_slice(&raw);
        job.inbox.replace(path, &file)?;
        let mut ledger = Ledger::load(&job.ledger_path).unwrap_or_default();
        if let Some(e) = ledger.entries.get_mut(&stamp.uidl) {
            e.partial = false;
        }
        save(&ledger, job)
    }
    .await;
    match result {
        Ok(()) => {
            session.quit().await?;
            Ok(())
        }
        Err(e) => {
            session.abandon();
            Err(e)
        }
    }
}

/// Records that the message with `uidl` was deleted here (the policy decides when the
/// server copy goes).
pub fn mark_deleted_here(job: &Job, uidl: &str) -> Result<(), DownloadError> {
    let mut ledger = Ledger::load(&job.ledger_path).unwrap_or_else(|| {
        let mut l = Ledger::default();
        l.merge_from_maildirs(&job.account, &job.account_root);
        l
    });
    if let Some(e) = ledger.entries.get_mut(uidl) {
        e.deleted_here = true;
    }
    save(&ledger, job)
}

#[cfg(test)]
mod tests {
    #[test]
    fn received_mail_is_written_out_before_it_passes_the_batch_budget() {
        let dir = tempfile::tempdir().unwrap();
        let job = Job {
            account: "a".into(),
            inbox: Maildir::open(&dir.path().join("INBOX")).unwrap(),
            ledger_path: dir.path().join("ledger.json"),
            account_root: dir.path().to_path_buf(),
            policy: Policy::default(),
            reserve_bytes: 0,
        };
        let mut received = Received::new(&job);
        let one_mib = vec![b'x'; 1024 * 1024];
        for _ in 0..100 {
            received.push(one_mib.clone()).unwrap();
            assert!(received.held() <= BATCH_BYTES, "held {}", received.held());
        }
        assert!(received.failed().is_ok());
        let written_early = job.inbox.messages().unwrap().len();
        assert!(written_early >= 64, "written early: {written_early}");
        assert_eq!(written_early + received.take().len(), 100);
        assert_eq!(received.held(), 0);
    }

    use super::*;

    fn entry(fetched_at: i64, partial: bool, deleted_here: bool) -> Entry {
        Entry {
            fetched_at,
            fingerprint: String::new(),
            partial,
            deleted_here,
        }
    }

    #[test]
    fn the_policy_decides_what_leaves_the_server() {
        let day = 86_400;
        let now = 100 * day;
        let policy = |keep, dwdh| Policy {
            keep,
            delete_when_deleted_here: dwdh,
            ..Policy::default()
        };
        let after = policy(Keep::DeleteAfterDownload, false);
        assert!(should_delete(&entry(now, false, false), &after, now));
        assert!(
            !should_delete(&entry(now, true, false), &after, now),
            "headers only: keep"
        );
        let days = policy(Keep::Days(14), false);
        assert!(!should_delete(
            &entry(now - 13 * day, false, false),
            &days,
            now
        ));
        assert!(should_delete(
            &entry(now - 14 * day, false, false),
            &days,
            now
        ));
        assert!(!should_delete(&entry(now, false, true), &days, now));
        assert!(should_delete(
            &entry(now, false, true),
            &policy(Keep::Days(14), true),
            now
        ));
        let until = policy(Keep::UntilDeletedHere, false);
        assert!(!should_delete(&entry(0, false, false), &until, now));
        assert!(should_delete(&entry(now, false, true), &until, now));
    }

    #[test]
    fn batches_respect_counts_and_bytes() {
        let msgs: Vec<Listed> = (1..=1200)
            .map(|n| Listed {
                number: n,
                uidl: n.to_string(),
                size: if n == 7 { 40 * 1024 * 1024 } else { 1000 },
            })
            .collect();
        let refs: Vec<&Listed> = msgs.iter().collect();
        let b = batches(&refs);
        let sizes: Vec<usize> = b.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![6, 1, 500, 500, 193]);
    }
}
