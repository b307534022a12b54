//! Scripted TLS servers sending what a real server should not: the client must end with a
//! clear error, never panic, hang, or allocate what a reply merely claims.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{AccountId, Security, ServerSettings};
use petrel_imap::{ImapError, ImapSession, SyncError, TrustPolicy};
use petrel_store::{FolderRef, MailCache, MemoryCache};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A TLS acceptor for the harness's test certificate, and the trust that accepts it.
fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, TrustPolicy) {
    let certs = petrel_harness::test_certificates().unwrap();
    let chain = rustls_pemfile::certs(&mut certs.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut certs.key_pem.as_bytes())
        .unwrap()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    (
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        TrustPolicy::with_pem_roots(certs.ca_pem.as_bytes()).unwrap(),
    )
}

/// Serves one TLS connection. `reply(command_line)` returns the bytes to send back (with
/// `TAG` replaced by the command's tag); `None` closes the connection.
async fn scripted_tls_server(reply: fn(&str) -> Option<String>) -> (u16, TrustPolicy) {
    let (acceptor, trust) = tls_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let Ok(tls) = acceptor.accept(tcp).await else {
            return;
        };
        let (r, mut w) = tokio::io::split(tls);
        let mut r = BufReader::new(r);
        let _ = w.write_all(b"* OK scripted\r\n").await;
        let mut line = String::new();
        while r.read_line(&mut line).await.unwrap_or(0) > 0 {
            let tag = line.split_whitespace().next().unwrap_or("").to_string();
            match reply(line.trim_end()) {
                Some(text) => {
                    if w.write_all(text.replace("TAG", &tag).as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                None => return,
            }
            line.clear();
        }
    });
    (port, trust)
}

fn login_ok(cmd: &str) -> Option<String> {
    if cmd.contains("LOGIN") {
        Some("TAG OK logged in\r\n".to_string())
    } else if cmd.contains("CAPABILITY") {
        Some("* CAPABILITY IMAP4rev1 IDLE\r\nTAG OK done\r\n".to_string())
    } else {
        None
    }
}

/// A QRESYNC server (RFC 7162): capabilities and ENABLE.
fn qresync_login_ok(cmd: &str) -> Option<String> {
    if cmd.contains("CAPABILITY") {
        Some("* CAPABILITY IMAP4rev1 ENABLE CONDSTORE QRESYNC\r\nTAG OK done\r\n".to_string())
    } else if cmd.contains("ENABLE") {
        Some("* ENABLED QRESYNC\r\nTAG OK enabled\r\n".to_string())
    } else {
        login_ok(cmd)
    }
}

async fn sync_against(
    reply: fn(&str) -> Option<String>,
) -> Result<petrel_imap::SyncReport, SyncError> {
    sync_with_cache(reply, Arc::new(MemoryCache::new())).await
}

/// A session logged in to the scripted server on `port`.
async fn log_in(port: u16, trust: &TrustPolicy) -> ImapSession {
    let server = ServerSettings {
        host: "localhost".into(),
        port,
        security: Security::Tls,
        username: "u".into(),
        pinned_cert_sha256: None,
    };
    ImapSession::login(&server, "pw", trust)
        .await
        .expect("login")
}

async fn sync_with_cache(
    reply: fn(&str) -> Option<String>,
    cache: Arc<dyn MailCache>,
) -> Result<petrel_imap::SyncReport, SyncError> {
    let (port, trust) = scripted_tls_server(reply).await;
    let mut session = log_in(port, &trust).await;
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    tokio::time::timeout(
        Duration::from_secs(20),
        session.sync_folder(cache, &folder, |_, _| {}),
    )
    .await
    .expect("the client must not hang on a hostile reply")
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[tokio::test]
async fn bye_in_the_middle_of_a_command_is_a_connection_error() {
    let result = sync_against(|cmd| {
        login_ok(cmd).or_else(|| {
            cmd.contains("EXAMINE")
                .then(|| "* BYE shutting down\r\n".to_string())
        })
    })
    .await;
    assert!(
        matches!(
            result,
            Err(SyncError::Imap(
                ImapError::ConnectionLost(_) | ImapError::Protocol(_) | ImapError::Refused(_)
            ))
        ),
        "got {result:?}"
    );
}

#[tokio::test]
async fn an_absurd_exists_count_costs_nothing() {
    let before = rss_kb();
    let result = sync_against(|cmd| {
        login_ok(cmd)
            .or_else(|| {
                cmd.contains("EXAMINE")
                    .then(|| "* 4294967295 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 4294967295] x\r\nTAG OK [READ-ONLY] done\r\n".to_string())
            })
            .or_else(|| cmd.contains("UID FETCH").then(|| "TAG OK nothing\r\n".to_string()))
    })
    .await;
    // More messages than any real folder holds: refused as hostile, before anything is
    // allocated or asked for.
    match result {
        Err(SyncError::Imap(ImapError::Protocol(text))) => {
            assert!(text.contains("4294967295 messages"), "{text}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert!(
        rss_kb().saturating_sub(before) < 50_000,
        "EXISTS must not be expanded into memory"
    );
}

#[tokio::test]
async fn malformed_fetch_is_an_error_not_a_panic() {
    let result = sync_against(|cmd| {
        login_ok(cmd)
            .or_else(|| {
                cmd.contains("EXAMINE")
                    .then(|| "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\nTAG OK done\r\n".to_string())
            })
            .or_else(|| {
                cmd.contains("UID FETCH").then(|| {
                    "* 1 FETCH (UID abc FLAGS (\\Seen\r\n* 2 FETCH ((((\r\nTAG OK done\r\n"
                        .to_string()
                })
            })
    })
    .await;
    assert!(
        result.is_err(),
        "garbage must not be taken as mail: {result:?}"
    );
}

#[tokio::test]
async fn a_huge_literal_claim_is_not_allocated() {
    let before = rss_kb();
    let result = sync_against(|cmd| {
        login_ok(cmd)
            .or_else(|| cmd.contains("EXAMINE").then(|| "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\nTAG OK done\r\n".to_string()))
            // Claims a 4 GB literal and sends a few bytes of it.
            .or_else(|| cmd.contains("UID FETCH").then(|| "* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS (FROM)] {4000000000}\r\nFrom: a\r\n".to_string()))
    })
    .await;
    let grown = rss_kb().saturating_sub(before);
    assert!(
        result.is_err(),
        "a truncated literal is an error: {result:?}"
    );
    assert!(
        grown < 200_000,
        "memory grew by {grown} kB for a literal that never came"
    );
}

/// A cache that synced INBOX before (UIDVALIDITY 7, HIGHESTMODSEQ 5) with three messages.
fn synced_cache() -> Arc<dyn MailCache> {
    let cache = MemoryCache::new();
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    let rows: Vec<petrel_core::Envelope> = (1..=3)
        .map(|uid| petrel_core::Envelope {
            uid,
            from: "x".into(),
            subject: format!("m{uid}"),
            date: Some(uid as i64),
            seen: false,
            flagged: false,
            answered: false,
            has_attachment: false,
            size: 1,
        })
        .collect();
    cache.set_sync_state(&folder, 7, 4, 5).unwrap();
    cache.upsert(&folder, &rows).unwrap();
    Arc::new(cache)
}

#[tokio::test]
async fn vanished_with_a_star_is_a_clear_error() {
    let result = sync_with_cache(
        |cmd| {
            qresync_login_ok(cmd).or_else(|| {
                cmd.contains("EXAMINE").then(|| {
                    "* OK [UIDVALIDITY 7] x\r\n* VANISHED (EARLIER) 1:*\r\nTAG OK done\r\n"
                        .to_string()
                })
            })
        },
        synced_cache(),
    )
    .await;
    assert!(result.is_err(), "`*` is not a UID: {result:?}");
}

#[tokio::test]
async fn vanished_of_every_possible_uid_is_not_expanded() {
    let before = rss_kb();
    let cache = synced_cache();
    let result = sync_with_cache(
        |cmd| {
            qresync_login_ok(cmd).or_else(|| {
                cmd.contains("EXAMINE").then(|| {
                    "* 0 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 4] x\r\n* OK [HIGHESTMODSEQ 9] x\r\n* VANISHED (EARLIER) 1:4294967295\r\nTAG OK done\r\n".to_string()
                })
            })
        },
        cache.clone(),
    )
    .await
    .expect("a valid (if drastic) answer");
    assert_eq!((result.removed, result.round_trips), (3, 1), "{result:?}");
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    assert_eq!(cache.folder_state(&folder).unwrap().unwrap().total, 0);
    assert!(
        rss_kb().saturating_sub(before) < 50_000,
        "four billion UIDs must not be expanded"
    );
}

/// A server that logs in, then answers the message FETCH with a response that never ends:
/// body sections of 30 MiB each, one after another in the same response, up to 700 MiB
/// (each one is a fair size; together they are not). Returns how many bytes of that
/// response the client took before it stopped reading.
async fn endless_reply_server() -> (u16, TrustPolicy, tokio::sync::oneshot::Receiver<u64>) {
    let (acceptor, trust) = tls_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (taken_tx, taken) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let (r, mut w) = tokio::io::split(tls);
        let mut r = BufReader::new(r);
        w.write_all(b"* OK scripted\r\n").await.unwrap();
        let mut line = String::new();
        while r.read_line(&mut line).await.unwrap_or(0) > 0 {
            let tag = line.split_whitespace().next().unwrap_or("").to_string();
            if line.contains("UID FETCH") {
                let mut sent = 0u64;
                let chunk = vec![b'a'; 1 << 20];
                'response: for part in 1.. {
                    let head = match part {
                        1 => "* 1 FETCH (UID 1 BODY[1] {31457280}\r\n".to_string(),
                        n => format!(" BODY[{n}] {{31457280}}\r\n"),
                    };
                    if w.write_all(head.as_bytes()).await.is_err() {
                        break;
                    }
                    for _ in 0..30 {
                        if sent >= 700 << 20
                            || w.write_all(&chunk).await.is_err()
                            || w.flush().await.is_err()
                        {
                            break 'response;
                        }
                        sent += chunk.len() as u64;
                    }
                }
                let _ = taken_tx.send(sent);
                return;
            }
            let reply = login_ok(line.trim_end())
                .or_else(|| {
                    line.contains("EXAMINE")
                        .then(|| "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\nTAG OK done\r\n".into())
                })
                .unwrap_or_else(|| "TAG OK\r\n".into());
            w.write_all(reply.replace("TAG", &tag).as_bytes())
                .await
                .unwrap();
            line.clear();
        }
    });
    (port, trust, taken)
}

/// Review L13: async-imap keeps reading one response up to 512 MiB (on each connection);
/// Petrel stops at its own ceiling, one message at the limit, with words that say so. (A
/// line that never ends is bounded by time instead: async-imap parses a growing line again
/// on every read, so one cannot grow far before the command's timeout; the meter's unit
/// tests cover it.)
#[tokio::test]
async fn a_reply_that_never_ends_is_cut_at_the_ceiling() {
    let (port, trust, taken) = endless_reply_server().await;
    let mut session = log_in(port, &trust).await;
    let result = tokio::time::timeout(Duration::from_secs(60), session.fetch_message("INBOX", 1))
        .await
        .expect("the client must not hang");
    drop(session);
    let taken = tokio::time::timeout(Duration::from_secs(60), taken)
        .await
        .unwrap()
        .unwrap();
    match result {
        Err(ImapError::Protocol(words)) => {
            assert!(words.contains("larger than 65 MiB"), "{words}")
        }
        other => panic!("expected the ceiling's words, got {other:?}"),
    }
    // What the ceiling allows, plus what socket and TLS buffers hold.
    let allowed = petrel_imap::MAX_RESPONSE_BYTES as u64 + (16 << 20);
    assert!(
        taken <= allowed,
        "the client took {} MiB of one response",
        taken >> 20
    );
}

static OPENS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static OPENS_NO_UIDNEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A folder of one message, counting the EXAMINEs it is sent.
/// A folder with UIDs 1..=4 (UIDNEXT 5) that counts how often it is opened.
fn counting_opens(cmd: &str) -> Option<String> {
    counting_opens_with(cmd, &OPENS, "* OK [UIDNEXT 5] ok\r\n")
}

/// The same folder from a server that sends no UIDNEXT (RFC 3501 allows it).
fn counting_opens_without_uidnext(cmd: &str) -> Option<String> {
    counting_opens_with(cmd, &OPENS_NO_UIDNEXT, "")
}

fn counting_opens_with(
    cmd: &str,
    opens: &std::sync::atomic::AtomicUsize,
    uidnext: &str,
) -> Option<String> {
    let open = |how| {
        opens.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(format!(
            "* 4 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n{uidnext}TAG OK [{how}] opened\r\n"
        ))
    };
    if cmd.contains("EXAMINE") {
        return open("READ-ONLY");
    }
    if cmd.contains("SELECT") {
        return open("READ-WRITE");
    }
    if cmd.contains("UID FETCH") {
        let uid: u32 = cmd
            .split_whitespace()
            .nth(3)
            .and_then(|set| set.parse().ok())
            .unwrap_or(1);
        return Some(format!(
            "* {uid} FETCH (UID {uid} RFC822.SIZE 11 BODY[]<0> {{11}}\r\nSubject: \r\n)\r\nTAG OK fetched\r\n"
        ));
    }
    if cmd.contains("UID STORE") || cmd.contains("NOOP") {
        return Some("TAG OK done\r\n".into());
    }
    login_ok(cmd)
}

/// A folder stays open between commands on messages it held when opened: downloading in
/// batches, opening a message, marking it read (SELECT once, its UIDVALIDITY checked on
/// that very opening), opening the next. A server re-reads the whole folder on each
/// SELECT or EXAMINE; opening and marking a message read paid three of them. A UID at or
/// past the opening's UIDNEXT, another folder, a write after a read-only opening, or any
/// other command in between means opening again.
#[tokio::test]
async fn a_folder_stays_open_for_the_messages_it_held_when_opened() {
    use std::sync::atomic::Ordering::SeqCst;
    let (port, trust) = scripted_tls_server(counting_opens).await;
    let mut session = log_in(port, &trust).await;
    let opens = || OPENS.load(SeqCst);
    for _ in 0..3 {
        assert_eq!(session.fetch_bodies("INBOX", &[1]).await.unwrap().len(), 1);
    }
    assert_eq!(opens(), 1, "three batches, one EXAMINE");
    session.fetch_message("INBOX", 1).await.unwrap();
    assert_eq!(opens(), 1, "a message it held needs no new opening");
    session.fetch_message("INBOX", 5).await.unwrap();
    assert_eq!(
        opens(),
        2,
        "UID 5 came after UIDNEXT 5: opened afresh to have it"
    );

    session.check_uid_validity("INBOX", 7, &[1]).await.unwrap();
    session
        .store_flag("INBOX", &[1], "\\Seen", true)
        .await
        .unwrap();
    assert_eq!(
        opens(),
        3,
        "one SELECT for the check and the change it guards"
    );
    session.fetch_message("INBOX", 2).await.unwrap();
    session
        .store_flag("INBOX", &[2], "\\Seen", true)
        .await
        .unwrap();
    assert_eq!(opens(), 3, "read-write serves reading too");

    assert!(matches!(
        session.check_uid_validity("INBOX", 8, &[1]).await,
        Err(ImapError::UidValidityChanged { .. })
    ));
    session.fetch_bodies("INBOX", &[1]).await.unwrap();
    assert_eq!(
        opens(),
        4,
        "after a refused check the folder is opened again"
    );

    session.noop().await.unwrap();
    session.fetch_bodies("INBOX", &[1]).await.unwrap();
    assert_eq!(opens(), 5, "another command came between");
    session.fetch_bodies("Archive", &[1]).await.unwrap();
    assert_eq!(opens(), 6, "another folder");
}

/// Without a UIDNEXT nothing says which messages an opening held: every command opens.
#[tokio::test]
async fn without_uidnext_every_command_opens_the_folder() {
    let (port, trust) = scripted_tls_server(counting_opens_without_uidnext).await;
    let mut session = log_in(port, &trust).await;
    for _ in 0..2 {
        session.fetch_message("INBOX", 1).await.unwrap();
    }
    assert_eq!(
        OPENS_NO_UIDNEXT.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

/// The header FETCHes of a sync are pipelined: the scripted server holds its answer to the
/// first until the second arrives (a client waiting between batches hangs here), then
/// answers the second before the first (RFC 3501 §5.5 allows it). Every row lands in the
/// cache with its own subject.
static HELD: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
static HELD_SENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
const PIPELINED: u32 = 1_200;

/// The range of a header FETCH, by UID or by position: "A1 UID FETCH 3:9 (…)", "A1 FETCH 3:9 (…)".
fn fetch_range(cmd: &str) -> (u32, u32) {
    let at = if cmd.contains("UID FETCH") { 3 } else { 2 };
    let range = cmd.split_whitespace().nth(at).unwrap_or("1:1");
    let (lo, hi) = range.split_once(':').unwrap_or((range, range));
    (lo.parse().unwrap(), hi.parse().unwrap())
}

/// The folders here hold UIDs 1..=n, so a message's position is its UID.
fn header_rows(cmd: &str, tag_word: &str) -> String {
    let (lo, hi) = fetch_range(cmd);
    header_rows_except(lo, hi, None, tag_word)
}

fn header_rows_except(lo: u32, hi: u32, left_out: Option<u32>, tag_word: &str) -> String {
    let mut out = String::new();
    for uid in (lo..=hi).filter(|u| Some(*u) != left_out) {
        let head = format!("Subject: m{uid}\r\n\r\n");
        out.push_str(&format!(
            "* {uid} FETCH (UID {uid} FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 40 BODY[HEADER.FIELDS (SUBJECT)] {{{}}}\r\n{head})\r\n",
            head.len()
        ));
    }
    out.push_str(&format!("{tag_word} OK fetched\r\n"));
    out
}

/// EXAMINE's answer for a folder of `n` messages with UIDs 1..=n.
fn examined(n: u32) -> String {
    format!(
        "* {n} EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT {}] ok\r\nTAG OK [READ-ONLY] examined\r\n",
        n + 1
    )
}

/// `UID FETCH 1:* (UID FLAGS)`'s answer for the same folder, every message seen.
fn flag_listing(n: u32) -> String {
    let rows: String = (1..=n)
        .map(|u| format!("* {u} FETCH (UID {u} FLAGS (\\Seen))\r\n"))
        .collect();
    format!("{rows}TAG OK done\r\n")
}

fn pipelined_folder(cmd: &str, refuse_first: bool) -> Option<String> {
    if cmd.contains("EXAMINE") {
        return Some(examined(PIPELINED));
    }
    if cmd.contains("UID FETCH 1:* (UID FLAGS)") {
        return Some(flag_listing(PIPELINED));
    }
    if cmd.contains(" FETCH ") {
        use std::sync::atomic::Ordering::SeqCst;
        let tag = cmd.split_whitespace().next().unwrap_or("").to_string();
        let mut held = HELD.lock().unwrap();
        if !HELD_SENT.swap(true, SeqCst) {
            // The first batch: nothing yet, its answer waits for the next command.
            *held = Some(if refuse_first {
                format!("{tag} NO [SERVERBUG] could not read the folder\r\n")
            } else {
                header_rows(cmd, &tag)
            });
            return Some(String::new());
        }
        // The second: its own answer first, then the first's; a refusal comes first, so
        // the second batch is still on the wire when the sync learns of it.
        let first = held.take().unwrap_or_default();
        let own = header_rows(cmd, "TAG");
        return Some(if refuse_first {
            first + &own
        } else {
            own + &first
        });
    }
    if cmd.contains("NOOP") {
        return Some("TAG OK noop\r\n".into());
    }
    login_ok(cmd)
}

fn pipelined_answers(cmd: &str) -> Option<String> {
    pipelined_folder(cmd, false)
}

fn pipelined_refusal(cmd: &str) -> Option<String> {
    pipelined_folder(cmd, true)
}

async fn pipelined_sync(
    reply: fn(&str) -> Option<String>,
) -> (
    Result<petrel_imap::SyncReport, SyncError>,
    Arc<dyn MailCache>,
    ImapSession,
) {
    *HELD.lock().unwrap() = None;
    HELD_SENT.store(false, std::sync::atomic::Ordering::SeqCst);
    let (port, trust) = scripted_tls_server(reply).await;
    let mut session = log_in(port, &trust).await;
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    let cache: Arc<dyn MailCache> = Arc::new(MemoryCache::new());
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        session.sync_folder(cache.clone(), &folder, |_, _| {}),
    )
    .await
    .expect("header batches must be pipelined: the server answers the first only after the second");
    (result, cache, session)
}

/// Both pipelined tests share the held answer: run them one after the other.
#[tokio::test]
async fn header_batches_are_pipelined_and_rows_go_to_the_batch_that_asked() {
    let (result, cache, mut session) = pipelined_sync(pipelined_answers).await;
    let report = result.unwrap();
    assert_eq!(report.added, PIPELINED as usize);
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    let page = cache.page(&folder, 0, PIPELINED).unwrap();
    assert_eq!(page.rows.len(), PIPELINED as usize);
    for row in &page.rows {
        assert_eq!(row.subject, format!("m{}", row.uid));
        assert_eq!(
            row.date,
            Some(837_596_665),
            "INTERNALDATE when there is no Date:"
        );
        assert!(row.seen);
    }
    session.noop().await.unwrap();

    // A refused batch ends the sync with the server's words, and what was in flight behind
    // it is read to its end: the next command gets its own answer.
    let (result, cache, mut session) = pipelined_sync(pipelined_refusal).await;
    match result {
        Err(SyncError::Imap(ImapError::Refused(words))) => assert!(
            words.contains("SERVERBUG") || words.contains("could not read"),
            "{words}"
        ),
        other => panic!("expected the refusal, got {other:?}"),
    }
    assert!(cache.folder_state(&folder).unwrap().unwrap().total < PIPELINED);
    session.noop().await.expect("nothing left in flight");
}

/// A first sync fetches rows by position; a server that answers one short (here position 7
/// never comes, as when a message is expunged under the sync) leaves the count off, and the
/// full diff fetches what is missing by UID. A message sent twice (positions moved under the
/// sync) counts once: every message ends up cached, once.
const SHORT: u32 = 10;
static SHORT_COMMANDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn short_answer(cmd: &str) -> Option<String> {
    SHORT_COMMANDS.lock().unwrap().push(cmd.trim().to_string());
    if cmd.contains("EXAMINE") {
        return Some(examined(SHORT));
    }
    if cmd.contains("UID FETCH 1:* (UID FLAGS)") {
        return Some(flag_listing(SHORT));
    }
    if cmd.contains("UID FETCH") {
        return Some(header_rows(cmd, "TAG"));
    }
    if cmd.contains(" FETCH ") {
        // Position 7 never comes; message 3 comes twice.
        let (lo, hi) = fetch_range(cmd);
        let rows = header_rows_except(lo, hi, Some(7), "TAG").replace("TAG OK fetched\r\n", "");
        return Some(rows + &header_rows_except(3, 3, None, "TAG"));
    }
    login_ok(cmd)
}

#[tokio::test]
async fn rows_by_position_that_do_not_add_up_are_completed_by_uid() {
    let (port, trust) = scripted_tls_server(short_answer).await;
    let mut session = log_in(port, &trust).await;
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    let cache: Arc<dyn MailCache> = Arc::new(MemoryCache::new());
    let report = session
        .sync_folder(cache.clone(), &folder, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.added, SHORT as usize, "{report:?}");
    let mut uids = cache.uids(&folder).unwrap();
    uids.sort_unstable();
    assert_eq!(uids, (1..=SHORT).collect::<Vec<_>>());
    let sent: Vec<String> = SHORT_COMMANDS
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.contains("FETCH"))
        .map(|c| {
            c.split_once(' ')
                .map(|(_, rest)| rest.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert!(sent[0].starts_with("FETCH 1:10 "), "{sent:?}");
    assert_eq!(sent[1], "UID FETCH 1:* (UID FLAGS)", "{sent:?}");
    assert!(
        sent[2].starts_with("UID FETCH 7 "),
        "only the missing one: {sent:?}"
    );
    assert_eq!(sent.len(), 3, "{sent:?}");
}

/// async-imap reads the folder's opening, Petrel's own reader the header rows that follow
/// (`read_fetches.rs`). The server sends the start of an untagged reply right behind the
/// opening's tagged answer, in the same write, and its end with the rows: each reader must
/// get whole replies, none of them left in the other's buffer.
fn split_behind_the_opening(cmd: &str) -> Option<String> {
    if cmd.contains("EXAMINE") {
        return Some(examined(SHORT) + "* OK [ALERT] still he");
    }
    if cmd.contains(" FETCH ") {
        return Some("re\r\n".to_string() + &header_rows(cmd, "TAG"));
    }
    login_ok(cmd)
}

#[tokio::test]
async fn a_reply_split_behind_another_readers_reply_reaches_the_next_reader_whole() {
    let report = sync_against(split_behind_the_opening).await.unwrap();
    assert_eq!(report.added, SHORT as usize, "{report:?}");
}
